//! Tensor-parallel communication of one op: an all-reduce among the op's
//! tensor ranks, or with sequence parallelism a reduce-scatter then an
//! all-gather, after the op's compute or overlapped with it.

use super::*;

impl Builder<'_, '_> {
    /// The op's tensor-parallel communication among the ranks of (replica
    /// r, stage s): one all-reduce of the op's bytes, or with sequence
    /// parallelism a reduce-scatter then an all-gather of them. Without
    /// overlap it starts when every rank's compute is done; with overlap
    /// when the op starts (`markers`), and a zero-length join on each rank
    /// waits for both. The next op on these GPUs waits for it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_tensor_comm(
        &mut self,
        r: u32,
        s: u32,
        key: OpKey,
        tag: Tag,
        layers: &[Layer],
        computed: &[TaskId],
        markers: &[TaskId],
    ) {
        let job = self.job;
        let t = job.parallelism.tensor;
        let count = |l: &Layer| match key.3 {
            OpKind::Forward => l.tensor_allreduces,
            OpKind::Backward | OpKind::BackwardInput => l.tensor_allreduces_backward,
            OpKind::BackwardWeight => 0,
        };
        let bytes: u64 = layers
            .iter()
            .map(|l| l.tensor_allreduce_bytes * u64::from(count(l)))
            .sum::<u64>()
            / u64::from(job.divisor());
        if t < 2 || bytes == 0 {
            return;
        }
        let spec = |op: CollectiveOp, what: &str| CollectiveSpec {
            name: format!("tensor {}{what}", phase(key.3).letter()),
            op,
            algorithm: job.tensor_algorithm,
            ranks: (0..t).map(|k| job.gpu(r, s, k)).collect(),
            bytes,
            chunks: 1,
        };
        let start = if job.tensor_overlap {
            markers
        } else {
            computed
        };
        let last = if job.parallelism.sequence_parallel {
            let rs = self.graph.collective(
                spec(CollectiveOp::ReduceScatter, " reduce-scatter"),
                tag,
                start,
            );
            self.graph
                .collective(spec(CollectiveOp::AllGather, " all-gather"), tag, &[rs])
        } else {
            self.graph
                .collective(spec(CollectiveOp::AllReduce, ""), tag, start)
        };
        for k in 0..t {
            let done = if job.tensor_overlap {
                let gpu = job.gpu(r, s, k);
                self.graph
                    .compute(gpu, SimTime::ZERO, tag, &[computed[k as usize], last])
            } else {
                last
            };
            self.done.insert((key, k), done);
            self.last_op.insert((r, s, k), done);
        }
        self.pending_tensor.insert((r, s), last);
    }
}

//! Tensor-parallel communication of one op: an all-reduce among the op's
//! tensor ranks, or with sequence parallelism a reduce-scatter then an
//! all-gather, after the op's compute or overlapped with it. When tensor
//! ranks are folded (`fold/`), each collective is rank 0's chain of ring
//! sends over its loopback route instead.

use super::*;

/// The op's total tensor-parallel bytes for one microbatch.
pub(super) fn tensor_bytes(job: &TrainingJob, kind: OpKind, layers: &[Layer]) -> u64 {
    let count = |l: &Layer| match kind {
        OpKind::Forward => l.tensor_allreduces,
        OpKind::Backward | OpKind::BackwardInput => l.tensor_allreduces_backward,
        OpKind::BackwardWeight => 0,
    };
    layers
        .iter()
        .map(|l| l.tensor_allreduce_bytes * u64::from(count(l)))
        .sum::<u64>()
        / u64::from(job.divisor())
}

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
        let bytes = tensor_bytes(job, key.3, layers);
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
        let sp = job.parallelism.sequence_parallel;
        let last = if self.folds_tensor() {
            let halves: &[(CollectiveOp, &str)] = if sp {
                &[
                    (CollectiveOp::ReduceScatter, " reduce-scatter"),
                    (CollectiveOp::AllGather, " all-gather"),
                ]
            } else {
                &[(CollectiveOp::AllReduce, "")]
            };
            let mut before = start.to_vec();
            for &(op, what) in halves {
                let name = spec(op, what).name;
                before =
                    vec![self.folded_tensor_ring(job.gpu(r, s, 0), name, op, bytes, tag, &before)];
            }
            before[0]
        } else if sp {
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
        for k in 0..self.tensor_ranks() {
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

    /// A tensor collective seen from rank 0 (see `fold/`): its ring sends,
    /// each after the previous, over `gpu`'s tensor loopback route, as one
    /// task.
    fn folded_tensor_ring(
        &mut self,
        gpu: GpuId,
        name: String,
        op: CollectiveOp,
        bytes: u64,
        tag: Tag,
        deps: &[TaskId],
    ) -> TaskId {
        let t = self.job.parallelism.tensor;
        let steps = if op == CollectiveOp::AllReduce {
            2 * (t - 1)
        } else {
            t - 1
        };
        let fold = self.fold.as_ref().expect("tensor ranks are folded");
        let send = fold.tensor_send(bytes, op);
        // One task: it starts when the collective would, and ends with
        // its last send.
        let chain = self
            .graph
            .transfer_via(gpu, TENSOR_LOOPBACK, (send, steps), tag, deps);
        if let Some(fold) = &mut self.fold {
            fold.tensor_collectives.push((chain, chain, name, bytes));
        }
        chain
    }
}

//! Data-parallel gradient synchronisation: which ops complete a chunk's
//! gradients, how layers group into buckets, and the all-reduces (or ZeRO-1
//! reduce-scatter + all-gather) across replicas that follow.

use super::*;

impl Builder<'_, '_> {
    /// Data-parallel gradient all-reduces, bucket by bucket.
    pub(super) fn add_gradient_sync(&mut self) {
        let job = self.job;
        let Parallelism {
            data: d,
            pipeline: p,
            tensor: t,
        } = job.parallelism;
        if d < 2 {
            return;
        }
        let dp = &job.data_parallel;
        for s in 0..p {
            for k in 0..t {
                let per_replica: Vec<&Vec<Completion>> =
                    (0..d).map(|r| &self.buckets[&(r, s, k)]).collect();
                let mut previous: Option<TaskId> = None;
                for (c, completion) in per_replica[0].iter().enumerate() {
                    for (i, (_, layers)) in completion.iter().enumerate() {
                        let mut deps: Vec<TaskId> = per_replica
                            .iter()
                            .map(|rep| {
                                let group = &rep[c];
                                if dp.overlap {
                                    group[i].0
                                } else {
                                    group[group.len() - 1].0
                                }
                            })
                            .collect();
                        deps.extend(previous);
                        let names: Vec<&str> = layers
                            .iter()
                            .map(|&l| job.workload.layers[l].name.as_str())
                            .collect();
                        let spec = |name: String, op: CollectiveOp| CollectiveSpec {
                            name,
                            op,
                            algorithm: dp.algorithm,
                            ranks: (0..d).map(|r| job.gpu(r, s, k)).collect(),
                            bytes: layers
                                .iter()
                                .map(|&l| job.workload.layers[l].grad_bytes)
                                .sum(),
                            chunks: dp.chunks,
                        };
                        let tag = Tag::new(Phase::Collective).stage(s).index(c as u32);
                        let name = names.join("+");
                        let task = if dp.zero >= 1 {
                            let rs = self.graph.collective(
                                spec(
                                    format!("{name} reduce-scatter"),
                                    CollectiveOp::ReduceScatter,
                                ),
                                tag,
                                &deps,
                            );
                            self.grad_collectives.push(rs);
                            self.graph.collective(
                                spec(format!("{name} all-gather"), CollectiveOp::AllGather),
                                tag,
                                &[rs],
                            )
                        } else {
                            self.graph
                                .collective(spec(name, CollectiveOp::AllReduce), tag, &deps)
                        };
                        self.grad_collectives.push(task);
                        previous = Some(task);
                    }
                }
            }
        }
    }
}

/// Indices (into `ops`) of the ops after which a chunk's gradients are
/// complete: every backward for per-microbatch updates, else the last
/// gradient-producing op of each chunk.
pub(super) fn gradient_completing(ops: &[Op], schedule: Schedule) -> Vec<usize> {
    let produces = |o: &Op| matches!(o.kind, OpKind::Backward | OpKind::BackwardWeight);
    if schedule.updates_every_microbatch() {
        return (0..ops.len()).filter(|&i| produces(&ops[i])).collect();
    }
    let mut last: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        if produces(o) {
            last.insert(o.chunk, i);
        }
    }
    last.into_values().collect()
}

/// Groups the layers `first..first+layers.len()` into gradient buckets in
/// backprop order: each bucket closes once it holds `bucket_bytes`
/// (`None`: one layer per bucket).
pub(super) fn buckets(
    layers: &[Layer],
    first: usize,
    bucket_bytes: Option<u64>,
) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for (i, l) in layers.iter().enumerate().rev() {
        current.push(first + i);
        bytes += l.grad_bytes;
        if bucket_bytes.is_none_or(|b| bytes >= b) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

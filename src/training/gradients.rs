//! Data-parallel gradient synchronisation: which ops complete a chunk's
//! gradients, how layers group into buckets, and the all-reduces (or ZeRO-1
//! reduce-scatter + all-gather) across replicas that follow; then, as in
//! Megatron-LM's `train_step`, the all-reduce of the tied word-embedding
//! gradient between the first and last stage, and each GPU's optimizer
//! step (Σ its layers' `optimizer_step`, ÷ d under ZeRO-1, where each
//! replica updates its shard; the step is placed after the stage's last
//! gradient collective — under ZeRO-1 the parameter all-gather really
//! follows the step, a reordering of a term that is small next to both).

use super::*;

impl Builder<'_, '_> {
    /// Data-parallel gradient all-reduces, bucket by bucket.
    pub(super) fn add_gradient_sync(&mut self) {
        let job = self.job;
        let Parallelism {
            data: d,
            pipeline: p,
            ..
        } = job.parallelism;
        if d < 2 {
            return;
        }
        let dp = &job.data_parallel;
        // Read-only from here on: out of `self`, so rings can be built.
        let all_buckets = std::mem::take(&mut self.buckets);
        for s in 0..p {
            for k in 0..self.tensor_ranks() {
                let per_replica: Vec<&Vec<Completion>> = (0..self.replicas())
                    .map(|r| &all_buckets[&(r, s, k)])
                    .collect();
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
                        if self.folds_replicas() {
                            let bytes = spec(String::new(), CollectiveOp::AllReduce).bytes;
                            let gpu = job.gpu(0, s, k);
                            previous = Some(self.folded_ring(gpu, &name, bytes, tag, &deps));
                            continue;
                        }
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
                if let Some(last) = previous {
                    self.synced.insert((s, k), last);
                }
            }
        }
    }

    /// A gradient ring seen from replica 0 (see `fold/`): 2(d−1) sends of
    /// bytes/d (d−1 each for ZeRO-1's reduce-scatter and all-gather), each
    /// after the previous, over `gpu`'s loopback route. Returns the last.
    fn folded_ring(
        &mut self,
        gpu: GpuId,
        name: &str,
        bytes: u64,
        tag: Tag,
        deps: &[TaskId],
    ) -> TaskId {
        let d = self.job.parallelism.data;
        let piece = bytes / u64::from(d);
        let halves: Vec<(String, u32)> = if self.job.data_parallel.zero >= 1 {
            vec![
                (format!("{name} reduce-scatter"), d - 1),
                (format!("{name} all-gather"), d - 1),
            ]
        } else {
            vec![(name.to_string(), 2 * (d - 1))]
        };
        let mut before: Vec<TaskId> = deps.to_vec();
        for (name, steps) in halves {
            // A barrier opens the collective (its start), as the
            // collective task of an unfolded plan would.
            let first = self.graph.barrier(tag, &before);
            let mut last = first;
            for _ in 0..steps {
                last = self.graph.transfer(gpu, gpu, piece, tag, &[last]);
            }
            if let Some(fold) = &mut self.fold {
                fold.rings.push((first, name, bytes));
            }
            self.grad_collectives.push(last);
            before = vec![last];
        }
        before[0]
    }

    /// The tied-embedding all-reduce and the optimizer step of every GPU.
    pub(super) fn add_optimizer_steps(&mut self) {
        let job = self.job;
        let p = job.parallelism.pipeline;
        let tied = job
            .workload
            .model
            .as_ref()
            .map_or(0, |m| m.tied_embedding_bytes);
        let ready = |b: &Self, r: u32, s: u32, k: u32| -> Vec<TaskId> {
            let mut deps: Vec<TaskId> = b.synced.get(&(s, k)).copied().into_iter().collect();
            deps.extend(b.last_op.get(&(r, s, k)).copied());
            deps
        };
        let mut embedding = BTreeMap::new();
        let d = self.replicas();
        let t = self.tensor_ranks();
        if p > 1 && tied > 0 {
            for r in 0..d {
                for k in 0..t {
                    let mut deps = ready(self, r, 0, k);
                    deps.extend(ready(self, r, p - 1, k));
                    let spec = CollectiveSpec {
                        name: "embedding all-reduce".into(),
                        op: CollectiveOp::AllReduce,
                        algorithm: job.data_parallel.algorithm,
                        ranks: vec![job.gpu(r, 0, k), job.gpu(r, p - 1, k)],
                        bytes: tied,
                        chunks: 1,
                    };
                    let tag = Tag::new(Phase::Collective).stage(0);
                    let task = self.graph.collective(spec, tag, &deps);
                    embedding.insert((r, 0, k), task);
                    embedding.insert((r, p - 1, k), task);
                }
            }
        }
        let shards = if job.data_parallel.zero >= 1 {
            job.parallelism.data
        } else {
            1
        };
        for s in 0..p {
            let step: SimTime = (0..job.virtual_stages.max(1))
                .flat_map(|c| job.layers(crate::schedule::global_virtual_stage(s, c, p)))
                .map(|i| job.workload.layers[i].optimizer_step)
                .fold(SimTime::ZERO, |a, b| a + b);
            let step = SimTime(step.ps().div_ceil(u64::from(shards.max(1))));
            if step == SimTime::ZERO {
                continue;
            }
            for r in 0..d {
                for k in 0..t {
                    let mut deps = ready(self, r, s, k);
                    deps.extend(embedding.get(&(r, s, k)).copied());
                    let tag = Tag::new(Phase::Optimizer).stage(s);
                    self.graph.compute(job.gpu(r, s, k), step, tag, &deps);
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
            last.insert(o.virtual_stage, i);
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

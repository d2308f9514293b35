//! Tensor-parallel communication (plain, sequence-parallel, overlapped), the
//! optimizer step and the tied-embedding all-reduce in training graphs of an
//! analytical transformer.

use super::tests::{job, makespan};
use super::*;
use crate::engine::{Quiet, SimOptions, simulate};
use crate::input::Source;
use crate::topology::test_support::star;
use crate::units::SimTime;
use crate::workload::{Recompute, WorkloadOptions, from_source};

const GPT: &str = "name: g\nbatch_size: 4\nsamples_per_epoch: 4\nmodel: { kind: transformer, layers: 4, hidden: 1024, heads: 16, seq: 1024, vocab: 32000, dtype: bf16 }\n";

fn model(t: u32, p: u32, recompute: Recompute, sp: bool) -> Workload {
    let opts = WorkloadOptions {
        tensor: t,
        pipeline: p,
        microbatches: 2,
        recompute,
        sequence_parallel: sp,
        ..Default::default()
    };
    let gpu = crate::topology::test_support::test_gpu();
    from_source(&Source::from_text("g.yaml", GPT), &gpu, &opts).unwrap()
}

fn tensor_job(w: &Workload, t: u32, sp: bool, overlap: bool) -> TrainingJob<'_> {
    let mut j = job(w, 1, 1, 2, Schedule::OneFOneB);
    j.parallelism.tensor = t;
    j.parallelism.sequence_parallel = sp;
    j.tensor_overlap = overlap;
    j.partition = vec![w.layers.len()];
    j
}

fn bytes_of(plan: &TrainingPlan, name: &str) -> Vec<u64> {
    plan.graph
        .collectives()
        .iter()
        .filter(|c| c.name == name)
        .map(|c| c.bytes)
        .collect()
}

#[test]
fn full_recompute_doubles_the_backward_tensor_traffic() {
    let w = model(2, 1, Recompute::Full, false);
    let plan = tensor_job(&w, 2, false, false).build();
    let (f, b) = (bytes_of(&plan, "tensor F"), bytes_of(&plan, "tensor B"));
    assert_eq!((f.len(), b.len()), (2, 2), "one per op and microbatch");
    // Blocks: 2 all-reduces forward, 2 + 2 backward; embedding and head 1 each.
    let act = w.layers[1].tensor_allreduce_bytes;
    assert_eq!(f[0], (4 * 2 + 2) * act / 2);
    assert_eq!(b[0], (4 * 4 + 2) * act / 2);
}

#[test]
fn sequence_parallelism_turns_all_reduces_into_reduce_scatter_and_all_gather() {
    let w = model(2, 1, Recompute::None, true);
    let plan = tensor_job(&w, 2, true, false).build();
    assert!(bytes_of(&plan, "tensor F").is_empty());
    let rs = bytes_of(&plan, "tensor F reduce-scatter");
    assert_eq!(rs, bytes_of(&plan, "tensor F all-gather"));
    assert_eq!(rs.len(), 2);
    let ops: Vec<CollectiveOp> = plan.graph.collectives().iter().map(|c| c.op).collect();
    assert!(ops.contains(&CollectiveOp::ReduceScatter) && ops.contains(&CollectiveOp::AllGather));
}

#[test]
fn overlapped_tensor_communication_hides_behind_compute() {
    let w = model(2, 1, Recompute::Full, false);
    let c = star(2, 100.0, SimTime::from_us(1), SimTime::ZERO, SimTime::ZERO);
    let after = makespan(&c, &tensor_job(&w, 2, false, false));
    let overlapped = makespan(&c, &tensor_job(&w, 2, false, true));
    let compute: SimTime = w
        .layers
        .iter()
        .fold(SimTime::ZERO, |a, l| a + l.forward + l.backward);
    assert!(overlapped < after, "{overlapped:?} {after:?}");
    // Never faster than the compute alone (+ the optimizer step).
    assert!(overlapped >= compute, "{overlapped:?} {compute:?}");
}

#[test]
fn optimizer_runs_after_the_gradient_sync_and_embeddings_all_reduce_across_the_pipeline() {
    let w = model(1, 2, Recompute::None, false);
    let mut j = job(&w, 2, 2, 2, Schedule::OneFOneB);
    let n = w.layers.len();
    j.partition = vec![n / 2, n - n / 2];
    let plan = j.build();
    let emb: Vec<_> = plan
        .graph
        .collectives()
        .iter()
        .filter(|c| c.name == "embedding all-reduce")
        .collect();
    assert_eq!(emb.len(), 2, "one per replica");
    assert_eq!(emb[0].ranks, vec![j.gpu(0, 0, 0), j.gpu(0, 1, 0)]);
    let c = star(4, 100.0, SimTime::from_us(1), SimTime::ZERO, SimTime::ZERO);
    let out = simulate(&c, &plan.graph, SimOptions::default(), &mut Quiet).unwrap();
    let last_sync = plan
        .grad_collectives
        .iter()
        .map(|t| out.task_end[t.index()])
        .max()
        .unwrap();
    let steps: Vec<usize> = (0..plan.graph.len())
        .filter(|&i| plan.graph.tasks()[i].tag.phase == crate::plan::Phase::Optimizer)
        .collect();
    assert_eq!(steps.len(), 4, "one per GPU");
    for &i in &steps {
        let crate::plan::TaskKind::Compute { gpu, .. } = plan.graph.tasks()[i].kind else {
            panic!("an optimizer step is compute");
        };
        for &t in &plan.grad_collectives {
            if plan.graph.collective_of(t).unwrap().ranks.contains(&gpu) {
                assert!(out.task_start[i] >= out.task_end[t.index()]);
            }
        }
    }
    let end = steps.iter().map(|&i| out.task_end[i]).max().unwrap();
    assert!(end > last_sync);
    assert_eq!(out.makespan, end);
}

//! Training graphs against the closed forms of REFERENCES.md: pipeline
//! makespans with and without per-hop communication time, and data-parallel
//! gradient all-reduces against the ring formula.

use super::*;
use crate::engine::{Quiet, SimOptions, simulate};
use crate::topology::Cluster;
use crate::topology::test_support::{kccb_star, star};
use crate::workload::Layer;

/// A workload of `n` identical layers whose per-microbatch forward and
/// backward (for m microbatches) are `f` and `b`.
pub(crate) fn uniform(n: usize, m: u32, f: SimTime, b: SimTime, act: u64, grad: u64) -> Workload {
    Workload {
        name: "uniform".into(),
        description: String::new(),
        batch_size: 64,
        samples_per_epoch: 64,
        layers: (0..n)
            .map(|i| Layer {
                name: format!("l{i}"),
                forward: f * u64::from(m),
                backward: b * u64::from(m),
                backward_weight: SimTime::ZERO,
                activation_bytes: act,
                grad_bytes: grad,
                param_bytes: grad,
                stash_bytes: act,
                tensor_allreduce_bytes: 0,
                tensor_allreduces: 0,
                tensor_allreduces_backward: 0,
                flops_forward: 0.0,
                backward_working_bytes: 0,
                optimizer_step: crate::units::SimTime::ZERO,
            })
            .collect(),
        model: None,
    }
}

/// A job of p stages × d replicas, m microbatches, one model chunk per GPU.
pub(crate) fn job<'a>(
    w: &'a Workload,
    p: u32,
    d: u32,
    m: u32,
    schedule: Schedule,
) -> TrainingJob<'a> {
    job_with_virtual_stages(w, p, d, m, 1, schedule)
}

/// A job with v model chunks per GPU, the layers split evenly over p·v
/// virtual stages.
pub(crate) fn job_with_virtual_stages<'a>(
    w: &'a Workload,
    p: u32,
    d: u32,
    m: u32,
    v: u32,
    schedule: Schedule,
) -> TrainingJob<'a> {
    TrainingJob {
        workload: w,
        parallelism: Parallelism {
            data: d,
            pipeline: p,
            tensor: 1,
            sequence_parallel: false,
        },
        placement: Placement::default(),
        schedule,
        microbatches: m,
        virtual_stages: v,
        partition: vec![w.layers.len() / (p * v) as usize; (p * v) as usize],
        data_parallel: DataParallel {
            algorithm: Algorithm::Ring,
            chunks: 1,
            overlap: true,
            bucket_bytes: None,
            zero: 0,
        },
        tensor_algorithm: Algorithm::Ring,
        tensor_overlap: false,
        p2p: crate::training::P2p::Async,
    }
}

pub(crate) fn makespan(c: &Cluster, j: &TrainingJob) -> SimTime {
    let plan = j.build();
    simulate(c, &plan.graph, SimOptions::default(), &mut Quiet)
        .unwrap()
        .makespan
}

/// Zero overhead and latency everywhere: communication is free for zero bytes.
pub(crate) fn free_fabric(n: usize) -> Cluster {
    star(n, 100.0, SimTime::ZERO, SimTime::ZERO, SimTime::ZERO)
}

/// `n` GPUs whose zero-byte hops each cost c = 900 ns: overhead 200 ns +
/// 2 × NIC latency 300 ns + switch 100 ns. Returns the cluster and c.
pub(crate) fn hop_fabric(n: usize) -> (Cluster, SimTime) {
    let c = star(
        n,
        100.0,
        SimTime::from_ns(300),
        SimTime::from_ns(100),
        SimTime::from_ns(200),
    );
    (c, SimTime::from_ns(900))
}

#[test]
fn gpipe_and_1f1b_makespan_is_m_plus_p_minus_1_slots() {
    let (f, b) = (SimTime::from_us(3), SimTime::from_us(5));
    for (p, m) in [(4u32, 4u32), (4, 8), (8, 3), (2, 1), (1, 5)] {
        let w = uniform(p as usize, m, f, b, 0, 0);
        let c = free_fabric(p as usize);
        for s in [Schedule::Gpipe, Schedule::OneFOneB] {
            let got = makespan(&c, &job(&w, p, 1, m, s));
            assert_eq!(got, (f + b) * u64::from(m + p - 1), "{s} p={p} m={m}");
        }
    }
}

#[test]
fn naive_model_parallel_is_p_times_f_plus_b() {
    let (f, b) = (SimTime::from_us(2), SimTime::from_us(4));
    let p = 4;
    let w = uniform(4, 1, f, b, 0, 0);
    let got = makespan(&free_fabric(4), &job(&w, p, 1, 8, Schedule::Naive));
    assert_eq!(got, (f + b) * 4);
}

#[test]
fn gpipe_with_per_hop_latency_adds_2_p_minus_1_hops() {
    // Zero-byte activations over links with latency: each hop costs
    // c = overhead + 2 × NIC latency + switch latency.
    let (f, b) = (SimTime::from_us(10), SimTime::from_us(20));
    let (c, hop) = hop_fabric(4);
    for m in [1u32, 4, 6] {
        let w = uniform(4, m, f, b, 0, 0);
        let got = makespan(&c, &job(&w, 4, 1, m, Schedule::Gpipe));
        assert_eq!(got, (f + b) * u64::from(m + 3) + hop * 6, "m={m}");
    }
}

/// Longest path through the op orders: each op takes f, b (B or whole
/// backward) or w; a hop between different GPUs takes c. F on virtual stage
/// j waits for F on j−1; B on j for B on j+1 (the last: its own F); W for
/// its own B.
pub(crate) fn longest_path(
    schedule: Schedule,
    shape: Shape,
    (f, b, w): (SimTime, SimTime, SimTime),
    c: SimTime,
) -> SimTime {
    let (p, v) = (shape.stages, shape.virtual_stages);
    let last = p * v - 1;
    let orders = schedule.order(shape);
    let hop = |j: u32, k: u32| if j % p == k % p { SimTime::ZERO } else { c };
    let mut end: BTreeMap<(u32, OpKind, u32), SimTime> = BTreeMap::new();
    let mut pos = vec![0usize; p as usize];
    let mut clock = vec![SimTime::ZERO; p as usize];
    let mut progress = true;
    while progress {
        progress = false;
        for s in 0..p {
            while let Some(op) = orders[s as usize].get(pos[s as usize]) {
                let j = op.virtual_stage * p + s;
                let mb = op.microbatch;
                let ready = match op.kind {
                    OpKind::Forward if j == 0 => Some(SimTime::ZERO),
                    OpKind::Forward => end
                        .get(&(j - 1, OpKind::Forward, mb))
                        .map(|&t| t + hop(j - 1, j)),
                    OpKind::BackwardWeight => end.get(&(j, OpKind::BackwardInput, mb)).copied(),
                    _ if j == last => end.get(&(j, OpKind::Forward, mb)).copied(),
                    kind => end.get(&(j + 1, kind, mb)).map(|&t| t + hop(j + 1, j)),
                };
                let Some(ready) = ready else { break };
                let dur = match op.kind {
                    OpKind::Forward => f,
                    OpKind::BackwardWeight => w,
                    _ => b,
                };
                let done = clock[s as usize].max(ready) + dur;
                end.insert((j, op.kind, mb), done);
                clock[s as usize] = done;
                pos[s as usize] += 1;
                progress = true;
            }
        }
    }
    assert!(
        pos.iter().zip(&orders).all(|(&i, o)| i == o.len()),
        "the orders deadlock"
    );
    clock.into_iter().max().unwrap()
}

#[test]
fn pipelines_with_per_hop_latency_follow_the_longest_path() {
    // 1F1B with c > 0 has no closed form as tidy as GPipe's: in steady state
    // each B(i) on stage 0 waits for a round trip through the pipe, so the
    // per-microbatch period grows to about F+B + 2(p−1)c/p. The engine must
    // agree exactly with the longest path through the op orders.
    let (f, b) = (SimTime::from_us(10), SimTime::from_us(20));
    let (c, hop) = hop_fabric(8);
    for schedule in [Schedule::Gpipe, Schedule::OneFOneB] {
        for (p, m) in [(2u32, 8u32), (4, 4), (4, 16), (8, 4), (3, 7)] {
            let w = uniform(p as usize, m, f, b, 0, 0);
            let got = makespan(&c, &job(&w, p, 1, m, schedule));
            assert_eq!(
                got,
                longest_path(
                    schedule,
                    Shape {
                        stages: p,
                        microbatches: m,
                        virtual_stages: 1,
                    },
                    (f, b, SimTime::ZERO),
                    hop,
                ),
                "{schedule} p={p} m={m}"
            );
        }
    }
    // For example p = m = 4: GPipe pays 2(p−1) = 6 hops, 1F1B 10.
    let w = uniform(4, 4, f, b, 0, 0);
    assert_eq!(
        makespan(&c, &job(&w, 4, 1, 4, Schedule::OneFOneB)),
        (f + b) * 7 + hop * 10
    );
}

#[test]
fn data_parallel_gradients_match_the_ring_closed_form() {
    // KCCB: 4 GPUs, one per host, ring all-reduce per layer.
    let c = kccb_star(4);
    let alpha = SimTime::from_ns(4_500);
    let grad = 4 * 100_000;
    let w = uniform(3, 1, SimTime::from_us(20), SimTime::from_us(40), 1000, grad);
    for overlap in [true, false] {
        let mut j = job(&w, 1, 4, 1, Schedule::Gpipe);
        j.data_parallel.overlap = overlap;
        let plan = j.build();
        assert_eq!(plan.grad_collectives.len(), 3);
        let out = simulate(&c, &plan.graph, SimOptions::default(), &mut Quiet).unwrap();
        let ring = (alpha + crate::units::Bandwidth::from_gbps(100.0).transfer_time(grad / 4)) * 6;
        for &t in &plan.grad_collectives {
            assert_eq!(
                out.task_end[t.index()] - out.task_start[t.index()],
                ring,
                "overlap={overlap}"
            );
        }
        let names: Vec<&str> = plan
            .grad_collectives
            .iter()
            .map(|&t| plan.graph.collective_of(t).unwrap().name.as_str())
            .collect();
        assert_eq!(names, ["l2", "l1", "l0"], "backprop order");
        // Overlap: the first all-reduce starts after F (60us) + B of l2 (40us);
        // without: after the whole backward (60 + 120us).
        let first = out.task_start[plan.grad_collectives[0].index()];
        let want = if overlap {
            SimTime::from_us(100)
        } else {
            SimTime::from_us(180)
        };
        assert_eq!(first, want);
        // Iteration: the last all-reduce can't start before the backward ends
        // nor before the previous all-reduces finish.
        let expect_end = if overlap {
            // l2 AR: 100..100+ring; l1 ready at 140; l0 at 180.
            let r = ring;
            let a1 = SimTime::from_us(100) + r;
            let a2 = a1.max(SimTime::from_us(140)) + r;
            a2.max(SimTime::from_us(180)) + r
        } else {
            SimTime::from_us(180) + ring * 3
        };
        assert_eq!(out.makespan, expect_end, "overlap={overlap}");
    }
}

#[test]
fn buckets_group_layers_in_backprop_order() {
    let w = uniform(5, 1, SimTime::from_us(1), SimTime::from_us(1), 0, 10);
    assert_eq!(
        buckets(&w.layers, 0, None),
        vec![vec![4], vec![3], vec![2], vec![1], vec![0]]
    );
    assert_eq!(
        buckets(&w.layers, 0, Some(20)),
        vec![vec![4, 3], vec![2, 1], vec![0]]
    );
    assert_eq!(
        buckets(&w.layers, 10, Some(1000)),
        vec![vec![14, 13, 12, 11, 10]]
    );
}

#[test]
fn placements_map_every_rank_to_a_distinct_gpu_in_their_documented_order() {
    let par = Parallelism {
        data: 3,
        pipeline: 2,
        tensor: 4,
        sequence_parallel: false,
    };
    for placement in [Placement::TensorPipelineData, Placement::TensorDataPipeline] {
        let mut seen = std::collections::BTreeSet::new();
        for r in 0..3 {
            for s in 0..2 {
                for k in 0..4 {
                    assert!(
                        seen.insert(placement.gpu(par, r, s, k)),
                        "{placement:?} repeats a GPU"
                    );
                }
            }
        }
        assert_eq!(seen.len(), 24);
    }
    // Stage 1 of replica 0: right after stage 0's tensor ranks when stages
    // are inner, after all replicas of stage 0 when replicas are.
    assert_eq!(Placement::TensorPipelineData.gpu(par, 0, 1, 0), GpuId(4));
    assert_eq!(Placement::TensorDataPipeline.gpu(par, 0, 1, 0), GpuId(12));
    assert_eq!(Placement::TensorDataPipeline.gpu(par, 2, 0, 3), GpuId(11));
}

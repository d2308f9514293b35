//! ZeRO-1 gradient synchronisation and tensor-parallel all-reduces timed
//! against their α-β closed forms (REFERENCES.md: a ring reduce-scatter or
//! all-gather over n ranks is (n−1)(α + S/(n·B)), an all-reduce twice
//! that), on a star whose every hop is uncontended. The expected times are
//! worked out here by hand, not from the crate's own bandwidth helpers.

use super::tests::{job, uniform};
use super::*;
use crate::engine::{Quiet, SimOptions, simulate};
use crate::topology::Cluster;
use crate::topology::test_support::{KCCB_ALPHA, kccb_star};

/// 4 GPUs, one per host, 100 Gbps NICs: α = overhead 2 µs + 2 × NIC
/// latency 1 µs + switch 0.5 µs = 4.5 µs per ring step.
fn kccb() -> (Cluster, SimTime) {
    assert_eq!(KCCB_ALPHA, SimTime::from_ns(4_500));
    (kccb_star(4), KCCB_ALPHA)
}

fn makespan(c: &Cluster, j: &TrainingJob) -> SimTime {
    let plan = j.build();
    simulate(c, &plan.graph, SimOptions::default(), &mut Quiet)
        .unwrap()
        .makespan
}

#[test]
fn zero_1_is_reduce_scatter_plus_all_gather_plus_a_quarter_step() {
    let (c, alpha) = kccb();
    // 3 layers, 400 kB of gradients each: a ring step moves 100 kB, 8 µs
    // at 12.5 GB/s. F = 20 µs and B = 40 µs per layer; the optimizer step
    // is 4 µs per layer, 12 µs per GPU, a quarter of that sharded over 4.
    let mut w = uniform(
        3,
        1,
        SimTime::from_us(20),
        SimTime::from_us(40),
        1000,
        400_000,
    );
    for l in &mut w.layers {
        l.optimizer_step = SimTime::from_us(4);
    }
    let step = alpha + SimTime::from_us(8);
    let backward_done = SimTime::from_us(180);
    for zero in [0u8, 1] {
        let mut j = job(&w, 1, 4, 1, Schedule::Gpipe);
        j.data_parallel.overlap = false;
        j.data_parallel.zero = zero;
        // ZeRO-0: 3 all-reduces of 2(n−1) = 6 steps, then the whole step.
        // ZeRO-1: 3 × (reduce-scatter 3 steps + all-gather 3 steps), then
        // the quarter step.
        let want = if zero == 0 {
            backward_done + step * 18 + SimTime::from_us(12)
        } else {
            backward_done + step * 18 + SimTime::from_us(3)
        };
        assert_eq!(makespan(&c, &j), want, "zero={zero}");
        let plan = j.build();
        let out = simulate(&c, &plan.graph, SimOptions::default(), &mut Quiet).unwrap();
        let per_collective = if zero == 0 { step * 6 } else { step * 3 };
        for &t in &plan.grad_collectives {
            let took = out.task_end[t.index()] - out.task_start[t.index()];
            assert_eq!(took, per_collective, "zero={zero}");
        }
    }
}

#[test]
fn tensor_parallel_all_reduce_matches_the_ring_closed_form() {
    let (c, alpha) = kccb();
    // One layer on t = 4 tensor ranks, one 400 kB all-reduce after its
    // forward and one after its backward: 2(t−1) = 6 ring steps of 100 kB,
    // 6 × (4.5 + 8) = 75 µs each.
    let mut w = uniform(1, 1, SimTime::from_us(20), SimTime::from_us(40), 0, 0);
    w.layers[0].tensor_allreduce_bytes = 400_000;
    w.layers[0].tensor_allreduces = 1;
    w.layers[0].tensor_allreduces_backward = 1;
    let all_reduce = (alpha + SimTime::from_us(8)) * 6;
    assert_eq!(all_reduce, SimTime::from_us(75));
    for overlap in [false, true] {
        let mut j = job(&w, 1, 1, 1, Schedule::Gpipe);
        j.parallelism.tensor = 4;
        j.tensor_overlap = overlap;
        // After the compute: F + AR + B + AR. Overlapped with it: each op
        // ends at max(compute, AR), and here the all-reduce is longer.
        let want = if overlap {
            all_reduce * 2
        } else {
            SimTime::from_us(60) + all_reduce * 2
        };
        assert_eq!(makespan(&c, &j), want, "overlap={overlap}");
    }
}

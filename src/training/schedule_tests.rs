//! Training graphs of the newer schedules against REFERENCES.md: interleaved
//! 1F1B, PipeDream and ZB-H1 closed forms with free communication, and a
//! longest-path reference (virtual stages, split backwards, per-hop time c)
//! where the closed forms need conditions.

use super::tests::{free_fabric, hop_fabric, job_with_virtual_stages, longest_path, uniform};
use super::*;
use crate::engine::{Quiet, SimOptions, simulate};
use crate::topology::Cluster;

fn job(w: &Workload, p: u32, m: u32, v: u32, schedule: Schedule) -> TrainingJob<'_> {
    job_with_virtual_stages(w, p, 1, m, v, schedule)
}

/// The shared `makespan`, after the schedule accepts the job's shape.
fn makespan(c: &Cluster, j: &TrainingJob) -> SimTime {
    j.check().unwrap();
    super::tests::makespan(c, j)
}

/// `uniform` with each layer's backward split: W = `w` per microbatch.
fn split(n: usize, m: u32, f: SimTime, b: SimTime, w: SimTime) -> Workload {
    let mut wl = uniform(n, m, f, b + w, 0, 0);
    for l in &mut wl.layers {
        l.backward_weight = w * u64::from(m);
    }
    wl
}

#[test]
fn interleaved_makespan_is_m_plus_p_minus_1_over_v_slots() {
    // Per chunk op: f = F/v, b = B/v; makespan (m·v + p − 1)(f + b).
    let (f, b) = (SimTime::from_us(2), SimTime::from_us(3));
    for (p, m, v) in [
        (2u32, 2u32, 2u32),
        (4, 4, 2),
        (4, 8, 2),
        (4, 8, 3),
        (2, 6, 4),
        (3, 9, 2),
    ] {
        let w = uniform((p * v) as usize, m, f, b, 0, 0);
        let got = makespan(
            &free_fabric(p as usize),
            &job(&w, p, m, v, Schedule::Interleaved),
        );
        assert_eq!(got, (f + b) * u64::from(m * v + p - 1), "p={p} m={m} v={v}");
    }
}

#[test]
fn interleaved_with_per_hop_latency_follows_the_longest_path() {
    let (f, b) = (SimTime::from_us(10), SimTime::from_us(20));
    let (c, hop) = hop_fabric(4);
    for (p, m, v) in [(2u32, 4u32, 2u32), (4, 4, 2), (4, 8, 3)] {
        let w = uniform((p * v) as usize, m, f, b, 0, 0);
        let shape = Shape {
            stages: p,
            microbatches: m,
            virtual_stages: v,
        };
        let want = longest_path(Schedule::Interleaved, shape, (f, b, SimTime::ZERO), hop);
        let got = makespan(&c, &job(&w, p, m, v, Schedule::Interleaved));
        assert_eq!(got, want, "p={p} m={m} v={v}");
    }
}

#[test]
fn pipedream_ops_take_whole_minibatches() {
    // Per-minibatch layer times F, B (not divided by N): (N+p−1)(F+B).
    let (f, b) = (SimTime::from_us(3), SimTime::from_us(5));
    for (p, n) in [(4u32, 4u32), (4, 10), (3, 2)] {
        let w = uniform(p as usize, 1, f, b, 0, 0);
        let got = makespan(
            &free_fabric(p as usize),
            &job(&w, p, n, 1, Schedule::Pipedream),
        );
        assert_eq!(got, (f + b) * u64::from(n + p - 1), "p={p} N={n}");
    }
}

#[test]
fn zb_h1_makespan_matches_the_closed_form() {
    // m ≥ p, W ≤ min(F, B): m(F+B+W) + (p−1)(F+B−W).
    for (f, b, wt) in [(3u64, 4u64, 2u64), (4, 3, 3), (5, 5, 1), (2, 2, 2)] {
        let (f, b, wt) = (
            SimTime::from_us(f),
            SimTime::from_us(b),
            SimTime::from_us(wt),
        );
        for (p, m) in [(2u32, 2u32), (4, 4), (4, 8), (3, 5), (8, 16)] {
            let w = split(p as usize, m, f, b, wt);
            let got = makespan(&free_fabric(p as usize), &job(&w, p, m, 1, Schedule::ZbH1));
            let want = (f + b + wt) * u64::from(m) + (f + b - wt) * u64::from(p - 1);
            assert_eq!(got, want, "p={p} m={m}");
            // 1F1B on the same workload pays (p−1)(F+B+W) of bubble.
            let one = makespan(
                &free_fabric(p as usize),
                &job(&w, p, m, 1, Schedule::OneFOneB),
            );
            assert_eq!(one, (f + b + wt) * u64::from(m + p - 1));
        }
    }
}

#[test]
fn zb_h1_outside_the_closed_form_follows_the_longest_path() {
    // m < p, W > F, and per-hop latency: no closed form, exact agreement.
    let (c, hop) = hop_fabric(8);
    let free = free_fabric(8);
    let (f, b, wt) = (
        SimTime::from_us(2),
        SimTime::from_us(3),
        SimTime::from_us(5),
    );
    for (p, m) in [(4u32, 2u32), (8, 3), (4, 8), (3, 3)] {
        let w = split(p as usize, m, f, b, wt);
        let shape = Shape {
            stages: p,
            microbatches: m,
            virtual_stages: 1,
        };
        for (cluster, per_hop) in [(&free, SimTime::ZERO), (&c, hop)] {
            let want = longest_path(Schedule::ZbH1, shape, (f, b, wt), per_hop);
            let got = makespan(cluster, &job(&w, p, m, 1, Schedule::ZbH1));
            assert_eq!(got, want, "p={p} m={m} c={per_hop:?}");
        }
    }
}

#[test]
fn zb_h1_gradients_complete_after_the_last_w() {
    // With data parallelism, each stage's gradient all-reduce waits for its
    // last W, not its last B.
    let (f, b, wt) = (
        SimTime::from_us(3),
        SimTime::from_us(4),
        SimTime::from_us(2),
    );
    let w = split(2, 4, f, b, wt);
    let mut j = job(&w, 2, 4, 1, Schedule::ZbH1);
    j.parallelism.data = 2;
    let plan = j.build();
    let out = simulate(
        &free_fabric(4),
        &plan.graph,
        SimOptions::default(),
        &mut Quiet,
    )
    .unwrap();
    for &ar in &plan.grad_collectives {
        let stage = plan.graph.task(ar).tag.stage;
        let last_w = plan
            .graph
            .tasks()
            .iter()
            .enumerate()
            .filter(|(_, t)| t.tag.phase == Phase::BackwardWeight && t.tag.stage == stage)
            .map(|(i, _)| out.task_end[i])
            .max()
            .unwrap();
        assert!(out.task_start[ar.index()] >= last_w);
    }
}

#[test]
fn naive_rejects_microbatches_through_check() {
    let w = uniform(4, 1, SimTime::from_us(1), SimTime::from_us(1), 0, 0);
    let j = job(&w, 4, 8, 1, Schedule::Naive);
    assert_eq!(j.check(), Err(ScheduleError::NaiveMicrobatches(8)));
}

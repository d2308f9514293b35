//! Pipeline metrics against REFERENCES.md: bubble fractions, utilisation,
//! peak stashed activations, weight versions and memory, on a free fabric.

use super::*;
use crate::engine::{Quiet, SimOptions, simulate};
use crate::schedule::Schedule;
use crate::topology::test_support::star;
use crate::training::tests::{job, uniform};
use crate::units::SimTime;
use crate::workload::Workload;

fn run(w: &Workload, p: u32, m: u32, v: u32, schedule: Schedule) -> PipelineMetrics {
    let mut j = job(w, p, 1, m, schedule);
    j.virtual_stages = v;
    j.partition = vec![w.layers.len() / (p * v) as usize; (p * v) as usize];
    j.check().unwrap();
    let plan = j.build();
    let c = star(
        p as usize,
        100.0,
        SimTime::ZERO,
        SimTime::ZERO,
        SimTime::ZERO,
    );
    let out = simulate(&c, &plan.graph, SimOptions::default(), &mut Quiet).unwrap();
    pipeline_metrics(&j, &plan, &out)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn gpipe_and_1f1b_bubble_and_peak_activations() {
    let (f, b) = (SimTime::from_us(3), SimTime::from_us(5));
    for (p, m) in [(4u32, 4u32), (4, 8), (8, 3), (2, 1), (3, 7)] {
        let w = uniform(p as usize, m, f, b, 0, 0);
        for s in [Schedule::Gpipe, Schedule::OneFOneB] {
            let got = run(&w, p, m, 1, s);
            let want = f64::from(p - 1) / f64::from(m + p - 1);
            assert!(close(got.bubble_fraction, want), "{s} p={p} m={m}");
            for st in &got.stages {
                let peak = if s == Schedule::Gpipe {
                    m
                } else {
                    (p - st.stage).min(m)
                };
                assert_eq!(st.peak_activations, f64::from(peak), "{s} p={p} m={m}");
                assert_eq!(st.weight_versions, 1);
                assert!(close(st.utilization, f64::from(m) / f64::from(m + p - 1)));
            }
        }
    }
}

#[test]
fn four_stages_four_microbatches_are_busy_four_sevenths() {
    let w = uniform(4, 4, SimTime::from_us(1), SimTime::from_us(1), 0, 0);
    for s in [Schedule::Gpipe, Schedule::OneFOneB] {
        let got = run(&w, 4, 4, 1, s);
        for st in &got.stages {
            assert!(close(st.utilization, 4.0 / 7.0), "{s}: {}", st.utilization);
            assert!(close(st.busy_s, 8e-6));
        }
        assert!(close(got.bubble_fraction, 3.0 / 7.0));
    }
}

#[test]
fn pipedream_keeps_p_minus_s_versions_and_activations() {
    let w = uniform(4, 1, SimTime::from_us(2), SimTime::from_us(3), 0, 0);
    let got = run(&w, 4, 8, 1, Schedule::Pipedream);
    for st in &got.stages {
        assert_eq!(st.weight_versions, 4 - st.stage);
        assert_eq!(st.peak_activations, f64::from(4 - st.stage));
    }
    // (N+p−1)(F+B) makespan: bubble (p−1)/(N+p−1).
    assert!(close(got.bubble_fraction, 3.0 / 11.0));
}

#[test]
fn interleaved_stage_0_holds_p_plus_p_minus_1_over_v() {
    let (p, m, v) = (4u32, 8u32, 2u32);
    let w = uniform(
        (p * v) as usize,
        m,
        SimTime::from_us(1),
        SimTime::from_us(2),
        0,
        0,
    );
    let got = run(&w, p, m, v, Schedule::Interleaved);
    assert_eq!(
        got.stages[0].peak_activations,
        f64::from(p) + f64::from(p - 1) / f64::from(v)
    );
    let want = f64::from(p - 1) / f64::from(v * m + p - 1);
    assert!(close(got.bubble_fraction, want), "{}", got.bubble_fraction);
    assert_eq!(got.stages[1].layers, ["l1", "l5"]);
}

#[test]
fn zb_h1_counts_activations_until_w() {
    // Released at W, ZB-H1 holds p on every stage once m ≥ p (1F1B's p−s
    // counts release at B).
    let mut w = uniform(4, 8, SimTime::from_us(3), SimTime::from_us(6), 0, 0);
    for l in &mut w.layers {
        l.backward_weight = SimTime::from_us(2 * 8);
    }
    let got = run(&w, 4, 8, 1, Schedule::ZbH1);
    for st in &got.stages {
        assert_eq!(st.peak_activations, 4.0, "stage {}", st.stage);
    }
}

#[test]
fn memory_is_weights_gradients_and_peak_stash() {
    let (p, m) = (4u32, 8u32);
    let mut w = uniform(8, m, SimTime::from_us(1), SimTime::from_us(2), 0, 1000);
    for l in &mut w.layers {
        l.stash_bytes = 800; // 100 per microbatch
    }
    for (s, versions) in [(Schedule::OneFOneB, 1), (Schedule::Gpipe, 1)] {
        let got = run(&w, p, m, 1, s);
        for st in &got.stages {
            let peak = st.peak_activations as u64;
            // 2 layers: params 2000 × versions, grads 2000, stash 2×100 per mb.
            assert_eq!(
                st.memory_bytes,
                2000 * versions + 2000 + peak * 200,
                "{s} stage {}",
                st.stage
            );
        }
    }
}

#[test]
fn json_keys_are_the_documented_ones() {
    let w = uniform(2, 2, SimTime::from_us(1), SimTime::from_us(1), 0, 0);
    let got = run(&w, 2, 2, 1, Schedule::OneFOneB);
    let json = serde_json::to_value(&got).unwrap();
    let keys: Vec<&String> = json["stages"][0].as_object().unwrap().keys().collect();
    let mut want = [
        "stage",
        "gpus",
        "layers",
        "busy_s",
        "utilization",
        "peak_activations",
        "weight_versions",
        "memory_bytes",
    ];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert!(json["bubble_fraction"].is_f64());
}

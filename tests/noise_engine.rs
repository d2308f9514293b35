//! Noise through the engine: a lone transfer's extra latency follows the
//! configured distribution, and stragglers stretch compute by their factor.

use fabsim::engine::{SimOptions, simulate};
use fabsim::ids::GpuId;
use fabsim::input::Source;
use fabsim::noise::NoiseSpec;
use fabsim::plan::{Phase, Tag, TaskGraph};
use fabsim::units::SimTime;
use std::path::PathBuf;

fn cluster() -> fabsim::topology::Cluster {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/kccb-4host.yaml");
    fabsim::topology::load(&p).unwrap()
}

fn noise(yaml: &str) -> fabsim::noise::NoiseModel {
    let src = Source::from_text("noise.yaml", yaml);
    src.parse::<NoiseSpec>().unwrap().check(&src).unwrap()
}

#[test]
fn a_lone_transfer_delay_follows_the_latency_distribution() {
    let c = cluster();
    let mut g = TaskGraph::new();
    g.transfer(GpuId(0), GpuId(1), 125_000, Tag::new(Phase::Transfer), &[]);
    // Without noise: 2us + 2.5us + 10us.
    let base = SimTime::from_ns(14_500).as_secs_f64();
    let model = noise("latency: { dist: lognormal, median: 2ms, sigma: 0.8 }\n");
    let n = 20_000;
    let mut extra: Vec<f64> = (0..n)
        .map(|t| {
            let mut hooks = model.trial(3, t, c.num_gpus());
            simulate(&c, &g, SimOptions::default(), &mut hooks)
                .unwrap()
                .makespan
                .as_secs_f64()
                - base
        })
        .collect();
    extra.sort_by(f64::total_cmp);
    // Lognormal quantiles: median · exp(σ z_q).
    for (q, z) in [
        (0.1, -1.2815516),
        (0.5, 0.0),
        (0.9, 1.2815516),
        (0.99, 2.3263479),
    ] {
        let want = 2e-3 * (0.8f64 * z).exp();
        let got = extra[(q * n as f64) as usize];
        assert!((got - want).abs() / want < 0.06, "q={q}: {got} vs {want}");
    }
}

#[test]
fn stragglers_stretch_compute_by_their_factor() {
    let c = cluster();
    let mut g = TaskGraph::new();
    let ops: Vec<_> = (0..4)
        .map(|i| {
            g.compute(
                GpuId(i),
                SimTime::from_us(100),
                Tag::new(Phase::Compute),
                &[],
            )
        })
        .collect();
    let model = noise("stragglers: { probability: 0.1, slowdown: 2.5 }\n");
    let trials = 5000;
    let mut slow = 0;
    for t in 0..trials {
        let mut hooks = model.trial(11, t, c.num_gpus());
        let out = simulate(&c, &g, SimOptions::default(), &mut hooks).unwrap();
        for &op in &ops {
            let d = out.task_end[op.index()] - out.task_start[op.index()];
            assert!(d == SimTime::from_us(100) || d == SimTime::from_us(250));
            slow += usize::from(d == SimTime::from_us(250));
        }
    }
    let share = slow as f64 / (4 * trials) as f64;
    assert!((share - 0.1).abs() < 0.015, "{share}");
}

//! Engine liveness (issue 10): a task graph that cannot finish is reported
//! even while background traffic keeps generating events, endless
//! background traffic is cut at its documented budget, and a time past
//! 2^64 ps is an overflow error, not a stall.

use fabsim::engine::{
    BackgroundFlow, EngineError, MAX_BACKGROUND_FLOWS, Perturb, SimOptions, simulate,
};
use fabsim::ids::GpuId;
use fabsim::plan::{Phase, Tag, TaskGraph};
use fabsim::units::SimTime;
use std::path::Path;

fn cluster() -> fabsim::topology::Cluster {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/kccb-4host.yaml");
    fabsim::topology::load(&file).unwrap()
}

/// A background flow every microsecond, forever.
struct Endless;
impl Perturb for Endless {
    fn next_background(&mut self, now: SimTime) -> Option<BackgroundFlow> {
        Some(BackgroundFlow {
            at: now + SimTime::from_us(1),
            src: GpuId(0),
            dst: GpuId(1),
            bytes: 1000,
        })
    }
}

#[test]
fn a_stuck_graph_is_detected_despite_background_traffic() {
    let c = cluster();
    let mut g = TaskGraph::new();
    let tag = Tag::new(Phase::Barrier);
    let start = g.compute(GpuId(0), SimTime::from_us(5), Tag::new(Phase::Forward), &[]);
    let a = g.barrier(tag, &[start]);
    let b = g.barrier(tag, &[a]);
    g.depend(a, b); // a cycle behind a task that can run
    let err = simulate(&c, &g, SimOptions::default(), &mut Endless).unwrap_err();
    assert_eq!(err, EngineError::Stuck(2));
}

#[test]
fn endless_background_traffic_stops_at_its_budget() {
    let c = cluster();
    let mut g = TaskGraph::new();
    // A compute op far longer than the budget's worth of arrivals.
    g.compute(
        GpuId(0),
        SimTime::from_us(10 * MAX_BACKGROUND_FLOWS),
        Tag::new(Phase::Forward),
        &[],
    );
    let err = simulate(&c, &g, SimOptions::default(), &mut Endless).unwrap_err();
    assert_eq!(err, EngineError::BackgroundBudget(MAX_BACKGROUND_FLOWS));
    assert!(err.is_input_error());
}

#[test]
fn time_past_2_64_ps_is_an_overflow() {
    let c = cluster();
    let mut g = TaskGraph::new();
    let day = SimTime::from_us(86_400_000_000);
    let mut last = g.compute(GpuId(0), day, Tag::new(Phase::Forward), &[]);
    for _ in 0..300 {
        last = g.compute(GpuId(0), day, Tag::new(Phase::Forward), &[last]);
    }
    let err = simulate(&c, &g, SimOptions::default(), &mut fabsim::engine::Quiet).unwrap_err();
    assert!(matches!(err, EngineError::TimeOverflow(_)), "{err}");
    assert!(err.is_input_error());
    assert!(err.to_string().contains("2^64 ps"), "{err}");
}

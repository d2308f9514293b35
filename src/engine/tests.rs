//! The engine on small graphs whose timing can be worked out by hand.

use super::*;
use crate::plan::{Phase, Tag};
use crate::topology::test_support::kccb_star;
use crate::units::Bandwidth;

fn c4() -> Cluster {
    kccb_star(4)
}

fn run(c: &Cluster, g: &TaskGraph) -> Outcome {
    simulate(
        c,
        g,
        SimOptions {
            record_transfers: true,
        },
        &mut Quiet,
    )
    .unwrap()
}

fn tag() -> Tag {
    Tag::new(Phase::Compute)
}

#[test]
fn lone_transfer_takes_overhead_latency_and_size_over_bandwidth() {
    let c = c4();
    let mut g = TaskGraph::new();
    let bytes = 1_234_567;
    let t = g.transfer(GpuId(0), GpuId(2), bytes, Tag::new(Phase::Transfer), &[]);
    let out = run(&c, &g);
    let want = SimTime::from_us(2)
        + SimTime::from_ns(2500)
        + Bandwidth::from_gbps(100.0).transfer_time(bytes);
    assert_eq!(out.task_end[t.index()], want);
    assert_eq!(out.transfers.len(), 1);
    assert_eq!(out.transfers[0].end, want);
    // Both NIC links carried the bytes.
    let carried: Vec<f64> = out
        .links
        .iter()
        .map(|l| l.bytes)
        .filter(|&b| b > 0.0)
        .collect();
    assert_eq!(carried, vec![bytes as f64, bytes as f64]);
}

#[test]
fn compute_ops_on_one_gpu_are_serial_and_gpus_run_in_parallel() {
    let c = c4();
    let mut g = TaskGraph::new();
    let a = g.compute(GpuId(0), SimTime::from_us(10), tag(), &[]);
    let b = g.compute(GpuId(0), SimTime::from_us(5), tag(), &[]);
    let x = g.compute(GpuId(1), SimTime::from_us(7), tag(), &[]);
    let out = run(&c, &g);
    assert_eq!(out.task_end[a.index()], SimTime::from_us(10));
    assert_eq!(out.task_start[b.index()], SimTime::from_us(10));
    assert_eq!(out.task_end[b.index()], SimTime::from_us(15));
    assert_eq!(out.task_end[x.index()], SimTime::from_us(7));
    assert_eq!(out.makespan, SimTime::from_us(15));
}

#[test]
fn communication_overlaps_compute_and_dependencies_hold() {
    let c = c4();
    let mut g = TaskGraph::new();
    let f = g.compute(GpuId(0), SimTime::from_us(10), tag(), &[]);
    let t = g.transfer(
        GpuId(0),
        GpuId(1),
        12_500,
        Tag::new(Phase::Activation),
        &[f],
    );
    let busy = g.compute(GpuId(0), SimTime::from_us(20), tag(), &[]);
    let r = g.compute(GpuId(1), SimTime::from_us(1), tag(), &[t]);
    let out = run(&c, &g);
    // Transfer: 10 + 2 (overhead) + 2.5 (latency) + 1 (12.5 kB at 12.5 GB/s) = 15.5us.
    assert_eq!(out.task_end[t.index()], SimTime::from_ns(15_500));
    assert_eq!(out.task_start[busy.index()], SimTime::from_us(10));
    assert_eq!(out.task_end[r.index()], SimTime::from_ns(16_500));
}

#[test]
fn two_transfers_from_one_nic_share_it() {
    let c = c4();
    let mut g = TaskGraph::new();
    let bytes = 125_000; // 10us alone at 12.5 GB/s
    let a = g.transfer(GpuId(0), GpuId(1), bytes, Tag::new(Phase::Transfer), &[]);
    let b = g.transfer(GpuId(0), GpuId(2), bytes, Tag::new(Phase::Transfer), &[]);
    let out = run(&c, &g);
    let want = SimTime::from_ns(4_500) + SimTime::from_us(20);
    assert_eq!(out.task_end[a.index()], want);
    assert_eq!(out.task_end[b.index()], want);
    let peak = out.links.iter().map(|l| l.peak_flows).max().unwrap();
    assert_eq!(peak, 2);
}

#[test]
fn zero_byte_and_self_transfers_pay_only_their_delay() {
    let c = c4();
    let mut g = TaskGraph::new();
    let z = g.transfer(GpuId(0), GpuId(1), 0, Tag::new(Phase::Transfer), &[]);
    let s = g.transfer(GpuId(2), GpuId(2), 1 << 20, Tag::new(Phase::Transfer), &[]);
    let out = run(&c, &g);
    assert_eq!(out.task_end[z.index()], SimTime::from_ns(4_500));
    assert_eq!(out.task_end[s.index()], SimTime::ZERO);
}

#[test]
fn barriers_join_and_empty_graphs_finish_at_zero() {
    let c = c4();
    let out = run(&c, &TaskGraph::new());
    assert_eq!(out.makespan, SimTime::ZERO);
    let mut g = TaskGraph::new();
    let a = g.compute(GpuId(0), SimTime::from_us(3), tag(), &[]);
    let b = g.compute(GpuId(1), SimTime::from_us(5), tag(), &[]);
    let j = g.barrier(Tag::new(Phase::Barrier), &[a, b]);
    let after = g.compute(GpuId(2), SimTime::from_us(1), tag(), &[j]);
    let out = run(&c, &g);
    assert_eq!(out.task_end[j.index()], SimTime::from_us(5));
    assert_eq!(out.task_end[after.index()], SimTime::from_us(6));
}

#[test]
fn cycles_are_reported_not_hung() {
    let c = c4();
    let mut g = TaskGraph::new();
    let a = g.barrier(Tag::new(Phase::Barrier), &[]);
    let b = g.barrier(Tag::new(Phase::Barrier), &[a]);
    g.depend(a, b);
    let err = simulate(&c, &g, SimOptions::default(), &mut Quiet).unwrap_err();
    assert_eq!(err, EngineError::Stuck(2));
}

/// One background flow sharing the path halves a transfer's rate while both run.
struct OneBackground(Option<BackgroundFlow>);
impl Perturb for OneBackground {
    fn next_background(&mut self, _now: SimTime) -> Option<BackgroundFlow> {
        self.0.take()
    }
}

#[test]
fn background_traffic_shares_bandwidth() {
    let c = c4();
    let mut g = TaskGraph::new();
    let bytes = 125_000; // 10us alone
    let t = g.transfer(GpuId(0), GpuId(1), bytes, Tag::new(Phase::Transfer), &[]);
    let mut bg = OneBackground(Some(BackgroundFlow {
        at: SimTime::ZERO,
        src: GpuId(0),
        dst: GpuId(3),
        bytes: 10 * bytes,
    }));
    let out = simulate(&c, &g, SimOptions::default(), &mut bg).unwrap();
    // Both start their bandwidth phase at 4.5us and share GPU 0's NIC.
    assert_eq!(
        out.task_end[t.index()],
        SimTime::from_ns(4_500) + SimTime::from_us(20)
    );
}

#[test]
fn many_simulations_at_once_agree() {
    let c = c4();
    let mut g = TaskGraph::new();
    for i in 0..4 {
        g.transfer(
            GpuId(i),
            GpuId((i + 1) % 4),
            1 << 20,
            Tag::new(Phase::Transfer),
            &[],
        );
    }
    let results: Vec<SimTime> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| run(&c, &g).makespan)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each ring edge has its own uplink and downlink, so every transfer runs
    // alone: overhead 2us + latencies 2.5us + S/B, in every simulation,
    // whichever thread ran it (no shared state between simulations).
    let alone = SimTime::from_us(2)
        + SimTime::from_ns(2500)
        + Bandwidth::from_gbps(100.0).transfer_time(1 << 20);
    assert_eq!(results, vec![alone; 4]);
}

#[test]
fn events_pack_and_unpack() {
    for e in [
        Event::TaskDone(TaskId(u32::MAX)),
        Event::Activate(7),
        Event::Activate(u32::MAX),
        Event::Background,
    ] {
        assert_eq!(Event::from(Packed::from(e)), e);
    }
}

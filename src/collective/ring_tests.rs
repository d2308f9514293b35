//! The ring's flow control (NCCL's per-connection slot window): the
//! machine alone under adversarial delivery orders, and one contended ring
//! run by the engine against a hand derivation of the fluid model.
//!
//! Not here: the uncontended closed forms (`tests.rs`), which the window
//! must leave unchanged and which run there unchanged.

use super::ring::{Ring, RingOp, WINDOW};
use super::{Machine, Message};
use crate::bench::measure::measure_with;
use crate::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use crate::ids::GpuId;
use crate::topology::test_support::test_gpu;
use crate::topology::{ClusterBuilder, LinkKind};
use crate::units::{Bandwidth, SimTime};
use proptest::prelude::*;

/// Runs `ring` to completion, delivering one in-flight send at a time in
/// the order `pick` chooses, and checks after every step, from the sends
/// alone (sender, receiver, count), that:
/// - a rank has sent at most one more piece than it has received (data);
/// - a connection holds at most [`WINDOW`] sends in flight, and at most
///   [`WINDOW`] its receiver has not yet forwarded (credit).
///
/// Returns the number of sends; panics on a deadlock.
fn drive(mut ring: Ring, n: usize, mut pick: impl FnMut(usize) -> usize) -> usize {
    let (mut sent, mut received) = (vec![0usize; n], vec![0usize; n]);
    let (mut in_flight, mut out) = (Vec::<Message>::new(), Vec::new());
    let mut total = 0;
    ring.start(&mut out);
    loop {
        for m in out.drain(..) {
            sent[m.src.index()] += 1;
            total += 1;
            in_flight.push(m);
        }
        for i in 0..n {
            let next = (i + 1) % n;
            assert!(
                sent[i] <= received[i] + 1,
                "rank {i} sent ahead of its data"
            );
            let flying = in_flight.iter().filter(|m| m.src.index() == i).count();
            assert!(
                flying <= WINDOW as usize,
                "{flying} sends in flight on {i}→{next}"
            );
            // The receiver has forwarded (consumed) sent[next] − 1 pieces.
            let unconsumed = sent[i] - sent[next].saturating_sub(1);
            assert!(
                unconsumed <= WINDOW as usize,
                "{unconsumed} unconsumed on {i}→{next}"
            );
        }
        if in_flight.is_empty() {
            break;
        }
        let m = in_flight.swap_remove(pick(in_flight.len()));
        received[m.dst.index()] += 1;
        let done = ring.delivered(m.token, &mut out);
        assert_eq!(
            done,
            in_flight.is_empty() && out.is_empty(),
            "done too early or late"
        );
    }
    assert!(ring.is_done(), "deadlock: nothing in flight, ring not done");
    total
}

fn ranks(n: usize) -> Vec<GpuId> {
    (0..n as u32).map(GpuId).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever order sends complete in (out of order too, as with loss),
    /// the window holds, data dependencies hold, and the ring finishes with
    /// all its 2n(n−1) sends.
    #[test]
    fn window_holds_and_ring_completes_in_any_delivery_order(
        n in 2usize..9,
        seed in any::<u64>(),
        op in prop_oneof![Just(RingOp::AllReduce), Just(RingOp::ReduceScatter)],
    ) {
        let mut state = seed | 1;
        let pick = |len: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % len
        };
        let sends = drive(Ring::new(ranks(n), 1 << 20, 1, op), n, pick);
        let steps = if op == RingOp::AllReduce { 2 * (n - 1) } else { n - 1 };
        prop_assert_eq!(sends, n * steps);
    }
}

/// Delivering the newest send first is the order that lets fast ranks run
/// furthest ahead: the window still holds.
#[test]
fn window_holds_when_the_newest_send_always_lands_first() {
    for n in [2, 3, 5] {
        let sends = drive(Ring::new(ranks(n), 1000, 1, RingOp::AllReduce), n, |len| {
            len - 1
        });
        assert_eq!(sends, 2 * n * (n - 1));
    }
}

/// Three GPUs, no latency or overhead anywhere; GPUs 0 and 1 share a host
/// whose link is 25 Gb/s (the ring edge 0→1), GPU 2 is on its own host and
/// every NIC is 100 Gb/s (edges 1→2 and 2→0 cross the switch).
#[test]
fn slow_edge_holds_at_most_the_window_and_matches_the_fluid_derivation() {
    let mut cb = ClusterBuilder::new("slow-edge", test_gpu());
    let sw = cb.add_switch("sw", SimTime::ZERO);
    let g: Vec<_> = [(0, 0), (0, 1), (1, 0)]
        .iter()
        .map(|&(h, l)| cb.add_gpu(format!("g{h}{l}"), h, l, SimTime::ZERO, SimTime::ZERO))
        .collect();
    for &x in &g {
        cb.add_link(
            x,
            sw,
            Bandwidth::from_gbps(100.0),
            SimTime::ZERO,
            LinkKind::Nic,
        );
    }
    let slow = cb.add_link(
        g[0],
        g[1],
        Bandwidth::from_gbps(25.0),
        SimTime::ZERO,
        LinkKind::IntraHost,
    );
    let cluster = cb.build().unwrap();
    let spec = CollectiveSpec {
        name: "ar".into(),
        op: CollectiveOp::AllReduce,
        algorithm: Algorithm::Ring,
        ranks: ranks(3),
        bytes: 3_000_000,
        chunks: 1,
    };
    let m = measure_with(&cluster, &spec, false).unwrap();
    // A 1 MB piece takes t = 80 µs on a fast edge, T = 4t alone on the slow
    // one. Writing (i,k) for rank i's step-k send, by hand:
    //  0: (0,0) (1,0) (2,0) start.      t: (1,0) and (2,0) land; (2,1) and
    //     (0,1) start: (0,0) has 3/4 left and now shares the slow edge.
    // 2t: (2,1) lands, but (0,2) waits: 0→1 holds two pieces that rank 1 has
    //     not forwarded (without the window a third flow would start here).
    // 7t: (0,0) lands after 6t at half rate; rank 1 forwards it as (1,1),
    //     which frees a slot: (0,2) starts; (0,1) has 1/4 left.
    // 8t: (1,1) lands, (2,2) starts.   9t: (0,1) and (2,2) land: (1,2) and
    //     (0,3) start; (0,2) has 3/4 left.   10t: (1,2) lands, (2,3) starts
    //     (lands at 11t).   15t: (0,2) lands, (1,3) starts; (0,3) has 1/4
    //     left, alone: 16t: (0,3) and (1,3) land.
    let t = SimTime::from_us(80);
    assert_eq!(m.time, t * 16);
    assert_eq!(m.links[slow.index()].peak_flows, WINDOW);
    // The slow edge is busy from start to end; every other link carries one
    // flow at a time.
    assert_eq!(m.links[slow.index()].busy, t * 16);
    let others = m
        .links
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != slow.index());
    assert!(others.into_iter().all(|(_, l)| l.peak_flows <= 1));
}

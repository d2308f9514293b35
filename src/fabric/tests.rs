//! Max-min fairness against hand-solved systems, the full-solve oracle, and
//! the defining properties (feasibility, a saturated bottleneck per flow,
//! conservation of bytes).

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn l(i: u32) -> LinkId {
    LinkId(i)
}

/// Adds flows, resolves, returns each flow's rate.
fn rates_of(capacity: &[f64], paths: &[Vec<u32>]) -> Vec<f64> {
    let mut fab = Fabric::new(capacity.iter().copied());
    let ids: Vec<FlowId> = paths
        .iter()
        .map(|p| {
            let links: Vec<LinkId> = p.iter().map(|&i| l(i)).collect();
            fab.add(SimTime::ZERO, &links, 1e9, |_, _, _| {})
        })
        .collect();
    fab.resolve(SimTime::ZERO, |_, _, _| {});
    ids.iter().map(|&f| fab.rate(f)).collect()
}

#[test]
fn two_flows_split_a_shared_bottleneck() {
    // Access links of 100, shared link 2 of 10.
    let r = rates_of(&[100.0, 100.0, 10.0], &[vec![0, 2], vec![1, 2]]);
    assert_eq!(r, vec![5.0, 5.0]);
}

#[test]
fn a_flow_limited_by_its_access_link_frees_share_for_the_other() {
    // Flow 0's access link carries only 2; flow 1 takes the rest of 10.
    let r = rates_of(&[2.0, 100.0, 10.0], &[vec![0, 2], vec![1, 2]]);
    assert_eq!(r, vec![2.0, 8.0]);
}

#[test]
fn three_flows_over_two_bottlenecks() {
    // Link A (0) = 10 carries f0, f1; link B (1) = 4 carries f1, f2.
    // B is the tighter: f1 = f2 = 2; then f0 takes 10 - 2 = 8.
    let r = rates_of(&[10.0, 4.0], &[vec![0], vec![0, 1], vec![1]]);
    assert_eq!(r, vec![8.0, 2.0, 2.0]);
}

#[test]
fn three_flows_with_different_access_links() {
    // Access 1, 3, 100 into a shared 12: f0 = 1, f1 = 3, f2 = 8.
    let r = rates_of(
        &[1.0, 3.0, 100.0, 12.0],
        &[vec![0, 3], vec![1, 3], vec![2, 3]],
    );
    assert_eq!(r, vec![1.0, 3.0, 8.0]);
}

#[test]
fn lone_flow_takes_its_bottleneck_and_finishes_exactly() {
    let mut fab = Fabric::new([12.5e9, 50e9]);
    let mut finish = None;
    let f = fab.add(SimTime::ZERO, &[l(0), l(1)], 12.5e9 * 1e-6, |_, _, t| {
        finish = Some(t)
    });
    fab.resolve(SimTime::ZERO, |_, _, _| {
        panic!("a lone flow needs no solve")
    });
    assert_eq!(fab.rate(f), 12.5e9);
    assert_eq!(finish, Some(SimTime::from_us(1)));
}

#[test]
fn removing_a_flow_speeds_up_the_rest_and_keeps_stats() {
    let mut fab = Fabric::new([10.0]);
    let a = fab.add(SimTime::ZERO, &[l(0)], 100.0, |_, _, _| {});
    let b = fab.add(SimTime::ZERO, &[l(0)], 100.0, |_, _, _| {});
    fab.resolve(SimTime::ZERO, |_, _, _| {});
    assert_eq!((fab.rate(a), fab.rate(b)), (5.0, 5.0));
    let t1 = SimTime::from_secs_ceil(4.0);
    fab.remove(t1, a);
    let mut finish = BTreeMap::new();
    fab.resolve(t1, |id, _, t| {
        finish.insert(id, t);
    });
    assert_eq!(fab.rate(b), 10.0);
    // b sent 20 of 100 bytes in 4 s; 80 left at 10 B/s: 8 s more.
    assert_eq!(finish[&b], SimTime::from_secs_ceil(12.0));
    fab.remove(SimTime::from_secs_ceil(12.0), b);
    let st = &fab.link_stats(SimTime::from_secs_ceil(20.0))[0];
    assert_eq!(st.bytes, 200.0);
    assert_eq!(st.peak_flows, 2);
    assert_eq!(st.busy, SimTime::from_secs_ceil(12.0));
}

/// A random system: capacities and 1..4-link paths.
fn system() -> impl Strategy<Value = (Vec<f64>, Vec<Vec<u32>>)> {
    (2usize..10).prop_flat_map(|nl| {
        let caps = proptest::collection::vec(1.0f64..100.0, nl);
        let paths = proptest::collection::vec(
            proptest::collection::btree_set(0..nl as u32, 1..4.min(nl) + 1)
                .prop_map(|s| s.into_iter().collect::<Vec<u32>>()),
            1..12,
        );
        (caps, paths)
    })
}

proptest! {
    #[test]
    fn rates_are_feasible_and_every_flow_has_a_bottleneck((caps, paths) in system()) {
        let r = rates_of(&caps, &paths);
        let mut load = vec![0.0; caps.len()];
        for (p, &rate) in paths.iter().zip(&r) {
            prop_assert!(rate > 0.0);
            for &i in p { load[i as usize] += rate; }
        }
        for (i, &c) in caps.iter().enumerate() {
            prop_assert!(load[i] <= c * (1.0 + 1e-9), "link {i} over capacity: {} > {c}", load[i]);
        }
        // Max-min: each flow crosses a saturated link on which no flow is faster.
        for (f, p) in paths.iter().enumerate() {
            let has_bottleneck = p.iter().any(|&i| {
                let saturated = load[i as usize] >= caps[i as usize] * (1.0 - 1e-9);
                let largest = paths.iter().zip(&r)
                    .filter(|(q, _)| q.contains(&i))
                    .all(|(_, &other)| other <= r[f] * (1.0 + 1e-9));
                saturated && largest
            });
            prop_assert!(has_bottleneck, "flow {f} has no bottleneck");
        }
        // And the oracle agrees.
        let paths_l: Vec<Vec<LinkId>> = paths.iter().map(|p| p.iter().map(|&i| l(i)).collect()).collect();
        let oracle = maxmin::solve_full(&caps, &paths_l);
        for (a, b) in r.iter().zip(&oracle) {
            prop_assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs oracle {b}");
        }
    }

    /// Incremental updates through a run of arrivals and completions always
    /// match a full re-solve, and every byte sent is delivered.
    #[test]
    fn incremental_matches_oracle_and_conserves_bytes(
        (caps, paths) in system(),
        sizes in proptest::collection::vec(1.0f64..1000.0, 12),
        starts in proptest::collection::vec(0u64..5_000_000_000_000, 12),
    ) {
        run_against_oracle(&caps, &paths, &sizes, &starts)?;
    }

    /// The same on a leaf/spine shape where one component holds every flow
    /// and a change cascades through uplinks and downlinks: the case the
    /// bottleneck certificate exists for.
    #[test]
    fn incremental_matches_oracle_on_a_shared_spine(
        (caps, paths) in spine_system(),
        sizes in proptest::collection::vec(1.0f64..1000.0, 40),
        starts in proptest::collection::vec(0u64..5_000_000_000_000, 40),
    ) {
        run_against_oracle(&caps, &paths, &sizes, &starts)?;
    }
}

/// Leaves with `up` and `down` links to a spine (capacities drawn from a
/// few values so that ties happen) and flows from one leaf to another,
/// each also crossing its own access link.
fn spine_system() -> impl Strategy<Value = (Vec<f64>, Vec<Vec<u32>>)> {
    (2u32..6).prop_flat_map(|leaves| {
        let caps = proptest::collection::vec(
            prop_oneof![Just(4.0), Just(10.0), 1.0f64..20.0],
            2 * leaves as usize + 40,
        );
        let paths =
            proptest::collection::vec((0..leaves, 0..leaves), 1..40).prop_map(move |pairs| {
                pairs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (a, b))| vec![a, leaves + b, 2 * leaves + i as u32])
                    .collect::<Vec<_>>()
            });
        (caps, paths)
    })
}

/// Replays arrivals at `starts` and the finishes the fabric reports,
/// checking every allocation against the oracle and every flow's bytes.
fn run_against_oracle(
    caps: &[f64],
    paths: &[Vec<u32>],
    sizes: &[f64],
    starts: &[u64],
) -> Result<(), TestCaseError> {
    let mut fab = Fabric::new(caps.iter().copied());
    // Event list: arrivals at their start times; finishes as reported.
    let mut pending: Vec<(SimTime, usize)> = paths
        .iter()
        .enumerate()
        .map(|(i, _)| (SimTime(starts[i]), i))
        .collect();
    pending.sort();
    let mut finish: BTreeMap<FlowId, (u32, SimTime)> = BTreeMap::new();
    let mut delivered = 0.0;
    let sent: f64 = (0..paths.len()).map(|i| sizes[i]).sum();
    let mut bytes_of: BTreeMap<FlowId, f64> = BTreeMap::new();
    // Bytes each flow has pushed, integrating its rate over time.
    let mut pushed: BTreeMap<FlowId, f64> = BTreeMap::new();
    let mut prev = SimTime::ZERO;
    loop {
        let next_arrival = pending.first().map(|e| e.0);
        let next_finish = finish.iter().map(|(&f, &(_, t))| (t, f)).min();
        let now = match (next_arrival, next_finish) {
            (None, None) => break,
            (Some(a), Some((t, _))) => a.min(t),
            (Some(a), None) => a,
            (None, Some((t, _))) => t,
        };
        for (f, rate) in fab.active_rates() {
            *pushed.entry(f).or_default() +=
                rate * (now - prev).ps() as f64 / crate::units::PS_PER_SEC;
        }
        prev = now;
        // Finish every flow due now: it has pushed exactly its bytes.
        let due: Vec<FlowId> = finish
            .iter()
            .filter(|e| e.1.1 == now)
            .map(|e| *e.0)
            .collect();
        for f in due {
            finish.remove(&f);
            let size = bytes_of.remove(&f).unwrap();
            let got = pushed.remove(&f).unwrap_or(0.0);
            prop_assert!(
                (got - size).abs() <= 1e-9 * size + 1e-6,
                "flow pushed {got} of {size} bytes"
            );
            delivered += size;
            fab.remove(now, f);
        }
        while pending.first().is_some_and(|e| e.0 == now) {
            let (_, i) = pending.remove(0);
            let links: Vec<LinkId> = paths[i].iter().map(|&x| l(x)).collect();
            let mut lone = None;
            let f = fab.add(now, &links, sizes[i], |f, g, t| lone = Some((f, g, t)));
            if let Some((f, g, t)) = lone {
                finish.insert(f, (g, t));
            }
            bytes_of.insert(f, sizes[i]);
        }
        fab.resolve(now, |f, g, t| {
            finish.insert(f, (g, t));
        });
        for (f, r) in fab.active_rates().into_iter().zip(fab.oracle_rates()) {
            prop_assert_eq!(f.0, r.0);
            prop_assert!(
                (f.1 - r.1).abs() <= 1e-9 * r.1.max(1.0),
                "{} vs oracle {}",
                f.1,
                r.1
            );
        }
    }
    prop_assert!((delivered - sent).abs() < 1e-9 * sent);
    prop_assert_eq!(fab.active_flows(), 0);
    Ok(())
}

#[test]
fn routes_longer_than_the_inline_hops_spill_and_stay_consistent() {
    // 12-link flow A (spills past 8 inline hops) shares link 5 with C.
    let mut fab = Fabric::new([10.0; 12]);
    let c = fab.add(SimTime::ZERO, &[l(5)], 1e3, |_, _, _| {});
    let long: Vec<LinkId> = (0..12).map(l).collect();
    let a = fab.add(SimTime::ZERO, &long, 1e3, |_, _, _| {});
    fab.resolve(SimTime::ZERO, |_, _, _| {});
    assert_eq!((fab.rate(a), fab.rate(c)), (5.0, 5.0));
    assert_eq!(fab.links_of(a).count(), 12);
    // Removing C moves A's entry on link 5: A's spilled hop must follow.
    fab.remove(SimTime::ZERO, c);
    fab.resolve(SimTime::ZERO, |_, _, _| {});
    assert_eq!(fab.rate(a), 10.0);
    fab.remove(SimTime::ZERO, a);
    // Every link is idle again: a new flow on link 5 is alone.
    let mut lone = false;
    let d = fab.add(SimTime::ZERO, &[l(5)], 1e3, |_, _, _| lone = true);
    assert!(lone);
    assert_eq!(fab.rate(d), 10.0);
    assert_eq!(fab.active_flows(), 1);
}

#[test]
fn a_flow_cancelled_before_its_first_rate_leaves_no_trace() {
    // A is alone on link 0; B joins it and is cancelled before any
    // re-solve; C takes B's freed slot (same id) on links 0 and 2 before
    // the re-solve.
    let mut fab = Fabric::new([10.0, 10.0, 4.0]);
    let a = fab.add(SimTime::ZERO, &[l(0)], 1e3, |_, _, _| {});
    let b = fab.add(SimTime::ZERO, &[l(0), l(1)], 1e3, |_, _, _| {});
    fab.remove(SimTime::ZERO, b);
    let c = fab.add(SimTime::ZERO, &[l(0), l(2)], 1e3, |_, _, _| {});
    assert_eq!(c, b, "the cancelled flow's slot is reused");
    let mut rated = Vec::new();
    fab.resolve(SimTime::ZERO, |f, _, _| rated.push(f));
    // C is rated once, at link 2's capacity; A gets the rest of link 0.
    rated.sort();
    assert_eq!(rated, vec![a, c]);
    assert_eq!((fab.rate(a), fab.rate(c)), (6.0, 4.0));
    assert_eq!(fab.active_rates(), fab.oracle_rates());
    // With both gone, link 0 is idle: a new flow there is alone.
    fab.remove(SimTime::ZERO, a);
    fab.remove(SimTime::ZERO, c);
    fab.resolve(SimTime::ZERO, |_, _, _| {});
    let mut lone = false;
    fab.add(SimTime::ZERO, &[l(0)], 1e3, |_, _, _| lone = true);
    assert!(lone);
}

//! The double binary tree against an independent derivation, at sizes where
//! a wrong tree would show: n ∈ {3, 5, 8, 12}, with and without chunking.
//!
//! The reference builds the two trees itself (tree 0 puts rank i at heap
//! position i, tree 1 at n−1−i), lists every chunk send with the sends it
//! waits for, and times them with its own fluid simulator: each send pays
//! α, then shares bandwidth max-min fairly — re-solved from scratch at every
//! event, in f64 seconds — with every other send on its source's uplink and
//! its destination's downlink. Both trees run at once, so a rank that is a
//! child in both sends two halves through one NIC: the contention is part of
//! what is checked. Nothing here calls the collective's state machine.

use super::{Algorithm, CollectiveOp, CollectiveSpec};
use crate::bench::measure::measure;
use crate::ids::GpuId;
use crate::topology::test_support::kccb_star;

const GBPS: f64 = 100.0;
/// Star with NIC latency 1 us, switch 0.5 us, overhead 2 us: α = 4.5 us.
const ALPHA_S: f64 = 4.5e-6;

/// One send: `bytes` from rank `src` to rank `dst` once every send in
/// `after` has been delivered.
struct Message {
    src: usize,
    dst: usize,
    bytes: f64,
    after: Vec<usize>,
}

/// The sends of a double-tree all-reduce of `total` bytes in `chunks`
/// pieces per half, derived from the trees' shape alone.
fn double_tree_sends(n: usize, total: u64, chunks: usize) -> Vec<Message> {
    let mut sends = Vec::new();
    for tree in 0..2 {
        let rank = |p: usize| if tree == 0 { p } else { n - 1 - p };
        let half = total / 2 + u64::from(tree < (total % 2) as usize);
        let piece =
            |c: usize| (half / chunks as u64 + u64::from((c as u64) < half % chunks as u64)) as f64;
        let children = |p: usize| (2 * p + 1..=2 * p + 2).filter(move |&q| q < n);
        // up[p][c]: position p sends chunk c to its parent (p ≥ 1). It waits
        // for its own previous chunk (one send per edge at a time) and for
        // chunk c from each of its children.
        let mut up = vec![vec![usize::MAX; chunks]; n];
        // Children have larger positions: fill from the leaves up.
        for p in (1..n).rev() {
            for c in 0..chunks {
                let mut after: Vec<usize> = children(p).map(|q| up[q][c]).collect();
                if c > 0 {
                    after.push(up[p][c - 1]);
                }
                up[p][c] = sends.len();
                sends.push(Message {
                    src: rank(p),
                    dst: rank((p - 1) / 2),
                    bytes: piece(c),
                    after,
                });
            }
        }
        // down[p][c]: p's parent sends it chunk c, once the parent holds it
        // (the root once every child reduced chunk c into it) and the edge
        // has carried chunk c−1.
        let mut down = vec![vec![usize::MAX; chunks]; n];
        for p in 1..n {
            let parent = (p - 1) / 2;
            for c in 0..chunks {
                let mut after: Vec<usize> = if parent == 0 {
                    children(0).map(|q| up[q][c]).collect()
                } else {
                    vec![down[parent][c]]
                };
                if c > 0 {
                    after.push(down[p][c - 1]);
                }
                down[p][c] = sends.len();
                sends.push(Message {
                    src: rank(parent),
                    dst: rank(p),
                    bytes: piece(c),
                    after,
                });
            }
        }
    }
    sends
}

/// Max-min fair rates of flows over links of equal `capacity`: progressive
/// filling, from scratch.
fn max_min(flows: &[[usize; 2]], capacity: f64) -> Vec<f64> {
    let mut rate = vec![f64::NAN; flows.len()];
    let mut remaining: std::collections::BTreeMap<usize, f64> =
        flows.iter().flatten().map(|&l| (l, capacity)).collect();
    while rate.iter().any(|r| r.is_nan()) {
        // The tightest link: least capacity left per unfixed flow.
        let (link, share) = remaining
            .iter()
            .filter_map(|(&l, &cap)| {
                let k = flows
                    .iter()
                    .zip(&rate)
                    .filter(|(f, r)| r.is_nan() && f.contains(&l))
                    .count();
                (k > 0).then(|| (l, cap / k as f64))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("an unfixed flow crosses some link");
        for (i, f) in flows.iter().enumerate() {
            if rate[i].is_nan() && f.contains(&link) {
                rate[i] = share;
                for l in f {
                    *remaining.get_mut(l).expect("known link") -= share;
                }
            }
        }
    }
    rate
}

/// When the last send is delivered, in seconds. Link 2r is rank r's uplink,
/// 2r+1 its downlink.
fn fluid_makespan(sends: &[Message], bandwidth: f64) -> f64 {
    let mut done = vec![f64::NAN; sends.len()];
    let mut started = vec![false; sends.len()];
    // (send, time its bandwidth phase starts, bytes left)
    let mut waiting: Vec<(usize, f64)> = Vec::new();
    let mut active: Vec<(usize, f64)> = Vec::new();
    let mut now = 0.0;
    loop {
        for (i, s) in sends.iter().enumerate() {
            if !started[i] && s.after.iter().all(|&a| !done[a].is_nan() && done[a] <= now) {
                started[i] = true;
                waiting.push((i, now + ALPHA_S));
            }
        }
        if waiting.is_empty() && active.is_empty() {
            return done.iter().copied().fold(0.0, f64::max);
        }
        let flows: Vec<[usize; 2]> = active
            .iter()
            .map(|&(i, _)| [2 * sends[i].src, 2 * sends[i].dst + 1])
            .collect();
        let rates = max_min(&flows, bandwidth);
        let finish = active
            .iter()
            .zip(&rates)
            .map(|(&(_, left), &r)| now + left / r)
            .fold(f64::INFINITY, f64::min);
        let arrive = waiting
            .iter()
            .map(|&(_, t)| t)
            .fold(f64::INFINITY, f64::min);
        let next = finish.min(arrive);
        for ((i, left), r) in active.iter_mut().zip(&rates) {
            *left -= r * (next - now);
            if *left <= sends[*i].bytes * 1e-12 {
                done[*i] = next;
            }
        }
        active.retain(|&(i, _)| done[i].is_nan());
        now = next;
        let (ready, rest): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|&(_, t)| t <= now);
        waiting = rest;
        active.extend(ready.into_iter().map(|(i, _)| (i, sends[i].bytes)));
    }
}

#[test]
fn double_tree_matches_an_independent_derivation_with_contention() {
    let bandwidth = GBPS * 1e9 / 8.0;
    for n in [3usize, 5, 8, 12] {
        for chunks in [1usize, 4] {
            let bytes = 24_000_000u64;
            let cluster = kccb_star(n);
            let spec = CollectiveSpec {
                name: "tree".into(),
                op: CollectiveOp::AllReduce,
                algorithm: Algorithm::Tree,
                ranks: (0..n as u32).map(GpuId).collect(),
                bytes,
                chunks: chunks as u32,
            };
            let engine = measure(&cluster, &spec).unwrap().time.as_secs_f64();
            let reference = fluid_makespan(&double_tree_sends(n, bytes, chunks), bandwidth);
            // The engine rounds each rate change up to a picosecond.
            assert!(
                (engine - reference).abs() < 1e-9,
                "n = {n}, chunks = {chunks}: engine {engine} s, reference {reference} s"
            );
        }
    }
}

#[test]
fn the_reference_sees_shared_nics() {
    // At n = 3 tree 0 is 0 ← {1, 2} and tree 1 is 2 ← {1, 0}. In the up
    // phase rank 1 sends both halves through its uplink and ranks 0 and 2
    // each receive two halves on their downlinks: every flow runs at B/2.
    // The down phase mirrors it. So each phase takes α + S/B, where a
    // contention-blind count would say α + (S/2)/B.
    let s = 24_000_000.0;
    let bandwidth = GBPS * 1e9 / 8.0;
    let reference = fluid_makespan(&double_tree_sends(3, s as u64, 1), bandwidth);
    let want = 2.0 * (ALPHA_S + s / bandwidth);
    assert!((reference - want).abs() < 1e-12, "{reference} vs {want}");
}

//! Max-min fair rates by progressive filling ("water-filling").
//!
//! Repeatedly take the link whose remaining capacity divided by its number
//! of unfixed flows (its fair share) is smallest, fix all those flows at that
//! share, and subtract it from every other link they cross. Fixing flows at
//! the minimum share never lowers another link's share, so a min-heap with
//! lazy re-insertion finds each bottleneck in O(log L): the whole solve is
//! O((L + Σ path lengths) · log L) for a component of L links.
//!
//! [`solve_full`] is the plain O(L·F) version over all flows: the oracle
//! that tests compare the incremental solver against.

use super::FlowId;
use crate::ids::LinkId;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Reusable buffers for [`Scratch::solve`], indexed by global ids so a solve
/// allocates nothing once warm.
#[derive(Default)]
pub struct Scratch {
    link_local: Vec<u32>,
    flow_local: Vec<u32>,
    cap_left: Vec<f64>,
    unfixed: Vec<u32>,
    fixed: Vec<bool>,
    heap: BinaryHeap<Share>,
    /// Output: the rate of each flow of the last solve, in input order.
    pub rates: Vec<f64>,
    /// Output: the link (an index into the solve's `links`) at which each
    /// flow was fixed: a saturated link on which no listed flow is faster.
    pub bottleneck: Vec<u32>,
}

/// A link's fair share, ordered so the smallest share (then lowest local
/// index, for determinism) is on top of `BinaryHeap`.
#[derive(PartialEq)]
struct Share(f64, u32);
impl Eq for Share {}
impl Ord for Share {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}
impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Scratch {
    /// Max-min rates of `flows` over `links`, a closed system: every flow
    /// `flows_on` a listed link is listed, and every link of a listed flow
    /// is too. `capacity` is what the listed flows may use of each link.
    pub fn solve<'a, FL, LF>(
        &mut self,
        links: &[LinkId],
        flows: &[FlowId],
        capacity: impl Fn(LinkId) -> f64,
        flows_on: impl Fn(LinkId) -> FL,
        links_of: impl Fn(FlowId) -> LF,
    ) where
        FL: Iterator<Item = FlowId> + 'a,
        LF: Iterator<Item = LinkId> + 'a,
    {
        for (i, &l) in links.iter().enumerate() {
            if self.link_local.len() <= l.index() {
                self.link_local.resize(l.index() + 1, 0);
            }
            self.link_local[l.index()] = i as u32;
        }
        for (j, &f) in flows.iter().enumerate() {
            if self.flow_local.len() <= f.0 as usize {
                self.flow_local.resize(f.0 as usize + 1, 0);
            }
            self.flow_local[f.0 as usize] = j as u32;
        }
        self.cap_left.clear();
        self.unfixed.clear();
        self.heap.clear();
        for (i, &l) in links.iter().enumerate() {
            let n = flows_on(l).count() as u32;
            let cap = capacity(l);
            self.cap_left.push(cap);
            self.unfixed.push(n);
            if n > 0 {
                self.heap.push(Share(cap / n as f64, i as u32));
            }
        }
        self.fixed.clear();
        self.fixed.resize(flows.len(), false);
        self.rates.clear();
        self.rates.resize(flows.len(), 0.0);
        self.bottleneck.clear();
        self.bottleneck.resize(flows.len(), 0);
        while let Some(Share(share, i)) = self.heap.pop() {
            let i = i as usize;
            let n = self.unfixed[i];
            if n == 0 {
                continue;
            }
            let current = self.cap_left[i].max(0.0) / n as f64;
            if current > share {
                // Stale entry: this link's share grew since it was pushed.
                self.heap.push(Share(current, i as u32));
                continue;
            }
            for f in flows_on(links[i]) {
                let j = self.flow_local[f.0 as usize] as usize;
                if self.fixed[j] {
                    continue;
                }
                self.fixed[j] = true;
                self.rates[j] = current;
                self.bottleneck[j] = i as u32;
                for l2 in links_of(f) {
                    let k = self.link_local[l2.index()] as usize;
                    self.cap_left[k] -= current;
                    self.unfixed[k] -= 1;
                }
            }
        }
    }
}

/// Max-min fair rates for flows with the given link paths: the slow,
/// obviously-correct oracle (each round scans every link).
pub fn solve_full(capacity: &[f64], paths: &[Vec<LinkId>]) -> Vec<f64> {
    let mut cap_left = capacity.to_vec();
    let mut rates = vec![f64::NAN; paths.len()];
    let mut unfixed: Vec<usize> = (0..paths.len()).collect();
    while !unfixed.is_empty() {
        let mut count = vec![0usize; capacity.len()];
        for &f in &unfixed {
            for l in &paths[f] {
                count[l.index()] += 1;
            }
        }
        let (bottleneck, share) = (0..capacity.len())
            .filter(|&l| count[l] > 0)
            .map(|l| (l, cap_left[l].max(0.0) / count[l] as f64))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("unfixed flows cross some link");
        let (now_fixed, still): (Vec<usize>, Vec<usize>) = unfixed
            .into_iter()
            .partition(|&f| paths[f].iter().any(|l| l.index() == bottleneck));
        for f in now_fixed {
            rates[f] = share;
            for l in &paths[f] {
                cap_left[l.index()] -= share;
            }
        }
        unfixed = still;
    }
    rates
}

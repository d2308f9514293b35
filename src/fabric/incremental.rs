//! Exact incremental max-min: re-solve only the flows a change can affect.
//!
//! Component-wise re-solving (SimGrid's lazy update) is not enough on a
//! shared spine: there the component is every active flow, so each flow
//! completion re-solved all of them and a ring all-reduce cost O(n³).
//! Instead we keep, per flow, its *bottleneck*: a saturated link of its path
//! on which no flow is faster. A flow with a valid bottleneck is max-min
//! fair, and an allocation in which every flow has one is *the* max-min
//! allocation (Bertsekas & Gallager, Data Networks §6.5.2). So after a change:
//!
//! 1. The *affected* links start as the links whose flow set changed. Every
//!    flow whose bottleneck is an affected link (and every new flow) is
//!    listed for re-solving, and so, in turn, is every flow bottlenecked on
//!    any link a listed flow crosses (the closure: a kept flow's bottleneck
//!    is then crossed by kept flows only, so its certificate still holds).
//!    Every other flow keeps its rate. Each link keeps the list of flows
//!    bottlenecked on it (and new flows wait on an unrated list), so the
//!    closure reads those lists, never a link's other flows.
//! 2. The listed flows are water-filled over their links, each link
//!    offering its capacity minus the kept flows' rates: a linear scan for
//!    the smallest share in small systems, a lazy heap in large ones, with
//!    the same choices (smallest share, lowest position on ties). A link
//!    that fixes flows is saturated by construction.
//! 3. Check the one certificate the solve could have broken: a listed
//!    flow's new bottleneck needs no faster kept flow on it. Each kept flow
//!    that is faster marks its own bottleneck link affected, and we repeat
//!    from 1 (rare on a contended fat-tree).
//!
//! It ends with every flow certified, so the result is the max-min
//! allocation; at worst the affected set grows to the whole component and
//! this is the component-wise solve. "No faster" allows a relative [`EPS`]
//! of float rounding, far below a picosecond of any transfer; the oracle
//! proptests compare against `maxmin::solve_full`.
//!
//! Listing the closure up front, rather than only the flows on affected
//! links and growing the list after each failed check, re-solves about as
//! many flows but seldom needs a second round, and the check shrinks to
//! the new bottlenecks: 32 % fewer instructions on the contended 512-GPU
//! ring (`examples/contended_ring.rs`, 10.77 G → 7.35 G under callgrind).
//! Reading the closure from the bottleneck lists rather than scanning every
//! flow of every listed link, and boxing the scratch buffers so that a
//! re-solve moves a pointer rather than a dozen vectors, took it from
//! 6.99 G to 6.28 G. (Keeping each link's rate sum exactly in fixed point,
//! to skip the kept flows in the tally too, was measured and dropped: the
//! listed flows are most of the flows on their links, 31 hops against 35
//! flow visits a re-solve, and the conversions cost more, 8.7 G.)
//!
//! It does not approximate: no flow is left at a rate the certificate
//! rejects.

use super::{Fabric, FlowId, NO_LINK};
use crate::ids::LinkId;
use crate::units::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Relative slack for "no faster": summing k rates rounds by about k·2⁻⁵³,
/// so 1e-12 is rounding for any link with < 10⁴ flows.
const EPS: f64 = 1e-12;

/// Reusable buffers of one re-solve.
#[derive(Default)]
pub(super) struct Scratch {
    /// Links listed in the system being solved (every link of a re-solved flow).
    links: Vec<LinkId>,
    /// Flows being re-solved.
    flows: Vec<FlowId>,
    /// Links to mark affected in the next round.
    grow: Vec<LinkId>,
    /// Per listed link (by position in `links`): what is left of its
    /// residual, and its listed flows not yet fixed.
    cap_left: Vec<f64>,
    unfixed: Vec<u32>,
    /// Per listed link: the fastest kept flow on it (0 if none).
    fastest_kept: Vec<f64>,
    /// (position, share) of every link that fixed flows, in fill order.
    fixed: Vec<(u32, f64)>,
    /// Listed flows the fill has not fixed yet: it stops at zero, without
    /// popping the links left (most of a large system's heap).
    unfixed_flows: usize,
    /// Link shares of a large system's fill, as [`share_key`]s.
    heap: BinaryHeap<Reverse<u128>>,
}

/// Systems with at most this many links are water-filled by a linear scan
/// for the smallest share: a typical re-solve lists about ten flows over a
/// dozen links and fixes them in a few levels, where a heap costs more
/// than it saves. Larger systems use a heap (a cascade at 1,024 GPUs
/// lists about 700 links).
const SMALL: usize = 64;

impl Fabric {
    /// Re-solves the rates of the flows that the changes since the last call
    /// can affect, and reports `(flow, generation, finish time)` for each
    /// flow whose rate changed.
    pub fn resolve(&mut self, now: SimTime, mut on_finish: impl FnMut(FlowId, u32, SimTime)) {
        if self.dirty.is_empty() {
            return;
        }
        self.next_epoch();
        // Boxed, so taking it out moves a pointer, not a dozen vectors.
        let mut s = self.scratch.take().unwrap_or_default();
        s.links.clear();
        s.flows.clear();
        for k in 0..self.unrated.len() {
            self.list(self.unrated[k], &mut s);
        }
        self.unrated.clear();
        std::mem::swap(&mut s.grow, &mut self.dirty);
        // Flows listed before this round's marking (the unrated ones count
        // as new in the first round).
        let (mut closed, mut listed) = (0, 0);
        loop {
            for k in 0..s.grow.len() {
                self.mark_affected(s.grow[k], &mut s);
            }
            s.grow.clear();
            while closed < s.links.len() {
                self.mark_affected(s.links[closed], &mut s);
                closed += 1;
            }
            // A failed check always lists new flows (a kept flow's
            // bottleneck is never affected); the guard only stops a loop.
            if s.flows.len() == listed {
                debug_assert!(listed == 0, "a failed check listed no new flow");
                break;
            }
            self.solve_listed(&mut s);
            self.check(&mut s);
            if s.grow.is_empty() {
                break;
            }
            listed = s.flows.len();
        }
        for k in 0..s.flows.len() {
            let id = s.flows[k];
            let r = self.rated[id.0 as usize];
            if r.next_bottleneck != r.bottleneck {
                self.delist(id);
                self.enlist(id, r.next_bottleneck);
                self.rated[id.0 as usize].bottleneck = r.next_bottleneck;
            }
            self.set_rate(id, now, r.next_rate, &mut on_finish);
        }
        self.scratch = Some(s);
    }

    fn next_epoch(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            for l in &mut self.links {
                l.mark = 0;
                l.in_affected = 0;
            }
            for r in &mut self.rated {
                r.mark = 0;
            }
            self.epoch = 1;
        }
    }

    /// Marks `l` affected: lists every flow bottlenecked on it.
    fn mark_affected(&mut self, l: LinkId, s: &mut Scratch) {
        let link = &mut self.links[l.index()];
        if link.in_affected == self.epoch {
            return;
        }
        link.in_affected = self.epoch;
        for k in 0..self.links[l.index()].bottlenecked.len() {
            let id = self.links[l.index()].bottlenecked[k];
            if self.rated[id.0 as usize].mark != self.epoch {
                self.list(id, s);
            }
        }
    }

    /// Lists flow `id` for re-solving, and its links not yet listed.
    fn list(&mut self, id: FlowId, s: &mut Scratch) {
        let epoch = self.epoch;
        self.rated[id.0 as usize].mark = epoch;
        s.flows.push(id);
        for &(l, _) in self.flows[id.0 as usize].hops.as_slice() {
            let link = &mut self.links[l.index()];
            if link.mark != epoch {
                link.mark = epoch;
                s.links.push(l);
            }
        }
    }

    /// Water-fills the listed flows over what the kept flows leave.
    fn solve_listed(&mut self, s: &mut Scratch) {
        let epoch = self.epoch;
        s.cap_left.clear();
        s.unfixed.clear();
        s.fastest_kept.clear();
        s.fixed.clear();
        for (i, &l) in s.links.iter().enumerate() {
            let (mut kept, mut listed, mut fastest) = (0.0f64, 0u32, 0.0f64);
            for &(id, _) in &self.links[l.index()].flows {
                let r = &self.rated[id.0 as usize];
                if r.mark == epoch {
                    listed += 1;
                } else {
                    kept += r.rate;
                    // Not `f64::max`: rates are never NaN.
                    if r.rate > fastest {
                        fastest = r.rate;
                    }
                }
            }
            let link = &mut self.links[l.index()];
            link.local = i as u32;
            s.cap_left.push((link.capacity - kept).max(0.0));
            s.unfixed.push(listed);
            s.fastest_kept.push(fastest);
        }
        for &id in &s.flows {
            self.rated[id.0 as usize].next_bottleneck = NO_LINK;
        }
        s.unfixed_flows = s.flows.len();
        if s.links.len() <= SMALL {
            self.fill_small(s);
        } else {
            self.fill_heap(s);
        }
    }

    /// Progressive filling by linear scan: fix every unfixed flow of the
    /// link with the smallest share (lowest position on ties, as the heap
    /// orders them) at that share, until all are fixed.
    fn fill_small(&mut self, s: &mut Scratch) {
        while s.unfixed_flows > 0 {
            let (mut best, mut share) = (usize::MAX, f64::INFINITY);
            for (i, &n) in s.unfixed.iter().enumerate() {
                if n > 0 {
                    let sh = s.cap_left[i].max(0.0) / f64::from(n);
                    if best == usize::MAX || sh < share {
                        (best, share) = (i, sh);
                    }
                }
            }
            if best == usize::MAX {
                return;
            }
            self.fix_at(best, share, s);
        }
    }

    /// Progressive filling with a lazy min-heap of link shares (large
    /// systems): the same choices as [`Self::fill_small`] (smallest share,
    /// lowest position on ties), found in O(log L). Fixing flows at the
    /// smallest share never lowers another link's share, so an entry whose
    /// link's share has grown since is stale: re-pushed, never acted on.
    fn fill_heap(&mut self, s: &mut Scratch) {
        s.heap.clear();
        for (i, &n) in s.unfixed.iter().enumerate() {
            if n > 0 {
                s.heap
                    .push(Reverse(share_key(s.cap_left[i] / f64::from(n), i)));
            }
        }
        while s.unfixed_flows > 0
            && let Some(Reverse(key)) = s.heap.pop()
        {
            let (share, i) = share_of(key);
            let n = s.unfixed[i];
            if n == 0 {
                continue;
            }
            let current = s.cap_left[i].max(0.0) / f64::from(n);
            if current > share {
                s.heap.push(Reverse(share_key(current, i)));
                continue;
            }
            self.fix_at(i, current, s);
        }
    }

    /// Fixes every listed, still unfixed flow of the link at position `i`
    /// at `share`, taking it from each link of the flow.
    fn fix_at(&mut self, i: usize, share: f64, s: &mut Scratch) {
        let (l, epoch) = (s.links[i], self.epoch);
        s.fixed.push((i as u32, share));
        for k in 0..self.links[l.index()].flows.len() {
            let id = self.links[l.index()].flows[k].0.0 as usize;
            let r = &mut self.rated[id];
            if r.mark != epoch || r.next_bottleneck != NO_LINK {
                continue;
            }
            r.next_rate = share;
            r.next_bottleneck = l.0;
            s.unfixed_flows -= 1;
            for &(l2, _) in self.flows[id].hops.as_slice() {
                let j = self.links[l2.index()].local as usize;
                s.cap_left[j] -= share;
                s.unfixed[j] -= 1;
            }
        }
    }

    /// Checks the new bottlenecks: every flow fixed on a link got that
    /// link's share, so a kept flow faster than it must come down, and its
    /// bottleneck is affected (queued into `s.grow`). Kept flows'
    /// bottlenecks are crossed by no listed flow (the closure), so their
    /// certificates hold: checked in debug builds.
    fn check(&self, s: &mut Scratch) {
        let epoch = self.epoch;
        for &(i, share) in &s.fixed {
            let bar = share * (1.0 + EPS);
            if s.fastest_kept[i as usize] > bar {
                for &(id, _) in &self.links[s.links[i as usize].index()].flows {
                    let k = &self.rated[id.0 as usize];
                    if k.mark != epoch && k.rate > bar {
                        s.grow.push(LinkId(k.bottleneck));
                    }
                }
            }
        }
        debug_assert!(
            self.closure_holds(s),
            "a kept flow is bottlenecked on a listed link"
        );
    }

    /// Whether no kept flow is bottlenecked on a listed link, and each
    /// listed link's `bottlenecked` list is exactly its flows with that
    /// bottleneck, each knowing its place (debug check).
    fn closure_holds(&self, s: &Scratch) -> bool {
        s.links.iter().all(|l| {
            let link = &self.links[l.index()];
            let on_it = link
                .flows
                .iter()
                .filter(|&&(id, _)| self.rated[id.0 as usize].bottleneck == l.0);
            on_it.count() == link.bottlenecked.len()
                && link.bottlenecked.iter().enumerate().all(|(k, &id)| {
                    let r = &self.rated[id.0 as usize];
                    r.bottleneck == l.0 && r.bpos == k as u32 && r.mark == self.epoch
                })
        })
    }
}

/// A heap key ordering (share, position) as `f64::total_cmp` then the
/// position do: the share's bits mapped to an unsigned order above the
/// position. Integer compares keep the heap cheap.
fn share_key(share: f64, i: usize) -> u128 {
    let b = share.to_bits();
    let ordered = if b >> 63 == 1 { !b } else { b | 1 << 63 };
    u128::from(ordered) << 32 | i as u128
}

/// The (share, position) a [`share_key`] was made from.
fn share_of(key: u128) -> (f64, usize) {
    let ordered = (key >> 32) as u64;
    let b = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    (f64::from_bits(b), (key & u128::from(u32::MAX)) as usize)
}

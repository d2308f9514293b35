//! The fabric: flows over directed links sharing bandwidth max-min fairly.
//!
//! A flow here is only the bandwidth phase of a transfer (the engine pays
//! overhead and latency before adding it). At every instant the rates of the
//! active flows are the max-min fair allocation over every directed link
//! they cross (DESIGN §3). Rates are re-solved once per timestamp, and only
//! over the flows a change can affect, not whole components
//! (`incremental`: on a shared spine the component is every flow). A flow
//! alone on idle links takes a fast path with no solve at all: its rate is
//! known when it is added. `maxmin::solve_full` is the slow oracle.
//!
//! Completion: a flow's finish time is `now + ceil(remaining / rate)` in
//! picoseconds, recomputed whenever its rate changes; the engine learns new
//! finish times through the callback of [`Fabric::resolve`] and moves the
//! flow's one completion entry. Rounding up to the next picosecond is the one epsilon:
//! a flow whose event fires is finished, whatever float dust remains.
//!
//! It knows nothing of tasks, GPUs or routes' meaning: just links and flows.

mod incremental;
pub mod maxmin;

use crate::ids::LinkId;
use crate::units::{PS_PER_SEC, SimTime};

/// Handle of an active flow (a reusable slot).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub u32);

/// Counters per directed link, for reports (`links.csv`, `--links`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LinkStats {
    /// Bytes of all flows that crossed the link (counted when they start).
    pub bytes: f64,
    /// Time with at least one flow on the link.
    pub busy: SimTime,
    /// Largest number of flows on the link at once.
    pub peak_flows: u32,
    busy_since: SimTime,
}

/// A flow's (link, index of the flow in that link's list) pairs: inline
/// for routes of up to 8 links (every generated fabric), on the heap beyond.
/// Flows come and go tens of millions of times; this keeps them off the
/// allocator and in one cache line pair.
#[derive(Debug, Clone, Default)]
struct Hops {
    inline: [(LinkId, u32); 8],
    len: u8,
    spill: Vec<(LinkId, u32)>,
}

impl Hops {
    fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
    }
    fn push(&mut self, hop: (LinkId, u32)) {
        let n = self.len as usize;
        if self.spill.is_empty() && n < self.inline.len() {
            self.inline[n] = hop;
            self.len += 1;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline[..n]);
            }
            self.spill.push(hop);
        }
    }
    fn as_slice(&self) -> &[(LinkId, u32)] {
        if self.spill.is_empty() {
            &self.inline[..self.len as usize]
        } else {
            &self.spill
        }
    }
    fn as_mut_slice(&mut self) -> &mut [(LinkId, u32)] {
        if self.spill.is_empty() {
            &mut self.inline[..self.len as usize]
        } else {
            &mut self.spill
        }
    }
}

/// A flow's cold state: touched when it starts, ends or changes rate.
#[derive(Debug, Clone, Default)]
struct Flow {
    hops: Hops,
    remaining: f64,
    last_update: SimTime,
    /// Bumped whenever the finish time changes; stale events carry old ones.
    generation: u32,
    active: bool,
}

/// A flow's hot state, which the re-solve reads for every flow of every
/// link it lists: kept apart from [`Flow`] so that those reads stay in a
/// few cache lines (the solve is most of a contended run's time).
#[derive(Debug, Clone, Copy)]
struct Rated {
    /// Bytes per second.
    rate: f64,
    /// The rate of the re-solve under way.
    next_rate: f64,
    /// Index of a saturated link of this flow on which no flow is faster
    /// (`NO_LINK` until first rated); what [`incremental`] keys on.
    bottleneck: u32,
    /// The bottleneck of the re-solve under way.
    next_bottleneck: u32,
    /// Epoch stamp: listed for re-solving in the re-solve of that epoch.
    mark: u32,
    /// Its position in its bottleneck link's `bottlenecked` list.
    bpos: u32,
}

impl Default for Rated {
    fn default() -> Self {
        Rated {
            rate: 0.0,
            next_rate: 0.0,
            bottleneck: NO_LINK,
            next_bottleneck: NO_LINK,
            mark: 0,
            bpos: 0,
        }
    }
}

/// "No bottleneck yet" (a flow added but not yet rated).
const NO_LINK: u32 = u32::MAX;

/// Everything about one directed link, kept together for locality: the
/// hot path touches all of it for every flow.
#[derive(Debug, Clone, Default)]
struct LinkState {
    /// Bytes per second.
    capacity: f64,
    /// (flow, hop index within that flow).
    flows: Vec<(FlowId, u32)>,
    /// The flows whose bottleneck this link is: what a re-solve lists
    /// when the link is affected, without scanning all of `flows`.
    bottlenecked: Vec<FlowId>,
    stats: LinkStats,
    /// Epoch stamps of the last re-solve that listed it in its system, and
    /// that re-solved every flow whose bottleneck it is.
    mark: u32,
    in_affected: u32,
    /// Its position in the system being re-solved.
    local: u32,
}

/// Flows on links, their fair rates, and link counters.
pub struct Fabric {
    links: Vec<LinkState>,
    flows: Vec<Flow>,
    rated: Vec<Rated>,
    free: Vec<FlowId>,
    /// Links whose flow set changed since the last resolve.
    dirty: Vec<LinkId>,
    /// Flows added since the last resolve that await their first rate.
    unrated: Vec<FlowId>,
    /// Epoch of the current re-solve (stamps need no clearing between solves).
    epoch: u32,
    scratch: Option<Box<incremental::Scratch>>,
    active: usize,
}

impl Fabric {
    /// A fabric over links with the given capacities in bytes per second.
    pub fn new(capacities: impl IntoIterator<Item = f64>) -> Self {
        Fabric {
            links: capacities
                .into_iter()
                .map(|capacity| LinkState {
                    capacity,
                    ..LinkState::default()
                })
                .collect(),
            flows: Vec::new(),
            rated: Vec::new(),
            free: Vec::new(),
            dirty: Vec::new(),
            unrated: Vec::new(),
            epoch: 0,
            scratch: None,
            active: 0,
        }
    }

    /// Flows currently sharing the fabric.
    pub fn active_flows(&self) -> usize {
        self.active
    }

    /// Current rate of flow `f`, bytes/s.
    pub fn rate(&self, f: FlowId) -> f64 {
        self.rated[f.0 as usize].rate
    }

    /// The links flow `f` crosses.
    pub fn links_of(&self, f: FlowId) -> impl Iterator<Item = LinkId> + '_ {
        self.flows[f.0 as usize].hops.as_slice().iter().map(|h| h.0)
    }

    /// Starts the bandwidth phase of a flow of `bytes` over `links` at `now`.
    /// A flow alone on idle links gets its rate (the bottleneck capacity)
    /// and finish time at once, reported through `on_finish`; otherwise its
    /// component is re-solved by the next [`Fabric::resolve`]. `links` must
    /// be non-empty and `bytes` > 0 (the engine completes the others itself).
    pub fn add(
        &mut self,
        now: SimTime,
        links: &[LinkId],
        bytes: f64,
        mut on_finish: impl FnMut(FlowId, u32, SimTime),
    ) -> FlowId {
        debug_assert!(!links.is_empty() && bytes > 0.0);
        let id = self.free.pop().unwrap_or_else(|| {
            self.flows.push(Flow::default());
            self.rated.push(Rated::default());
            FlowId((self.flows.len() - 1) as u32)
        });
        let mut alone = true;
        let mut bottleneck = f64::INFINITY;
        let mut bottleneck_link = NO_LINK;
        let hops = &mut self.flows[id.0 as usize].hops;
        hops.clear();
        for (h, &l) in links.iter().enumerate() {
            let link = &mut self.links[l.index()];
            let n = link.flows.len() as u32;
            if n == 0 {
                link.stats.busy_since = now;
            } else {
                alone = false;
            }
            if link.capacity < bottleneck {
                bottleneck = link.capacity;
                bottleneck_link = l.0;
            }
            link.stats.bytes += bytes;
            link.stats.peak_flows = link.stats.peak_flows.max(n + 1);
            hops.push((l, n));
            link.flows.push((id, h as u32));
        }
        let f = &mut self.flows[id.0 as usize];
        f.remaining = bytes;
        f.last_update = now;
        f.active = true;
        self.active += 1;
        // Alone, its rate is its bottleneck's capacity; otherwise it is
        // unrated until the next re-solve.
        let r = &mut self.rated[id.0 as usize];
        (r.rate, r.bottleneck) = if alone {
            (bottleneck, bottleneck_link)
        } else {
            (0.0, NO_LINK)
        };
        if alone {
            self.enlist(id, bottleneck_link);
            let f = &mut self.flows[id.0 as usize];
            // A fresh flow has moved nothing yet: bytes / rate is all it needs.
            f.generation = f.generation.wrapping_add(1);
            on_finish(
                id,
                f.generation,
                now + ceil_ps(bytes / bottleneck * PS_PER_SEC),
            );
        } else {
            self.unrated.push(id);
            self.dirty.extend_from_slice(links);
        }
        id
    }

    /// Puts flow `id` on the `bottlenecked` list of link `b`.
    fn enlist(&mut self, id: FlowId, b: u32) {
        let list = &mut self.links[b as usize].bottlenecked;
        self.rated[id.0 as usize].bpos = list.len() as u32;
        list.push(id);
    }

    /// Takes flow `id` off its bottleneck link's list, if it has one.
    fn delist(&mut self, id: FlowId) {
        let r = self.rated[id.0 as usize];
        if r.bottleneck == NO_LINK {
            return;
        }
        let list = &mut self.links[r.bottleneck as usize].bottlenecked;
        list.swap_remove(r.bpos as usize);
        if let Some(&moved) = list.get(r.bpos as usize) {
            self.rated[moved.0 as usize].bpos = r.bpos;
        }
    }

    /// Ends a flow (finished, or cancelled) at `now`.
    pub fn remove(&mut self, now: SimTime, id: FlowId) {
        if self.rated[id.0 as usize].bottleneck == NO_LINK {
            // Added and removed before any re-solve (a cancelled flow).
            self.unrated.retain(|&u| u != id);
        }
        self.delist(id);
        for k in 0..self.flows[id.0 as usize].hops.as_slice().len() {
            let (l, pos) = self.flows[id.0 as usize].hops.as_slice()[k];
            let link = &mut self.links[l.index()];
            let last = link.flows.len() - 1;
            if (pos as usize) < last {
                // Move the last entry into the hole and tell its flow.
                let (moved, moved_hop) = link.flows[last];
                link.flows[pos as usize] = (moved, moved_hop);
                self.flows[moved.0 as usize].hops.as_mut_slice()[moved_hop as usize].1 = pos;
            }
            link.flows.truncate(last);
            if link.flows.is_empty() {
                link.stats.busy += now.saturating_sub(link.stats.busy_since);
            } else {
                self.dirty.push(l);
            }
        }
        let f = &mut self.flows[id.0 as usize];
        f.active = false;
        f.remaining = 0.0;
        f.generation = f.generation.wrapping_add(1);
        self.active -= 1;
        self.free.push(id);
    }

    /// Advances a flow's progress to `now` at its old rate, then applies the
    /// new rate; reports a new finish time if the rate changed.
    fn set_rate(
        &mut self,
        id: FlowId,
        now: SimTime,
        rate: f64,
        on_finish: &mut impl FnMut(FlowId, u32, SimTime),
    ) {
        let f = &mut self.flows[id.0 as usize];
        let old = &mut self.rated[id.0 as usize].rate;
        let dt = (now - f.last_update).ps() as f64 / PS_PER_SEC;
        f.remaining = (f.remaining - *old * dt).max(0.0);
        f.last_update = now;
        if rate == *old {
            return;
        }
        *old = rate;
        f.generation = f.generation.wrapping_add(1);
        let finish = if rate > 0.0 {
            now + ceil_ps(f.remaining / rate * PS_PER_SEC)
        } else {
            SimTime::MAX
        };
        on_finish(id, f.generation, finish);
    }

    /// Per-link counters. Busy time of links still in use is counted up to `now`.
    pub fn link_stats(&self, now: SimTime) -> Vec<LinkStats> {
        self.links
            .iter()
            .map(|l| {
                let mut s = l.stats.clone();
                if !l.flows.is_empty() {
                    s.busy += now.saturating_sub(s.busy_since);
                }
                s
            })
            .collect()
    }

    /// Current rates of all active flows (for tests and the oracle check).
    pub fn active_rates(&self) -> Vec<(FlowId, f64)> {
        self.flows
            .iter()
            .zip(&self.rated)
            .enumerate()
            .filter(|(_, (f, _))| f.active)
            .map(|(i, (_, r))| (FlowId(i as u32), r.rate))
            .collect()
    }

    /// The full, slow re-solve of every active flow (test oracle).
    pub fn oracle_rates(&self) -> Vec<(FlowId, f64)> {
        let active: Vec<FlowId> = self.active_rates().into_iter().map(|e| e.0).collect();
        let paths: Vec<Vec<LinkId>> = active
            .iter()
            .map(|f| {
                self.flows[f.0 as usize]
                    .hops
                    .as_slice()
                    .iter()
                    .map(|h| h.0)
                    .collect()
            })
            .collect();
        let capacity: Vec<f64> = self.links.iter().map(|l| l.capacity).collect();
        let rates = maxmin::solve_full(&capacity, &paths);
        active.into_iter().zip(rates).collect()
    }
}

/// Rounds a non-negative picosecond count up, without a libm call (this
/// is on the hot path of every flow).
fn ceil_ps(ps: f64) -> SimTime {
    if ps >= u64::MAX as f64 {
        return SimTime::MAX;
    }
    let t = ps as u64; // truncates; NaN and negatives give 0
    SimTime(if (t as f64) < ps { t + 1 } else { t })
}

#[cfg(test)]
mod tests;

//! The engine's transfers: route lookup (cached per source, destination
//! and channel), posting a transfer after its overhead and latency, posting
//! the messages a collective's machine emits, and completing a transfer
//! (recording it, finishing its task or feeding its collective). The
//! bandwidth phase itself is the fabric's.

use super::{CachedRoute, Engine, Event, Owner, TransferRecord, Xfer};
use crate::collective::{Machine, Message};
use crate::ids::GpuId;

impl Engine<'_> {
    /// The cached route index for (src, dst, channel).
    pub(super) fn route(&mut self, src: GpuId, dst: GpuId, channel: u32) -> u32 {
        if let Some(&r) = self.route_index.get(&(src, dst, channel)) {
            return r;
        }
        let hash = super::ecmp_hash(src, dst, channel);
        // Self-transfers of folded plans: the channel is the loopback slot.
        let route = match self.graph.loopback(src, channel) {
            Some(pinned) if src == dst => pinned.clone(),
            _ => self.cluster.route(src, dst, hash),
        };
        let id = self.routes.len() as u32;
        self.routes.push(CachedRoute {
            start: self.route_links.len() as u32,
            len: route.links.len() as u32,
            delay: route.overhead + route.latency,
            src,
            dst,
        });
        self.route_links.extend_from_slice(&route.links);
        self.route_index.insert((src, dst, channel), id);
        id
    }

    /// Posts a transfer now: its bandwidth phase starts after overhead,
    /// latency and any perturbation.
    pub(super) fn post(&mut self, owner: Owner, route: u32, bytes: u64) {
        let r = &self.routes[route as usize];
        let delay = if self.quiet_transfers {
            r.delay
        } else {
            r.delay + self.perturb.transfer_delay(r.src, r.dst, bytes)
        };
        if !matches!(owner, Owner::Background) {
            self.in_flight += 1;
        }
        let xfer = Xfer {
            owner,
            route,
            bytes,
            posted: self.now,
        };
        let x = match self.free_xfers.pop() {
            Some(x) => {
                self.xfers[x as usize] = xfer;
                x
            }
            None => {
                self.xfers.push(xfer);
                (self.xfers.len() - 1) as u32
            }
        };
        self.queue
            .push((self.now + delay).ps(), Event::Activate(x).into());
    }

    /// Posts the sends a collective's machine just emitted into `self.sends`.
    pub(super) fn post_sends(&mut self, run: u32) {
        for i in 0..self.sends.len() {
            let s = self.sends[i];
            let conn = s.conn as usize;
            let mut route = self.runs[run as usize].conn_routes[conn];
            if route == u32::MAX {
                route = self.route(s.src, s.dst, s.channel);
                self.runs[run as usize].conn_routes[conn] = route;
            }
            self.post(
                Owner::Collective {
                    run,
                    token: s.token,
                },
                route,
                s.bytes,
            );
        }
        self.sends.clear();
    }

    /// Frees a finished collective's state (no send of it is in flight).
    pub(super) fn release_run(&mut self, run: u32) {
        let slot = &mut self.runs[run as usize];
        slot.machine = Box::new(Released);
        slot.conn_routes = Vec::new();
        self.free_runs.push(run);
    }

    pub(super) fn complete_xfer(&mut self, x: u32) {
        let xf = self.xfers[x as usize];
        self.free_xfers.push(x);
        if !matches!(xf.owner, Owner::Background) {
            self.in_flight -= 1;
        }
        if self.options.record_transfers {
            let r = &self.routes[xf.route as usize];
            self.transfers.push(TransferRecord {
                task: match xf.owner {
                    Owner::Task(t) | Owner::Chain { task: t, .. } => Some(t),
                    Owner::Collective { run, .. } => Some(self.runs[run as usize].task),
                    Owner::Background => None,
                },
                src: r.src,
                dst: r.dst,
                bytes: xf.bytes,
                start: xf.posted,
                end: self.now,
            });
        }
        match xf.owner {
            Owner::Task(t) => self.finish_task(t),
            Owner::Chain { task, left } => self.post(Owner::sends(task, left), xf.route, xf.bytes),
            Owner::Collective { run, token } => {
                let done = self.runs[run as usize]
                    .machine
                    .delivered(token, &mut self.sends);
                self.post_sends(run);
                if done {
                    let task = self.runs[run as usize].task;
                    self.release_run(run);
                    self.finish_task(task);
                }
            }
            Owner::Background => {}
        }
    }
}

/// What a finished collective's slot holds until it is reused (a
/// zero-sized box: no allocation).
struct Released;

impl Machine for Released {
    fn num_connections(&self) -> u32 {
        0
    }
    fn start(&mut self, _: &mut Vec<Message>) {}
    fn delivered(&mut self, _: u64, _: &mut Vec<Message>) -> bool {
        true
    }
    fn is_done(&self) -> bool {
        true
    }
}

//! The engine: executes a [`TaskGraph`] on a [`Cluster`] in simulated time.
//!
//! GPUs are serial compute streams (the graph already chains each GPU's ops
//! in order); transfers pay their sender's endpoint overhead and the path
//! latency, then share bandwidth in the [`Fabric`]; collectives run their
//! algorithm's state machine, which emits transfers as earlier ones land.
//! Events live in a radix-heap queue ([`queue::EventQueue`]), FIFO among
//! equal times; flow completions, whose times move with every rate change,
//! in the `clock::FlowClock`, one live entry per flow. At each timestamp
//! the completions run first, then the queued events, and the fabric is
//! re-solved once, after all of them. Noise enters only through the [`Perturb`]
//! hooks, so the engine itself is deterministic and has no globals: any
//! number of simulations may run at once.
//!
//! It knows nothing of pipelines, rings or trials.

mod clock;
mod error;
mod event;
mod perturb;
pub mod queue;
mod transfers;

use clock::FlowClock;
pub use error::{EngineError, MAX_BACKGROUND_FLOWS};
use event::{Event, FLOW_DOING, Packed};
pub use perturb::{BackgroundFlow, Perturb, Quiet};

use crate::collective::{self, Machine, Message};
use crate::fabric::{Fabric, FlowId, LinkStats};
use crate::ids::{GpuId, TaskId};
use crate::plan::{TaskGraph, TaskKind};
use crate::topology::Cluster;
use crate::units::SimTime;
use queue::EventQueue;
use std::collections::{HashMap, VecDeque};

/// The ECMP flow hash of the transfers from `src` to `dst` on `channel`
/// (what [`Cluster::route`] is asked with): search bounds read the routes
/// the engine will take.
pub fn ecmp_hash(src: GpuId, dst: GpuId, channel: u32) -> u64 {
    (u64::from(src.0) << 40) ^ (u64::from(dst.0) << 16) ^ u64::from(channel)
}

/// What to keep beyond task times.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimOptions {
    /// Keep one record per transfer (for timelines); off for large runs.
    pub record_transfers: bool,
}

/// One transfer, as it happened.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TransferRecord {
    /// The transfer task or collective it belongs to (None: background).
    pub task: Option<TaskId>,
    /// Sending GPU.
    pub src: GpuId,
    /// Receiving GPU.
    pub dst: GpuId,
    /// Payload, bytes.
    pub bytes: u64,
    /// When it was posted, and when its last byte arrived.
    pub start: SimTime,
    /// When its last byte arrived.
    pub end: SimTime,
}

/// The result of one simulation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// When the last task finished.
    pub makespan: SimTime,
    /// Per task (by task id), when it started.
    pub task_start: Vec<SimTime>,
    /// Per task (by task id), when it finished.
    pub task_end: Vec<SimTime>,
    /// Every transfer, in completion order (empty unless transfers are recorded).
    pub transfers: Vec<TransferRecord>,
    /// Per link (by link id), its counters.
    pub links: Vec<LinkStats>,
    /// Events processed (for speed reports).
    pub events: u64,
}

/// Runs `graph` on `cluster` to completion.
pub fn simulate(
    cluster: &Cluster,
    graph: &TaskGraph,
    options: SimOptions,
    perturb: &mut dyn Perturb,
) -> Result<Outcome, EngineError> {
    Engine::new(cluster, graph, options, perturb)?.run()
}

#[derive(Copy, Clone, Debug)]
enum Owner {
    Task(TaskId),
    /// A send of a task that makes `left` more after it.
    Chain {
        task: TaskId,
        left: u32,
    },
    Collective {
        run: u32,
        token: u64,
    },
    Background,
}

impl Owner {
    /// The owner of the first of `sends` (≥ 1) sends of `task`: the task
    /// itself for its last send, a chain before that.
    fn sends(task: TaskId, sends: u32) -> Owner {
        match sends {
            0 | 1 => Owner::Task(task),
            _ => Owner::Chain {
                task,
                left: sends - 1,
            },
        }
    }
}

#[derive(Copy, Clone, Debug)]
struct Xfer {
    owner: Owner,
    route: u32,
    bytes: u64,
    posted: SimTime,
}

struct Run {
    task: TaskId,
    machine: Box<dyn Machine>,
    /// Route index per connection (u32::MAX until first used).
    conn_routes: Vec<u32>,
}

/// A cached route: links in `route_links[start..start + len]`.
struct CachedRoute {
    start: u32,
    len: u32,
    delay: SimTime,
    src: GpuId,
    dst: GpuId,
}

struct Engine<'a> {
    cluster: &'a Cluster,
    graph: &'a TaskGraph,
    options: SimOptions,
    perturb: &'a mut dyn Perturb,
    queue: EventQueue<Packed>,
    /// One live completion time per active flow.
    clock: FlowClock,
    fabric: Fabric,
    now: SimTime,
    // Task state.
    succ_offsets: Vec<u32>,
    succ: Vec<TaskId>,
    preds_left: Vec<u32>,
    ready: VecDeque<TaskId>,
    remaining: usize,
    task_start: Vec<SimTime>,
    task_end: Vec<SimTime>,
    // Transfers.
    xfers: Vec<Xfer>,
    free_xfers: Vec<u32>,
    flow_xfer: Vec<u32>,
    routes: Vec<CachedRoute>,
    route_links: Vec<crate::ids::LinkId>,
    route_index: HashMap<(GpuId, GpuId, u32), u32>,
    runs: Vec<Run>,
    /// Slots of finished collectives, reused: live memory follows the
    /// collectives in flight, not all those of the plan.
    free_runs: Vec<u32>,
    sends: Vec<Message>,
    transfers: Vec<TransferRecord>,
    pending_background: Option<BackgroundFlow>,
    background_flows: u64,
    /// Foreground work in flight (compute ops and task transfers): when it
    /// is zero and nothing is ready, only background traffic is left and
    /// the remaining tasks can never run.
    in_flight: u64,
    events: u64,
    quiet_transfers: bool,
}

impl<'a> Engine<'a> {
    fn new(
        cluster: &'a Cluster,
        graph: &'a TaskGraph,
        options: SimOptions,
        perturb: &'a mut dyn Perturb,
    ) -> Result<Self, EngineError> {
        let n_gpus = cluster.num_gpus();
        for (i, t) in graph.tasks().iter().enumerate() {
            let bad = match t.kind {
                TaskKind::Compute { gpu, .. } => (gpu.index() >= n_gpus).then_some(gpu),
                TaskKind::Transfer { src, dst, .. } => {
                    [src, dst].into_iter().find(|g| g.index() >= n_gpus)
                }
                _ => None,
            };
            if let Some(g) = bad {
                return Err(EngineError::NoSuchGpu(TaskId::from_index(i), g, n_gpus));
            }
        }
        for spec in graph.collectives() {
            collective::validate(spec, cluster).map_err(|source| EngineError::Collective {
                name: spec.name.clone(),
                source,
            })?;
        }
        let (succ_offsets, succ, preds_left) = graph.adjacency();
        let quiet_transfers = perturb.transfers_are_quiet();
        let n = graph.len();
        Ok(Engine {
            cluster,
            graph,
            options,
            perturb,
            queue: EventQueue::new(),
            clock: FlowClock::new(),
            fabric: Fabric::new(cluster.links().iter().map(|l| l.bandwidth.bytes_per_sec())),
            now: SimTime::ZERO,
            succ_offsets,
            succ,
            preds_left,
            ready: VecDeque::new(),
            remaining: n,
            task_start: vec![SimTime::ZERO; n],
            task_end: vec![SimTime::ZERO; n],
            xfers: Vec::new(),
            free_xfers: Vec::new(),
            flow_xfer: Vec::new(),
            routes: Vec::new(),
            route_links: Vec::new(),
            route_index: HashMap::new(),
            runs: Vec::new(),
            free_runs: Vec::new(),
            sends: Vec::new(),
            transfers: Vec::new(),
            pending_background: None,
            background_flows: 0,
            in_flight: 0,
            events: 0,
            quiet_transfers,
        })
    }

    fn run(mut self) -> Result<Outcome, EngineError> {
        for i in 0..self.graph.len() {
            if self.preds_left[i] == 0 {
                self.ready.push_back(TaskId::from_index(i));
            }
        }
        if !self.ready.is_empty() {
            self.start_ready();
        }
        self.pending_background = self.perturb.next_background(SimTime::ZERO);
        if let Some(b) = self.pending_background {
            self.queue.push(b.at.ps(), Event::Background.into());
        }
        while self.remaining > 0 {
            let t = match (self.clock.peek_time(), self.queue.peek_time()) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => break,
            };
            if t == u64::MAX {
                return Err(EngineError::TimeOverflow(self.doing_at_end_of_time()));
            }
            self.now = SimTime(t);
            // Flow completions first, then the queue's events, until
            // nothing is left at this time; then one fabric re-solve.
            loop {
                if let Some(f) = self.clock.pop_at(t) {
                    self.flow_done(f);
                } else if let Some(ev) = self.queue.pop_at(t) {
                    self.handle(ev.into())?;
                } else {
                    break;
                }
                self.events += 1;
                if !self.ready.is_empty() {
                    self.start_ready();
                }
            }
            let clock = &mut self.clock;
            self.fabric
                .resolve(self.now, |f, _, finish| clock.schedule(f, finish.ps()));
            if self.in_flight == 0 && self.ready.is_empty() {
                break; // stuck: only background traffic could still happen
            }
        }
        if self.remaining > 0 {
            return Err(EngineError::Stuck(self.remaining));
        }
        let makespan = self.task_end.iter().copied().max().unwrap_or(SimTime::ZERO);
        Ok(Outcome {
            makespan,
            task_start: self.task_start,
            task_end: self.task_end,
            transfers: self.transfers,
            links: self.fabric.link_stats(makespan),
            events: self.events,
        })
    }

    fn handle(&mut self, ev: Event) -> Result<(), EngineError> {
        match ev {
            Event::TaskDone(task) => {
                self.in_flight -= 1;
                self.finish_task(task);
            }
            Event::Activate(x) => {
                let xf = self.xfers[x as usize];
                let r = &self.routes[xf.route as usize];
                if xf.bytes == 0 || r.len == 0 {
                    self.complete_xfer(x);
                } else {
                    let links = &self.route_links[r.start as usize..(r.start + r.len) as usize];
                    let clock = &mut self.clock;
                    let f = self
                        .fabric
                        .add(self.now, links, xf.bytes as f64, |f, _, finish| {
                            clock.schedule(f, finish.ps())
                        });
                    if self.flow_xfer.len() <= f.0 as usize {
                        self.flow_xfer.resize(f.0 as usize + 1, 0);
                    }
                    self.flow_xfer[f.0 as usize] = x;
                }
            }
            Event::Background => {
                if let Some(b) = self.pending_background.take() {
                    self.background_flows += 1;
                    if self.background_flows > MAX_BACKGROUND_FLOWS {
                        return Err(EngineError::BackgroundBudget(MAX_BACKGROUND_FLOWS));
                    }
                    let route = self.route(b.src, b.dst, u32::MAX);
                    self.post(Owner::Background, route, b.bytes);
                    self.pending_background = self.perturb.next_background(self.now);
                    if let Some(next) = self.pending_background {
                        self.queue
                            .push(next.at.max(self.now).ps(), Event::Background.into());
                    }
                }
            }
        }
        Ok(())
    }

    /// A flow's last byte arrived.
    fn flow_done(&mut self, f: FlowId) {
        let x = self.flow_xfer[f.0 as usize];
        self.fabric.remove(self.now, f);
        self.complete_xfer(x);
    }

    /// What is due at the end of time (a finish past it is an overflow, or
    /// a flow with no rate).
    fn doing_at_end_of_time(&mut self) -> &'static str {
        if self.clock.peek_time() == Some(u64::MAX) {
            FLOW_DOING
        } else {
            self.queue
                .pop()
                .map_or(FLOW_DOING, |(_, ev)| Event::from(ev).doing())
        }
    }

    fn start_ready(&mut self) {
        while let Some(task) = self.ready.pop_front() {
            self.start_task(task);
        }
    }

    fn start_task(&mut self, task: TaskId) {
        self.task_start[task.index()] = self.now;
        match self.graph.task(task).kind {
            TaskKind::Compute { gpu, duration } => {
                let d = self.perturb.compute_time(gpu, duration);
                self.in_flight += 1;
                self.queue
                    .push((self.now + d).ps(), Event::TaskDone(task).into());
            }
            TaskKind::Transfer { src, dst, bytes } => {
                // A folded ring's chain: the channel is its loopback slot.
                let (slot, sends) = if src == dst {
                    self.graph.loopback_of(task)
                } else {
                    (0, 1)
                };
                let route = self.route(src, dst, slot);
                self.post(Owner::sends(task, sends), route, bytes);
            }
            TaskKind::Collective(c) => {
                let spec = &self.graph.collectives()[c as usize];
                let machine =
                    collective::build(spec, self.cluster).expect("validated in Engine::new");
                let conns = machine.num_connections() as usize;
                let slot = Run {
                    task,
                    machine,
                    conn_routes: vec![u32::MAX; conns],
                };
                let run = match self.free_runs.pop() {
                    Some(run) => {
                        self.runs[run as usize] = slot;
                        run
                    }
                    None => {
                        self.runs.push(slot);
                        (self.runs.len() - 1) as u32
                    }
                };
                self.runs[run as usize].machine.start(&mut self.sends);
                self.post_sends(run);
                if self.runs[run as usize].machine.is_done() {
                    self.release_run(run);
                    self.finish_task(task);
                }
            }
            TaskKind::Barrier => self.finish_task(task),
        }
    }

    fn finish_task(&mut self, task: TaskId) {
        self.task_end[task.index()] = self.now;
        self.remaining -= 1;
        let (a, b) = (
            self.succ_offsets[task.index()] as usize,
            self.succ_offsets[task.index() + 1] as usize,
        );
        for i in a..b {
            let s = self.succ[i];
            self.preds_left[s.index()] -= 1;
            if self.preds_left[s.index()] == 0 {
                self.ready.push_back(s);
            }
        }
    }
}

#[cfg(test)]
mod tests;

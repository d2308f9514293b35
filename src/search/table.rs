//! A search's verdicts and outputs: the Pareto front, why each candidate
//! wins or loses, the CSV (one row per candidate, in candidate order) and
//! the ranked terminal table (the front, cheapest $/M tokens first).
//!
//! CSV columns: `candidate, server, gpu, gpus, fabric, oversubscription,
//! nic, tensor, pipeline, data, microbatch_size, microbatches, schedule,
//! zero, recompute, status, pareto, bound_step_s, step_s, tokens_per_s, capex_usd,
//! capex_gpus_usd, capex_nics_usd, capex_switches_usd, capex_optics_usd,
//! power_kw, usd_per_hour, usd_per_mtok, bubble, exposed_comm_s,
//! peak_memory_gib, why, target_step_s, budget_usd`. Empty cells: not
//! reached (or, for the last two, no such target); the target columns
//! repeat on every row so that the CSV alone can draw the target.

use super::{Outcome, Row, Search, Status};
use crate::units::format_secs;
use std::collections::BTreeMap;
use std::io::Write;

const GIB: f64 = (1u64 << 30) as f64;

/// A point in (step time, capex, $/M tokens).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The candidate's index.
    pub index: u64,
    /// Mean step time, seconds.
    pub step_s: f64,
    /// Cluster capex, dollars.
    pub capex: f64,
    /// Dollars per million tokens (0 for workloads without tokens).
    pub usd_per_mtok: f64,
}

impl Point {
    /// The point of simulated row `r` with outcome `o`.
    pub fn of(s: &Search, r: &Row, o: &Outcome) -> Point {
        let h = &s.hardware[r.candidate.hw];
        Point {
            index: r.candidate.index,
            step_s: o.step_s,
            capex: h.cost.capex,
            usd_per_mtok: o.usd_per_mtok.unwrap_or(0.0),
        }
    }
    /// At least as good as `other` in every objective.
    pub fn covers(&self, other: &Point) -> bool {
        self.step_s <= other.step_s
            && self.capex <= other.capex
            && self.usd_per_mtok <= other.usd_per_mtok
    }
    /// Covers `other` and is strictly better in one objective.
    fn dominates(&self, other: &Point) -> bool {
        self.covers(other)
            && (self.step_s < other.step_s
                || self.capex < other.capex
                || self.usd_per_mtok < other.usd_per_mtok)
    }
}

/// The Pareto front of a search's simulated points that meet the target,
/// and its best step, capex and $/M tokens: what a row's `pareto` and
/// `why` need (see [`Front::judge`]).
#[derive(Debug, Default)]
pub struct Front {
    /// The front, in candidate order.
    points: Vec<Point>,
    /// Fastest step, lowest capex, lowest $/M tokens on the front.
    best: (f64, f64, f64),
}

impl Front {
    /// The front of the simulated points `pts` that meet the target, in
    /// candidate order: off the front are points dominated, or equal to
    /// a point listed earlier.
    pub fn of(pts: &[Point]) -> Front {
        let points: Vec<Point> = pts
            .iter()
            .filter(|p| {
                !pts.iter()
                    .any(|q| q.dominates(p) || (q.index < p.index && q.covers(p) && p.covers(q)))
            })
            .copied()
            .collect();
        let best = |f: fn(&Point) -> f64| points.iter().map(f).fold(f64::INFINITY, f64::min);
        let best = (
            best(|p| p.step_s),
            best(|p| p.capex),
            best(|p| p.usd_per_mtok),
        );
        Front { points, best }
    }

    /// Marks `r` on the front or not and writes its `why`.
    pub fn judge(&self, s: &Search, r: &mut Row) {
        r.pareto = r.status == Status::Simulated
            && self
                .points
                .binary_search_by_key(&r.candidate.index, |p| p.index)
                .is_ok();
        r.why = why(s, r, &self.points, self.best);
    }
}

/// Whether a simulated point meets the step target.
pub fn meets(s: &Search, o: &Outcome) -> bool {
    s.target.step_s.is_none_or(|t| o.step_s <= t)
}

fn why(s: &Search, r: &Row, front: &[Point], best: (f64, f64, f64)) -> String {
    let h = &s.hardware[r.candidate.hw];
    let gib = |b: u64| b as f64 / GIB;
    match (&r.status, &r.outcome) {
        (Status::Invalid(m), _) => m.clone(),
        (Status::OverBudget, _) => format!(
            "capex ${:.1}M is over the ${:.1}M budget",
            h.cost.capex / 1e6,
            s.target.budget.unwrap_or(0.0) / 1e6
        ),
        (Status::MemoryBound(b), _) => format!(
            "memory: at least {:.1} GiB of weights, gradients and optimizer state per GPU; the GPU has {:.1} GiB",
            gib(*b),
            gib(h.memory_bytes)
        ),
        (Status::TooSlowBound, _) => format!(
            "too slow: compute and communication at full speed take at least {} per step, the target is {}",
            format_secs(r.bound_s.unwrap_or(0.0)),
            format_secs(s.target.step_s.unwrap_or(0.0))
        ),
        (Status::DominatedBound(k), _) => format!(
            "candidate {k} is as fast as this one's best case ({}) and no dearer",
            format_secs(r.bound_s.unwrap_or(0.0))
        ),
        (Status::DoesNotFit(b), _) => format!(
            "memory: needs {:.1} GiB per GPU with activations; the GPU has {:.1} GiB",
            gib(*b),
            gib(h.memory_bytes)
        ),
        (Status::Simulated, Some(o)) => {
            let me = Point::of(s, r, o);
            let head = if s.target.step_s.is_some_and(|t| o.step_s > t) {
                format!(
                    "misses the target by {}",
                    format_secs(o.step_s - s.target.step_s.unwrap_or(0.0))
                )
            } else if r.pareto {
                let mut tags = Vec::new();
                if me.step_s <= best.0 {
                    tags.push("fastest");
                }
                if me.capex <= best.1 {
                    tags.push("lowest capex");
                }
                if me.usd_per_mtok <= best.2 {
                    tags.push("lowest $/M tokens");
                }
                if tags.is_empty() {
                    "on the front: faster than cheaper designs, cheaper than faster ones".into()
                } else {
                    tags.join(", ")
                }
            } else {
                match front.iter().find(|p| p.dominates(&me)) {
                    Some(p) => format!("dominated by candidate {}", p.index),
                    None => {
                        let same = front.iter().find(|p| p.covers(&me)).map_or(0, |p| p.index);
                        format!("ties candidate {same}")
                    }
                }
            };
            format!(
                "{head}; {}",
                losses(o, r.candidate.pipeline, h.memory_bytes)
            )
        }
        (Status::Simulated, None) => "not simulated".into(),
    }
}

/// Where the step goes: bubble, exposed communication, memory headroom.
fn losses(o: &Outcome, pipeline: u32, capacity: u64) -> String {
    let mut parts = Vec::new();
    // Without a pipeline the idle share is the exposed communication.
    if let Some(b) = o.bubble.filter(|_| pipeline > 1) {
        parts.push(format!("bubble {:.0} %", 100.0 * b));
    }
    if o.step_s > 0.0 {
        parts.push(format!(
            "exposed communication {:.0} %",
            100.0 * o.exposed_s / o.step_s
        ));
    }
    if capacity > 0 {
        parts.push(format!(
            "memory {:.0} % full",
            100.0 * o.peak_bytes as f64 / capacity as f64
        ));
    }
    parts.join(", ")
}

/// The CSV's header, one name per column.
pub const COLUMNS: [&str; 34] = [
    "candidate",
    "server",
    "gpu",
    "gpus",
    "fabric",
    "oversubscription",
    "nic",
    "tensor",
    "pipeline",
    "data",
    "microbatch_size",
    "microbatches",
    "schedule",
    "zero",
    "recompute",
    "status",
    "pareto",
    "bound_step_s",
    "step_s",
    "tokens_per_s",
    "capex_usd",
    "capex_gpus_usd",
    "capex_nics_usd",
    "capex_switches_usd",
    "capex_optics_usd",
    "power_kw",
    "usd_per_hour",
    "usd_per_mtok",
    "bubble",
    "exposed_comm_s",
    "peak_memory_gib",
    "why",
    "target_step_s",
    "budget_usd",
];

/// Row `r`'s CSV record, one cell per [`COLUMNS`] entry.
pub fn record(s: &Search, r: &Row) -> [String; 34] {
    let num = |x: Option<f64>| x.map_or_else(String::new, |v| format!("{v}"));
    let c = &r.candidate;
    let h = &s.hardware[c.hw];
    let o = r.outcome.as_ref();
    let e = &h.cost;
    [
        c.index.to_string(),
        h.server.clone(),
        h.gpu_name.clone(),
        h.gpus.to_string(),
        h.fabric.kind.clone(),
        h.fabric.oversubscription.to_string(),
        h.nic.clone(),
        c.tensor.to_string(),
        c.pipeline.to_string(),
        c.data.to_string(),
        c.microbatch_size.to_string(),
        c.microbatches.to_string(),
        c.schedule.clone(),
        c.zero.to_string(),
        c.recompute.clone(),
        r.status.word().to_string(),
        r.pareto.to_string(),
        num(r.bound_s),
        num(o.map(|o| o.step_s)),
        num(o.and_then(|o| o.tokens_per_s)),
        num(Some(e.capex)),
        num(Some(e.gpus)),
        num(Some(e.nics)),
        num(Some(e.switches)),
        num(Some(e.optics)),
        num(Some(e.watts / 1000.0)),
        num(o.map(|o| o.usd_per_hour)),
        num(o.and_then(|o| o.usd_per_mtok)),
        num(o.and_then(|o| o.bubble)),
        num(o.map(|o| o.exposed_s)),
        num(o.map(|o| o.peak_bytes as f64 / GIB)),
        r.why.clone(),
        num(s.target.step_s),
        num(s.target.budget),
    ]
}

/// What the terminal report needs of a finished search: the candidates
/// per status word and the rows on the front.
#[derive(Debug, Default)]
pub struct Tally {
    counts: BTreeMap<&'static str, u64>,
    /// The front's rows, in candidate order.
    pub front: Vec<Row>,
}

impl Tally {
    /// Counts `r` (and keeps it if it is on the front).
    pub fn add(&mut self, r: &Row) {
        *self.counts.entry(r.status.word()).or_default() += 1;
        if r.pareto {
            self.front.push(r.clone());
        }
    }

    /// Candidates counted.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Candidates per status word, in rule order.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        [
            "invalid",
            "over-budget",
            "memory-bound",
            "too-slow-bound",
            "dominated-bound",
            "does-not-fit",
            "simulated",
        ]
        .into_iter()
        .map(|w| (w, self.counts.get(w).copied().unwrap_or(0)))
        .collect()
    }
}

/// The terminal report: what was asked, the pruning counts, the front.
pub fn print(s: &Search, tally: &Tally, mut out: impl Write) -> std::io::Result<()> {
    writeln!(out, "search {} — {}", s.name, s.description)?;
    if let Some(t) = s.target.step_s {
        let tokens = s
            .tokens_per_sample
            .map(|k| k as f64 * f64::from(s.global_batch));
        write!(out, "target: a step of at most {}", format_secs(t))?;
        if let Some(tok) = tokens {
            write!(
                out,
                " ({:.0} tokens/s with {tok:.0} tokens per step)",
                tok / t
            )?;
        }
        writeln!(out)?;
    }
    if let Some(b) = s.target.budget {
        writeln!(out, "budget: capex at most ${:.1}M", b / 1e6)?;
    }
    let counts: Vec<String> = tally
        .counts()
        .iter()
        .map(|(w, n)| format!("{n} {w}"))
        .collect();
    writeln!(out, "{} candidates: {}", tally.total(), counts.join(", "))?;
    let mut front: Vec<&Row> = tally.front.iter().collect();
    front.sort_by(|a, b| {
        let k = |r: &Row| {
            r.outcome
                .as_ref()
                .and_then(|o| o.usd_per_mtok)
                .unwrap_or(f64::INFINITY)
        };
        k(a).total_cmp(&k(b))
            .then(a.candidate.index.cmp(&b.candidate.index))
    });
    if front.is_empty() {
        writeln!(
            out,
            "\nno simulated design meets the target (see the CSV's `why` column)"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "\nPareto front (step time, capex, $/M tokens), cheapest per token first:"
    )?;
    writeln!(
        out,
        "{:>4} {:>6} {:<10} {:>5} {:<13} {:>7} {:>3} {:>3} {:>4} {:>3} {:>4} {:<5} {:>4} {:<9} {:>10} {:>9} {:>9} {:>8}  why",
        "rank",
        "cand",
        "server",
        "gpus",
        "fabric",
        "nic",
        "t",
        "p",
        "d",
        "mbs",
        "m",
        "sched",
        "zero",
        "recompute",
        "step",
        "tokens/s",
        "capex $M",
        "$/Mtok"
    )?;
    for (k, r) in front.iter().enumerate() {
        let c = &r.candidate;
        let h = &s.hardware[c.hw];
        let Some(o) = &r.outcome else { continue };
        writeln!(
            out,
            "{:>4} {:>6} {:<10} {:>5} {:<13} {:>7} {:>3} {:>3} {:>4} {:>3} {:>4} {:<5} {:>4} {:<9} {:>10} {:>9.0} {:>9.1} {:>8.4}  {}",
            k + 1,
            c.index,
            h.server,
            h.gpus,
            format!("{} {}:1", h.fabric.kind, h.fabric.oversubscription),
            h.nic,
            c.tensor,
            c.pipeline,
            c.data,
            c.microbatch_size,
            c.microbatches,
            c.schedule,
            c.zero,
            c.recompute,
            format_secs(o.step_s),
            o.tokens_per_s.unwrap_or(0.0),
            h.cost.capex / 1e6,
            o.usd_per_mtok.unwrap_or(0.0),
            r.why
        )?;
    }
    Ok(())
}

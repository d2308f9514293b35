//! Chrome trace event format (`{"traceEvents": [...]}`), which Perfetto and
//! chrome://tracing open: "X" complete events with `ts`/`dur` in
//! microseconds. Compute ops: pid = the GPU's host, tid = the GPU, names
//! like `F mb2 s1` (s = virtual stage). Collectives and transfers get their
//! own processes (pid = hosts and hosts + 1), one thread per lane so that
//! overlapping intervals never share a track.

use super::{Shown, lanes, spans, us};
use crate::engine::Outcome;
use crate::ids::GpuId;
use crate::plan::{Phase, Tag, TaskGraph, TaskKind};
use crate::topology::Cluster;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{self, Write};

fn name(tag: Tag) -> String {
    match tag.phase {
        Phase::Forward
        | Phase::Backward
        | Phase::BackwardInput
        | Phase::BackwardWeight
        | Phase::Activation
        | Phase::Gradient => {
            format!("{} mb{} s{}", tag.phase.letter(), tag.microbatch, tag.stage)
        }
        p => format!("{p:?}"),
    }
}

fn meta(pid: u64, tid: Option<u64>, key: &str, value: String) -> Value {
    let mut e = json!({"ph": "M", "pid": pid, "name": key, "args": {"name": value}});
    if let Some(tid) = tid {
        e["tid"] = json!(tid);
    }
    e
}

/// Writes the Chrome trace (`chrome://tracing`, Perfetto) of one trial:
/// compute per shown GPU, collectives and transfers touching them.
pub fn write_chrome(
    w: &mut dyn Write,
    cluster: &Cluster,
    graph: &TaskGraph,
    outcome: &Outcome,
    shown: &[Shown],
    kinds: &super::Kinds,
) -> io::Result<()> {
    let gpus: Vec<GpuId> = shown.iter().map(|s| s.gpu).collect();
    let host = |g: GpuId| -> u64 {
        if g.index() < cluster.num_gpus() {
            u64::from(cluster.gpu(g).host)
        } else {
            0
        }
    };
    let collectives_pid = u64::from(cluster.hosts);
    let transfers_pid = collectives_pid + 1;
    let mut events = Vec::new();
    let hosts: BTreeSet<u64> = gpus.iter().map(|&g| host(g)).collect();
    for &h in &hosts {
        events.push(meta(h, None, "process_name", format!("host {h}")));
    }
    for &g in &gpus {
        events.push(meta(
            host(g),
            Some(u64::from(g.0)),
            "thread_name",
            format!("gpu {g}"),
        ));
    }
    let sp = spans(graph, outcome, shown, kinds);
    compute_events(&mut events, &sp.compute, shown, &host);
    // Collectives touching a shown GPU, each once.
    let mut coll: Vec<_> = sp.collective.values().flatten().copied().collect();
    coll.sort_by_key(|s| (s.start, s.end, s.task));
    coll.dedup_by_key(|s| s.task);
    if !coll.is_empty() {
        events.push(meta(
            collectives_pid,
            None,
            "process_name",
            "collectives".into(),
        ));
    }
    let lane = lanes(&coll.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>());
    for (s, l) in coll.iter().zip(lane) {
        let reported = kinds.get(&s.task);
        let mut args = json!({
            "task": s.task.0,
            "kind": reported.map_or("", |r| r.kind),
        });
        match graph.collective_of(s.task) {
            Some(c) => {
                args["bytes"] = json!(c.bytes);
                args["ranks"] = json!(c.ranks.len());
            }
            // A folded plan's chain of ring sends (see `Reported`): it
            // stands for the collective of every rank it was folded from.
            None => {
                args["bytes"] = json!(reported.map_or(0, |r| r.bytes));
                args["folded"] = json!(true);
            }
        }
        let name = match (graph.collective_of(s.task), reported) {
            (Some(c), _) => c.name.clone(),
            (None, Some(r)) => r.name.clone(),
            (None, None) => "collective".to_string(),
        };
        events.push(json!({
            "name": name,
            "cat": "collective", "ph": "X", "ts": us(s.start), "dur": us(s.end - s.start),
            "pid": collectives_pid, "tid": l,
            "args": args,
        }));
    }
    transfer_events(&mut events, graph, outcome, &gpus, transfers_pid);
    let doc = json!({"traceEvents": events, "displayTimeUnit": "ns"});
    serde_json::to_writer(&mut *w, &doc)?;
    writeln!(w)
}

/// Each shown GPU's ops, on its host's process; a folded copy's are its
/// representative's (which it provably runs at the same times), marked
/// `args.folded` with `args.representative`.
fn compute_events(
    events: &mut Vec<Value>,
    compute: &std::collections::BTreeMap<GpuId, Vec<super::Span>>,
    shown: &[Shown],
    host: &dyn Fn(GpuId) -> u64,
) {
    let copies: std::collections::BTreeMap<GpuId, GpuId> = shown
        .iter()
        .filter(|s| s.is_copy())
        .map(|s| (s.gpu, s.image))
        .collect();
    for (&g, list) in compute {
        for s in list {
            let mut args =
                json!({"task": s.task.0, "microbatch": s.tag.microbatch, "stage": s.tag.stage});
            if let Some(image) = copies.get(&g) {
                args["folded"] = json!(true);
                args["representative"] = json!(image.0);
            }
            events.push(json!({
                "name": name(s.tag), "cat": format!("{:?}", s.tag.phase), "ph": "X",
                "ts": us(s.start), "dur": us(s.end - s.start),
                "pid": host(g), "tid": g.0,
                "args": args,
            }));
        }
    }
}

/// The recorded transfers from or to a shown GPU, as events on lanes of
/// the `transfers` process (after its name, if there are any).
fn transfer_events(
    events: &mut Vec<Value>,
    graph: &TaskGraph,
    outcome: &Outcome,
    gpus: &[GpuId],
    transfers_pid: u64,
) {
    let shown: BTreeSet<GpuId> = gpus.iter().copied().collect();
    let mut xfers: Vec<_> = outcome
        .transfers
        .iter()
        .filter(|t| t.end > t.start && (shown.contains(&t.src) || shown.contains(&t.dst)))
        .collect();
    xfers.sort_by_key(|t| (t.start, t.end, t.src, t.dst));
    if !xfers.is_empty() {
        events.push(meta(
            transfers_pid,
            None,
            "process_name",
            "transfers".into(),
        ));
    }
    let lane = lanes(&xfers.iter().map(|t| (t.start, t.end)).collect::<Vec<_>>());
    for (t, l) in xfers.iter().zip(lane) {
        let label = match t.task.filter(|id| id.index() < graph.len()) {
            Some(id) => match graph.task(id).kind {
                TaskKind::Collective(_) => graph
                    .collective_of(id)
                    .map_or_else(|| "collective".into(), |c| c.name.clone()),
                _ => name(graph.task(id).tag),
            },
            None => "background".into(),
        };
        events.push(json!({
            "name": format!("{label} {}->{}", t.src, t.dst),
            "cat": "transfer", "ph": "X", "ts": us(t.start), "dur": us(t.end - t.start),
            "pid": transfers_pid, "tid": l,
            "args": {"src": t.src.0, "dst": t.dst.0, "bytes": t.bytes},
        }));
    }
}

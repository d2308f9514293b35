//! Measuring one collective the way nccl-tests does: run it alone on the
//! cluster and report time, algorithm bandwidth S/t and bus bandwidth
//! algbw × factor (GB = 1e9 bytes).

use crate::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use crate::engine::{self, EngineError, Quiet, SimOptions};
use crate::fabric::LinkStats;
use crate::plan::{Phase, Tag, TaskGraph};
use crate::topology::Cluster;
use crate::units::SimTime;

/// One collective, measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measurement {
    pub op: CollectiveOp,
    pub algorithm: Algorithm,
    pub ranks: usize,
    pub bytes: u64,
    pub chunks: u32,
    #[serde(skip)]
    pub time: SimTime,
    pub time_s: f64,
    #[serde(rename = "algbw_GBps")]
    pub algbw_gbps: f64,
    #[serde(rename = "busbw_GBps")]
    pub busbw_gbps: f64,
    #[serde(skip)]
    pub links: Vec<LinkStats>,
    #[serde(skip)]
    pub events: u64,
}

/// Runs `spec` alone on `cluster`, with no noise.
pub fn measure(cluster: &Cluster, spec: &CollectiveSpec) -> Result<Measurement, EngineError> {
    let mut graph = TaskGraph::new();
    graph.collective(spec.clone(), Tag::new(Phase::Collective), &[]);
    let out = engine::simulate(cluster, &graph, SimOptions::default(), &mut Quiet)?;
    let secs = out.makespan.as_secs_f64();
    let algbw = if secs > 0.0 {
        spec.bytes as f64 / secs / 1e9
    } else {
        0.0
    };
    Ok(Measurement {
        op: spec.op,
        algorithm: spec.algorithm,
        ranks: spec.ranks.len(),
        bytes: spec.bytes,
        chunks: spec.chunks,
        time: out.makespan,
        time_s: secs,
        algbw_gbps: algbw,
        busbw_gbps: algbw * spec.op.busbw_factor(spec.ranks.len()),
        links: out.links,
        events: out.events,
    })
}

/// The sizes of an nccl-tests style sweep: min, min·f, … up to max.
pub fn size_sweep(min: u64, max: u64, factor: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let mut s = min.max(1);
    while s <= max {
        v.push(s);
        match s.checked_mul(factor.max(2)) {
            Some(next) => s = next,
            None => break,
        }
    }
    v
}

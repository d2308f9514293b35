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
    /// The collective operation.
    pub op: CollectiveOp,
    /// The algorithm that ran it.
    pub algorithm: Algorithm,
    /// How many GPUs took part.
    pub ranks: usize,
    /// Buffer size per rank (nccl-tests convention).
    pub bytes: u64,
    /// Pipelined pieces (nccl algorithms: channels per NIC).
    pub chunks: u32,
    /// Simulated time from start to the last delivery.
    #[serde(skip)]
    pub time: SimTime,
    /// `time` in seconds.
    pub time_s: f64,
    /// nccl-tests' algorithm bandwidth: bytes ÷ time, in GB/s.
    #[serde(rename = "algbw_GBps")]
    pub algbw_gbps: f64,
    /// nccl-tests' bus bandwidth: algbw × the op's bus factor (all-reduce
    /// 2(n−1)/n), in GB/s.
    #[serde(rename = "busbw_GBps")]
    pub busbw_gbps: f64,
    /// Per-link traffic, for `--links`.
    #[serde(skip)]
    pub links: Vec<LinkStats>,
    /// Engine events processed.
    #[serde(skip)]
    pub events: u64,
}

/// Runs `spec` alone on `cluster`, with no noise. A ring that provably
/// folds onto its first rank (`training::fold::fold_alone`) runs as that
/// rank's chain of sends, and every link takes the statistics of the link
/// that stands for it: the same time and link statistics, fewer events.
pub fn measure(cluster: &Cluster, spec: &CollectiveSpec) -> Result<Measurement, EngineError> {
    measure_with(cluster, spec, true)
}

/// [`measure`], folding the collective onto one rank only if `fold` (and
/// provably exact).
pub fn measure_with(
    cluster: &Cluster,
    spec: &CollectiveSpec,
    fold: bool,
) -> Result<Measurement, EngineError> {
    let mut graph = TaskGraph::new();
    let tag = Tag::new(Phase::Collective);
    // An invalid spec is not folded: the engine reports it.
    let folded = crate::collective::validate(spec, cluster)
        .ok()
        .filter(|()| fold)
        .and_then(|()| crate::training::fold::fold_alone(spec, cluster).ok());
    match &folded {
        Some(f) => {
            let gpu = f.ring.order[0];
            graph.pin_loopback(gpu, 0, f.loopback.clone());
            let sends = (f.ring.send_bytes, f.ring.steps);
            graph.transfer_via(gpu, 0, sends, tag, &[]);
        }
        None => {
            graph.collective(spec.clone(), tag, &[]);
        }
    }
    let mut out = engine::simulate(cluster, &graph, SimOptions::default(), &mut Quiet)?;
    if let Some(f) = &folded {
        let links = out.links.clone();
        for &(l, image) in &f.link_images {
            out.links[l.index()] = links[image.index()].clone();
        }
    }
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

//! The sweep CSV: one row per point, in grid order.
//!
//! Columns: `point` (index in the full grid), `param_<path>` (one per axis
//! path, in axis order), `status` (`ok`, `does-not-fit`, `invalid`),
//! `reason` (why a point is invalid), `gpus`, then the metrics — empty
//! where they do not apply (not simulated, no model, no prices):
//!
//! | column | meaning |
//! |---|---|
//! | `iteration_mean_s`, `iteration_p50_s`, `iteration_p99_s` | iteration time over the point's trials |
//! | `samples_per_s`, `tokens_per_s` | throughput of all replicas at the mean |
//! | `tflops_per_gpu`, `mfu`, `hfu` | achieved model TFLOP/s per GPU and its share of peak; HFU counts recompute |
//! | `bubble_fraction` | 1 − Σ busy / (GPUs × makespan), trial 0 |
//! | `exposed_comm_s` | trial 0: the most exposed GPU's idle time while its communication is in flight |
//! | `peak_memory_gib`, `peak_memory_stage`, `gpu_memory_gib`, `fits` | the memory estimate (GiB = 2^30 bytes) |
//! | `capex_usd`, `cost_per_hour_usd`, `cost_per_step_usd`, `cost_per_mtok_usd` | when the topology has prices |
//!
//! Numbers are Rust's shortest round-trip form, so equal runs give equal
//! bytes.

use super::{Row, Status, Sweep};
use std::io::Write;
use std::path::Path;

const METRICS: &[&str] = &[
    "status",
    "reason",
    "gpus",
    "iteration_mean_s",
    "iteration_p50_s",
    "iteration_p99_s",
    "samples_per_s",
    "tokens_per_s",
    "tflops_per_gpu",
    "mfu",
    "hfu",
    "bubble_fraction",
    "exposed_comm_s",
    "peak_memory_gib",
    "peak_memory_stage",
    "gpu_memory_gib",
    "fits",
    "capex_usd",
    "cost_per_hour_usd",
    "cost_per_step_usd",
    "cost_per_mtok_usd",
];

/// The header row.
pub fn header(sweep: &Sweep) -> Vec<String> {
    let mut h = vec!["point".to_string()];
    for a in &sweep.axes {
        h.extend(a.paths.iter().map(|p| format!("param_{p}")));
    }
    h.extend(METRICS.iter().map(|m| m.to_string()));
    h
}

fn num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

const GIB: f64 = (1u64 << 30) as f64;

/// One row's cells.
pub fn cells(row: &Row) -> Vec<String> {
    let mut c = vec![row.point.to_string()];
    c.extend(row.params.iter().cloned());
    let (status, reason) = match &row.status {
        Status::Ok => ("ok", String::new()),
        Status::DoesNotFit => (
            "does-not-fit",
            row.memory
                .as_ref()
                .map(|m| m.does_not_fit_message())
                .unwrap_or_default(),
        ),
        Status::Invalid(r) => ("invalid", r.clone()),
    };
    c.push(status.into());
    c.push(reason);
    c.push(row.gpus.map(|g| g.to_string()).unwrap_or_default());
    let s = row.summary.as_ref();
    let cost = s.and_then(|s| s.cost.as_ref());
    let m = row.memory.as_ref();
    c.extend([
        num(s.map(|s| s.iteration.mean_s)),
        num(s.map(|s| s.iteration.p50_s)),
        num(s.map(|s| s.iteration.p99_s)),
        num(s.map(|s| s.samples_per_s)),
        num(s.and_then(|s| s.tokens_per_s)),
        num(s.and_then(|s| s.achieved_tflops_per_gpu)),
        num(s.and_then(|s| s.mfu)),
        num(s.and_then(|s| s.hfu)),
        num(s.and_then(|s| s.bubble_fraction)),
        num(s.map(|s| s.exposed_communication_s)),
        num(m.map(|m| m.peak_bytes as f64 / GIB)),
        m.map(|m| m.peak_stage.to_string()).unwrap_or_default(),
        num(m.map(|m| m.capacity_bytes as f64 / GIB)),
        m.map(|m| m.fits.to_string()).unwrap_or_default(),
        num(cost.map(|c| c.capex)),
        num(cost.map(|c| c.per_hour)),
        num(cost.map(|c| c.per_step)),
        num(cost.and_then(|c| c.per_million_tokens)),
    ]);
    c
}

/// The CSV text of `rows`, with the header if `header`.
pub fn csv(sweep: &Sweep, rows: &[Row], with_header: bool) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if with_header {
        w.write_record(header(sweep))?;
    }
    for r in rows {
        w.write_record(cells(r))?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("writing the CSV: {e}"))
}

/// Writes `bytes` to `path` through a temporary file in the same folder
/// and a rename, so `path` is never half-written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

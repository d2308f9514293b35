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
use serde::{Serialize, Serializer};

/// A number cell: Rust's shortest round-trip form (`0.5`, `1`, `1e-7`),
/// empty when absent.
#[derive(Debug, Default, Clone, Copy)]
struct Num(Option<f64>);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) => s.collect_str(&v),
            None => s.serialize_none(),
        }
    }
}

/// The cells after `point` and the `param_` columns; the CSV header is
/// these field names, so header and cells cannot drift apart.
#[derive(Debug, Default, Serialize)]
struct Metrics {
    status: &'static str,
    reason: String,
    gpus: Option<usize>,
    iteration_mean_s: Num,
    iteration_p50_s: Num,
    iteration_p99_s: Num,
    samples_per_s: Num,
    tokens_per_s: Num,
    tflops_per_gpu: Num,
    mfu: Num,
    hfu: Num,
    bubble_fraction: Num,
    exposed_comm_s: Num,
    peak_memory_gib: Num,
    peak_memory_stage: Option<u32>,
    gpu_memory_gib: Num,
    fits: Option<bool>,
    capex_usd: Num,
    cost_per_hour_usd: Num,
    cost_per_step_usd: Num,
    cost_per_mtok_usd: Num,
}

const GIB: f64 = (1u64 << 30) as f64;

impl Metrics {
    fn of(row: &Row) -> Metrics {
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
        let s = row.summary.as_ref();
        let cost = s.and_then(|s| s.cost.as_ref());
        let m = row.memory.as_ref();
        Metrics {
            status,
            reason,
            gpus: row.gpus,
            iteration_mean_s: Num(s.map(|s| s.iteration.mean_s)),
            iteration_p50_s: Num(s.map(|s| s.iteration.p50_s)),
            iteration_p99_s: Num(s.map(|s| s.iteration.p99_s)),
            samples_per_s: Num(s.map(|s| s.samples_per_s)),
            tokens_per_s: Num(s.and_then(|s| s.tokens_per_s)),
            tflops_per_gpu: Num(s.and_then(|s| s.achieved_tflops_per_gpu)),
            mfu: Num(s.and_then(|s| s.mfu)),
            hfu: Num(s.and_then(|s| s.hfu)),
            bubble_fraction: Num(s.and_then(|s| s.bubble_fraction)),
            exposed_comm_s: Num(s.map(|s| s.exposed_communication_s)),
            peak_memory_gib: Num(m.map(|m| m.peak_bytes as f64 / GIB)),
            peak_memory_stage: m.map(|m| m.peak_stage),
            gpu_memory_gib: Num(m.map(|m| m.capacity_bytes as f64 / GIB)),
            fits: m.map(|m| m.fits),
            capex_usd: Num(cost.map(|c| c.capex)),
            cost_per_hour_usd: Num(cost.map(|c| c.per_hour)),
            cost_per_step_usd: Num(cost.map(|c| c.per_step)),
            cost_per_mtok_usd: Num(cost.and_then(|c| c.per_million_tokens)),
        }
    }
}

/// The header row: `point`, one `param_<path>` per axis path, then the
/// `Metrics` field names.
pub fn header(sweep: &Sweep) -> Result<Vec<String>, csv::Error> {
    let mut h = vec!["point".to_string()];
    for a in &sweep.axes {
        h.extend(a.paths.iter().map(|p| format!("param_{p}")));
    }
    // serde knows the field names: write one record with its header and
    // read the header back.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(Metrics::default())?;
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    let mut r = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    h.extend(r.headers()?.iter().map(str::to_string));
    Ok(h)
}

/// The header line, as CSV bytes.
pub fn header_csv(sweep: &Sweep) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header(sweep)?)?;
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// One row, as CSV bytes (one line, or more if a reason holds a newline).
pub fn row_csv(row: &Row) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_field(row.point.to_string())?;
    for p in &row.params {
        w.write_field(p)?;
    }
    // Appends the metrics to the record begun above and ends it.
    w.serialize(Metrics::of(row))?;
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The CSV text of `rows`, with the header if `with_header`.
pub fn csv(sweep: &Sweep, rows: &[Row], with_header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = if with_header {
        header_csv(sweep)?
    } else {
        Vec::new()
    };
    for r in rows {
        out.extend(row_csv(r)?);
    }
    Ok(out)
}

/// The crate's one atomic-write helper, kept reachable here for callers of
/// the sweep table.
pub use crate::output::write_atomic;

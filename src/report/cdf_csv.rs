//! `cdf.csv`: per collective, the latency at a ladder of percentiles dense
//! enough to draw a smooth CDF, tail included (p99, p99.9, p99.99, max).
//! The `kind` column is the collective's [`super::CollectiveKind`] word,
//! or `iteration` for the iteration's row.

use super::{Exporter, LatencyStats, Report};
use std::io::Write;

/// Percentiles: every 1 % to 90, every 0.5 % to 99, then the tail.
pub fn percentiles() -> Vec<f64> {
    let mut v: Vec<f64> = (0..=90).map(f64::from).collect();
    v.extend((181..=198).map(|i| f64::from(i) / 2.0));
    v.extend([99.5, 99.9, 99.95, 99.99, 99.999, 100.0]);
    v
}

pub struct CdfCsv;

fn rows(w: &mut csv::Writer<&mut dyn Write>, s: &LatencyStats) -> Result<(), super::ExportError> {
    for p in percentiles() {
        w.write_record([
            s.name.clone(),
            s.bytes.to_string(),
            format!("{p}"),
            format!("{:e}", s.quantile_s(p / 100.0)),
            s.kind.map_or("iteration", |k| k.word()).to_string(),
        ])?;
    }
    Ok(())
}

impl Exporter for CdfCsv {
    fn file_name(&self) -> String {
        "cdf.csv".into()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), super::ExportError> {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(["collective", "bytes", "percentile", "latency_s", "kind"])?;
        for s in report.collectives {
            rows(&mut out, s)?;
        }
        rows(&mut out, report.iteration)?;
        out.flush()?;
        Ok(())
    }
}

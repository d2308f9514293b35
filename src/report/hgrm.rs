//! `latency.hgrm` (every collective's latencies merged) and
//! `latency-<collective>.hgrm`: HdrHistogram's percentile-distribution text,
//! the format its plotter reads. Values are in milliseconds.

use super::{Exporter, LatencyStats, Report, slug};
use std::io::Write;

pub struct Hgrm {
    /// `None`: all collectives merged; `Some(i)`: collective i only.
    which: Option<usize>,
    name: String,
}

impl Hgrm {
    pub fn all() -> Self {
        Hgrm {
            which: None,
            name: "latency.hgrm".into(),
        }
    }
    pub fn one(i: usize, collective: &str) -> Self {
        Hgrm {
            which: Some(i),
            name: format!("latency-{}.hgrm", slug(collective)),
        }
    }
}

impl Exporter for Hgrm {
    fn file_name(&self) -> String {
        self.name.clone()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> anyhow::Result<()> {
        let stats = match self.which {
            Some(i) => report.collectives[i].clone(),
            None => {
                let mut all = LatencyStats::new("all collectives", 0);
                for c in report.collectives {
                    all.merge(c);
                }
                all
            }
        };
        write_distribution(&stats, w)
    }
}

/// The percentile distribution, 5 ticks per half-distance, values in ms
/// (histogram values are ns).
pub fn write_distribution(s: &LatencyStats, w: &mut dyn Write) -> anyhow::Result<()> {
    let h = s.histogram();
    const SCALE: f64 = 1e6;
    writeln!(
        w,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    if s.count > 0 {
        for v in h.iter_quantiles(5) {
            let q = v.quantile_iterated_to();
            let value = h.highest_equivalent(v.value_iterated_to()) as f64 / SCALE;
            if q < 1.0 {
                writeln!(
                    w,
                    "{value:>12.3} {q:>14.12} {:>10} {:>14.2}",
                    v.count_since_last_iteration(),
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(
                    w,
                    "{value:>12.3} {q:>14.12} {:>10}",
                    v.count_since_last_iteration()
                )?;
            }
        }
    }
    writeln!(
        w,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        h.mean() / SCALE,
        h.stdev() / SCALE
    )?;
    writeln!(
        w,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        s.max.as_secs_f64() * 1e3,
        s.count
    )?;
    writeln!(
        w,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        h.distinct_values()
    )?;
    Ok(())
}

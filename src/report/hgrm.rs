//! `latency.hgrm` (every collective's latencies merged) and
//! `latency-<collective>.hgrm`: HdrHistogram's percentile-distribution text,
//! the format its plotter reads. Values are in milliseconds; TotalCount is
//! cumulative (values up to the row), as HdrHistogram itself writes it.

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
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), super::ExportError> {
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
pub fn write_distribution(s: &LatencyStats, w: &mut dyn Write) -> Result<(), super::ExportError> {
    let h = s.histogram();
    const SCALE: f64 = 1e6;
    writeln!(
        w,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    if s.count > 0 {
        let mut total = 0u64;
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = h.highest_equivalent(v.value_iterated_to()) as f64 / SCALE;
            if q < 1.0 {
                writeln!(
                    w,
                    "{value:>12.3} {q:>14.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(w, "{value:>12.3} {q:>14.12} {total:>10}")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SimTime;

    /// (value ms, percentile, TotalCount) rows of an .hgrm text.
    fn rows(text: &str) -> Vec<(f64, f64, u64)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains("Value"))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect()
    }

    /// What HdrHistogram means by TotalCount: cumulative, never below
    /// percentile × total, ending at the total.
    fn check(r: &[(f64, f64, u64)], n: u64) {
        assert!(r.windows(2).all(|w| w[0].2 <= w[1].2 && w[0].0 <= w[1].0));
        for &(_, q, c) in r {
            assert!(c as f64 >= q * n as f64 - 1e-6, "{q} {c}");
        }
        assert_eq!(r.last().map(|x| x.2), Some(n));
    }

    #[test]
    fn total_count_is_cumulative_like_hdrhistogram_python() {
        let reference = include_str!("../../tests/data/hdrhistogram-python.hgrm");
        let want = rows(reference);
        check(&want, 1000);
        let mut s = LatencyStats::new("x", 0);
        let vals = (0..990u64)
            .map(|i| 10_000 + (i * 7919) % 5000)
            .chain((0..10).map(|i| 50_000 + 1000 * i));
        for v in vals {
            s.record(SimTime::from_ns(v));
        }
        let mut out = Vec::new();
        write_distribution(&s, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().next(), reference.lines().next());
        let got = rows(&text);
        check(&got, 1000);
        // Same recorded values: the same first and last rows.
        assert_eq!(got.first(), want.first());
        assert_eq!(got.last(), want.last());
    }
}

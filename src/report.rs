//! Metrics of a run and their export: streaming latency statistics (exact
//! count, mean, min and max; percentiles from an HDR histogram), the summary
//! object that `--json` prints, and one [`Exporter`] per output file format.
//!
//! It does not run simulations: `run.rs` feeds it trial results.

mod cdf_csv;
mod cdf_svg;
mod groups;
mod hgrm;
pub mod html;
mod kind;
mod links_csv;
mod summary;
mod timelines;

pub use kind::CollectiveKind;
pub use summary::{CollectiveSummary, CostSummary, Distribution, Summary};

use crate::fabric::LinkStats;
use crate::topology::Cluster;
use crate::units::SimTime;
use hdrhistogram::Histogram;
use std::io::Write;

/// The latency the histograms are first sized for: one hour, in
/// nanoseconds. They grow past it (auto-resize) as longer latencies come,
/// up to the whole of simulated time (2^64 ps, about 213 days): a fixed
/// bound saturated every longer latency, and the percentiles, clamped to
/// the exact minimum, all reported that minimum. Growing only when needed
/// keeps a histogram of ordinary runs at its one-hour size (~270 kB).
const MAX_NS: u64 = 3_600_000_000_000;

/// Streaming statistics of one latency series (a collective, or the
/// iteration): constant memory whatever the number of trials.
#[derive(Debug, Clone)]
pub struct LatencyStats {
    /// The collective's name, or `iteration`.
    pub name: String,
    /// `None` for the iteration series.
    pub kind: Option<CollectiveKind>,
    /// The collective's buffer bytes (0 for the iteration).
    pub bytes: u64,
    /// Latencies recorded.
    pub count: u64,
    sum_ps: u128,
    /// Shortest latency recorded.
    pub min: SimTime,
    /// Longest latency recorded.
    pub max: SimTime,
    /// Nanoseconds, 3 significant digits.
    hist: Histogram<u64>,
}

impl LatencyStats {
    /// An empty series called `name` for a `bytes`-byte collective.
    pub fn new(name: impl Into<String>, bytes: u64) -> Self {
        LatencyStats {
            name: name.into(),
            kind: None,
            bytes,
            count: 0,
            sum_ps: 0,
            min: SimTime::MAX,
            max: SimTime::ZERO,
            hist: {
                let mut h =
                    Histogram::new_with_bounds(1, MAX_NS, 3).expect("valid histogram bounds");
                h.auto(true);
                h
            },
        }
    }

    /// The same series, labelled as a collective of kind `kind`.
    pub fn of_kind(mut self, kind: CollectiveKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Adds one latency.
    pub fn record(&mut self, latency: SimTime) {
        self.count += 1;
        self.sum_ps += u128::from(latency.ps());
        self.min = self.min.min(latency);
        self.max = self.max.max(latency);
        let ns = latency.ps().div_ceil(1000);
        // Growing fails only past i64::MAX / 2 ns, far beyond simulated time.
        if self.hist.record(ns).is_err() {
            self.hist.saturating_record(ns);
        }
    }

    /// Mean latency, seconds (0 when empty).
    pub fn mean_s(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ps as f64 / self.count as f64 / 1e12
        }
    }

    /// The q-quantile in seconds (q in [0, 1]), from the histogram, clamped
    /// to the exact min and max (so a constant series reports exactly).
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        if q >= 1.0 {
            return self.max.as_secs_f64();
        }
        let ns = self.hist.value_at_quantile(q.max(0.0));
        let s = ns as f64 * 1e-9;
        s.clamp(self.min.as_secs_f64(), self.max.as_secs_f64())
    }

    /// The histogram of latencies, in nanoseconds.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }

    /// Adds another series' samples (e.g. to merge every collective).
    pub fn merge(&mut self, other: &LatencyStats) {
        self.count += other.count;
        self.sum_ps += other.sum_ps;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.hist.add(&other.hist).expect("same bounds");
    }
}

/// Per-link totals over every trial.
#[derive(Debug, Clone, Default)]
pub struct LinkTotals {
    /// Bytes carried, summed over trials.
    pub bytes: f64,
    /// Time with at least one flow, summed over trials.
    pub busy: SimTime,
    /// Most flows sharing the link at once, over all trials.
    pub peak_flows: u32,
}

/// Sums link counters over trials; `busy` against the summed makespans
/// gives the busy fraction.
#[derive(Debug, Clone, Default)]
pub struct LinkAccumulator {
    /// Per link, indexed by link id.
    pub links: Vec<LinkTotals>,
    /// Summed makespans of the trials added.
    pub time: SimTime,
}

impl LinkAccumulator {
    /// Adds one trial's link counters and its makespan.
    pub fn add(&mut self, stats: &[LinkStats], makespan: SimTime) {
        if self.links.len() < stats.len() {
            self.links.resize(stats.len(), LinkTotals::default());
        }
        for (t, s) in self.links.iter_mut().zip(stats) {
            t.bytes += s.bytes;
            t.busy += s.busy;
            t.peak_flows = t.peak_flows.max(s.peak_flows);
        }
        self.time += makespan;
    }
}

/// Everything an exporter may read.
pub struct Report<'a> {
    /// The simulated cluster.
    pub cluster: &'a Cluster,
    /// The run's summary.
    pub summary: &'a Summary,
    /// One series per collective name, in the order they run.
    pub collectives: &'a [LatencyStats],
    /// Iteration times.
    pub iteration: &'a LatencyStats,
    /// Per-link totals.
    pub links: &'a LinkAccumulator,
    /// Trial 0 in detail, for the timelines.
    pub timeline: &'a TimelineData<'a>,
}

/// One simulated trial with its transfers, and the GPUs to draw.
pub struct TimelineData<'a> {
    /// Trial 0's task graph.
    pub graph: &'a crate::plan::TaskGraph,
    /// Trial 0's simulation result.
    pub outcome: &'a crate::engine::Outcome,
    /// The GPUs the timelines draw, each with the GPU whose history it is.
    pub gpus: Vec<crate::timeline::Shown>,
    /// The kind of each reported collective's tasks.
    pub kinds: crate::timeline::Kinds,
}

/// Why an exporter could not write its file. Each variant shows its cause's
/// own message (the caller names the file), and keeps the cause as its
/// source so exit codes can find an unwritable output path in the chain.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the bytes failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed (usually an I/O error underneath).
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// Serialising JSON failed.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// The plotting backend failed to draw a chart.
    #[error("{0}")]
    Draw(String),
}

/// One output file format.
pub trait Exporter {
    /// The file's name inside the results folder.
    fn file_name(&self) -> String;
    /// Writes the file's contents for `report` to `w`.
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), ExportError>;
}

/// The exporters of `fabsim run`, besides the streamed `trials.csv`.
pub fn exporters(report: &Report) -> Vec<Box<dyn Exporter>> {
    let mut v: Vec<Box<dyn Exporter>> = vec![
        Box::new(summary::SummaryJson),
        Box::new(cdf_csv::CdfCsv),
        Box::new(hgrm::Hgrm::all()),
        Box::new(links_csv::LinksCsv),
        Box::new(cdf_svg::CdfSvg),
    ];
    for t in [
        timelines::Timeline::Text,
        timelines::Timeline::Chrome,
        timelines::Timeline::Svg,
    ] {
        v.push(Box::new(t));
    }
    for (i, c) in report.collectives.iter().enumerate() {
        v.push(Box::new(hgrm::Hgrm::one(i, &c.name)));
    }
    v
}

/// A file-name-safe form of a collective name: `fc2+fc1` → `fc2_fc1`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_series_report_exactly() {
        let mut s = LatencyStats::new("x", 10);
        for _ in 0..1000 {
            s.record(SimTime(123_456_789));
        }
        assert_eq!(s.mean_s(), 123_456_789e-12);
        for q in [0.0, 0.5, 0.99, 0.999, 1.0] {
            assert_eq!(s.quantile_s(q), 123_456_789e-12);
        }
    }

    #[test]
    fn quantiles_within_histogram_precision() {
        let mut s = LatencyStats::new("x", 0);
        for i in 1..=10_000u64 {
            s.record(SimTime::from_us(i));
        }
        for q in [0.5, 0.9, 0.99] {
            let exact = q * 10_000.0 * 1e-6;
            assert!((s.quantile_s(q) - exact).abs() / exact < 2e-3, "q={q}");
        }
        assert_eq!(s.max, SimTime::from_us(10_000));
        let mut all = LatencyStats::new("all", 0);
        all.merge(&s);
        all.merge(&s);
        assert_eq!(all.count, 20_000);
        assert_eq!(all.mean_s(), s.mean_s());
    }
}

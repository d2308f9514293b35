//! The run summary: the object `--json` prints and `summary.json` holds,
//! and its human table for the terminal.

use super::{Exporter, LatencyStats, Report};
use crate::units::format_secs;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;

/// A latency distribution in seconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Distribution {
    /// Number of samples (trials).
    pub count: u64,
    /// Mean, seconds.
    pub mean_s: f64,
    /// Minimum, seconds.
    pub min_s: f64,
    /// Median, seconds.
    pub p50_s: f64,
    /// 90th percentile, seconds.
    pub p90_s: f64,
    /// 99th percentile, seconds.
    pub p99_s: f64,
    /// 99.9th percentile, seconds.
    pub p999_s: f64,
    /// Maximum, seconds.
    pub max_s: f64,
}

impl Distribution {
    /// The distribution `s` has recorded (zeros when empty).
    pub fn of(s: &LatencyStats) -> Self {
        Distribution {
            count: s.count,
            mean_s: s.mean_s(),
            min_s: if s.count == 0 {
                0.0
            } else {
                s.min.as_secs_f64()
            },
            p50_s: s.quantile_s(0.5),
            p90_s: s.quantile_s(0.9),
            p99_s: s.quantile_s(0.99),
            p999_s: s.quantile_s(0.999),
            max_s: s.max.as_secs_f64(),
        }
    }
}

/// One collective's latency over all trials.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CollectiveSummary {
    /// The collective's name in the plan (e.g. `fc1` or `fc1+fc2 reduce-scatter`).
    pub name: String,
    /// gradient, tensor or embedding (see [`super::CollectiveKind`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<super::CollectiveKind>,
    /// Bytes of its buffer.
    pub bytes: u64,
    /// Its latency: start (dependencies met) to last byte delivered.
    #[serde(flatten)]
    pub latency: Distribution,
}

/// What a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's free-text description.
    pub description: String,
    /// The topology's name.
    pub topology: String,
    /// The workload's name.
    pub workload: String,
    /// GPUs the job uses (data × pipeline × tensor).
    pub gpus: usize,
    /// Degrees of parallelism.
    pub parallelism: crate::training::Parallelism,
    /// The pipeline schedule's name.
    pub schedule: String,
    /// Microbatches per iteration.
    pub microbatches: u32,
    /// Iterations simulated.
    pub trials: u64,
    /// The random seed the trials derive from.
    pub seed: u64,
    /// Iteration time over all trials.
    pub iteration: Distribution,
    /// Each collective's latency, in the order they first run.
    pub collectives: Vec<CollectiveSummary>,
    /// Samples per second at the mean iteration time (all replicas).
    pub samples_per_s: f64,
    /// Tokens per second, for workloads that know their sequence length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
    /// Engine events per trial (a measure of simulation work).
    pub events_per_trial: f64,
    /// Pipeline metrics of trial 0 (absent for pure data parallelism).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bubble_fraction: Option<f64>,
    /// Per stage, trial 0: its GPUs and utilisation (absent without pipelining).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stages: Option<serde_json::Value>,
    /// The schedule's closed-form bubble with uniform stages and free
    /// communication, to compare with the simulated one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ideal_bubble_fraction: Option<f64>,
    /// Trial 0: the most exposed GPU's time idle while its communication
    /// is in flight (see `pipeline_metrics::exposed`).
    pub exposed_communication_s: f64,
    /// Model FLOPs (`ModelStats.flops_per_step` × data) per second per GPU
    /// at the mean iteration time, in TFLOP/s (analytical workloads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achieved_tflops_per_gpu: Option<f64>,
    /// achieved / the GPU's dense peak for the model's dtype.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfu: Option<f64>,
    /// Hardware FLOPs utilisation: as MFU, counting what activation
    /// recompute re-runs (= MFU without recompute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hfu: Option<f64>,
    /// The memory estimate per GPU (`crate::memory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<crate::memory::MemoryEstimate>,
    /// Present when the topology has prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostSummary>,
}

/// Cost of the cluster and of its training steps, in dollars (written to
/// `summary.json` and read back by the HTML report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CostSummary {
    /// capex_gpus + capex_nics + capex_switches + capex_optics.
    pub capex: f64,
    /// Dollars for the GPUs.
    pub capex_gpus: f64,
    /// Dollars for the NICs.
    pub capex_nics: f64,
    /// Dollars for the switches.
    pub capex_switches: f64,
    /// Dollars for the transceivers.
    pub capex_optics: f64,
    /// IT power of the priced parts.
    pub power_kw: f64,
    /// power_kw × PUE × $/kWh.
    pub power_per_hour: f64,
    /// The price catalog's date.
    pub catalog_date: String,
    /// Years over which capex is spread.
    pub amortization_years: f64,
    /// capex / (amortization_years × 8766 h) + power_per_hour.
    pub per_hour: f64,
    /// per_hour × mean iteration time.
    pub per_step: f64,
    /// per_step / (tokens per step / 1e6), for workloads with tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_million_tokens: Option<f64>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scenario {} — {} on {} ({} GPUs: data {} × pipeline {} × tensor {}), {} trials, seed {}",
            self.scenario,
            self.workload,
            self.topology,
            self.gpus,
            self.parallelism.data,
            self.parallelism.pipeline,
            self.parallelism.tensor,
            self.trials,
            self.seed
        )?;
        writeln!(f)?;
        self.fmt_collectives(f)?;
        row(f, "iteration", "", "", &self.iteration)?;
        writeln!(f)?;
        write!(f, "throughput: {:.1} samples/s", self.samples_per_s)?;
        if let Some(t) = self.tokens_per_s {
            write!(f, ", {t:.0} tokens/s")?;
        }
        writeln!(f)?;
        if let Some(t) = self.achieved_tflops_per_gpu {
            write!(f, "achieved: {t:.1} TFLOP/s per GPU")?;
            if let Some(m) = self.mfu {
                write!(f, " (MFU {:.1} %", 100.0 * m)?;
                if let Some(h) = self.hfu {
                    write!(f, ", HFU {:.1} %", 100.0 * h)?;
                }
                write!(f, ")")?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "exposed communication: {}",
            format_secs(self.exposed_communication_s)
        )?;
        self.fmt_memory_and_cost(f)?;
        match self.bubble_fraction {
            Some(b) if self.parallelism.pipeline > 1 => {
                writeln!(
                    f,
                    "pipeline bubble (trial 0): {:.1} % — GPU utilisation {:.1} %",
                    100.0 * b,
                    100.0 * (1.0 - b)
                )?;
                if let Some(ideal) = self.ideal_bubble_fraction {
                    writeln!(
                        f,
                        "  closed form for {} with uniform stages and free communication: \
                         bubble {:.1} %, utilisation {:.1} %",
                        self.schedule,
                        100.0 * ideal,
                        100.0 * (1.0 - ideal)
                    )?;
                }
                self.fmt_stages(f)?;
            }
            Some(b) => writeln!(
                f,
                "GPU utilisation (trial 0): {:.1} % of the iteration computing",
                100.0 * (1.0 - b)
            )?,
            None => {}
        }
        Ok(())
    }
}

/// Collectives the terminal table shows; the rest are in `cdf.csv`.
pub const TOP_COLLECTIVES: usize = 10;

impl Summary {
    /// The collective table: every collective when there are at most
    /// [`TOP_COLLECTIVES`], else the slowest by p99 and a count of the rest.
    fn fmt_collectives(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28} {:<9} {:>10} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
            "collective", "kind", "bytes", "mean", "p50", "p90", "p99", "p99.9", "max"
        )?;
        let mut shown: Vec<&CollectiveSummary> = self.collectives.iter().collect();
        if shown.len() > TOP_COLLECTIVES {
            shown.sort_by(|a, b| b.latency.p99_s.total_cmp(&a.latency.p99_s));
            shown.truncate(TOP_COLLECTIVES);
        }
        for c in &shown {
            let kind = c.kind.map_or("", |k| k.word());
            row(f, &c.name, kind, &c.bytes.to_string(), &c.latency)?;
        }
        let more = self.collectives.len() - shown.len();
        if more > 0 {
            writeln!(
                f,
                "… {more} more collectives in cdf.csv and summary.json (above: the {} slowest by p99)",
                shown.len()
            )?;
        }
        Ok(())
    }

    /// The memory line and the capex and cost lines, when known.
    fn fmt_memory_and_cost(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = &self.memory {
            let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
            writeln!(
                f,
                "memory: {:.1} GiB per GPU at peak (stage {}), the GPU has {:.1} GiB{}",
                gib(m.peak_bytes),
                m.peak_stage,
                gib(m.capacity_bytes),
                if m.fits { "" } else { " — DOES NOT FIT" }
            )?;
        }
        if let Some(c) = &self.cost {
            writeln!(
                f,
                "capex: ${:.0} = GPUs ${:.0} + NICs ${:.0} + switches ${:.0} + optics ${:.0} (prices of {})",
                c.capex,
                c.capex_gpus,
                c.capex_nics,
                c.capex_switches,
                c.capex_optics,
                c.catalog_date
            )?;
            write!(
                f,
                "cost: ${:.2}/hour (capex over {} years + {:.0} kW at ${:.2}/hour), ${:.4} per step",
                c.per_hour, c.amortization_years, c.power_kw, c.power_per_hour, c.per_step
            )?;
            if let Some(t) = c.per_million_tokens {
                write!(f, ", ${t:.4} per million tokens")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }

    /// The partition and per-stage metrics, one line per stage.
    fn fmt_stages(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(stages) = self.stages.as_ref().and_then(|s| s.as_array()) else {
            return Ok(());
        };
        writeln!(
            f,
            "\n{:>5} {:>6} {:>10} {:>7} {:>9} {:>8} {:>10}  layers",
            "stage", "gpus", "busy", "util", "peak_act", "weights", "memory"
        )?;
        for s in stages {
            let layers: Vec<&str> = s["layers"].as_array().map_or(Vec::new(), |l| {
                l.iter().filter_map(|x| x.as_str()).collect()
            });
            let shown = match layers.as_slice() {
                [] => String::new(),
                [one] => (*one).to_string(),
                [first, .., last] => format!("{first}..{last} ({})", layers.len()),
            };
            writeln!(
                f,
                "{:>5} {:>6} {:>10} {:>6.1}% {:>9.2} {:>8} {:>7.1} GiB  {}",
                s["stage"].as_u64().unwrap_or(0),
                s["gpus"].as_array().map_or(0, Vec::len),
                format_secs(s["busy_s"].as_f64().unwrap_or(0.0)),
                100.0 * s["utilization"].as_f64().unwrap_or(0.0),
                s["peak_activations"].as_f64().unwrap_or(0.0),
                s["weight_versions"].as_u64().unwrap_or(1),
                s["memory_bytes"].as_f64().unwrap_or(0.0) / f64::from(1u32 << 30),
                shown
            )?;
        }
        Ok(())
    }
}

fn row(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    kind: &str,
    bytes: &str,
    d: &Distribution,
) -> fmt::Result {
    writeln!(
        f,
        "{:<28} {:<9} {:>10} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
        name,
        kind,
        bytes,
        format_secs(d.mean_s),
        format_secs(d.p50_s),
        format_secs(d.p90_s),
        format_secs(d.p99_s),
        format_secs(d.p999_s),
        format_secs(d.max_s)
    )
}

/// `summary.json`: the same object `--json` prints.
pub struct SummaryJson;

impl Exporter for SummaryJson {
    fn file_name(&self) -> String {
        "summary.json".into()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), super::ExportError> {
        serde_json::to_writer_pretty(&mut *w, report.summary)?;
        writeln!(w)?;
        Ok(())
    }
}

//! Planner conveniences of a scenario: `parallelism.data: auto` (the data
//! degree that uses every GPU of the topology given tensor and pipeline)
//! and a top-level `global_batch:` (samples per step over all replicas),
//! from which each replica's batch is derived.
//!
//! It resolves these into a plain [`Parallelism`] and a workload
//! `batch_size` override; it does not load the workload or build the job.

use super::ScenarioFile;
use crate::input::{InputError, Source};
use crate::topology::Cluster;
use crate::training::Parallelism;
use serde::Deserialize;
use std::path::Path;

/// `parallelism:` as written: like [`Parallelism`], but `data` may be `auto`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParallelismYaml {
    /// Data-parallel replicas, or `auto`.
    #[serde(default)]
    pub data: DataDegree,
    /// Pipeline stages.
    #[serde(default = "one")]
    pub pipeline: u32,
    /// Tensor-parallel ranks per stage.
    #[serde(default = "one")]
    pub tensor: u32,
    /// Megatron sequence parallelism over the tensor ranks.
    #[serde(default)]
    pub sequence_parallel: bool,
}

fn one() -> u32 {
    1
}

/// A data-parallel degree, or `auto`: every GPU left by tensor × pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDegree {
    /// This many replicas.
    Count(u32),
    /// Every GPU left by tensor × pipeline.
    Auto,
}

impl Default for DataDegree {
    fn default() -> Self {
        DataDegree::Count(1)
    }
}

impl<'de> Deserialize<'de> for DataDegree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DataDegree;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number of data-parallel replicas, or `auto`")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DataDegree, E> {
                u32::try_from(v)
                    .map(DataDegree::Count)
                    .map_err(|_| E::custom(format!("data {v} is too large")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DataDegree, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom(format!("data must be at least 1, not {v}"))),
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DataDegree, E> {
                match v {
                    "auto" => Ok(DataDegree::Auto),
                    _ => Err(E::custom(format!(
                        "data '{v}' is neither a whole number nor `auto`"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The parallelism a scenario asks for, `data: auto` resolved, checked
/// against the topology's GPU count. No `parallelism:` means pure data
/// parallelism over every GPU.
pub(super) fn parallelism(
    src: &Source,
    spec: &ScenarioFile,
    cluster: &Cluster,
    topology_file: &Path,
) -> Result<Parallelism, InputError> {
    let gpus = cluster.num_gpus() as u64;
    let Some(p) = &spec.parallelism else {
        return Ok(Parallelism {
            data: gpus as u32,
            pipeline: 1,
            tensor: 1,
            sequence_parallel: false,
        });
    };
    let err = |msg: String, path: &str| src.error_at(p, msg).with_path(path);
    let y = p.value;
    if y.pipeline == 0 || y.tensor == 0 || y.data == DataDegree::Count(0) {
        return Err(err(
            "data, pipeline and tensor degrees must each be at least 1".into(),
            "parallelism",
        ));
    }
    let tp = u64::from(y.tensor) * u64::from(y.pipeline);
    let data = match y.data {
        DataDegree::Count(d) => d,
        DataDegree::Auto if tp <= gpus && gpus.is_multiple_of(tp) => (gpus / tp) as u32,
        DataDegree::Auto => {
            return Err(err(
                format!(
                    "data: auto needs tensor × pipeline = {} × {} = {tp} to divide the {gpus} \
                     GPUs of {}, and it does not: choose tensor and pipeline whose product \
                     divides {gpus}, or give data as a number",
                    y.tensor,
                    y.pipeline,
                    topology_file.display()
                ),
                "parallelism.data",
            ));
        }
    };
    let par = Parallelism {
        data,
        pipeline: y.pipeline,
        tensor: y.tensor,
        sequence_parallel: y.sequence_parallel,
    };
    if par.gpus() != gpus {
        return Err(err(
            format!(
                "data × pipeline × tensor = {} × {} × {} = {} GPUs, but the topology {} has \
                 {gpus} (write data: auto to use them all)",
                par.data,
                par.pipeline,
                par.tensor,
                par.gpus(),
                topology_file.display()
            ),
            "parallelism",
        ));
    }
    Ok(par)
}

/// The workload overrides with `batch_size = global_batch / data` first,
/// when the scenario gives `global_batch`.
pub(super) fn workload_overrides(
    src: &Source,
    spec: &ScenarioFile,
    par: Parallelism,
    set: &[String],
) -> Result<Vec<String>, InputError> {
    let Some(g) = &spec.global_batch else {
        return Ok(set.to_vec());
    };
    let at = |msg: String| src.error_at(g, msg).with_path("global_batch");
    if set.iter().any(|s| {
        s.split_once('=')
            .is_some_and(|(k, _)| k.trim() == "batch_size")
    }) {
        return Err(at(
            "the scenario gives global_batch, so --set workload.batch_size would contradict \
             it: set global_batch instead"
                .into(),
        ));
    }
    let d = par.data;
    if g.value == 0 || !g.value.is_multiple_of(d) {
        let lower = g.value / d * d;
        let hint = if lower > 0 {
            format!("{lower} or {}", lower + d)
        } else {
            d.to_string()
        };
        return Err(at(format!(
            "global_batch {} cannot be split evenly over {d} data-parallel replicas: \
             use a multiple of {d} (e.g. {hint}), or change parallelism.data",
            g.value
        )));
    }
    let mut out = vec![format!("batch_size={}", g.value / d)];
    out.extend_from_slice(set);
    Ok(out)
}

/// A measured trace is timed for minibatches of its own `batch_size`, so
/// `global_batch` must give each replica exactly that: another batch would
/// keep the trace's times and scale only the samples per second. (An
/// analytical model is re-timed for any batch.) `as_written` loads the
/// workload without the `global_batch` override, for its own batch size.
pub(super) fn trace_batch_matches(
    src: &Source,
    spec: &ScenarioFile,
    par: Parallelism,
    workload: &crate::workload::Workload,
    as_written: impl FnOnce() -> Result<crate::workload::Workload, InputError>,
) -> Result<(), InputError> {
    let Some(g) = &spec.global_batch else {
        return Ok(());
    };
    if workload.model.is_some() {
        return Ok(());
    }
    let own = as_written()?.batch_size;
    if own == workload.batch_size {
        return Ok(());
    }
    let d = par.data;
    Err(src
        .error_at(
            g,
            format!(
                "global_batch {} gives each of the {d} data-parallel replicas {} samples, but \
                 the workload is a measured trace timed for minibatches of {own}: write \
                 global_batch: {} ({own} × {d}) or leave it out, or use an analytical \
                 `model:` workload, which is timed for any batch",
                g.value,
                workload.batch_size,
                u64::from(own) * u64::from(d)
            ),
        )
        .with_path("global_batch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<ParallelismYaml, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    #[test]
    fn data_reads_a_number_or_auto() {
        assert_eq!(yaml("data: 4").unwrap().data, DataDegree::Count(4));
        assert_eq!(yaml("data: auto").unwrap().data, DataDegree::Auto);
        assert_eq!(yaml("tensor: 2").unwrap().data, DataDegree::Count(1));
        let e = yaml("data: all").unwrap_err().to_string();
        assert!(e.contains("neither a whole number nor `auto`"), "{e}");
        let e = yaml("data: -2").unwrap_err().to_string();
        assert!(e.contains("at least 1"), "{e}");
    }
}

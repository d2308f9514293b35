//! Pipeline partitions: how many consecutive layers each (virtual) stage
//! runs.
//!
//! `uniform` splits the layers as evenly as counts allow (the first
//! `layers % parts` stages take one more); an explicit list is checked and
//! used as is; `balanced` is PipeDream's partitioner (Narayanan et al. SOSP
//! 2019): dynamic programming over the layers minimising the slowest stage,
//! where a stage costs its compute (forward + backward of its layers, per
//! minibatch) plus the time to send the activation at its cut to the next
//! stage (`cut_time`, supplied by the caller, who may include the returning
//! gradient). It does not model memory limits or tensor parallelism.

use crate::units::SimTime;
use crate::workload::Layer;
use serde::{Deserialize, Serialize};

/// How to partition layers into stages. YAML: `partition: uniform`,
/// `partition: balanced` or `partition: [4, 3, 3, 4]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Raw", into = "Raw")]
pub enum PartitionSpec {
    /// Equal layer counts; the remainder goes to the first stages.
    #[default]
    Uniform,
    /// Layers per stage, in order.
    Explicit(Vec<usize>),
    /// PipeDream's dynamic program: the split with the least slowest stage
    /// (compute plus the cost of each cut).
    Balanced,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Raw {
    Name(String),
    List(Vec<usize>),
}

impl TryFrom<Raw> for PartitionSpec {
    type Error = String;
    fn try_from(raw: Raw) -> Result<Self, String> {
        match raw {
            Raw::List(v) => Ok(PartitionSpec::Explicit(v)),
            Raw::Name(n) => match n.as_str() {
                "uniform" => Ok(PartitionSpec::Uniform),
                "balanced" => Ok(PartitionSpec::Balanced),
                _ => Err(format!(
                    "unknown partition '{n}': expected uniform, balanced, or a list of layer \
                     counts per stage such as [4, 3, 3, 4]"
                )),
            },
        }
    }
}

impl From<PartitionSpec> for Raw {
    fn from(spec: PartitionSpec) -> Raw {
        match spec {
            PartitionSpec::Uniform => Raw::Name("uniform".into()),
            PartitionSpec::Balanced => Raw::Name("balanced".into()),
            PartitionSpec::Explicit(v) => Raw::List(v),
        }
    }
}

/// A partition that cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// Zero stages asked for.
    #[error("cannot partition into 0 stages")]
    NoParts,
    /// More stages than layers.
    #[error("{parts} pipeline stages need at least {parts} layers, but the workload has {layers}")]
    TooManyParts {
        /// Stages asked for.
        parts: usize,
        /// Layers in the workload.
        layers: usize,
    },
    /// An explicit partition with the wrong number of entries.
    #[error("the partition lists {len} stages, but the pipeline has {parts}")]
    WrongLength {
        /// Entries written.
        len: usize,
        /// Stages in the pipeline.
        parts: usize,
    },
    /// An explicit partition that does not cover the layers exactly.
    #[error("the partition's entries sum to {sum} layers, but the workload has {layers}")]
    WrongSum {
        /// The entries' sum.
        sum: usize,
        /// Layers in the workload.
        layers: usize,
    },
    /// An explicit entry of 0 layers.
    #[error("partition entry {index} is 0: every stage needs at least one layer")]
    EmptyStage {
        /// The entry's index, from 0.
        index: usize,
    },
}

/// Layers per stage (`parts` entries, each ≥ 1, summing to `layers.len()`).
/// `cut_time(i)` is the time to send layer i's activation to the next stage.
pub fn partition(
    spec: &PartitionSpec,
    layers: &[Layer],
    parts: usize,
    cut_time: &dyn Fn(usize) -> SimTime,
) -> Result<Vec<usize>, PartitionError> {
    let n = layers.len();
    if parts == 0 {
        return Err(PartitionError::NoParts);
    }
    if let PartitionSpec::Explicit(v) = spec {
        if v.len() != parts {
            return Err(PartitionError::WrongLength {
                len: v.len(),
                parts,
            });
        }
        if let Some(index) = v.iter().position(|&x| x == 0) {
            return Err(PartitionError::EmptyStage { index });
        }
        let sum = v.iter().fold(0usize, |a, &b| a.saturating_add(b));
        if sum != n {
            return Err(PartitionError::WrongSum { sum, layers: n });
        }
        return Ok(v.clone());
    }
    if parts > n {
        return Err(PartitionError::TooManyParts { parts, layers: n });
    }
    Ok(match spec {
        PartitionSpec::Balanced => balanced(layers, parts, cut_time),
        _ => uniform(n, parts),
    })
}

/// `n` layers in `parts` near-equal runs, the longer ones first.
pub fn uniform(n: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| n / parts + usize::from(i < n % parts))
        .collect()
}

/// The cost of each stage of `counts`: compute plus the cut after it (none
/// after the last stage).
pub fn stage_costs(
    layers: &[Layer],
    counts: &[usize],
    cut_time: &dyn Fn(usize) -> SimTime,
) -> Vec<SimTime> {
    let mut start = 0;
    counts
        .iter()
        .map(|&c| {
            let end = (start + c).min(layers.len());
            let cost = cost(layers, start, end, cut_time);
            start = end;
            cost
        })
        .collect()
}

fn cost(
    layers: &[Layer],
    start: usize,
    end: usize,
    cut_time: &dyn Fn(usize) -> SimTime,
) -> SimTime {
    let mut t = layers[start..end]
        .iter()
        .fold(SimTime::ZERO, |a, l| a + l.forward + l.backward);
    if end < layers.len() && end > start {
        t += cut_time(end - 1);
    }
    t
}

/// PipeDream's dynamic programme: best[k][i] = the smallest possible
/// slowest-stage cost of the first i layers in k stages. Ties go to the
/// earliest cut, so the result is deterministic.
fn balanced(layers: &[Layer], parts: usize, cut_time: &dyn Fn(usize) -> SimTime) -> Vec<usize> {
    let n = layers.len();
    // prefix[i] = compute of layers 0..i.
    let mut prefix = vec![SimTime::ZERO; n + 1];
    for (i, l) in layers.iter().enumerate() {
        prefix[i + 1] = prefix[i] + l.forward + l.backward;
    }
    let cuts: Vec<SimTime> = (0..n).map(cut_time).collect();
    let stage = |j: usize, i: usize| {
        let c = prefix[i] - prefix[j];
        if i < n { c + cuts[i - 1] } else { c }
    };
    let mut best: Vec<Vec<Option<SimTime>>> = vec![vec![None; n + 1]; parts + 1];
    let mut from = vec![vec![0usize; n + 1]; parts + 1];
    best[0][0] = Some(SimTime::ZERO);
    for k in 1..=parts {
        // Leave at least one layer for each remaining stage.
        for i in k..=n - (parts - k) {
            for j in (k - 1)..i {
                let Some(before) = best[k - 1][j] else {
                    continue;
                };
                let c = before.max(stage(j, i));
                if best[k][i].is_none_or(|b| c < b) {
                    best[k][i] = Some(c);
                    from[k][i] = j;
                }
            }
        }
    }
    let mut counts = vec![0; parts];
    let mut i = n;
    for k in (1..=parts).rev() {
        let j = from[k][i];
        counts[k - 1] = i - j;
        i = j;
    }
    counts
}

#[cfg(test)]
mod tests;

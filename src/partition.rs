//! Splitting a workload's layers into pipeline stages (placeholder: uniform
//! and explicit splits; the balanced partitioner arrives with the pipeline
//! work).

use crate::units::SimTime;
use crate::workload::Layer;
use serde::Deserialize;

/// How layers are split into stages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(untagged)]
pub enum PartitionSpec {
    /// An explicit list of layer counts per stage, like `[4, 3, 3, 4]`.
    Explicit(Vec<usize>),
    /// `uniform` or `balanced`.
    Named(PartitionName),
    #[serde(skip)]
    #[default]
    Uniform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartitionName {
    Uniform,
    Balanced,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PartitionError {
    #[error("{parts} stages need at least {parts} layers, but the workload has {layers}")]
    TooManyParts { parts: usize, layers: usize },
    #[error("the partition lists {got} stages, but there are {parts}")]
    WrongLength { got: usize, parts: usize },
    #[error("the partition's layer counts add up to {sum}, but the workload has {layers} layers")]
    WrongSum { sum: usize, layers: usize },
    #[error("every stage needs at least one layer")]
    EmptyStage,
}

pub fn partition(
    spec: &PartitionSpec,
    layers: &[Layer],
    parts: usize,
    _cut_time: &dyn Fn(usize) -> SimTime,
) -> Result<Vec<usize>, PartitionError> {
    let n = layers.len();
    if parts > n {
        return Err(PartitionError::TooManyParts { parts, layers: n });
    }
    match spec {
        PartitionSpec::Explicit(v) => {
            if v.len() != parts {
                return Err(PartitionError::WrongLength {
                    got: v.len(),
                    parts,
                });
            }
            if v.contains(&0) {
                return Err(PartitionError::EmptyStage);
            }
            let sum: usize = v.iter().sum();
            if sum != n {
                return Err(PartitionError::WrongSum { sum, layers: n });
            }
            Ok(v.clone())
        }
        _ => Ok((0..parts)
            .map(|i| n / parts + usize::from(i < n % parts))
            .collect()),
    }
}

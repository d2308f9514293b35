//! What a reported collective does in the training step. It is a field of
//! every collective record (`summary.json`'s `kind`, the `kind` column of
//! `cdf.csv` and `trials.csv`), so readers group by it rather than by
//! parsing names. Pipeline activations are point-to-point transfers, not
//! collectives, and are not reported here.

use serde::Serialize;

/// What a reported collective does in the training step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectiveKind {
    /// A data-parallel gradient bucket (all-reduce, or ZeRO-1's
    /// reduce-scatter and all-gather).
    Gradient,
    /// A tensor-parallel all-reduce (or reduce-scatter/all-gather with
    /// sequence parallelism) after a forward or backward op.
    Tensor,
    /// The all-reduce of the tied word embedding between the first and
    /// last pipeline stages.
    Embedding,
}

impl CollectiveKind {
    /// The word used in CSV columns and JSON.
    pub fn word(self) -> &'static str {
        match self {
            CollectiveKind::Gradient => "gradient",
            CollectiveKind::Tensor => "tensor",
            CollectiveKind::Embedding => "embedding",
        }
    }
}

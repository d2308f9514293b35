//! What can stop a simulation: a malformed task graph (a cycle, an unmet
//! dependency, a GPU that does not exist, a collective that cannot run) or
//! input values past what the model represents (time past 2^64 ps,
//! background traffic past its budget). It detects nothing itself.

use crate::collective::CollectiveError;
use crate::ids::{GpuId, TaskId};

/// Why a simulation stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A collective could not run.
    #[error("collective '{name}': {source}")]
    Collective {
        /// The collective's name.
        name: String,
        /// Why it could not run.
        source: CollectiveError,
    },
    /// Some tasks (this many) never became ready.
    #[error("the task graph has a cycle or an unmet dependency: {0} task(s) never became ready")]
    Stuck(usize),
    /// A task names a GPU the cluster does not have (task, GPU, number of GPUs).
    #[error("task {0} names GPU {1}, but the cluster has {2} GPUs")]
    NoSuchGpu(TaskId, GpuId, usize),
    /// Simulated time would pass 2^64 ps: an input value is out of range.
    #[error(
        "simulated time passed 2^64 ps (about 213 days) while {0}: a time, size or noise \
         setting is too large, or a bandwidth too small, for the model"
    )]
    TimeOverflow(&'static str),
    /// Background traffic started more flows than this budget.
    #[error(
        "background traffic started more than {0} flows in one trial: lower \
         noise.background.rate (or the flows' size)"
    )]
    BackgroundBudget(u64),
}

impl EngineError {
    /// True if the error comes from the inputs' values (the user's to fix),
    /// not from a malformed task graph.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            EngineError::TimeOverflow(_) | EngineError::BackgroundBudget(_)
        )
    }
}

/// Background flows one trial may start: bounds the time and memory of a
/// run whatever `noise.background.rate` says.
pub const MAX_BACKGROUND_FLOWS: u64 = 100_000;

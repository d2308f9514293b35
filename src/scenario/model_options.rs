//! The scenario keys that shape an analytical model's layers — `recompute`,
//! `parallelism.sequence_parallel`, `compute_efficiency` (alias `mfu`) and
//! the microbatch size — checked and turned into [`WorkloadOptions`].
//! It does not load the workload.

use super::ScenarioFile;
use crate::input::{InputError, Source};
use crate::schedule::Schedule;
use crate::training::Parallelism;
use crate::workload::WorkloadOptions;

/// The workload options a scenario imposes; errors name the key and line.
pub(super) fn options(
    src: &Source,
    spec: &ScenarioFile,
    parallelism: Parallelism,
) -> Result<WorkloadOptions, InputError> {
    if let Some(e) = &spec.compute_efficiency
        && !(e.value > 0.0 && e.value <= 1.0)
    {
        return Err(src
            .error_at(
                e,
                format!(
                    "compute_efficiency (mfu) must be in (0, 1], not {}",
                    e.value
                ),
            )
            .with_path("compute_efficiency"));
    }
    if parallelism.sequence_parallel && parallelism.tensor < 2 {
        let msg = "sequence_parallel splits the sequence over the tensor-parallel ranks: \
                   it needs tensor parallelism (parallelism.tensor ≥ 2); set tensor ≥ 2 or \
                   remove sequence_parallel";
        let err = match &spec.parallelism {
            Some(p) => src.error_at(p, msg),
            None => src.error(msg),
        };
        return Err(err.with_path("parallelism.sequence_parallel"));
    }
    let schedule = spec.pipeline.schedule.value;
    // Kernels are shaped for what one op computes: a microbatch, or the
    // whole minibatch (naive, PipeDream).
    let microbatches = if schedule == Schedule::Naive || schedule.microbatch_is_minibatch() {
        1
    } else {
        spec.pipeline.microbatches.value.max(1)
    };
    Ok(WorkloadOptions {
        tensor: parallelism.tensor,
        compute_efficiency: spec.compute_efficiency.as_ref().map(|e| e.value),
        microbatches,
        pipeline: parallelism.pipeline,
        recompute: spec.recompute.as_ref().map(|r| r.value).unwrap_or_default(),
        sequence_parallel: parallelism.sequence_parallel,
    })
}

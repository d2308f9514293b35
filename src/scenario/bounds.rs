//! Documented bounds on a scenario's counts (README, "Limits"): values past
//! them are refused at load time with the line and the allowed range,
//! rather than exhausting memory or time, or running something that means
//! nothing (more microbatches than samples). It checks counts and the
//! amortization period; units are bounded where they are parsed
//! (`units.rs`), noise in `noise.rs`.

use super::ScenarioFile;
use crate::input::{InputError, Source};
use crate::workload::Workload;

/// Microbatches per iteration: the plan holds O(microbatches × stages) tasks.
pub const MAX_MICROBATCHES: u32 = 65_536;
/// Pipelined chunks per collective: each is a full pass of the algorithm.
pub const MAX_CHUNKS: u32 = 1024;
/// Trials per run (and per sweep point): ten million iterations.
pub const MAX_TRIALS: u64 = 10_000_000;
/// Years capex is spread over in the cost per hour: a few days' rental to
/// a century. Past them the cost per hour or the period printed runs to
/// hundreds of digits (1e-300 years: $1e301 an hour), and means nothing.
pub const AMORTIZATION_YEARS: std::ops::RangeInclusive<f64> = 0.01..=100.0;
/// Compute of one iteration's layers (forward + backward, one replica):
/// half of simulated time's 213 days, leaving room for communication.
pub const MAX_ITERATION_SECS: f64 = 100.0 * 86_400.0;

/// Checks microbatches, collective chunks, the amortization period and the
/// trial count.
pub(super) fn check(
    src: &Source,
    spec: &ScenarioFile,
    workload: &Workload,
    trials: u64,
) -> Result<(), InputError> {
    let m = &spec.pipeline.microbatches;
    let most = workload.batch_size.min(MAX_MICROBATCHES);
    if m.value > most {
        let why = if workload.batch_size < MAX_MICROBATCHES {
            format!(
                "the workload's batch has {} samples and a microbatch holds at least one",
                workload.batch_size
            )
        } else {
            format!("at most {MAX_MICROBATCHES} are supported")
        };
        return Err(src
            .error_at(
                m,
                format!(
                    "microbatches must be between 1 and {most}, not {}: {why}",
                    m.value
                ),
            )
            .with_path("pipeline.microbatches"));
    }
    check_layers(src, spec, workload)?;
    let chunks = spec.collective.chunks;
    if !(1..=MAX_CHUNKS).contains(&chunks) {
        return Err(src.error_at_key(
            "collective.chunks",
            format!("chunks must be a whole number from 1 to {MAX_CHUNKS}, not {chunks}"),
        ));
    }
    let years = &spec.cost.amortization_years;
    if !AMORTIZATION_YEARS.contains(&years.value) {
        let (lo, hi) = AMORTIZATION_YEARS.into_inner();
        return Err(src
            .error_at(
                years,
                format!(
                    "amortization_years must be between {lo} and {hi} years, not {}",
                    years.value
                ),
            )
            .with_path("cost.amortization_years"));
    }
    if trials > MAX_TRIALS {
        let msg = format!("the scenario runs {trials} trials; at most {MAX_TRIALS} are supported");
        return Err(match (&spec.trials.count, &spec.trials.epochs) {
            (Some(c), _) => src.error_at(c, msg).with_path("trials.count"),
            (_, Some(e)) => src.error_at(e, msg).with_path("trials.epochs"),
            _ => src.error(msg),
        });
    }
    Ok(())
}

/// Every layer's compute time within a day, and its sizes within 1 PiB: a
/// derived time past that (a tiny efficiency or peak, a huge model) would
/// overflow simulated time in the run, so it is refused here, where
/// `validate` sees it too.
fn check_layers(src: &Source, spec: &ScenarioFile, workload: &Workload) -> Result<(), InputError> {
    use crate::units::{MAX_BYTES, MAX_TIME_SECS};
    let total: f64 = workload
        .layers
        .iter()
        .map(|l| (l.forward + l.backward).as_secs_f64())
        .sum();
    if total > MAX_ITERATION_SECS {
        return Err(src
            .error_at(
                &spec.workload,
                format!(
                    "the workload's layers add up to {} of compute per iteration, past the \
                     bound of 100 days (simulated time ends at about 213 days): check the \
                     layer times, the model's size, the GPU's peak and the efficiency (mfu)",
                    crate::units::format_secs(total)
                ),
            )
            .with_path("workload"));
    }
    for l in &workload.layers {
        let worst = l.forward.max(l.backward).as_secs_f64();
        let biggest = l.activation_bytes.max(l.grad_bytes).max(l.param_bytes);
        let problem = if worst > MAX_TIME_SECS {
            format!("a compute time of {worst:.3e}s, past the bound of 1 day (86400s)")
        } else if biggest > MAX_BYTES {
            format!("a size of {biggest} bytes, past the bound of 1 PiB (2^50 bytes)")
        } else {
            continue;
        };
        return Err(src
            .error_at(
                &spec.workload,
                format!(
                    "layer `{}` of the workload has {problem}: check the model's size, the \
                     GPU's peak and the efficiency (mfu)",
                    l.name
                ),
            )
            .with_path("workload"));
    }
    Ok(())
}

//! Figures derived from a run's summary and its scenario rather than
//! simulated: achieved TFLOP/s per GPU and MFU, the memory estimate, and
//! cost.
//!
//! - achieved TFLOP/s per GPU = `ModelStats.flops_per_step` × minibatches
//!   per iteration (data, × m for PipeDream) / mean
//!   iteration time / GPUs (model FLOPs: 6·N·tokens plus attention, no
//!   recomputation counted, as in the PaLM paper's MFU definition);
//!   MFU = achieved / the GPU's dense peak for the model's dtype; HFU the
//!   same with `hardware_flops_per_step` (recompute's re-run forward
//!   counted, as Megatron-LM's "achieved TFLOP/s" does).
//! - cost per hour = capex / (`cost.amortization_years` × 8766 h) + power
//!   per hour (IT watts × PUE × $/kWh, from the price catalog); per step =
//!   per hour × mean iteration time / 3600; per million tokens = per step /
//!   (tokens per step / 1e6). Absent only for clusters built without prices.

use crate::report::{CostSummary, Summary};
use crate::scenario::Scenario;
use crate::training::TrainingJob;

/// Hours in a year (365.25 days).
pub const HOURS_PER_YEAR: f64 = 8766.0;

/// Fills the derived fields of `summary` (whose iteration time is set).
pub fn fill(scenario: &Scenario, job: &TrainingJob, summary: &mut Summary) {
    let mean = summary.iteration.mean_s;
    let gpus = scenario.cluster.num_gpus() as f64;
    if let Some(model) = &scenario.workload.model
        && mean > 0.0
        && gpus > 0.0
    {
        let minibatches = scenario.minibatches_per_iteration();
        let flops = model.flops_per_step * minibatches;
        let per_gpu = flops / mean / gpus;
        summary.achieved_tflops_per_gpu = Some(per_gpu / 1e12);
        let peak = crate::memory::model_dtype(job)
            .map(|d| d.peak(&scenario.cluster.gpu))
            .filter(|&p| p > 0.0);
        summary.mfu = peak.map(|p| per_gpu / p);
        let hardware = model.hardware_flops_per_step * minibatches;
        summary.hfu = peak.map(|p| hardware / mean / gpus / p);
    }
    summary.memory = Some(crate::memory::estimate(
        job,
        scenario.cluster.gpu.memory_bytes,
    ));
    summary.cost = cost(scenario, mean);
}

/// The cost summary at mean iteration time `mean` (seconds).
pub fn cost(scenario: &Scenario, mean: f64) -> Option<CostSummary> {
    let prices = scenario.cluster.cost.as_ref()?;
    let estimate = prices.estimate(&scenario.cluster);
    let years = scenario.amortization_years;
    let per_hour = estimate.capex / (years * HOURS_PER_YEAR) + estimate.power_per_hour;
    let per_step = per_hour * mean / 3600.0;
    let w = &scenario.workload;
    let tokens = w.model.as_ref().map(|m| {
        m.tokens_per_sample as f64 * f64::from(w.batch_size) * scenario.minibatches_per_iteration()
    });
    Some(CostSummary {
        capex: estimate.capex,
        capex_gpus: estimate.gpus,
        capex_nics: estimate.nics,
        capex_switches: estimate.switches,
        capex_optics: estimate.optics,
        power_kw: estimate.watts / 1000.0,
        power_per_hour: estimate.power_per_hour,
        catalog_date: estimate.catalog_date,
        amortization_years: years,
        per_hour,
        per_step,
        per_million_tokens: tokens.filter(|&t| t > 0.0).map(|t| per_step / (t / 1e6)),
    })
}

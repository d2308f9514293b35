//! The model being trained, as a list of [`Layer`]s with per-minibatch compute
//! times and tensor sizes: what a pipeline schedule cuts into stages and what
//! data parallelism all-reduces.
//!
//! A workload file (DESIGN §4) is one of three forms, all strict
//! (`deny_unknown_fields`, times need units):
//!
//! 1. a YAML trace, layer by layer (`layers:`), see [`trace`];
//! 2. a CSV trace, either given directly as the workload file (`*.csv`) or
//!    referenced from a YAML wrapper (`csv: layers.csv`, relative to the YAML
//!    file), see [`csv_trace`]. A CSV used standalone has
//!    `batch_size = samples_per_epoch = 1` and is named after its file stem;
//!    wrap it in YAML to set them;
//! 3. an analytical transformer (`model: { kind: transformer, ... }`) whose
//!    times come from FLOPs and bytes on the cluster's GPU, see [`transformer`].
//!
//! Layer times are for one whole minibatch (`batch_size` samples) on one GPU;
//! a microbatch of b samples takes b/batch_size of each time and activation.
//!
//! This module knows nothing of schedules, stages or the fabric.

pub mod csv_trace;
pub mod kernels;
pub mod trace;
pub mod transformer;

use crate::input::{InputError, Source};
use crate::topology::GpuSpec;
use crate::units::SimTime;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

pub use transformer::{Dtype, Optimizer, Recompute};

/// A loaded, validated workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// The workload's name.
    pub name: String,
    /// Free text from the workload file.
    pub description: String,
    /// Samples per minibatch (per data-parallel replica).
    pub batch_size: u32,
    /// Trials = ceil(samples_per_epoch / batch_size) × epochs.
    pub samples_per_epoch: u64,
    /// The layers, first to last.
    pub layers: Vec<Layer>,
    /// Analytical models only: totals for reports.
    pub model: Option<ModelStats>,
}

/// One layer: times and sizes for a whole minibatch on one GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The layer's name (collectives are named after it).
    pub name: String,
    /// Whole minibatch (`batch_size` samples) on one GPU.
    pub forward: SimTime,
    /// Whole backward: input-gradient + weight-gradient.
    pub backward: SimTime,
    /// The weight-gradient (W) part of `backward`, for zero-bubble schedules;
    /// 0 if unknown.
    pub backward_weight: SimTime,
    /// This layer's output activation for the whole minibatch (what crosses a
    /// pipeline cut after it).
    pub activation_bytes: u64,
    /// Gradient bytes per minibatch (what data parallelism all-reduces).
    pub grad_bytes: u64,
    /// Weight bytes held by one GPU (default: = `grad_bytes`).
    pub param_bytes: u64,
    /// Activation memory stashed for backward per minibatch (default: =
    /// `activation_bytes`).
    pub stash_bytes: u64,
    /// Tensor parallel: bytes of EACH per-layer activation all-reduce for the
    /// whole minibatch (0 when t = 1).
    pub tensor_allreduce_bytes: u64,
    /// How many such all-reduces in forward; Megatron: 2 per transformer
    /// block.
    pub tensor_allreduces: u32,
    /// How many in backward: as many as in forward, + the forward's again
    /// when the backward first recomputes the forward (full recompute).
    pub tensor_allreduces_backward: u32,
    /// FLOPs of the forward for the whole minibatch on one GPU (0 if unknown).
    pub flops_forward: f64,
    /// Extra activation bytes per minibatch live while this layer's backward
    /// runs (what recompute rematerialises); 0 for traces.
    pub backward_working_bytes: u64,
    /// The optimizer step of this layer's parameters on one GPU, once per
    /// iteration (before ZeRO sharding); 0 for traces.
    pub optimizer_step: SimTime,
}

/// Whole-model totals of an analytical model, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStats {
    /// Distinct parameters of the whole model (tied embeddings counted once).
    pub parameters: f64,
    /// Training FLOPs per minibatch including backward, whole model (not
    /// divided by the tensor degree).
    pub flops_per_step: f64,
    /// Hardware FLOPs per minibatch: model FLOPs + what recompute re-runs.
    pub hardware_flops_per_step: f64,
    /// Tokens per sample (the sequence length).
    pub tokens_per_sample: u64,
    /// The optimizer named in the file, for memory estimates.
    pub optimizer: Optimizer,
    /// Per GPU: the tied word-embedding gradient all-reduced between the
    /// first and last pipeline stage (0 when untied or without a pipeline).
    pub tied_embedding_bytes: u64,
}

/// What the caller (the scenario) imposes on a workload.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadOptions {
    /// Tensor-parallel degree; analytical models only (a trace is measured at
    /// a fixed degree, so t > 1 with a trace is an error).
    pub tensor: u32,
    /// Overrides the model file's `compute_efficiency` (alias `mfu`):
    /// one efficiency instead of the shape-aware kernel model.
    pub compute_efficiency: Option<f64>,
    /// Microbatches per minibatch: kernels are shaped for one microbatch.
    pub microbatches: u32,
    /// Pipeline stages (tied embeddings get a copy on the last stage).
    pub pipeline: u32,
    /// Activation recompute mode.
    pub recompute: Recompute,
    /// Megatron sequence parallelism over the tensor ranks.
    pub sequence_parallel: bool,
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        WorkloadOptions {
            tensor: 1,
            compute_efficiency: None,
            microbatches: 1,
            pipeline: 1,
            recompute: Recompute::None,
            sequence_parallel: false,
        }
    }
}

/// The top level of a YAML workload file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadFile {
    name: String,
    #[serde(default)]
    description: String,
    batch_size: Spanned<u32>,
    samples_per_epoch: Spanned<u64>,
    #[serde(default)]
    backward_weight_fraction: Option<Spanned<f64>>,
    #[serde(default)]
    layers: Option<Spanned<Vec<trace::LayerSpec>>>,
    #[serde(default)]
    csv: Option<Spanned<String>>,
    #[serde(default)]
    model: Option<Spanned<transformer::ModelSpec>>,
}

/// Reads and validates a workload file: YAML (`.yaml`/`.yml`/anything else)
/// or a standalone CSV trace (`.csv`).
pub fn load(path: &Path, gpu: &GpuSpec, opts: &WorkloadOptions) -> Result<Workload, InputError> {
    let src = Source::read(path)?;
    from_source(&src, gpu, opts)
}

/// As [`load`], from text already read. A file name ending in `.csv` is read
/// as a CSV trace.
pub fn from_source(
    src: &Source,
    gpu: &GpuSpec,
    opts: &WorkloadOptions,
) -> Result<Workload, InputError> {
    let is_csv = src
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        no_tensor_for_traces(src, opts)?;
        let layers = csv_trace::parse(&src.file, &src.text, None)?;
        let name = src
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "csv".to_string());
        return Ok(Workload {
            description: format!("CSV trace {}", src.file.display()),
            name,
            batch_size: 1,
            samples_per_epoch: 1,
            layers,
            model: None,
        });
    }
    let file: WorkloadFile = src.parse()?;
    if file.batch_size.value == 0 {
        return Err(src.error_at(&file.batch_size, "batch_size must be at least 1"));
    }
    if file.samples_per_epoch.value == 0 {
        return Err(src.error_at(
            &file.samples_per_epoch,
            "samples_per_epoch must be at least 1",
        ));
    }
    let forms = [
        file.layers.is_some(),
        file.csv.is_some(),
        file.model.is_some(),
    ];
    if forms.iter().filter(|&&f| f).count() != 1 {
        return Err(src.error("give exactly one of `layers:` (a trace), `csv:` (a CSV trace) or `model:` (an analytical model)"));
    }
    let bw_fraction = match &file.backward_weight_fraction {
        Some(f) if !(0.0..=1.0).contains(&f.value) => {
            return Err(src.error_at(f, "backward_weight_fraction must be between 0 and 1"));
        }
        Some(f) if file.model.is_some() => {
            return Err(src.error_at(
                f,
                "backward_weight_fraction applies to traces; an analytical model derives it",
            ));
        }
        Some(f) => Some(f.value),
        None => None,
    };
    let mut model = None;
    let layers = if let Some(layers) = &file.layers {
        no_tensor_for_traces(src, opts)?;
        trace::layers_from_yaml(src, layers, bw_fraction)?
    } else if let Some(csv) = &file.csv {
        no_tensor_for_traces(src, opts)?;
        let path = src.file.parent().unwrap_or(Path::new("")).join(&csv.value);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            src.error_at(
                csv,
                format!("cannot read the CSV trace {}: {e}", path.display()),
            )
        })?;
        csv_trace::parse(&path, &text, bw_fraction)?
    } else if let Some(spec) = &file.model {
        let (layers, stats) = transformer::expand(src, spec, file.batch_size.value, gpu, opts)?;
        model = Some(stats);
        layers
    } else {
        Vec::new()
    };
    if layers.is_empty() {
        return Err(src.error("the workload has no layers; give at least one"));
    }
    Ok(Workload {
        name: file.name,
        description: file.description,
        batch_size: file.batch_size.value,
        samples_per_epoch: file.samples_per_epoch.value,
        layers,
        model,
    })
}

fn no_tensor_for_traces(src: &Source, opts: &WorkloadOptions) -> Result<(), InputError> {
    if opts.tensor > 1 {
        return Err(src.error(format!(
            "tensor parallelism (degree {}) needs an analytical `model:`; a trace is measured at a fixed degree",
            opts.tensor
        )));
    }
    Ok(())
}

impl Workload {
    /// The share of a minibatch in one of `microbatches` equal microbatches:
    /// 1/m (DESIGN §4: a microbatch of b samples takes b/batch_size of each
    /// time and activation). 0 microbatches is treated as 1.
    pub fn microbatch_fraction(&self, microbatches: u32) -> f64 {
        1.0 / f64::from(microbatches.max(1))
    }

    /// Minibatches in one epoch: ceil(samples_per_epoch / batch_size).
    pub fn minibatches_per_epoch(&self) -> u64 {
        self.samples_per_epoch
            .div_ceil(u64::from(self.batch_size.max(1)))
    }

    /// Trials (iterations) for `epochs` epochs.
    pub fn trials_for_epochs(&self, epochs: u64) -> u64 {
        self.minibatches_per_epoch().saturating_mul(epochs)
    }

    /// Σ parameter bytes over all layers (one GPU).
    pub fn total_param_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.param_bytes).sum()
    }

    /// Σ gradient bytes over all layers (one GPU).
    pub(crate) fn total_grad_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.grad_bytes).sum()
    }

    /// Σ forward over all layers (one minibatch, one GPU).
    pub fn total_forward(&self) -> SimTime {
        self.layers.iter().fold(SimTime::ZERO, |a, l| a + l.forward)
    }

    /// Σ backward over all layers (one minibatch, one GPU).
    pub fn total_backward(&self) -> SimTime {
        self.layers
            .iter()
            .fold(SimTime::ZERO, |a, l| a + l.backward)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::topology::PeakFlops;
    use crate::units::Bandwidth;

    /// NVIDIA A100-SXM4-80GB datasheet: dense 19.5 TF fp32, 156 TF tf32,
    /// 312 TF bf16/fp16, no fp8; 2039 GB/s HBM2e.
    pub(crate) fn a100() -> GpuSpec {
        GpuSpec {
            name: "A100-SXM4-80GB".into(),
            peak_flops: PeakFlops {
                fp32: 19.5e12,
                tf32: 156e12,
                bf16: 312e12,
                fp16: 312e12,
                fp8: 0.0,
            },
            memory_bytes: 80 * (1 << 30),
            hbm_bandwidth: Bandwidth::new(2039e9).unwrap(),
        }
    }

    pub(crate) fn yaml(text: &str) -> Result<Workload, InputError> {
        from_source(
            &Source::from_text("w.yaml", text),
            &a100(),
            &WorkloadOptions::default(),
        )
    }

    const MNIST: &str = "name: mnist-mlp\ndescription: MLP\nbatch_size: 64\nsamples_per_epoch: 60000\nlayers:\n  - { name: fc1, forward: 20us, backward: 40us, activation_bytes: 65536, grad_bytes: 803840 }\n  - { name: fc2, forward: 8us, backward: 16us, activation_bytes: 32768, grad_bytes: 131584 }\n";

    #[test]
    fn helpers_count_minibatches_and_sum() {
        let w = yaml(MNIST).unwrap();
        assert_eq!(w.minibatches_per_epoch(), 938);
        assert_eq!(w.trials_for_epochs(10), 9380);
        assert_eq!(w.microbatch_fraction(4), 0.25);
        assert_eq!(w.microbatch_fraction(0), 1.0);
        assert_eq!(w.total_param_bytes(), 803840 + 131584);
        assert_eq!(w.total_forward(), SimTime::from_us(28));
        assert_eq!(w.total_backward(), SimTime::from_us(56));
    }

    #[test]
    fn top_level_errors_name_the_place() {
        let e = yaml("name: x\nbatch_size: 1\nsamples_per_epoch: 1\nlayers: []\n").unwrap_err();
        assert!(e.message.contains("no layers"), "{e}");
        assert_eq!(e.file, Path::new("w.yaml"));
        let e = yaml("name: x\nbatch_size: 0\nsamples_per_epoch: 1\nlayers: []\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.yaml_path.as_deref(), Some("batch_size"));
        let e = yaml("name: x\nbatch_size: 1\nsamples_per_epoch: 1\ncolour: red\nlayers: []\n")
            .unwrap_err();
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        assert_eq!(e.line, Some(4));
        let e = yaml("name: x\nbatch_size: 1\nsamples_per_epoch: 1\n").unwrap_err();
        assert!(e.message.contains("exactly one"), "{e}");
        let e = yaml("name: x\nbatch_size: 1\nsamples_per_epoch: 1\nbackward_weight_fraction: 2\nlayers: []\n").unwrap_err();
        assert_eq!(e.yaml_path.as_deref(), Some("backward_weight_fraction"));
    }

    #[test]
    fn traces_refuse_tensor_parallelism() {
        let opts = WorkloadOptions {
            tensor: 2,
            ..Default::default()
        };
        let e = from_source(&Source::from_text("w.yaml", MNIST), &a100(), &opts).unwrap_err();
        assert!(e.message.contains("tensor parallelism"), "{e}");
    }

    #[test]
    fn missing_csv_names_the_yaml_line() {
        let e = yaml("name: x\nbatch_size: 1\nsamples_per_epoch: 1\ncsv: /nonexistent/l.csv\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.yaml_path.as_deref(), Some("csv"));
        assert!(e.to_string().contains("/nonexistent/l.csv"), "{e}");
    }
}

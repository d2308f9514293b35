//! The analytical transformer: `model: { kind: transformer, ... }` expanded
//! into layers `embedding`, `block0..block{L-1}`, `head`, with times from
//! their kernels' shapes on the cluster's GPU. No measurement is involved.
//!
//! Notation: b sequences per minibatch (`batch_size`), s `seq`, h `hidden`,
//! a `heads`, k `kv_heads` (default a), L `layers`, V `vocab`, f
//! `ffn_multiplier` (FFN width F = f·h, default f = 4), n = 2 matrices in the
//! MLP for `mlp: gelu`, 3 for `mlp: swiglu`, d bytes per element of `dtype`,
//! t the tensor-parallel degree, m the microbatches a minibatch is cut into.
//!
//! Formulas (Narayanan et al., SC'21, §5.1 / appendix; Korthikanti et al.
//! 2022, "Reducing Activation Recomputation in Large Transformer Models"),
//! generalised to grouped-query attention and gated MLPs:
//! - block weight matrices `M = 2h² + 2h·(k·h/a) + n·h·F`; block parameters
//!   = M + biases (`2h + 2k·h/a + (n−1)F + h`, if `bias`) + 4h (two norms).
//!   Default GPT: **12h² + 13h**.
//! - block forward FLOPs per sequence `2·s·M + 4·s²·h`; backward = 2 ×
//!   forward. `ModelStats.flops_per_step` = 3 × Σ forward (model FLOPs, for
//!   MFU); `hardware_flops_per_step` adds what recompute re-runs (for HFU).
//! - times: by default the shape-aware model (`block`, [`super::kernels`]):
//!   each kernel of one microbatch (b/m sequences) timed from its GEMM shapes
//!   or its bytes on the GPU preset's [`crate::topology::gpu::ComputeProfile`], × m. With
//!   `compute_efficiency` (alias `mfu`, in the model or the scenario) the
//!   older single-knob roofline instead: max(FLOPs / t / (peak ×
//!   efficiency), bytes moved / HBM bandwidth) per layer.
//! - recompute (scenario `recompute:`): `full` re-runs each block's forward,
//!   with its two tensor-parallel all-reduces, before its backward;
//!   `selective` re-runs the attention core. Stash per `block::stash`.
//! - sequence parallelism divides LayerNorm/dropout work and activations by
//!   t (the all-reduces become reduce-scatter + all-gather in `training`).
//! - `kernels: megatron-2021` adds the memory-bound kernels Megatron-LM's
//!   2021 block ran between its GEMMs (unfused QKV bias, bias-gradient
//!   reductions, the attention context's layout copies, a two-pass
//!   LayerNorm backward; `block::megatron_2021_extras`); the default
//!   `fused` folds them into neighbouring kernels.
//! - the embedding is a memory-bound gather (2·b·s·h·d each way); the head is
//!   the logits GEMM + fp32 cross-entropy. With tied embeddings and a
//!   pipeline (p > 1) the last stage holds its own copy of the V·h word
//!   embeddings, whose gradient is all-reduced with the first stage's
//!   (`ModelStats.tied_embedding_bytes`); with p = 1 they are one matrix.
//! - each microbatch's weight gradients are added into the main-gradient
//!   buffer (Megatron-LM's `main_grad.add_(grad)`): 3·d bytes per
//!   parameter per microbatch, memory-bound, in the backward.
//! - each layer's `optimizer_step`: the optimizer is memory-bound, with the
//!   bytes of Megatron-LM's mixed-precision step
//!   ([`Optimizer::step_bytes_per_param`]: 52 per parameter for 16-bit
//!   Adam), over HBM at `hbm_fraction`.
//!
//! Gradients are counted in `dtype` (no fp32 gradient all-reduce).

mod block;
mod layers;

pub use block::{Kernels, Recompute};

use super::kernels::Gpu;
use super::{Layer, ModelStats, WorkloadOptions};
use crate::input::{InputError, Source};
use crate::topology::GpuSpec;
use crate::topology::gpu::compute_profile;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Element type of weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 32-bit float.
    Fp32,
    /// TF32: stored as 32-bit float, multiplied on tensor cores.
    Tf32,
    /// bfloat16.
    Bf16,
    /// IEEE half precision.
    Fp16,
    /// 8-bit float.
    Fp8,
}

impl Dtype {
    /// Bytes per element.
    pub fn bytes(self) -> u64 {
        match self {
            Dtype::Fp32 | Dtype::Tf32 => 4,
            Dtype::Bf16 | Dtype::Fp16 => 2,
            Dtype::Fp8 => 1,
        }
    }
    /// The GPU's dense peak for this type, FLOP/s.
    pub fn peak(self, gpu: &GpuSpec) -> f64 {
        let p = &gpu.peak_flops;
        match self {
            Dtype::Fp32 => p.fp32,
            Dtype::Tf32 => p.tf32,
            Dtype::Bf16 => p.bf16,
            Dtype::Fp16 => p.fp16,
            Dtype::Fp8 => p.fp8,
        }
    }
}

/// The optimizer, for memory estimates by callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Adam: two moments per parameter.
    #[default]
    Adam,
    /// Plain SGD: no optimizer state.
    Sgd,
}

impl Optimizer {
    /// HBM bytes moved per parameter by one optimizer step, as Megatron-LM's
    /// mixed-precision optimizer runs it (`Float16OptimizerWithFloat16Params
    /// .step`, megatron/optimizer/optimizer.py; apex `FusedAdam`;
    /// `clip_grad_norm_fp32`, megatron/optimizer/clip_grads.py), each kernel
    /// reading its inputs once and writing its outputs once:
    /// - below 32 bits: the gradient cast to an fp32 main gradient
    ///   (`grad.float()`: d + 4), the loss-scale unscale with its inf/NaN
    ///   check (`_amp_foreach_non_finite_check_and_unscale_`: 4 + 4) and the
    ///   updated fp32 main weights copied back to the d-byte model weights
    ///   (4 + d);
    /// - the gradient-clipping L2 norm (`multi_tensor_l2norm`: reads 4);
    /// - the update itself: reads the gradient and the fp32 weights and
    ///   moments, writes weights and moments (Adam m, v: 4 + 2 × 12 = 28;
    ///   SGD momentum: 4 + 2 × 8 = 20).
    ///
    /// 52 bytes for 16-bit Adam, 32 for fp32 Adam.
    pub fn step_bytes_per_param(self, dtype: Dtype) -> u64 {
        let d = dtype.bytes();
        let moments = match self {
            Optimizer::Adam => 8,
            Optimizer::Sgd => 4,
        };
        let mixed = if d < 4 { (d + 4) + 8 + (4 + d) } else { 0 };
        mixed + 4 + (4 + 2 * (4 + moments))
    }

    /// Optimizer state per parameter (ZeRO paper's accounting): Adam keeps
    /// m and v in fp32, SGD a momentum; below-32-bit training adds an fp32
    /// master copy.
    pub fn state_bytes_per_param(self, dtype: Dtype) -> u64 {
        let master = if dtype.bytes() < 4 { 4 } else { 0 };
        master
            + match self {
                Optimizer::Adam => 8,
                Optimizer::Sgd => 4,
            }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Transformer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mlp {
    #[default]
    Gelu,
    Swiglu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Attention {
    /// Megatron-LM's attention: QKᵀ and ·V GEMMs, a fused softmax and a
    /// dropout over the s × s scores in memory.
    #[default]
    Standard,
    /// FlashAttention: one fused kernel, no s × s tensor in memory.
    Flash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Position {
    #[default]
    Learned,
    Rotary,
}

fn yes() -> bool {
    true
}

/// The `model:` mapping.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[allow(dead_code)]
    kind: Kind,
    layers: Spanned<u32>,
    hidden: Spanned<u64>,
    heads: Spanned<u32>,
    #[serde(default)]
    kv_heads: Option<Spanned<u32>>,
    seq: Spanned<u64>,
    vocab: Spanned<u64>,
    dtype: Spanned<Dtype>,
    #[serde(default)]
    ffn_multiplier: Option<Spanned<f64>>,
    #[serde(default)]
    mlp: Mlp,
    /// A single compute efficiency instead of the shape-aware model.
    #[serde(default, alias = "mfu")]
    compute_efficiency: Option<Spanned<f64>>,
    #[serde(default)]
    attention: Attention,
    #[serde(default)]
    optimizer: Optimizer,
    #[serde(default = "yes")]
    tied_embeddings: bool,
    #[serde(default)]
    position: Position,
    #[serde(default = "yes")]
    bias: bool,
    /// Which implementation's kernels run a block (`fused`, or
    /// `megatron-2021` for the SC'21-era stack's extra memory traffic).
    #[serde(default)]
    kernels: Kernels,
}

/// Checks one spanned condition, naming `model.<field>`.
fn check<T>(
    src: &Source,
    v: &Spanned<T>,
    ok: bool,
    field: &str,
    msg: String,
) -> Result<(), InputError> {
    if ok {
        Ok(())
    } else {
        Err(src.error_at(v, msg).with_path(format!("model.{field}")))
    }
}

/// Checks the model's sizes; returns (hidden, heads, kv_heads, ffn
/// multiplier).
fn shape_checks(src: &Source, m: &ModelSpec, t: u32) -> Result<(u64, u64, u64, f64), InputError> {
    check(
        src,
        &m.layers,
        m.layers.value >= 1,
        "layers",
        "layers must be at least 1".into(),
    )?;
    for (v, field) in [(&m.hidden, "hidden"), (&m.seq, "seq"), (&m.vocab, "vocab")] {
        check(
            src,
            v,
            v.value >= 1,
            field,
            format!("{field} must be at least 1"),
        )?;
    }
    let (h, a) = (m.hidden.value, u64::from(m.heads.value));
    check(
        src,
        &m.heads,
        a >= 1,
        "heads",
        "heads must be at least 1".into(),
    )?;
    check(
        src,
        &m.hidden,
        h % a == 0,
        "hidden",
        format!("hidden ({h}) must be divisible by heads ({a})"),
    )?;
    check(
        src,
        &m.heads,
        a % u64::from(t) == 0,
        "heads",
        format!("heads ({a}) must be divisible by the tensor-parallel degree ({t})"),
    )?;
    let k = match &m.kv_heads {
        Some(kv) => {
            let k = u64::from(kv.value);
            check(
                src,
                kv,
                k >= 1 && a % k == 0,
                "kv_heads",
                format!("kv_heads ({k}) must be at least 1 and divide heads ({a})"),
            )?;
            k
        }
        None => a,
    };
    let f = match &m.ffn_multiplier {
        Some(fm) => {
            let ok = fm.value.is_finite() && fm.value > 0.0 && (fm.value * h as f64).round() >= 1.0;
            check(
                src,
                fm,
                ok,
                "ffn_multiplier",
                "ffn_multiplier must be a positive number".into(),
            )?;
            fm.value
        }
        None => 4.0,
    };
    Ok((h, a, k, f))
}

/// Expands the model into layers for `batch` sequences per minibatch.
pub fn expand(
    src: &Source,
    spec: &Spanned<ModelSpec>,
    batch: u32,
    gpu: &GpuSpec,
    opts: &WorkloadOptions,
) -> Result<(Vec<Layer>, ModelStats), InputError> {
    let m = &spec.value;
    let t = opts.tensor;
    if t == 0 {
        return Err(src.error("the tensor-parallel degree must be at least 1"));
    }
    let (h, a, k, f) = shape_checks(src, m, t)?;
    let efficiency = match (opts.compute_efficiency, &m.compute_efficiency) {
        (Some(x), _) if !(x > 0.0 && x <= 1.0) => {
            return Err(src.error(format!(
                "the compute_efficiency override ({x}) must be in (0, 1]"
            )));
        }
        (Some(x), _) => Some(x),
        (None, Some(x)) => {
            check(
                src,
                x,
                x.value > 0.0 && x.value <= 1.0,
                "compute_efficiency",
                format!("compute_efficiency (mfu) ({}) must be in (0, 1]", x.value),
            )?;
            Some(x.value)
        }
        (None, None) => None,
    };
    let dtype = m.dtype.value;
    let peak = dtype.peak(gpu);
    check(
        src,
        &m.dtype,
        peak.is_finite() && peak > 0.0,
        "dtype",
        format!(
            "the GPU {} has no {dtype:?} peak; choose another dtype",
            gpu.name
        ),
    )?;
    let ffn = (f * h as f64).round();
    let n_mat = if m.mlp == Mlp::Swiglu { 3.0 } else { 2.0 };
    let dims = block::Dims {
        b: f64::from(batch) / f64::from(opts.microbatches.max(1)),
        s: m.seq.value as f64,
        h: h as f64,
        heads: a as f64,
        h_kv: (k as f64) * (h as f64) / (a as f64),
        ffn,
        n_mat,
        t: f64::from(t),
        vocab: m.vocab.value as f64,
        sequence_parallel: opts.sequence_parallel,
        flash: m.attention == Attention::Flash,
        bias: m.bias,
        kernels: m.kernels,
    };
    let g = Gpu {
        peak,
        hbm: gpu.hbm_bandwidth.bytes_per_sec(),
        profile: compute_profile(gpu),
        elem: dtype.bytes() as f64,
    };
    Ok(layers::build(
        m,
        &dims,
        &g,
        efficiency,
        f64::from(batch),
        opts,
    ))
}

#[cfg(test)]
mod tests;

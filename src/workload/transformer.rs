//! The analytical transformer: `model: { kind: transformer, ... }` expanded
//! into layers `embedding`, `block0..block{L-1}`, `head`, with times from
//! FLOPs and bytes on the cluster's GPU. No measurement is involved.
//!
//! Notation: b sequences per minibatch (`batch_size`), s `seq`, h `hidden`,
//! a `heads`, k `kv_heads` (default a), L `layers`, V `vocab`, f
//! `ffn_multiplier` (FFN width F = f·h, default f = 4), n = 2 matrices in the
//! MLP for `mlp: gelu`, 3 for `mlp: swiglu`, d bytes per element of `dtype`,
//! t the tensor-parallel degree.
//!
//! Formulas (Narayanan et al., SC'21, "Efficient Large-Scale Language Model
//! Training on GPU Clusters Using Megatron-LM", §5.1 / appendix; Korthikanti
//! et al. 2022, "Reducing Activation Recomputation in Large Transformer
//! Models", §4), generalised to grouped-query attention and gated MLPs:
//! - block weight matrices `M = 2h² + 2h·(k·h/a) + n·h·F` (Q, O; K, V; MLP);
//!   block parameters = M + biases (`2h + 2k·h/a + (n−1)F + h`, if `bias`)
//!   + 4h (two norms). Default GPT: **12h² + 13h**.
//! - block forward FLOPs per sequence `2·s·M + 4·s²·h` (2 FLOPs per MAC; the
//!   s² term is QKᵀ and attention×V). Default GPT: **24·s·h² + 4·s²·h**.
//!   Backward = 2 × forward; its weight-gradient part W = 2·s·M per sequence.
//! - embedding parameters V·h (+ s·h learned positions); head: LM head
//!   2·s·h·V forward FLOPs per sequence, its V·h weights shared with the
//!   embedding when `tied_embeddings` (default), + 2h final norm.
//! - `ModelStats.flops_per_step` = 3 × Σ forward FLOPs ≈ 6·N·b·s (the 4s²h
//!   attention term adds 2·s·h·L/N ≈ 3 % for GPT-3 175B).
//! - activation at a block boundary b·s·h·d; stashed for backward per block
//!   `s·b·h·(14 + 4k/a + 2·f·n + 5·a·s/h) / t` bytes, Korthikanti's
//!   `s·b·h·(34 + 5·a·s/h)` for GPT (16-bit; scaled by d/2 for 32-bit
//!   dtypes), divided by t as with sequence parallelism.
//! - time = max(FLOPs / t / (peak[dtype] × mfu), bytes_moved / HBM bandwidth),
//!   a roofline, rounded up to whole picoseconds. bytes_moved, roughly: a
//!   forward reads its weights and input and writes its stash; a backward
//!   reads weights and stash, writes weight gradients and reads/writes an
//!   activation gradient each. The embedding has no FLOPs: its forward moves
//!   2·b·s·h·d (gather), its backward 2·b·s·h·d + its weight gradient.
//! - tensor parallelism (t > 1; a divisible by t): weights, gradients and
//!   FLOPs split t ways; 2 activation all-reduces of b·s·h·d per block in
//!   forward (and 2 in backward); the vocab-parallel embedding and head one
//!   each (really the embedding's is in forward, the head's in backward).
//!
//! Gradients are counted in `dtype` (no fp32 gradient all-reduce). With tied
//! embeddings the head's weight gradient is summed into the embedding's; the
//! extra embedding all-reduce between the first and last stage is not modelled.

use super::{Layer, ModelStats, WorkloadOptions};
use crate::input::{InputError, Source};
use crate::topology::GpuSpec;
use crate::units::SimTime;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Element type of weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    Fp32,
    Tf32,
    Bf16,
    Fp16,
    Fp8,
}

impl Dtype {
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
    #[default]
    Adam,
    Sgd,
}

impl Optimizer {
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
    #[serde(default)]
    mfu: Option<Spanned<f64>>,
    #[serde(default)]
    optimizer: Optimizer,
    #[serde(default = "yes")]
    tied_embeddings: bool,
    #[serde(default)]
    position: Position,
    #[serde(default = "yes")]
    bias: bool,
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
    let mfu = match (opts.mfu, &m.mfu) {
        (Some(x), _) if !(x > 0.0 && x <= 1.0) => {
            return Err(src.error(format!("the mfu override ({x}) must be in (0, 1]")));
        }
        (Some(x), _) => x,
        (None, Some(x)) => {
            check(
                src,
                x,
                x.value > 0.0 && x.value <= 1.0,
                "mfu",
                format!("mfu ({}) must be in (0, 1]", x.value),
            )?;
            x.value
        }
        (None, None) => 0.5,
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
    let flops_rate = peak * mfu;
    let hbm = gpu.hbm_bandwidth.bytes_per_sec();

    // All sizes in f64: no overflow, converted (saturating) at the end.
    let (hf, af, kf) = (h as f64, a as f64, k as f64);
    let (s, v, b, tf) = (
        m.seq.value as f64,
        m.vocab.value as f64,
        f64::from(batch),
        f64::from(t),
    );
    let n_layers = m.layers.value;
    let d = dtype.bytes() as f64;
    let ffn = (f * hf).round();
    let n_mat = if m.mlp == Mlp::Swiglu { 3.0 } else { 2.0 };
    let h_kv = kf * hf / af;
    let matrices = 2.0 * hf * hf + 2.0 * hf * h_kv + n_mat * hf * ffn;
    let biases = if m.bias {
        2.0 * hf + 2.0 * h_kv + (n_mat - 1.0) * ffn + hf
    } else {
        0.0
    };
    let block_params = matrices + biases + 4.0 * hf;
    let emb_params = v * hf
        + if m.position == Position::Learned {
            s * hf
        } else {
            0.0
        };
    let head_params = 2.0 * hf + if m.tied_embeddings { 0.0 } else { v * hf };

    let boundary = b * s * hf * d;
    let tensor_ar = |count: u32| {
        if t > 1 {
            (count, bytes(boundary))
        } else {
            (0, 0)
        }
    };
    let time = |flops: f64, moved: f64| {
        SimTime::from_secs_ceil((flops / tf / flops_rate).max(moved / hbm))
    };

    // Transformer block.
    let block_fwd = b * (2.0 * s * matrices + 4.0 * s * s * hf);
    let block_w = b * 2.0 * s * matrices;
    let block_weights = block_params * d / tf;
    let stash_per_elem = 14.0 + 4.0 * kf / af + 2.0 * (ffn / hf) * n_mat + 5.0 * af * s / hf;
    let block_stash = s * b * hf * stash_per_elem * (d.max(2.0) / 2.0) / tf;
    let fwd = time(block_fwd, block_weights + boundary + block_stash);
    let bwd = time(
        2.0 * block_fwd,
        2.0 * block_weights + block_stash + 2.0 * boundary,
    );
    let (n_ar, ar_bytes) = tensor_ar(2);
    let block = |i: u32| Layer {
        name: format!("block{i}"),
        forward: fwd,
        backward: bwd,
        backward_weight: part(bwd, block_w / (2.0 * block_fwd)),
        activation_bytes: bytes(boundary),
        grad_bytes: bytes(block_weights),
        param_bytes: bytes(block_weights),
        stash_bytes: bytes(block_stash),
        tensor_allreduce_bytes: ar_bytes,
        tensor_allreduces: n_ar,
        flops_forward: block_fwd / tf,
    };

    // Embedding: a gather (read rows, write the activation), memory-bound.
    // Its backward is all weight gradient: read the activation gradient,
    // scatter-add it into rows (read + write), and touch the dense gradient.
    let emb_weights = emb_params * d / tf;
    let emb_bwd = time(0.0, 2.0 * boundary + emb_weights);
    let (n_ar, ar_bytes) = tensor_ar(1);
    let embedding = Layer {
        name: "embedding".into(),
        forward: time(0.0, 2.0 * boundary),
        backward: emb_bwd,
        backward_weight: emb_bwd,
        activation_bytes: bytes(boundary),
        grad_bytes: bytes(emb_weights),
        param_bytes: bytes(emb_weights),
        stash_bytes: bytes(4.0 * b * s), // int32 token ids
        tensor_allreduce_bytes: ar_bytes,
        tensor_allreduces: n_ar,
        flops_forward: 0.0,
    };

    // LM head + softmax cross-entropy (fp32 logits, vocab-parallel).
    let head_fwd = b * 2.0 * s * hf * v;
    let head_weights = head_params * d / tf;
    let head_read = v * hf * d / tf; // the (possibly shared) output matrix
    let logits = 4.0 * b * s * v / tf;
    let head_bwd = time(
        2.0 * head_fwd,
        head_read + head_weights + logits + 2.0 * boundary,
    );
    let head = Layer {
        name: "head".into(),
        forward: time(head_fwd, head_read + boundary + logits),
        backward: head_bwd,
        backward_weight: part(head_bwd, 0.5),
        activation_bytes: bytes(4.0 * b), // one fp32 loss per sequence
        grad_bytes: bytes(head_weights),
        param_bytes: bytes(head_weights),
        stash_bytes: bytes(boundary + logits),
        tensor_allreduce_bytes: ar_bytes,
        tensor_allreduces: n_ar,
        flops_forward: head_fwd / tf,
    };

    let mut layers = Vec::with_capacity(n_layers as usize + 2);
    layers.push(embedding);
    layers.extend((0..n_layers).map(block));
    layers.push(head);
    let stats = ModelStats {
        parameters: f64::from(n_layers) * block_params + emb_params + head_params,
        flops_per_step: 3.0 * (f64::from(n_layers) * block_fwd + head_fwd),
        tokens_per_sample: m.seq.value,
        optimizer: m.optimizer,
    };
    Ok((layers, stats))
}

/// A non-negative f64 byte count to u64 (rounding up, saturating).
fn bytes(x: f64) -> u64 {
    x.ceil() as u64
}

/// `fraction` of `whole`, never more than `whole`.
fn part(whole: SimTime, fraction: f64) -> SimTime {
    SimTime::from_secs_ceil(whole.as_secs_f64() * fraction).min(whole)
}

#[cfg(test)]
mod tests;

//! Kernel-by-kernel costs of one transformer block and of the LM head on one
//! GPU (its tensor shard), for one microbatch, with the shape-aware model of
//! [`crate::workload::kernels`]; and Korthikanti's activation memory per
//! recompute mode.
//!
//! Kernels of a block (Megatron-LM GPT, fused bias-GeLU, bias-dropout-add
//! and scale-mask-softmax), T = b·s tokens of the microbatch, t tensor
//! ranks, d bytes per element:
//! LayerNorm → QKV GEMM (T × (h + 2·h_kv)/t × h) → QKᵀ (batched b·a/t,
//! s × s × h/a) → softmax → dropout → ·V (s × h/a × s) → projection (T × h ×
//! h/t) → bias-dropout-add → LayerNorm → FC1 (T × (n−1)F/t × h) → bias-GeLU
//! → FC2 (T × h × F/t) → bias-dropout-add. Backward: every GEMM's input
//! gradient and weight gradient; element-wise kernels read the incoming
//! gradient and their saved input and write a gradient (≈ 1.5× forward
//! bytes). Without sequence parallelism LayerNorm and the dropout-adds run
//! on the full T × h on every tensor rank; with it on T/t × h.
//!
//! It does not place communication: that is the caller's.

use crate::workload::kernels::{Cost, Gpu};

/// The block's dimensions as seen by one GPU (floats: sizes can be large).
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    /// Sequences per microbatch.
    pub b: f64,
    pub s: f64,
    pub h: f64,
    pub heads: f64,
    /// Width of K (and of V): kv_heads × head dim.
    pub h_kv: f64,
    pub ffn: f64,
    /// Matrices in the MLP: 2 (GeLU) or 3 (SwiGLU).
    pub n_mat: f64,
    pub t: f64,
    pub vocab: f64,
    pub sequence_parallel: bool,
    pub flash: bool,
    /// Whether the linear layers have biases.
    pub bias: bool,
    /// Which implementation's kernels run the block.
    pub kernels: Kernels,
}

/// The kernels a block runs: how much memory traffic sits between its GEMMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub enum Kernels {
    /// Every bias, bias gradient and layout change folded into a neighbouring
    /// kernel (GEMM epilogues, fused attention), LayerNorm's backward in one
    /// pass: what today's stacks (Megatron-Core with Transformer Engine) run.
    #[default]
    #[serde(rename = "fused")]
    Fused,
    /// Megatron-LM as of the SC'21 paper (spring 2021) on the PyTorch of
    /// its day: the extra kernels of `megatron_2021_extras`.
    #[serde(rename = "megatron-2021")]
    Megatron2021,
}

/// One microbatch of a block or head on one GPU.
#[derive(Debug, Clone, Copy, Default)]
pub struct Costs {
    pub forward: Cost,
    /// Input + weight gradients (no recompute).
    pub backward: Cost,
    /// The weight-gradient GEMMs alone.
    pub backward_weight: Cost,
    /// What selective recompute re-runs: the attention core's forward.
    pub attention_core: Cost,
}

impl Dims {
    fn tokens(&self) -> f64 {
        self.b * self.s
    }
    /// Rows of the replicated element-wise kernels on each rank.
    fn norm_rows(&self) -> f64 {
        if self.sequence_parallel {
            self.tokens() / self.t
        } else {
            self.tokens()
        }
    }
}

/// FlashAttention's query and key block size (FlashAttention-2 on A100 and
/// H100 runs 128 × 128 tiles for head dims up to 128).
const FLASH_BLOCK: f64 = 128.0;

/// The share of s × s score blocks a causal FlashAttention kernel computes:
/// with n = ⌈s / block⌉ blocks a side, the n(n+1)/2 on or below the
/// diagonal, (n + 1) / (2n) of them (FlashAttention's benchmarks count
/// causal attention as half the FLOPs).
pub fn causal_fraction(s: f64) -> f64 {
    let n = (s / FLASH_BLOCK).ceil().max(1.0);
    (n + 1.0) / (2.0 * n)
}

/// Attention core (QKᵀ, softmax, dropout, ·V): (forward, backward).
fn attention(g: &Gpu, x: &Dims) -> (Cost, Cost) {
    let hd = x.h / x.heads;
    let batch = x.b * x.heads / x.t;
    let s = x.s;
    let (d, probs) = (g.elem, batch * s * s);
    if x.flash {
        // One fused kernel (FlashAttention): the two GEMMs' math at the GEMM
        // rate, no s × s tensor in memory. Its backward runs five GEMMs
        // against the forward's two (QKᵀ recomputed, dV = PᵀdO, dP = dO·Vᵀ,
        // dQ = dS·K, dK = dSᵀ·Q): 2.5 × the forward math, the count
        // FlashAttention-2's own benchmarks use (Dao 2023,
        // benchmarks/benchmark_flash_attention.py), at the same rate.
        // Causal: the kernel skips the key blocks above the diagonal
        // ([`causal_fraction`]); the FLOPs stay the conventional full count.
        let flops = 4.0 * s * s * hd * batch;
        let rate = g.peak * g.profile.gemm_fraction * g.quantization(s, hd, batch);
        let fwd = Cost {
            secs: causal_fraction(s) * flops / rate,
            flops,
        };
        let bwd = Cost {
            secs: 2.5 * fwd.secs,
            flops: 2.5 * flops,
        };
        return (fwd, bwd);
    }
    let fwd = g.gemm(s, s, hd, batch)
        + g.memory(2.0 * probs * d) // scale-mask-softmax: read + write
        + g.memory(probs * (2.0 * d + 1.0)) // dropout: read, write, mask
        + g.gemm(s, hd, s, batch);
    let bwd = g.gemm(s, s, hd, batch) // dP = dO·Vᵀ
        + g.gemm(hd, s, s, batch) // dV = Pᵀ·dO
        + g.memory(probs * (2.0 * d + 1.0)) // dropout backward
        + g.memory(3.0 * probs * d) // softmax backward
        + g.gemm(s, hd, s, batch) // dQ = dS·K
        + g.gemm(s, hd, s, batch); // dK = dSᵀ·Q
    (fwd, bwd)
}

/// The memory-bound kernels Megatron-LM's 2021 block ran on top of the fused
/// ones of [`block`]: (forward, backward). Read in Megatron-LM at commit
/// a8d172b31e (2021-04-30, the code of the paper's runs; the SC'21 scripts,
/// examples/sc21/run_table_1.sh at 6985e58938, set no flag that changes
/// them), on the PyTorch of 2021:
/// - the QKV bias: `ColumnParallelLinear` (megatron/mpu/layers.py) calls
///   `F.linear(input, weight, bias)` on the 3-D [s, b, h] input, which
///   PyTorch's `at::linear` (aten/src/ATen/native/Linear.cpp) ran as a
///   matmul then a separate `output.add_(bias)` (read + write of the QKV
///   output; the 3-D addmm path came to PyTorch in 2022);
/// - bias gradients: the fused bias-GeLU (megatron/model/fused_bias_gelu.py,
///   `GeLUFunction.backward` returns the full gradient for the bias) and
///   bias-dropout-add (`attention_bias.expand_as(residual)`,
///   megatron/model/transformer.py) leave autograd to sum a T-row gradient
///   per bias: one read of the QKV, FC1, projection and FC2 output
///   gradients;
/// - the context layout: `context_layer.permute(2, 0, 1, 3).contiguous()`
///   in `ParallelAttention.forward` copies the T × h/t context (read +
///   write), and its backward's reshape of the permuted gradient copies it
///   again;
/// - LayerNorm's backward (megatron/fused_kernels/layer_norm_cuda_kernel.cu,
///   `HostLayerNormGradient`): `cuComputePartGradGammaBeta` reads the
///   output gradient and the input for γ and β, then `cuComputeGradInput`
///   reads both again: 2·d bytes per element more than one pass.
///
/// Read in the same code and not modelled (both also in the Megatron-LM of
/// 2022): the causal fused softmax (`scaled_upper_triang_masked_softmax.h`)
/// reads only the lower triangle of the scores (forward: ½ read + 1 write
/// instead of 2; backward: 2 × ½ reads + 1 write instead of 3), and the
/// backward of `split_tensor_along_last_dim` (views, no copy) concatenates
/// the Q, K and V gradients (one read + write of the QKV output). Together
/// they move the SC'21 suite from mean |error| 8.0 % to 8.8 % (the softmax
/// alone: 8.9 %) and leave the Korthikanti-2022 suite at 2.6 %.
pub fn megatron_2021_extras(g: &Gpu, x: &Dims) -> (Cost, Cost) {
    let (d, tok, rows) = (g.elem, x.tokens(), x.norm_rows());
    let qkv = tok * (x.h + 2.0 * x.h_kv) / x.t;
    let context = tok * x.h / x.t;
    let up = (x.n_mat - 1.0) * x.ffn / x.t;
    let (bias_add, bias_grads) = if x.bias {
        // Projection and FC2 biases act on the full h (on T/t rows with
        // sequence parallelism), QKV and FC1 biases on their shards.
        (2.0 * qkv * d, (qkv + tok * up + 2.0 * rows * x.h) * d)
    } else {
        (0.0, 0.0)
    };
    let norms = 2.0 * (2.0 * rows * x.h * d);
    (
        g.memory(bias_add + 2.0 * context * d),
        g.memory(bias_grads + 2.0 * context * d + norms),
    )
}

/// One transformer block, one microbatch, one GPU.
pub fn block(g: &Gpu, x: &Dims) -> Costs {
    let d = g.elem;
    let tok = x.tokens();
    let rows = x.norm_rows();
    let norm_f = g.memory(2.0 * rows * x.h * d);
    let norm_b = g.memory(3.0 * rows * x.h * d);
    let bda_f = g.memory(rows * x.h * (3.0 * d + 1.0));
    let bda_b = g.memory(rows * x.h * (2.0 * d + 1.0));
    let qkv = g.linear(tok, (x.h + 2.0 * x.h_kv) / x.t, x.h);
    let proj = g.linear(tok, x.h, x.h / x.t);
    let up = (x.n_mat - 1.0) * x.ffn / x.t;
    let fc1 = g.linear(tok, up, x.h);
    let fc2 = g.linear(tok, x.h, x.ffn / x.t);
    let act_f = g.memory((up + x.ffn / x.t) * tok * d);
    let act_b = g.memory((2.0 * up + x.ffn / x.t) * tok * d);
    let (attn_f, attn_b) = attention(g, x);
    let gemms = [qkv, proj, fc1, fc2];
    let (extra_f, extra_b) = match x.kernels {
        Kernels::Fused => (Cost::default(), Cost::default()),
        Kernels::Megatron2021 => megatron_2021_extras(g, x),
    };
    let forward = gemms.iter().map(|l| l.0).sum::<Cost>()
        + attn_f
        + norm_f
        + norm_f
        + bda_f
        + bda_f
        + act_f
        + extra_f;
    let backward_weight: Cost = gemms.iter().map(|l| l.2).sum();
    let backward = extra_b
        + gemms.iter().map(|l| l.1).sum::<Cost>()
        + backward_weight
        + attn_b
        + norm_b
        + norm_b
        + bda_b
        + bda_b
        + act_b;
    Costs {
        forward,
        backward,
        backward_weight,
        attention_core: attn_f,
    }
}

/// Bytes per logit of Megatron-LM's vocab-parallel cross-entropy
/// (megatron/mpu/cross_entropy.py, on `output.float()` from
/// megatron/model/gpt_model.py), for d-byte logits: (forward, backward).
/// Forward: the cast to fp32 (d + 4), the max (4), the in-place subtract
/// (4 + 4), exp (4 + 4), its sum (4) and the in-place divide into the
/// softmax kept for the backward (4 + 4): d + 36. Backward: the softmax
/// scaled in place by the loss gradient (4 + 4) and cast back to d bytes
/// (4 + d): d + 12.
pub fn cross_entropy_bytes(d: f64) -> (f64, f64) {
    (d + 36.0, d + 12.0)
}

/// The LM head (final LayerNorm, logits GEMM, vocab-parallel cross-entropy
/// in fp32), one microbatch, one GPU.
pub fn head(g: &Gpu, x: &Dims) -> Costs {
    let tok = x.tokens();
    let (f, dg, wg) = g.linear(tok, x.vocab / x.t, x.h);
    let logits = tok * x.vocab / x.t;
    let (ce_fwd, ce_bwd) = cross_entropy_bytes(g.elem);
    let ce_f = g.memory(logits * ce_fwd);
    let ce_b = g.memory(logits * ce_bwd);
    let norm_f = g.memory(2.0 * x.norm_rows() * x.h * g.elem);
    // Megatron-LM 2021's LayerNorm backward reads its two inputs twice
    // ([`megatron_2021_extras`]).
    let passes = if x.kernels == Kernels::Megatron2021 {
        5.0
    } else {
        3.0
    };
    let norm_b = g.memory(passes * x.norm_rows() * x.h * g.elem);
    Costs {
        forward: f + ce_f + norm_f,
        backward: dg + wg + ce_b + norm_b,
        backward_weight: wg,
        attention_core: Cost::default(),
    }
}

/// Activation recompute (Korthikanti et al. 2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Recompute {
    /// Stash every activation the backward needs.
    #[default]
    None,
    /// Recompute the attention core (QKᵀ, softmax, dropout, ·V) only.
    Selective,
    /// Stash each block's input; re-run its forward before its backward.
    Full,
}

/// Bytes per microbatch a block keeps for its backward, and the extra bytes
/// live while one block's backward runs (its recomputed activations):
/// Korthikanti et al. 2022, §4 and Table 2, for 16-bit activations:
/// per block s·b·h·(10 + 24/t + 5·a·s/(h·t)) with tensor parallelism,
/// s·b·h·(34 + 5·a·s/h)/t with sequence parallelism; selective recompute
/// drops the 5·a·s/h attention-core term; full recompute keeps the block
/// input, 2·s·b·h (÷ t with sequence parallelism). The "24" generalises to
/// 4 + 4·h_kv/h + 2·n·F/h (Q and projection input, K and V, MLP
/// intermediates) for grouped-query attention and gated MLPs.
pub fn stash(x: &Dims, recompute: Recompute, elem: f64) -> (f64, f64) {
    let sbh = x.s * x.b * x.h * elem.max(2.0) / 2.0;
    let shared = 10.0; // LayerNorm inputs, QKV and FC1 inputs, dropout masks
    let split = 4.0 + 4.0 * x.h_kv / x.h + 2.0 * x.n_mat * x.ffn / x.h;
    let core = if x.flash {
        0.0
    } else {
        5.0 * x.heads * x.s / x.h
    };
    let (shared, split, core) = if x.sequence_parallel {
        (shared / x.t, split / x.t, core / x.t)
    } else {
        (shared, split / x.t, core / x.t)
    };
    let all = sbh * (shared + split + core);
    match recompute {
        Recompute::None => (all, 0.0),
        Recompute::Selective => (sbh * (shared + split), sbh * core),
        Recompute::Full => {
            let input = if x.sequence_parallel { 2.0 / x.t } else { 2.0 };
            (sbh * input, all)
        }
    }
}

//! Unit tests of the analytical transformer: GPT-3 175B totals against the
//! published 175e9 parameters and 6·N·tokens FLOPs, tensor splitting, errors.

use super::*;
use crate::units::SimTime;
use crate::workload::tests::{a100, yaml};
use crate::workload::{Workload, from_source};

const GPT3: &str = "name: gpt3\nbatch_size: 8\nsamples_per_epoch: 1000\nmodel:\n  kind: transformer\n  layers: 96\n  hidden: 12288\n  heads: 96\n  seq: 2048\n  vocab: 50257\n  dtype: bf16\n";

/// GPT-3 with the single-knob roofline (the old `mfu: 0.5` default).
fn knob() -> String {
    format!("{GPT3}  mfu: 0.5\n")
}

fn with(text: &str, opts: WorkloadOptions) -> Result<Workload, InputError> {
    from_source(&Source::from_text("m.yaml", text), &a100(), &opts)
}

fn with_t(text: &str, t: u32) -> Result<Workload, InputError> {
    with(
        text,
        WorkloadOptions {
            tensor: t,
            ..Default::default()
        },
    )
}

#[test]
fn gpt3_175b_parameters_and_flops() {
    let w = yaml(&knob()).unwrap();
    let stats = w.model.clone().unwrap();
    assert!(
        (stats.parameters / 175e9 - 1.0).abs() < 0.01,
        "{}",
        stats.parameters
    );
    let six_n_t = 6.0 * stats.parameters * 8.0 * 2048.0;
    assert!(
        (stats.flops_per_step / six_n_t - 1.0).abs() < 0.05,
        "{}",
        stats.flops_per_step / six_n_t
    );
    assert_eq!(w.layers.len(), 98);
    assert_eq!(w.layers[0].name, "embedding");
    assert_eq!(w.layers[1].name, "block0");
    assert_eq!(w.layers[97].name, "head");
    let blk = &w.layers[1];
    // 12h² + 13h parameters in bf16.
    let h = 12288u64;
    assert_eq!(blk.param_bytes, (12 * h * h + 13 * h) * 2);
    assert_eq!(blk.activation_bytes, 8 * 2048 * h * 2);
    // Korthikanti: s·b·h·(34 + 5·a·s/h).
    let stash: f64 = 2048.0 * 8.0 * 12288.0 * (34.0 + 5.0 * 96.0 * 2048.0 / 12288.0);
    assert_eq!(blk.stash_bytes, stash.ceil() as u64);
    // Compute-bound: time = FLOPs / (312 TF × 0.5).
    let flops = 8.0 * (24.0 * 2048.0 * (h * h) as f64 + 4.0 * 2048.0 * 2048.0 * h as f64);
    assert_eq!(blk.flops_forward, flops);
    assert!((blk.forward.as_secs_f64() / (flops / 156e12) - 1.0).abs() < 1e-9);
    assert!(blk.backward_weight < blk.backward && blk.backward_weight > SimTime::ZERO);
    assert_eq!(blk.tensor_allreduces, 0);
    // Σ forward FLOPs of the layers × 3 is the step's.
    let sum: f64 = w.layers.iter().map(|l| l.flops_forward).sum();
    assert!((3.0 * sum / stats.flops_per_step - 1.0).abs() < 1e-12);
}

#[test]
fn tensor_degree_divides_flops_params_and_stash() {
    let one = with_t(GPT3, 1).unwrap();
    let eight = with_t(GPT3, 8).unwrap();
    for (a, b) in one.layers.iter().zip(&eight.layers) {
        assert!((a.flops_forward / 8.0 - b.flops_forward).abs() <= 1e-6 * a.flops_forward);
        assert!(
            a.param_bytes.div_ceil(8) <= b.param_bytes + 1
                && b.param_bytes <= a.param_bytes / 8 + 1
        );
        assert_eq!(a.activation_bytes, b.activation_bytes);
    }
    let (one, eight) = (with_t(&knob(), 1).unwrap(), with_t(&knob(), 8).unwrap());
    let (a, b) = (&one.layers[5], &eight.layers[5]);
    assert!((a.forward.as_secs_f64() / b.forward.as_secs_f64() - 8.0).abs() < 1e-6);
    assert_eq!(b.tensor_allreduces, 2);
    assert_eq!(b.tensor_allreduce_bytes, 8 * 2048 * 12288 * 2);
    assert_eq!(one.model, eight.model);
}

#[test]
fn model_errors_name_the_field() {
    let e = with_t(GPT3, 5).unwrap_err();
    assert_eq!(e.yaml_path.as_deref(), Some("model.heads"));
    assert_eq!(e.line, Some(8));
    assert!(
        e.message
            .contains("divisible by the tensor-parallel degree (5)"),
        "{e}"
    );
    let e = yaml(&GPT3.replace("bf16", "bf17")).unwrap_err();
    assert_eq!(e.line, Some(11));
    assert!(e.message.contains("bf17"), "{e}");
    let e = yaml(&GPT3.replace("dtype: bf16", "dtype: fp8")).unwrap_err();
    assert_eq!(e.yaml_path.as_deref(), Some("model.dtype"));
    let e = yaml(&GPT3.replace("layers: 96", "layers: 0")).unwrap_err();
    assert_eq!(e.yaml_path.as_deref(), Some("model.layers"));
    let e = yaml(&GPT3.replace("heads: 96", "heads: 7")).unwrap_err();
    assert_eq!(e.yaml_path.as_deref(), Some("model.hidden"));
    let e = yaml(&format!("{GPT3}  experts: 8\n")).unwrap_err();
    assert!(e.message.contains("unknown field `experts`"), "{e}");
    let e = yaml(&GPT3.replace("transformer", "rnn")).unwrap_err();
    assert_eq!(e.line, Some(5));
    let e = yaml(&format!("{GPT3}  mfu: 1.5\n")).unwrap_err();
    assert_eq!(e.yaml_path.as_deref(), Some("model.compute_efficiency"));
    assert!(e.message.contains("mfu"), "{e}");
}

#[test]
fn mfu_override_and_memory_bound_small_models() {
    let opts = WorkloadOptions {
        compute_efficiency: Some(0.25),
        ..Default::default()
    };
    let w = from_source(&Source::from_text("m.yaml", GPT3), &a100(), &opts).unwrap();
    let half = yaml(&knob()).unwrap();
    let r = w.layers[3].forward.as_secs_f64() / half.layers[3].forward.as_secs_f64();
    assert!((r - 2.0).abs() < 1e-6, "{r}");
    // The embedding is a memory-bound gather: 2 × b·s·h·d over HBM.
    let e = &half.layers[0];
    let want = 2.0 * (8 * 2048 * 12288 * 2) as f64 / 2039e9;
    assert!((e.forward.as_secs_f64() / want - 1.0).abs() < 1e-6);
    assert_eq!(e.backward_weight, e.backward);
}

#[test]
fn llama_like_gqa_swiglu_counts() {
    let text = "name: l\nbatch_size: 1\nsamples_per_epoch: 1\nmodel: { kind: transformer, layers: 80, hidden: 8192, heads: 64, kv_heads: 8, seq: 4096, vocab: 32000, dtype: bf16, mlp: swiglu, ffn_multiplier: 3.5, bias: false, position: rotary, tied_embeddings: false }\n";
    let w = yaml(text).unwrap();
    let p = w.model.unwrap().parameters;
    // Llama-2-70B: 68.98e9 parameters.
    assert!((p / 68.98e9 - 1.0).abs() < 0.005, "{p}");
}

fn mode(recompute: Recompute, t: u32, sequence_parallel: bool) -> Workload {
    let opts = WorkloadOptions {
        tensor: t,
        recompute,
        sequence_parallel,
        ..Default::default()
    };
    with(GPT3, opts).unwrap()
}

#[test]
fn korthikanti_stash_per_recompute_mode() {
    // Korthikanti et al. 2022, Table 2, per block, 16-bit, b = 8, s = 2048.
    let (s, b, h, a, t) = (2048.0, 8.0, 12288.0, 96.0, 8.0);
    let sbh = s * b * h;
    let core = 5.0 * a * s / h;
    let cases = [
        (
            Recompute::None,
            false,
            sbh * (10.0 + 24.0 / t + core / t),
            0.0,
        ),
        (Recompute::None, true, sbh * (34.0 + core) / t, 0.0),
        (
            Recompute::Selective,
            false,
            sbh * (10.0 + 24.0 / t),
            sbh * core / t,
        ),
        (Recompute::Selective, true, sbh * 34.0 / t, sbh * core / t),
        (
            Recompute::Full,
            false,
            2.0 * sbh,
            sbh * (10.0 + 24.0 / t + core / t),
        ),
        (
            Recompute::Full,
            true,
            2.0 * sbh / t,
            sbh * (34.0 + core) / t,
        ),
    ];
    for (r, sp, stash, working) in cases {
        let w = mode(r, 8, sp);
        let blk = &w.layers[1];
        assert!(
            (blk.stash_bytes as f64 / stash - 1.0).abs() < 1e-9,
            "{r:?} {sp}"
        );
        let got = blk.backward_working_bytes as f64;
        assert!((got - working).abs() <= 1.0 + 1e-9 * working, "{r:?} {sp}");
    }
}

#[test]
fn recompute_adds_the_forward_or_the_attention_core_and_its_allreduces() {
    let none = mode(Recompute::None, 8, false);
    let full = mode(Recompute::Full, 8, false);
    let sel = mode(Recompute::Selective, 8, false);
    let (n, f, s) = (&none.layers[1], &full.layers[1], &sel.layers[1]);
    assert_eq!(n.forward, f.forward);
    let extra = f.backward.as_secs_f64() - n.backward.as_secs_f64();
    assert!(
        (extra / n.forward.as_secs_f64() - 1.0).abs() < 1e-9,
        "{extra}"
    );
    let extra = s.backward.as_secs_f64() - n.backward.as_secs_f64();
    assert!(
        extra > 0.0 && extra < 0.5 * n.forward.as_secs_f64(),
        "{extra}"
    );
    assert_eq!((n.tensor_allreduces, n.tensor_allreduces_backward), (2, 2));
    assert_eq!((f.tensor_allreduces, f.tensor_allreduces_backward), (2, 4));
    assert_eq!(s.tensor_allreduces_backward, 2);
    // HFU counts the recomputed forward: 4 forward-equivalents of the blocks
    // against 3, so hardware / model FLOPs is just under 4/3 (the head is not
    // recomputed).
    let m = full.model.as_ref().unwrap();
    let ratio = m.hardware_flops_per_step / m.flops_per_step;
    assert!(ratio > 1.3 && ratio < 4.0 / 3.0, "{ratio}");
    let m = none.model.as_ref().unwrap();
    assert_eq!(m.hardware_flops_per_step, m.flops_per_step);
}

#[test]
fn shape_aware_efficiency_rises_with_size_and_sequence_parallelism_saves_norm_work() {
    // Achieved forward FLOP/s of a block: a 1.3B-class block (h 2048, 16
    // heads) runs further below peak than GPT-3's (memory-bound attention
    // and norms weigh more next to smaller GEMMs).
    let small = "name: s\nbatch_size: 8\nsamples_per_epoch: 8\nmodel: { kind: transformer, layers: 2, hidden: 2048, heads: 16, seq: 2048, vocab: 50257, dtype: bf16 }\n";
    let rate = |w: &Workload| w.layers[1].flops_forward / w.layers[1].forward.as_secs_f64();
    let (s, l) = (yaml(small).unwrap(), yaml(GPT3).unwrap());
    assert!(rate(&s) < rate(&l), "{} {}", rate(&s), rate(&l));
    assert!(rate(&l) < 0.8 * 312e12);
    let plain = mode(Recompute::None, 8, false);
    let sp = mode(Recompute::None, 8, true);
    assert!(sp.layers[1].forward < plain.layers[1].forward);
    assert_eq!(sp.layers[1].flops_forward, plain.layers[1].flops_forward);
}

#[test]
fn tied_embeddings_get_a_copy_on_the_last_stage_only_with_a_pipeline() {
    let opts = |pipeline| WorkloadOptions {
        tensor: 8,
        pipeline,
        ..Default::default()
    };
    let one = with(GPT3, opts(1)).unwrap();
    let many = with(GPT3, opts(16)).unwrap();
    let emb = 50257 * 12288 * 2 / 8;
    assert_eq!(one.model.as_ref().unwrap().tied_embedding_bytes, 0);
    assert_eq!(many.model.as_ref().unwrap().tied_embedding_bytes, emb);
    let (h1, h16) = (one.layers.last().unwrap(), many.layers.last().unwrap());
    assert_eq!(h16.param_bytes - h1.param_bytes, emb);
    // Adam in 16 bits: 52 bytes per parameter through HBM at 80 %.
    let blk = &one.layers[1];
    let params = blk.param_bytes as f64 / 2.0;
    let want = params * 52.0 / (2039e9 * 0.8);
    assert!((blk.optimizer_step.as_secs_f64() / want - 1.0).abs() < 1e-6);
}

#[test]
fn optimizer_step_bytes_follow_megatrons_kernels() {
    // 16-bit Adam, kernel by kernel (megatron/optimizer/optimizer.py):
    // grad.float() 2 + 4, unscale 4 + 4, L2 norm 4, FusedAdam reads g, p, m,
    // v (16) and writes p, m, v (12), main → model weights 4 + 2.
    let fp16 = 6 + 8 + 4 + 28 + 6;
    assert_eq!(Optimizer::Adam.step_bytes_per_param(Dtype::Fp16), fp16);
    assert_eq!(Optimizer::Adam.step_bytes_per_param(Dtype::Bf16), 52);
    // fp32: no casts, no loss scale; the norm and the update alone.
    assert_eq!(Optimizer::Adam.step_bytes_per_param(Dtype::Fp32), 4 + 28);
    // SGD with momentum: reads g, p, mom (12), writes p, mom (8).
    assert_eq!(Optimizer::Sgd.step_bytes_per_param(Dtype::Fp32), 4 + 20);
}

/// An A100 as the kernel model sees it, 16-bit elements.
fn a100_gpu() -> Gpu {
    Gpu {
        peak: 312e12,
        hbm: 2039e9,
        profile: compute_profile(&a100()),
        elem: 2.0,
    }
}

/// GPT-3 175B's block on one of 8 tensor ranks, one sequence, fused kernels.
fn gpt3_block_dims() -> block::Dims {
    block::Dims {
        b: 1.0,
        s: 2048.0,
        h: 12288.0,
        heads: 96.0,
        h_kv: 12288.0,
        ffn: 4.0 * 12288.0,
        n_mat: 2.0,
        t: 8.0,
        vocab: 51200.0,
        sequence_parallel: false,
        flash: false,
        bias: true,
        kernels: block::Kernels::Fused,
    }
}

#[test]
fn cross_entropy_passes_over_the_logits() {
    // 16-bit logits: cast 2 + 4, max 4, sub 8, exp 8, sum 4, divide 8 = 38;
    // backward: scale 8, cast back 4 + 2 = 14.
    assert_eq!(block::cross_entropy_bytes(2.0), (38.0, 14.0));
    // The head's forward is its logits GEMM + those bytes + the final norm.
    let g = a100_gpu();
    let x = gpt3_block_dims();
    let logits = 2048.0 * 51200.0 / 8.0;
    let want = g.linear(2048.0, 6400.0, 12288.0).0.secs
        + g.memory(logits * 38.0).secs
        + g.memory(2.0 * 2048.0 * 12288.0 * 2.0).secs;
    assert!((block::head(&g, &x).forward.secs / want - 1.0).abs() < 1e-12);
}

#[test]
fn causal_flash_attention_skips_the_blocks_above_the_diagonal() {
    // s = 2048: 16 blocks a side, 16·17/2 of 256 computed.
    assert_eq!(block::causal_fraction(2048.0), 17.0 / 32.0);
    assert_eq!(block::causal_fraction(100.0), 1.0, "one block: all of it");
    let flash = GPT3.replace("dtype: bf16", "dtype: bf16\n  attention: flash");
    let (f, w) = (yaml(&flash).unwrap(), yaml(GPT3).unwrap());
    // Same FLOPs, less time than the standard attention.
    assert_eq!(f.layers[1].flops_forward, w.layers[1].flops_forward);
    assert!(f.layers[1].forward < w.layers[1].forward);
}

#[test]
fn megatron_2021_kernels_add_their_bytes_by_hand() {
    // GPT-3 175B's block, b = 1, t = 8, on an A100 (HBM 2039 GB/s at 0.8).
    let g = a100_gpu();
    let fused = gpt3_block_dims();
    let old = block::Dims {
        kernels: block::Kernels::Megatron2021,
        ..fused
    };
    let secs = |bytes: f64| bytes / (2039e9 * 0.8);
    // Forward: QKV bias add, 2048 × 4608 fp16 read + written (37.7 MB);
    // context copy, 2048 × 1536 read + written (12.6 MB).
    let fwd = secs(2048.0 * 4608.0 * 4.0 + 2048.0 * 1536.0 * 4.0);
    // Backward: bias gradients read QKV (4608), FC1 (6144), projection and
    // FC2 (12288 each) gradients; the context copy again; two LayerNorms
    // read 2048 × 12288 × (2 + 2) bytes once more.
    let bwd = secs(
        2048.0 * (4608.0 + 6144.0 + 2.0 * 12288.0) * 2.0
            + 2048.0 * 1536.0 * 4.0
            + 2.0 * 2048.0 * 12288.0 * 4.0,
    );
    let (a, b) = (block::block(&g, &fused), block::block(&g, &old));
    assert!(((b.forward.secs - a.forward.secs) / fwd - 1.0).abs() < 1e-9);
    assert!(((b.backward.secs - a.backward.secs) / bwd - 1.0).abs() < 1e-9);
    assert_eq!(a.forward.flops, b.forward.flops, "no FLOPs added");
    // The head's final LayerNorm: the same second pass.
    let head = block::head(&g, &old).backward.secs - block::head(&g, &fused).backward.secs;
    assert!((head / secs(2048.0 * 12288.0 * 4.0) - 1.0).abs() < 1e-9);
    // Without biases only the copies and the LayerNorm passes remain.
    let no_bias = |x: block::Dims| block::Dims { bias: false, ..x };
    let nb = block::block(&g, &no_bias(old)).forward.secs
        - block::block(&g, &no_bias(fused)).forward.secs;
    assert!((nb / secs(2048.0 * 1536.0 * 4.0) - 1.0).abs() < 1e-9);
}

#[test]
fn kernels_key_selects_the_2021_stack_and_rejects_unknown_values() {
    let old = GPT3.replace("dtype: bf16", "dtype: bf16\n  kernels: megatron-2021");
    let (o, n) = (yaml(&old).unwrap(), yaml(GPT3).unwrap());
    assert!(o.layers[1].forward > n.layers[1].forward);
    assert!(o.layers[1].backward > n.layers[1].backward);
    assert_eq!(o.layers[1].flops_forward, n.layers[1].flops_forward);
    let bad = GPT3.replace("dtype: bf16", "dtype: bf16\n  kernels: pytorch-1.8");
    let msg = yaml(&bad).unwrap_err().to_string();
    assert!(msg.contains("megatron-2021"), "{msg}");
}

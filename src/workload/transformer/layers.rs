//! Assembles an analytical transformer's layers (embedding, blocks, head)
//! from their parameter counts and kernel costs, and the model totals.

use super::block::{self, Recompute};
use super::{ModelSpec, Position};
use crate::units::SimTime;
use crate::workload::kernels::{Cost, Gpu};
use crate::workload::{Layer, ModelStats, WorkloadOptions};

/// Parameter counts and sizes shared by the builders (whole model, per
/// minibatch).
#[derive(Clone, Copy)]
struct Sizes {
    block_params: f64,
    head_params: f64,
    /// Whether the last stage holds its own copy of tied word embeddings.
    copy: bool,
    /// Microbatches per minibatch.
    mb: f64,
    batch: f64,
    /// The activation at a block boundary, whole minibatch.
    boundary: f64,
    /// Sequence length.
    seq: f64,
}

/// Block and head costs for the whole minibatch: the shape-aware kernels
/// (+ main-gradient accumulation), or the single-knob roofline.
fn timed(
    g: &Gpu,
    x: &block::Dims,
    z: &Sizes,
    efficiency: Option<f64>,
) -> (block::Costs, block::Costs) {
    let (hf, s, v, tf, d) = (x.h, x.s, x.vocab, x.t, g.elem);
    let Sizes {
        block_params,
        head_params,
        copy,
        mb,
        batch,
        boundary,
        ..
    } = *z;
    let model = |c: block::Costs| -> block::Costs {
        block::Costs {
            forward: scaled(c.forward, mb),
            backward: scaled(c.backward, mb),
            backward_weight: scaled(c.backward_weight, mb),
            attention_core: scaled(c.attention_core, mb),
        }
    };
    // Each microbatch's weight gradients are added into the main-gradient
    // buffer that data parallelism all-reduces (Megatron-LM's
    // `main_grad.add_(grad)`): read both, write one, per parameter.
    let accumulate = |params: f64| scaled(g.memory(3.0 * d * params / tf), mb);
    let mut blk = model(block::block(g, x));
    blk.backward = blk.backward + accumulate(block_params);
    let mut hd = model(block::head(g, x));
    hd.backward = hd.backward + accumulate(head_params + if copy { v * hf } else { 0.0 });
    if let Some(e) = efficiency {
        // The single-knob roofline of a layer: FLOPs at peak × e, or its
        // bytes over the whole HBM bandwidth, whichever is slower.
        let stash_all = batch / x.b * block::stash(x, Recompute::None, d).0;
        let weights = block_params * d / tf;
        let hbm = g.hbm;
        let roof = |c: Cost, moved: f64| Cost {
            secs: (c.flops / (g.peak * e)).max(moved / hbm),
            flops: c.flops,
        };
        let logits = 4.0 * batch * s * v / tf;
        let head_read = v * hf * d / tf;
        blk = block::Costs {
            forward: roof(blk.forward, weights + boundary + stash_all),
            backward: roof(blk.backward, 2.0 * weights + stash_all + 2.0 * boundary),
            backward_weight: roof(blk.backward_weight, 0.0),
            attention_core: roof(blk.attention_core, 0.0),
        };
        let head_weights = head_params * d / tf;
        hd = block::Costs {
            forward: roof(hd.forward, head_read + boundary + logits),
            backward: roof(
                hd.backward,
                head_read + head_weights + logits + 2.0 * boundary,
            ),
            backward_weight: roof(hd.backward_weight, 0.0),
            attention_core: Cost::default(),
        };
    }
    (blk, hd)
}

/// Per-layer parameter counts and the layers.
pub(super) fn build(
    m: &ModelSpec,
    x: &block::Dims,
    g: &Gpu,
    efficiency: Option<f64>,
    batch: f64,
    opts: &WorkloadOptions,
) -> (Vec<Layer>, ModelStats) {
    let (hf, s, v, tf, d) = (x.h, x.s, x.vocab, x.t, g.elem);
    let n_layers = m.layers.value;
    let Params {
        matrices,
        block: block_params,
        embedding: emb_params,
        head: head_params,
    } = Params::of(m, x);
    // With tied embeddings split over a pipeline, the last stage holds its
    // own copy of the word embeddings (Megatron-LM), kept equal by an
    // all-reduce of their gradients between the first and last stage.
    let copy = m.tied_embeddings && opts.pipeline > 1;
    let tied_bytes = if copy { v * hf * d / tf } else { 0.0 };
    let mb = batch / x.b.max(f64::MIN_POSITIVE); // microbatches per minibatch
    let boundary = batch * s * hf * d;
    let z = Sizes {
        block_params,
        head_params,
        copy,
        mb,
        batch,
        boundary,
        seq: s,
    };
    let (blk, hd) = timed(g, x, &z, efficiency);
    let recompute = match opts.recompute {
        Recompute::None => Cost::default(),
        Recompute::Selective => blk.attention_core,
        Recompute::Full => blk.forward,
    };
    let (stash, working) = block::stash(x, opts.recompute, d);
    let per_mb = mb; // stash figures are per microbatch
    let t = opts.tensor;
    let ar_bytes = if t > 1 { bytes(boundary) } else { 0 };
    let ars = |n: u32| if t > 1 { n } else { 0 };
    let optimizer = |params: f64| optimizer_step(m, g, params);
    let block_weights = block_params * d / tf;
    let block_layer = |i: u32| Layer {
        name: format!("block{i}"),
        forward: secs(blk.forward),
        backward: secs(blk.backward + recompute),
        backward_weight: secs(blk.backward_weight).min(secs(blk.backward + recompute)),
        activation_bytes: bytes(boundary),
        grad_bytes: bytes(block_weights),
        param_bytes: bytes(block_weights),
        stash_bytes: bytes(stash * per_mb),
        backward_working_bytes: bytes(working * per_mb),
        tensor_allreduce_bytes: ar_bytes,
        tensor_allreduces: ars(2),
        // Full recompute re-runs the forward's two all-reduces.
        tensor_allreduces_backward: ars(2 + 2 * u32::from(opts.recompute == Recompute::Full)),
        flops_forward: blk.forward.flops,
        optimizer_step: optimizer(block_params / tf),
    };
    let embedding = embedding_layer(
        g,
        &z,
        efficiency,
        emb_params * d / tf,
        (ar_bytes, ars(1)),
        optimizer(emb_params / tf),
    );
    let head_weights = (head_params + if copy { v * hf } else { 0.0 }) * d / tf;
    let head = head_layer(
        &hd,
        &z,
        head_weights,
        4.0 * batch * s * v / tf,
        (ar_bytes, ars(1)),
        optimizer(head_weights / d),
    );
    let mut layers = Vec::with_capacity(n_layers as usize + 2);
    layers.push(embedding);
    layers.extend((0..n_layers).map(block_layer));
    layers.push(head);
    // Model FLOPs of the whole model: 2·s·M + 4·s²·h per sequence and
    // block, 2·s·h·V for the head, × 3 for forward + backward.
    let block_fwd = batch * (2.0 * s * matrices + 4.0 * s * s * hf);
    let per_step = 3.0 * (f64::from(n_layers) * block_fwd + batch * 2.0 * s * hf * v);
    let stats = ModelStats {
        parameters: f64::from(n_layers) * block_params + emb_params + head_params,
        flops_per_step: per_step,
        hardware_flops_per_step: per_step + tf * f64::from(n_layers) * recompute.flops,
        tokens_per_sample: m.seq.value,
        optimizer: m.optimizer,
        tied_embedding_bytes: bytes(tied_bytes),
    };
    (layers, stats)
}

/// The embedding layer: a gather (read rows, write the activation),
/// memory-bound. Its backward is all weight gradient: read the activation
/// gradient, scatter-add it into rows (read + write), and touch the dense
/// gradient. `weights` are its bytes per GPU; `tensor` the bytes and count
/// of its tensor-parallel all-reduces each way.
fn embedding_layer(
    g: &Gpu,
    z: &Sizes,
    efficiency: Option<f64>,
    weights: f64,
    tensor: (u64, u32),
    optimizer_step: SimTime,
) -> Layer {
    let hbm = g.hbm * efficiency.map_or(g.profile.hbm_fraction, |_| 1.0);
    let mem = |moved: f64| SimTime::from_secs_ceil(moved / hbm);
    let bwd = mem(2.0 * z.boundary + weights);
    Layer {
        name: "embedding".into(),
        forward: mem(2.0 * z.boundary),
        backward: bwd,
        backward_weight: bwd,
        activation_bytes: bytes(z.boundary),
        grad_bytes: bytes(weights),
        param_bytes: bytes(weights),
        stash_bytes: bytes(4.0 * z.batch * z.seq), // int32 token ids
        backward_working_bytes: 0,
        tensor_allreduce_bytes: tensor.0,
        tensor_allreduces: tensor.1,
        tensor_allreduces_backward: tensor.1,
        flops_forward: 0.0,
        optimizer_step,
    }
}

/// The head (final norm and output projection, with the loss): `weights`
/// are its bytes per GPU, `logits` the fp32 logits it stashes per GPU,
/// `tensor` the bytes and count of its tensor-parallel all-reduces each way.
fn head_layer(
    hd: &block::Costs,
    z: &Sizes,
    weights: f64,
    logits: f64,
    tensor: (u64, u32),
    optimizer_step: SimTime,
) -> Layer {
    Layer {
        name: "head".into(),
        forward: secs(hd.forward),
        backward: secs(hd.backward),
        backward_weight: secs(hd.backward_weight).min(secs(hd.backward)),
        activation_bytes: bytes(4.0 * z.batch), // one fp32 loss per sequence
        grad_bytes: bytes(weights),
        param_bytes: bytes(weights),
        stash_bytes: bytes(z.boundary + logits),
        backward_working_bytes: 0,
        tensor_allreduce_bytes: tensor.0,
        tensor_allreduces: tensor.1,
        tensor_allreduces_backward: tensor.1,
        flops_forward: hd.forward.flops,
        optimizer_step,
    }
}

/// The optimizer step over `params` parameters on one GPU, memory-bound at
/// the GPU's achievable HBM bandwidth. Bytes per parameter: the optimizer
/// state read and written (2·state), the weights and a 4-byte master copy
/// read and written (2·(d + 4)), and a 4-byte gradient read.
fn optimizer_step(m: &ModelSpec, g: &Gpu, params: f64) -> SimTime {
    let per_param = m.optimizer.step_bytes_per_param(m.dtype.value) as f64;
    SimTime::from_secs_ceil(params * per_param / (g.hbm * g.profile.hbm_fraction))
}

/// Parameter counts of one block, the embedding and the head (whole
/// model, before any tensor split).
struct Params {
    /// Weight matrices of a block, `M = 2h² + 2h·h_kv + n·h·F`.
    matrices: f64,
    /// A block's parameters: matrices, biases and the two layer norms.
    block: f64,
    /// Word (and learned position) embeddings.
    embedding: f64,
    /// Final layer norm, plus the output projection unless tied.
    head: f64,
}

impl Params {
    fn of(m: &ModelSpec, x: &block::Dims) -> Params {
        let (hf, s, v) = (x.h, x.s, x.vocab);
        let matrices = 2.0 * hf * hf + 2.0 * hf * x.h_kv + x.n_mat * hf * x.ffn;
        let biases = if m.bias {
            2.0 * hf + 2.0 * x.h_kv + (x.n_mat - 1.0) * x.ffn + hf
        } else {
            0.0
        };
        let position = if m.position == Position::Learned {
            s * hf
        } else {
            0.0
        };
        Params {
            matrices,
            block: matrices + biases + 4.0 * hf,
            embedding: v * hf + position,
            head: 2.0 * hf + if m.tied_embeddings { 0.0 } else { v * hf },
        }
    }
}

fn scaled(c: Cost, k: f64) -> Cost {
    Cost {
        secs: c.secs * k,
        flops: c.flops * k,
    }
}

/// A cost's time, rounded up to whole picoseconds.
fn secs(c: Cost) -> SimTime {
    SimTime::from_secs_ceil(c.secs)
}

/// A non-negative f64 byte count to u64 (rounding up, saturating).
fn bytes(x: f64) -> u64 {
    x.ceil() as u64
}

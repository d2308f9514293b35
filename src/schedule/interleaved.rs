//! Megatron-LM's interleaved 1F1B (Narayanan et al. SC 2021): each GPU holds
//! v model chunks (virtual stages j = chunk·p + s) and cycles through them in
//! groups of p microbatches. Stage s runs (p−s−1)·2 + (v−1)·p warm-up
//! forwards (all m·v of them when m = p), then alternates one forward and
//! one backward, then drains. Requires m % p == 0 ([`super::Schedule::check`]).
//!
//! Uniform chunks taking F/v and B/v, no communication: makespan
//! (m + (p−1)/v)(F+B), bubble (p−1)/(v·m + p−1).

use super::{Op, OpKind, Shape};

/// The op that is the k-th forward (or backward) of a stage, in Megatron's
/// numbering: groups of p microbatches visit chunk 0, 1, ..., v−1 (reversed
/// for backwards).
fn op(kind: OpKind, k: u32, p: u32, v: u32) -> Op {
    let in_group = k % (p * v);
    let chunk = in_group / p;
    Op {
        kind,
        microbatch: (k / (p * v)) * p + k % p,
        virtual_stage: if kind == OpKind::Forward {
            chunk
        } else {
            v - 1 - chunk
        },
    }
}

pub fn order(shape: Shape) -> Vec<Vec<Op>> {
    let (p, m, v) = (
        shape.stages,
        shape.microbatches,
        shape.virtual_stages.max(1),
    );
    let total = m * v;
    (0..p)
        .map(|s| {
            let warmup = if m == p {
                total
            } else {
                ((p - s - 1) * 2 + (v - 1) * p).min(total)
            };
            let mut ops: Vec<Op> = (0..warmup).map(|k| op(OpKind::Forward, k, p, v)).collect();
            for k in 0..total - warmup {
                ops.push(op(OpKind::Forward, warmup + k, p, v));
                ops.push(op(OpKind::Backward, k, p, v));
            }
            ops.extend((total - warmup..total).map(|k| op(OpKind::Backward, k, p, v)));
            ops
        })
        .collect()
}

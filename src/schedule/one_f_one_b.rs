//! 1F1B (PipeDream-Flush; Megatron-LM's non-interleaved schedule): stage s
//! (0-based, of p) runs min(p−s−1, m) warm-up forwards, then alternates one
//! forward and one backward, then drains the remaining backwards.
//!
//! Uniform stages, no communication: the same makespan as GPipe,
//! (m+p−1)(F+B), but stage s never holds more than min(p−s, m) stashed
//! activations instead of m.

use super::{Op, Shape};

pub fn order(shape: Shape) -> Vec<Vec<Op>> {
    let (p, m) = (shape.stages, shape.microbatches);
    (0..p)
        .map(|s| {
            let warmup = (p - s - 1).min(m);
            let mut ops: Vec<Op> = (0..warmup).map(Op::f).collect();
            for i in 0..m - warmup {
                ops.push(Op::f(warmup + i));
                ops.push(Op::b(i));
            }
            ops.extend((m - warmup..m).map(Op::b));
            ops
        })
        .collect()
}

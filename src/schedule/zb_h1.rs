//! Zero Bubble H1 (Qi et al. ICLR 2024): the backward is split into B (input
//! gradient, what the previous stage waits for) and W (weight gradient, off
//! the critical path). Stage s (0-based, of p) runs p−s−1 warm-up forwards,
//! then s rounds of F, B with their W deferred, then F, B, W in turn, then
//! drains B, W and finally the s deferred W's. Peak stashed activations
//! stay at 1F1B's p−s.
//!
//! Uniform stages, no communication, m ≥ p and W ≤ min(F, B): makespan
//! m(F+B+W) + (p−1)(F+B−W), against 1F1B's (m+p−1)(F+B+W).

use super::{Op, OpKind, Shape};

fn mk(kind: OpKind, microbatch: u32) -> Op {
    Op {
        kind,
        microbatch,
        virtual_stage: 0,
    }
}

pub fn order(shape: Shape) -> Vec<Vec<Op>> {
    let (p, m) = (shape.stages, shape.microbatches);
    (0..p)
        .map(|s| {
            let (mut f, mut b, mut w) = (0, 0, 0);
            let mut ops = Vec::with_capacity(3 * m as usize);
            let push = |ops: &mut Vec<Op>, kind, next: &mut u32| {
                ops.push(mk(kind, *next));
                *next += 1;
            };
            for _ in 0..(p - s - 1).min(m) {
                push(&mut ops, OpKind::Forward, &mut f);
            }
            for _ in 0..s {
                if f < m {
                    push(&mut ops, OpKind::Forward, &mut f);
                }
                if b < f {
                    push(&mut ops, OpKind::BackwardInput, &mut b);
                }
            }
            while f < m {
                push(&mut ops, OpKind::Forward, &mut f);
                push(&mut ops, OpKind::BackwardInput, &mut b);
                push(&mut ops, OpKind::BackwardWeight, &mut w);
            }
            while b < m {
                push(&mut ops, OpKind::BackwardInput, &mut b);
                push(&mut ops, OpKind::BackwardWeight, &mut w);
            }
            while w < m {
                push(&mut ops, OpKind::BackwardWeight, &mut w);
            }
            ops
        })
        .collect()
}

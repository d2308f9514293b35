//! GPipe (Huang et al. 2019): every stage runs the forwards of all m
//! microbatches, then their backwards in the same order, then flushes.
//! Naive model parallelism is GPipe with a single microbatch.
//!
//! Uniform stages, no communication: makespan (m+p−1)(F+B), bubble
//! (p−1)/(m+p−1), and every stage stashes all m activations.

use super::{Op, Shape};

pub fn order(shape: Shape) -> Vec<Vec<Op>> {
    (0..shape.stages)
        .map(|_| {
            let forwards = (0..shape.microbatches).map(Op::f);
            let backwards = (0..shape.microbatches).map(Op::b);
            forwards.chain(backwards).collect()
        })
        .collect()
}

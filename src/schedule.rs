//! Pipeline schedules as per-stage op orders.
//!
//! A schedule says, for each pipeline stage (one GPU per stage and replica),
//! the order in which it runs forward (F), backward (B) — and for zero-bubble
//! schedules input-gradient (B) and weight-gradient (W) — ops of each
//! microbatch and model chunk. It says nothing about durations or the
//! fabric: `training.rs` turns orders into a task graph, and the engine
//! times it. One file per schedule under `schedule/`.

mod gpipe;
mod one_f_one_b;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The pipeline schedules fabsim knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Inter-layer model parallelism: one minibatch, no microbatches.
    Naive,
    /// All forwards, then all backwards, then flush (Huang et al. 2019).
    Gpipe,
    /// PipeDream-Flush / Megatron 1F1B: warm-up, alternate, cool-down.
    #[serde(rename = "1f1b")]
    OneFOneB,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Schedule::Naive => "naive",
            Schedule::Gpipe => "gpipe",
            Schedule::OneFOneB => "1f1b",
        })
    }
}

/// What an op computes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Forward,
    /// Full backward: input and weight gradients.
    Backward,
    /// Zero-bubble: input gradient only (what the previous stage waits for).
    BackwardInput,
    /// Zero-bubble: weight gradient only (off the critical path).
    BackwardWeight,
}

/// One op of a stage's order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    pub kind: OpKind,
    pub microbatch: u32,
    /// Model chunk on this GPU (interleaved schedules); 0 otherwise.
    pub chunk: u32,
}

impl Op {
    pub fn f(microbatch: u32) -> Op {
        Op {
            kind: OpKind::Forward,
            microbatch,
            chunk: 0,
        }
    }
    pub fn b(microbatch: u32) -> Op {
        Op {
            kind: OpKind::Backward,
            microbatch,
            chunk: 0,
        }
    }
}

/// The shape of a pipeline: stages, microbatches, chunks per GPU.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub stages: u32,
    pub microbatches: u32,
    /// Model chunks per GPU (interleaved); 1 otherwise.
    pub chunks: u32,
}

impl Schedule {
    /// Per-stage op orders for `shape`.
    pub fn order(self, shape: Shape) -> Vec<Vec<Op>> {
        match self {
            Schedule::Naive => gpipe::order(Shape {
                microbatches: 1,
                ..shape
            }),
            Schedule::Gpipe => gpipe::order(shape),
            Schedule::OneFOneB => one_f_one_b::order(shape),
        }
    }

    /// Whether weights are updated after every microbatch (asynchronous
    /// PipeDream) rather than once after the flush.
    pub fn updates_every_microbatch(self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stage runs F and B of every microbatch exactly once, F before B.
    #[test]
    fn orders_are_complete_and_causal() {
        for s in [Schedule::Gpipe, Schedule::OneFOneB] {
            for (p, m) in [(1, 1), (4, 4), (4, 8), (8, 3)] {
                let order = s.order(Shape {
                    stages: p,
                    microbatches: m,
                    chunks: 1,
                });
                assert_eq!(order.len(), p as usize);
                for ops in &order {
                    for mb in 0..m {
                        let fi = ops.iter().position(|&o| o == Op::f(mb)).unwrap();
                        let bi = ops.iter().position(|&o| o == Op::b(mb)).unwrap();
                        assert!(fi < bi, "{s} p={p} m={m}");
                    }
                    assert_eq!(ops.len(), 2 * m as usize);
                }
            }
        }
    }
}

//! Pipeline schedules as per-stage op orders.
//!
//! A schedule says, for each pipeline stage (one GPU per stage and replica),
//! the order in which it runs forward (F), backward (B) — and for zero-bubble
//! schedules input-gradient (B) and weight-gradient (W) — ops of each
//! microbatch and model chunk. It says nothing about durations or the
//! fabric: `training.rs` turns orders into a task graph, and the engine
//! times it. One file per schedule under `schedule/`.

mod gpipe;
mod interleaved;
mod one_f_one_b;
mod pipedream;
mod zb_h1;

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
    /// Megatron interleaved 1F1B over `chunks` model chunks per GPU.
    Interleaved,
    /// Asynchronous PipeDream: 1F1B without flush, an update per backward.
    Pipedream,
    /// Zero Bubble H1: backward split into input (B) and weight (W) parts.
    #[serde(rename = "zb-h1")]
    ZbH1,
}

/// A pipeline shape a schedule cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Zero pipeline stages.
    #[error("a pipeline needs at least one stage (pipeline: 0)")]
    NoStages,
    /// Zero microbatches.
    #[error("a pipeline needs at least one microbatch (microbatches: 0)")]
    NoMicrobatches,
    /// The naive schedule with more than one microbatch.
    #[error(
        "schedule 'naive' runs one minibatch without microbatches, but microbatches is {0}: \
         set microbatches: 1 or pick gpipe / 1f1b"
    )]
    NaiveMicrobatches(u32),
    /// Zero virtual stages per GPU.
    #[error("chunks must be at least 1 (got 0)")]
    NoChunks,
    /// Several virtual stages per GPU on a schedule other than interleaved.
    #[error("{chunks} model chunks per GPU need schedule 'interleaved', not '{schedule}'")]
    ChunksNeedInterleaved {
        /// The schedule asked for.
        schedule: Schedule,
        /// Virtual stages per GPU asked for.
        chunks: u32,
    },
    /// Interleaving with microbatches not a multiple of the stages.
    #[error(
        "schedule 'interleaved' needs microbatches ({microbatches}) to be a multiple of the \
         pipeline stages ({stages}), as in Megatron-LM"
    )]
    InterleavedMicrobatches {
        /// Microbatches asked for.
        microbatches: u32,
        /// Pipeline stages.
        stages: u32,
    },
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Schedule::Naive => "naive",
            Schedule::Gpipe => "gpipe",
            Schedule::OneFOneB => "1f1b",
            Schedule::Interleaved => "interleaved",
            Schedule::Pipedream => "pipedream",
            Schedule::ZbH1 => "zb-h1",
        })
    }
}

/// What an op computes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Forward pass.
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
    /// What the op computes.
    pub kind: OpKind,
    /// Which microbatch, from 0.
    pub microbatch: u32,
    /// Which of this GPU's virtual stages (0..`virtual_stages`; Megatron's
    /// "model chunk"); 0 unless interleaved.
    pub virtual_stage: u32,
}

impl Op {
    /// The forward of `microbatch` (virtual stage 0).
    pub fn f(microbatch: u32) -> Op {
        Op {
            kind: OpKind::Forward,
            microbatch,
            virtual_stage: 0,
        }
    }
    /// The full backward of `microbatch` (virtual stage 0).
    pub fn b(microbatch: u32) -> Op {
        Op {
            kind: OpKind::Backward,
            microbatch,
            virtual_stage: 0,
        }
    }
}

/// The global virtual stage that is virtual stage `local` of pipeline stage
/// `stage`, in a pipeline of `stages` stages: Megatron's interleaved layout
/// j = local·p + stage, so stage s holds j = s, s + p, s + 2p, …. Every
/// module maps through this one function (and [`stage_of_virtual`]), so
/// another layout (e.g. a V shape) changes one place.
pub fn global_virtual_stage(stage: u32, local: u32, stages: u32) -> u32 {
    local * stages + stage
}

/// The pipeline stage holding global virtual stage `j`: the inverse of
/// [`global_virtual_stage`].
pub fn stage_of_virtual(j: u32, stages: u32) -> u32 {
    j % stages
}

/// The shape of a pipeline: stages, microbatches, virtual stages per GPU.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Pipeline stages (GPUs along the pipeline).
    pub stages: u32,
    /// Microbatches per minibatch.
    pub microbatches: u32,
    /// Virtual stages (model chunks) per GPU (interleaved); 1 otherwise.
    pub virtual_stages: u32,
}

impl Schedule {
    /// Every schedule, in the order the docs list them.
    pub const ALL: [Schedule; 6] = [
        Schedule::Naive,
        Schedule::Gpipe,
        Schedule::OneFOneB,
        Schedule::Interleaved,
        Schedule::Pipedream,
        Schedule::ZbH1,
    ];

    /// Whether this schedule can run `shape`. Callers check before
    /// [`Schedule::order`]; `order` itself never panics, but on a rejected
    /// shape its result is unspecified.
    pub fn check(self, shape: Shape) -> Result<(), ScheduleError> {
        if shape.stages == 0 {
            return Err(ScheduleError::NoStages);
        }
        if shape.microbatches == 0 {
            return Err(ScheduleError::NoMicrobatches);
        }
        if shape.virtual_stages == 0 {
            return Err(ScheduleError::NoChunks);
        }
        if shape.virtual_stages > 1 && self != Schedule::Interleaved {
            return Err(ScheduleError::ChunksNeedInterleaved {
                schedule: self,
                chunks: shape.virtual_stages,
            });
        }
        match self {
            Schedule::Naive if shape.microbatches != 1 => {
                Err(ScheduleError::NaiveMicrobatches(shape.microbatches))
            }
            Schedule::Interleaved if !shape.microbatches.is_multiple_of(shape.stages) => {
                Err(ScheduleError::InterleavedMicrobatches {
                    microbatches: shape.microbatches,
                    stages: shape.stages,
                })
            }
            _ => Ok(()),
        }
    }

    /// Per-stage op orders for `shape` (naive always runs one microbatch).
    pub fn order(self, shape: Shape) -> Vec<Vec<Op>> {
        match self {
            Schedule::Naive => gpipe::order(Shape {
                microbatches: 1,
                ..shape
            }),
            Schedule::Gpipe => gpipe::order(shape),
            Schedule::OneFOneB => one_f_one_b::order(shape),
            Schedule::Interleaved => interleaved::order(shape),
            Schedule::Pipedream => pipedream::order(shape),
            Schedule::ZbH1 => zb_h1::order(shape),
        }
    }

    /// Whether weights are updated after every microbatch (asynchronous
    /// PipeDream) rather than once after the flush.
    pub fn updates_every_microbatch(self) -> bool {
        self == Schedule::Pipedream
    }

    /// Whether each "microbatch" is a whole minibatch, so op times and
    /// activations are not divided by the microbatch count (PipeDream).
    pub fn microbatch_is_minibatch(self) -> bool {
        self == Schedule::Pipedream
    }

    /// Whether the backward is split into input (B) and weight (W) ops.
    pub fn splits_backward(self) -> bool {
        self == Schedule::ZbH1
    }

    /// Weight versions stage `stage` (0-based, of `stages`) keeps.
    /// The closed-form bubble fraction for uniform stages and free
    /// communication (REFERENCES.md), where one exists.
    pub fn ideal_bubble(self, shape: Shape) -> Option<f64> {
        let p = f64::from(shape.stages);
        let m = f64::from(shape.microbatches);
        let v = f64::from(shape.virtual_stages.max(1));
        match self {
            Schedule::Naive => Some((p - 1.0) / p),
            Schedule::Gpipe | Schedule::OneFOneB => Some((p - 1.0) / (m + p - 1.0)),
            Schedule::Interleaved => Some((p - 1.0) / (v * m + p - 1.0)),
            Schedule::Pipedream | Schedule::ZbH1 => None,
        }
    }

    /// Weight versions stage `stage` of `stages` keeps: PipeDream's
    /// p − stage (one per in-flight minibatch), 1 otherwise.
    pub fn weight_versions(self, stage: u32, stages: u32) -> u32 {
        if self == Schedule::Pipedream {
            stages.saturating_sub(stage).max(1)
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(stages: u32, microbatches: u32, virtual_stages: u32) -> Shape {
        Shape {
            stages,
            microbatches,
            virtual_stages,
        }
    }

    /// Every stage runs every (chunk, microbatch)'s F and backward exactly
    /// once, F before B before W.
    #[test]
    fn orders_are_complete_and_causal() {
        for s in Schedule::ALL {
            for (p, m, v) in [
                (1, 1, 1),
                (4, 4, 1),
                (4, 8, 1),
                (8, 3, 1),
                (4, 8, 2),
                (2, 6, 3),
            ] {
                let sh = shape(p, m, v);
                if s.check(sh).is_err() {
                    continue;
                }
                let order = s.order(sh);
                assert_eq!(order.len(), p as usize);
                let backward = if s.splits_backward() {
                    OpKind::BackwardInput
                } else {
                    OpKind::Backward
                };
                for ops in &order {
                    let kinds = if s.splits_backward() { 3 } else { 2 };
                    assert_eq!(ops.len(), (kinds * m * v) as usize, "{s} p={p} m={m}");
                    for c in 0..v {
                        for mb in 0..m {
                            let at = |kind| {
                                let o = Op {
                                    kind,
                                    microbatch: mb,
                                    virtual_stage: c,
                                };
                                ops.iter().position(|&x| x == o).unwrap()
                            };
                            let (fi, bi) = (at(OpKind::Forward), at(backward));
                            assert!(fi < bi, "{s} p={p} m={m}");
                            if s.splits_backward() {
                                assert!(bi < at(OpKind::BackwardWeight), "{s} p={p} m={m}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn check_rejects_shapes_a_schedule_cannot_run() {
        use ScheduleError::*;
        assert_eq!(
            Schedule::Naive.check(shape(4, 8, 1)),
            Err(NaiveMicrobatches(8))
        );
        assert!(Schedule::Naive.check(shape(4, 1, 1)).is_ok());
        assert_eq!(
            Schedule::Interleaved.check(shape(4, 6, 2)),
            Err(InterleavedMicrobatches {
                microbatches: 6,
                stages: 4
            })
        );
        assert!(Schedule::Interleaved.check(shape(4, 8, 2)).is_ok());
        assert_eq!(
            Schedule::Gpipe.check(shape(4, 8, 2)),
            Err(ChunksNeedInterleaved {
                schedule: Schedule::Gpipe,
                chunks: 2
            })
        );
        for s in Schedule::ALL {
            assert_eq!(s.check(shape(0, 1, 1)), Err(NoStages));
            assert_eq!(s.check(shape(1, 0, 1)), Err(NoMicrobatches));
            assert_eq!(s.check(shape(1, 1, 0)), Err(NoChunks));
        }
        let msg = Schedule::Naive
            .check(shape(2, 4, 1))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("microbatches is 4"), "{msg}");
    }

    #[test]
    fn serde_names_match_display() {
        for s in Schedule::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            let back: Schedule = serde_json::from_str(&json).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn pipedream_keeps_p_minus_s_weight_versions() {
        assert_eq!(Schedule::Pipedream.weight_versions(0, 4), 4);
        assert_eq!(Schedule::Pipedream.weight_versions(3, 4), 1);
        assert_eq!(Schedule::OneFOneB.weight_versions(0, 4), 1);
        assert!(Schedule::Pipedream.updates_every_microbatch());
    }
}

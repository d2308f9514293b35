//! How pipeline activations and their gradients meet the compute stream:
//! `pipeline.p2p`.
//!
//! - `async` (default): a transfer starts when the sending op is done and
//!   the sender goes on computing; only the receiving op waits for it.
//! - `blocking`: Megatron-LM as of the SC'21 paper. Its schedules
//!   (megatron/schedules.py at 6985e58938, 2021-08) exchange tensors in
//!   `p2p_communication._communicate`, which posts every send and receive of
//!   one call with `torch.distributed.batch_isend_irecv`, then
//!   `req.wait()`s each and runs `torch.cuda.synchronize()`: nothing after
//!   the call runs until all of its transfers have arrived, and (NCCL
//!   send/receive being a rendezvous) a transfer moves only once both ends
//!   have posted their call. A call sits between two ops of a stage's
//!   order; it holds the sends of the op before it and the receive of the
//!   op after it, except in the steady state of the interleaved schedule,
//!   where Megatron runs a forward and a backward and then one call
//!   (`send_forward_backward_recv_forward_backward`): the forward's output
//!   leaves only after that backward, and the next backward's gradient is
//!   received before the forward that precedes it.
//!
//! Megatron's warm-up sends and receives are separate calls
//! (`send_forward` then `recv_forward`); here they are one call, moving
//! concurrently. This module does not model the scatter/gather of
//! activations over tensor ranks (`--scatter-gather-tensors-in-pipeline`)
//! nor the host time of the calls.

use super::builder::{Builder, OpKey};
use crate::ids::TaskId;
use crate::schedule::{Op, OpKind, Schedule, global_virtual_stage};
use std::collections::HashMap;

/// `pipeline.p2p`: whether pipeline transfers block the compute stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum P2p {
    /// Transfers overlap the sender's next op.
    #[default]
    Async,
    /// Megatron-LM 2021: rendezvous, batched at the schedule's call points,
    /// waited for before the next op.
    Blocking,
}

impl P2p {
    /// Whether `schedule` can run with this mode: blocking calls follow
    /// Megatron-LM's own schedules only.
    pub fn supports(self, schedule: Schedule) -> bool {
        self == P2p::Async || matches!(schedule, Schedule::OneFOneB | Schedule::Interleaved)
    }
}

/// Each stage's op order and where each op sits in it, to place the calls.
pub(super) struct Calls {
    orders: Vec<Vec<Op>>,
    /// (virtual stage, microbatch, kind) → (stage, index in its order).
    at: HashMap<(u32, u32, OpKind), (u32, usize)>,
    /// Whether forward-backward pairs share one call (interleaved steady
    /// state: Megatron's interleaved schedule with more microbatches than
    /// stages).
    paired: bool,
}

impl Calls {
    pub(super) fn new(orders: &[Vec<Op>], schedule: Schedule, microbatches: u32) -> Calls {
        let p = orders.len() as u32;
        let mut at = HashMap::new();
        for (s, ops) in orders.iter().enumerate() {
            for (i, op) in ops.iter().enumerate() {
                let j = global_virtual_stage(s as u32, op.virtual_stage, p);
                at.insert((j, op.microbatch, op.kind), (s as u32, i));
            }
        }
        Calls {
            orders: orders.to_vec(),
            at,
            paired: schedule == Schedule::Interleaved && microbatches != p,
        }
    }

    fn is(&self, s: u32, i: usize, kind: OpKind) -> bool {
        self.orders[s as usize]
            .get(i)
            .is_some_and(|o| o.kind == kind)
    }

    /// The call (index of the op it precedes) holding the sends of op `i`.
    fn send_call(&self, s: u32, i: usize) -> usize {
        if self.paired && self.is(s, i, OpKind::Forward) && self.is(s, i + 1, OpKind::Backward) {
            i + 2
        } else {
            i + 1
        }
    }

    /// The call holding the receive of op `i`.
    fn recv_call(&self, s: u32, i: usize) -> usize {
        if self.paired
            && i > 0
            && self.is(s, i, OpKind::Backward)
            && self.is(s, i - 1, OpKind::Forward)
        {
            i - 1
        } else {
            i
        }
    }

    /// The key of op `i` of stage `s` in replica `r`.
    fn key(&self, r: u32, s: u32, i: usize) -> Option<OpKey> {
        let op = self.orders[s as usize].get(i)?;
        let j = global_virtual_stage(s, op.virtual_stage, self.orders.len() as u32);
        Some((r, j, op.microbatch, op.kind))
    }

    /// For a transfer from op `from` to op `to`: the ops that must be done
    /// before it moves (both ends' posting ops) and the ops that wait for
    /// it (the first op after each end's call).
    pub(super) fn around(&self, from: OpKey, to: OpKey) -> (Vec<OpKey>, Vec<OpKey>) {
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for (key, sending) in [(from, true), (to, false)] {
            let Some(&(s, i)) = self.at.get(&(key.1, key.2, key.3)) else {
                continue;
            };
            let call = if sending {
                self.send_call(s, i)
            } else {
                self.recv_call(s, i)
            };
            // The ops already linked to the transfer (the sender itself,
            // the receiver itself) are left out.
            let posting = call.checked_sub(1).and_then(|c| self.key(key.0, s, c));
            before.extend(posting.filter(|&k| k != from));
            after.extend(self.key(key.0, s, call).filter(|&k| k != to));
        }
        (before, after)
    }
}

impl Builder<'_, '_> {
    /// Blocking p2p: transfer `x` (from op `from` to op `to`, tensor rank
    /// `k`) also waits for the receiver to post its call, and the op after
    /// each end's call waits for `x`.
    pub(super) fn block_on(&mut self, x: TaskId, from: OpKey, to: OpKey, k: u32) {
        let Some(calls) = &self.calls else {
            return;
        };
        let (before, after) = calls.around(from, to);
        for key in before {
            if let Some(&b) = self.done.get(&(key, k)) {
                self.graph.depend(x, b);
            }
        }
        for key in after {
            if let Some(&a) = self.first.get(&(key, k)) {
                self.graph.depend(a, x);
            }
        }
    }
}

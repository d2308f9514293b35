//! Ring all-reduce, reduce-scatter and all-gather.
//!
//! Ranks r0 → r1 → … → r(n−1) → r0. All-reduce is a reduce-scatter then an
//! all-gather: 2(n−1) steps; the others n−1. In every step each rank sends
//! one of n pieces of its buffer to its successor, and a rank starts step
//! k+1 as soon as it has received step k (its own step-k send may still be
//! in flight and then shares the link with the next, as in NCCL). With
//! `chunks` = C the buffer is cut into C independent rings over the same
//! ranks, each on its own ECMP channel.
//!
//! Uncontended, on identical paths (α = overhead + path latency):
//! all-reduce 2(n−1)(α + S/(nB)); reduce-scatter, all-gather (n−1)(α + S/(nB)).

use super::{Machine, Message, part_bytes};
use crate::ids::GpuId;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RingOp {
    AllReduce,
    ReduceScatter,
    AllGather,
}

pub struct Ring {
    ranks: Vec<GpuId>,
    /// Per chunk: its n pieces are `base` bytes, plus one for the first
    /// `extra` pieces (precomputed: dividing per send is measurable).
    piece_base: Vec<u64>,
    piece_extra: Vec<u64>,
    chunks: u64,
    /// ECMP channel of chunk 0 (chunk c uses `channel + c`).
    channel: u32,
    steps: u64,
    delivered: u64,
}

/// Tokens pack (chunk·n + receiver) above the step, so decoding a delivery
/// needs shifts, not divisions (this runs once per transfer).
const STEP_BITS: u32 = 24;

impl Ring {
    pub fn new(ranks: Vec<GpuId>, bytes: u64, chunks: u32, op: RingOp) -> Self {
        let n = ranks.len() as u64;
        let steps = match op {
            RingOp::AllReduce => 2 * (n - 1),
            RingOp::ReduceScatter | RingOp::AllGather => n - 1,
        };
        let chunks = u64::from(chunks);
        let chunk_bytes: Vec<u64> = (0..chunks).map(|c| part_bytes(bytes, chunks, c)).collect();
        Ring {
            piece_base: chunk_bytes.iter().map(|b| b / n).collect(),
            piece_extra: chunk_bytes.iter().map(|b| b % n).collect(),
            ranks,
            chunks,
            channel: 0,
            steps,
            delivered: 0,
        }
    }

    /// Puts chunk 0 on ECMP channel `channel` (NCCL channels of one
    /// collective hash apart).
    pub fn on_channel(mut self, channel: u32) -> Self {
        self.channel = channel;
        self
    }

    fn n(&self) -> u64 {
        self.ranks.len() as u64
    }

    /// Rank `i` sends its step-`k` piece of chunk `c` to its successor.
    fn send(&self, c: u64, i: u64, k: u64, out: &mut Vec<Message>) {
        let n = self.n();
        let next = if i + 1 == n { 0 } else { i + 1 };
        // The piece rank i forwards at step k (NCCL's ring order):
        // (i − k) mod n, with k < 2n.
        let k_mod = if k >= n { k - n } else { k };
        let piece = if i >= k_mod { i - k_mod } else { i + n - k_mod };
        out.push(Message {
            conn: (c * n + i) as u32,
            src: self.ranks[i as usize],
            dst: self.ranks[next as usize],
            channel: self.channel + c as u32,
            bytes: self.piece_base[c as usize] + u64::from(piece < self.piece_extra[c as usize]),
            token: ((c * n + next) << STEP_BITS) | k,
        });
    }
}

impl Machine for Ring {
    fn num_connections(&self) -> u32 {
        (self.chunks * self.n()) as u32
    }

    fn start(&mut self, out: &mut Vec<Message>) {
        if self.steps == 0 {
            return;
        }
        for c in 0..self.chunks {
            for i in 0..self.n() {
                self.send(c, i, 0, out);
            }
        }
    }

    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        self.delivered += 1;
        let k = token & ((1 << STEP_BITS) - 1);
        if k + 1 < self.steps {
            let cj = token >> STEP_BITS;
            let n = self.n();
            let (c, j) = if self.chunks == 1 {
                (0, cj)
            } else {
                (cj / n, cj % n)
            };
            self.send(c, j, k + 1, out);
        }
        self.is_done()
    }

    fn is_done(&self) -> bool {
        self.delivered == self.chunks * self.n() * self.steps
    }
}

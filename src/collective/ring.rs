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

use super::{Machine, Send, part_bytes};
use crate::ids::GpuId;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RingOp {
    AllReduce,
    ReduceScatter,
    AllGather,
}

pub struct Ring {
    ranks: Vec<GpuId>,
    bytes: u64,
    chunks: u64,
    steps: u64,
    delivered: u64,
}

impl Ring {
    pub fn new(ranks: Vec<GpuId>, bytes: u64, chunks: u32, op: RingOp) -> Self {
        let n = ranks.len() as u64;
        let steps = match op {
            RingOp::AllReduce => 2 * (n - 1),
            RingOp::ReduceScatter | RingOp::AllGather => n - 1,
        };
        Ring {
            ranks,
            bytes,
            chunks: u64::from(chunks),
            steps,
            delivered: 0,
        }
    }

    fn n(&self) -> u64 {
        self.ranks.len() as u64
    }

    /// Rank `i` sends its step-`k` piece of chunk `c` to its successor.
    fn send(&self, c: u64, i: u64, k: u64, out: &mut Vec<Send>) {
        let n = self.n();
        let chunk_bytes = part_bytes(self.bytes, self.chunks, c);
        // The piece rank i forwards at step k (NCCL's ring order).
        let piece = (i + n - k % n) % n;
        out.push(Send {
            conn: (c * n + i) as u32,
            src: self.ranks[i as usize],
            dst: self.ranks[((i + 1) % n) as usize],
            channel: c as u32,
            bytes: part_bytes(chunk_bytes, n, piece),
            token: (c * n + (i + 1) % n) * self.steps + k,
        });
    }
}

impl Machine for Ring {
    fn num_connections(&self) -> u32 {
        (self.chunks * self.n()) as u32
    }

    fn start(&mut self, out: &mut Vec<Send>) {
        if self.steps == 0 {
            return;
        }
        for c in 0..self.chunks {
            for i in 0..self.n() {
                self.send(c, i, 0, out);
            }
        }
    }

    fn delivered(&mut self, token: u64, out: &mut Vec<Send>) {
        self.delivered += 1;
        let k = token % self.steps;
        let cj = token / self.steps;
        let (c, j) = (cj / self.n(), cj % self.n());
        if k + 1 < self.steps {
            self.send(c, j, k + 1, out);
        }
    }

    fn is_done(&self) -> bool {
        self.delivered == self.chunks * self.n() * self.steps
    }
}

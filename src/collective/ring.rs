//! Ring all-reduce, reduce-scatter and all-gather, with NCCL's flow control.
//!
//! Ranks r0 → r1 → … → r(n−1) → r0. All-reduce is a reduce-scatter then an
//! all-gather: 2(n−1) steps; the others n−1. In every step each rank sends
//! one of n pieces of its buffer to its successor. With `chunks` = C the
//! buffer is cut into C independent rings over the same ranks, each on its
//! own ECMP channel.
//!
//! A rank sends its step-k piece when both hold:
//! - (data) it has received its predecessor's step k−1 piece (the piece it
//!   forwards, reduced);
//! - (credit) its connection to the successor has a free slot: fewer than
//!   [`WINDOW`] of its earlier pieces are still unconsumed by the successor.
//!
//! NCCL's mechanism (src/include/device.h, src/device/prims_simple.h,
//! src/include/collectives.h): each connection is a FIFO of
//! [`NCCL_STEPS`] = 8 slots; `waitPeer` lets a sender post a slice only while
//! `connStepCache + NCCL_STEPS ≥ step + StepPerSlice`, i.e. while it is at
//! most 8 slots ahead of what the receiver has consumed. A ring step of
//! all-reduce, reduce-scatter or all-gather always posts SlicePerChunk ×
//! StepPerSlice = `ALLREDUCE_CHUNKSTEPS` = NCCL_STEPS/2 slots (empty slices
//! included), so at most [`WINDOW`] = 2 ring steps are outstanding per
//! connection. The receiver consumes a piece when it forwards it (its
//! recv-reduce-send posts its own step k+1; the last step's piece is
//! consumed on arrival), so back-pressure travels upstream.
//!
//! Fluid approximation: fabsim's piece of a step is one flow of S/n bytes,
//! where NCCL cuts pieces above its chunk (4 slots × NCCL_BUFFSIZE/8 = 2 MiB
//! with the default 4 MiB buffer) into several loops of the whole ring. We
//! keep the window of 2 whatever the piece size: each loop of NCCL keeps 2
//! chunks in flight per connection, and 2 is also the least window with
//! which a ring whose receivers free slots only by forwarding cannot
//! deadlock (with 1, every rank waits for its successor to forward first).
//!
//! When the window never binds: if every send takes its uncontended time
//! and no edge takes longer than any two consecutive edges together
//! (identical edges, in particular), a rank's successor has sent step k−1
//! by the time the rank has the data for step k+1 (rank i sends step k at
//! e(i−k) + … + e(i−1), its successor step k−1 at e(i−k+2) + … + e(i)), so
//! every send starts when its data arrives and the closed forms below hold
//! unchanged.
//!
//! Uncontended, on identical paths (α = overhead + path latency):
//! all-reduce 2(n−1)(α + S/(nB)); reduce-scatter, all-gather (n−1)(α + S/(nB)).

use super::{Machine, Message, part_bytes};
use crate::ids::GpuId;

/// Slots of one connection's FIFO (NCCL src/include/device.h).
pub const NCCL_STEPS: u32 = 8;
/// Slots one ring step posts (NCCL src/include/collectives.h:
/// `ALLREDUCE_CHUNKSTEPS`, the same for reduce-scatter and all-gather).
pub const RING_CHUNK_STEPS: u32 = NCCL_STEPS / 2;
/// Ring steps outstanding per connection (see the module comment).
pub const WINDOW: u32 = NCCL_STEPS / RING_CHUNK_STEPS;
const _: () = assert!(
    WINDOW >= 2 && WINDOW <= 8,
    "a window below 2 deadlocks the ring"
);

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
    /// Per connection (chunk·n + sender rank): steps sent so far.
    sent: Vec<u32>,
    /// Per connection: which of its pieces the receiver has not consumed
    /// yet have arrived; bit b is step `sent[receiver] − 1 + b` (the
    /// receiver has consumed every earlier step, and at most [`WINDOW`]
    /// are unconsumed). A bit mask, not a count: with loss, pieces arrive
    /// out of order.
    arrived: Vec<u8>,
    /// Connections that may be able to send (reused work list).
    todo: Vec<u32>,
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
        let conns = (chunks * n) as usize;
        Ring {
            piece_base: chunk_bytes.iter().map(|b| b / n).collect(),
            piece_extra: chunk_bytes.iter().map(|b| b % n).collect(),
            ranks,
            chunks,
            channel: 0,
            steps,
            delivered: 0,
            sent: vec![0; conns],
            arrived: vec![0; conns],
            todo: Vec::new(),
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

    /// Connection `x` = chunk·n + rank as (chunk, rank); one chunk needs
    /// no division (this runs once per transfer).
    fn split(&self, x: u64) -> (u64, u64) {
        if self.chunks == 1 {
            (0, x)
        } else {
            (x / self.n(), x % self.n())
        }
    }

    /// The connections (chunk·n + rank) of rank `x`'s predecessor and
    /// successor in the same chunk.
    fn neighbours(&self, x: u64) -> (usize, usize) {
        let n = self.n();
        let (c, i) = self.split(x);
        let prev = if i == 0 { n - 1 } else { i - 1 };
        let next = if i + 1 == n { 0 } else { i + 1 };
        ((c * n + prev) as usize, (c * n + next) as usize)
    }

    /// Sends every step that connection `x` and, in turn, its predecessors
    /// (freed a slot by each send) may now send.
    fn pump(&mut self, x: u64, out: &mut Vec<Message>) {
        self.todo.push(x as u32);
        while let Some(x) = self.todo.pop() {
            let x = u64::from(x);
            let (prev, next) = self.neighbours(x);
            loop {
                let s = self.sent[x as usize];
                let data = s == 0 || self.arrived[prev] & 1 != 0;
                // Unconsumed by the successor: steps sent[next] − 1 .. s − 1.
                let credit = s + 1 < self.sent[next] + WINDOW;
                if u64::from(s) == self.steps || !data || !credit {
                    break;
                }
                self.send(x, u64::from(s), out);
                self.sent[x as usize] = s + 1;
                if s > 0 {
                    // Forwarding step s consumes the predecessor's step s−1.
                    self.arrived[prev] >>= 1;
                    self.todo.push(prev as u32);
                }
            }
        }
    }

    /// Connection `x` (chunk·n + rank i) sends its step-`k` piece.
    fn send(&self, x: u64, k: u64, out: &mut Vec<Message>) {
        let n = self.n();
        let (c, i) = self.split(x);
        let next = if i + 1 == n { 0 } else { i + 1 };
        // The piece rank i forwards at step k (NCCL's ring order):
        // (i − k) mod n, with k < 2n.
        let k_mod = if k >= n { k - n } else { k };
        let piece = if i >= k_mod { i - k_mod } else { i + n - k_mod };
        out.push(Message {
            conn: x as u32,
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
        for x in 0..self.chunks * self.n() {
            self.pump(x, out);
        }
    }

    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        self.delivered += 1;
        let k = token & ((1 << STEP_BITS) - 1);
        let receiver = token >> STEP_BITS;
        let (prev, _) = self.neighbours(receiver);
        // The receiver has sent ≥ 1 step (step 0 needs no data, and its
        // window is empty at the start), and has not consumed step k.
        let bit = k + 1 - u64::from(self.sent[receiver as usize]);
        self.arrived[prev] |= 1 << bit;
        self.pump(receiver, out);
        self.is_done()
    }

    fn is_done(&self) -> bool {
        self.delivered == self.chunks * self.n() * self.steps
    }
}

//! Broadcast as a pipelined chain: root → r1 → … → r(n−1), the message cut
//! into C chunks. A rank forwards chunk c as soon as it has it, and each
//! link carries its chunks one after another (a chunk is sent once the
//! previous chunk on that hop has been delivered), so chunks pipeline along
//! the chain.
//!
//! Uncontended: (n − 1 + C − 1)(α + S/(C·B)).

use super::{Machine, Message, part_bytes};
use crate::ids::GpuId;

pub struct Chain {
    ranks: Vec<GpuId>,
    bytes: u64,
    chunks: u64,
    /// Per hop i (rank i → i+1): next chunk to send, and whether one is in flight.
    next: Vec<u64>,
    busy: Vec<bool>,
    /// Per rank: chunks received so far (the root has them all).
    have: Vec<u64>,
    delivered: u64,
}

impl Chain {
    pub fn new(ranks: Vec<GpuId>, bytes: u64, chunks: u32) -> Self {
        let n = ranks.len();
        let chunks = u64::from(chunks);
        let mut have = vec![0; n];
        have[0] = chunks;
        Chain {
            ranks,
            bytes,
            chunks,
            next: vec![0; n],
            busy: vec![false; n],
            have,
            delivered: 0,
        }
    }

    /// Sends the next chunk on hop `i` if it is idle and the chunk is there.
    fn pump(&mut self, i: usize, out: &mut Vec<Message>) {
        if i + 1 >= self.ranks.len() || self.busy[i] {
            return;
        }
        let c = self.next[i];
        if c < self.chunks && c < self.have[i] {
            self.busy[i] = true;
            self.next[i] += 1;
            out.push(Message {
                conn: i as u32,
                src: self.ranks[i],
                dst: self.ranks[i + 1],
                channel: 0,
                bytes: part_bytes(self.bytes, self.chunks, c),
                token: i as u64,
            });
        }
    }
}

impl Machine for Chain {
    fn num_connections(&self) -> u32 {
        self.ranks.len() as u32
    }
    fn start(&mut self, out: &mut Vec<Message>) {
        self.pump(0, out);
    }
    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        let i = token as usize;
        self.delivered += 1;
        self.busy[i] = false;
        self.have[i + 1] += 1;
        self.pump(i, out);
        self.pump(i + 1, out);
        self.is_done()
    }
    fn is_done(&self) -> bool {
        self.delivered == (self.ranks.len() as u64 - 1) * self.chunks
    }
}

//! Direct all-to-all in n−1 shifted rounds: in round k (1 ≤ k < n) rank i
//! sends its piece for rank i+k to that rank, and starts round k+1 once it
//! has received round k (from rank i−k). Each rank's buffer of S bytes holds
//! n pieces of S/n; the piece for itself never moves.
//!
//! Uncontended, on a fabric that carries all pairs at once:
//! (n−1)(α + S/(nB)) = (n−1)α + (n−1)/n · S/B.

use super::{Machine, Message, part_bytes};
use crate::ids::GpuId;

pub struct Direct {
    ranks: Vec<GpuId>,
    bytes: u64,
    delivered: u64,
}

impl Direct {
    pub fn new(ranks: Vec<GpuId>, bytes: u64) -> Self {
        Direct {
            ranks,
            bytes,
            delivered: 0,
        }
    }

    fn n(&self) -> u64 {
        self.ranks.len() as u64
    }

    /// Rank `i`'s round-`k` send (to rank i+k).
    fn send(&self, i: u64, k: u64, out: &mut Vec<Message>) {
        let n = self.n();
        let dst = (i + k) % n;
        out.push(Message {
            conn: (i * n + dst) as u32,
            src: self.ranks[i as usize],
            dst: self.ranks[dst as usize],
            channel: 0,
            bytes: part_bytes(self.bytes, n, dst),
            // The receiver and the round.
            token: dst * n + k,
        });
    }
}

impl Machine for Direct {
    fn num_connections(&self) -> u32 {
        (self.n() * self.n()) as u32
    }
    fn start(&mut self, out: &mut Vec<Message>) {
        if self.n() > 1 {
            for i in 0..self.n() {
                self.send(i, 1, out);
            }
        }
    }
    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        self.delivered += 1;
        let (j, k) = (token / self.n(), token % self.n());
        if k + 1 < self.n() {
            self.send(j, k + 1, out);
        }
        self.is_done()
    }
    fn is_done(&self) -> bool {
        self.delivered == self.n() * (self.n() - 1)
    }
}

//! Butterfly all-reduces over 2^L ranks, where each step pairs rank i with
//! rank i XOR d and a rank starts step k+1 once it has received step k.
//!
//! - Rabenseifner (recursive halving, then doubling): L reduce-scatter
//!   steps exchanging S/2, S/4, …, S/n with partners n/2, n/4, …, 1 away,
//!   then L all-gather steps exchanging S/n, 2S/n, …, S/2 with partners
//!   1, 2, …, n/2 away. Uncontended: 2L·α + 2(n−1)/n · S/B.
//! - Recursive doubling: L steps exchanging the whole buffer with partners
//!   1, 2, …, n/2 away. Uncontended: L·(α + S/B).

use super::{Machine, Message};
use crate::ids::GpuId;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Rabenseifner,
    RecursiveDoubling,
}

pub struct HalvingDoubling {
    ranks: Vec<GpuId>,
    bytes: u64,
    kind: Kind,
    levels: u64,
    steps: u64,
    delivered: u64,
}

impl HalvingDoubling {
    /// `ranks.len()` must be a power of two (checked by `collective::build`).
    pub fn new(ranks: Vec<GpuId>, bytes: u64, kind: Kind) -> Self {
        let levels = u64::from(ranks.len().trailing_zeros());
        let steps = match kind {
            Kind::Rabenseifner => 2 * levels,
            Kind::RecursiveDoubling => levels,
        };
        HalvingDoubling {
            ranks,
            bytes,
            kind,
            levels,
            steps,
            delivered: 0,
        }
    }

    /// Partner distance and the bytes rank i sends in step k.
    ///
    /// Rank i ends the reduce-scatter holding piece i of n, piece p being
    /// `part_bytes(S, n, p)` (the first S mod n pieces one byte longer), so
    /// the pieces cover the buffer exactly. In reduce-scatter step k (partner
    /// distance d) rank i sends the d pieces of the aligned block holding its
    /// partner's piece; in all-gather step k, the d pieces of the aligned
    /// block holding its own.
    fn step(&self, i: u64, k: u64) -> (u64, u64) {
        let n = self.ranks.len() as u64;
        let (d, block_of) = match self.kind {
            Kind::RecursiveDoubling => return (1 << k, self.bytes),
            Kind::Rabenseifner if k < self.levels => {
                let d = n >> (k + 1);
                (d, i ^ d)
            }
            Kind::Rabenseifner => (1 << (k - self.levels), i),
        };
        let first = block_of / d * d;
        let longer = (self.bytes % n).saturating_sub(first).min(d);
        (d, d * (self.bytes / n) + longer)
    }

    fn send(&self, i: u64, k: u64, out: &mut Vec<Message>) {
        let (d, bytes) = self.step(i, k);
        let j = i ^ d;
        out.push(Message {
            conn: (i * self.steps + k) as u32,
            src: self.ranks[i as usize],
            dst: self.ranks[j as usize],
            channel: 0,
            bytes,
            token: j * self.steps + k,
        });
    }
}

impl Machine for HalvingDoubling {
    fn num_connections(&self) -> u32 {
        (self.ranks.len() as u64 * self.steps) as u32
    }
    fn start(&mut self, out: &mut Vec<Message>) {
        if self.steps > 0 {
            for i in 0..self.ranks.len() as u64 {
                self.send(i, 0, out);
            }
        }
    }
    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        self.delivered += 1;
        let (j, k) = (token / self.steps, token % self.steps);
        if k + 1 < self.steps {
            self.send(j, k + 1, out);
        }
        self.is_done()
    }
    fn is_done(&self) -> bool {
        self.delivered == self.ranks.len() as u64 * self.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the machine to the end, delivering sends in order; returns, per
    /// rank and step, the bytes it sent and the bytes it received.
    fn traffic(n: usize, bytes: u64) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
        let ranks: Vec<GpuId> = (0..n as u32).map(GpuId).collect();
        let mut m = HalvingDoubling::new(ranks, bytes, Kind::Rabenseifner);
        let steps = m.steps as usize;
        let mut sent = vec![vec![0; steps]; n];
        let mut received = vec![vec![0; steps]; n];
        let mut queue = Vec::new();
        m.start(&mut queue);
        while let Some(s) = queue.pop() {
            let k = (s.conn as usize) % steps;
            sent[s.src.index()][k] += s.bytes;
            received[s.dst.index()][k] += s.bytes;
            m.delivered(s.token, &mut queue);
        }
        assert!(m.is_done());
        (sent, received)
    }

    #[test]
    fn rabenseifner_pieces_cover_the_buffer_exactly() {
        for n in [2usize, 4, 8, 16] {
            for bytes in [1_000_000u64, 1_000_003, 7, 1] {
                let levels = n.trailing_zeros() as usize;
                let piece = |p: usize| bytes / n as u64 + u64::from((p as u64) < bytes % n as u64);
                let (sent, received) = traffic(n, bytes);
                for i in 0..n {
                    // Reduce-scatter: rank i sends away every piece but its
                    // own; all-gather: it receives every piece but its own.
                    let rs: u64 = sent[i][..levels].iter().sum();
                    assert_eq!(
                        rs,
                        bytes - piece(i),
                        "n={n} S={bytes} rank {i} reduce-scatter"
                    );
                    let ag: u64 = received[i][levels..].iter().sum();
                    assert_eq!(ag, bytes - piece(i), "n={n} S={bytes} rank {i} all-gather");
                }
            }
        }
    }
}

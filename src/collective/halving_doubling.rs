//! Butterfly all-reduces over 2^L ranks, where each step pairs rank i with
//! rank i XOR d and a rank starts step k+1 once it has received step k.
//!
//! - Rabenseifner (recursive halving, then doubling): L reduce-scatter
//!   steps exchanging S/2, S/4, …, S/n with partners n/2, n/4, …, 1 away,
//!   then L all-gather steps exchanging S/n, 2S/n, …, S/2 with partners
//!   1, 2, …, n/2 away. Uncontended: 2L·α + 2(n−1)/n · S/B.
//! - Recursive doubling: L steps exchanging the whole buffer with partners
//!   1, 2, …, n/2 away. Uncontended: L·(α + S/B).

use super::{Machine, Send};
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

    /// Partner distance and bytes of step k.
    fn step(&self, k: u64) -> (u64, u64) {
        let n = self.ranks.len() as u64;
        match self.kind {
            Kind::RecursiveDoubling => (1 << k, self.bytes),
            Kind::Rabenseifner if k < self.levels => {
                let d = n >> (k + 1);
                (d, self.bytes * d / n)
            }
            Kind::Rabenseifner => {
                let d = 1 << (k - self.levels);
                (d, self.bytes * d / n)
            }
        }
    }

    fn send(&self, i: u64, k: u64, out: &mut Vec<Send>) {
        let (d, bytes) = self.step(k);
        let j = i ^ d;
        out.push(Send {
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
    fn start(&mut self, out: &mut Vec<Send>) {
        if self.steps > 0 {
            for i in 0..self.ranks.len() as u64 {
                self.send(i, 0, out);
            }
        }
    }
    fn delivered(&mut self, token: u64, out: &mut Vec<Send>) -> bool {
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

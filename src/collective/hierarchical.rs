//! Hierarchical (two-level) all-reduce: a ring reduce-scatter inside each
//! host, then a ring all-reduce of each 1/g shard across hosts (among the
//! GPUs with the same local index), then a ring all-gather inside each host.
//! Each phase starts when the previous one has finished everywhere.
//!
//! Uncontended, g GPUs per host and k hosts:
//! 2(g−1)α_in + 2(g−1)/g·S/B_in + 2(k−1)α_out + 2(k−1)/k·(S/g)/B_out.

use super::ring::{Ring, RingOp};
use super::{CollectiveError, Machine, Message, part_bytes};
use crate::ids::GpuId;
use crate::topology::Cluster;
use std::collections::BTreeMap;

/// Token bits reserved for a sub-machine's own token.
const SUB_SHIFT: u32 = 48;

/// Phases of concurrent sub-machines, run one phase after another. Sub
/// machines get disjoint connection ranges and tagged tokens.
pub struct Phased {
    phases: Vec<Vec<Box<dyn Machine>>>,
    /// Connection offset of each sub-machine, per phase.
    offsets: Vec<Vec<u32>>,
    total_conns: u32,
    current: usize,
    scratch: Vec<Message>,
}

impl Phased {
    pub fn new(phases: Vec<Vec<Box<dyn Machine>>>) -> Self {
        let mut next = 0u32;
        let offsets = phases
            .iter()
            .map(|subs| {
                subs.iter()
                    .map(|m| {
                        let o = next;
                        next += m.num_connections();
                        o
                    })
                    .collect()
            })
            .collect();
        Phased {
            phases,
            offsets,
            total_conns: next,
            current: 0,
            scratch: Vec::new(),
        }
    }

    fn forward(&mut self, k: usize, out: &mut Vec<Message>) {
        let offset = self.offsets[self.current][k];
        for mut s in self.scratch.drain(..) {
            s.conn += offset;
            s.token |= (k as u64) << SUB_SHIFT;
            out.push(s);
        }
    }

    /// Starts phases until one has work in flight (or all are done).
    fn start_phase(&mut self, out: &mut Vec<Message>) {
        while self.current < self.phases.len() {
            for k in 0..self.phases[self.current].len() {
                self.phases[self.current][k].start(&mut self.scratch);
                self.forward(k, out);
            }
            if !self.phase_done() {
                return;
            }
            self.current += 1;
        }
    }

    fn phase_done(&self) -> bool {
        self.phases[self.current].iter().all(|m| m.is_done())
    }
}

impl Machine for Phased {
    fn num_connections(&self) -> u32 {
        self.total_conns
    }
    fn start(&mut self, out: &mut Vec<Message>) {
        self.start_phase(out);
    }
    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        let k = (token >> SUB_SHIFT) as usize;
        let sub = token & ((1 << SUB_SHIFT) - 1);
        self.phases[self.current][k].delivered(sub, &mut self.scratch);
        self.forward(k, out);
        if self.phase_done() {
            self.current += 1;
            self.start_phase(out);
        }
        self.is_done()
    }
    fn is_done(&self) -> bool {
        self.current >= self.phases.len()
    }
}

/// `ranks` grouped by host, in order of first appearance; every host must
/// hold the same number of them.
pub fn host_groups(ranks: &[GpuId], cluster: &Cluster) -> Result<Vec<Vec<GpuId>>, CollectiveError> {
    let mut hosts: BTreeMap<u32, usize> = BTreeMap::new();
    let mut groups: Vec<Vec<GpuId>> = Vec::new();
    for &r in ranks {
        let h = cluster.gpu(r).host;
        let idx = *hosts.entry(h).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[idx].push(r);
    }
    let g = groups.first().map_or(0, Vec::len);
    if groups.iter().any(|grp| grp.len() != g) {
        return Err(CollectiveError::UnevenHosts);
    }
    Ok(groups)
}

/// Builds the three-phase hierarchical all-reduce over `ranks`, grouped by
/// host in order of first appearance.
pub fn hierarchical(
    ranks: &[GpuId],
    bytes: u64,
    chunks: u32,
    cluster: &Cluster,
) -> Result<Phased, CollectiveError> {
    let groups = host_groups(ranks, cluster)?;
    let g = groups[0].len();
    let intra = |op| -> Vec<Box<dyn Machine>> {
        groups
            .iter()
            .map(|grp| Box::new(Ring::new(grp.clone(), bytes, chunks, op)) as Box<dyn Machine>)
            .collect()
    };
    let inter: Vec<Box<dyn Machine>> = (0..g)
        .map(|i| {
            let across: Vec<GpuId> = groups.iter().map(|grp| grp[i]).collect();
            let shard = part_bytes(bytes, g as u64, i as u64);
            Box::new(Ring::new(across, shard, chunks, RingOp::AllReduce)) as Box<dyn Machine>
        })
        .collect();
    Ok(Phased::new(vec![
        intra(RingOp::ReduceScatter),
        inter,
        intra(RingOp::AllGather),
    ]))
}

//! How fast a design's GPUs can send, in total and off their host, and
//! whether a candidate's data-parallel replicas sit on different hosts:
//! the facts the step-time bounds (`bounds.rs`) read. Nothing here prunes.

use super::space::{Candidate, Hardware};

/// The largest total outgoing bandwidth of any GPU of `c`, bytes/s.
pub(super) fn egress(c: &crate::topology::Cluster) -> f64 {
    c.gpus()
        .iter()
        .map(|g| {
            c.out_links(g.node)
                .iter()
                .map(|&l| c.link(l).bandwidth.bytes_per_sec())
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// The largest off-host sending rate of any GPU of `c`, bytes/s: the sum
/// of its outgoing links, leaving out those into a switch whose every link
/// goes to GPUs of the same host (a host's NVSwitch). A byte for another
/// host leaves its GPU on one of its links, and GPUs never forward, so it
/// cannot take a left-out link.
pub(super) fn off_host(c: &crate::topology::Cluster) -> f64 {
    use crate::topology::NodeKind;
    let local = |host: u32, l: crate::ids::LinkId| {
        let to = c.link(l).to;
        match c.node(to).kind {
            NodeKind::Gpu(g) => c.gpu(g).host == host,
            NodeKind::Switch => c.out_links(to).iter().all(
                |&o| matches!(c.node(c.link(o).to).kind, NodeKind::Gpu(g) if c.gpu(g).host == host),
            ),
        }
    };
    c.gpus()
        .iter()
        .map(|g| {
            c.out_links(g.node)
                .iter()
                .filter(|&&l| !local(g.host, l))
                .map(|&l| c.link(l).bandwidth.bytes_per_sec())
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// Whether every data-parallel group of `c` (under `placement`) has its
/// ranks on different hosts of `h`.
pub(super) fn replicas_on_distinct_hosts(
    c: &Candidate,
    h: &Hardware,
    placement: crate::training::Placement,
) -> bool {
    let par = crate::training::Parallelism {
        data: c.data,
        pipeline: c.pipeline,
        tensor: c.tensor,
        sequence_parallel: false,
    };
    let hosts = h.gpu_host.iter().max().map_or(0, |m| *m as usize + 1);
    // The group that last saw each host.
    let mut seen = vec![u64::MAX; hosts];
    for s in 0..c.pipeline {
        for k in 0..c.tensor {
            let group = u64::from(s) * u64::from(c.tensor) + u64::from(k);
            for r in 0..c.data {
                let g = placement.gpu(par, r, s, k).index();
                let Some(&host) = h.gpu_host.get(g) else {
                    return false;
                };
                let mark = &mut seen[host as usize];
                if *mark == group {
                    return false;
                }
                *mark = group;
            }
        }
    }
    true
}

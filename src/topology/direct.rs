//! Direct networks for the `ring` and `torus` generators: one router switch
//! per host (its GPUs attach by their NIC links) and router-to-router cables
//! on a wrap-around grid. It does not lay out hosts (see generators.rs) and
//! does no dimension-order routing: routes are the shortest paths of
//! routing.rs, with ECMP among equal ones.

use super::ClusterBuilder;
use super::LinkKind;
use super::generators::{Hosts, Uplink};
use crate::ids::NodeId;
use crate::units::SimTime;

/// One router per host with the host's GPUs attached by their NICs.
pub(super) fn add_routers(
    b: &mut ClusterBuilder,
    h: &Hosts,
    gpus: &[NodeId],
    latency: SimTime,
) -> Vec<NodeId> {
    let per_host = h.gpus_per_host as usize;
    (0..h.hosts as usize)
        .map(|host| {
            let r = b.add_switch(format!("h{host}.router"), latency);
            for &g in &gpus[host * per_host..(host + 1) * per_host] {
                b.add_link(g, r, h.nic.bandwidth, h.nic.latency, LinkKind::Nic);
            }
            r
        })
        .collect()
}

/// Wrap-around neighbour links on a row-major grid of `dims` (a ring is the
/// 1-D case). A dim of 2 gets one link per pair, a dim of 1 none.
pub(super) fn torus_links(b: &mut ClusterBuilder, routers: &[NodeId], dims: &[u32], link: Uplink) {
    let mut stride = 1usize;
    for &d in dims.iter().rev() {
        let d = d as usize;
        if d >= 2 {
            for (i, &r) in routers.iter().enumerate() {
                let coord = (i / stride) % d;
                if d == 2 && coord == 1 {
                    continue; // the pair is already joined from coord 0
                }
                let next = i - coord * stride + ((coord + 1) % d) * stride;
                b.add_link(
                    r,
                    routers[next],
                    link.bandwidth,
                    link.latency,
                    LinkKind::Fabric,
                );
            }
        }
        stride *= d;
    }
}

#[cfg(test)]
mod tests {
    use super::super::generators::FabricLayout;
    use super::super::generators::tests::{NIC, SW, hosts, lat, make, up};
    use crate::topology::ClusterBuilder;
    use crate::topology::generators::build;
    use crate::topology::test_support::test_gpu;

    #[test]
    fn ring_routes() {
        let link = up(100.0, 1000);
        let c = make(&hosts(8, 1), FabricLayout::Ring { latency: SW, link });
        assert_eq!(c.links().len() / 2, 8 + 8);
        assert_eq!(lat(&c, 0, 1), NIC * 2 + NIC + SW * 2);
        assert_eq!(lat(&c, 0, 7), NIC * 2 + NIC + SW * 2, "wraps around");
        assert_eq!(lat(&c, 0, 4), NIC * 2 + NIC * 4 + SW * 5);
        let two = make(&hosts(2, 1), FabricLayout::Ring { latency: SW, link });
        assert_eq!(two.links().len() / 2, 2 + 1, "two hosts: one ring link");
    }

    #[test]
    fn torus_routes_and_small_dims() {
        let link = up(100.0, 1000);
        let c = make(
            &hosts(16, 1),
            FabricLayout::Torus {
                dims: vec![4, 4],
                latency: SW,
                link,
            },
        );
        assert_eq!(c.links().len() / 2, 16 + 32);
        // (0,0) → (2,2): 4 router hops.
        assert_eq!(lat(&c, 0, 10), NIC * 2 + NIC * 4 + SW * 5);
        assert_eq!(lat(&c, 0, 3), NIC * 2 + NIC + SW * 2, "wraps around");
        let c = make(
            &hosts(8, 1),
            FabricLayout::Torus {
                dims: vec![2, 4, 1],
                latency: SW,
                link,
            },
        );
        assert_eq!(c.links().len() / 2, 8 + 4 + 8);
        let bad = build(
            ClusterBuilder::new("t", test_gpu()),
            &hosts(8, 1),
            &FabricLayout::Torus {
                dims: vec![3, 3],
                latency: SW,
                link,
            },
        );
        assert!(bad.is_err());
    }
}

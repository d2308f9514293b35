//! Unit tests of the cluster graph and its routes.
use super::test_support::*;
use super::*;

#[test]
fn star_route_is_nic_switch_nic() {
    let c = kccb_star(4);
    let r = c.route(GpuId(0), GpuId(3), 7);
    assert_eq!(r.links.len(), 2);
    assert_eq!(r.latency, SimTime::from_ns(2500));
    assert_eq!(r.overhead, SimTime::from_us(2));
    assert_eq!(c.link(r.links[0]).from, c.gpu(GpuId(0)).node);
    assert_eq!(c.link(r.links[1]).to, c.gpu(GpuId(3)).node);
    assert_eq!(c.hops(GpuId(0), GpuId(3)), Some(2));
    assert!(c.route(GpuId(1), GpuId(1), 0).links.is_empty());
}

#[test]
fn gpus_do_not_forward_and_disconnection_is_reported() {
    let mut b = ClusterBuilder::new("split", test_gpu());
    let s1 = b.add_switch("s1", SimTime::ZERO);
    let s2 = b.add_switch("s2", SimTime::ZERO);
    let g0 = b.add_gpu("g0", 0, 0, SimTime::ZERO, SimTime::ZERO);
    let g1 = b.add_gpu("g1", 1, 0, SimTime::ZERO, SimTime::ZERO);
    let g2 = b.add_gpu("g2", 2, 0, SimTime::ZERO, SimTime::ZERO);
    let bw = Bandwidth::from_gbps(10.0);
    b.add_link(g0, s1, bw, SimTime::ZERO, LinkKind::Nic);
    // g1 bridges s1 and s2, but GPUs never forward.
    b.add_link(g1, s1, bw, SimTime::ZERO, LinkKind::Nic);
    b.add_link(g1, s2, bw, SimTime::ZERO, LinkKind::Nic);
    b.add_link(g2, s2, bw, SimTime::ZERO, LinkKind::Nic);
    let err = b.build().unwrap_err();
    assert!(matches!(err, TopologyError::Disconnected { .. }), "{err}");
}

#[test]
fn ecmp_spreads_over_parallel_spines_deterministically() {
    // Two leaves, two spines: a leaf-to-leaf flow has two equal paths.
    let mut b = ClusterBuilder::new("leafspine", test_gpu());
    let bw = Bandwidth::from_gbps(100.0);
    let l0 = b.add_switch("leaf0", SimTime::ZERO);
    let l1 = b.add_switch("leaf1", SimTime::ZERO);
    let s0 = b.add_switch("spine0", SimTime::ZERO);
    let s1 = b.add_switch("spine1", SimTime::ZERO);
    for (i, leaf) in [l0, l1].into_iter().enumerate() {
        let g = b.add_gpu(format!("g{i}"), i as u32, 0, SimTime::ZERO, SimTime::ZERO);
        b.add_link(g, leaf, bw, SimTime::ZERO, LinkKind::Nic);
        b.add_link(leaf, s0, bw, SimTime::ZERO, LinkKind::Fabric);
        b.add_link(leaf, s1, bw, SimTime::ZERO, LinkKind::Fabric);
    }
    let c = b.build().unwrap();
    let mut spines = std::collections::BTreeSet::new();
    for h in 0..64 {
        let r = c.route(GpuId(0), GpuId(1), h);
        assert_eq!(r.links.len(), 4);
        assert_eq!(r, c.route(GpuId(0), GpuId(1), h), "deterministic");
        spines.insert(c.link(r.links[1]).to);
    }
    assert_eq!(spines.len(), 2, "both spines used");
}

//! Small clusters built by hand for unit tests across the crate.
use super::*;

pub fn test_gpu() -> GpuSpec {
    GpuSpec {
        name: "test-gpu".into(),
        peak_flops: PeakFlops {
            fp32: 19.5e12,
            tf32: 156e12,
            bf16: 312e12,
            fp16: 312e12,
            fp8: 312e12,
        },
        memory_bytes: 40 << 30,
        hbm_bandwidth: Bandwidth::new(1.555e12).unwrap(),
    }
}

/// `n` single-GPU hosts on one switch: NIC links of `gbps`, `nic_lat`
/// each way, switch latency `sw_lat`, NIC overhead `overhead`.
pub fn star(n: usize, gbps: f64, nic_lat: SimTime, sw_lat: SimTime, overhead: SimTime) -> Cluster {
    let mut b = ClusterBuilder::new("star", test_gpu());
    let sw = b.add_switch("switch", sw_lat);
    for i in 0..n {
        let g = b.add_gpu(format!("gpu{i}"), i as u32, 0, overhead, SimTime::ZERO);
        b.add_link(g, sw, Bandwidth::from_gbps(gbps), nic_lat, LinkKind::Nic);
    }
    b.build().unwrap()
}

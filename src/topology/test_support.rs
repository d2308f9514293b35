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

/// The KCCB-like star most closed-form tests use: `n` single-GPU hosts,
/// 100 Gbps NICs with 1 µs latency, a 500 ns switch, 2 µs endpoint
/// overhead, so one uncontended hop costs [`KCCB_ALPHA`] + S / 12.5 GB/s.
pub fn kccb_star(n: usize) -> Cluster {
    star(
        n,
        100.0,
        SimTime::from_us(1),
        SimTime::from_ns(500),
        SimTime::from_us(2),
    )
}

/// α of [`kccb_star`]: overhead 2 µs + NIC 1 µs + switch 0.5 µs + NIC 1 µs.
pub const KCCB_ALPHA: SimTime = SimTime::from_ps(4_500_000);

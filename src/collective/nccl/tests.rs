//! The NCCL-like algorithms against closed forms where one exists (hosts of
//! one GPU, one host), against the NIC bandwidth bound where rings mix
//! NVLink and NIC hops, and the layout's rail alignment.

use super::super::tests::time;
use super::super::{Algorithm, CollectiveOp, CollectiveSpec};
use super::*;
use crate::topology::test_support::{KCCB_ALPHA as ALPHA, kccb_star as hosts_of_one, test_gpu};
use crate::units::{Bandwidth, SimTime};

const GBPS: f64 = 100.0;

fn b() -> Bandwidth {
    Bandwidth::from_gbps(GBPS)
}

/// k hosts × g GPUs: an NVSwitch per host (1us, 300 GB/s links), one NIC per
/// GPU (100 Gbps) on a single switch.
fn dgx_like(k: usize, g: usize) -> Cluster {
    dgx_like_of(test_gpu(), k, g)
}

fn dgx_like_of(gpu: crate::topology::GpuSpec, k: usize, g: usize) -> Cluster {
    let nvl = Bandwidth::new(300e9).unwrap();
    super::super::tests::two_level_of(gpu, k, g, nvl, SimTime::from_us(1))
}

/// An all-reduce over GPUs `0..n`.
fn spec(algorithm: Algorithm, n: usize, bytes: u64, chunks: u32) -> CollectiveSpec {
    super::super::tests::spec(CollectiveOp::AllReduce, algorithm, n, bytes, chunks)
}

#[test]
fn ring_over_single_gpu_hosts_is_the_ring_closed_form_on_wire_bytes() {
    for n in [2usize, 5, 8] {
        let piece = 1u64 << 20;
        let s = piece * n as u64;
        // One NIC per host: one channel, 2(n−1)(α + wire(S/n)/B).
        let got = time(&hosts_of_one(n), &spec(Algorithm::NcclRing, n, s, 1));
        let step = ALPHA + b().transfer_time(wire_bytes(piece, NET_EFFICIENCY));
        assert_eq!(got, step * (2 * (n as u64 - 1)), "n = {n}");
        // Two channels per NIC (NCCL on IB): each channel moves half the
        // pieces at half the NIC: the same time.
        let two = time(&hosts_of_one(n), &spec(Algorithm::NcclRing, n, s, 2));
        let half = Bandwidth::new(b().bytes_per_sec() / 2.0).unwrap();
        let step2 = ALPHA + half.transfer_time(wire_bytes(piece / 2, NET_EFFICIENCY));
        assert_eq!(two, step2 * (2 * (n as u64 - 1)), "n = {n}, 2 per NIC");
        assert!(two.as_secs_f64() / got.as_secs_f64() - 1.0 < 1e-6);
    }
}

#[test]
fn ring_on_one_host_is_the_nvlink_ring_closed_form() {
    let g = 8;
    let c = dgx_like(1, g);
    let piece = 3u64 << 20;
    let got = time(&c, &spec(Algorithm::Nccl, g, piece * g as u64, 1));
    let nvl = Bandwidth::new(300e9).unwrap();
    let step = SimTime::from_us(1) + nvl.transfer_time(wire_bytes(piece, NVLINK_EFFICIENCY));
    assert_eq!(got, step * (2 * (g as u64 - 1)));
}

#[test]
fn a100_nvlink_rings_run_at_nccls_235_gb_s_cap() {
    // NCCL caps A100 NVLink bus bandwidth at 235 GB/s (tuning.cc): below
    // the 370/450 protocol efficiency of 300 GB/s links (246.7 GB/s).
    let g = 8;
    let a100 = crate::topology::gpu::preset("A100-SXM4-80GB").unwrap();
    let c = dgx_like_of(a100, 1, g);
    assert!((nvlink_efficiency(&c) - 235.0 / 300.0).abs() < 1e-12);
    assert_eq!(nvlink_efficiency(&dgx_like(1, g)), NVLINK_EFFICIENCY);
    let piece = 3u64 << 20;
    let got = time(&c, &spec(Algorithm::Nccl, g, piece * g as u64, 1));
    let nvl = Bandwidth::new(300e9).unwrap();
    let step = SimTime::from_us(1) + nvl.transfer_time(wire_bytes(piece, 235.0 / 300.0));
    assert_eq!(got, step * (2 * (g as u64 - 1)));
    // Bus bandwidth without the per-step α: the cap.
    let wire = nvl.transfer_time(wire_bytes(piece, 235.0 / 300.0));
    let busbw = piece as f64 / wire.as_secs_f64();
    assert!((busbw / 235e9 - 1.0).abs() < 1e-6, "{busbw}");
}

#[test]
fn tree_over_two_hosts_is_two_exchanges() {
    // Two trees (one rooted on each host), each half the buffer in one
    // chunk: up one way, then down the other, 2(α + wire(S/2)/B).
    let s = 256 << 10;
    let got = time(&hosts_of_one(2), &spec(Algorithm::NcclTree, 2, s, 1));
    let want = (ALPHA + b().transfer_time(wire_bytes(s / 2, NET_EFFICIENCY))) * 2;
    assert_eq!(got, want);
}

#[test]
fn multi_host_ring_runs_at_the_nic_bound_and_beats_the_others() {
    let (k, g) = (4usize, 4usize);
    let c = dgx_like(k, g);
    let n = k * g;
    let s: u64 = 256 << 20;
    let got = time(&c, &spec(Algorithm::NcclRing, n, s, 1)).as_secs_f64();
    // Every NIC carries 2(n−1)/n · S/g wire bytes each way.
    let bound = 2.0 * (n as f64 - 1.0) / n as f64 * s as f64
        / (g as f64 * b().bytes_per_sec() * NET_EFFICIENCY);
    assert!(got >= bound, "{got} < NIC bound {bound}");
    assert!(got < 1.08 * bound, "{got} vs NIC bound {bound}");
    // The flat ring crosses each host through one NIC. (Hierarchical, whose
    // NVLink phases are nearly free here, pays no protocol overhead: no
    // like-for-like comparison.)
    let flat = time(&c, &spec(Algorithm::Ring, n, s, 1)).as_secs_f64();
    assert!(got < flat / 2.0, "nccl-ring {got} vs ring {flat}");
}

#[test]
fn rings_are_rail_aligned_and_balance_the_nics() {
    for k in [2usize, 3, 4] {
        let c = dgx_like(k, 4);
        let ranks: Vec<GpuId> = (0..16 * k as u32 / 4).map(GpuId).collect();
        let layout = Layout::new(&ranks, &c);
        assert_eq!(layout.ring_channels(1), 4);
        assert_eq!(layout.ring_channels(2), 8);
        let (mut out, mut inn) = (vec![0; ranks.len()], vec![0; ranks.len()]);
        for ch in 0..4 {
            let order = layout.ring_order(ch);
            let mut seen = order.clone();
            seen.sort();
            assert_eq!(seen, ranks, "channel {ch} visits every rank once");
            let mut off_rail = 0;
            for i in 0..order.len() {
                let (a, b) = (c.gpu(order[i]), c.gpu(order[(i + 1) % order.len()]));
                if a.host != b.host {
                    out[order[i].index()] += 1;
                    inn[order[(i + 1) % order.len()].index()] += 1;
                    off_rail += usize::from(a.local != b.local);
                }
            }
            // Even host counts stay on their rails; odd ones cross once.
            assert_eq!(off_rail, k % 2, "k = {k}, channel {ch}");
        }
        assert!(
            out.iter().chain(&inn).all(|&x| x == 1),
            "k = {k}: {out:?} {inn:?}"
        );
    }
}

#[test]
fn single_gpu_hosts_and_single_hosts_fall_back() {
    let c = hosts_of_one(6);
    let ranks: Vec<GpuId> = (0..6).map(GpuId).collect();
    let l = Layout::new(&ranks, &c);
    assert_eq!((l.ring_channels(1), l.tree_channels(1)), (1, 2));
    assert_eq!(l.ring_order(0), ranks);
    let one = dgx_like(1, 8);
    let ranks: Vec<GpuId> = (0..8).map(GpuId).collect();
    assert_eq!(Layout::new(&ranks, &one).ring_channels(1), 1);
}

#[test]
fn every_op_runs_and_single_ranks_take_no_time() {
    let c = dgx_like(2, 4);
    for op in [
        CollectiveOp::AllReduce,
        CollectiveOp::ReduceScatter,
        CollectiveOp::AllGather,
        CollectiveOp::Broadcast,
        CollectiveOp::AllToAll,
    ] {
        let mut s = spec(Algorithm::Nccl, 8, 1 << 20, 1);
        s.op = op;
        assert!(time(&c, &s) > SimTime::ZERO, "{op}");
        s.ranks = vec![GpuId(3)];
        assert_eq!(time(&c, &s), SimTime::ZERO, "{op}");
    }
}

/// Simulated nccl-ring and nccl-tree times at `bytes`.
fn both(c: &Cluster, n: usize, bytes: u64) -> (f64, f64) {
    let t = |a| time(c, &spec(a, n, bytes, 1)).as_secs_f64();
    (t(Algorithm::NcclRing), t(Algorithm::NcclTree))
}

#[test]
fn auto_switches_from_tree_to_ring_where_the_simulation_does() {
    let (k, g) = (8usize, 4usize);
    let c = dgx_like(k, g);
    let n = k * g;
    let ranks: Vec<GpuId> = (0..n as u32).map(GpuId).collect();
    let model = super::super::tuner::Model::new(&Layout::new(&ranks, &c), &c, 1);
    let pick = |s| model.pick(CollectiveOp::AllReduce, s);
    // The model's switch point, by bisection over sizes.
    let (mut lo, mut hi) = (8u64, 1u64 << 32);
    assert_eq!(pick(lo), super::super::tuner::Pick::Tree);
    assert_eq!(pick(hi), super::super::tuner::Pick::Ring);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if pick(mid) == super::super::tuner::Pick::Tree {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // A factor of 4 either side, the simulation agrees with the choice.
    let (ring, tree) = both(&c, n, lo / 4);
    assert!(
        tree < ring,
        "below the switch point {lo}: tree {tree} vs ring {ring}"
    );
    let (ring, tree) = both(&c, n, hi * 4);
    assert!(
        ring < tree,
        "above the switch point {hi}: ring {ring} vs tree {tree}"
    );
    // And auto runs what it picks.
    let auto = time(&c, &spec(Algorithm::Nccl, n, lo / 4, 1)).as_secs_f64();
    assert_eq!(auto, both(&c, n, lo / 4).1);
}

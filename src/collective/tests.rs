//! Every algorithm against its α-β closed form on uncontended fabrics, and
//! contention on an oversubscribed fat-tree against max-min's prediction.
//!
//! Notation: n ranks, S bytes, B NIC bandwidth, α = overhead + path latency.
//! Each step's bandwidth term is rounded up to whole picoseconds, exactly as
//! the engine does, so the expected times are exact integers.

use super::*;
use crate::bench::measure::measure;
use crate::topology::test_support::{KCCB_ALPHA as ALPHA, kccb_star as cluster, test_gpu};
use crate::topology::{ClusterBuilder, LinkKind};
use crate::units::{Bandwidth, SimTime};

const GBPS: f64 = 100.0;

fn b() -> Bandwidth {
    Bandwidth::from_gbps(GBPS)
}

pub(super) fn spec(
    op: CollectiveOp,
    algorithm: Algorithm,
    n: usize,
    bytes: u64,
    chunks: u32,
) -> CollectiveSpec {
    CollectiveSpec {
        name: "t".into(),
        op,
        algorithm,
        ranks: (0..n as u32).map(GpuId).collect(),
        bytes,
        chunks,
    }
}

pub(super) fn time(c: &Cluster, s: &CollectiveSpec) -> SimTime {
    measure(c, s).unwrap().time
}

/// One step: α + ceil(bytes / B).
fn step(bytes: u64) -> SimTime {
    ALPHA + b().transfer_time(bytes)
}

#[test]
fn ring_all_reduce_matches_closed_form() {
    for n in [2usize, 3, 4, 8, 16] {
        let s = 1 << 20;
        let got = time(
            &cluster(n),
            &spec(CollectiveOp::AllReduce, Algorithm::Ring, n, s * n as u64, 1),
        );
        // 2(n−1)(α + S/(nB)), S/n = 1 MiB exactly.
        let want = step(s) * (2 * (n as u64 - 1));
        assert_eq!(got, want, "n = {n}");
    }
}

#[test]
fn ring_reduce_scatter_and_all_gather_match_closed_form() {
    for op in [CollectiveOp::ReduceScatter, CollectiveOp::AllGather] {
        for n in [2usize, 4, 7] {
            let got = time(
                &cluster(n),
                &spec(op, Algorithm::Ring, n, 7000 * n as u64, 1),
            );
            assert_eq!(got, step(7000) * (n as u64 - 1), "{op} n = {n}");
        }
    }
}

#[test]
fn ring_with_uneven_pieces_is_bounded_by_the_largest_piece() {
    // S not divisible by n: pieces differ by one byte.
    let n = 3;
    let got = time(
        &cluster(n),
        &spec(CollectiveOp::AllReduce, Algorithm::Ring, n, 1_000_001, 1),
    );
    assert!(
        got >= step(333_333) * 4 && got <= step(333_334) * 4,
        "{got:?}"
    );
}

#[test]
fn halving_doubling_matches_rabenseifner() {
    for n in [2usize, 4, 8, 16] {
        let s: u64 = 1 << 24;
        let got = time(
            &cluster(n),
            &spec(CollectiveOp::AllReduce, Algorithm::HalvingDoubling, n, s, 1),
        );
        // 2·log2(n)·α + 2·Σ_k S/2^k/B, the bandwidth terms summing to 2(n−1)/n·S/B.
        let levels = n.trailing_zeros();
        let mut want = SimTime::ZERO;
        for k in 1..=levels {
            want += step(s >> k) * 2;
        }
        assert_eq!(got, want, "n = {n}");
        let closed = ALPHA.as_secs_f64() * 2.0 * levels as f64
            + 2.0 * (n as f64 - 1.0) / n as f64 * s as f64 / b().bytes_per_sec();
        assert!(
            (got.as_secs_f64() - closed).abs() < 1e-11,
            "{got:?} vs {closed}"
        );
    }
}

#[test]
fn recursive_doubling_matches_closed_form() {
    let (n, s) = (8usize, 3_000_000);
    let got = time(
        &cluster(n),
        &spec(
            CollectiveOp::AllReduce,
            Algorithm::RecursiveDoubling,
            n,
            s,
            1,
        ),
    );
    assert_eq!(got, step(s) * 3);
}

#[test]
fn butterflies_reject_non_power_of_two() {
    let err = measure(
        &cluster(6),
        &spec(
            CollectiveOp::AllReduce,
            Algorithm::HalvingDoubling,
            6,
            100,
            1,
        ),
    )
    .unwrap_err();
    assert!(err.to_string().contains("power-of-two"), "{err}");
}

#[test]
fn direct_all_to_all_matches_closed_form() {
    let n = 5;
    let got = time(
        &cluster(n),
        &spec(
            CollectiveOp::AllToAll,
            Algorithm::Direct,
            n,
            5000 * n as u64,
            1,
        ),
    );
    assert_eq!(got, step(5000) * (n as u64 - 1));
}

#[test]
fn pipelined_chain_broadcast_matches_closed_form() {
    for (n, c) in [(4usize, 1u32), (4, 8), (6, 3)] {
        let s = 24_000_000u64;
        let got = time(
            &cluster(n),
            &spec(CollectiveOp::Broadcast, Algorithm::Ring, n, s, c),
        );
        // (n − 1 + C − 1)(α + S/(C·B)).
        let want = step(s / u64::from(c)) * (n as u64 - 1 + u64::from(c) - 1);
        assert_eq!(got, want, "n = {n}, C = {c}");
    }
}

#[test]
fn double_tree_on_two_ranks_is_two_exchanges() {
    let s = 2_000_000;
    let got = time(
        &cluster(2),
        &spec(CollectiveOp::AllReduce, Algorithm::Tree, 2, s, 1),
    );
    assert_eq!(got, step(s / 2) * 2);
}

#[test]
fn double_tree_moves_every_chunk_and_pipelines() {
    let n = 8;
    let s = 64 << 20;
    let c1 = time(
        &cluster(n),
        &spec(CollectiveOp::AllReduce, Algorithm::Tree, n, s, 1),
    );
    let c16 = time(
        &cluster(n),
        &spec(CollectiveOp::AllReduce, Algorithm::Tree, n, s, 16),
    );
    assert!(
        c16 < c1,
        "chunking should pipeline the tree: {c16:?} vs {c1:?}"
    );
    // Never faster than the bandwidth lower bound of an all-reduce.
    let bound = 2.0 * (n as f64 - 1.0) / n as f64 * s as f64 / b().bytes_per_sec();
    assert!(c16.as_secs_f64() > bound);
}

#[test]
fn single_rank_collectives_take_no_time() {
    for (op, algo) in [
        (CollectiveOp::AllReduce, Algorithm::Ring),
        (CollectiveOp::AllReduce, Algorithm::Tree),
        (CollectiveOp::AllReduce, Algorithm::HalvingDoubling),
        (CollectiveOp::Broadcast, Algorithm::Ring),
        (CollectiveOp::AllToAll, Algorithm::Direct),
    ] {
        assert_eq!(
            time(&cluster(1), &spec(op, algo, 1, 1000, 1)),
            SimTime::ZERO,
            "{op} {algo}"
        );
    }
}

/// k hosts × g GPUs: an NVSwitch per host (latency `lat_in`, links of
/// `bw_in`), one NIC per GPU on a single switch.
fn two_level(k: usize, g: usize, bw_in: Bandwidth, lat_in: SimTime) -> Cluster {
    two_level_of(test_gpu(), k, g, bw_in, lat_in)
}

/// [`two_level`] with GPUs of model `gpu`.
pub(super) fn two_level_of(
    gpu: crate::topology::GpuSpec,
    k: usize,
    g: usize,
    bw_in: Bandwidth,
    lat_in: SimTime,
) -> Cluster {
    let mut cb = ClusterBuilder::new("two-level", gpu);
    let sw = cb.add_switch("switch", SimTime::from_ns(500));
    for h in 0..k {
        let nv = cb.add_switch(format!("h{h}.nvswitch"), lat_in);
        for i in 0..g {
            let gpu = cb.add_gpu(
                format!("h{h}.gpu{i}"),
                h as u32,
                i as u32,
                SimTime::from_us(2),
                SimTime::ZERO,
            );
            cb.add_link(gpu, nv, bw_in, SimTime::ZERO, LinkKind::IntraHost);
            cb.add_link(gpu, sw, b(), SimTime::from_us(1), LinkKind::Nic);
        }
    }
    cb.build().unwrap()
}

#[test]
fn hierarchical_all_reduce_matches_two_level_closed_form() {
    let (k, g) = (4usize, 4usize);
    let bw_in = Bandwidth::new(300e9).unwrap();
    let lat_in = SimTime::from_us(1);
    let c = two_level(k, g, bw_in, lat_in);
    let s: u64 = 16 * 4096 * 1000;
    let got = time(
        &c,
        &spec(
            CollectiveOp::AllReduce,
            Algorithm::Hierarchical,
            k * g,
            s,
            1,
        ),
    );
    // 2(g−1)(α_in + S/(g·B_in)) + 2(k−1)(α_out + (S/g)/(k·B_out)).
    let intra = (lat_in + bw_in.transfer_time(s / g as u64)) * (2 * (g as u64 - 1));
    let inter = step(s / (g * k) as u64) * (2 * (k as u64 - 1));
    assert_eq!(got, intra + inter);
    // And it beats a flat ring over the same 16 GPUs, which pays NIC α 30 times.
    let flat = time(
        &c,
        &spec(CollectiveOp::AllReduce, Algorithm::Ring, k * g, s, 1),
    );
    assert!(got < flat, "{got:?} vs flat {flat:?}");
}

#[test]
fn unsupported_pairs_and_bad_ranks_are_errors() {
    let c = cluster(4);
    let e = validate(
        &spec(CollectiveOp::AllToAll, Algorithm::Ring, 4, 100, 1),
        &c,
    )
    .unwrap_err();
    assert!(e.to_string().contains("use direct"), "{e}");
    let mut s = spec(CollectiveOp::AllReduce, Algorithm::Ring, 4, 100, 1);
    s.ranks = vec![GpuId(0), GpuId(9)];
    assert!(matches!(
        validate(&s, &c),
        Err(CollectiveError::NoSuchGpu(GpuId(9), 4))
    ));
    s.ranks = vec![GpuId(1), GpuId(1)];
    assert!(matches!(
        validate(&s, &c),
        Err(CollectiveError::DuplicateRank(_))
    ));
}

/// 16 single-GPU hosts, 4 per leaf, one spine; NICs and uplinks 100 Gbps,
/// so each leaf is 4:1 oversubscribed.
fn fat_tree_4to1() -> Cluster {
    let mut cb = ClusterBuilder::new("ft", test_gpu());
    let lat = SimTime::from_ns(500);
    let spine = cb.add_switch("spine", lat);
    let leaves: Vec<_> = (0..4)
        .map(|l| cb.add_switch(format!("leaf{l}"), lat))
        .collect();
    for &leaf in &leaves {
        cb.add_link(leaf, spine, b(), SimTime::from_us(1), LinkKind::Fabric);
    }
    for h in 0..16 {
        let g = cb.add_gpu(format!("gpu{h}"), h, 0, SimTime::from_us(2), SimTime::ZERO);
        cb.add_link(
            g,
            leaves[h as usize / 4],
            b(),
            SimTime::from_us(1),
            LinkKind::Nic,
        );
    }
    cb.build().unwrap()
}

#[test]
fn oversubscribed_fat_tree_ring_order_matters_as_max_min_predicts() {
    let c = fat_tree_4to1();
    let n = 16u64;
    let s = n * 1_000_000;
    // Cross-leaf α: overhead 2us + NIC 1us + leaf 0.5 + uplink 1 + spine 0.5
    // + uplink 1 + leaf 0.5 + NIC 1 = 7.5us.
    let alpha_cross = SimTime::from_ns(7_500);
    let alpha_leaf = SimTime::from_ns(4_500);
    // Index order: only one ring edge per leaf crosses the spine (3→4, 7→8,
    // 11→12, 15→0), so no link carries two flows. A rank sends step k once
    // it has received step k−1, so rank i's last receive comes after the
    // 2(n−1) consecutive ring edges ending at i; the slowest such window
    // holds 8 cross-leaf edges and 22 in-leaf ones.
    let index = time(
        &c,
        &spec(CollectiveOp::AllReduce, Algorithm::Ring, 16, s, 1),
    );
    let edge =
        |i: u64| if i % 4 == 3 { alpha_cross } else { alpha_leaf } + b().transfer_time(s / n);
    let window = (0..n)
        .map(|end| {
            (0..2 * (n - 1))
                .map(|j| edge((end + 4 * n - 1 - j) % n))
                .fold(SimTime::ZERO, |a, d| a + d)
        })
        .max()
        .unwrap();
    assert_eq!(
        window,
        (alpha_cross + b().transfer_time(s / n)) * 8 + (alpha_leaf + b().transfer_time(s / n)) * 22
    );
    assert_eq!(index, window);
    // Strided order 0,4,8,12,1,5,...: every edge crosses the spine, and each
    // leaf's uplink carries its 4 GPUs' flows: max-min gives each B/4.
    let mut strided = spec(CollectiveOp::AllReduce, Algorithm::Ring, 16, s, 1);
    strided.ranks = (0..16u32).map(|i| GpuId((i % 4) * 4 + i / 4)).collect();
    let slow = time(&c, &strided);
    let quarter = Bandwidth::new(b().bytes_per_sec() / 4.0).unwrap();
    assert_eq!(
        slow,
        (alpha_cross + quarter.transfer_time(s / n)) * (2 * (n - 1))
    );
    assert!(slow > index);
}

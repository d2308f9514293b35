//! Repro driver for the contended case of `benches/engine.rs`: one 64 MiB
//! ring all-reduce over `N` GPUs (argument, default 512) in a fixed
//! pseudo-random rank order on a 4:1 fat-tree (16 hosts per leaf, 4 spines,
//! 100 Gb/s everywhere), run once and printed. It exists to be profiled:
//! instruction counts under `valgrind --tool=callgrind` repeat exactly on a
//! noisy machine where wall times do not (README "## Speed").
//!
//! They repeat exactly for one build, but an edit anywhere in the crate can
//! move them by about 3 %: the release profile splits the crate into 16
//! codegen units, and where the partition falls changes what gets inlined
//! into the engine's loop. Adding a struct of counters to the engine's
//! `Outcome`, left at zero (nothing counted on any hot path), took this
//! case at 512 GPUs from 6.28 G to 6.46 G instructions.
//! Judge a change smaller than that with
//! `CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1` on both sides, where there is
//! no partition to move (this case at 512 GPUs: 6.21 G, build ead03b1).
//!
//! Run: `cargo run --release --example contended_ring -- 512` (add
//! `ordered` for index order, the same events with no solve). It measures
//! nothing itself beyond one wall time; the criterion bench is the timing.

use fabsim::bench::measure::{Measurement, measure_with};

#[path = "../benches/common/contended_case.rs"]
mod contended_case;
use contended_case::{fat_tree_cluster, ring};

/// Never folded onto one rank: this profiles the engine and the fabric.
fn run(n: usize, shuffled: bool) -> Measurement {
    measure_with(&fat_tree_cluster(n), &ring(n, 64 << 20, shuffled), false).expect("the ring runs")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = match args.first().map(|a| a.parse::<usize>()) {
        None => Some(512),
        Some(Ok(n)) if n >= 2 => Some(n),
        Some(_) => None,
    };
    // `ordered`: ranks in index order, where nearly every flow is alone on
    // its links and skips the solve: the engine's own cost per event.
    let shuffled = match args.get(1).map(String::as_str) {
        None => Some(true),
        Some("ordered") => Some(false),
        Some(_) => None,
    };
    let (Some(n), Some(shuffled), true) = (n, shuffled, args.len() <= 2) else {
        eprintln!("usage: contended_ring [GPUS ≥ 2] [ordered]");
        std::process::exit(2);
    };
    let start = std::time::Instant::now();
    let m = run(n, shuffled);
    // The most flows any link carried at once: where the ring piles up
    // behind its slowest spine link (what the re-solves scale with).
    let peak = m.links.iter().map(|l| l.peak_flows).max().unwrap_or(0);
    println!(
        "{n} GPUs: all-reduce {} ps, {} events, at most {peak} flows on a link, {:.3} s wall",
        m.time.ps(),
        m.events,
        start.elapsed().as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The driver runs the case it claims: no ring beats the α-β bound
    /// 2(n−1)/n · S / B, and the shuffled order, whose edges share the
    /// 4:1 spine, is slower than index order, whose edges mostly stay in
    /// a leaf.
    #[test]
    fn shuffled_ring_is_contended_and_respects_the_bandwidth_bound() {
        let n = 64;
        let bound_ps = 2.0 * (n as f64 - 1.0) / n as f64 * (64u64 << 20) as f64 / 12.5e9 * 1e12;
        let (shuffled, ordered) = (run(n, true), run(n, false));
        assert!(ordered.time.ps() as f64 >= bound_ps);
        assert!(shuffled.time.ps() as f64 > 1.5 * ordered.time.ps() as f64);
    }
}

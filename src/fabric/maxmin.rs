//! Max-min fair rates by progressive filling ("water-filling"): the slow,
//! obviously-correct oracle.
//!
//! Repeatedly take the link whose remaining capacity divided by its number
//! of unfixed flows (its fair share) is smallest, fix all those flows at that
//! share, and subtract it from every other link they cross. [`solve_full`]
//! does it in O(L·F) over all flows, with no state kept between calls; the
//! incremental solver (`incremental`) is tested against it.

use crate::ids::LinkId;

/// Max-min fair rates for flows with the given link paths: the slow,
/// obviously-correct oracle (each round scans every link).
pub fn solve_full(capacity: &[f64], paths: &[Vec<LinkId>]) -> Vec<f64> {
    let mut cap_left = capacity.to_vec();
    let mut rates = vec![f64::NAN; paths.len()];
    let mut unfixed: Vec<usize> = (0..paths.len()).collect();
    while !unfixed.is_empty() {
        let mut count = vec![0usize; capacity.len()];
        for &f in &unfixed {
            for l in &paths[f] {
                count[l.index()] += 1;
            }
        }
        let (bottleneck, share) = (0..capacity.len())
            .filter(|&l| count[l] > 0)
            .map(|l| (l, cap_left[l].max(0.0) / count[l] as f64))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("unfixed flows cross some link");
        let (now_fixed, still): (Vec<usize>, Vec<usize>) = unfixed
            .into_iter()
            .partition(|&f| paths[f].iter().any(|l| l.index() == bottleneck));
        for f in now_fixed {
            rates[f] = share;
            for l in &paths[f] {
                cap_left[l.index()] -= share;
            }
        }
        unfixed = still;
    }
    rates
}

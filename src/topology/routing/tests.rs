//! Routing's memory bound and eviction.
use super::ROW_CACHE_BYTES;
use crate::ids::GpuId;
use crate::topology::generators::FabricLayout as Fabric;
use crate::topology::generators::tests::{SW, hosts, make, up};

/// A ring of 16,384 single-GPU hosts (16,384 router switches): routing
/// every ring neighbour touches every row, yet at most
/// `ROW_CACHE_BYTES` of rows stay cached (unbounded: 512 MiB), and
/// routes are still shortest (GPU → router → router → GPU).
#[test]
fn rows_stay_within_the_bound_on_a_16k_ring() {
    let n = 16_384u32;
    let c = make(
        &hosts(n, 1),
        Fabric::Ring {
            latency: SW,
            link: up(100.0, 1000),
        },
    );
    for g in (0..n).step_by(7) {
        let route = c.route(GpuId(g), GpuId((g + 1) % n), 0);
        assert_eq!(route.links.len(), 3);
    }
    let switches = c.num_switches();
    assert_eq!(switches, n as usize);
    let (rows, cells) = c.router.cached();
    assert!(
        cells * 2 <= ROW_CACHE_BYTES,
        "{rows} rows, {cells} distances"
    );
    assert!(rows < n as usize / 7, "the bound evicted rows");
}

/// Eviction changes speed, never a route: a cache of one row gives
/// the same routes as an unbounded one on a torus.
#[test]
fn eviction_does_not_change_routes() {
    let torus = || {
        make(
            &hosts(36, 2),
            Fabric::Torus {
                dims: vec![6, 6],
                latency: SW,
                link: up(100.0, 1000),
            },
        )
    };
    let (full, tiny) = (torus(), torus());
    tiny.router.set_max_cells(1);
    for a in 0..72 {
        for b in (0..72).step_by(5) {
            let (a, b) = (GpuId(a), GpuId(b));
            let h = u64::from(a.0) * 31 + u64::from(b.0);
            assert_eq!(full.route(a, b, h), tiny.route(a, b, h));
        }
    }
    assert_eq!(tiny.router.cached().0, 1);
}

//! A searched point's figures are `fabsim run`'s: each simulated candidate
//! of the tiny search, run again as a scenario with every output file
//! written, gives the same step, tokens/s, cost and bubble. The gradient
//! bounds hold and prune.

use super::*;
use crate::scenario::{Overrides, Scenario};

/// Every row of a search, in candidate order.
fn run(search: &Search, options: &SearchOptions) -> Vec<Row> {
    let mut rows = Vec::new();
    search
        .stream(options, None, &mut |r| {
            rows.push(r.clone());
            Ok(())
        })
        .unwrap();
    rows
}

#[test]
fn simulated_points_equal_fabsim_run() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/search-tiny.yaml");
    let search = Search::load(&file).unwrap();
    let rows = run(&search, &SearchOptions::default());
    let simulated: Vec<&Row> = rows.iter().filter(|r| r.outcome.is_some()).collect();
    assert!(simulated.len() >= 2, "{} simulated", simulated.len());
    let out = tempfile::tempdir().unwrap();
    for r in simulated {
        let overrides = Overrides {
            set: search.overrides(&r.candidate),
            trials: Some(search.trials),
            seed: None,
        };
        let scenario = Scenario::load(&search.base, &overrides).unwrap();
        let options = crate::run::RunOptions {
            out_dir: Some(out.path().join(r.candidate.index.to_string())),
            ..Default::default()
        };
        let s = crate::run::run(&scenario, &options).unwrap().summary;
        let o = r.outcome.as_ref().unwrap();
        assert_eq!(o.step_s, s.iteration.mean_s);
        assert_eq!(o.tokens_per_s, s.tokens_per_s);
        assert_eq!(
            o.usd_per_mtok,
            s.cost.as_ref().and_then(|c| c.per_million_tokens)
        );
        assert_eq!(o.bubble, s.bubble_fraction);
        assert_eq!(o.exposed_s, s.exposed_communication_s);
    }
}

/// The gradient-synchronisation bounds (`bounds::data_bound`, from each
/// GPU's off-host links, and `routes::ring_bound`, from the rings' routes)
/// never exceed the simulated step, and each is, on some point, above the
/// pipeline closed form: they prune what it cannot.
#[test]
fn gradient_bounds_hold_and_bind() {
    let (mut data_binds, mut route_binds) = (0, 0);
    for name in ["search-prune", "search-contended"] {
        let (d, r) = gradient_bounds(name);
        data_binds += d;
        route_binds += r;
    }
    assert!(
        data_binds > 0 && route_binds > 0,
        "{data_binds} {route_binds}"
    );
}

/// Checks both bounds on every simulated point of `tests/data/NAME.yaml`;
/// the points where each binds.
fn gradient_bounds(name: &str) -> (usize, usize) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/{name}.yaml"));
    let search = Search::load(&file).unwrap();
    let options = SearchOptions {
        exhaustive: true,
        ..Default::default()
    };
    let rows = run(&search, &options);
    let (mut data_binds, mut route_binds) = (0, 0);
    for r in rows.iter().filter(|r| r.outcome.is_some()) {
        let c = &r.candidate;
        let h = &search.hardware[c.hw];
        let step = r.outcome.as_ref().unwrap().step_s;
        let key = (h.gpu_name.clone(), c.tensor, search.global_batch / c.data);
        let wl = search.workloads[&key].as_ref().unwrap();
        let pipeline = bounds::time_bound(wl, c, h.egress_bytes_per_s, search.tensor_overlap);
        let data = if egress::replicas_on_distinct_hosts(c, h, search.placement) {
            bounds::data_bound(
                wl,
                c,
                h.egress_bytes_per_s,
                h.off_host_bytes_per_s,
                search.tensor_overlap,
            )
        } else {
            0.0
        };
        let overrides = Overrides {
            set: search.overrides(c),
            trials: Some(search.trials),
            seed: None,
        };
        let scenario = Scenario::load(&search.base, &overrides).unwrap();
        let route = routes::ring_bound(&scenario, h.egress_bytes_per_s);
        assert!(
            data <= step && route <= step,
            "{c:?}: {data} {route} > {step}"
        );
        data_binds += usize::from(data > pipeline);
        route_binds += usize::from(route > pipeline.max(data));
    }
    (data_binds, route_binds)
}

fn fabric(kind: &str, o: u32) -> spec::FabricChoice {
    spec::FabricChoice {
        kind: kind.into(),
        oversubscription: o,
    }
}

#[test]
fn generated_fabrics_have_the_asked_oversubscription() {
    let nic = ("400Gbps".to_string(), 400.0);
    // 128 hosts: each rail leaf has 128 × 400G down = 32 × 1.6T up at 1:1.
    let t = space::topology_tree("dgx-h100", 8, 1024, &nic, &fabric("rail", 1)).unwrap();
    assert_eq!(t["fabric"]["spines"], 32);
    assert_eq!(t["fabric"]["uplink"]["bandwidth"], "1600Gbps");
    // 4 hosts per leaf: 32 × 400G down; 2:1 keeps 16 of 32 spines.
    let t = space::topology_tree("dgx-h100", 8, 1024, &nic, &fabric("fat-tree", 2)).unwrap();
    assert_eq!(t["fabric"]["hosts_per_leaf"], 4);
    assert_eq!(t["fabric"]["spines"], 16);
    assert_eq!(t["fabric"]["uplink"]["bandwidth"], "400Gbps");
    let c = crate::topology::from_source(&crate::input::Source::from_text(
        "t.yaml",
        serde_json::to_string(&t).unwrap(),
    ))
    .unwrap();
    assert_eq!(crate::topology::summary::oversubscription(&c), 2.0);
    assert!(space::topology_tree("dgx-h100", 8, 1020, &nic, &fabric("rail", 1)).is_err());
}

/// The lazy candidate list is the nested loops the docs describe
/// (design-major, then tensor, pipeline, microbatch size, schedule, ZeRO,
/// recompute), each combination once.
#[test]
fn candidates_are_made_in_the_documented_order() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/search-small.yaml");
    let s = Search::load(&file).unwrap();
    let mut want = Vec::new();
    for (hw, h) in s.hardware.iter().enumerate() {
        for t in [1, 2, 4, 8, 16] {
            for p in [1, 2, 4] {
                for mbs in [1, 2] {
                    for sched in ["1f1b", "gpipe"] {
                        for zero in [0, 1] {
                            let data = if h.gpus % (t * p) == 0 {
                                h.gpus / (t * p)
                            } else {
                                0
                            };
                            want.push((hw, t, p, data, mbs, sched.to_string(), zero));
                        }
                    }
                }
            }
        }
    }
    let got: Vec<_> = (0..s.candidates.len())
        .map(|i| s.candidates.get(i))
        .inspect(|c| assert_eq!(c.recompute, "none"))
        .map(|c| {
            (
                c.hw,
                c.tensor,
                c.pipeline,
                c.data,
                c.microbatch_size,
                c.schedule,
                c.zero,
            )
        })
        .collect();
    assert_eq!(got, want);
}

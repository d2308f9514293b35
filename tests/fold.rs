//! Folding identical data-parallel replicas and tensor-parallel ranks
//! (`src/training/fold/`), and ring collectives measured alone: where
//! folding applies, the folded run's summary is byte-identical to the
//! expanded run's (but for `events_per_trial`, which counts the events
//! actually simulated) and so are its link statistics; where it does not
//! (noise, asymmetric fabric, unequal ring pieces, other algorithms),
//! folding is refused and the plan is expanded.

use fabsim::bench::measure::measure_with;
use fabsim::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use fabsim::ids::GpuId;
use fabsim::input::Source;
use fabsim::plan::TaskKind;
use fabsim::run::{RunOptions, run};
use fabsim::scenario::{Overrides, Scenario};
use fabsim::training::fold;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(file: &str, set: &[&str]) -> Scenario {
    let overrides = Overrides {
        set: set.iter().map(|s| s.to_string()).collect(),
        trials: Some(2),
        ..Default::default()
    };
    Scenario::load(&root().join(file), &overrides).unwrap()
}

/// The summary as JSON text without `events_per_trial`, and the links.
fn outcome(scenario: &Scenario) -> (String, String) {
    let result = run(scenario, &RunOptions::default()).unwrap();
    let mut summary = serde_json::to_value(&result.summary).unwrap();
    summary.as_object_mut().unwrap().remove("events_per_trial");
    let links = format!("{:?}", result.links);
    (serde_json::to_string_pretty(&summary).unwrap(), links)
}

/// Why replicas are not folded.
fn why_not(scenario: &Scenario) -> Option<&'static str> {
    why_not_fold(scenario, true, false)
}

/// Why replicas (`replicas`) and tensor ranks (`tensor`) are not folded.
fn why_not_fold(scenario: &Scenario, replicas: bool, tensor: bool) -> Option<&'static str> {
    fold::prove_axes(
        &scenario.job(),
        &scenario.cluster,
        scenario.noise.is_quiet(),
        replicas,
        tensor,
    )
    .err()
}

/// Folds as expected (replicas and tensor ranks folded, or not) and
/// exactly.
fn assert_folds_exactly(file: &str, set: &[&str], axes: (bool, bool)) {
    let folded = load(file, set);
    let fold = folded.plan().fold.as_ref().expect("folded");
    assert_eq!(
        (fold.replicas > 1, fold.tensor > 1),
        axes,
        "{file}: folded axes"
    );
    let copies = (fold.replicas * fold.tensor) as usize;
    let expanded = load(file, set).unfolded();
    assert!(expanded.plan().fold.is_none());
    let computes = |s: &Scenario| {
        let g = &s.plan().graph;
        g.tasks()
            .iter()
            .filter(|t| matches!(t.kind, TaskKind::Compute { .. }))
            .count()
    };
    assert_eq!(computes(&folded) * copies, computes(&expanded));
    let (a, b) = (outcome(&folded), outcome(&expanded));
    assert_eq!(a.0, b.0, "{file}: summaries differ");
    assert_eq!(a.1, b.1, "{file}: link statistics differ");
}

/// GPT-3 175B's shape (t8, p8, ring, overlapped buckets) on 16 DGX hosts
/// on rails, fewer layers and microbatches to stay quick.
const GPT3_SMALL: &[&str] = &[
    "workload.model.layers=16",
    "parallelism.data=2",
    "workload.batch_size=8",
    "pipeline.microbatches=8",
    "topology.hosts=16",
];

#[test]
fn folded_and_expanded_runs_agree_on_one_switch() {
    assert_folds_exactly("scenarios/kccb-mnist.yaml", &[], (true, false));
}

#[test]
fn folded_and_expanded_runs_agree_on_rails() {
    // Replicas and tensor ranks (8 per DGX host, sequence parallel).
    assert_folds_exactly("scenarios/gpt3-175b-1024.yaml", GPT3_SMALL, (true, true));
}

#[test]
fn folded_and_expanded_runs_agree_with_blocking_p2p() {
    // Blocking pipeline calls tie each replica's and rank's transfers to
    // its own ops only, so the same axes fold, exactly.
    let set: Vec<&str> = GPT3_SMALL
        .iter()
        .copied()
        .chain(["pipeline.p2p=blocking"])
        .collect();
    assert_folds_exactly("scenarios/gpt3-175b-1024.yaml", &set, (true, true));
}

#[test]
fn folded_and_expanded_runs_agree_with_zero1() {
    assert_folds_exactly(
        "scenarios/llama-70b.yaml",
        &[
            "workload.model.layers=16",
            "pipeline.microbatches=8",
            "workload.batch_size=8",
        ],
        (true, true),
    );
}

#[test]
fn folding_is_refused_with_noise() {
    let s = load(
        "scenarios/kccb-mnist.yaml",
        &["noise.compute={dist: normal, mean: 1.0, std: 0.01}"],
    );
    assert_eq!(why_not(&s), Some("noise differs per replica"));
    assert!(s.plan().fold.is_none());
}

#[test]
fn folding_is_refused_across_a_shared_spine() {
    // Activations cross the 4:1 fat-tree's spine, which other replicas'
    // activations share.
    let s = load("scenarios/gpt2-pipeline-data.yaml", &["noise={}"]);
    let why = why_not(&s);
    assert!(why.is_some_and(|w| w.contains("route")), "{why:?}");
    assert!(s.plan().fold.is_none());
}

#[test]
fn folding_is_refused_off_the_rails() {
    // Tensor 4 on 8-GPU hosts: pipeline hops change rails, through spines.
    let mut set = GPT3_SMALL.to_vec();
    set.extend(["parallelism.tensor=4", "topology.hosts=8"]);
    let s = load("scenarios/gpt3-175b-1024.yaml", &set);
    let why = why_not(&s);
    assert!(why.is_some_and(|w| w.contains("route")), "{why:?}");
}

#[test]
fn folding_is_refused_for_other_algorithms_and_unequal_pieces() {
    let s = load("scenarios/llama-70b.yaml", &["collective.algorithm=nccl"]);
    assert_eq!(
        why_not(&s),
        Some("gradient collectives are not one-chunk rings")
    );
    // 803,840 bytes of fc1 gradients do not split in 3.
    let s = load(
        "scenarios/kccb-mnist.yaml",
        &["parallelism.data=3", "topology.hosts=3"],
    );
    assert_eq!(
        why_not(&s),
        Some("a gradient bucket does not split into equal ring pieces")
    );
    assert!(s.plan().fold.is_none());
}

/// Megatron's defaults (NCCL-like collectives, one gradient bucket per
/// stage) on a small Selene: replicas are refused (`nccl` gradients), the
/// 8 tensor ranks of each DGX host fold.
const MEGATRON_SMALL: &[&str] = &[
    "parallelism.data=3",
    "topology.hosts=6",
    "topology.fabric.spines=6",
    "pipeline.microbatches=4",
    "workload.batch_size=4",
];

#[test]
fn tensor_ranks_fold_when_replicas_do_not() {
    let file = "validation/megatron-sc21/39.1b.yaml";
    assert_eq!(
        why_not(&load(file, MEGATRON_SMALL)),
        Some("gradient collectives are not one-chunk rings")
    );
    assert_folds_exactly(file, MEGATRON_SMALL, (false, true));
}

/// GPT-3 13B with t = 4: both stages of a replica share one 8-GPU host,
/// so pipeline hops and tensor rings share NVSwitch ports.
const T4_SHARED_HOST: &[&str] = &[
    "parallelism.tensor=4",
    "parallelism.data=8",
    "workload.model.layers=8",
    "pipeline.microbatches=4",
    "workload.batch_size=8",
];

#[test]
fn tensor_ranks_fold_inside_a_shared_host() {
    assert_folds_exactly("scenarios/gpt3-13b-64.yaml", T4_SHARED_HOST, (true, true));
    // Plain tensor all-reduces (no sequence parallelism), overlapped.
    let mut set = T4_SHARED_HOST.to_vec();
    set.extend([
        "parallelism.sequence_parallel=false",
        "collective.tensor_overlap=true",
        "collective.algorithm=nccl",
    ]);
    assert_folds_exactly("scenarios/gpt3-13b-64.yaml", &set, (false, true));
}

#[test]
fn tensor_folding_is_refused_where_ranks_differ() {
    let file = "scenarios/gpt3-13b-64.yaml";
    let s = load(
        file,
        &["noise.compute={dist: normal, mean: 1.0, std: 0.01}"],
    );
    assert_eq!(
        why_not_fold(&s, false, true),
        Some("noise differs per tensor rank")
    );
    assert!(s.plan().fold.is_none());
    // Tensor groups of 8 on 4-GPU hosts.
    let s = load(file, &["topology.gpus_per_host=4", "topology.hosts=16"]);
    assert_eq!(
        why_not_fold(&s, false, true),
        Some("a tensor group spans hosts or its GPUs differ")
    );
    // Trees are not rings.
    let s = load(
        file,
        &[
            "collective.tensor_algorithm=tree",
            "parallelism.sequence_parallel=false",
        ],
    );
    assert_eq!(
        why_not_fold(&s, false, true),
        Some("the collective is not a one-chunk ring")
    );
    // Pipeline hops across rails go through a spine.
    let mut set = GPT3_SMALL.to_vec();
    set.extend(["parallelism.tensor=4", "topology.hosts=8"]);
    let s = load("scenarios/gpt3-175b-1024.yaml", &set);
    let why = why_not_fold(&s, false, true);
    assert!(why.is_some_and(|w| w.contains("route")), "{why:?}");
    assert!(s.plan().fold.is_none());
}

fn cluster(yaml: &str) -> fabsim::topology::Cluster {
    fabsim::topology::from_source(&Source::from_text("test.yaml", yaml.to_string())).unwrap()
}

const SWITCH_48: &str = "name: s\ngpu: H100-SXM\nhosts: 48\ngpus_per_host: 1\n\
    nic: { bandwidth: 400Gbps, latency: 1us, overhead: 2us }\n\
    fabric: { kind: switch, latency: 500ns }\n";

fn spec(ranks: Vec<u32>, bytes: u64, algorithm: Algorithm, op: CollectiveOp) -> CollectiveSpec {
    CollectiveSpec {
        name: "ring".into(),
        op,
        algorithm,
        ranks: ranks.into_iter().map(GpuId).collect(),
        bytes,
        chunks: 1,
    }
}

/// Folded and expanded measurements: time, bandwidths and every link.
fn measured(c: &fabsim::topology::Cluster, s: &CollectiveSpec) -> [(String, String); 2] {
    [true, false].map(|fold| {
        let m = measure_with(c, s, fold).unwrap();
        let links = format!("{:?}", m.links);
        (
            serde_json::to_string(&m).unwrap() + &format!("{:?}", m.time),
            links,
        )
    })
}

#[test]
fn a_ring_alone_on_one_switch_folds_exactly() {
    let c = cluster(SWITCH_48);
    // Ranks in a scrambled order: every edge is still two links through the
    // one switch.
    let order: Vec<u32> = (0..48).map(|i| (i * 29) % 48).collect();
    for (algorithm, op) in [
        (Algorithm::Ring, CollectiveOp::AllReduce),
        (Algorithm::Ring, CollectiveOp::ReduceScatter),
        (Algorithm::Nccl, CollectiveOp::AllReduce),
        (Algorithm::NcclRing, CollectiveOp::AllGather),
    ] {
        let s = spec(order.clone(), 48 << 20, algorithm, op);
        assert!(fold::fold_alone(&s, &c).is_ok(), "{algorithm} {op}");
        let [folded, expanded] = measured(&c, &s);
        assert_eq!(folded, expanded, "{algorithm} {op}");
    }
}

#[test]
fn a_ring_alone_is_not_folded_where_ranks_differ() {
    let c = cluster(SWITCH_48);
    let ranks: Vec<u32> = (0..48).collect();
    // 48 MiB + 1 byte does not split into 48 equal pieces.
    let s = spec(
        ranks.clone(),
        (48 << 20) + 1,
        Algorithm::Ring,
        CollectiveOp::AllReduce,
    );
    assert_eq!(
        fold::fold_alone(&s, &c).err(),
        Some("the collective's bytes do not split into equal ring pieces")
    );
    let s = spec(ranks, 48 << 20, Algorithm::Tree, CollectiveOp::AllReduce);
    assert!(fold::fold_alone(&s, &c).is_err());
    // Across the leaves of a fat-tree, ring edges share spine links.
    let c = cluster(
        "name: f\ngpu: H100-SXM\nhosts: 32\ngpus_per_host: 1\n\
         nic: { bandwidth: 100Gbps, latency: 1us, overhead: 2us }\n\
         fabric: { kind: fat-tree, hosts_per_leaf: 16, spines: 4, latency: 500ns,\n\
         uplink: { bandwidth: 100Gbps, latency: 500ns } }\n",
    );
    let s = spec(
        (0..32).collect(),
        32 << 20,
        Algorithm::Ring,
        CollectiveOp::AllReduce,
    );
    let why = fold::fold_alone(&s, &c).err();
    assert!(why.is_some_and(|w| w.contains("route")), "{why:?}");
    let [folded, expanded] = measured(&c, &s);
    assert_eq!(folded, expanded);
}

//! Folding identical data-parallel replicas (`src/training/fold.rs`): where
//! folding applies, the folded run's summary is byte-identical to the
//! expanded run's (but for `events_per_trial`, which counts the events
//! actually simulated) and so are its link statistics; where it does not
//! (noise, asymmetric fabric, unequal ring pieces, other algorithms),
//! folding is refused and the plan is expanded.

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

fn why_not(scenario: &Scenario) -> Option<&'static str> {
    fold::prove(
        &scenario.job(),
        &scenario.cluster,
        scenario.noise.is_quiet(),
    )
    .err()
}

fn assert_folds_exactly(file: &str, set: &[&str]) {
    let folded = load(file, set);
    assert_eq!(why_not(&folded), None, "{file} should fold");
    assert!(folded.plan().fold.is_some());
    let expanded = load(file, set).unfolded();
    assert!(expanded.plan().fold.is_none());
    let computes = |s: &Scenario| {
        let g = &s.plan().graph;
        g.tasks()
            .iter()
            .filter(|t| matches!(t.kind, TaskKind::Compute { .. }))
            .count()
    };
    let d = folded.parallelism.data as usize;
    assert_eq!(computes(&folded) * d, computes(&expanded));
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
    assert_folds_exactly("scenarios/kccb-mnist.yaml", &[]);
}

#[test]
fn folded_and_expanded_runs_agree_on_rails() {
    assert_folds_exactly("scenarios/gpt3-175b-1024.yaml", GPT3_SMALL);
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

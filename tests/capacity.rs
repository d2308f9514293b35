//! Capacity-planning semantics through the library: overlapped gradient
//! all-reduces are never slower than the same ones run after the backward,
//! tensor-parallel all-reduces sit inside a host on the right GPUs, ZeRO-1
//! swaps the all-reduce for reduce-scatter + all-gather and shards the
//! optimizer state, and data-parallel peers stay on one rail.

use fabsim::collective::CollectiveOp;
use fabsim::plan::TaskKind;
use fabsim::run::{RunOptions, run};
use fabsim::scenario::{Overrides, Scenario};
use std::path::PathBuf;

fn scenario(file: &str, set: &[&str]) -> Scenario {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let o = Overrides {
        set: set.iter().map(|s| s.to_string()).collect(),
        trials: Some(1),
        seed: None,
    };
    Scenario::load(&f, &o).unwrap_or_else(|e| panic!("{file} {set:?}: {e:#}"))
}

fn mean(s: &Scenario) -> f64 {
    run(s, &RunOptions::default())
        .unwrap()
        .summary
        .iteration
        .mean_s
}

/// A 4-block GPT-3 13B on 64 H100s: small enough for debug builds.
const SMALL_13B: &[&str] = &["workload.model.layers=4", "pipeline.microbatches=4"];

#[test]
fn overlap_is_never_slower() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("scenarios/kccb-mnist.yaml", vec![]),
        (
            "scenarios/kccb-mnist.yaml",
            vec!["topology.nic.bandwidth=10Gbps"],
        ),
        (
            "scenarios/kccb-mnist.yaml",
            vec![
                "parallelism.data=2",
                "parallelism.pipeline=2",
                "pipeline.microbatches=4",
            ],
        ),
        ("scenarios/gpt3-13b-64.yaml", SMALL_13B.to_vec()),
        (
            "scenarios/gpt3-13b-64.yaml",
            [
                SMALL_13B,
                &["topology.nic.bandwidth=50Gbps", "collective.zero=1"],
            ]
            .concat(),
        ),
    ];
    for (file, set) in cases {
        let on = mean(&scenario(
            file,
            &[set.clone(), vec!["collective.overlap=true"]].concat(),
        ));
        let off = mean(&scenario(
            file,
            &[set.clone(), vec!["collective.overlap=false"]].concat(),
        ));
        assert!(
            on <= off,
            "{file} {set:?}: overlapped {on} s > after-backward {off} s"
        );
    }
}

#[test]
fn tensor_all_reduces_are_inside_a_host_on_the_stage_gpus() {
    // Plain all-reduces: sequence parallelism (the shipped file's) off.
    let set = [SMALL_13B, &["parallelism.sequence_parallel=false"]].concat();
    let s = scenario("scenarios/gpt3-13b-64.yaml", &set);
    let job = s.job();
    let plan = job.build();
    let (t, p, d) = (8, 2, 4);
    let mut seen = 0;
    for task in plan.graph.tasks() {
        let TaskKind::Collective(c) = task.kind else {
            continue;
        };
        let spec = &plan.graph.collectives()[c as usize];
        if !spec.name.starts_with("tensor ") {
            continue;
        }
        assert!(
            spec.name == "tensor F" || spec.name == "tensor B",
            "{}",
            spec.name
        );
        assert_eq!(spec.op, CollectiveOp::AllReduce);
        assert_eq!(spec.ranks.len(), t);
        let host = s.cluster.gpu(spec.ranks[0]).host;
        assert!(spec.ranks.iter().all(|&g| s.cluster.gpu(g).host == host));
        // The ranks are one (replica, stage)'s tensor group, in order.
        let stage = task.tag.stage;
        assert!(
            (0..d).any(|r| (0..t as u32).all(|k| spec.ranks[k as usize] == job.gpu(r, stage, k)))
        );
        seen += 1;
    }
    // One per forward and per backward of every microbatch, stage, replica.
    assert_eq!(seen, 2 * 4 * p * d);
    // And they run: trial 0's timeline has them with a positive duration.
    let out = fabsim::engine::simulate(
        &s.cluster,
        &plan.graph,
        Default::default(),
        &mut fabsim::engine::Quiet,
    )
    .unwrap();
    for (i, task) in plan.graph.tasks().iter().enumerate() {
        if let TaskKind::Collective(c) = task.kind
            && plan.graph.collectives()[c as usize]
                .name
                .starts_with("tensor ")
        {
            assert!(out.task_end[i] > out.task_start[i]);
        }
    }
}

#[test]
fn zero_1_reduce_scatters_all_gathers_and_shards_the_optimizer() {
    let plain = scenario("scenarios/gpt3-13b-64.yaml", SMALL_13B);
    let zero = scenario(
        "scenarios/gpt3-13b-64.yaml",
        &[SMALL_13B, &["collective.zero=1"]].concat(),
    );
    let ops = |s: &Scenario| -> Vec<CollectiveOp> {
        let plan = s.job().build();
        plan.grad_collectives
            .iter()
            .map(|&t| plan.graph.collective_of(t).unwrap().op)
            .collect()
    };
    let a = ops(&plain);
    let b = ops(&zero);
    assert!(a.iter().all(|&o| o == CollectiveOp::AllReduce));
    assert_eq!(b.len(), 2 * a.len());
    assert!(
        b.chunks(2)
            .all(|w| w == [CollectiveOp::ReduceScatter, CollectiveOp::AllGather])
    );
    let cap = plain.cluster.gpu.memory_bytes;
    let m0 = fabsim::memory::estimate(&plain.job(), cap);
    let m1 = fabsim::memory::estimate(&zero.job(), cap);
    for (x, y) in m0.stages.iter().zip(&m1.stages) {
        assert_eq!(y.optimizer, x.optimizer.div_ceil(4));
        assert_eq!(x.weights, y.weights);
        // Adam, bf16: 2 + 2 + 12 bytes per parameter.
        assert_eq!(x.optimizer, 6 * x.weights);
        assert_eq!(x.gradients, x.weights);
    }
    assert!(mean(&zero) > 0.0);
}

#[test]
fn data_parallel_peers_share_a_rail() {
    // t = 8 fills a host, so the default placement (tensor, then pipeline,
    // then data) puts every data-parallel peer on the same local GPU index:
    // its all-reduce stays on one rail of the rail-optimised fabric.
    let s = scenario("scenarios/gpt3-13b-64.yaml", SMALL_13B);
    let plan = s.job().build();
    assert!(!plan.grad_collectives.is_empty());
    for &t in &plan.grad_collectives {
        let spec = plan.graph.collective_of(t).unwrap();
        let local = s.cluster.gpu(spec.ranks[0]).local;
        assert!(
            spec.ranks.iter().all(|&g| s.cluster.gpu(g).local == local),
            "{}",
            spec.name
        );
    }
}

#[test]
fn mfu_matches_a_hand_calculation() {
    // GPT-2 small (h = 768, 12 blocks, s = 1024, V = 50257), 8 sequences a
    // step, GPipe over 4 A100s (dense fp16 peak 312 TFLOP/s, NVIDIA's
    // A100 datasheet). Model FLOPs per step, as in Narayanan et al. (SC'21)
    // without recomputation: 3 × (blocks × b·(24·s·h² + 4·s²·h) + 2·b·s·h·V).
    let s = scenario("scenarios/gpt2-small-gpipe.yaml", &[]);
    let summary = run(&s, &RunOptions::default()).unwrap().summary;
    let (b, seq, h, blocks, v) = (8.0, 1024.0, 768.0, 12.0, 50257.0);
    let block = b * (24.0 * seq * h * h + 4.0 * seq * seq * h);
    let flops = 3.0 * (blocks * block + 2.0 * b * seq * h * v);
    let want = flops / summary.iteration.mean_s / 4.0 / 312e12;
    let got = summary.mfu.expect("a transformer workload has an MFU");
    assert!((got / want - 1.0).abs() < 1e-9, "mfu {got} vs hand {want}");
    let tflops = summary.achieved_tflops_per_gpu.unwrap();
    assert!((tflops / (flops / summary.iteration.mean_s / 4.0 / 1e12) - 1.0).abs() < 1e-9);
}

#[test]
fn pipedream_throughput_counts_every_minibatch_of_the_iteration() {
    // Asynchronous PipeDream runs each of its m "microbatches" as a whole
    // minibatch, so one iteration trains m minibatches per replica: samples,
    // tokens, model FLOPs and cost per token must all count m of them.
    let m = 4.0;
    let set = ["pipeline.schedule=pipedream", "pipeline.partition=uniform"];
    let pd = run(
        &scenario("scenarios/gpt2-small-gpipe.yaml", &set),
        &RunOptions::default(),
    )
    .unwrap()
    .summary;
    let set = ["pipeline.schedule=gpipe", "pipeline.partition=uniform"];
    let gp = run(
        &scenario("scenarios/gpt2-small-gpipe.yaml", &set),
        &RunOptions::default(),
    )
    .unwrap()
    .summary;
    let close = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-9;
    let (t, samples) = (pd.iteration.mean_s, m * 8.0);
    assert!(
        close(pd.samples_per_s, samples / t),
        "samples/s {} vs {}",
        pd.samples_per_s,
        samples / t
    );
    assert!(close(pd.tokens_per_s.unwrap(), samples * 1024.0 / t));
    // Model FLOPs per minibatch are the same for both schedules.
    let per_minibatch = |mfu: f64, t: f64, n: f64| mfu * t / n;
    let (pd_mfu, gp_mfu) = (pd.mfu.unwrap(), gp.mfu.unwrap());
    assert!(
        close(
            per_minibatch(pd_mfu, t, m),
            per_minibatch(gp_mfu, gp.iteration.mean_s, 1.0)
        ),
        "pipedream mfu {pd_mfu} at {t} s for {m} minibatches vs gpipe {gp_mfu}"
    );
    let c = pd.cost.unwrap();
    assert!(close(
        c.per_million_tokens.unwrap(),
        c.per_step / (samples * 1024.0 / 1e6)
    ));
}

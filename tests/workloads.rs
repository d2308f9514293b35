//! Loads every shipped file in `workloads/` with an A100-like GPU and checks
//! the invariants every workload must hold; plus the cross-format and
//! bad-input contracts of `fabsim::workload`.

use fabsim::input::Source;
use fabsim::topology::GpuSpec;
use fabsim::units::SimTime;
use fabsim::workload::{self, Workload, WorkloadOptions};
use std::path::{Path, PathBuf};

/// The shipped A100-SXM4-80GB preset (datasheet numbers, dense).
fn a100() -> GpuSpec {
    fabsim::topology::gpu::preset("A100-SXM4-80GB").expect("a shipped preset")
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads")
}

fn load(name: &str) -> Workload {
    workload::load(&dir().join(name), &a100(), &WorkloadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_shipped_workload_loads_and_is_sane() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "csv"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    for f in &files {
        let w = workload::load(f, &a100(), &WorkloadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!w.name.is_empty(), "{}", f.display());
        assert!(w.batch_size >= 1 && w.samples_per_epoch >= 1);
        assert!(!w.layers.is_empty());
        for l in &w.layers {
            assert!(l.forward > SimTime::ZERO, "{}: {}", f.display(), l.name);
            assert!(l.backward >= l.forward, "{}: {}", f.display(), l.name);
            assert!(l.backward_weight <= l.backward);
            assert!(l.activation_bytes > 0);
            assert!(l.flops_forward.is_finite() && l.flops_forward >= 0.0);
        }
        if let Some(m) = &w.model {
            assert!(m.parameters > 0.0 && m.flops_per_step > 0.0);
            // Every file is commented with the source of its numbers.
        }
        if f.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(
                text.starts_with('#'),
                "{} needs a header comment",
                f.display()
            );
        }
    }
}

#[test]
fn mnist_loads_exactly() {
    let w = load("mnist-mlp.yaml");
    assert_eq!((w.batch_size, w.samples_per_epoch), (64, 60000));
    let got: Vec<_> = w
        .layers
        .iter()
        .map(|l| {
            (
                l.name.as_str(),
                l.forward,
                l.backward,
                l.activation_bytes,
                l.grad_bytes,
            )
        })
        .collect();
    let us = SimTime::from_us;
    assert_eq!(
        got,
        [
            ("fc1", us(20), us(40), 65536, 803840),
            ("fc2", us(8), us(16), 32768, 131584),
            ("fc3", us(4), us(8), 16384, 33024),
            ("fc4", us(2), us(4), 2560, 2600),
        ]
    );
    // fp32 MLP 784-256-128-64-10: (in + 1) · out · 4 bytes.
    assert_eq!(
        w.total_param_bytes(),
        (785 * 256 + 257 * 128 + 129 * 64 + 65 * 10) * 4
    );
}

#[test]
fn csv_and_yaml_mnist_are_the_same_workload() {
    assert_eq!(load("mnist-mlp-csv.yaml"), load("mnist-mlp.yaml"));
    let standalone = load("mnist-mlp.csv");
    assert_eq!(standalone.layers, load("mnist-mlp.yaml").layers);
    assert_eq!(
        (standalone.batch_size, standalone.samples_per_epoch),
        (1, 1)
    );
    assert_eq!(standalone.name, "mnist-mlp");
}

#[test]
fn gpt3_175b_totals() {
    let w = load("gpt3-175b.yaml");
    let m = w.model.as_ref().unwrap();
    assert!(
        (m.parameters / 175e9 - 1.0).abs() < 0.01,
        "{}",
        m.parameters
    );
    let six_nt = 6.0 * m.parameters * f64::from(w.batch_size) * m.tokens_per_sample as f64;
    assert!((m.flops_per_step / six_nt - 1.0).abs() < 0.05);
    assert_eq!(w.layers.len(), 98);
}

#[test]
fn gpt2_small_and_llama_sizes() {
    let w = load("gpt2-small.yaml");
    assert_eq!(w.layers.len(), 14);
    let p = w.model.unwrap().parameters;
    assert!((p / 124.4e6 - 1.0).abs() < 0.005, "{p}");
    let w = load("llama-70b-like.yaml");
    assert_eq!(w.layers.len(), 82);
    let p = w.model.unwrap().parameters;
    assert!((p / 69e9 - 1.0).abs() < 0.01, "{p}");
    let w = load("pipedream-tutorial.yaml");
    assert_eq!(w.layers.len(), 12);
    assert_eq!(w.layers[0].grad_bytes, 513 * 512 * 4);
    assert_eq!(w.layers[0].backward_weight, SimTime::from_us(5));
}

#[test]
fn tensor_parallel_divides_flops_and_params() {
    let path = dir().join("gpt3-175b.yaml");
    let one = workload::load(&path, &a100(), &WorkloadOptions::default()).unwrap();
    let opts = WorkloadOptions {
        tensor: 8,
        ..Default::default()
    };
    let eight = workload::load(&path, &a100(), &opts).unwrap();
    let (a, b) = (&one.layers[1], &eight.layers[1]);
    assert!((a.flops_forward / b.flops_forward - 8.0).abs() < 1e-9);
    assert_eq!(a.param_bytes.div_ceil(8), b.param_bytes);
    assert_eq!((b.tensor_allreduces, a.tensor_allreduces), (2, 0));
    let opts = WorkloadOptions {
        tensor: 5,
        ..Default::default()
    };
    let e = workload::load(&path, &a100(), &opts).unwrap_err();
    assert_eq!(e.file, path);
    assert_eq!(e.yaml_path.as_deref(), Some("model.heads"));
    assert!(e.line.is_some());
}

fn bad(file: &str, text: &str) -> String {
    let src = Source::from_text(file, text);
    let e = workload::from_source(&src, &a100(), &WorkloadOptions::default()).unwrap_err();
    let shown = e.to_string();
    assert!(shown.starts_with(file), "{shown}");
    shown
}

#[test]
fn bad_inputs_are_input_errors_naming_file_line_and_path() {
    let head = "name: x\nbatch_size: 1\nsamples_per_epoch: 1\n";
    let s = bad("w.yaml", &format!("{head}layers: []\n"));
    assert!(s.contains("no layers"), "{s}");
    let s = bad(
        "w.yaml",
        &format!(
            "{head}layers:\n  - {{ name: a, forward: 3, backward: 1us, activation_bytes: 1, grad_bytes: 1 }}\n"
        ),
    );
    assert!(
        s.starts_with("w.yaml:5:") && s.contains("`layers[0].forward`"),
        "{s}"
    );
    let s = bad(
        "w.yaml",
        &format!(
            "{head}layers:\n  - {{ name: a, forward: 1us, backward: 1us, activation_bytes: 1, grad_bytes: 1, weird: 1 }}\n"
        ),
    );
    assert!(
        s.starts_with("w.yaml:5:") && s.contains("unknown field `weird`"),
        "{s}"
    );
    let s = bad(
        "w.yaml",
        &format!(
            "{head}model: {{ kind: transformer, layers: 2, hidden: 64, heads: 4, seq: 8, vocab: 10, dtype: int4 }}\n"
        ),
    );
    assert!(s.starts_with("w.yaml:4:") && s.contains("int4"), "{s}");
    let s = bad("w.yaml", &format!("{head}csv: missing.csv\n"));
    assert!(
        s.starts_with("w.yaml:4:") && s.contains("missing.csv") && s.contains("`csv`"),
        "{s}"
    );
    let s = bad(
        "l.csv",
        "name,forward_s,backward_s,activation_bytes,grad_bytes\na,1e-6,2e-6,1,1\nb,1e-6,2e-6,lots,1\n",
    );
    assert!(
        s.starts_with("l.csv:3") && s.contains("activation_bytes"),
        "{s}"
    );
}

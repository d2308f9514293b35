//! Timelines of a small 1F1B run: the text table's rows and busy counts,
//! the Chrome trace's structure, and the SVG's elements.

use super::*;
use crate::engine::{Quiet, SimOptions, simulate};
use crate::schedule::Schedule;
use crate::topology::Cluster;
use crate::topology::test_support::star;
use crate::training::TrainingPlan;
use crate::training::tests::{job, uniform};

fn run(schedule: Schedule, record: bool) -> (Cluster, TrainingPlan, Outcome) {
    let w = uniform(4, 4, SimTime::from_us(1), SimTime::from_us(2), 0, 0);
    let j = job(&w, 4, 1, 4, schedule);
    let plan = j.build();
    let c = star(4, 100.0, SimTime::from_ns(10), SimTime::ZERO, SimTime::ZERO);
    let opts = SimOptions {
        record_transfers: record,
    };
    let out = simulate(&c, &plan.graph, opts, &mut Quiet).unwrap();
    (c, plan, out)
}

fn gpus() -> Vec<Shown> {
    (0..4).map(|g| GpuId(g).into()).collect()
}

#[test]
fn text_table_has_a_row_per_change_and_counts_busy_gpus() {
    let (c, plan, out) = run(Schedule::OneFOneB, false);
    let mut buf = Vec::new();
    write_text(&mut buf, &c, &plan.graph, &out, &gpus(), &Kinds::new()).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("time_us") && lines[0].contains("gpu3"));
    // First row: GPU 0 runs the forward of microbatch 0, the rest idle.
    let first: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(first, ["0.000", "MB0", "F", "idle", "idle", "idle", "1"]);
    assert!(text.contains("MB3 B"));
    // The last row: everyone idle.
    assert!(lines.last().unwrap().ends_with(" 0"));
    // Busy counts never exceed the GPUs.
    for l in &lines[1..] {
        let busy: usize = l.split_whitespace().last().unwrap().parse().unwrap();
        assert!(busy <= 4);
    }
}

#[test]
fn text_labels_w_for_zero_bubble() {
    let mut w = uniform(4, 4, SimTime::from_us(1), SimTime::from_us(3), 0, 0);
    for l in &mut w.layers {
        l.backward_weight = SimTime::from_us(4);
    }
    let j = job(&w, 4, 1, 4, Schedule::ZbH1);
    let plan = j.build();
    let c = star(4, 100.0, SimTime::ZERO, SimTime::ZERO, SimTime::ZERO);
    let out = simulate(&c, &plan.graph, SimOptions::default(), &mut Quiet).unwrap();
    let mut buf = Vec::new();
    write_text(&mut buf, &c, &plan.graph, &out, &gpus(), &Kinds::new()).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.contains("MB1 W"), "{text}");
}

#[test]
fn chrome_trace_has_complete_events_per_gpu_and_transfers() {
    let (c, plan, out) = run(Schedule::Gpipe, true);
    let mut buf = Vec::new();
    write_chrome(&mut buf, &c, &plan.graph, &out, &gpus(), &Kinds::new()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let x: Vec<_> = events.iter().filter(|e| e["ph"] == "X").collect();
    let compute = x.iter().filter(|e| e["pid"] != 4 && e["pid"] != 5).count();
    assert_eq!(compute, 4 * 8, "one event per F and B");
    assert!(x.iter().any(|e| e["name"] == "F mb2 s1" && e["tid"] == 1));
    assert!(x.iter().any(|e| e["cat"] == "transfer"));
    for e in &x {
        assert!(e["ts"].as_f64().unwrap() >= 0.0 && e["dur"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn svg_has_rectangles_and_labels() {
    let (c, plan, out) = run(Schedule::OneFOneB, false);
    let mut buf = Vec::new();
    write_svg(&mut buf, &c, &plan.graph, &out, &gpus(), &Kinds::new()).unwrap();
    let svg = String::from_utf8(buf).unwrap();
    assert!(svg.contains("<svg"));
    assert!(svg.matches("<rect").count() >= 32);
    // Each row names its GPU and, one stage per GPU here, the stage.
    for g in 0..4 {
        assert!(svg.contains(&format!("gpu {g} · stage {g}")), "{g}");
    }
    // The legend is drawn inside the picture.
    for word in [
        "forward",
        "backward",
        "gradient collective",
        "tensor collective",
    ] {
        assert!(svg.contains(&format!("\n{word}\n</text>")), "{word}");
    }
    // Colours follow the op kind, not the microbatch: forward and
    // backward bars of all four microbatches use two fills.
    assert!(svg.contains("#9CC3E6") || svg.contains("#9cc3e6"));
}

#[test]
fn writers_accept_an_empty_selection() {
    let (c, plan, out) = run(Schedule::OneFOneB, false);
    let kinds = Kinds::new();
    let mut bufs = [Vec::new(), Vec::new(), Vec::new()];
    write_text(&mut bufs[0], &c, &plan.graph, &out, &[], &kinds).unwrap();
    write_chrome(&mut bufs[1], &c, &plan.graph, &out, &[], &kinds).unwrap();
    write_svg(&mut bufs[2], &c, &plan.graph, &out, &[], &kinds).unwrap();
    assert!(bufs.iter().all(|b| !b.is_empty()));
}

#[test]
fn lanes_never_overlap() {
    let t = SimTime::from_us;
    let got = lanes(&[(t(0), t(5)), (t(1), t(2)), (t(2), t(3)), (t(5), t(6))]);
    assert_eq!(got, vec![0, 1, 1, 0]);
}

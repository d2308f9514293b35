//! The report's pieces without a browser: the sweep front, which GPUs the
//! Gantt chart shows, and a table page's points and hover titles.

use super::run_data::{Bar, Series, Stage, Timeline};
use super::*;
use std::collections::BTreeMap;

#[test]
fn series_reads_percentiles_at_or_above() {
    let s = Series {
        name: "x".into(),
        kind: "gradient".into(),
        bytes: 1,
        points: vec![(0.0, 1.0), (50.0, 2.0), (99.0, 3.0), (100.0, 4.0)],
    };
    assert_eq!((s.at(50.0), s.at(98.0), s.at(100.0)), (2.0, 3.0, 4.0));
}

#[test]
fn gantt_shows_one_gpu_per_stage_when_many_are_traced() {
    let bar = || Bar {
        start: 0.0,
        end: 1.0,
        name: "F mb0 s0".into(),
        phase: "Forward".into(),
        kind: String::new(),
    };
    let t = Timeline {
        gpus: (0..32).map(|g| (g, vec![bar()])).collect(),
        collectives: BTreeMap::new(),
    };
    let stages: Vec<Stage> = (0..4)
        .map(|s| Stage {
            stage: s,
            gpus: (0..8).map(|k| s * 8 + k).collect(),
            utilization: 0.5,
        })
        .collect();
    let html = gantt::section(Some(&t), &stages);
    for s in 0..4 {
        assert!(html.contains(&format!("gpu {} (stage {s})", s * 8)), "{s}");
    }
    assert!(!html.contains("gpu 1 (stage 0)"));
    assert!(html.contains("4 of 32 traced GPUs"));
}

#[test]
fn sweep_page_marks_the_time_cost_front() {
    let csv = "point,param_parallelism.tensor,status,iteration_mean_s,cost_per_mtok_usd,capex_usd\n\
               0,1,ok,1.0,5.0,10\n1,2,ok,2.0,3.0,10\n2,4,ok,2.5,4.0,10\n\
               3,8,invalid,,,\n4,16,ok,3.0,1.0,10\n";
    let page = render_table(std::path::Path::new("s.csv"), csv).unwrap();
    // Four simulated points, each with its design on hover, the swept
    // field named by its `--set` path (also in the front's header).
    assert_eq!(page.matches("<circle").count(), 4);
    assert!(page.contains("<title>point 2, parallelism.tensor 4\ntime per step: 2.5 s"));
    assert!(page.contains("<th>point</th><th>parallelism.tensor</th>"));
    assert!(!page.contains("param_"), "a raw column name is shown");
    // Point 2 (2.5 s, $4) is beaten by point 1 (2 s, $3): 3 on the front.
    assert!(page.contains("Pareto front (3)"));
    assert!(page.contains("The front, cheapest first (3 points)"));
}

#[test]
fn an_unknown_csv_is_refused_in_words() {
    let e = render_table(std::path::Path::new("x.csv"), "a,b\n1,2\n").unwrap_err();
    assert!(
        e.to_string().contains("not a fabsim sweep or search CSV"),
        "{e}"
    );
}

/// A sweep shard past the first has no header row and cannot be told
/// from its rows: refused, in words.
#[test]
fn a_headerless_sweep_shard_is_refused_in_words() {
    let e = render_table(std::path::Path::new("s.csv"), "3,4,ok,1.0\n").unwrap_err();
    assert!(e.to_string().contains("sweep shard other than 1"), "{e}");
}

#[test]
fn search_page_draws_the_target_and_the_budget() {
    let head = "candidate,server,status,pareto,step_s,tokens_per_s,usd_per_mtok,capex_usd,why,target_step_s,budget_usd";
    let csv = format!(
        "{head}\n0,a,simulated,true,2.0,1000,0.5,100,,3,400\n1,b,simulated,false,4.0,500,0.9,200,,3,400\n2,c,invalid,false,,,,50,,3,400\n"
    );
    let page = render_table(std::path::Path::new("s.csv"), &csv).unwrap();
    // 2000 tokens per step at a 3 s target: 667 tokens/s.
    let label = "target: 3 s per step (667 tokens/s)";
    // On both plots: the dashed line with its hover title, and the legend.
    assert_eq!(
        page.matches(&format!("<title>{label}</title></line>"))
            .count(),
        2
    );
    assert_eq!(
        page.matches("stroke-dasharray").count(),
        3,
        "target ×2, budget ×1"
    );
    assert!(page.contains("<title>budget: $400</title></line>"));
    // Without the columns (a sweep, an older search): no line.
    let old = csv
        .replace(",target_step_s,budget_usd", "")
        .replace(",3,400\n", "\n");
    let page = render_table(std::path::Path::new("s.csv"), &old).unwrap();
    assert!(!page.contains("stroke-dasharray"));
}

#[test]
fn collectives_group_by_kind_not_by_name() {
    let series = |name: &str, kind: &str| Series {
        name: name.into(),
        kind: kind.into(),
        bytes: 8,
        points: vec![(50.0, 1e-3), (100.0, 2e-3)],
    };
    // A gradient bucket named like a tensor collective stays a gradient.
    let all = [
        series("tensor-ish bucket", "gradient"),
        series("tensor F s0", "tensor"),
        series("embedding all-reduce", "embedding"),
    ];
    let html = collectives::section(&all, 1);
    assert!(html.contains("<h3>gradient buckets (data parallel): 1 collective</h3>"));
    assert!(html.contains("<h3>tensor-parallel collectives: 1 collective</h3>"));
    assert!(
        html.contains("<h3>tied-embedding all-reduce (first and last stage): 1 collective</h3>")
    );
}

//! The report's pieces without a browser: the sweep front, which GPUs the
//! Gantt chart shows, and a table page's points and hover titles.

use super::run_data::{Bar, Series, Stage, Timeline};
use super::*;
use std::collections::BTreeMap;

#[test]
fn series_reads_percentiles_at_or_above() {
    let s = Series {
        name: "x".into(),
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
    let csv = "point,param_x,status,iteration_mean_s,cost_per_mtok_usd,capex_usd\n\
               0,a,ok,1.0,5.0,10\n1,b,ok,2.0,3.0,10\n2,c,ok,2.5,4.0,10\n\
               3,d,invalid,,,\n4,e,ok,3.0,1.0,10\n";
    let page = render_table(std::path::Path::new("s.csv"), csv).unwrap();
    // Four simulated points, each with its design on hover.
    assert_eq!(page.matches("<circle").count(), 4);
    assert!(page.contains("<title>point 2, param_x c\ntime per step: 2.5 s"));
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

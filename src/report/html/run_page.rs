//! The HTML report of one run: the summary, then the collectives, the
//! Gantt chart of trial 0, link utilisation, memory per stage and cost,
//! each section drawn by its own module from the folder's files.

use super::page::{facts, page};
use super::run_data::{RunData, Summary};
use super::svg::{esc, num, pct, secs};
use super::{bars, collectives, gantt};
use std::fmt::Write;

fn summary_rows(s: &Summary) -> Vec<(&'static str, String)> {
    let p = &s.parallelism;
    let mut rows = vec![
        ("topology", s.topology.clone()),
        ("workload", s.workload.clone()),
        (
            "GPUs",
            format!(
                "{} = data {} × pipeline {} × tensor {}",
                s.gpus, p.data, p.pipeline, p.tensor
            ),
        ),
        (
            "schedule",
            format!("{}, {} microbatches", s.schedule, s.microbatches),
        ),
        ("trials", format!("{} (seed {})", s.trials, s.seed)),
        (
            "time per step",
            format!(
                "mean {}, p50 {}, p99 {}",
                secs(s.iteration.mean_s),
                secs(s.iteration.p50_s),
                secs(s.iteration.p99_s)
            ),
        ),
        ("samples/s", num(s.samples_per_s)),
    ];
    if let Some(t) = s.tokens_per_s {
        rows.push(("tokens/s", num(t)));
    }
    if let Some(t) = s.achieved_tflops_per_gpu {
        let mfu = s
            .mfu
            .map_or(String::new(), |m| format!(" (MFU {})", pct(m)));
        rows.push(("achieved", format!("{t:.1} TFLOP/s per GPU{mfu}")));
    }
    if let (Some(b), true) = (s.bubble_fraction, p.pipeline > 1) {
        let ideal = s
            .ideal_bubble_fraction
            .map_or(String::new(), |i| format!(" (closed form {})", pct(i)));
        rows.push(("pipeline bubble", format!("{}{ideal}", pct(b))));
    }
    rows.push(("exposed communication", secs(s.exposed_communication_s)));
    if let Some(c) = &s.cost {
        let tok = c
            .per_million_tokens
            .map_or(String::new(), |t| format!(", ${t:.4} per million tokens"));
        rows.push((
            "cost",
            format!("capex ${}, ${:.2}/hour{tok}", num(c.capex), c.per_hour),
        ));
    }
    rows
}

/// The page for a loaded run folder.
pub fn render(d: &RunData) -> String {
    let s = &d.summary;
    let mut body = format!(
        "<h1>{}</h1><p class=\"note\">{}</p>",
        esc(&s.scenario),
        esc(&s.description)
    );
    body += "<h2>Summary</h2>";
    body += &facts(&summary_rows(s));
    if let Some(stages) = s.stages.as_ref().filter(|st| st.len() > 1) {
        let util: Vec<String> = stages
            .iter()
            .map(|st| format!("stage {}: {}", st.stage, pct(st.utilization)))
            .collect();
        let _ = write!(
            body,
            "<p class=\"note\">GPU utilisation per stage (trial 0): {}</p>",
            esc(&util.join(", "))
        );
    }
    body += &collectives::section(&d.series, s.trials);
    let stages = s.stages.as_deref().unwrap_or(&[]);
    body += &gantt::section(d.timeline.as_ref(), stages);
    body += &bars::links(&d.links);
    body += &bars::memory(s.memory.as_ref());
    body += &bars::cost(s.cost.as_ref());
    page(&format!("fabsim report: {}", s.scenario), &body)
}

//! The report's collective section: one plot per kind (gradient buckets,
//! tensor-parallel, tied embedding; `cdf.csv`'s `kind` column), and a
//! table of the slowest by p99.
//!
//! - Several trials: latency CDFs (log time axis); the [`TOP`] slowest by
//!   p99 in colour with a legend inside the plot, the rest as thin grey
//!   lines summarised by one legend entry.
//! - One trial: a CDF would be a vertical step, so each collective is a
//!   point (latency against issue order), coloured alike for the top ones.
//!
//! Every line and point has a hover title with its name, bytes and p99.

use super::page::table;
use super::run_data::Series;
use super::svg::{Axis, Frame, GREY, PALETTE, esc, num, secs};
use crate::report::groups::{Group, by_group, top_k};
use std::fmt::Write;

/// Collectives drawn in colour per group.
pub const TOP: usize = 8;

/// Points not in the top: dark enough to see on white.
const OTHERS: &str = "#9a9a9a";

/// Rows in the table under each plot.
const TABLE_ROWS: usize = 10;

/// The section's HTML: per group a plot and a table.
pub fn section(series: &[Series], trials: u64) -> String {
    let kinds: Vec<&str> = series.iter().map(|s| s.kind.as_str()).collect();
    let p99: Vec<f64> = series.iter().map(|s| s.at(99.0)).collect();
    let mut html = String::from("<h2>Collectives</h2>");
    if series.is_empty() {
        return html + "<p class=\"note\">This run has no collectives.</p>";
    }
    for (n, (group, members)) in by_group(&kinds).into_iter().enumerate() {
        let (top, rest) = top_k(&members, &p99, TOP);
        let _ = write!(
            html,
            "<h3>{}: {} collective{}</h3>",
            group.title(),
            members.len(),
            if members.len() == 1 { "" } else { "s" }
        );
        html += &if trials > 1 {
            cdf_plot(series, group, &top, &rest, n)
        } else {
            point_plot(series, group, &members, &top, n)
        };
        let (shown, _) = top_k(&members, &p99, TABLE_ROWS);
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|&i| {
                let s = &series[i];
                vec![
                    s.name.clone(),
                    num(s.bytes as f64) + "B",
                    secs(s.at(50.0)),
                    secs(p99[i]),
                    secs(s.at(100.0)),
                ]
            })
            .collect();
        html += &table(&["collective", "bytes", "p50", "p99", "max"], &rows);
        if members.len() > shown.len() {
            let _ = write!(
                html,
                "<p class=\"note\">{} more in cdf.csv.</p>",
                members.len() - shown.len()
            );
        }
    }
    html
}

fn tip(s: &Series) -> String {
    format!(
        "{} ({}B): p50 {}, p99 {}, max {}",
        s.name,
        num(s.bytes as f64),
        secs(s.at(50.0)),
        secs(s.at(99.0)),
        secs(s.at(100.0))
    )
}

fn cdf_plot(series: &[Series], group: Group, top: &[usize], rest: &[usize], n: usize) -> String {
    let all = top.iter().chain(rest);
    let lo = all
        .clone()
        .flat_map(|&i| series[i].points.iter().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let hi = all
        .flat_map(|&i| series[i].points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let f = Frame::new(
        1180.0,
        420.0,
        Axis::new(lo / 1.2, hi * 1.2, true, "latency", secs),
        Axis::new(0.0, 1.0, false, "fraction of trials", num),
    )
    .with_legend();
    let mut s = f.open(
        &format!("cdf-{n}"),
        &format!("{}: latency CDF", group.title()),
    );
    let pts = |i: usize| -> Vec<(f64, f64)> {
        series[i]
            .points
            .iter()
            .map(|&(p, v)| (v, p / 100.0))
            .collect()
    };
    for &i in rest {
        s += &f.line(&pts(i), GREY, 1.0, &tip(&series[i]));
    }
    let mut legend = Vec::new();
    for (k, &i) in top.iter().enumerate() {
        s += &f.line(&pts(i), PALETTE[k], 2.0, &tip(&series[i]));
        legend.push((PALETTE[k], series[i].name.clone()));
    }
    if !rest.is_empty() {
        legend.push((GREY, format!("{} others", rest.len())));
    }
    s += &f.legend(&legend);
    s + "</svg>"
}

fn point_plot(
    series: &[Series],
    group: Group,
    members: &[usize],
    top: &[usize],
    n: usize,
) -> String {
    let hi = members
        .iter()
        .map(|&i| series[i].at(100.0))
        .fold(0.0, f64::max);
    let f = Frame::new(
        1180.0,
        360.0,
        // Places counted from 1, each half a place from the frame.
        Axis::new(
            0.5,
            members.len() as f64 + 0.5,
            false,
            "collective of this kind, in issue order",
            num,
        )
        .whole(),
        Axis::new(0.0, hi * 1.12, false, "latency (one trial)", secs),
    )
    .with_legend();
    let mut s = f.open(
        &format!("cdf-{n}"),
        &format!("{}: latency of each collective (one trial)", group.title()),
    );
    let mut legend = Vec::new();
    for (x, &i) in members.iter().enumerate() {
        let k = top.iter().position(|&t| t == i);
        let colour = k.map_or(OTHERS, |k| PALETTE[k]);
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{}" fill="{colour}"><title>{}</title></circle>"#,
            f.px(x as f64 + 1.0),
            f.py(series[i].at(100.0)),
            if k.is_some() { 4.0 } else { 2.5 },
            esc(&tip(&series[i]))
        );
    }
    for (k, &i) in top.iter().enumerate() {
        legend.push((PALETTE[k], series[i].name.clone()));
    }
    if members.len() > top.len() {
        legend.push((OTHERS, format!("{} others", members.len() - top.len())));
    }
    s += &f.dot_legend(&legend);
    s + "</svg>"
}

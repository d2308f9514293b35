//! The HTML report of a sweep or search CSV: how many points ended how,
//! the Pareto plot of cost against time per step (every simulated point,
//! the front highlighted and joined, each point with a hover title naming
//! its design), for a search also capex against time, and the front as a
//! table, cheapest first.
//!
//! A search CSV has `step_s` and `usd_per_mtok` and marks its own
//! (three-objective) front in `pareto`; its `target_step_s` and
//! `budget_usd` columns, when set, are drawn as dashed lines (the step
//! target on both plots, the budget on the capex plot); a sweep CSV has `iteration_mean_s`
//! and `cost_per_mtok_usd` (or only `cost_per_step_usd` when the workload
//! has no tokens), and its front is computed here over (time, cost).

use super::page::{page, table};
use super::run_data::csv_rows;
use super::svg::{Axis, Frame, esc, num, secs};
use crate::input::InputError;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

type Row = BTreeMap<String, String>;

/// Which columns mean what, per kind of CSV.
struct Columns {
    kind: &'static str,
    time: &'static str,
    cost: &'static str,
    cost_label: &'static str,
    ok: &'static str,
    labels: Vec<String>,
}

fn columns(path: &Path, header: &[String]) -> Result<Columns, InputError> {
    let has = |c: &str| header.iter().any(|h| h == c);
    if has("step_s") && has("usd_per_mtok") {
        let labels = [
            "candidate",
            "server",
            "gpus",
            "fabric",
            "oversubscription",
            "nic",
            "tensor",
            "pipeline",
            "data",
            "microbatch_size",
            "schedule",
            "zero",
        ];
        return Ok(Columns {
            kind: "search",
            time: "step_s",
            cost: "usd_per_mtok",
            cost_label: "$ per million tokens",
            ok: "simulated",
            labels: labels.iter().map(|s| s.to_string()).collect(),
        });
    }
    if has("iteration_mean_s") {
        let tokens = has("cost_per_mtok_usd");
        return Ok(Columns {
            kind: "sweep",
            time: "iteration_mean_s",
            cost: if tokens {
                "cost_per_mtok_usd"
            } else {
                "cost_per_step_usd"
            },
            cost_label: if tokens {
                "$ per million tokens"
            } else {
                "$ per step"
            },
            ok: "ok",
            labels: header
                .iter()
                .filter(|h| *h == "point" || h.starts_with("param_"))
                .cloned()
                .collect(),
        });
    }
    Err(InputError::file(
        path,
        "not a fabsim sweep or search CSV with its header row (no `step_s` or \
         `iteration_mean_s` column; a sweep shard other than 1 has no header: put shard 1's \
         first, e.g. `cat shard1.csv shard2.csv > all.csv`)",
    ))
}

/// A simulated point: (time, cost, capex, row index).
struct Point {
    time: f64,
    cost: f64,
    capex: Option<f64>,
    row: usize,
    front: bool,
}

/// How a column is shown: a sweep's `param_<path>` as its `--set` path
/// (`parallelism.tensor`), any other by its name.
fn label(column: &str) -> &str {
    column.strip_prefix("param_").unwrap_or(column)
}

fn describe(c: &Columns, r: &Row) -> String {
    c.labels
        .iter()
        .filter_map(|k| {
            r.get(k)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{} {v}", label(k)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The front over (time, cost): no other point is at least as good in
/// both and better in one.
fn mark_front_2d(pts: &mut [Point]) {
    let flags: Vec<bool> = pts
        .iter()
        .map(|p| {
            !pts.iter().any(|q| {
                q.time <= p.time && q.cost <= p.cost && (q.time < p.time || q.cost < p.cost)
            })
        })
        .collect();
    for (p, f) in pts.iter_mut().zip(flags) {
        p.front = f;
    }
}

/// What the search asked for, drawn as lines: a step time (with the token
/// rate it means) and a capex budget.
#[derive(Default)]
struct Target {
    step_s: Option<f64>,
    tokens_per_step: Option<f64>,
    budget: Option<f64>,
}

impl Target {
    fn of(rows: &[Row]) -> Target {
        let get = |r: &Row, k: &str| r.get(k).and_then(|v| v.parse::<f64>().ok());
        let first = |k: &str| rows.iter().find_map(|r| get(r, k));
        Target {
            step_s: first("target_step_s"),
            tokens_per_step: rows
                .iter()
                .find_map(|r| Some(get(r, "tokens_per_s")? * get(r, "step_s")?)),
            budget: first("budget_usd"),
        }
    }

    fn step_label(&self) -> Option<String> {
        let t = self.step_s?;
        Some(match self.tokens_per_step {
            Some(k) => format!("target: {} per step ({} tokens/s)", secs(t), num(k / t)),
            None => format!("target: {} per step", secs(t)),
        })
    }
}

/// A dashed line from `a` to `b` (pixels) with `title` on hover and a
/// short `word` at `at`.
fn dashed(a: (f64, f64), b: (f64, f64), title: &str, word: &str, at: (f64, f64)) -> String {
    format!(
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 4"><title>{}</title></line><text x="{:.1}" y="{:.1}" fill="{TARGET}">{}</text>"##,
        a.0,
        a.1,
        b.0,
        b.1,
        esc(title),
        at.0,
        at.1,
        esc(word)
    )
}

/// The target lines' colour.
const TARGET: &str = "#333333";

#[allow(clippy::too_many_arguments)]
fn scatter(
    id: &str,
    title: &str,
    pts: &[Point],
    y: impl Fn(&Point) -> f64,
    y_label: &str,
    tips: &[String],
    target: &Target,
    budget: bool,
) -> String {
    let span = |v: &mut dyn Iterator<Item = f64>| {
        v.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)))
    };
    let budget = target.budget.filter(|_| budget);
    let (tlo, thi) = span(&mut pts.iter().map(|p| p.time).chain(target.step_s));
    let (ylo, yhi) = span(&mut pts.iter().map(&y).chain(budget));
    let log = |lo: f64, hi: f64| lo > 0.0 && hi / lo > 20.0;
    let pad = |lo: f64, hi: f64, l: bool| {
        if l {
            (lo / 1.3, hi * 1.3)
        } else {
            (lo * 0.9, hi * 1.05)
        }
    };
    let (a, b) = pad(tlo, thi, log(tlo, thi));
    let (c, d) = pad(ylo, yhi, log(ylo, yhi));
    let f = Frame::new(
        1180.0,
        460.0,
        Axis::new(a, b, log(tlo, thi), "time per step", secs),
        Axis::new(c, d, log(ylo, yhi), y_label, |v| format!("${}", num(v))),
    )
    .with_legend();
    let mut s = f.open(id, title);
    let mut marks = Vec::new();
    if let (Some(t), Some(label)) = (target.step_s, target.step_label()) {
        let (x, top, bottom) = (f.px(t), f.py(d), f.py(c));
        s += &dashed(
            (x, top),
            (x, bottom),
            &label,
            "target",
            (x + 4.0, top + 12.0),
        );
        marks.push((TARGET, label));
    }
    if let Some(b) = budget {
        let (yb, l, r) = (f.py(b), f.left, f.width - f.right);
        let label = format!("budget: ${}", num(b));
        s += &dashed((l, yb), (r, yb), &label, "budget", (l + 4.0, yb - 4.0));
        marks.push((TARGET, label));
    }
    let mut front: Vec<&Point> = pts.iter().filter(|p| p.front).collect();
    front.sort_by(|p, q| p.time.total_cmp(&q.time));
    let line: Vec<(f64, f64)> = front.iter().map(|p| (p.time, y(p))).collect();
    s += &f.line(&line, "#f28e2b", 1.5, "Pareto front");
    for p in pts.iter().filter(|p| !p.front).chain(front.iter().copied()) {
        let (colour, r) = if p.front {
            ("#f28e2b", 6)
        } else {
            ("#4e79a7", 3)
        };
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{colour}" fill-opacity="0.8" stroke="white"><title>{}</title></circle>"#,
            f.px(p.time),
            f.py(y(p)),
            esc(&tips[p.row])
        );
    }
    let mut legend = vec![
        ("#f28e2b", format!("Pareto front ({})", front.len())),
        (
            "#4e79a7",
            format!("other simulated ({})", pts.len() - front.len()),
        ),
    ];
    legend.extend(marks);
    s += &f.legend(&legend);
    s + "</svg>"
}

/// Refuses a point that ran but whose time, cost or capex cell is set and
/// not a number: fabsim writes numbers there, so the file was damaged or
/// edited, and skipping the point would drop it from the plot unsaid.
fn check_numbers(path: &Path, c: &Columns, rows: &[Row]) -> Result<(), InputError> {
    for (i, r) in rows.iter().enumerate() {
        if r.get("status").is_none_or(|s| s != c.ok) {
            continue;
        }
        for k in [c.time, c.cost, "capex_usd"] {
            let Some(v) = r.get(k).filter(|v| !v.is_empty()) else {
                continue;
            };
            if v.parse::<f64>().is_err() {
                let which = match r.get("point").or_else(|| r.get("candidate")) {
                    Some(id) => format!("point {id}"),
                    None => format!("data row {}", i + 1),
                };
                return Err(InputError::file(
                    path,
                    format!(
                        "{which} ran, but its `{k}` is `{v}`, not a number: the file was \
                         damaged or edited; restore the value or rerun that point"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The page for the sweep or search CSV `text` (from `path`, which names
/// the page and errors).
pub fn render(path: &Path, text: &str) -> Result<String, InputError> {
    let (header, rows) = csv_rows(path, text)?;
    let c = columns(path, &header)?;
    check_numbers(path, &c, &rows)?;
    let get = |r: &Row, k: &str| r.get(k).and_then(|v| v.parse::<f64>().ok());
    let mut pts: Vec<Point> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.get("status").is_some_and(|s| s == c.ok))
        .filter_map(|(i, r)| {
            Some(Point {
                time: get(r, c.time)?,
                cost: get(r, c.cost)?,
                capex: get(r, "capex_usd"),
                row: i,
                front: r.get("pareto").is_some_and(|v| v == "true"),
            })
        })
        .collect();
    if c.kind == "sweep" {
        mark_front_2d(&mut pts);
    }
    let tips: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut t = describe(&c, r);
            for (k, label) in [(c.time, "time per step"), (c.cost, c.cost_label)] {
                if let Some(v) = get(r, k) {
                    let v = if k == c.time {
                        secs(v)
                    } else {
                        format!("${v:.4}")
                    };
                    let _ = write!(t, "\n{label}: {v}");
                }
            }
            if let Some(v) = get(r, "capex_usd") {
                let _ = write!(t, "\ncapex: ${}", num(v));
            }
            if let Some(w) = r.get("why").filter(|w| !w.is_empty()) {
                let _ = write!(t, "\n{w}");
            }
            t
        })
        .collect();
    let target = Target::of(&rows);
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let mut body = format!("<h1>{} report: {}</h1>", c.kind, esc(&name));
    body += &status_counts(&rows);
    body += "<h2>Pareto front</h2>";
    if pts.is_empty() {
        body += "<p class=\"note\">No point was simulated, so there is nothing to plot.</p>";
    } else {
        body += "<p class=\"note\">Hover a point for its design and figures. \
                 Orange: the Pareto front (nothing else is both faster and cheaper).</p>";
        body += &scatter(
            "pareto",
            &format!("{} vs time per step", c.cost_label),
            &pts,
            |p| p.cost,
            c.cost_label,
            &tips,
            &target,
            false,
        );
        if c.kind == "search" && pts.iter().all(|p| p.capex.is_some()) {
            body += &scatter(
                "pareto-capex",
                "capex vs time per step",
                &pts,
                |p| p.capex.unwrap_or(0.0),
                "capex",
                &tips,
                &target,
                true,
            );
        }
    }
    body += &front_table(&c, &rows, &pts);
    Ok(page(&format!("fabsim {} report: {name}", c.kind), &body))
}

fn status_counts(rows: &[Row]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        *counts
            .entry(r.get("status").map_or("", String::as_str))
            .or_default() += 1;
    }
    let list: Vec<Vec<String>> = counts
        .into_iter()
        .map(|(k, v)| vec![k.to_string(), v.to_string()])
        .collect();
    format!("<p class=\"note\">{} rows.</p>", rows.len()) + &table(&["status", "rows"], &list)
}

fn front_table(c: &Columns, rows: &[Row], pts: &[Point]) -> String {
    let mut front: Vec<&Point> = pts.iter().filter(|p| p.front).collect();
    front.sort_by(|p, q| p.cost.total_cmp(&q.cost));
    let mut header: Vec<&str> = c.labels.iter().map(|k| label(k)).collect();
    header.extend(["time per step", c.cost_label, "capex"]);
    let body: Vec<Vec<String>> = front
        .iter()
        .map(|p| {
            let r = &rows[p.row];
            let mut cells: Vec<String> = c
                .labels
                .iter()
                .map(|k| r.get(k).cloned().unwrap_or_default())
                .collect();
            cells.push(secs(p.time));
            cells.push(format!("${:.4}", p.cost));
            cells.push(p.capex.map_or(String::new(), |v| format!("${}", num(v))));
            cells
        })
        .collect();
    format!(
        "<h2>The front, cheapest first ({} points)</h2>",
        front.len()
    ) + &table(&header, &body)
}

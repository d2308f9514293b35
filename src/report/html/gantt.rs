//! The report's Gantt chart of trial 0: one row per representative GPU
//! (one per pipeline stage when the timeline holds more than [`MAX_ROWS`]
//! GPUs) and up to [`MAX_LANES`] rows of the collectives touching them,
//! coloured by phase, each bar with a hover title. The bars sit in an inner
//! `svg.zoomable` that the page's script zooms (wheel) and pans (drag)
//! along time; the GPU labels stay put.
//!
//! It reads the Chrome trace's bars (`run_data::Timeline`); it does not
//! decide which GPUs the run traced (that is `fabsim run --timeline`).

use super::run_data::{Bar, Stage, Timeline};
use super::svg::{esc, secs};
use crate::report::groups::Group;
use std::fmt::Write;

/// GPU rows shown before falling back to one per stage.
pub const MAX_ROWS: usize = 16;
/// Collective lanes shown.
const MAX_LANES: usize = 6;
/// Bars drawn before the chart stops adding more (the page stays light).
const MAX_BARS: usize = 40_000;

const WIDTH: f64 = 1180.0;
const LEFT: f64 = 110.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const ROW: f64 = 22.0;

fn colour(phase: &str, kind: &str) -> &'static str {
    match phase {
        "Forward" => "#9cc3e6",
        "Backward" | "BackwardInput" => "#4e79a7",
        "BackwardWeight" => "#2b4a6b",
        "Optimizer" => "#59a14f",
        "collective" => match Group::of_kind(kind) {
            Group::Tensor => "#f28e2b",
            Group::Gradient => "#e15759",
            Group::Embedding => "#b07aa1",
            Group::Other => "#b0b0b0",
        },
        _ => "#b0b0b0",
    }
}

/// The GPUs to draw, each with its stage when known.
fn rows(t: &Timeline, stages: &[Stage]) -> Vec<(u32, Option<u32>)> {
    let stage_of = |g: u32| stages.iter().find(|s| s.gpus.contains(&g)).map(|s| s.stage);
    let all: Vec<u32> = t.gpus.keys().copied().collect();
    if all.len() <= MAX_ROWS {
        return all.into_iter().map(|g| (g, stage_of(g))).collect();
    }
    let firsts: Vec<(u32, Option<u32>)> = stages
        .iter()
        .filter_map(|s| {
            s.gpus
                .iter()
                .find(|g| t.gpus.contains_key(g))
                .map(|&g| (g, Some(s.stage)))
        })
        .collect();
    if firsts.is_empty() {
        all.into_iter().take(MAX_ROWS).map(|g| (g, None)).collect()
    } else {
        firsts
    }
}

/// Draws each row's bars (µs times, scaled so `end` is `plot_w` wide),
/// at most [`MAX_BARS`] in all; returns how many were drawn.
fn draw_bars<'a>(
    html: &mut String,
    rows: impl Iterator<Item = (String, &'a [Bar])>,
    end: f64,
    plot_w: f64,
) -> usize {
    let mut drawn = 0;
    for (i, (who, bars)) in rows.enumerate() {
        let y = ROW * i as f64 + 3.0;
        for b in bars.iter().take(MAX_BARS.saturating_sub(drawn)) {
            drawn += 1;
            let _ = write!(
                html,
                r#"<rect x="{:.3}" y="{y}" width="{:.3}" height="{}" fill="{}"><title>{}: {} from {} to {}</title></rect>"#,
                b.start / end * plot_w,
                ((b.end - b.start) / end * plot_w).max(0.3),
                ROW - 6.0,
                colour(&b.phase, &b.kind),
                esc(&who),
                esc(&b.name),
                secs(b.start / 1e6),
                secs(b.end / 1e6)
            );
        }
    }
    drawn
}

/// The section's HTML; `None` timeline says why there is no chart.
pub fn section(t: Option<&Timeline>, stages: &[Stage]) -> String {
    let mut html = String::from("<h2>Timeline of trial 0</h2>");
    let Some(t) = t else {
        return html + "<p class=\"note\">This folder has no timeline.json.</p>";
    };
    let rows = rows(t, stages);
    let lanes: Vec<&Vec<Bar>> = t.collectives.values().take(MAX_LANES).collect();
    let end = t
        .gpus
        .values()
        .chain(t.collectives.values())
        .flatten()
        .map(|b| b.end)
        .fold(0.0, f64::max)
        .max(1e-9);
    let plot_w = WIDTH - LEFT - RIGHT;
    let height = TOP + ROW * (rows.len() + lanes.len()) as f64 + 40.0;
    let inner_h = ROW * (rows.len() + lanes.len()) as f64;
    let _ = write!(
        html,
        "<p class=\"note\">{} of {} traced GPUs (one per pipeline stage when there are many), \
         and {} of {} collective lanes. Wheel to zoom, drag to pan, double-click to reset; \
         hover a bar for its name and times. Light blue: forward; blue: backward; dark blue: \
         weight gradients; green: optimizer step; red: gradient collectives; orange: tensor-parallel \
         collectives; purple: the tied-embedding all-reduce.</p>",
        rows.len(),
        t.gpus.len(),
        lanes.len(),
        t.collectives.len()
    );
    let _ = write!(
        html,
        r#"<svg class="plot" id="gantt" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11" data-t0="0" data-t1="{}" style="cursor: grab">"#,
        end / 1e6
    );
    let label_rows = rows
        .iter()
        .map(|(g, s)| match s {
            Some(s) => format!("gpu {g} (stage {s})"),
            None => format!("gpu {g}"),
        })
        .chain((0..lanes.len()).map(|l| format!("collectives {l}")));
    for (i, label) in label_rows.enumerate() {
        let _ = write!(
            html,
            r#"<text x="4" y="{:.1}">{}</text>"#,
            TOP + ROW * i as f64 + 15.0,
            esc(&label)
        );
    }
    let _ = write!(
        html,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{inner_h}" fill="#fafafa" stroke="#555"/><svg class="zoomable" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{inner_h}" viewBox="0 0 {plot_w} {inner_h}" preserveAspectRatio="none">"##
    );
    let gpu_bars = rows
        .iter()
        .map(|(g, _)| (format!("gpu {g}"), t.gpus.get(g).map_or(&[][..], |v| v)));
    let lane_bars = lanes
        .iter()
        .enumerate()
        .map(|(l, v)| (format!("collectives {l}"), v.as_slice()));
    let drawn = draw_bars(&mut html, gpu_bars.chain(lane_bars), end, plot_w);
    html += "</svg>";
    for k in 0..=4 {
        let f = f64::from(k) / 4.0;
        let _ = write!(
            html,
            r#"<text class="tick" data-f="{f}" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + f * plot_w,
            TOP + inner_h + 16.0,
            secs(f * end / 1e6)
        );
    }
    html += "</svg>";
    if drawn >= MAX_BARS {
        let _ = write!(
            html,
            "<p class=\"note\">Only the first {MAX_BARS} bars are drawn; timeline.json has them all (open it in Perfetto).</p>"
        );
    }
    html
}

//! An SVG Gantt chart drawn with plotters' SVG backend (no font libraries:
//! the backend writes `<text>` elements itself): one row per shown GPU,
//! labelled with its pipeline stage, one colour per kind of op (forward,
//! backward, weight gradient, optimizer, other compute) with the
//! microbatch written on bars wide enough, and collectives as a thin band
//! under the row coloured by kind (gradient, tensor-parallel, embedding).
//! A legend sits under the time axis, inside the picture. Back-to-back
//! spans of one op (one per layer) merge into one bar, as do overlapping
//! collectives of one kind, so a 96-layer model stays light; at most
//! [`MAX_BARS`] bars are drawn. A folded copy's row (`--timeline all` on a
//! folded plan) is a `<use>` of its representative's row, drawn once in
//! `<defs>`: the same picture as the expanded run's, in a small file.

use super::{Kinds, Shown, label, spans, us};
use crate::engine::Outcome;
use crate::ids::GpuId;
use crate::plan::{Phase, TaskGraph};
use crate::topology::Cluster;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::io::{self, Write};

/// Bars drawn before the chart stops adding more.
pub const MAX_BARS: usize = 20_000;

const WIDTH: u32 = 1200;
const LEFT: i32 = 120;
const RIGHT: i32 = 20;
const TOP: i32 = 20;
const ROW: i32 = 28;
/// Bars narrower than this (pixels) get no white edge.
const MIN_EDGED: i32 = 5;
/// Room under the axis for the tick labels and the legend.
const BOTTOM: i32 = 58;

/// The same colours as the HTML report's Gantt chart.
fn hex(c: u32) -> RGBColor {
    RGBColor((c >> 16) as u8, (c >> 8) as u8, c as u8)
}

fn colour(phase: Phase) -> RGBColor {
    match phase {
        Phase::Forward => hex(0x9cc3e6),
        Phase::Backward | Phase::BackwardInput => hex(0x4e79a7),
        Phase::BackwardWeight => hex(0x2b4a6b),
        Phase::Optimizer => hex(0x59a14f),
        _ => hex(0xb0b0b0),
    }
}

fn collective_colour(kind: &str) -> RGBColor {
    match kind {
        "gradient" => hex(0xe15759),
        "tensor" => hex(0xf28e2b),
        "embedding" => hex(0xb07aa1),
        _ => hex(0x3c3c3c),
    }
}

/// The legend's entries, in drawing order.
const LEGEND: [(&str, u32); 7] = [
    ("forward", 0x9cc3e6),
    ("backward", 0x4e79a7),
    ("weight gradient", 0x2b4a6b),
    ("optimizer", 0x59a14f),
    ("gradient collective", 0xe15759),
    ("tensor collective", 0xf28e2b),
    ("embedding all-reduce", 0xb07aa1),
];

fn other<E: std::error::Error + Send + Sync + 'static>(e: DrawingAreaErrorKind<E>) -> io::Error {
    io::Error::other(e.to_string())
}

/// Spans (sorted by start) with each run of touching spans that `same`
/// accepts merged into one.
fn merge(
    spans: &[super::Span],
    same: impl Fn(&super::Span, &super::Span) -> bool,
) -> Vec<super::Span> {
    let mut out: Vec<super::Span> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(l) if s.start <= l.end && same(l, s) => l.end = l.end.max(s.end),
            _ => out.push(*s),
        }
    }
    out
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// The row label: the GPU and, when every op it runs is of one stage,
/// that stage.
fn row_label(g: GpuId, ops: &[super::Span]) -> String {
    match ops.first().map(|s| s.tag.stage) {
        Some(st) if ops.iter().all(|s| s.tag.stage == st) => format!("gpu {g} · stage {st}"),
        _ => format!("gpu {g}"),
    }
}

/// One GPU's row: its collectives as a band under the ops (one colour per
/// kind) and its merged ops; `bars` counts against [`MAX_BARS`].
fn draw_row(
    root: &Area,
    y0: i32,
    band: &[super::Span],
    ops: &[super::Span],
    kinds: &Kinds,
    x: &dyn Fn(f64) -> i32,
    bars: &mut usize,
) -> io::Result<()> {
    let small = ("sans-serif", 9).into_font();
    let kind = |s: &super::Span| kinds.get(&s.task).map_or("", |r| r.kind);
    for s in &merge(band, |a, b| kind(a) == kind(b)) {
        if *bars >= MAX_BARS {
            break;
        }
        *bars += 1;
        let r = [(x(us(s.start)), y0 + ROW - 8), (x(us(s.end)), y0 + ROW - 3)];
        root.draw(&Rectangle::new(r, collective_colour(kind(s)).filled()))
            .map_err(other)?;
    }
    for s in &merge(ops, |a, b| a.tag == b.tag) {
        if *bars >= MAX_BARS {
            break;
        }
        *bars += 1;
        let (x0, x1) = (x(us(s.start)), x(us(s.end)).max(x(us(s.start)) + 1));
        let r = [(x0, y0 + 2), (x1, y0 + ROW - 10)];
        root.draw(&Rectangle::new(r, colour(s.tag.phase).filled()))
            .map_err(other)?;
        // A white edge separates neighbours, but would hide a bar only a
        // few pixels wide (a forward pass at 1,000 GPUs' time scale).
        if x1 - x0 >= MIN_EDGED {
            root.draw(&Rectangle::new(r, WHITE.stroke_width(1)))
                .map_err(other)?;
        }
        if x1 - x0 > 36 {
            let ink = if s.tag.phase == Phase::Forward {
                BLACK
            } else {
                WHITE
            };
            root.draw(&Text::new(
                label(s.tag),
                (x0 + 2, y0 + 6),
                small.clone().color(&ink),
            ))
            .map_err(other)?;
        }
    }
    Ok(())
}

/// The time axis at `axis`, with round ticks (1-2-5 steps) labelled in
/// the unit that reads best, and the legend under it.
fn draw_axis(root: &Area, axis: i32, span_us: f64, x: &dyn Fn(f64) -> i32) -> io::Result<()> {
    use crate::units::{round_ticks, short_secs};
    let small = ("sans-serif", 10).into_font();
    root.draw(&PathElement::new(
        vec![(LEFT, axis), (x(span_us), axis)],
        BLACK.stroke_width(1),
    ))
    .map_err(other)?;
    let ticks = round_ticks(0.0, span_us * 1e-6, 5.0, false);
    for t in ticks {
        let px = x(t * 1e6);
        root.draw(&PathElement::new(
            vec![(px, axis), (px, axis + 3)],
            BLACK.stroke_width(1),
        ))
        .map_err(other)?;
        let centred = TextStyle::from(small.clone()).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(short_secs(t), (px, axis + 5), centred))
            .map_err(other)?;
    }
    let font = ("sans-serif", 12).into_font();
    let mut lx = LEFT;
    let ly = axis + 26;
    for (name, c) in LEGEND {
        root.draw(&Rectangle::new(
            [(lx, ly), (lx + 12, ly + 10)],
            hex(c).filled(),
        ))
        .map_err(other)?;
        root.draw(&Text::new(name, (lx + 16, ly), font.clone()))
            .map_err(other)?;
        lx += 24 + 7 * name.len() as i32;
    }
    Ok(())
}

/// Draws one trial's timeline as SVG: a lane per shown GPU.
pub fn write_svg(
    w: &mut dyn Write,
    _cluster: &Cluster,
    graph: &TaskGraph,
    outcome: &Outcome,
    gpus: &[Shown],
    kinds: &Kinds,
) -> io::Result<()> {
    let sp = spans(graph, outcome, gpus, kinds);
    let height = (TOP + ROW * gpus.len() as i32 + BOTTOM).max(80) as u32;
    let end = sp
        .compute
        .values()
        .chain(sp.collective.values())
        .flatten()
        .map(|s| s.end)
        .max()
        .unwrap_or(outcome.makespan)
        .max(outcome.makespan);
    let span_us = us(end).max(1e-9);
    let plot = f64::from(WIDTH as i32 - LEFT - RIGHT);
    let x = |t: f64| LEFT + (t / span_us * plot).round() as i32;
    let mut out = String::new();
    let mut bars = 0usize;
    // Folded copies (copy, image, row top), drawn as uses of their image.
    let mut copies = Vec::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(other)?;
        let font = ("sans-serif", 12).into_font();
        for (row, g) in gpus.iter().enumerate() {
            let y0 = TOP + ROW * row as i32;
            let ops = sp.compute.get(&g.gpu).map_or(&[][..], |v| v);
            root.draw(&Text::new(row_label(g.gpu, ops), (4, y0 + 8), font.clone()))
                .map_err(other)?;
            if g.is_copy() {
                copies.push((g.gpu, g.image, y0));
                continue;
            }
            let band = sp.collective.get(&g.gpu).map_or(&[][..], |v| v);
            draw_row(&root, y0, band, ops, kinds, &x, &mut bars)?;
        }
        draw_axis(&root, TOP + ROW * gpus.len() as i32 + 4, span_us, &x)?;
        root.present().map_err(other)?;
    }
    if !copies.is_empty() {
        let uses = copy_rows(&copies, &sp, kinds, &x, &mut bars)?;
        let end = out.rfind("</svg>").unwrap_or(out.len());
        out.insert_str(end, &uses);
    }
    w.write_all(out.as_bytes())
}

/// Folded copies' rows (copy, its image, row top): each image's row drawn
/// once, at height 0, as a `<defs>` group, and a `<use>` of it per copy,
/// so 1,024 rows of 128 identical copies cost 8 drawn rows.
fn copy_rows(
    copies: &[(GpuId, GpuId, i32)],
    sp: &super::Spans,
    kinds: &Kinds,
    x: &dyn Fn(f64) -> i32,
    bars: &mut usize,
) -> io::Result<String> {
    let mut defs = String::from("<defs>\n");
    let mut drawn = std::collections::BTreeSet::new();
    for &(copy, image, _) in copies {
        if !drawn.insert(image) {
            continue;
        }
        let ops = sp.compute.get(&copy).map_or(&[][..], |v| v);
        let band = sp.collective.get(&copy).map_or(&[][..], |v| v);
        let mut row = String::new();
        {
            let area = SVGBackend::with_string(&mut row, (WIDTH, ROW as u32)).into_drawing_area();
            draw_row(&area, 0, band, ops, kinds, x, bars)?;
            area.present().map_err(other)?;
        }
        // The elements only: without the `<svg …>` line and `</svg>`.
        let inner = row.split_once('\n').map_or("", |(_, rest)| rest);
        let inner = inner.trim_end().trim_end_matches("</svg>");
        defs += &format!("<g id=\"row-gpu{image}\">\n{inner}</g>\n");
    }
    defs += "</defs>\n";
    for &(_, image, y0) in copies {
        defs += &format!("<use href=\"#row-gpu{image}\" y=\"{y0}\"/>\n");
    }
    Ok(defs)
}

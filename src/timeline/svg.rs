//! An SVG Gantt chart drawn with plotters' SVG backend (no font libraries:
//! the backend writes `<text>` elements itself): one row per shown GPU, one
//! colour per microbatch, forwards lighter than backwards, weight-gradient
//! ops darker, other compute grey, collectives as a thin dark band under the
//! row. At most [`MAX_BARS`] bars are drawn.

use super::{label, spans, us};
use crate::engine::Outcome;
use crate::ids::GpuId;
use crate::plan::{Phase, TaskGraph};
use crate::topology::Cluster;
use plotters::prelude::*;
use plotters::style::Palette99;
use std::io::{self, Write};

/// Bars drawn before the chart stops adding more.
pub const MAX_BARS: usize = 20_000;

const WIDTH: u32 = 1200;
const LEFT: i32 = 70;
const RIGHT: i32 = 20;
const TOP: i32 = 20;
const ROW: i32 = 28;

fn mix(c: RGBColor, toward: u8, amount: f64) -> RGBColor {
    let f = |x: u8| (f64::from(x) + (f64::from(toward) - f64::from(x)) * amount).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

fn colour(phase: Phase, microbatch: u32) -> RGBColor {
    let base = Palette99::pick(microbatch as usize).to_rgba();
    let base = RGBColor(base.0, base.1, base.2);
    match phase {
        Phase::Forward => mix(base, 255, 0.5),
        Phase::Backward | Phase::BackwardInput => base,
        Phase::BackwardWeight => mix(base, 0, 0.35),
        _ => RGBColor(160, 160, 160),
    }
}

fn other<E: std::error::Error + Send + Sync + 'static>(e: DrawingAreaErrorKind<E>) -> io::Error {
    io::Error::other(e.to_string())
}

/// Draws one trial's timeline as SVG: a lane per shown GPU.
pub fn write_svg(
    w: &mut dyn Write,
    _cluster: &Cluster,
    graph: &TaskGraph,
    outcome: &Outcome,
    gpus: &[GpuId],
) -> io::Result<()> {
    let sp = spans(graph, outcome, gpus);
    let height = (TOP + ROW * gpus.len() as i32 + 40).max(80) as u32;
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
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(other)?;
        let font = ("sans-serif", 12).into_font();
        let small = ("sans-serif", 9).into_font();
        let mut bars = 0usize;
        for (row, g) in gpus.iter().enumerate() {
            let y0 = TOP + ROW * row as i32;
            root.draw(&Text::new(format!("gpu {g}"), (4, y0 + 8), font.clone()))
                .map_err(other)?;
            for s in sp.collective.get(g).into_iter().flatten() {
                if bars >= MAX_BARS {
                    break;
                }
                bars += 1;
                let r = [(x(us(s.start)), y0 + ROW - 8), (x(us(s.end)), y0 + ROW - 4)];
                root.draw(&Rectangle::new(r, RGBColor(60, 60, 60).filled()))
                    .map_err(other)?;
            }
            for s in sp.compute.get(g).into_iter().flatten() {
                if bars >= MAX_BARS {
                    break;
                }
                bars += 1;
                let (x0, x1) = (x(us(s.start)), x(us(s.end)).max(x(us(s.start)) + 1));
                let r = [(x0, y0 + 2), (x1, y0 + ROW - 10)];
                let c = colour(s.tag.phase, s.tag.microbatch);
                root.draw(&Rectangle::new(r, c.filled())).map_err(other)?;
                root.draw(&Rectangle::new(r, WHITE.stroke_width(1)))
                    .map_err(other)?;
                if x1 - x0 > 36 {
                    root.draw(&Text::new(label(s.tag), (x0 + 2, y0 + 6), small.clone()))
                        .map_err(other)?;
                }
            }
        }
        // Time axis: five ticks in microseconds.
        let axis = TOP + ROW * gpus.len() as i32 + 4;
        root.draw(&PathElement::new(
            vec![(LEFT, axis), (x(span_us), axis)],
            BLACK.stroke_width(1),
        ))
        .map_err(other)?;
        for i in 0..=4 {
            let t = span_us * f64::from(i) / 4.0;
            root.draw(&Text::new(
                format!("{t:.1} us"),
                (x(t) - 20, axis + 6),
                small.clone(),
            ))
            .map_err(other)?;
        }
        root.present().map_err(other)?;
    }
    w.write_all(out.as_bytes())
}

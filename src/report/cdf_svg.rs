//! `cdf.svg`, drawn with plotters' SVG backend (no system fonts needed),
//! readable with a hundred collectives: one panel per kind of collective
//! (gradient buckets, tensor-parallel, tied embedding; see
//! [`super::groups`]), stacked, each with its legend in a column of its
//! own right of the plot, so the legend never covers data and the axes
//! span the data only.
//!
//! - several trials: one latency CDF per collective on a log latency axis
//!   shared by every panel (so kinds compare), the [`TOP`] slowest of the
//!   panel by p99 in their own colour, the rest as thin grey lines under
//!   one "N more" entry;
//! - one trial: a CDF would be a vertical step, so each collective is a
//!   point (latency against issue order within its kind), the slowest
//!   coloured alike.
//!
//! No colour is used twice in the picture. The iteration time (seconds,
//! not milliseconds: it would squash the collectives) is in the title.
//! Pipeline activations are point-to-point transfers, not reported
//! collectives, so they have no panel.

use super::groups::{Group, by_group, top_k};
use super::{ExportError, Exporter, LatencyStats, Report};
use crate::units::short_secs as secs;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::io::Write;
use std::ops::Range;

/// Collectives drawn in their own colour, per panel.
pub const TOP: usize = 6;

const WIDTH: u32 = 1100;
const TITLE_H: u32 = 40;
const PANEL_H: u32 = 260;
/// The legend's column, right of each plot.
const LEGEND_W: u32 = 330;
const LEGEND_LINE: i32 = 17;
/// Legend text longer than this is cut.
const LEGEND_CHARS: usize = 42;

/// Tableau 20 without its two greys, dark shades first: 18 distinct
/// colours, enough for [`TOP`] in each of the three kinds a run reports.
const PALETTE: [RGBColor; 18] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x49, 0x98, 0x94),
    RGBColor(0xb6, 0x99, 0x2d),
    RGBColor(0xd3, 0x72, 0x95),
    RGBColor(0x9d, 0x76, 0x60),
    RGBColor(0xa0, 0xcb, 0xe8),
    RGBColor(0xff, 0xbe, 0x7d),
    RGBColor(0xff, 0x9d, 0x9a),
    RGBColor(0x8c, 0xd1, 0x7d),
    RGBColor(0xd4, 0xa6, 0xc8),
    RGBColor(0x86, 0xbc, 0xb6),
    RGBColor(0xf1, 0xce, 0x63),
    RGBColor(0xfa, 0xbf, 0xd2),
    RGBColor(0xd7, 0xb5, 0xa6),
];
/// Lines of the collectives not in the top: light, under the others.
const OTHER_LINE: RGBColor = RGBColor(200, 200, 200);
/// Points not in the top: dark enough to see on white.
const OTHER_POINT: RGBColor = RGBColor(150, 150, 150);

/// What `cdf.svg` draws: the run's name, trial count, iteration and
/// collective series.
pub struct Plot<'a> {
    pub scenario: &'a str,
    pub trials: u64,
    pub iteration: &'a LatencyStats,
    pub collectives: &'a [LatencyStats],
}

/// One panel: a kind's collectives (indices into the series), the top by
/// p99 (slowest first) and the rest, and the first palette colour it uses.
struct Panel {
    group: Group,
    top: Vec<usize>,
    rest: Vec<usize>,
    colour: usize,
}

impl Panel {
    fn members(&self) -> usize {
        self.top.len() + self.rest.len()
    }
}

/// Where a panel was drawn, in pixels of the picture: its plotting area
/// (inside the axes) and its legend box.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    pub plot: (Range<i32>, Range<i32>),
    pub legend: (Range<i32>, Range<i32>),
}

pub struct CdfSvg;

fn err<E: std::fmt::Debug>(e: E) -> ExportError {
    ExportError::Draw(format!("drawing cdf.svg: {e:?}"))
}

fn panels(cs: &[LatencyStats]) -> Vec<Panel> {
    let kinds: Vec<&str> = cs.iter().map(|c| c.kind.map_or("", |k| k.word())).collect();
    let p99: Vec<f64> = cs.iter().map(|c| c.quantile_s(0.99)).collect();
    let mut colour = 0;
    by_group(&kinds)
        .into_iter()
        .map(|(group, members)| {
            let (top, rest) = top_k(&members, &p99, TOP);
            let p = Panel {
                group,
                top,
                rest,
                colour,
            };
            colour += p.top.len();
            p
        })
        .collect()
}

fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// (latency s, fraction) at each percentile of the ladder.
fn curve(s: &LatencyStats) -> Vec<(f64, f64)> {
    super::cdf_csv::percentiles()
        .into_iter()
        .map(|p| (s.quantile_s(p / 100.0).max(1e-12), p / 100.0))
        .collect()
}

/// The latency axis every CDF panel shares: the data's range, padded by
/// a twentieth of it (in log terms) on each side.
fn latency_range(cs: &[LatencyStats]) -> Range<f64> {
    let lo = cs
        .iter()
        .map(|s| s.quantile_s(0.0))
        .fold(f64::INFINITY, f64::min);
    let hi = cs.iter().map(|s| s.max.as_secs_f64()).fold(0.0, f64::max);
    if !(lo.is_finite() && lo > 0.0 && hi >= lo) {
        return 1e-6..1.0;
    }
    let pad = (hi / lo).powf(0.05).max(1.05);
    lo / pad..hi * pad
}

/// Ticks of a log axis over `x`: halves too within two thirds of a
/// decade, every multiple of the decade within one, 1-2-5 within two,
/// decades beyond (plotters' own log ticks leave a one-decade axis with
/// a single label).
fn log_ticks(x: &Range<f64>) -> Vec<f64> {
    let decades = (x.end / x.start).log10();
    let mults: &[f64] = match decades {
        d if d <= 0.67 => &[1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        d if d <= 1.2 => &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        d if d <= 2.5 => &[1.0, 2.0, 5.0],
        _ => &[1.0],
    };
    let (a, b) = (x.start.log10().floor() as i32, x.end.log10().ceil() as i32);
    (a..=b)
        .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
        .filter(|v| x.contains(v))
        .collect()
}

/// `text`, cut to [`LEGEND_CHARS`] by shortening `name` (the value after
/// it stays whole).
fn fit(name: &str, value: &str) -> String {
    let room = LEGEND_CHARS.saturating_sub(value.chars().count()).max(8);
    if name.chars().count() <= room {
        format!("{name}{value}")
    } else {
        name.chars().take(room - 1).collect::<String>() + "…" + value
    }
}

/// How a legend entry marks its series.
#[derive(Copy, Clone)]
enum Mark {
    Line,
    Dot,
}

/// The legend at the top of `area` (a panel's legend column): one line
/// per entry. Returns its box in picture pixels.
fn legend(
    area: &DrawingArea<SVGBackend, Shift>,
    entries: &[(RGBColor, String)],
    mark: Mark,
) -> Result<(Range<i32>, Range<i32>), ExportError> {
    let (x0, y0) = (10, 30);
    let (w, h) = (LEGEND_W as i32 - 20, LEGEND_LINE * entries.len() as i32 + 8);
    area.draw(&Rectangle::new([(x0, y0), (x0 + w, y0 + h)], BLACK))
        .map_err(err)?;
    let font = ("sans-serif", 12).into_font();
    for (k, (c, text)) in entries.iter().enumerate() {
        let y = y0 + 12 + LEGEND_LINE * k as i32;
        match mark {
            Mark::Line => area.draw(&PathElement::new(
                vec![(x0 + 6, y), (x0 + 26, y)],
                c.stroke_width(2),
            )),
            Mark::Dot => area.draw(&Circle::new((x0 + 16, y), 4, c.filled())),
        }
        .map_err(err)?;
        let style = TextStyle::from(font.clone()).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(text.as_str(), (x0 + 32, y), style))
            .map_err(err)?;
    }
    let (xs, ys) = area.get_pixel_range();
    Ok((
        xs.start + x0..xs.start + x0 + w,
        ys.start + y0..ys.start + y0 + h,
    ))
}

/// The legend entries of a panel: its top series, then "N more".
fn entries(
    plot: &Plot,
    p: &Panel,
    text: impl Fn(&LatencyStats) -> String,
    grey: RGBColor,
) -> Vec<(RGBColor, String)> {
    let mut v: Vec<(RGBColor, String)> = p
        .top
        .iter()
        .enumerate()
        .map(|(k, &i)| (palette(p.colour + k), text(&plot.collectives[i])))
        .collect();
    if !p.rest.is_empty() {
        v.push((grey, format!("{} more (grey): cdf.csv", p.rest.len())));
    }
    v
}

fn caption(p: &Panel) -> String {
    let n = p.members();
    format!(
        "{}: {n} {}",
        p.group.title(),
        if n == 1 { "collective" } else { "collectives" }
    )
}

/// A panel's chart frame, captioned, with room for both axes' labels.
fn panel_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    p: &Panel,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut chart = ChartBuilder::on(area);
    chart
        .caption(caption(p), ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(58);
    chart
}

/// One panel of latency CDFs on the shared latency axis `x`.
fn cdf_panel(
    plot: &Plot,
    p: &Panel,
    area: &DrawingArea<SVGBackend, Shift>,
    x: Range<f64>,
) -> Result<Drawn, ExportError> {
    let cs = plot.collectives;
    let (left, right) = area.split_horizontally(WIDTH - LEGEND_W);
    let mut chart = panel_chart(&left, p)
        .build_cartesian_2d(
            x.clone().log_scale().with_key_points(log_ticks(&x)),
            0.0..1.0,
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .x_label_formatter(&|v| secs(*v))
        .x_desc("latency (log scale)")
        .y_desc("fraction of trials")
        .draw()
        .map_err(err)?;
    for &i in &p.rest {
        chart
            .draw_series(LineSeries::new(curve(&cs[i]), OTHER_LINE.stroke_width(1)))
            .map_err(err)?;
    }
    for (k, &i) in p.top.iter().enumerate().rev() {
        let c = palette(p.colour + k);
        chart
            .draw_series(LineSeries::new(curve(&cs[i]), c.stroke_width(2)))
            .map_err(err)?;
    }
    let text = |s: &LatencyStats| fit(&s.name, &format!(" (p99 {})", secs(s.quantile_s(0.99))));
    let legend = legend(&right, &entries(plot, p, text, OTHER_LINE), Mark::Line)?;
    Ok(Drawn {
        plot: chart.plotting_area().get_pixel_range(),
        legend,
    })
}

/// One panel of points: each collective's latency (one trial) against
/// its place in issue order within the kind, counted from 1.
fn point_panel(
    plot: &Plot,
    p: &Panel,
    area: &DrawingArea<SVGBackend, Shift>,
) -> Result<Drawn, ExportError> {
    let cs = plot.collectives;
    let mut members: Vec<usize> = p.top.iter().chain(&p.rest).copied().collect();
    members.sort_unstable();
    let hi = members
        .iter()
        .map(|&i| cs[i].max.as_secs_f64())
        .fold(0.0, f64::max);
    let hi = if hi > 0.0 { hi * 1.12 } else { 1e-3 };
    let n = members.len() as f64;
    let (left, right) = area.split_horizontally(WIDTH - LEGEND_W);
    let mut chart = panel_chart(&left, p)
        .build_cartesian_2d(0.5..n + 0.5, 0.0..hi)
        .map_err(err)?;
    let whole = |v: &f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .max_light_lines(0)
        .x_labels(10.min(members.len() + 1))
        .y_labels(6)
        .x_label_formatter(&whole)
        .y_label_formatter(&|v| secs(*v))
        .x_desc("collective of this kind, in issue order")
        .y_desc("latency")
        .draw()
        .map_err(err)?;
    let place = |i: usize| members.iter().position(|&m| m == i).unwrap_or(0) as f64 + 1.0;
    chart
        .draw_series(
            p.rest.iter().map(|&i| {
                Circle::new((place(i), cs[i].max.as_secs_f64()), 3, OTHER_POINT.filled())
            }),
        )
        .map_err(err)?;
    for (k, &i) in p.top.iter().enumerate().rev() {
        let c = palette(p.colour + k);
        chart
            .draw_series(std::iter::once(Circle::new(
                (place(i), cs[i].max.as_secs_f64()),
                5,
                c.filled(),
            )))
            .map_err(err)?;
    }
    let text = |s: &LatencyStats| fit(&s.name, &format!(": {}", secs(s.max.as_secs_f64())));
    let legend = legend(&right, &entries(plot, p, text, OTHER_POINT), Mark::Dot)?;
    Ok(Drawn {
        plot: chart.plotting_area().get_pixel_range(),
        legend,
    })
}

/// Draws `plot` into `svg`; returns where each panel went.
pub fn draw(plot: &Plot, svg: &mut String) -> Result<Vec<Drawn>, ExportError> {
    let ps = panels(plot.collectives);
    let height = TITLE_H + PANEL_H * ps.len().max(1) as u32;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let it = plot.iteration;
    let what = if plot.trials > 1 {
        format!(
            "latency CDF of each collective over {} trials (iteration p50 {}, p99 {})",
            plot.trials,
            secs(it.quantile_s(0.5)),
            secs(it.quantile_s(0.99))
        )
    } else {
        format!(
            "latency of each collective, one trial (iteration {})",
            secs(it.max.as_secs_f64())
        )
    };
    let (head, body) = root.split_vertically(TITLE_H);
    let style =
        TextStyle::from(("sans-serif", 18).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    let title = format!("{}: {what}", plot.scenario);
    head.draw(&Text::new(title, (WIDTH as i32 / 2, 20), style))
        .map_err(err)?;
    if ps.is_empty() {
        let style = TextStyle::from(("sans-serif", 14).into_font())
            .pos(Pos::new(HPos::Center, VPos::Center));
        let note = "this run has no collectives";
        body.draw(&Text::new(note, (WIDTH as i32 / 2, 60), style))
            .map_err(err)?;
    }
    let x = latency_range(plot.collectives);
    let mut drawn = Vec::new();
    for (p, area) in ps.iter().zip(body.split_evenly((ps.len().max(1), 1))) {
        drawn.push(if plot.trials > 1 {
            cdf_panel(plot, p, &area, x.clone())?
        } else {
            point_panel(plot, p, &area)?
        });
    }
    root.present().map_err(err)?;
    Ok(drawn)
}

impl Exporter for CdfSvg {
    fn file_name(&self) -> String {
        "cdf.svg".into()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), ExportError> {
        let plot = Plot {
            scenario: &report.summary.scenario,
            trials: report.summary.trials,
            iteration: report.iteration,
            collectives: report.collectives,
        };
        let mut svg = String::new();
        draw(&plot, &mut svg)?;
        w.write_all(svg.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

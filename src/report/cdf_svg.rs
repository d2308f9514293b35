//! `cdf.svg`, drawn with plotters' SVG backend (no system fonts needed),
//! readable with a hundred collectives:
//!
//! - several trials: one latency CDF per collective (log latency axis), the
//!   [`TOP`] slowest by p99 each in its own colour, the rest as thin grey
//!   lines under one legend entry; the iteration (seconds, not
//!   milliseconds: it would squash the collectives) is in the title only;
//! - one trial: a CDF would be a vertical step, so each collective is a
//!   point (latency against issue order), the slowest coloured alike.
//!
//! The legend sits inside the plot, in room the axis leaves free for it
//! (left of the CDFs, right of the points), and has at most [`TOP`] + 1
//! entries, so it neither runs off the image nor covers data.

use super::cdf_csv::percentiles;
use super::groups::top_k;
use super::{ExportError, Exporter, LatencyStats, Report};
use crate::units::format_secs;
use plotters::prelude::*;
use std::io::Write;

/// Collectives drawn in their own colour.
pub const TOP: usize = 9;

const SIZE: (u32, u32) = (1000, 600);

/// Distinct colours for the shown series (Tableau 10 without its grey).
const COLOURS: [RGBColor; TOP] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
];
const OTHERS: RGBColor = RGBColor(190, 190, 190);

pub struct CdfSvg;

fn err<E: std::fmt::Debug>(e: E) -> ExportError {
    ExportError::Draw(format!("drawing cdf.svg: {e:?}"))
}

/// (latency s, fraction) at each percentile of the ladder.
fn curve(s: &LatencyStats) -> Vec<(f64, f64)> {
    percentiles()
        .into_iter()
        .map(|p| (s.quantile_s(p / 100.0).max(1e-12), p / 100.0))
        .collect()
}

fn title(report: &Report, what: &str) -> String {
    format!("{}: {what}", report.summary.scenario)
}

fn cdfs(report: &Report, svg: &mut String) -> Result<(), ExportError> {
    let cs = report.collectives;
    let p99: Vec<f64> = cs.iter().map(|c| c.quantile_s(0.99)).collect();
    let (top, rest) = top_k(&(0..cs.len()).collect::<Vec<_>>(), &p99, TOP);
    let lo = cs
        .iter()
        .map(|s| s.quantile_s(0.0))
        .fold(f64::INFINITY, f64::min);
    let hi = cs.iter().map(|s| s.max.as_secs_f64()).fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && lo > 0.0 && hi >= lo {
        (lo / 1.5, hi * 1.5)
    } else {
        (1e-6, 1.0)
    };
    // The legend's room: the left 30 % of the (log) axis, below the curves.
    let lo = lo / (hi / lo).powf(0.45);
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let it = report.iteration;
    let what = format!(
        "latency CDF over {} trials (iteration p50 {}, p99 {})",
        report.summary.trials,
        format_secs(it.quantile_s(0.5)),
        format_secs(it.quantile_s(0.99))
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title(report, &what), ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("latency (s)")
        .y_desc("fraction of trials")
        .draw()
        .map_err(err)?;
    for (k, &i) in rest.iter().enumerate() {
        let s = chart
            .draw_series(LineSeries::new(curve(&cs[i]), OTHERS.stroke_width(1)))
            .map_err(err)?;
        if k == 0 {
            s.label(format!("{} other collectives", rest.len()))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], OTHERS));
        }
    }
    for (k, &i) in top.iter().enumerate() {
        let c = COLOURS[k];
        chart
            .draw_series(LineSeries::new(curve(&cs[i]), c.stroke_width(2)))
            .map_err(err)?
            .label(cs[i].name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

fn points(report: &Report, svg: &mut String) -> Result<(), ExportError> {
    let cs = report.collectives;
    let lat: Vec<f64> = cs.iter().map(|c| c.max.as_secs_f64() * 1e3).collect();
    let (top, _) = top_k(&(0..cs.len()).collect::<Vec<_>>(), &lat, TOP);
    let hi = lat.iter().copied().fold(0.0, f64::max).max(1e-9) * 1.15;
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let what = format!(
        "latency of each collective (one trial; iteration {:.3} s)",
        report.iteration.max.as_secs_f64()
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title(report, &what), ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        // The legend's room: more axis right of the last point.
        .build_cartesian_2d(-0.5..(cs.len().max(1) as f64 * 1.45), 0.0..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("collective, in issue order")
        .y_desc("latency (ms)")
        .draw()
        .map_err(err)?;
    let others: Vec<(f64, f64)> = (0..cs.len())
        .filter(|i| !top.contains(i))
        .map(|i| (i as f64, lat[i]))
        .collect();
    if !others.is_empty() {
        let n = others.len();
        chart
            .draw_series(
                others
                    .into_iter()
                    .map(|p| Circle::new(p, 3, OTHERS.filled())),
            )
            .map_err(err)?
            .label(format!("{n} other collectives"))
            .legend(|(x, y)| Circle::new((x + 10, y), 3, OTHERS.filled()));
    }
    for (k, &i) in top.iter().enumerate() {
        let c = COLOURS[k];
        chart
            .draw_series(std::iter::once(Circle::new(
                (i as f64, lat[i]),
                5,
                c.filled(),
            )))
            .map_err(err)?
            .label(format!("{} ({:.3} ms)", cs[i].name, lat[i]))
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

impl Exporter for CdfSvg {
    fn file_name(&self) -> String {
        "cdf.svg".into()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), ExportError> {
        let mut svg = String::new();
        if report.summary.trials > 1 {
            cdfs(report, &mut svg)?;
        } else {
            points(report, &mut svg)?;
        }
        w.write_all(svg.as_bytes())?;
        Ok(())
    }
}

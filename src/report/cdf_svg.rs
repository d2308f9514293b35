//! `cdf.svg`: one CDF curve per collective (and the iteration), latency on
//! a log axis, drawn with plotters' SVG backend (no system fonts needed).

use super::cdf_csv::percentiles;
use super::{Exporter, Report};
use plotters::prelude::*;
use std::io::Write;

pub struct CdfSvg;

impl Exporter for CdfSvg {
    fn file_name(&self) -> String {
        "cdf.svg".into()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), super::ExportError> {
        let series: Vec<(String, Vec<(f64, f64)>)> = report
            .collectives
            .iter()
            .chain(std::iter::once(report.iteration))
            .map(|s| {
                let pts = percentiles()
                    .into_iter()
                    .map(|p| (s.quantile_s(p / 100.0).max(1e-12), p / 100.0))
                    .collect();
                (s.name.clone(), pts)
            })
            .collect();
        let lo = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .fold(f64::INFINITY, f64::min);
        let hi = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .fold(0.0, f64::max);
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo / 1.5, hi * 1.5)
        } else {
            (1e-6, 1.0)
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
            root.fill(&WHITE)
                .map_err(|e| super::ExportError::Draw(format!("{e:?}")))?;
            let mut chart = ChartBuilder::on(&root)
                .caption(
                    format!(
                        "{}: latency CDF over {} trials",
                        report.summary.scenario, report.summary.trials
                    ),
                    ("sans-serif", 20),
                )
                .margin(15)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)
                .map_err(|e| super::ExportError::Draw(format!("{e:?}")))?;
            chart
                .configure_mesh()
                .x_desc("latency (s)")
                .y_desc("fraction of trials")
                .draw()
                .map_err(|e| super::ExportError::Draw(format!("{e:?}")))?;
            for (i, (name, pts)) in series.into_iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                    .map_err(|e| super::ExportError::Draw(format!("{e:?}")))?
                    .label(name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| super::ExportError::Draw(format!("{e:?}")))?;
            root.present()
                .map_err(|e| super::ExportError::Draw(format!("{e:?}")))?;
        }
        w.write_all(svg.as_bytes())?;
        Ok(())
    }
}

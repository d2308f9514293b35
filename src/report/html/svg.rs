//! Hand-written SVG for the HTML report: a plot frame with linear or log
//! axes, gridlines and tick labels, and the few marks the plots need
//! (polylines, points, rectangles, text), each escaped for XML.
//!
//! It writes strings only; which data to draw is each plot's business.
//! Every `<svg>` it opens has the class `plot`, which the page's script
//! counts to decide that every plot rendered.

pub use crate::units::short_secs as secs;
use crate::units::{round_ticks, trim_zeros};
use std::fmt::Write;

/// Ten distinct colours (Tableau 10), so no two shown series share one.
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#17becf",
];

/// Grey for summarised series ("N others").
pub const GREY: &str = "#c8c8c8";

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One axis: the value range, linear or log, its label and tick format.
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub label: String,
    pub fmt: fn(f64) -> String,
    /// Ticks on whole numbers only (a count or an index).
    pub whole: bool,
    /// About how many ticks a linear axis gets.
    pub count: f64,
}

impl Axis {
    /// An axis over `[lo, hi]` widened so that it is never empty (and, on
    /// a log axis, positive).
    pub fn new(lo: f64, hi: f64, log: bool, label: &str, fmt: fn(f64) -> String) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        if log {
            lo = lo.max(1e-12);
            hi = hi.max(lo);
            if hi / lo < 1.01 {
                (lo, hi) = (lo / 1.5, hi * 1.5);
            }
        } else if hi - lo < 1e-12 * hi.abs().max(1.0) {
            (lo, hi) = if lo == 0.0 {
                (0.0, 1.0)
            } else {
                (lo - 0.1 * lo.abs(), hi + 0.1 * hi.abs())
            };
        }
        Axis {
            lo,
            hi,
            log,
            label: label.into(),
            fmt,
            whole: false,
            count: 5.0,
        }
    }

    /// The same axis with ticks on whole numbers only.
    pub fn whole(mut self) -> Axis {
        self.whole = true;
        self
    }

    /// The same axis aiming at about `count` ticks (e.g. one per stage).
    pub fn ticks_about(mut self, count: f64) -> Axis {
        self.count = count.max(1.0);
        self
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi`.
    pub fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.max(1e-12).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// Round tick values inside the range: decades (or 1-2-5 within a
    /// decade) on a log axis, 1-2-5 steps on a linear one.
    pub fn ticks(&self) -> Vec<f64> {
        let steps: &[f64] = &[1.0, 2.0, 5.0];
        if self.log {
            let (a, b) = (
                self.lo.log10().floor() as i32,
                self.hi.log10().ceil() as i32,
            );
            let mults: &[f64] = if b - a <= 2 { steps } else { &[1.0] };
            return (a..=b)
                .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
                .filter(|v| *v >= self.lo * 0.999 && *v <= self.hi * 1.001)
                .collect();
        }
        round_ticks(self.lo, self.hi, self.count, self.whole)
    }
}

/// Pixels right of a plot for its legend.
const LEGEND: f64 = 270.0;
/// Legend text longer than this is cut.
const LEGEND_CHARS: usize = 38;

/// `s` cut to `n` characters, with an ellipsis when cut.
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// A plot: its size in pixels, margins and axes.
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub x: Axis,
    pub y: Axis,
}

impl Frame {
    /// A frame with the report's usual margins.
    pub fn new(width: f64, height: f64, x: Axis, y: Axis) -> Frame {
        Frame {
            width,
            height,
            left: 70.0,
            right: 20.0,
            top: 30.0,
            bottom: 45.0,
            x,
            y,
        }
    }

    pub fn px(&self, v: f64) -> f64 {
        self.left + self.x.frac(v).clamp(-0.01, 1.01) * (self.width - self.left - self.right)
    }

    pub fn py(&self, v: f64) -> f64 {
        let h = self.height - self.top - self.bottom;
        self.height - self.bottom - self.y.frac(v).clamp(-0.01, 1.01) * h
    }

    /// Opens the `<svg>` and draws the title, gridlines, ticks and axis
    /// labels. Close it with `</svg>`.
    pub fn open(&self, id: &str, title: &str) -> String {
        let (w, h) = (self.width, self.height);
        let (l, r, t, b) = (self.left, w - self.right, self.top, h - self.bottom);
        let mut s = format!(
            r#"<svg class="plot" id="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="11">"#
        );
        let _ = write!(
            s,
            r##"<text x="{}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"##,
            w / 2.0,
            esc(title)
        );
        for v in self.x.ticks() {
            let x = self.px(v);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{t}" x2="{x:.1}" y2="{b}" stroke="#e6e6e6"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                b + 14.0,
                esc(&(self.x.fmt)(v))
            );
        }
        for v in self.y.ticks() {
            let y = self.py(v);
            let _ = write!(
                s,
                r##"<line x1="{l}" y1="{y:.1}" x2="{r}" y2="{y:.1}" stroke="#e6e6e6"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                l - 4.0,
                y + 4.0,
                esc(&(self.y.fmt)(v))
            );
        }
        let _ = write!(
            s,
            r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="#555"/><text x="{}" y="{}" text-anchor="middle">{}</text><text transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text>"##,
            r - l,
            b - t,
            (l + r) / 2.0,
            h - 8.0,
            esc(&self.x.label),
            (t + b) / 2.0,
            esc(&self.y.label)
        );
        s
    }

    /// A polyline through data points, with a hover title.
    pub fn line(&self, pts: &[(f64, f64)], colour: &str, width: f64, title: &str) -> String {
        let d: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        format!(
            r#"<polyline fill="none" stroke="{colour}" stroke-width="{width}" points="{}"><title>{}</title></polyline>"#,
            d.join(" "),
            esc(title)
        )
    }

    /// Leaves room for a legend right of the plot area.
    pub fn with_legend(mut self) -> Frame {
        self.right = LEGEND;
        self
    }

    /// A legend (`entries`: colour and text, cut to fit) in the room
    /// [`Frame::with_legend`] left, so it never covers data or runs off.
    pub fn legend(&self, entries: &[(&str, String)]) -> String {
        self.legend_of(entries, false)
    }

    /// [`Frame::legend`] with a dot per entry, for plots of points.
    pub fn dot_legend(&self, entries: &[(&str, String)]) -> String {
        self.legend_of(entries, true)
    }

    fn legend_of(&self, entries: &[(&str, String)], dots: bool) -> String {
        let width = LEGEND - 16.0;
        let (x0, y0) = (self.width - LEGEND + 8.0, self.top);
        let mut s = format!(
            r##"<rect x="{x0}" y="{y0}" width="{width:.0}" height="{}" fill="white" fill-opacity="0.85" stroke="#999"/>"##,
            entries.len() as f64 * 15.0 + 6.0
        );
        for (i, (colour, text)) in entries.iter().enumerate() {
            let y = y0 + 13.0 + 15.0 * i as f64;
            let _ = if dots {
                write!(
                    s,
                    r#"<circle cx="{}" cy="{}" r="4" fill="{colour}"/>"#,
                    x0 + 15.0,
                    y - 4.0
                )
            } else {
                write!(
                    s,
                    r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="3"/>"#,
                    x0 + 6.0,
                    y - 4.0,
                    x0 + 24.0,
                    y - 4.0
                )
            };
            let _ = write!(
                s,
                r#"<text x="{}" y="{}">{}</text>"#,
                x0 + 28.0,
                y,
                esc(&cut(text, LEGEND_CHARS))
            );
        }
        s
    }
}

/// A number with 3 significant digits and a k/M/G/T/P suffix.
pub fn num(v: f64) -> String {
    let a = v.abs();
    let (v, suffix) = if a >= 1e15 {
        (v / 1e15, "P")
    } else if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if v == 0.0 {
        0
    } else {
        (2 - v.abs().log10().floor() as i32).clamp(0, 12) as usize
    };
    format!("{}{suffix}", trim_zeros(&format!("{v:.digits$}")))
}

/// A fraction as a percentage.
pub fn pct(v: f64) -> String {
    format!("{:.0} %", 100.0 * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc(r#"a<b & "c">"#), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn ticks_are_round_and_inside() {
        let a = Axis::new(0.0, 0.93, false, "", num);
        assert_eq!(a.ticks(), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8]);
        let l = Axis::new(3e-6, 2e-2, true, "", num);
        assert_eq!(l.ticks(), vec![1e-5, 1e-4, 1e-3, 1e-2]);
        for t in Axis::new(0.011, 0.019, true, "", num).ticks() {
            assert!((0.011..=0.019).contains(&t), "{t}");
        }
    }

    #[test]
    fn whole_and_dense_ticks() {
        // Eight pipeline stages: a tick on each.
        let stages = Axis::new(-0.5, 7.5, false, "", num).ticks_about(8.0);
        assert_eq!(stages.ticks(), (0..8).map(f64::from).collect::<Vec<_>>());
        // One collective: a tick on 1 only, not on 0.6, 0.8, ...
        let one = Axis::new(0.5, 1.5, false, "", num).whole();
        assert_eq!(one.ticks(), vec![1.0]);
    }

    #[test]
    fn degenerate_ranges_widen() {
        let a = Axis::new(5.0, 5.0, false, "", num);
        assert!(a.lo < 5.0 && a.hi > 5.0);
        let l = Axis::new(2e-3, 2e-3, true, "", num);
        assert!(l.frac(2e-3) > 0.0 && l.frac(2e-3) < 1.0);
    }

    #[test]
    fn units_read_well() {
        assert_eq!(secs(0.0171), "17.1 ms");
        assert_eq!(secs(2.0), "2 s");
        assert_eq!(num(1_250_000.0), "1.25M");
        assert_eq!(num(0.000123), "0.000123");
        assert_eq!(num(250.0), "250");
        assert_eq!(num(1_021_487e9), "1.02P");
        assert_eq!(num(23_270e9), "23.3T");
        assert_eq!(pct(0.5), "50 %");
    }
}

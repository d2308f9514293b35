//! `cdf.svg` read back as pixels: every data mark inside its panel's
//! plotting area, the axes spanning the data (not stretched for a
//! legend), legends beside the data, and no colour shared by two series.

use super::*;
use crate::report::CollectiveKind;
use crate::units::SimTime;

/// A series of `kind` with one sample per latency (µs).
fn series(name: &str, kind: CollectiveKind, us: &[u64]) -> LatencyStats {
    let mut s = LatencyStats::new(name, 1000).of_kind(kind);
    for &u in us {
        s.record(SimTime::from_us(u));
    }
    s
}

/// 98 gradient buckets, 32 tensor collectives and the embedding, like
/// GPT-3 175B on 1,024 GPUs; `trials` samples each.
fn gpt3_like(trials: u64) -> Vec<LatencyStats> {
    let samples =
        |base: u64, i: u64| -> Vec<u64> { (0..trials).map(|t| base + i + 37 * t).collect() };
    let mut v = Vec::new();
    for i in 0..98 {
        v.push(series(
            &format!("block{i}"),
            CollectiveKind::Gradient,
            &samples(17_000, i % 7),
        ));
    }
    for i in 0..32 {
        v.push(series(
            &format!("tensor {i}"),
            CollectiveKind::Tensor,
            &samples(2_800, i),
        ));
    }
    v.push(series(
        "embedding all-reduce",
        CollectiveKind::Embedding,
        &samples(3_100, 0),
    ));
    v
}

fn render(cs: &[LatencyStats], trials: u64) -> (String, Vec<Drawn>) {
    let it = series("iteration", CollectiveKind::Gradient, &[8_780_000]);
    let plot = Plot {
        scenario: "test",
        trials,
        iteration: &it,
        collectives: cs,
    };
    let mut svg = String::new();
    let drawn = draw(&plot, &mut svg).unwrap();
    (svg, drawn)
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = tag.find(&key).unwrap_or_else(|| panic!("{name} in {tag}")) + key.len();
    &tag[start..start + tag[start..].find('"').unwrap()]
}

/// The attributes of every `<tag …/>` element of the picture, each
/// after a space.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    svg.split(&format!("<{tag}"))
        .skip(1)
        .map(|s| &s[..s.find("/>").unwrap()])
        .collect()
}

type Box2 = (Range<i32>, Range<i32>);

fn inside(b: &Box2, (x, y): (i32, i32)) -> bool {
    b.0.contains(&x) && b.1.contains(&y)
}

fn overlap(a: &Box2, b: &Box2) -> bool {
    a.0.start < b.0.end && b.0.start < a.0.end && a.1.start < b.1.end && b.1.start < a.1.end
}

/// Circles: (centre, radius, fill).
fn circles(svg: &str) -> Vec<((i32, i32), i32, String)> {
    elements(svg, "circle")
        .into_iter()
        .map(|c| {
            let n = |k| attr(c, k).parse::<i32>().unwrap();
            ((n("cx"), n("cy")), n("r"), attr(c, "fill").to_lowercase())
        })
        .collect()
}

/// Polylines: (points, stroke).
fn polylines(svg: &str) -> Vec<(Vec<(i32, i32)>, String)> {
    elements(svg, "polyline")
        .into_iter()
        .map(|l| {
            let pts = attr(l, "points")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            (pts, attr(l, "stroke").to_lowercase())
        })
        .collect()
}

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn legends_beside_plots(drawn: &[Drawn]) {
    for a in drawn {
        for b in drawn {
            assert!(!overlap(&a.legend, &b.plot), "{a:?} {b:?}");
        }
    }
}

#[test]
fn one_trial_points_fill_their_axes_and_legends_sit_beside() {
    let cs = gpt3_like(1);
    let (svg, drawn) = render(&cs, 1);
    assert_eq!(drawn.len(), 3, "a panel per kind");
    legends_beside_plots(&drawn);
    let dots = circles(&svg);
    let mut big = Vec::new();
    for (panel, n) in drawn.iter().zip([98, 32, 1]) {
        let data: Vec<_> = dots.iter().filter(|d| inside(&panel.plot, d.0)).collect();
        assert_eq!(data.len(), n, "{panel:?}");
        // The axis spans the points: the first and last sit within one
        // point's spacing of the edges, the highest near the top.
        let (xs, ys) = &panel.plot;
        let step = (xs.end - xs.start) / n as i32;
        let min_x = data.iter().map(|d| d.0.0).min().unwrap();
        let max_x = data.iter().map(|d| d.0.0).max().unwrap();
        let min_y = data.iter().map(|d| d.0.1).min().unwrap();
        assert!(
            min_x - xs.start <= step && xs.end - max_x <= step,
            "{min_x} {max_x} {xs:?}"
        );
        assert!(min_y - ys.start < (ys.end - ys.start) / 6, "{min_y} {ys:?}");
        big.extend(data.iter().filter(|d| d.1 == 5).map(|d| d.2.clone()));
    }
    // Every other circle is a legend mark, inside a legend box.
    for d in &dots {
        assert!(
            drawn
                .iter()
                .any(|p| inside(&p.plot, d.0) || inside(&p.legend, d.0)),
            "{d:?}"
        );
    }
    // TOP gradient, TOP tensor and the embedding in colour, none twice,
    // none grey.
    assert_eq!(big.len(), 2 * TOP + 1);
    let mut unique = big.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), big.len(), "{big:?}");
    assert!(!big.contains(&hex(OTHER_POINT)));
    assert!(svg.contains("92 more (grey)") && svg.contains("26 more (grey)"));
    assert!(svg.contains("tensor-parallel collectives: 32 collectives"));
}

#[test]
fn cdfs_span_the_shared_latency_axis_and_colour_tensor_collectives() {
    let cs = gpt3_like(20);
    let (svg, drawn) = render(&cs, 20);
    assert_eq!(drawn.len(), 3);
    legends_beside_plots(&drawn);
    let lines = polylines(&svg);
    let (mut lo, mut hi) = (i32::MAX, i32::MIN);
    let mut tensor = Vec::new();
    let mut data_lines = 0;
    // Black polylines are the axes.
    for (pts, stroke) in lines.iter().filter(|l| l.1 != "#000000") {
        let home = drawn
            .iter()
            .position(|p| pts.iter().all(|&q| inside(&p.plot, q)));
        match home {
            Some(k) => {
                data_lines += 1;
                lo = lo.min(pts.iter().map(|q| q.0).min().unwrap());
                hi = hi.max(pts.iter().map(|q| q.0).max().unwrap());
                if k == 1 && *stroke != hex(OTHER_LINE) {
                    tensor.push(stroke.clone());
                }
            }
            // A legend mark.
            None => assert!(
                drawn
                    .iter()
                    .any(|p| pts.iter().all(|&q| inside(&p.legend, q))),
                "{pts:?} is neither data nor legend"
            ),
        }
    }
    assert_eq!(data_lines, cs.len());
    // Every panel shares the axis, which the data spans end to end.
    let xs = &drawn[0].plot.0;
    assert!(drawn.iter().all(|p| &p.plot.0 == xs));
    let w = xs.end - xs.start;
    assert!(
        lo - xs.start < w / 10 && xs.end - hi < w / 10,
        "{lo} {hi} {xs:?}"
    );
    assert_eq!(
        tensor.len(),
        TOP,
        "the slowest tensor collectives get colours"
    );
    let mut unique = tensor.clone();
    unique.dedup();
    assert_eq!(unique.len(), TOP);
}

#[test]
fn a_small_kind_is_all_in_colour_with_no_more_entry() {
    let cs: Vec<_> = (0..3)
        .map(|i| series(&format!("t{i}"), CollectiveKind::Tensor, &[100 + i]))
        .collect();
    let (svg, drawn) = render(&cs, 1);
    assert_eq!(drawn.len(), 1);
    let dots = circles(&svg);
    let data: Vec<_> = dots
        .iter()
        .filter(|d| inside(&drawn[0].plot, d.0))
        .collect();
    assert_eq!(data.len(), 3);
    assert!(data.iter().all(|d| d.2 != hex(OTHER_POINT)));
    assert!(!svg.contains("more (grey)"));
}

#[test]
fn no_collectives_says_so() {
    let (svg, drawn) = render(&[], 3);
    assert!(drawn.is_empty());
    assert!(svg.contains("this run has no collectives"));
}

#[test]
fn log_ticks_label_every_axis_and_stay_inside() {
    for (lo, hi, at_least) in [(1.2e-3, 4.3e-3, 5), (2.7e-3, 2.3e-2, 8), (1e-6, 1.0, 6)] {
        let t = log_ticks(&(lo..hi));
        assert!(t.len() >= at_least, "{lo}..{hi}: {t:?}");
        assert!(t.iter().all(|v| (lo..hi).contains(v)), "{t:?}");
        assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
    }
}

#[test]
fn legend_text_keeps_the_value_whole() {
    let s = fit(
        "tensor F reduce-scatter s0 of a very long name",
        " (p99 2.983 ms)",
    );
    assert!(s.ends_with("… (p99 2.983 ms)"), "{s}");
    assert_eq!(s.chars().count(), LEGEND_CHARS);
    assert_eq!(fit("block1", ": 1 ms"), "block1: 1 ms");
}

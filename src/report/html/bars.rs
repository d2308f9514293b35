//! The report's resource sections: link utilisation (the busy-fraction
//! profile of each link kind, and the busiest links), the memory estimate
//! per pipeline stage (stacked by what it holds, against the GPU's memory)
//! and the cost breakdown (capex by part, and what an hour, a step and a
//! million tokens cost).

use super::page::{facts, table};
use super::run_data::{Cost, Link, Memory, MemoryStage};
use super::svg::{Axis, Frame, PALETTE, esc, num, pct};
use std::collections::BTreeMap;
use std::fmt::Write;

const GIB: f64 = (1u64 << 30) as f64;

/// Busiest links listed by name.
const BUSIEST: usize = 10;

/// Link utilisation: one line per link kind through its links' busy
/// fractions, busiest first (x: share of that kind's links), and tables.
pub fn links(links: &[Link]) -> String {
    let mut html = String::from("<h2>Link utilisation</h2>");
    if links.is_empty() {
        return html + "<p class=\"note\">No links.</p>";
    }
    let mut kinds: BTreeMap<&str, Vec<&Link>> = BTreeMap::new();
    for l in links {
        kinds.entry(l.kind.as_str()).or_default().push(l);
    }
    let top = links.iter().map(|l| l.busy).fold(0.0, f64::max);
    let f = Frame::new(
        1180.0,
        340.0,
        Axis::new(
            0.0,
            1.0,
            false,
            "share of the kind's links, busiest first",
            pct,
        ),
        Axis::new(0.0, top.max(0.01) * 1.05, false, "busy fraction", pct),
    )
    .with_legend();
    html += &f.open(
        "links",
        "link busy fraction over the run, per link kind (each direction)",
    );
    let mut legend = Vec::new();
    let mut rows = Vec::new();
    for (k, (kind, mut ls)) in kinds.into_iter().enumerate() {
        ls.sort_by(|a, b| b.busy.total_cmp(&a.busy));
        let n = ls.len() as f64;
        let pts: Vec<(f64, f64)> = ls
            .iter()
            .enumerate()
            .flat_map(|(i, l)| [(i as f64 / n, l.busy), ((i + 1) as f64 / n, l.busy)])
            .collect();
        let colour = PALETTE[k % PALETTE.len()];
        let mean = ls.iter().map(|l| l.busy).sum::<f64>() / n;
        html += &f.line(
            &pts,
            colour,
            2.0,
            &format!("{kind}: {} links, mean busy {}", ls.len(), pct(mean)),
        );
        legend.push((colour, format!("{kind} ({} links)", ls.len())));
        rows.push(vec![
            kind.to_string(),
            ls.len().to_string(),
            pct(mean),
            pct(ls[0].busy),
            num(ls.iter().map(|l| l.bytes).sum::<f64>()) + "B",
        ]);
    }
    html += &f.legend(&legend);
    html += "</svg>";
    html += &table(
        &[
            "link kind",
            "links",
            "mean busy",
            "max busy",
            "bytes carried",
        ],
        &rows,
    );
    let mut busiest: Vec<&Link> = links.iter().collect();
    busiest.sort_by(|a, b| b.busy.total_cmp(&a.busy));
    let rows: Vec<Vec<String>> = busiest
        .iter()
        .take(BUSIEST)
        .map(|l| {
            vec![
                l.name.clone(),
                l.kind.clone(),
                pct(l.busy),
                num(l.bytes) + "B",
            ]
        })
        .collect();
    html += "<h3>Busiest links</h3>";
    html += &table(&["link", "kind", "busy", "bytes"], &rows);
    let _ = write!(
        html,
        "<p class=\"note\">{} links in links.csv.</p>",
        links.len()
    );
    html
}

/// One part of a stage's memory.
type Part = fn(&MemoryStage) -> f64;

/// Memory per stage: stacked weights, gradients, optimizer state and
/// activations, with the GPU's memory as a dashed line.
pub fn memory(m: Option<&Memory>) -> String {
    let mut html = String::from("<h2>Memory per GPU, by pipeline stage</h2>");
    let Some(m) = m.filter(|m| !m.stages.is_empty()) else {
        return html + "<p class=\"note\">No memory estimate in summary.json.</p>";
    };
    let parts: [(&str, Part); 4] = [
        ("weights", |s| s.weights),
        ("gradients", |s| s.gradients),
        ("optimizer state", |s| s.optimizer),
        ("activations", |s| s.activations),
    ];
    let total = |s: &MemoryStage| parts.iter().map(|p| p.1(s)).sum::<f64>();
    let hi = m.stages.iter().map(total).fold(m.capacity_bytes, f64::max) / GIB;
    let n = m.stages.len() as f64;
    let f = Frame::new(
        1180.0,
        340.0,
        Axis::new(-0.5, n - 0.5, false, "pipeline stage", |v| {
            format!("{v:.0}")
        })
        .whole()
        .ticks_about(n.min(32.0)),
        Axis::new(0.0, hi * 1.08, false, "GiB per GPU", num),
    )
    .with_legend();
    html += &f.open("memory", "memory estimate per GPU of each stage");
    let half = (f.px(1.0) - f.px(0.0)) * 0.35;
    for (x, s) in m.stages.iter().enumerate() {
        let mut base = 0.0;
        for (k, (name, get)) in parts.iter().enumerate() {
            let v = get(s) / GIB;
            let (y0, y1) = (f.py(base), f.py(base + v));
            let _ = write!(
                html,
                r#"<rect x="{:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>stage {}: {name} {:.1} GiB</title></rect>"#,
                f.px(x as f64) - half,
                2.0 * half,
                (y0 - y1).max(0.0),
                PALETTE[k],
                s.stage,
                v
            );
            base += v;
        }
    }
    let cap = f.py(m.capacity_bytes / GIB);
    let _ = write!(
        html,
        r##"<line x1="{}" y1="{cap:.1}" x2="{}" y2="{cap:.1}" stroke="#b00" stroke-dasharray="6 4" stroke-width="2"><title>GPU memory {:.1} GiB</title></line>"##,
        f.left,
        f.width - f.right,
        m.capacity_bytes / GIB
    );
    let mut legend: Vec<(&str, String)> = parts
        .iter()
        .enumerate()
        .map(|(k, p)| (PALETTE[k], p.0.to_string()))
        .collect();
    legend.push((
        "#b00",
        format!("GPU memory {:.1} GiB", m.capacity_bytes / GIB),
    ));
    html += &f.legend(&legend);
    html += "</svg>";
    if !m.fits {
        html += "<p class=\"fits\"><b>The estimate exceeds the GPU's memory.</b></p>";
    }
    html
}

/// Capex by part as one stacked bar, then the running costs.
pub fn cost(c: Option<&Cost>) -> String {
    let mut html = String::from("<h2>Cost</h2>");
    let Some(c) = c else {
        return html + "<p class=\"note\">The topology has no prices.</p>";
    };
    let parts = [
        ("GPUs", c.capex_gpus),
        ("NICs", c.capex_nics),
        ("switches", c.capex_switches),
        ("optics and cables", c.capex_optics),
    ];
    let (w, left, right) = (1180.0, 20.0, 20.0);
    let _ = write!(
        html,
        r#"<svg class="plot" id="cost" viewBox="0 0 {w} 90" width="{w}" height="90" font-family="sans-serif" font-size="12">"#
    );
    let mut x = left;
    for (k, (name, v)) in parts.iter().enumerate() {
        let width = if c.capex > 0.0 {
            v / c.capex * (w - left - right)
        } else {
            0.0
        };
        let label = format!("{name}: ${} ({})", num(*v), pct(v / c.capex.max(1e-9)));
        let _ = write!(
            html,
            r#"<rect x="{x:.1}" y="10" width="{width:.1}" height="40" fill="{}"><title>{}</title></rect>"#,
            PALETTE[k],
            esc(&label)
        );
        let _ = write!(
            html,
            r#"<rect x="{:.1}" y="62" width="12" height="12" fill="{}"/><text x="{:.1}" y="72">{}</text>"#,
            left + 290.0 * k as f64,
            PALETTE[k],
            left + 290.0 * k as f64 + 16.0,
            esc(&label)
        );
        x += width;
    }
    html += "</svg>";
    let mut rows = vec![
        ("capex", format!("${}", num(c.capex))),
        (
            "power",
            format!("{:.0} kW, ${:.2}/hour", c.power_kw, c.power_per_hour),
        ),
        (
            "per hour",
            format!(
                "${:.2} (capex over {} years + power)",
                c.per_hour, c.amortization_years
            ),
        ),
        ("per step", format!("${:.4}", c.per_step)),
    ];
    if let Some(t) = c.per_million_tokens {
        rows.push(("per million tokens", format!("${t:.4}")));
    }
    rows.push(("prices of", c.catalog_date.clone()));
    html + &facts(&rows)
}

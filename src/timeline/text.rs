//! The per-time-step table people draw by hand: one row per time at which
//! any shown GPU changes what it does, one column per GPU (`MB2 F`, `MB0 B`,
//! `MB1 W`, `AR` while in a collective and not computing, `idle`), and the
//! number of busy (computing) GPUs. Times in microseconds. At most
//! [`MAX_ROWS`] rows; a last line says how many were left out.

use super::{Shown, Span, label, spans, us};
use crate::engine::Outcome;
use crate::ids::GpuId;
use crate::plan::TaskGraph;
use crate::topology::Cluster;
use crate::units::SimTime;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Rows printed before the table is cut.
pub const MAX_ROWS: usize = 2000;

/// What each GPU does at time t: a pointer per GPU into its sorted spans.
struct Cursor<'a> {
    spans: &'a [Span],
    next: usize,
}

impl Cursor<'_> {
    /// The span covering `t`, if any (t must not decrease between calls).
    /// Compute spans of one GPU never overlap; collective spans may, so the
    /// cursor looks at every span started by t and not yet ended.
    fn at(&mut self, t: SimTime) -> Option<&Span> {
        while self.next < self.spans.len() && self.spans[self.next].end <= t {
            self.next += 1;
        }
        self.spans[self.next..]
            .iter()
            .take_while(|s| s.start <= t)
            .find(|s| s.end > t)
    }
}

fn cursor(list: &BTreeMap<GpuId, Vec<Span>>, g: GpuId) -> Cursor<'_> {
    Cursor {
        spans: list.get(&g).map_or(&[][..], |v| &v[..]),
        next: 0,
    }
}

/// Writes one trial's timeline as a text table: a row per change of
/// what the shown GPUs are doing.
pub fn write_text(
    w: &mut dyn Write,
    _cluster: &Cluster,
    graph: &TaskGraph,
    outcome: &Outcome,
    gpus: &[Shown],
    kinds: &super::Kinds,
) -> io::Result<()> {
    let sp = spans(graph, outcome, gpus, kinds);
    let mut times = BTreeSet::new();
    for s in sp.compute.values().chain(sp.collective.values()).flatten() {
        times.insert(s.start);
        times.insert(s.end);
    }
    let width = 9;
    write!(w, "{:>12}", "time_us")?;
    for g in gpus {
        write!(w, " {:>width$}", format!("gpu{}", g.gpu))?;
    }
    writeln!(w, " {:>4}", "busy")?;
    let mut compute: Vec<Cursor> = gpus.iter().map(|g| cursor(&sp.compute, g.gpu)).collect();
    let mut collective: Vec<Cursor> = gpus.iter().map(|g| cursor(&sp.collective, g.gpu)).collect();
    let mut previous: Option<Vec<String>> = None;
    let mut rows = 0usize;
    let mut skipped = 0usize;
    for &t in &times {
        let mut busy = 0;
        let cells: Vec<String> = compute
            .iter_mut()
            .zip(collective.iter_mut())
            .map(|(c, a)| match c.at(t) {
                Some(s) => {
                    busy += 1;
                    label(s.tag)
                }
                None if a.at(t).is_some() => "AR".to_string(),
                None => "idle".to_string(),
            })
            .collect();
        if previous.as_ref() == Some(&cells) {
            continue;
        }
        if rows >= MAX_ROWS {
            skipped += 1;
            previous = Some(cells);
            continue;
        }
        write!(w, "{:>12.3}", us(t))?;
        for c in &cells {
            write!(w, " {c:>width$}")?;
        }
        writeln!(w, " {busy:>4}")?;
        rows += 1;
        previous = Some(cells);
    }
    if skipped > 0 {
        writeln!(
            w,
            "... {skipped} more rows not shown (the table stops at {MAX_ROWS} rows)"
        )?;
    }
    Ok(())
}

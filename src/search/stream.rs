//! Running a search without holding its rows (the rules are `search.rs`'s):
//! three passes over the shard's candidates, made one at a time.
//!
//! 1. In candidate order: rules 1–4 at the cheap bound; each verdict goes
//!    to a temporary file beside the output as soon as it is decided (a
//!    survivor as `simulated`, pending), and the survivors join a queue.
//! 2. The queue, by lowest possible $/M tokens, in rounds of [`ROUND`]:
//!    rules 5, 6, 4 and 5 again, then the simulation. Verdicts wait in
//!    memory, by candidate.
//! 3. The temporary again, in candidate order: each pending row takes its
//!    verdict, every row its `pareto` and `why` from the final front, and
//!    goes to the sink.
//!
//! Memory is the survivors of rules 1–4 (queue and verdicts: a bound, an
//! index and a few figures each), the simulated points and the front, not
//! the candidates: the shipped GPT-3 search queues 1,377 of 13,824.

use super::table::{Front, Point, Tally, meets};
use super::{Outcome, ROUND, Row, Search, SearchError, SearchOptions, Status};
use crate::output::Temporary;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// A candidate past rules 1–4: its lowest possible $/M tokens (the
/// queue's order), index and cheap bound.
struct Pending {
    key: f64,
    index: u64,
    bound: Option<f64>,
}

/// Pass 2's verdicts, by candidate: status, figures, bound.
type Verdicts = BTreeMap<u64, (Status, Option<Outcome>, Option<f64>)>;

impl Search {
    /// Runs the search over `options.shard` and hands each row, judged, to
    /// `sink` in candidate order. Rows wait in a temporary beside `beside`
    /// (the output file; `None`: the search's scratch folder), removed at
    /// the end, on an error or on an interrupt. Returns the counts and
    /// the front.
    pub fn stream(
        &self,
        options: &SearchOptions,
        beside: Option<&Path>,
        sink: &mut dyn FnMut(&Row) -> Result<(), SearchError>,
    ) -> Result<Tally, SearchError> {
        let scratch = self.scratch.path().join("rows.csv");
        let mut rows = Temporary::create(beside.unwrap_or(&scratch), "rows")?;
        let mut queue = self.cheap_pass(options, &mut rows)?;
        queue.sort_by(|a, b| a.key.total_cmp(&b.key).then(a.index.cmp(&b.index)));
        let (verdicts, points) = self.expensive_pass(options, &queue)?;
        drop(queue);
        let front = Front::of(&points);
        let mut tally = Tally::default();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(rows.reader()?);
        for record in reader.records() {
            let mut row = self.pending_row(&record?)?;
            if row.status == Status::Simulated
                && let Some((status, outcome, bound)) = verdicts.get(&row.candidate.index)
            {
                row.status = status.clone();
                row.outcome = outcome.clone();
                row.bound_s = bound.or(row.bound_s);
            }
            front.judge(self, &mut row);
            tally.add(&row);
            sink(&row)?;
        }
        Ok(tally)
    }

    /// Pass 1: rules 1–4 on each candidate of the shard, written to `out`
    /// as `index, status, detail, bound`; the survivors, unsorted.
    fn cheap_pass(
        &self,
        options: &SearchOptions,
        out: &mut Temporary,
    ) -> Result<Vec<Pending>, SearchError> {
        let n = self.candidates.len();
        let range = options.shard.map_or(0..n, |s| s.range_u64(n));
        let mut w = csv::Writer::from_writer(out);
        let mut queue = Vec::new();
        for index in range {
            let row = self.cheap(&self.candidates.get(index), options.exhaustive);
            let detail = match &row.status {
                Status::Invalid(m) => m.clone(),
                Status::MemoryBound(b) => b.to_string(),
                _ => String::new(),
            };
            let bound = row.bound_s.map_or_else(String::new, |b| b.to_string());
            w.write_record([&index.to_string(), row.status.word(), &detail, &bound])?;
            if row.status == Status::Simulated {
                let h = &self.hardware[row.candidate.hw];
                let lb = row.bound_s.unwrap_or(0.0);
                queue.push(Pending {
                    key: self.usd_per_mtok(h, lb).unwrap_or(h.cost.capex),
                    index,
                    bound: row.bound_s,
                });
            }
        }
        w.flush().map_err(csv::Error::from)?;
        Ok(queue)
    }

    /// Pass 2: the queue (sorted) in rounds of [`ROUND`], each candidate
    /// checked against the points simulated in earlier rounds; the
    /// verdicts and the simulated points that meet the target, both in
    /// candidate order.
    fn expensive_pass(
        &self,
        options: &SearchOptions,
        queue: &[Pending],
    ) -> Result<(Verdicts, Vec<Point>), SearchError> {
        let bar = crate::output::progress_bar(
            options.progress,
            queue.len() as u64,
            "candidates past the bounds",
        );
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs.unwrap_or(0))
            .build()?;
        let mut done: Vec<Point> = Vec::new();
        let mut verdicts = Verdicts::new();
        for round in queue.chunks(ROUND) {
            let rows: Vec<Row> = round
                .iter()
                .map(|p| Row {
                    bound_s: p.bound,
                    ..Row::new(self.candidates.get(p.index))
                })
                .collect();
            let results: Vec<_> = pool.install(|| {
                rows.par_iter()
                    .map(|r| {
                        let v = self.expensive(r, &done, options.exhaustive);
                        bar.inc(1);
                        v
                    })
                    .collect()
            });
            for (r, res) in rows.iter().zip(results) {
                let (status, outcome, bound) = res?;
                if let Some(o) = &outcome {
                    done.push(Point::of(self, r, o));
                }
                verdicts.insert(r.candidate.index, (status, outcome, bound));
            }
        }
        bar.finish_and_clear();
        // In candidate order, as the map is.
        let points: Vec<Point> = verdicts
            .iter()
            .filter_map(|(&i, (_, o, _))| {
                let o = o.as_ref().filter(|o| meets(self, o))?;
                let r = Row::new(self.candidates.get(i));
                Some(Point::of(self, &r, o))
            })
            .collect();
        Ok((verdicts, points))
    }

    /// A row of pass 1's temporary, as it was written.
    fn pending_row(&self, rec: &csv::StringRecord) -> Result<Row, SearchError> {
        let field = |k: usize| rec.get(k).unwrap_or("");
        let index: u64 = field(0)
            .parse()
            .ok()
            .filter(|&i| i < self.candidates.len())
            .ok_or(SearchError::Scratch)?;
        let mut row = Row::new(self.candidates.get(index));
        row.bound_s = match field(3) {
            "" => None,
            b => Some(b.parse().map_err(|_| SearchError::Scratch)?),
        };
        row.status = match field(1) {
            "invalid" => Status::Invalid(field(2).to_string()),
            "over-budget" => Status::OverBudget,
            "memory-bound" => {
                Status::MemoryBound(field(2).parse().map_err(|_| SearchError::Scratch)?)
            }
            "too-slow-bound" => Status::TooSlowBound,
            "simulated" => Status::Simulated,
            _ => return Err(SearchError::Scratch),
        };
        Ok(row)
    }
}

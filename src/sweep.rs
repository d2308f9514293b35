//! `fabsim sweep`: a base scenario plus axes (see [`spec`] for the file
//! format), expanded into a grid of points, run in parallel, one CSV row
//! per point (see [`table`] for the columns).
//!
//! - Grid: the product of the axes in row-major order (first axis
//!   slowest). `point` is a point's index in that full grid; points failing
//!   the [`filter`] are dropped (no row) but keep the others' indices.
//! - Points are enumerated lazily (a shard of a 10⁷-point grid holds only
//!   its own points) and run with rayon (`--jobs N`: a pool of N threads;
//!   each point's trials run inside it). Rows are handed to the caller as
//!   soon as every earlier row is done, in grid order whatever the thread
//!   count, and every point is deterministic, so the CSV is byte-identical
//!   for any N — and a resumed sweep ([`SweepOptions::skip`]) continues
//!   it byte for byte.
//! - `--shard I/N` (1-based) runs the I-th of N contiguous, near-equal
//!   slices of the kept points (`[(I−1)·n/N, I·n/N)`), and only shard 1
//!   writes the header, so `cat shard1.csv … shardN.csv` is exactly the
//!   one-machine CSV.
//! - A point that cannot be built (parallelism ≠ GPUs, heads % tensor ≠
//!   0, …) is a row with status `invalid` and the reason; one whose memory
//!   estimate exceeds the GPU's is `does-not-fit` (not simulated unless the
//!   base scenario sets `allow_oversubscribed_memory: true`). Errors in the
//!   sweep file itself are [`InputError`]s, found before anything runs.
//!
//! It does not simulate by itself: each point is a scenario handed to
//! [`crate::run::run`].

pub mod filter;
mod point;
pub mod resume;
pub mod spec;
pub mod table;

pub use point::{Row, Status};
pub use spec::Axis;

/// Why a sweep stopped: a point whose trials could not run, the thread pool
/// not starting, or an output that could not be written. Each variant shows
/// its cause's message and keeps the cause as its source (exit codes look
/// for unwritable outputs and bad arguments in the chain).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A point's scenario built but its run failed.
    #[error("sweep point {point}")]
    Point {
        /// The point's index in the full grid.
        point: u64,
        /// What the run reported.
        #[source]
        source: crate::run::RunError,
    },
    /// The `--jobs` thread pool could not start.
    #[error("starting {threads} threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        message: String,
    },
    /// The output file or its temporary could not be written.
    #[error("{0}")]
    Output(#[from] crate::output::OutputError),
    /// A command-line value (e.g. `--resume` on a foreign file) is unusable.
    #[error("{0}")]
    Arg(#[from] ArgError),
    /// Formatting a CSV row failed.
    #[error("{0}")]
    Csv(#[from] csv::Error),
}

use crate::input::{ArgError, InputError, Source};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A loaded, checked sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The sweep's name.
    pub name: String,
    /// Free text from the sweep file.
    pub description: String,
    /// The sweep file.
    pub file: PathBuf,
    /// The base scenario file.
    pub base: PathBuf,
    /// The axes, in file order.
    pub axes: Vec<Axis>,
    /// Iterations per point.
    pub trials: u64,
    /// The seed every point uses, if the sweep sets one.
    pub seed: Option<u64>,
    /// Points in the full grid (the product of the axes' lengths).
    pub grid_size: u64,
    /// Points the filter keeps.
    pub kept: u64,
    filter: Vec<filter::Condition>,
    base_values: point::BaseValues,
}

/// One grid point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position in the grid (0-based), the CSV's `point`.
    pub index: u64,
    /// Per axis, the index of its value.
    pub choice: Vec<usize>,
}

/// `--shard I/N`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard's number, `1..=count`.
    pub index: u64,
    /// Shards in all.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = ArgError;
    fn from_str(s: &str) -> Result<Shard, ArgError> {
        let bad = || {
            ArgError::new(
                "--shard",
                format!("'{s}' is not I/N with 1 ≤ I ≤ N, e.g. 2/8"),
            )
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The slice of `n` kept points this shard runs.
    pub fn range(&self, n: usize) -> std::ops::Range<usize> {
        let r = self.range_u64(n as u64);
        r.start as usize..r.end as usize
    }

    /// The slice of `n` kept points this shard runs.
    pub fn range_u64(&self, n: u64) -> std::ops::Range<u64> {
        let at = |k: u64| (u128::from(k) * u128::from(n) / u128::from(self.count)) as u64;
        at(self.index - 1)..at(self.index)
    }
}

/// How to run a sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Threads; `None`: rayon's default (all cores).
    pub jobs: Option<usize>,
    /// Run only this slice of the points.
    pub shard: Option<Shard>,
    /// Progress bar on stderr (hidden anyway when not a terminal).
    pub progress: bool,
    /// Points of the shard already done (by a killed run being resumed):
    /// they are not run again.
    pub skip: u64,
}

/// Grids larger than this are refused (a typo guard).
pub const MAX_POINTS: u64 = 10_000_000;

impl Sweep {
    /// Reads and checks `file`: the base scenario exists and parses, every
    /// axis path and value is a valid setting, the filter resolves.
    pub fn load(file: &Path) -> Result<Sweep, InputError> {
        let src = Source::read(file)?;
        let spec: spec::SweepFile = src.parse()?;
        let dir = file.parent().unwrap_or(Path::new("."));
        let base = dir.join(&spec.base.value);
        if !base.is_file() {
            return Err(src
                .error_at(
                    &spec.base,
                    format!("the base scenario {} does not exist", base.display()),
                )
                .with_path("base"));
        }
        let base_src = Source::read(&base)?;
        base_src.parse::<crate::scenario::ScenarioFile>()?;
        let base_tree: serde_json::Value = base_src.parse()?;
        let axes = spec::axes(&src, &spec, &base, &base_tree)?;
        let trials = spec.trials.as_ref().map_or(1, |t| t.value);
        let max_trials = crate::scenario::bounds::MAX_TRIALS;
        if let Some(t) = &spec.trials
            && !(1..=max_trials).contains(&t.value)
        {
            return Err(src
                .error_at(
                    t,
                    format!("trials must be a whole number from 1 to {max_trials}"),
                )
                .with_path("trials"));
        }
        let total = axes
            .iter()
            .try_fold(1u64, |acc, a| acc.checked_mul(a.values.len() as u64))
            .filter(|&n| n <= MAX_POINTS)
            .ok_or_else(|| {
                src.error_at(
                    &spec.axes,
                    format!("the grid has more than {MAX_POINTS} points"),
                )
                .with_path("axes")
            })?;
        let base_values = point::BaseValues::new(&base, &base_tree);
        // One pass over the grid checks every filter and counts the kept
        // points, holding none of them.
        let mut kept = 0;
        for index in 0..total {
            let choice = unravel(index, &axes);
            let lookup = |p: &str| axis_value(&axes, &choice, p).or_else(|| base_values.get(p));
            let mut keep = true;
            for (k, c) in spec.filter.iter().enumerate() {
                let ok = c
                    .value
                    .holds(&lookup)
                    .map_err(|m| src.error_at(c, m).with_path(format!("filter.{k}")))?;
                keep &= ok;
            }
            kept += u64::from(keep);
        }
        let name = spec.name.clone().unwrap_or_else(|| {
            file.file_stem()
                .map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned())
        });
        Ok(Sweep {
            name,
            description: spec.description,
            file: file.to_path_buf(),
            base,
            axes,
            trials,
            seed: spec.seed,
            grid_size: total,
            kept,
            filter: spec.filter.into_iter().map(|c| c.value).collect(),
            base_values,
        })
    }

    /// True if the filter keeps `choice` (every filter was checked on every
    /// point at load time, so none fails here).
    fn keeps(&self, choice: &[usize]) -> bool {
        let lookup =
            |p: &str| axis_value(&self.axes, choice, p).or_else(|| self.base_values.get(p));
        self.filter
            .iter()
            .all(|c| c.holds(&lookup).unwrap_or(false))
    }

    /// The kept points of `shard` (all by default), in grid order, made
    /// one at a time.
    pub fn points(&self, shard: Option<Shard>) -> impl Iterator<Item = Point> + '_ {
        let range = shard.map_or(0..self.kept, |s| s.range_u64(self.kept));
        let unfiltered = self.filter.is_empty();
        // Without a filter the k-th kept point is grid point k: jump there.
        let first = if unfiltered { range.start } else { 0 };
        let skip = if unfiltered { 0 } else { range.start };
        (first..self.grid_size)
            .map(|index| Point {
                index,
                choice: unravel(index, &self.axes),
            })
            .filter(move |p| unfiltered || self.keeps(&p.choice))
            .skip(skip as usize)
            .take((range.end - range.start) as usize)
    }

    /// How many points `shard` runs.
    pub fn shard_len(&self, shard: Option<Shard>) -> u64 {
        let r = shard.map_or(0..self.kept, |s| s.range_u64(self.kept));
        r.end - r.start
    }

    /// Runs the points of `options.shard` (all by default) after the first
    /// `options.skip`, handing each row to `sink` in grid order as soon as
    /// it and every row before it are done. Stops at the first error of a
    /// point or of `sink`.
    pub fn run<E: From<SweepError>>(
        &self,
        options: &SweepOptions,
        sink: &mut dyn FnMut(Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let total = self.shard_len(options.shard);
        let bar = crate::output::progress_bar(options.progress, total, "points");
        bar.inc(options.skip.min(total));
        let points = self
            .points(options.shard)
            .skip(options.skip as usize)
            .enumerate();
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Row, SweepError>)>();
        let pool = match options.jobs {
            None => None,
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n.max(1))
                    .build()
                    .map_err(|e| SweepError::Threads {
                        threads: n,
                        message: e.to_string(),
                    })?,
            ),
        };
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let work = move || {
                    // A closed channel means the consumer stopped: stop too.
                    let _ = points.par_bridge().try_for_each_with(tx, |tx, (k, p)| {
                        tx.send((k, point::run_point(self, &p))).map_err(|_| ())
                    });
                };
                match &pool {
                    Some(pool) => pool.install(work),
                    None => work(),
                }
            });
            // Rows finish in any order; release them in grid order.
            let mut pending: BTreeMap<usize, Row> = BTreeMap::new();
            let mut next = 0;
            for (k, row) in rx {
                pending.insert(k, row?);
                while let Some(row) = pending.remove(&next) {
                    sink(row)?;
                    bar.inc(1);
                    next += 1;
                }
            }
            bar.finish_and_clear();
            Ok(())
        })
    }

    /// Runs the points of `options.shard` and returns every row, in grid
    /// order (for tests and small sweeps; the CLI streams instead).
    pub fn run_all(&self, options: &SweepOptions) -> Result<Vec<Row>, SweepError> {
        let mut rows = Vec::new();
        self.run::<SweepError>(options, &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The `path=value` overrides of a point.
    pub fn overrides(&self, p: &Point) -> Vec<String> {
        self.axes
            .iter()
            .zip(&p.choice)
            .flat_map(|(a, &c)| {
                a.paths.iter().zip(&a.values[c]).map(|(path, v)| {
                    format!("{path}={}", serde_json::to_string(v).unwrap_or_default())
                })
            })
            .collect()
    }
}

/// The value of axis path `path` at `choice`, if `path` is an axis path.
fn axis_value(axes: &[Axis], choice: &[usize], path: &str) -> Option<serde_json::Value> {
    axes.iter().zip(choice).find_map(|(a, &c)| {
        a.paths
            .iter()
            .position(|p| p == path)
            .map(|k| a.values[c][k].clone())
    })
}

/// Grid index → per-axis value indices, first axis slowest.
fn unravel(mut index: u64, axes: &[Axis]) -> Vec<usize> {
    let mut out = vec![0; axes.len()];
    for (k, a) in axes.iter().enumerate().rev() {
        let n = a.values.len() as u64;
        out[k] = (index % n) as usize;
        index /= n;
    }
    out
}

#[cfg(test)]
mod tests;

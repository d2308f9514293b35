//! `trials.csv`, streamed: one row per reported collective per trial, then
//! the trial's iteration row, written as the trials are folded in order so
//! memory does not grow with the trial count. It formats rows only; the
//! trial loop and the results folder are `run`'s.

use super::TrialResult;
use crate::output::{AtomicDir, PathFile};
use crate::report::LatencyStats;
use crate::units::SimTime;
use std::io::{BufWriter, Write};

/// The open `trials.csv` of a run being written.
pub(super) struct TrialsCsv {
    w: csv::Writer<BufWriter<PathFile>>,
}

impl TrialsCsv {
    /// Creates the file in the staging folder and writes its header.
    pub(super) fn create(staging: &AtomicDir) -> Result<TrialsCsv, super::RunError> {
        let mut w = csv::Writer::from_writer(BufWriter::new(staging.create("trials.csv")?));
        w.write_record([
            "trial",
            "collective",
            "bytes",
            "start_s",
            "end_s",
            "latency_s",
            "kind",
        ])?;
        Ok(TrialsCsv { w })
    }

    /// The rows of one trial: each reported collective (named by the series
    /// `of_task` maps it to), then the iteration.
    pub(super) fn trial(
        &mut self,
        trial: u64,
        r: &TrialResult,
        series: &[LatencyStats],
        of_task: &[usize],
    ) -> Result<(), csv::Error> {
        for (k, &(s, e)) in r.collectives.iter().enumerate() {
            let series = &series[of_task[k]];
            self.w.write_record([
                trial.to_string(),
                series.name.clone(),
                series.bytes.to_string(),
                secs(s),
                secs(e),
                secs(e - s),
                series.kind.map_or("", |k| k.word()).into(),
            ])?;
        }
        self.w.write_record([
            trial.to_string(),
            "iteration".into(),
            "0".into(),
            secs(SimTime::ZERO),
            secs(r.makespan),
            secs(r.makespan),
            "iteration".into(),
        ])
    }

    /// Flushes every row to the file.
    pub(super) fn finish(self) -> Result<(), super::RunError> {
        self.w.into_inner().map_err(|e| e.into_error())?.flush()?;
        Ok(())
    }
}

/// Seconds with full precision, in a compact form.
fn secs(t: SimTime) -> String {
    format!("{:e}", t.as_secs_f64())
}

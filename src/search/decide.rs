//! The expensive rules of a search, per candidate past the cheap ones:
//! rule 5 at the cheap bound, the scenario built, rule 6 (full memory),
//! rules 4 and 5 again at the route-aware bound, then the simulation,
//! exactly as `fabsim run` does. What is pruned and why is `search.rs`.

use super::{Candidate, Outcome, Row, Search, SearchError, Status, routes, table};
use crate::scenario::{Overrides, Scenario};

/// A candidate's verdict after the expensive rules: its status, its
/// figures if simulated, and its route-aware bound if computed.
pub(super) type Decided = (Status, Option<Outcome>, Option<f64>);

impl Search {
    /// Rule 5 (not when `exhaustive`) at the cheap bound, rule 6, then
    /// rules 4 and 5 again at the route-aware bound (see `routes.rs`), then
    /// the simulation.
    pub(super) fn expensive(
        &self,
        row: &Row,
        done: &[table::Point],
        exhaustive: bool,
    ) -> Result<Decided, SearchError> {
        let c = &row.candidate;
        let h = &self.hardware[c.hw];
        let lb = row.bound_s.unwrap_or(0.0);
        if let Some(k) = self.covered(c, lb, done, exhaustive) {
            return Ok((Status::DominatedBound(k), None, None));
        }
        let overrides = Overrides {
            set: self.overrides(c),
            trials: Some(self.trials),
            seed: None,
        };
        let scenario = match Scenario::load(&self.base, &overrides) {
            Ok(s) => s,
            // Every load error is the candidate's own: a row, not a failure.
            Err(e) => {
                let msg = match &e {
                    crate::input::LoadError::File(i) => i.message.clone(),
                    crate::input::LoadError::Arg(a) => a.to_string(),
                };
                let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
                return Ok((Status::Invalid(msg), None, None));
            }
        };
        let memory = crate::memory::estimate(&scenario.job(), scenario.cluster.gpu.memory_bytes);
        if !memory.fits {
            return Ok((Status::DoesNotFit(memory.peak_bytes), None, None));
        }
        let lb = lb.max(routes::ring_bound(&scenario, h.egress_bytes_per_s));
        if !exhaustive && self.target.step_s.is_some_and(|t| lb > t) {
            return Ok((Status::TooSlowBound, None, Some(lb)));
        }
        if let Some(k) = self.covered(c, lb, done, exhaustive) {
            return Ok((Status::DominatedBound(k), None, Some(lb)));
        }
        let options = crate::run::RunOptions::default();
        let s = crate::run::run(&scenario, &options)
            .map_err(|source| SearchError::Candidate {
                candidate: c.index,
                source,
            })?
            .summary;
        let cost = s.cost.as_ref();
        // A step is one global batch; PipeDream's iteration trains m of them.
        let batches = f64::from(scenario.minibatches_per_replica());
        Ok((
            Status::Simulated,
            Some(Outcome {
                step_s: s.iteration.mean_s / batches,
                tokens_per_s: s.tokens_per_s,
                usd_per_hour: cost.map_or(0.0, |c| c.per_hour),
                usd_per_mtok: cost.and_then(|c| c.per_million_tokens),
                bubble: s.bubble_fraction,
                exposed_s: s.exposed_communication_s,
                peak_bytes: memory.peak_bytes,
                mfu: s.mfu,
            }),
            Some(lb),
        ))
    }

    /// Rule 5: the first simulated point that covers `c` at step `lb`.
    fn covered(
        &self,
        c: &Candidate,
        lb: f64,
        done: &[table::Point],
        exhaustive: bool,
    ) -> Option<u64> {
        if exhaustive {
            return None;
        }
        let h = &self.hardware[c.hw];
        let me = table::Point {
            index: c.index,
            step_s: lb,
            capex: h.cost.capex,
            usd_per_mtok: self.usd_per_mtok(h, lb).unwrap_or(0.0),
        };
        done.iter().find(|p| p.covers(&me)).map(|p| p.index)
    }
}

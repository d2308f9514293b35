//! Noise: what makes real fabrics and GPUs slower and less predictable than
//! their specs — latency and software-overhead jitter, packet loss with
//! retransmission timeouts and exponential backoff, compute-time variation,
//! stragglers, and background cross-traffic.
//!
//! `noise:` in a scenario is a [`NoiseSpec`]; every part is off unless
//! given. [`NoiseSpec::check`] validates it into a [`NoiseModel`], and
//! [`NoiseModel::trial`] makes the engine hooks ([`TrialNoise`]) of one
//! trial, whose random stream is seeded from (scenario seed, trial index)
//! only — so results do not depend on threads or trial order.
//!
//! Loss is per transfer (a message either gets through or times out, as a
//! TCP flow stalls on a lost segment): with probability p the first attempt
//! is lost, and each retry with probability q (default p); the sender waits
//! rto, then rto·backoff, rto·backoff², … up to `max_retries` timeouts. It
//! does not model congestion-driven loss from the simulated queues.

mod dist;

pub use dist::{Dist, DistSpec};

use crate::engine::{BackgroundFlow, Perturb};
use crate::ids::GpuId;
use crate::input::{InputError, Source};
use crate::units::{ByteSize, SimTime};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The `noise:` section of a scenario, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseSpec {
    /// Extra one-way latency added to every transfer (a time distribution).
    pub latency: Option<DistSpec<SimTime>>,
    /// Extra endpoint software overhead per transfer (a time distribution).
    pub overhead: Option<DistSpec<SimTime>>,
    /// Lost transfers, retransmitted after timeouts.
    pub loss: Option<LossSpec>,
    /// Multiplier on every compute op's time (dimensionless; e.g. normal
    /// with mean 1 and std 0.05). Negative draws count as 0.
    pub compute: Option<DistSpec<f64>>,
    /// GPUs that compute slower for a whole trial.
    pub stragglers: Option<StragglerSpec>,
    /// Cross-traffic flows sharing the fabric.
    pub background: Option<BackgroundSpec>,
}

/// `noise.loss`: each transfer attempt may be lost and is then resent after
/// a retransmission timeout that grows by `backoff`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSpec {
    /// Probability that the first attempt of a transfer is lost.
    pub probability: Spanned<f64>,
    /// Probability that a retransmission is lost too (default: the same).
    /// Real losses come in bursts — the congestion that dropped a packet is
    /// often still there at the retry — which is what stretches TCP tails
    /// to seconds.
    pub retry_probability: Option<Spanned<f64>>,
    /// First retransmission timeout (Linux's minimum RTO is 200ms).
    pub rto: SimTime,
    /// Timeout multiplier after each loss.
    #[serde(default = "default_backoff")]
    pub backoff: Spanned<f64>,
    /// At most this many timeouts per transfer; the attempt after the last
    /// one always gets through.
    #[serde(default = "default_retries")]
    pub max_retries: Spanned<u32>,
}

fn default_backoff() -> Spanned<f64> {
    Spanned {
        value: 2.0,
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    }
}
fn default_retries() -> Spanned<u32> {
    Spanned {
        value: 6,
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    }
}

/// Documented bounds (README, "Limits"): retries per transfer, the
/// worst-case wait they add, multipliers (backoff, slowdown, compute
/// factor) and background arrivals per second.
pub const MAX_RETRIES: u32 = 64;
/// The largest multiplier (backoff, slowdown, compute factor).
pub const MAX_FACTOR: f64 = 1000.0;
/// The largest background arrival rate, flows per second.
pub const MAX_BACKGROUND_RATE: f64 = 1e6;

/// `noise.stragglers`: per trial, some GPUs compute slower.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StragglerSpec {
    /// Per GPU and trial, the chance of being a straggler.
    pub probability: Spanned<f64>,
    /// A straggler's compute takes this many times longer.
    pub slowdown: Spanned<f64>,
}

/// `noise.background`: Poisson cross-traffic between random GPU pairs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackgroundSpec {
    /// Poisson arrivals of cross-traffic flows, per second, over the cluster.
    pub rate: Spanned<f64>,
    /// Size of each flow (a byte distribution).
    pub size: DistSpec<ByteSize>,
}

/// A checked noise configuration.
#[derive(Debug, Clone, Default)]
pub struct NoiseModel {
    latency: Option<Dist>,
    overhead: Option<Dist>,
    loss: Option<Loss>,
    compute: Option<Dist>,
    stragglers: Option<(f64, f64)>,
    background: Option<(f64, Dist)>,
}

#[derive(Debug, Clone)]
struct Loss {
    probability: f64,
    retry_probability: f64,
    rto: SimTime,
    backoff: f64,
    max_retries: u32,
}

fn probability(src: &Source, p: &Spanned<f64>, what: &str) -> Result<f64, InputError> {
    if (0.0..=1.0).contains(&p.value) {
        Ok(p.value)
    } else {
        Err(src.error_at(
            p,
            format!("{what} must be between 0 and 1, not {}", p.value),
        ))
    }
}

fn positive(
    src: &Source,
    v: &Spanned<f64>,
    what: &str,
    (min, max): (f64, f64),
) -> Result<f64, InputError> {
    if v.value.is_finite() && (min..=max).contains(&v.value) {
        Ok(v.value)
    } else {
        Err(src.error_at(
            v,
            format!(
                "{what} must be between {min} and {max}, not {}",
                crate::input::number(v.value)
            ),
        ))
    }
}

/// Checks a loss section: probabilities, and a worst-case wait (every
/// timeout taken) of at most a day.
fn loss(src: &Source, l: &LossSpec) -> Result<Loss, InputError> {
    let backoff = positive(src, &l.backoff, "noise.loss.backoff", (1.0, MAX_FACTOR))?;
    let retries = l.max_retries.value;
    if retries > MAX_RETRIES {
        return Err(src.error_at(
            &l.max_retries,
            format!("noise.loss.max_retries must be between 0 and {MAX_RETRIES}, not {retries}"),
        ));
    }
    let worst: f64 = (0..retries)
        .map(|k| l.rto.as_secs_f64() * backoff.powi(k as i32))
        .sum();
    if worst > crate::units::MAX_TIME_SECS {
        return Err(src.error_at(
            &l.backoff,
            format!(
                "the worst-case retransmission wait, rto·(1 + backoff + … + \
                 backoff^(max_retries−1)), is {worst:.3e}s; it must be at most a day \
                 (86400s): lower rto, backoff or max_retries"
            ),
        ));
    }
    Ok(Loss {
        probability: probability(src, &l.probability, "noise.loss.probability")?,
        retry_probability: match &l.retry_probability {
            Some(q) => probability(src, q, "noise.loss.retry_probability")?,
            None => l.probability.value,
        },
        rto: l.rto,
        backoff,
        max_retries: retries,
    })
}

impl NoiseSpec {
    /// Validates every part; errors point at the offending line of `src`.
    pub fn check(&self, src: &Source) -> Result<NoiseModel, InputError> {
        let loss = self.loss.as_ref().map(|l| loss(src, l)).transpose()?;
        let stragglers = match &self.stragglers {
            None => None,
            Some(s) => Some((
                probability(src, &s.probability, "noise.stragglers.probability")?,
                positive(
                    src,
                    &s.slowdown,
                    "noise.stragglers.slowdown",
                    (1.0, MAX_FACTOR),
                )?,
            )),
        };
        let background = match &self.background {
            None => None,
            Some(b) => Some((
                positive(
                    src,
                    &b.rate,
                    "noise.background.rate",
                    (0.0, MAX_BACKGROUND_RATE),
                )?,
                b.size.check(src)?,
            )),
        };
        Ok(NoiseModel {
            latency: self.latency.as_ref().map(|d| d.check(src)).transpose()?,
            overhead: self.overhead.as_ref().map(|d| d.check(src)).transpose()?,
            loss,
            compute: self.compute.as_ref().map(|d| d.check(src)).transpose()?,
            stragglers,
            background,
        })
    }
}

impl NoiseModel {
    /// True if no part is on: every trial is then identical.
    pub fn is_quiet(&self) -> bool {
        self.latency.is_none()
            && self.overhead.is_none()
            && self.loss.is_none()
            && self.compute.is_none()
            && self.stragglers.is_none()
            && self.background.is_none()
    }

    /// The hooks of trial `trial` of a run seeded with `seed`, over `gpus` GPUs.
    pub fn trial(&self, seed: u64, trial: u64, gpus: usize) -> TrialNoise<'_> {
        let mut rng = ChaCha8Rng::seed_from_u64(trial_seed(seed, trial));
        let slowdown = match self.stragglers {
            Some((p, factor)) => (0..gpus)
                .map(|_| if rng.random::<f64>() < p { factor } else { 1.0 })
                .collect(),
            None => Vec::new(),
        };
        TrialNoise {
            model: self,
            rng,
            slowdown,
            gpus,
        }
    }
}

/// The seed of one trial: a SplitMix64 mix of (seed, trial), so nearby
/// seeds and trials give unrelated streams.
pub fn trial_seed(seed: u64, trial: u64) -> u64 {
    let mut z =
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ trial.wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The engine hooks of one trial.
pub struct TrialNoise<'a> {
    model: &'a NoiseModel,
    rng: ChaCha8Rng,
    /// Per-GPU straggler factor (empty: none).
    slowdown: Vec<f64>,
    gpus: usize,
}

impl TrialNoise<'_> {
    fn secs(&mut self, d: Option<&Dist>) -> f64 {
        d.map_or(0.0, |d| d.sample(&mut self.rng).max(0.0))
    }
}

impl Perturb for TrialNoise<'_> {
    fn compute_time(&mut self, gpu: GpuId, nominal: SimTime) -> SimTime {
        let mut factor = match &self.model.compute {
            Some(d) => d.sample(&mut self.rng).max(0.0),
            None => 1.0,
        };
        if let Some(&s) = self.slowdown.get(gpu.index()) {
            factor *= s;
        }
        if factor == 1.0 {
            nominal
        } else {
            // Nearest picosecond: 10us × 3 is 30us, not 30us + 1ps of float dust.
            SimTime((nominal.ps() as f64 * factor).round() as u64)
        }
    }

    fn transfer_delay(&mut self, _src: GpuId, _dst: GpuId, _bytes: u64) -> SimTime {
        let model = self.model;
        let mut secs = self.secs(model.latency.as_ref()) + self.secs(model.overhead.as_ref());
        if let Some(loss) = &model.loss {
            let mut rto = loss.rto.as_secs_f64();
            for attempt in 0..loss.max_retries {
                let p = if attempt == 0 {
                    loss.probability
                } else {
                    loss.retry_probability
                };
                if self.rng.random::<f64>() >= p {
                    break;
                }
                secs += rto;
                rto *= loss.backoff;
            }
        }
        SimTime::from_secs_ceil(secs)
    }

    fn transfers_are_quiet(&self) -> bool {
        self.model.latency.is_none() && self.model.overhead.is_none() && self.model.loss.is_none()
    }

    fn next_background(&mut self, now: SimTime) -> Option<BackgroundFlow> {
        let (rate, size) = self.model.background.as_ref()?;
        if *rate <= 0.0 || self.gpus < 2 {
            return None;
        }
        // Exponential inter-arrival times: a Poisson process of `rate`/s.
        let u: f64 = self.rng.random::<f64>();
        let gap = -(1.0 - u).ln() / rate;
        let src = self.rng.random_range(0..self.gpus);
        let mut dst = self.rng.random_range(0..self.gpus - 1);
        if dst >= src {
            dst += 1;
        }
        let bytes = size.sample(&mut self.rng).max(1.0).round() as u64;
        Some(BackgroundFlow {
            at: now + SimTime::from_secs_ceil(gap),
            src: GpuId::from_index(src),
            dst: GpuId::from_index(dst),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests;

//! Random distributions as users write them in YAML, and their sampling
//! (rand_distr). One flat form for every kind, so errors keep their lines:
//!
//! ```yaml
//! { dist: constant, value: 5us }
//! { dist: normal, mean: 1.0, std: 0.05 }
//! { dist: lognormal, median: 3ms, sigma: 0.4 }
//! { dist: exponential, mean: 2us }
//! { dist: pareto, scale: 64KiB, shape: 1.5 }
//! { dist: uniform, min: 1us, max: 3us }
//! ```
//!
//! Values carry the unit of what they describe (a time, a size, or a plain
//! factor); samples come out in base units: seconds, bytes, or the factor.

use crate::input::{InputError, Source};
use crate::units::{ByteSize, SimTime};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto, Uniform};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Something a distribution can be over: its value in base units.
pub trait Quantity {
    fn base(&self) -> f64;
    /// The largest parameter allowed, in base units, and how to say it.
    const MAX: (f64, &'static str);
    /// True if a centre of 0 makes no sense (a compute factor of 0 would
    /// silently remove compute).
    const POSITIVE: bool = false;
}
impl Quantity for SimTime {
    fn base(&self) -> f64 {
        self.as_secs_f64()
    }
    const MAX: (f64, &'static str) = (crate::units::MAX_TIME_SECS, "1 day (86400s)");
}
impl Quantity for ByteSize {
    fn base(&self) -> f64 {
        self.0 as f64
    }
    const MAX: (f64, &'static str) = (crate::units::MAX_BYTES as f64, "1 PiB");
}
impl Quantity for f64 {
    fn base(&self) -> f64 {
        *self
    }
    const MAX: (f64, &'static str) = (super::MAX_FACTOR, "1000");
    const POSITIVE: bool = true;
}

/// A distribution as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistSpec<Q> {
    /// The law: constant, normal, lognormal, exponential, pareto, uniform.
    pub dist: Spanned<String>,
    /// constant: the value.
    pub value: Option<Q>,
    /// normal, exponential: the mean.
    pub mean: Option<Q>,
    /// normal: the standard deviation.
    pub std: Option<Q>,
    /// lognormal: the median, e^μ.
    pub median: Option<Q>,
    /// lognormal: σ of the underlying normal.
    pub sigma: Option<f64>,
    /// pareto: the scale (the smallest value).
    pub scale: Option<Q>,
    /// pareto: the shape α.
    pub shape: Option<f64>,
    /// uniform: the lower bound.
    pub min: Option<Q>,
    /// uniform: the upper bound.
    pub max: Option<Q>,
}

/// A checked distribution, sampling in base units.
#[derive(Debug, Clone)]
pub enum Dist {
    /// Always this value.
    Constant(f64),
    /// Normal(mean, std).
    Normal(Normal<f64>),
    /// Log-normal(ln median, σ).
    LogNormal(LogNormal<f64>),
    /// Exponential with the given mean.
    Exponential(Exp<f64>),
    /// Pareto(scale, shape).
    Pareto(Pareto<f64>),
    /// Uniform on [min, max], both ends included.
    Uniform(Uniform<f64>),
}

const KINDS: &str = "constant, normal, lognormal, exponential, pareto, uniform";

impl<Q: Quantity> DistSpec<Q> {
    /// The checked distribution, in base units (seconds, bytes, or a plain
    /// factor); a missing or out-of-range parameter is an error at its line.
    pub fn check(&self, src: &Source) -> Result<Dist, InputError> {
        let kind = self.dist.value.as_str();
        let need = |v: &Option<Q>, field: &str| -> Result<f64, InputError> {
            v.as_ref().map(Q::base).ok_or_else(|| {
                src.error_at(&self.dist, format!("a {kind} distribution needs `{field}`"))
            })
        };
        let need_f = |v: Option<f64>, field: &str| -> Result<f64, InputError> {
            v.ok_or_else(|| {
                src.error_at(&self.dist, format!("a {kind} distribution needs `{field}`"))
            })
        };
        let bad =
            |what: &str| src.error_at(&self.dist, format!("invalid {kind} distribution: {what}"));
        // Fields that belong to other kinds are mistakes worth reporting.
        let allowed: &[&str] = match kind {
            "constant" => &["value"],
            "normal" => &["mean", "std"],
            "lognormal" => &["median", "sigma"],
            "exponential" => &["mean"],
            "pareto" => &["scale", "shape"],
            "uniform" => &["min", "max"],
            _ => {
                return Err(src.error_at(
                    &self.dist,
                    format!("unknown distribution '{kind}': use one of {KINDS}"),
                ));
            }
        };
        let present = [
            ("value", self.value.is_some()),
            ("mean", self.mean.is_some()),
            ("std", self.std.is_some()),
            ("median", self.median.is_some()),
            ("sigma", self.sigma.is_some()),
            ("scale", self.scale.is_some()),
            ("shape", self.shape.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
        ];
        self.check_ranges(src)?;
        if let Some((field, _)) = present.iter().find(|(f, p)| *p && !allowed.contains(f)) {
            return Err(src.error_at(
                &self.dist,
                format!(
                    "`{field}` does not apply to a {kind} distribution (it takes {})",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(match kind {
            "constant" => Dist::Constant(need(&self.value, "value")?),
            "normal" => Dist::Normal(
                Normal::new(need(&self.mean, "mean")?, need(&self.std, "std")?)
                    .map_err(|_| bad("std must be ≥ 0"))?,
            ),
            "lognormal" => {
                let median = need(&self.median, "median")?;
                if median <= 0.0 {
                    return Err(bad("median must be positive"));
                }
                Dist::LogNormal(
                    LogNormal::new(median.ln(), need_f(self.sigma, "sigma")?)
                        .map_err(|_| bad("sigma must be ≥ 0"))?,
                )
            }
            "exponential" => {
                let mean = need(&self.mean, "mean")?;
                if mean <= 0.0 {
                    return Err(bad("mean must be positive"));
                }
                Dist::Exponential(Exp::new(1.0 / mean).map_err(|_| bad("mean must be positive"))?)
            }
            "pareto" => Dist::Pareto(
                Pareto::new(need(&self.scale, "scale")?, need_f(self.shape, "shape")?)
                    .map_err(|_| bad("scale and shape must be positive"))?,
            ),
            _ => {
                let (lo, hi) = (need(&self.min, "min")?, need(&self.max, "max")?);
                if lo > hi {
                    return Err(bad("min must not exceed max"));
                }
                Dist::Uniform(
                    Uniform::new_inclusive(lo, hi).map_err(|_| bad("min must not exceed max"))?,
                )
            }
        })
    }
}

impl<Q: Quantity> DistSpec<Q> {
    /// Every parameter is a finite number from 0 to its bound; the centre
    /// of a factor (value, mean, median, scale, max) is above 0.
    fn check_ranges(&self, src: &Source) -> Result<(), InputError> {
        let (max, max_text) = Q::MAX;
        let quantities = [
            ("value", &self.value, true),
            ("mean", &self.mean, true),
            ("std", &self.std, false),
            ("median", &self.median, true),
            ("scale", &self.scale, true),
            ("min", &self.min, false),
            ("max", &self.max, true),
        ];
        for (field, v, centre) in quantities {
            let Some(x) = v.as_ref().map(Q::base) else {
                continue;
            };
            let low_ok = if centre && Q::POSITIVE {
                x > 0.0
            } else {
                x >= 0.0
            };
            if !(x.is_finite() && low_ok && x <= max) {
                let low = if centre && Q::POSITIVE {
                    "above 0"
                } else {
                    "from 0"
                };
                return Err(src.error_at(
                    &self.dist,
                    format!(
                        "`{field}` must be a number {low} up to {max_text}, not {}",
                        crate::input::number(x)
                    ),
                ));
            }
        }
        for (field, v) in [("sigma", self.sigma), ("shape", self.shape)] {
            if let Some(x) = v
                && !(x.is_finite() && (0.0..=100.0).contains(&x))
            {
                return Err(src.error_at(
                    &self.dist,
                    format!("`{field}` must be a number from 0 to 100, not {x}"),
                ));
            }
        }
        Ok(())
    }
}

impl Dist {
    /// One draw, in base units.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Normal(d) => d.sample(rng),
            Dist::LogNormal(d) => d.sample(rng),
            Dist::Exponential(d) => d.sample(rng),
            Dist::Pareto(d) => d.sample(rng),
            Dist::Uniform(d) => d.sample(rng),
        }
    }
}

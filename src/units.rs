//! Units: simulated time in integer picoseconds, byte counts and bandwidths,
//! and the parsing of the strings users write in YAML (`100Gbps`, `50GB/s`,
//! `1us`, `25MiB`).
//!
//! Conventions (DESIGN §3, contract): GB = 1e9 bytes, GiB = 2^30 bytes;
//! `b`/`bps` are bits, `B`/`Bps`/`B/s` bytes. A time or a bandwidth without a
//! unit is an error; a byte count may be a bare integer. This module does not
//! know about files or YAML paths: callers attach those to a [`UnitError`].
//! Round plot ticks and short time labels live in `ticks`.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub};

mod ticks;
pub use ticks::{round_ticks, short_secs, trim_zeros};

/// Picoseconds per second.
pub const PS_PER_SEC: f64 = 1e12;

/// The largest time a user may write: one day. Simulated time ends at
/// 2^64 ps (about 213 days); a single input past a day is a typo, and the
/// bound leaves room for the sums and products a run makes of inputs.
pub const MAX_TIME_SECS: f64 = 86_400.0;
/// The largest size a user may write: 1 PiB (2^50 bytes), beyond any
/// buffer, tensor or memory; sizes stay exact in an f64.
pub const MAX_BYTES: u64 = 1 << 50;
/// The smallest bandwidth a user may write: 1 kbps, in bytes per second.
pub const MIN_BANDWIDTH: f64 = 1e3 / 8.0;
/// The largest bandwidth a user may write: 1 Pbps, in bytes per second.
pub const MAX_BANDWIDTH: f64 = 1e15 / 8.0;

/// A point in simulated time, or a duration: integer picoseconds.
///
/// u64 picoseconds reach 213 days, far beyond any training step.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SimTime(pub u64);

impl SimTime {
    /// Time zero; a zero duration.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of simulated time (2^64 − 1 ps, about 213 days).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// `ps` picoseconds.
    pub const fn from_ps(ps: u64) -> Self {
        SimTime(ps)
    }
    /// `ns` nanoseconds.
    pub const fn from_ns(ns: u64) -> Self {
        SimTime(ns * 1_000)
    }
    /// `us` microseconds.
    pub const fn from_us(us: u64) -> Self {
        SimTime(us * 1_000_000)
    }
    /// Seconds to picoseconds, rounding up (a duration derived from a rate
    /// never comes out shorter than the rate allows). Negative or NaN is 0.
    pub fn from_secs_ceil(secs: f64) -> Self {
        let ps = (secs * PS_PER_SEC).ceil();
        if ps.is_nan() || ps <= 0.0 {
            SimTime(0)
        } else if ps >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(ps as u64)
        }
    }
    /// Seconds to picoseconds, rounding to nearest (for user-written values).
    pub fn from_secs_round(secs: f64) -> Self {
        SimTime::from_secs_ceil((secs * PS_PER_SEC).round() / PS_PER_SEC)
    }
    /// Whole picoseconds.
    pub const fn ps(self) -> u64 {
        self.0
    }
    /// Seconds, as a float (for reports; never for timing).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / PS_PER_SEC
    }
    /// `self − other`, or zero if `other` is later.
    pub fn saturating_sub(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(other.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}
impl AddAssign for SimTime {
    fn add_assign(&mut self, rhs: SimTime) {
        *self = *self + rhs;
    }
}
impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        SimTime(self.0 - rhs.0)
    }
}
impl Mul<u64> for SimTime {
    type Output = SimTime;
    fn mul(self, rhs: u64) -> SimTime {
        SimTime(self.0.saturating_mul(rhs))
    }
}

impl fmt::Display for SimTime {
    /// Human form with a unit chosen by magnitude: `1.5 us`, `20.000 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_secs(self.as_secs_f64()))
    }
}

/// Formats seconds with a unit chosen by magnitude, 4 significant digits.
pub fn format_secs(s: f64) -> String {
    let (v, unit) = if s == 0.0 {
        (0.0, "s")
    } else if s.abs() < 1e-6 {
        (s * 1e9, "ns")
    } else if s.abs() < 1e-3 {
        (s * 1e6, "us")
    } else if s.abs() < 1.0 {
        (s * 1e3, "ms")
    } else {
        (s, "s")
    };
    format!("{v:.3} {unit}")
}

/// A bandwidth in bytes per second: finite and strictly positive.
#[derive(Copy, Clone, Debug, PartialEq, PartialOrd, Serialize)]
pub struct Bandwidth(f64);

impl Bandwidth {
    /// `None` unless `bytes_per_sec` is finite and > 0.
    pub fn new(bytes_per_sec: f64) -> Option<Self> {
        (bytes_per_sec.is_finite() && bytes_per_sec > 0.0).then_some(Bandwidth(bytes_per_sec))
    }
    /// `gbit_per_sec` gigabits per second (network convention, 10^9).
    pub fn from_gbps(gbit_per_sec: f64) -> Self {
        Bandwidth(gbit_per_sec * 1e9 / 8.0)
    }
    /// Bytes per second.
    pub fn bytes_per_sec(self) -> f64 {
        self.0
    }
    /// Time to push `bytes` at this rate, rounded up to whole picoseconds.
    pub fn transfer_time(self, bytes: u64) -> SimTime {
        SimTime::from_secs_ceil(bytes as f64 / self.0)
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gbps = self.0 * 8.0 / 1e9;
        if gbps >= 1.0 {
            write!(f, "{gbps:.1} Gbps")
        } else {
            write!(f, "{:.1} Mbps", gbps * 1e3)
        }
    }
}

/// Why a unit string was rejected; the message says what to write instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// A bare number where a time is expected.
    #[error("'{0}' has no unit: write a time like 1us, 500ns, 2ms or 1.5s")]
    TimeWithoutUnit(String),
    /// A bare number where a bandwidth is expected.
    #[error("'{0}' has no unit: write a bandwidth like 100Gbps, 100Gb/s or 50GB/s")]
    BandwidthWithoutUnit(String),
    /// A unit fabsim does not know.
    #[error("'{value}' has an unknown {kind} unit '{unit}': use one of {expected}")]
    UnknownUnit {
        /// The text as written.
        value: String,
        /// What was expected: time, size or bandwidth.
        kind: &'static str,
        /// The unit as written.
        unit: String,
        /// The units accepted.
        expected: &'static str,
    },
    /// No number in front of the unit.
    #[error("'{0}' is not a number followed by a unit")]
    NotANumber(String),
    /// A negative quantity (the text, and what it is).
    #[error("'{0}' is negative: {1} must be zero or more")]
    Negative(String, &'static str),
    /// A zero bandwidth.
    #[error("'{0}' is zero: a bandwidth must be positive")]
    ZeroBandwidth(String),
    /// A size with a fractional byte.
    #[error("'{0}' is not a whole number of bytes")]
    FractionalBytes(String),
    /// A quantity past the limits fabsim models.
    #[error("'{value}' is out of range: {kind} must be between {range}")]
    OutOfRange {
        /// The text as written.
        value: String,
        /// What it is: a time, a size or a bandwidth.
        kind: &'static str,
        /// The allowed range, in words.
        range: &'static str,
    },
}

const TIME_RANGE: &str = "0 and 1 day (86400s)";
const BYTES_RANGE: &str = "0 and 1 PiB (2^50 bytes)";
const BANDWIDTH_RANGE: &str = "1kbps and 1Pbps";

fn out_of_range(s: &str, kind: &'static str, range: &'static str) -> UnitError {
    UnitError::OutOfRange {
        value: s.to_string(),
        kind,
        range,
    }
}

const TIME_UNITS: &str = "ps, ns, us, ms, s";
const BANDWIDTH_UNITS: &str = "bps, Kbps, Mbps, Gbps, Tbps (bits; or Gb/s), B/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s (bytes; or GBps)";
const BYTE_UNITS: &str = "B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB";

/// Splits `"12.5 Gbps"` into `(12.5, "Gbps")`.
fn split_number(s: &str) -> Result<(f64, &str), UnitError> {
    let t = s.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || c == '_'
                || ((c == 'e' || c == 'E')
                    && i > 0
                    && t[i + 1..]
                        .starts_with(|d: char| d.is_ascii_digit() || d == '-' || d == '+'))
                || ((c == '-' || c == '+') && (i == 0 || t[..i].ends_with(['e', 'E']))))
        })
        .map_or(t.len(), |(i, _)| i);
    let number: String = t[..end].chars().filter(|&c| c != '_').collect();
    let value: f64 = number
        .parse()
        .map_err(|_| UnitError::NotANumber(s.to_string()))?;
    if !value.is_finite() {
        return Err(UnitError::NotANumber(s.to_string()));
    }
    Ok((value, t[end..].trim()))
}

/// Parses a duration: `1us`, `500ns`, `2ms`, `1.5s`, `100ps`.
pub fn parse_duration(s: &str) -> Result<SimTime, UnitError> {
    let (v, unit) = split_number(s)?;
    let scale = match unit {
        "" => return Err(UnitError::TimeWithoutUnit(s.to_string())),
        "ps" => 1e-12,
        "ns" => 1e-9,
        "us" | "µs" | "μs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        _ => {
            return Err(UnitError::UnknownUnit {
                value: s.to_string(),
                kind: "time",
                unit: unit.to_string(),
                expected: TIME_UNITS,
            });
        }
    };
    if v < 0.0 {
        return Err(UnitError::Negative(s.to_string(), "a time"));
    }
    if v * scale > MAX_TIME_SECS {
        return Err(out_of_range(s, "a time", TIME_RANGE));
    }
    Ok(SimTime::from_secs_round(v * scale))
}

/// Parses a bandwidth: `100Gbps`, `100Gb/s` (bits), `50GB/s`, `50GBps` (bytes).
pub fn parse_bandwidth(s: &str) -> Result<Bandwidth, UnitError> {
    let (v, unit) = split_number(s)?;
    if unit.is_empty() {
        return Err(UnitError::BandwidthWithoutUnit(s.to_string()));
    }
    let (prefix, per_sec_bits) = if let Some(p) = unit.strip_suffix("bps") {
        (p, true)
    } else if let Some(p) = unit.strip_suffix("b/s") {
        (p, true)
    } else if let Some(p) = unit.strip_suffix("Bps") {
        (p, false)
    } else if let Some(p) = unit.strip_suffix("B/s") {
        (p, false)
    } else {
        return Err(UnitError::UnknownUnit {
            value: s.to_string(),
            kind: "bandwidth",
            unit: unit.to_string(),
            expected: BANDWIDTH_UNITS,
        });
    };
    let Some(multiplier) = prefix_multiplier(prefix) else {
        return Err(UnitError::UnknownUnit {
            value: s.to_string(),
            kind: "bandwidth",
            unit: unit.to_string(),
            expected: BANDWIDTH_UNITS,
        });
    };
    if v < 0.0 {
        return Err(UnitError::Negative(s.to_string(), "a bandwidth"));
    }
    let bytes_per_sec = v * multiplier / if per_sec_bits { 8.0 } else { 1.0 };
    if bytes_per_sec == 0.0 {
        return Err(UnitError::ZeroBandwidth(s.to_string()));
    }
    if !(MIN_BANDWIDTH..=MAX_BANDWIDTH).contains(&bytes_per_sec) {
        return Err(out_of_range(s, "a bandwidth", BANDWIDTH_RANGE));
    }
    Bandwidth::new(bytes_per_sec).ok_or_else(|| UnitError::ZeroBandwidth(s.to_string()))
}

/// SI prefixes are decimal (K = 1e3, G = 1e9), binary ones (Ki, Gi) powers of 2.
fn prefix_multiplier(prefix: &str) -> Option<f64> {
    Some(match prefix {
        "" => 1.0,
        "K" | "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        _ => return None,
    })
}

/// Parses a byte count: `803840`, `64KiB`, `25MiB`, `1.5GB`.
pub fn parse_bytes(s: &str) -> Result<u64, UnitError> {
    let (v, unit) = split_number(s)?;
    let multiplier = match unit {
        "" | "B" => Some(1.0),
        _ => unit.strip_suffix('B').and_then(prefix_multiplier),
    };
    let Some(multiplier) = multiplier else {
        return Err(UnitError::UnknownUnit {
            value: s.to_string(),
            kind: "size",
            unit: unit.to_string(),
            expected: BYTE_UNITS,
        });
    };
    if v < 0.0 {
        return Err(UnitError::Negative(s.to_string(), "a size"));
    }
    let bytes = v * multiplier;
    if bytes > MAX_BYTES as f64 {
        return Err(out_of_range(s, "a size", BYTES_RANGE));
    }
    if bytes.fract() != 0.0 {
        return Err(UnitError::FractionalBytes(s.to_string()));
    }
    Ok(bytes as u64)
}

/// Formats a byte count the way nccl-tests users read it: `4096`, `1 MiB`.
pub fn format_bytes(b: u64) -> String {
    const K: u64 = 1024;
    match b {
        _ if b >= K * K * K && b.is_multiple_of(K * K * K) => format!("{} GiB", b / (K * K * K)),
        _ if b >= K * K && b.is_multiple_of(K * K) => format!("{} MiB", b / (K * K)),
        _ if b >= K && b.is_multiple_of(K) => format!("{} KiB", b / K),
        _ => format!("{b} B"),
    }
}

/// A string-or-number visitor shared by the unit deserializers below.
struct UnitVisitor<T> {
    parse: fn(&str) -> Result<T, UnitError>,
    expecting: &'static str,
}

impl<T> Visitor<'_> for UnitVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }
    // Bare numbers go through the same parser, which accepts them for sizes
    // and reports "has no unit" for times and bandwidths.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for SimTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitVisitor {
            parse: parse_duration,
            expecting: "a time with a unit, like 1us",
        })
    }
}

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitVisitor {
            parse: parse_bandwidth,
            expecting: "a bandwidth with a unit, like 100Gbps or 50GB/s",
        })
    }
}

/// A byte count in YAML: a bare integer or a string with a unit.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitVisitor {
            parse: |s| parse_bytes(s).map(ByteSize),
            expecting: "a size in bytes, like 803840 or 25MiB",
        })
    }
}

#[cfg(test)]
mod tests;

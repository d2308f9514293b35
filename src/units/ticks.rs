//! Round axis ticks (1-2-5 steps) and short time labels, shared by every
//! plot fabsim draws (the HTML report, `timeline.svg`, `cdf.svg`). It
//! knows nothing about drawing.

/// Round values from `lo` to `hi` in 1-2-5 steps, about `count` of them;
/// whole numbers only when `whole` (a count or an index).
pub fn round_ticks(lo: f64, hi: f64, count: f64, whole: bool) -> Vec<f64> {
    let raw = (hi - lo) / count.max(1.0);
    if !(raw.is_finite() && raw > 0.0) {
        return vec![lo];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let step = if whole { step.max(1.0) } else { step };
    let first = (lo / step).ceil() as i64;
    (first..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .take(40)
        .collect()
}

/// Seconds in the unit that reads best, without trailing zeros:
/// `17.1 ms`, `2 s`.
pub fn short_secs(v: f64) -> String {
    let s = super::format_secs(v);
    let (n, unit) = s.split_once(' ').unwrap_or((&s, ""));
    format!("{} {unit}", trim_zeros(n))
}

/// `1.250` → `1.25`, `2.000` → `2`.
pub fn trim_zeros(n: &str) -> String {
    if n.contains('.') {
        n.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_whole_when_asked_and_inside() {
        assert_eq!(
            round_ticks(0.0, 8.78, 5.0, false),
            vec![0.0, 2.0, 4.0, 6.0, 8.0]
        );
        assert_eq!(round_ticks(0.5, 1.5, 5.0, true), vec![1.0]);
        assert_eq!(round_ticks(-0.5, 7.5, 8.0, true).len(), 8);
        assert_eq!(round_ticks(1.0, 1.0, 5.0, false), vec![1.0]);
    }

    #[test]
    fn short_secs_drop_trailing_zeros() {
        assert_eq!(short_secs(0.0171), "17.1 ms");
        assert_eq!(short_secs(2.0), "2 s");
        assert_eq!(trim_zeros("120"), "120");
    }
}

//! Axes: the data's range, round tick values and their labels.

/// The finite values' range, widened when empty or a single value.
pub(super) fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    }
}

/// Round ticks (1, 2, 2.5 or 5 × 10ᵏ apart) covering `[lo, hi]`, about `target` of them.
pub(super) fn ticks(lo: f64, hi: f64, target: usize, integer: bool) -> Vec<f64> {
    let rough = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let step = if integer { step.max(1.0).round() } else { step };
    let start = (lo / step + 1e-9).floor() as i64;
    let end = (hi / step - 1e-9).ceil() as i64;
    (start..=end).map(|i| i as f64 * step).collect()
}

/// Decimals needed to tell the ticks apart.
pub(super) fn decimals(ticks: &[f64]) -> usize {
    (0..4)
        .find(|&d| ticks.iter().all(|t| (t * 10f64.powi(d as i32)).fract().abs() < 1e-6))
        .unwrap_or(4)
}

/// A tick's label with a true minus sign, and no sign on zero.
pub(super) fn tick_label(t: f64, decimals: usize) -> String {
    let s = format!("{t:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => format!("−{rest}"),
        Some(rest) => rest.to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        let t: Vec<String> = ticks(0.0, 1.0, 5, false).iter().map(|t| format!("{t:.1}")).collect();
        assert_eq!(t, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(ticks(1.0, 25.0, 8, true), vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert_eq!(decimals(&[0.0, 0.25, 0.5]), 2);
        assert_eq!(tick_label(-0.0, 1), "0.0");
        assert_eq!(tick_label(-0.5, 1), "−0.5");
    }
}

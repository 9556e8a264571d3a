//! Power of the t-tests and the number of seeds a difference needs (statsmodels'
//! `TTestPower` / `TTestIndPower`), from the noncentral t distribution.
use super::student_t::nct_cdf;
use super::*;

/// Power of a two-sided t-test at level `alpha` for standardized effect size `effect_size`
/// (|Δ| / σ), with `n` pairs (`paired`) or `n` seeds in each of two groups, computed as
/// statsmodels does: `TTestPower().power(effect_size, n, alpha)` (df = n − 1) or
/// `TTestIndPower().power(effect_size, n, alpha, ratio=1)` (df = 2n − 2, noncentrality
/// d·√(n/2)). Both tails are added: `1 − F(t_{1−α/2}) + F(t_{α/2})` with F the noncentral t CDF.
pub(crate) fn t_test_power(effect_size: f64, n: f64, alpha: f64, paired: bool) -> f64 {
    let (nobs, df) =
        if paired { (n, n - 1.0) } else { (1.0 / (1.0 / n + 1.0 / n), n - 1.0 + n - 1.0) };
    let nc = effect_size * nobs.sqrt();
    let half = alpha / 2.0;
    let crit_upp = -t_quantile(half, df);
    let crit_low = t_quantile(half, df);
    if crit_upp.is_nan() || crit_low.is_nan() {
        return f64::NAN;
    }
    (1.0 - nct_cdf(crit_upp, df, nc)) + nct_cdf(crit_low, df, nc)
}

/// The number of seeds a two-sided t-test at `alpha` needs to detect a true difference `delta`
/// with probability `power`, when seeds vary with standard deviation `pooled_std`: the smallest
/// n ≥ 2 (pairs when `paired`, else seeds per variant) with
/// [`t_test_power`]`(|delta| / pooled_std, n, alpha, paired) ≥ power`, i.e. the smallest
/// integer n for which statsmodels' `TTestPower().power` / `TTestIndPower().power(ratio=1)`
/// reaches `power`.
///
/// `None` when `delta` is 0 or not finite, `pooled_std` is not a positive finite number,
/// `alpha` or `power` is outside (0, 1), or more than [`MAX_SEEDS`] would be needed.
pub(crate) fn seeds_needed(
    delta: f64,
    pooled_std: f64,
    alpha: f64,
    power: f64,
    paired: bool,
) -> Option<u64> {
    let valid = delta.is_finite()
        && delta != 0.0
        && pooled_std.is_finite()
        && pooled_std > 0.0
        && alpha > 0.0
        && alpha < 1.0
        && power > 0.0
        && power < 1.0;
    if !valid {
        return None;
    }
    let d = delta.abs() / pooled_std;
    if !d.is_finite() {
        return None;
    }
    let reaches = |n: u64| t_test_power(d, n as f64, alpha, paired) >= power;
    // Power grows with n: double until it is reached, then bisect.
    let (mut fails, mut hi) = (1, 2);
    while !reaches(hi) {
        if hi >= MAX_SEEDS {
            return None;
        }
        fails = hi;
        hi = (hi * 2).min(MAX_SEEDS);
    }
    while hi - fails > 1 {
        let mid = fails + (hi - fails) / 2;
        if reaches(mid) {
            hi = mid;
        } else {
            fails = mid;
        }
    }
    Some(hi)
}

/// The seeds a Δ interval of `width` at `n` seeds (pairs) needs to be at most `target` wide,
/// the spread the interval reflects assumed to stay as observed: a t-interval at confidence
/// `level` is `2·t(n − 1)·s/√n` wide, so at n′ seeds it is `width·√(n/n′)·t(n′ − 1)/t(n − 1)`.
/// The smallest n′ > n up to `max` whose projected width is at most `target`; `None` when even
/// `max` seeds are projected wider (or `n` < 2: no spread to project from).
pub(crate) fn seeds_for_width(
    width: f64,
    n: u64,
    target: f64,
    level: f64,
    max: u64,
) -> Option<u64> {
    if n < 2 || !(width.is_finite() && target > 0.0 && level > 0.0 && level < 1.0) {
        return None;
    }
    let t = |seeds: u64| t_quantile((1.0 + level) / 2.0, seeds as f64 - 1.0);
    let projected = |seeds: u64| width * (n as f64 / seeds as f64).sqrt() * t(seeds) / t(n);
    (n + 1..=max).find(|&seeds| projected(seeds) <= target)
}

#[cfg(test)]
mod width_tests {
    use super::*;

    #[test]
    fn the_projected_width_shrinks_as_t_over_the_root_of_the_seeds() {
        // At 3 seeds a width of 1: at 4 seeds 1·√(3/4)·t(3)/t(2) = 0.64055 (t.ppf(0.975, 3) =
        // 3.18245, t.ppf(0.975, 2) = 4.30265).
        let at_4 = (3.0f64 / 4.0).sqrt() * 3.182446305284263 / 4.302652729911275;
        assert!((at_4 - 0.640554).abs() < 1e-5, "{at_4}");
        assert_eq!(seeds_for_width(1.0, 3, 0.65, 0.95, 100), Some(4));
        assert_eq!(seeds_for_width(1.0, 3, 0.64, 0.95, 100), Some(5));
        assert_eq!(seeds_for_width(1.0, 3, 0.01, 0.95, 20), None);
        assert_eq!(seeds_for_width(1.0, 1, 0.5, 0.95, 20), None);
        assert_eq!(seeds_for_width(1.0, 3, 2.0, 0.95, 20), Some(4));
    }
}

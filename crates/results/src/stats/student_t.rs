//! Student's t distribution: its CDF and quantile, as `scipy.stats.t` gives them, from the
//! regularized incomplete beta (see `special`).
use super::special::*;

/// Student's t cumulative distribution function with `df` degrees of freedom (any df > 0):
/// `scipy.stats.t.cdf(t, df)` (`scipy.special.stdtr(df, t)`).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t == 0.0 {
        return 0.5;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    if df.is_infinite() {
        return normal_cdf(t);
    }
    // P(T > |t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t²).
    let tt = t * t;
    let tail = if tt.is_finite() {
        let x = df / (df + tt);
        let y = tt / (df + tt);
        0.5 * ibeta_parts(0.5 * df, 0.5, x, y, -(tt / df).ln_1p(), -(df / tt).ln_1p())
    } else {
        // |t| > 1e154: x = df / t² may underflow, but its logarithm does not.
        let ln_x = df.ln() - 2.0 * t.abs().ln();
        let x = ln_x.exp();
        0.5 * ibeta_parts(0.5 * df, 0.5, x, 1.0 - x, ln_x, (-x).ln_1p())
    };
    if t < 0.0 { tail } else { 1.0 - tail }
}

/// Student's t quantile (inverse CDF): `scipy.stats.t.ppf(p, df)`
/// (`scipy.special.stdtrit(df, p)`), found by safeguarded Newton iteration on [`t_cdf`]
/// inside a bisection bracket. ±∞ at p = 0 and 1; NaN outside [0, 1].
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || df.is_nan() || !(0.0..=1.0).contains(&p) || df <= 0.0 {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    if p > 0.5 {
        return -lower_t_quantile(1.0 - p, df);
    }
    lower_t_quantile(p, df)
}

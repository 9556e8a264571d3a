//! Student's t distribution, central (CDF and quantile, as `scipy.stats.t` gives them, from
//! the regularized incomplete beta of `special`) and noncentral (the CDF `power` needs, a
//! Poisson-mixture series summed outwards from its mode, as `scipy.special.nctdtr`).
use std::f64::consts::PI;

use super::special::*;

/// Student's t cumulative distribution function with `df` degrees of freedom (any df > 0):
/// `scipy.stats.t.cdf(t, df)` (`scipy.special.stdtr(df, t)`).
pub(crate) fn t_cdf(t: f64, df: f64) -> f64 {
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
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
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

/// Student's t density.
pub(super) fn t_pdf(t: f64, df: f64) -> f64 {
    let ln = ln_gamma(0.5 * (df + 1.0))
        - ln_gamma(0.5 * df)
        - 0.5 * (df * PI).ln()
        - 0.5 * (df + 1.0) * (t * t / df).ln_1p();
    ln.exp()
}

/// The quantile for 0 < q < ½ (a negative t).
pub(super) fn lower_t_quantile(q: f64, df: f64) -> f64 {
    // Bracket: cdf(lo) ≤ q < cdf(hi).
    let (mut lo, mut hi) = (-1.0, 0.0);
    while t_cdf(lo, df) > q {
        hi = lo;
        lo *= 2.0;
        if lo.is_infinite() {
            return f64::NEG_INFINITY;
        }
    }
    let mut t = 0.5 * (lo + hi);
    let mut last_step = hi - lo;
    for _ in 0..400 {
        let f = t_cdf(t, df) - q;
        if f == 0.0 {
            return t;
        }
        if f > 0.0 {
            hi = t;
        } else {
            lo = t;
        }
        let newton = t - f / t_pdf(t, df);
        let next = if newton > lo && newton < hi && (newton - t).abs() < 0.5 * last_step.abs() {
            newton
        } else {
            0.5 * (lo + hi)
        };
        last_step = next - t;
        if next == t || (next - t).abs() <= 2.0 * f64::EPSILON * t.abs() || next == lo {
            return next;
        }
        t = next;
    }
    t
}

/// e^{−λ} λ^x / Γ(x + 1) for x ≥ 0, λ > 0, without overflow or cancellation (Loader 2000).
pub(super) fn poisson_weight(x: f64, lambda: f64) -> f64 {
    if x == 0.0 {
        return (-lambda).exp();
    }
    (-stirling_error(x) - deviance_term(x, lambda)).exp() / (2.0 * PI * x).sqrt()
}

/// ln Γ(x + 1) − ((x + ½) ln x − x + ln √(2π)).
pub(super) fn stirling_error(x: f64) -> f64 {
    if x >= 10.0 {
        stirling_correction(x)
    } else {
        ln_gamma(x + 1.0) - (x + 0.5) * x.ln() + x - LN_SQRT_2PI
    }
}

/// x ln(x / m) + m − x, accurately when x ≈ m (Loader's `bd0`).
pub(super) fn deviance_term(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let next = s + ej / f64::from(2 * j + 1);
            if next == s {
                break;
            }
            s = next;
        }
        s
    } else {
        x * (x / m).ln() + m - x
    }
}

/// Noncentral t CDF P(T ≤ t) with `df` degrees of freedom and noncentrality `nc`
/// (`scipy.special.nctdtr(df, nc, t)`).
pub(super) fn nct_cdf(t: f64, df: f64, nc: f64) -> f64 {
    if t.is_nan() || df.is_nan() || nc.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if nc == 0.0 {
        return t_cdf(t, df);
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let value = if t >= 0.0 { nct_cdf_upper(t, df, nc) } else { 1.0 - nct_cdf_upper(-t, df, -nc) };
    value.clamp(0.0, 1.0)
}

/// F(t; ν, δ) for t ≥ 0 by the series of Lenth (1989) / Benton & Krishnamoorthy (2003):
/// F = Φ(−δ) + ½ Σᵢ [Pᵢ I_x(i + ½, ν/2) + Rᵢ I_x(i + 1, ν/2)], x = t² / (t² + ν),
/// Pᵢ = e^{−λ} λ^i / i!, Rᵢ = sign(δ) e^{−λ} λ^{i+½} / Γ(i + 3/2), λ = δ²/2,
/// summed forwards and backwards from the mode of the Poisson weights.
pub(super) fn nct_cdf_upper(t: f64, df: f64, nc: f64) -> f64 {
    let base = normal_cdf(-nc);
    if nc < 0.0 && base == 1.0 {
        // 1 − F ≤ Φ(δ) < 2^-53: F rounds to 1.
        return 1.0;
    }
    if t == 0.0 {
        return base;
    }
    if nc > 0.0 && t > 0.0 {
        // F ≤ Φ(−δ/2) + P(χ²_ν/ν ≥ s²) with s = δ / (2t) (Chernoff bound on the χ² tail).
        let s2 = (nc / (2.0 * t)).powi(2);
        let chi_tail = if s2.is_infinite() {
            0.0
        } else if s2 > 1.0 {
            (0.5 * df * (1.0 + s2.ln() - s2)).exp()
        } else {
            1.0
        };
        if normal_cdf(-0.5 * nc) + chi_tail < 1e-300 {
            return 0.0;
        }
    }
    let tt = t * t;
    if !tt.is_finite() {
        return 1.0;
    }
    let x = tt / (tt + df);
    let y = df / (tt + df);
    let (ln_x, ln_y) = (-(df / tt).ln_1p(), -(tt / df).ln_1p());
    let b = 0.5 * df;
    let lambda = 0.5 * nc * nc;
    let term = |i: f64, p: f64, r: f64| {
        let odd = ibeta_parts(i + 0.5, b, x, y, ln_x, ln_y);
        let even = ibeta_parts(i + 1.0, b, x, y, ln_x, ln_y);
        (p * odd + r * even, p * odd + r.abs() * even)
    };
    const TOL: f64 = 1e-17;
    const MAX_TERMS: u32 = 1_000_000;

    let k = lambda.floor();
    let p_k = poisson_weight(k, lambda);
    let r_k = nc.signum() * poisson_weight(k + 0.5, lambda);

    // Forwards from the mode: Iₓ decreases in i and, past λ, the weights fall faster than
    // the ratio λ / (i + 1), which bounds the remainder geometrically.
    let (mut forward, mut p, mut r, mut i) = (0.0, p_k, r_k, k);
    for _ in 0..MAX_TERMS {
        let (value, size) = term(i, p, r);
        forward += value;
        if i + 1.0 > lambda {
            let ratio = lambda / (i + 1.0);
            let rest = size * ratio / (1.0 - ratio);
            if rest <= TOL * (base + 0.5 * forward).abs() || rest < 1e-300 {
                break;
            }
        }
        p *= lambda / (i + 1.0);
        r *= lambda / (i + 1.5);
        i += 1.0;
    }

    // Backwards from the mode: Iₓ ≤ 1 and the weights fall by at least (i + ½) / λ a step.
    let (mut backward, mut p, mut r, mut i) = (0.0, p_k, r_k, k);
    let mut budget = MAX_TERMS;
    while i > 0.0 && budget > 0 {
        p *= i / lambda;
        r *= (i + 0.5) / lambda;
        i -= 1.0;
        budget -= 1;
        backward += term(i, p, r).0;
        let ratio = (i + 0.5) / lambda;
        if ratio < 1.0 {
            let rest = (p + r.abs()) * ratio / (1.0 - ratio);
            if rest <= TOL * (base + 0.5 * (forward + backward)).abs() || rest < 1e-300 {
                break;
            }
        }
    }
    base + 0.5 * (forward + backward)
}

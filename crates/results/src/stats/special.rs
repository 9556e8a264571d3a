//! The special functions behind the tests: log-gamma (Lanczos, with a Stirling series for large
//! arguments), the regularized incomplete beta (Lentz continued fraction), the normal CDF
//! (incomplete gamma), Student's t density and quantile, and the noncentral t CDF
//! (Poisson-mixture series summed outwards from its mode). Each matches `scipy.special`.
use std::f64::consts::PI;

use super::student_t::t_cdf;

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
/// ln Γ(1/2) = ln √π.
const LN_SQRT_PI: f64 = 0.572_364_942_924_700_1;

pub(super) const LANCZOS_G: f64 = 7.0;
/// Lanczos coefficients for g = 7, n = 9 (Godfrey).
#[allow(clippy::excessive_precision)]
pub(super) const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_93,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_13,
    -176.615_029_162_140_59,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_571_6e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0 (Lanczos approximation; reflection below 1/2).
pub(super) fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        return (PI / (PI * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + LANCZOS_G + 0.5;
    let series =
        LANCZOS[1..].iter().enumerate().fold(LANCZOS[0], |s, (i, c)| s + c / (x + (i + 1) as f64));
    LN_SQRT_2PI + (x + 0.5) * t.ln() - t + series.ln()
}

/// ln Γ(x) − ((x − ½) ln x − x + ln √(2π)) for x ≥ 10: the Stirling series, to 1e-17.
pub(super) fn stirling_correction(x: f64) -> f64 {
    const C: [f64; 8] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
        -3617.0 / 122_400.0,
    ];
    let z = 1.0 / (x * x);
    C.iter().rev().fold(0.0, |acc, c| acc * z + c) / x
}

/// ln B(a, b), without cancellation between large log-gammas (as R's `lbeta`).
pub(super) fn ln_beta(a: f64, b: f64) -> f64 {
    let (p, q) = if a < b { (a, b) } else { (b, a) };
    if p >= 10.0 {
        let corr = stirling_correction(p) + stirling_correction(q) - stirling_correction(p + q);
        -0.5 * q.ln()
            + LN_SQRT_2PI
            + corr
            + (p - 0.5) * (p / (p + q)).ln()
            + q * (-p / (p + q)).ln_1p()
    } else if q >= 10.0 {
        let corr = stirling_correction(q) - stirling_correction(p + q);
        ln_gamma(p) + corr + p - p * (p + q).ln() + (q - 0.5) * (-p / (p + q)).ln_1p()
    } else {
        ln_gamma(p) + ln_gamma(q) - ln_gamma(p + q)
    }
}

/// Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1.
#[cfg(test)]
pub(super) fn ibeta(a: f64, b: f64, x: f64) -> f64 {
    ibeta_parts(a, b, x, 1.0 - x, x.ln(), (-x).ln_1p())
}

/// I_x(a, b) given x, y = 1 − x and their logarithms, each computed accurately by the caller
/// (x may have underflowed to 0 while ln x is finite).
pub(super) fn ibeta_parts(a: f64, b: f64, x: f64, y: f64, ln_x: f64, ln_y: f64) -> f64 {
    if ln_x == f64::NEG_INFINITY {
        return 0.0;
    }
    if ln_y == f64::NEG_INFINITY {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        1.0 - ibeta_by_fraction(b, a, y, ln_y, ln_x)
    } else {
        ibeta_by_fraction(a, b, x, ln_x, ln_y)
    }
}

/// x^a y^b / (a B(a, b)) times the continued fraction; accurate for x < (a + 1) / (a + b + 2).
pub(super) fn ibeta_by_fraction(a: f64, b: f64, x: f64, ln_x: f64, ln_y: f64) -> f64 {
    let front = (a * ln_x + b * ln_y - ln_beta(a, b)).exp() / a;
    if front == 0.0 { 0.0 } else { front * beta_fraction(a, b, x) }
}

/// The continued fraction of I_x(a, b) (Numerical Recipes' `betacf`), by modified Lentz.
pub(super) fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const MAX_ITER: u32 = 1_000_000;
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / nonzero(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=MAX_ITER {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / nonzero(1.0 + even * d);
        c = nonzero(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / nonzero(1.0 + odd * d);
        c = nonzero(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() <= f64::EPSILON || !step.is_finite() {
            break;
        }
    }
    h
}

/// Standard normal CDF Φ(x) (`scipy.special.ndtr`), through the incomplete gamma function:
/// Φ(−|x|) = Q(½, x²/2) / 2.
pub(super) fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() > 40.0 {
        // Φ(−40) ≈ 4e-350 underflows; this also keeps x² finite.
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    let s = 0.5 * x * x;
    let lower_tail =
        0.5 * if s < 1.5 { 1.0 - half_gamma_p_series(s) } else { half_gamma_q_fraction(s) };
    if x < 0.0 { lower_tail } else { 1.0 - lower_tail }
}

/// P(½, s) by its power series (s < 1.5).
pub(super) fn half_gamma_p_series(s: f64) -> f64 {
    if s == 0.0 {
        return 0.0;
    }
    let a = 0.5;
    let (mut ap, mut term) = (a, 1.0 / a);
    let mut sum = term;
    for _ in 0..1000 {
        ap += 1.0;
        term *= s / ap;
        sum += term;
        if term.abs() < sum.abs() * f64::EPSILON {
            break;
        }
    }
    sum * (-s + a * s.ln() - LN_SQRT_PI).exp()
}

/// Q(½, s) by its continued fraction (s ≥ 1.5), modified Lentz.
pub(super) fn half_gamma_q_fraction(s: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let a = 0.5;
    let mut b = s + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let i = f64::from(i);
        let an = -i * (i - a);
        b += 2.0;
        d = 1.0 / nonzero(an * d + b);
        c = nonzero(b + an / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    (-s + a * s.ln() - LN_SQRT_PI).exp() * h
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

//! The special functions under the distributions: log-gamma (Lanczos, with a Stirling series
//! for large arguments), the regularized incomplete beta (Lentz continued fraction) and the
//! normal CDF (incomplete gamma). Each matches `scipy.special`.
use std::f64::consts::PI;

/// ln √(2π).
pub(super) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
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
pub(crate) fn normal_cdf(x: f64) -> f64 {
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

/// The standard normal quantile Φ⁻¹(p) (`scipy.special.ndtri`): Acklam's rational
/// approximation (relative error below 1.2e-9), refined by one step of Halley's method on
/// [`normal_cdf`]. Above ½ it is −Φ⁻¹(1 − p), 1 − p being exact there.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p > 0.5 {
        return -normal_quantile(1.0 - p);
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    let x = acklam(p);
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

/// Acklam's approximation of Φ⁻¹(p) for 0 < p ≤ ½.
fn acklam(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p < 0.02425 {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

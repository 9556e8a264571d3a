//! Honest statistics for `ablate compare`: t-based confidence intervals of a mean over seeds,
//! tests of the difference between two variants (paired t, Welch t, Wilcoxon signed-rank),
//! multiple-comparison corrections (Holm, Benjamini–Hochberg) and the number of seeds a t-test
//! needs to detect a difference with a given power.
//!
//! Every value matches SciPy / statsmodels (the exact functions are named on each item; the
//! tests pin them to 1e-9 against fixtures made by `scripts/dev/stats_fixtures.py` with SciPy
//! 1.17.1 and statsmodels 0.15.0). Means and variances are summed in NumPy's pairwise order, so
//! degenerate inputs (zero variance, ties, zero differences) take the same branch as SciPy.
//! The special functions are implemented here: log-gamma (Lanczos, with a Stirling series
//! for large arguments), the regularized incomplete beta (Lentz continued fraction), the
//! normal CDF (incomplete gamma), Student's t CDF and quantile, and the noncentral t CDF
//! (Poisson-mixture series summed outwards from its mode). Standard library only, but for the
//! serde names of [`TestKind`].
//!
//! Inputs are per-seed metric values (e.g. macro-F1), seed i of one variant paired with seed i
//! of the other in the paired tests. A test that has no p-value says why (`why_no_p`); a test
//! that cannot be run at all returns [`TooFew`], whose message says why in words.

use std::error::Error;
use std::f64::consts::PI;
use std::fmt;

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
/// ln Γ(1/2) = ln √π.
const LN_SQRT_PI: f64 = 0.572_364_942_924_700_1;
/// The largest sample size [`seeds_needed`] considers.
pub const MAX_SEEDS: u64 = 10_000;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// A t-based confidence interval of a mean over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanInterval {
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator, `np.std(values, ddof=1)`).
    pub std: f64,
    /// Number of values.
    pub n: usize,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// The two-sided confidence interval of the mean at `level` (e.g. 0.95):
/// `scipy.stats.t.interval(level, n - 1, loc=mean, scale=std / sqrt(n))`.
///
/// `None` when there are fewer than two values. When every value is equal (std = 0) the
/// interval is `[mean, mean]`, as `scipy.stats.ttest_1samp(values, 0).confidence_interval(level)`
/// gives; `t.interval` itself returns NaN for a zero scale.
///
/// # Panics
/// If `level` is not strictly between 0 and 1.
pub fn mean_interval(values: &[f64], level: f64) -> Option<MeanInterval> {
    check_level(level);
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = np_mean(values);
    let squares: Vec<f64> = values.iter().map(|v| (v - mean) * (v - mean)).collect();
    let std = (np_sum(&squares) / (n - 1) as f64).sqrt();
    let (low, high) = if std == 0.0 {
        (mean, mean)
    } else {
        let df = (n - 1) as f64;
        let scale = std / (n as f64).sqrt();
        let low = t_quantile((1.0 - level) / 2.0, df) * scale + mean;
        let high = t_quantile((1.0 + level) / 2.0, df) * scale + mean;
        (low, high)
    };
    Some(MeanInterval { mean, std, n, low, high })
}

/// Which test produced a [`Difference`]; serialised as its name (as `Display` writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TestKind {
    /// Paired (related-samples) t-test on per-seed differences.
    #[serde(rename = "paired t")]
    PairedT,
    /// Welch's unequal-variance two-sample t-test.
    #[serde(rename = "Welch t")]
    WelchT,
    /// Wilcoxon signed-rank test on per-seed differences.
    #[serde(rename = "Wilcoxon signed-rank")]
    Wilcoxon,
}

impl fmt::Display for TestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TestKind::PairedT => "paired t",
            TestKind::WelchT => "Welch t",
            TestKind::Wilcoxon => "Wilcoxon signed-rank",
        })
    }
}

/// The difference `a − b` between two variants, its confidence interval and a test of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Point estimate of `a − b`: the mean per-seed difference (paired tests) or the
    /// difference of the means (Welch).
    pub delta: f64,
    /// Lower end of the t-based confidence interval of `delta`.
    pub low: f64,
    /// Upper end of the t-based confidence interval of `delta`.
    pub high: f64,
    /// The test statistic as SciPy reports it: t (±∞ or NaN in the degenerate cases) or, for
    /// Wilcoxon, min(R+, R−).
    pub statistic: f64,
    /// Degrees of freedom of the t distribution (`None` for Wilcoxon).
    pub df: Option<f64>,
    /// Two-sided p-value; `None` where SciPy's is NaN, with the reason in `why_no_p`.
    pub p_value: Option<f64>,
    /// The test that produced the p-value.
    pub test: TestKind,
    /// Why there is no p-value, when there is none.
    pub why_no_p: Option<String>,
}

/// Why a test cannot be run on the data at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooFew {
    /// The test that was refused.
    pub test: TestKind,
    /// What the data had: pairs (paired t), seeds of the smaller group (Welch), pairs with a
    /// non-zero difference (Wilcoxon).
    pub n: usize,
    /// The fewest that the test needs.
    pub needed: usize,
    reason: String,
}

impl TooFew {
    /// The explanation in words (also what `Display` prints).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for TooFew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl Error for TooFew {}

/// Paired t-test of `a − b` (seed i of `a` paired with seed i of `b`):
/// `scipy.stats.ttest_rel(a, b)` and its `confidence_interval(level)`, t with n − 1 df.
///
/// Degenerate cases, as in SciPy: when every difference is the same non-zero value the
/// variance is 0, t = ±∞ and p = 0 (reported as `Some(0.0)`), and the interval is
/// `[delta, delta]`; when every difference is 0, t = 0/0 is NaN, so `p_value` is `None`
/// with a reason, and the interval is `[0, 0]`.
///
/// # Errors
/// [`TooFew`] with fewer than 2 pairs.
///
/// # Panics
/// If `a` and `b` differ in length, or `level` is not strictly between 0 and 1.
pub fn paired_t(a: &[f64], b: &[f64], level: f64) -> Result<Difference, TooFew> {
    let d = differences(a, b);
    check_level(level);
    let n = d.len();
    if n < 2 {
        return Err(TooFew {
            test: TestKind::PairedT,
            n,
            needed: 2,
            reason: format!("n = {n} {}: a paired t-test needs at least 2 pairs", pairs(n)),
        });
    }
    let one = one_sample_t(&d, level);
    let why_no_p = one.p.is_nan().then(|| {
        nan_input(&d).unwrap_or_else(|| {
            "no variance: every pair gives the same difference, 0, so t = 0/0 is undefined".into()
        })
    });
    Ok(Difference {
        delta: one.mean,
        low: one.low,
        high: one.high,
        statistic: one.t,
        df: Some(one.df),
        p_value: finite_p(one.p),
        test: TestKind::PairedT,
        why_no_p,
    })
}

/// Welch's two-sample t-test of `mean(a) − mean(b)`:
/// `scipy.stats.ttest_ind(a, b, equal_var=False)` and its `confidence_interval(level)`, with
/// the Welch–Satterthwaite degrees of freedom.
///
/// Degenerate cases, as in SciPy: when both groups have zero variance the df are undefined
/// and SciPy uses 1; t = ±∞ and p = 0 if the means differ (interval `[delta, delta]`), and
/// t = NaN, `p_value = None` if they are equal.
///
/// # Errors
/// [`TooFew`] when either group has fewer than 2 seeds.
///
/// # Panics
/// If `level` is not strictly between 0 and 1.
pub fn welch_t(a: &[f64], b: &[f64], level: f64) -> Result<Difference, TooFew> {
    check_level(level);
    let (n1, n2) = (a.len(), b.len());
    if n1 < 2 || n2 < 2 {
        return Err(TooFew {
            test: TestKind::WelchT,
            n: n1.min(n2),
            needed: 2,
            reason: format!(
                "n = {n1} and {n2} seeds: Welch's t-test needs at least 2 seeds of each variant"
            ),
        });
    }
    let (m1, m2) = (np_mean(a), np_mean(b));
    let vn1 = scipy_var(a) / n1 as f64;
    let vn2 = scipy_var(b) / n2 as f64;
    let mut df =
        (vn1 + vn2) * (vn1 + vn2) / (vn1 * vn1 / (n1 - 1) as f64 + vn2 * vn2 / (n2 - 1) as f64);
    if df.is_nan() {
        // Both variances are zero; SciPy substitutes 1 (any non-NaN value gives the same t).
        df = 1.0;
    }
    let denom = (vn1 + vn2).sqrt();
    let delta = m1 - m2;
    let t = delta / denom;
    let p = 2.0 * t_cdf(-t.abs(), df);
    let (low, high) = t_interval(df, level, denom, delta);
    let why_no_p = p.is_nan().then(|| {
        nan_input(a).or_else(|| nan_input(b)).unwrap_or_else(|| {
            "no variance: every seed of both variants gives the same value, so t = 0/0 is undefined"
                .into()
        })
    });
    Ok(Difference {
        delta,
        low,
        high,
        statistic: t,
        df: Some(df),
        p_value: finite_p(p),
        test: TestKind::WelchT,
        why_no_p,
    })
}

/// Wilcoxon signed-rank test of the per-seed differences `a − b`: the p-value and statistic of
/// `scipy.stats.wilcoxon(a, b)` with its defaults (`zero_method='wilcox'`, `correction=False`,
/// two-sided, `method='auto'`). `delta`, `low` and `high` are NOT a Hodges–Lehmann estimate:
/// they are the mean difference and the paired-t interval of [`paired_t`].
///
/// Zero differences are dropped and ties get average ranks. `method='auto'` of SciPy 1.17
/// is reproduced: with more than 50 pairs, the normal approximation; otherwise, without ties
/// or zeros, the exact null distribution of R+; with ties or zeros and at most 13 pairs, the
/// exact sign-flip permutation distribution (what SciPy's `PermutationMethod` enumerates);
/// else the normal approximation with the tie correction and no continuity correction. Both
/// exact distributions are computed here by dynamic programming over rank sums.
///
/// # Errors
/// [`TooFew`] when the smallest two-sided p the signed-rank test can produce with this many
/// non-zero differences, 2 / 2^n, exceeds `alpha`: below 6 pairs at `alpha = 0.05`.
///
/// # Panics
/// If `a` and `b` differ in length, or `level` or `alpha` is not strictly between 0 and 1.
pub fn wilcoxon(a: &[f64], b: &[f64], level: f64, alpha: f64) -> Result<Difference, TooFew> {
    let d = differences(a, b);
    check_level(level);
    assert!(alpha > 0.0 && alpha < 1.0, "alpha must be in (0, 1), got {alpha}");
    let n = d.len();
    if let Some(why) = nan_input(&d) {
        // SciPy propagates NaN (nan_policy='propagate').
        let one = one_sample_t(&d, level);
        return Ok(Difference {
            delta: one.mean,
            low: one.low,
            high: one.high,
            statistic: f64::NAN,
            df: None,
            p_value: None,
            test: TestKind::Wilcoxon,
            why_no_p: Some(why),
        });
    }
    let nonzero: Vec<f64> = d.iter().copied().filter(|&v| v != 0.0).collect();
    let m = nonzero.len();
    let needed = wilcoxon_min_pairs(alpha);
    if m < needed {
        let zeros = n - m;
        let what = if zeros == 0 {
            format!("n = {m} {}", pairs(m))
        } else {
            format!(
                "n = {m} {} with a non-zero difference ({zeros} zero difference{} dropped)",
                pairs(m),
                if zeros == 1 { " is" } else { "s are" }
            )
        };
        return Err(TooFew {
            test: TestKind::Wilcoxon,
            n: m,
            needed,
            reason: format!(
                "{what}: the signed-rank test cannot reach p ≤ {alpha} below {needed} pairs"
            ),
        });
    }

    let magnitudes: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
    let (ranks2, has_ties) = doubled_average_ranks(&magnitudes);
    let r_plus2: u64 = nonzero.iter().zip(&ranks2).filter(|(v, _)| **v > 0.0).map(|(_, r)| r).sum();
    let r_minus2: u64 =
        nonzero.iter().zip(&ranks2).filter(|(v, _)| **v < 0.0).map(|(_, r)| r).sum();

    // SciPy's method='auto': exact without ties or zeros, else an exact permutation test up to
    // 13 pairs; the normal approximation above that, and always above 50 pairs.
    let exact = n <= 50 && ((!has_ties && m == n) || n <= 13);
    let p = if exact {
        // Each of the 2^m sign patterns of the non-zero differences is equally likely.
        let counts = subset_sum_counts(&ranks2);
        let at_most: u64 = counts[..=r_plus2 as usize].iter().sum();
        let at_least: u64 = counts[r_plus2 as usize..].iter().sum();
        let total = (m as f64).exp2();
        (2.0 * (at_most as f64 / total).min(at_least as f64 / total)).min(1.0)
    } else {
        let count = m as f64;
        let mn = count * (count + 1.0) * 0.25;
        let tie_correct = tie_sizes(&magnitudes).map(|t| t * t * t - t).sum::<f64>();
        let se = count * (count + 1.0) * (2.0 * count + 1.0);
        let se = ((se - tie_correct / 2.0) / 24.0).sqrt();
        let z = (r_plus2 as f64 / 2.0 - mn) / se;
        2.0 * normal_cdf(-z.abs())
    };

    let one = one_sample_t(&d, level);
    Ok(Difference {
        delta: one.mean,
        low: one.low,
        high: one.high,
        statistic: r_plus2.min(r_minus2) as f64 / 2.0,
        df: None,
        p_value: finite_p(p),
        test: TestKind::Wilcoxon,
        why_no_p: p.is_nan().then(|| "the signed-rank p-value is undefined".to_string()),
    })
}

/// Holm's step-down adjusted p-values, in the input order:
/// `statsmodels.stats.multitest.multipletests(p, method='holm')[1]`.
/// A NaN p-value stays NaN and does not affect the others (statsmodels sorts it last).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let n = p.len();
    let order = argsort(p);
    let mut adjusted = vec![0.0; n];
    let mut running = f64::NEG_INFINITY;
    for (rank, &i) in order.iter().enumerate() {
        let raw = p[i] * (n - rank) as f64;
        running = nan_max(running, raw);
        adjusted[i] = if running > 1.0 { 1.0 } else { running };
    }
    adjusted
}

/// Benjamini–Hochberg adjusted p-values (false discovery rate), in the input order:
/// `statsmodels.stats.multitest.multipletests(p, method='fdr_bh')[1]`.
/// As in statsmodels, one NaN p-value makes every adjusted value NaN: leave tests without a
/// p-value out of the family.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let n = p.len();
    let order = argsort(p);
    let mut adjusted = vec![0.0; n];
    let mut running = f64::INFINITY;
    for (rank, &i) in order.iter().enumerate().rev() {
        let raw = p[i] / ((rank + 1) as f64 / n as f64);
        running = nan_min(running, raw);
        adjusted[i] = if running > 1.0 { 1.0 } else { running };
    }
    adjusted
}

/// Power of a two-sided t-test at level `alpha` for standardized effect size `effect_size`
/// (|Δ| / σ), with `n` pairs (`paired`) or `n` seeds in each of two groups, computed as
/// statsmodels does: `TTestPower().power(effect_size, n, alpha)` (df = n − 1) or
/// `TTestIndPower().power(effect_size, n, alpha, ratio=1)` (df = 2n − 2, noncentrality
/// d·√(n/2)). Both tails are added: `1 − F(t_{1−α/2}) + F(t_{α/2})` with F the noncentral t CDF.
pub fn t_test_power(effect_size: f64, n: f64, alpha: f64, paired: bool) -> f64 {
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
pub fn seeds_needed(
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

// ---------------------------------------------------------------------------------------------
// Tests' building blocks
// ---------------------------------------------------------------------------------------------

struct OneSample {
    mean: f64,
    t: f64,
    df: f64,
    p: f64,
    low: f64,
    high: f64,
}

/// `scipy.stats.ttest_1samp(d, 0)` with its confidence interval.
fn one_sample_t(d: &[f64], level: f64) -> OneSample {
    let n = d.len() as f64;
    let mean = np_mean(d);
    let denom = (scipy_var(d) / n).sqrt();
    let t = (mean - 0.0) / denom;
    let df = n - 1.0;
    let p = 2.0 * t_cdf(-t.abs(), df);
    let (low, high) = t_interval(df, level, denom, mean);
    OneSample { mean, t, df, p, low, high }
}

/// SciPy's `_t_confidence_interval`, scaled: `stdtrit(df, q) * se + estimate`.
fn t_interval(df: f64, level: f64, se: f64, estimate: f64) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    (t_quantile(tail, df) * se + estimate, t_quantile(1.0 - tail, df) * se + estimate)
}

fn check_level(level: f64) {
    assert!(level > 0.0 && level < 1.0, "confidence level must be in (0, 1), got {level}");
}

fn differences(a: &[f64], b: &[f64]) -> Vec<f64> {
    assert_eq!(a.len(), b.len(), "paired samples must have the same length");
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

fn pairs(n: usize) -> &'static str {
    if n == 1 { "pair" } else { "pairs" }
}

/// The reason when a value is NaN (SciPy then returns NaN).
fn nan_input(values: &[f64]) -> Option<String> {
    values.iter().any(|v| v.is_nan()).then(|| "a seed's value is NaN".to_string())
}

fn finite_p(p: f64) -> Option<f64> {
    (!p.is_nan()).then_some(p)
}

/// The fewest non-zero differences whose most extreme two-sided p, 2 / 2^n, is ≤ `alpha`.
fn wilcoxon_min_pairs(alpha: f64) -> usize {
    let mut n = 1;
    while (1.0 - n as f64).exp2() > alpha {
        n += 1;
    }
    n
}

/// Twice the average ranks of `x` (integers), and whether any two values tie.
fn doubled_average_ranks(x: &[f64]) -> (Vec<u64>, bool) {
    let order = argsort(x);
    let mut ranks = vec![0; x.len()];
    let mut has_ties = false;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        has_ties |= end - start > 1;
        // Average of the 1-based ranks start + 1 ..= end, doubled.
        let doubled = (start + 1 + end) as u64;
        for &i in &order[start..end] {
            ranks[i] = doubled;
        }
        start = end;
    }
    (ranks, has_ties)
}

/// Sizes of the groups of equal values in `x`, as floats.
fn tie_sizes(x: &[f64]) -> impl Iterator<Item = f64> {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut sizes = Vec::new();
    let mut start = 0;
    while start < sorted.len() {
        let end = start + sorted[start..].iter().take_while(|&&v| v == sorted[start]).count();
        sizes.push((end - start) as f64);
        start = end;
    }
    sizes.into_iter()
}

/// `counts[s]`: how many of the 2^k subsets of `weights` add up to `s`.
fn subset_sum_counts(weights: &[u64]) -> Vec<u64> {
    let total: u64 = weights.iter().sum();
    let mut counts = vec![0u64; total as usize + 1];
    counts[0] = 1;
    let mut reach = 0;
    for &w in weights {
        let w = w as usize;
        for s in (0..=reach).rev() {
            counts[s + w] += counts[s];
        }
        reach += w;
    }
    counts
}

/// Indices that sort `x` ascending (NaN last), stable.
fn argsort(x: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    order
}

/// `np.maximum`: NaN propagates.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

/// `np.minimum`: NaN propagates.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}

// ---------------------------------------------------------------------------------------------
// NumPy's summation order
// ---------------------------------------------------------------------------------------------

/// `np.sum` of a contiguous float64 array: NumPy's pairwise summation (8 accumulators in
/// blocks of at most 128, halves above), reproduced so that sums agree bit for bit.
fn np_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, &x| s + x)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for block in a[8..whole].chunks_exact(8) {
            for (acc, &x) in r.iter_mut().zip(block) {
                *acc += x;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let half = n / 2;
        let half = half - half % 8;
        np_sum(&a[..half]) + np_sum(&a[half..])
    }
}

/// `np.mean`.
fn np_mean(a: &[f64]) -> f64 {
    np_sum(a) / a.len() as f64
}

/// SciPy's sample variance (`_var(x, ddof=1)`): mean of squared deviations times n / (n − 1).
fn scipy_var(a: &[f64]) -> f64 {
    let n = a.len() as f64;
    let mean = np_mean(a);
    let squares: Vec<f64> = a.iter().map(|v| (v - mean) * (v - mean)).collect();
    np_mean(&squares) * (n / (n - 1.0))
}

// ---------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------

const LANCZOS_G: f64 = 7.0;
/// Lanczos coefficients for g = 7, n = 9 (Godfrey).
#[allow(clippy::excessive_precision)]
const LANCZOS: [f64; 9] = [
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
fn ln_gamma(x: f64) -> f64 {
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
fn stirling_correction(x: f64) -> f64 {
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
fn ln_beta(a: f64, b: f64) -> f64 {
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
fn ibeta(a: f64, b: f64, x: f64) -> f64 {
    ibeta_parts(a, b, x, 1.0 - x, x.ln(), (-x).ln_1p())
}

/// I_x(a, b) given x, y = 1 − x and their logarithms, each computed accurately by the caller
/// (x may have underflowed to 0 while ln x is finite).
fn ibeta_parts(a: f64, b: f64, x: f64, y: f64, ln_x: f64, ln_y: f64) -> f64 {
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
fn ibeta_by_fraction(a: f64, b: f64, x: f64, ln_x: f64, ln_y: f64) -> f64 {
    let front = (a * ln_x + b * ln_y - ln_beta(a, b)).exp() / a;
    if front == 0.0 { 0.0 } else { front * beta_fraction(a, b, x) }
}

/// The continued fraction of I_x(a, b) (Numerical Recipes' `betacf`), by modified Lentz.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
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
fn normal_cdf(x: f64) -> f64 {
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
fn half_gamma_p_series(s: f64) -> f64 {
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
fn half_gamma_q_fraction(s: f64) -> f64 {
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
fn t_pdf(t: f64, df: f64) -> f64 {
    let ln = ln_gamma(0.5 * (df + 1.0))
        - ln_gamma(0.5 * df)
        - 0.5 * (df * PI).ln()
        - 0.5 * (df + 1.0) * (t * t / df).ln_1p();
    ln.exp()
}

/// The quantile for 0 < q < ½ (a negative t).
fn lower_t_quantile(q: f64, df: f64) -> f64 {
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
fn poisson_weight(x: f64, lambda: f64) -> f64 {
    if x == 0.0 {
        return (-lambda).exp();
    }
    (-stirling_error(x) - deviance_term(x, lambda)).exp() / (2.0 * PI * x).sqrt()
}

/// ln Γ(x + 1) − ((x + ½) ln x − x + ln √(2π)).
fn stirling_error(x: f64) -> f64 {
    if x >= 10.0 {
        stirling_correction(x)
    } else {
        ln_gamma(x + 1.0) - (x + 0.5) * x.ln() + x - LN_SQRT_2PI
    }
}

/// x ln(x / m) + m − x, accurately when x ≈ m (Loader's `bd0`).
fn deviance_term(x: f64, m: f64) -> f64 {
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
fn nct_cdf(t: f64, df: f64, nc: f64) -> f64 {
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
fn nct_cdf_upper(t: f64, df: f64, nc: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    //! Every expected value below comes from SciPy 1.17.1 / statsmodels 0.15.0 through
    //! `scripts/dev/stats_fixtures.py` (see the generated block). Comparisons are relative: a
    //! value passes when `|got − want| ≤ 1e-9·|want|`; exact expected values (0, ±∞, NaN,
    //! integers such as seed counts and Wilcoxon statistics) must match exactly. The only absolute comparisons
    //! are the noncentral t CDF and power (`|got − want| ≤ 1e-12`), which SciPy and statsmodels
    //! themselves form as 1 − F and so carry only absolute precision.
    use super::*;

    const REL: f64 = 1e-9;
    const ABS: f64 = 1e-12;

    #[track_caller]
    fn assert_rel(got: f64, want: f64, what: &str) {
        let ok = if want.is_nan() {
            got.is_nan()
        } else if want == 0.0 || want.is_infinite() {
            got == want
        } else {
            (got - want).abs() <= REL * want.abs()
        };
        assert!(
            ok,
            "{what}: got {got:e}, want {want:e} (relative error {:e})",
            (got - want) / want
        );
    }

    #[track_caller]
    fn assert_abs(got: f64, want: f64, what: &str) {
        assert!((got - want).abs() <= ABS, "{what}: got {got:e}, want {want:e}");
    }

    struct MeanCase {
        values: &'static [f64],
        level: f64,
        mean: f64,
        std: f64,
        low: f64,
        high: f64,
    }

    struct TestCase {
        name: &'static str,
        a: &'static [f64],
        b: &'static [f64],
        level: f64,
        delta: f64,
        low: f64,
        high: f64,
        statistic: f64,
        df: f64,
        p: f64,
    }

    struct WilcoxonCase {
        name: &'static str,
        a: &'static [f64],
        b: &'static [f64],
        level: f64,
        alpha: f64,
        delta: f64,
        low: f64,
        high: f64,
        statistic: f64,
        p: f64,
    }

    struct Refusal {
        name: &'static str,
        a: &'static [f64],
        b: &'static [f64],
        alpha: f64,
        n: usize,
        needed: usize,
        smallest_p: f64,
    }

    struct AdjustCase {
        p: &'static [f64],
        holm: &'static [f64],
        bh: &'static [f64],
    }

    /// (delta, pooled std, alpha, power, paired, expected seeds).
    type SeedsRow = (f64, f64, f64, f64, bool, Option<u64>);

    // BEGIN GENERATED FIXTURES
    // Made by scripts/dev/stats_fixtures.py with SciPy 1.17.1, statsmodels 0.15.0, NumPy 2.4.6, mpmath 1.3.0.
    // Do not edit by hand: rerun the script.
    #[rustfmt::skip]
    mod fixtures {
        use super::*;

        // mean_interval: scipy.stats.t.interval(level, n - 1, loc=mean, scale=std / sqrt(n)),
        // std = np.std(values, ddof=1); for std = 0, ttest_1samp(values, 0).confidence_interval.
        pub(super) const MEAN_CASES: &[MeanCase] = &[
            MeanCase { values: &[0.7169828318110119, 0.6948979892000272], level: 0.95, mean: 0.7059404105055196, std: 0.01561634197166486, low: 0.5656331446148367, high: 0.8462476763962025 },
            MeanCase { values: &[0.4628, 0.4309, 0.4509], level: 0.95, mean: 0.4482, std: 0.01612048386370582, low: 0.4081544981025057, high: 0.48824550189749427 },
            MeanCase { values: &[0.6209490309402438, 0.6174398899028228, 0.6285919921816857, 0.6228719668854373, 0.6226688906357652], level: 0.9, mean: 0.622504354109191, std: 0.004040092096133828, low: 0.6186525672054508, high: 0.6263561410129312 },
            MeanCase { values: &[0.778614706274379, 0.7813366528795648, 0.7783992146372242, 0.7787720658875654, 0.7792417060578666, 0.7795273688955965, 0.7789461231473568, 0.7791026774815414, 0.7770554132270229, 0.7802003461848696], level: 0.99, mean: 0.7791196274672988, std: 0.0011279490467748297, low: 0.7779604475042342, high: 0.7802788074303634 },
            MeanCase { values: &[0.36079738418447316, 0.3426839525814559, 0.3122729623081134, 0.26393477281131095, 0.3388738784309857, 0.3640081890993239, 0.368202709492043, 0.3320638771175011, 0.34498504227099147, 0.3336427105606091, 0.31979372969506653, 0.37335236255715276, 0.25785353205339895, 0.405871745445636, 0.29396049077946346, 0.2151934843395702, 0.3587431111237951, 0.31823841980442336, 0.30530756108541934, 0.3588075125908444, 0.3514393369185286, 0.3019032399250573, 0.3965745128099246, 0.37335875779181593, 0.39117966850177727], level: 0.95, mean: 0.3353217177711473, std: 0.045253872741024374, low: 0.3166418371994877, high: 0.35400159834280687 },
            MeanCase { values: &[0.5930550500759257, 0.6035290777947894, 0.5955260625447419, 0.5612914108250241, 0.5033210646491754, 0.5145392835891155, 0.5330737826822478, 0.5029451877875425, 0.5487994443369112, 0.5152882789762782, 0.5292720379453818, 0.574212724760077, 0.57347404581753, 0.5422631027977693, 0.5533720314551774, 0.4997514918674018, 0.5317595568397013, 0.5713338592629992, 0.5132871423098434, 0.5729235697394032, 0.5561424163369946, 0.5686713484508961, 0.5654171469771326, 0.5116650365139528, 0.5164472689264362, 0.5681143215911204, 0.5441436467154309, 0.5672658424915692, 0.5047146027627312, 0.5624924824533091, 0.49322863869535727, 0.5803427110731342, 0.5354061836938181, 0.5433086751468245, 0.5283882905008345, 0.5365008066121341, 0.5464602608422149, 0.5650662458491698, 0.5720864875845728, 0.5441074524846959, 0.5384541596717365, 0.5424185893769091, 0.5512834164378028, 0.5354172298095276, 0.5380226535189813, 0.5587368825229428, 0.5296574252396328, 0.5201604217811348, 0.5295909033602891, 0.5117260787355888, 0.5688020946458033, 0.5667316198473475, 0.5436289087391473, 0.5084690574477455, 0.5494426169517697, 0.5036623370916352, 0.5333577182904494, 0.5704918458312915, 0.5284832222394148, 0.5481699946425462], level: 0.95, mean: 0.5436615874656844, std: 0.02600389156999294, low: 0.5369440699614046, high: 0.5503791049699641 },
            MeanCase { values: &[0.7125, 0.7125, 0.7125], level: 0.95, mean: 0.7125, std: 0.0, low: 0.7125, high: 0.7125 },
        ];

        // paired_t: scipy.stats.ttest_rel(a, b) and .confidence_interval(level).
        pub(super) const PAIRED_CASES: &[TestCase] = &[
            TestCase { name: "n = 2", a: &[0.7114169695395911, 0.70206808875906], b: &[0.6961067522795162, 0.6910707176267806], level: 0.95, delta: 0.013153794196177127, low: -0.014246158751516667, high: 0.040553747143870916, statistic: 6.099820770976924, df: 1.0, p: 0.10344676595616056 },
            TestCase { name: "n = 3", a: &[0.5314, 0.5569, 0.5279], b: &[0.5154, 0.5461, 0.5164], level: 0.95, delta: 0.012766666666666667, low: 0.005756584387459507, high: 0.019776748945873827, statistic: 7.835932731640838, df: 2.0, p: 0.01589879836744844 },
            TestCase { name: "n = 5", a: &[0.6268539848988867, 0.6282702954652615, 0.6238819255016282, 0.6180482199828179, 0.6217170878302504], b: &[0.6215509251020096, 0.6234883966778154, 0.6198825493808064, 0.6163488090212899, 0.611878010999547], level: 0.9, delta: 0.00512456449947527, low: 0.0022893832937191396, high: 0.007959745705231398, statistic: 3.8532938696651677, df: 4.0, p: 0.018251253849019322 },
            TestCase { name: "n = 6", a: &[0.3714, 0.4501, 0.4054, 0.4681, 0.3978, 0.4442], b: &[0.3518, 0.4362, 0.3798, 0.4488, 0.3895, 0.4127], level: 0.95, delta: 0.019699999999999995, low: 0.011073919915480212, high: 0.028326080084519777, statistic: 5.870622770233016, df: 5.0, p: 0.002034859298808606 },
            TestCase { name: "n = 10", a: &[0.7687771384085877, 0.771663130725782, 0.7702544121704463, 0.7702559947616532, 0.7689376266855266, 0.7709805350140403, 0.7710754806548716, 0.7731102534604308, 0.7661282230255749, 0.7724853966838995], b: &[0.7667602192006734, 0.7719588214350301, 0.7694194818451633, 0.7686151847876433, 0.7674019184144178, 0.7696117537412531, 0.771063814305401, 0.7717229266952385, 0.7647694722922017, 0.7730397254087285], level: 0.99, delta: 0.0009304873465062147, low: 1.1489585097716748e-05, high: 0.0018494851079147126, statistic: 3.290465958309876, df: 9.0, p: 0.009371375657598303 },
            TestCase { name: "n = 25", a: &[0.32260639328058666, 0.41921152094701253, 0.32624529374990474, 0.35367895016920714, 0.32477376779588507, 0.4032140384306733, 0.2694545283647979, 0.39801095064305125, 0.336215839670653, 0.3228563074445112, 0.39461114715074036, 0.29535974769413803, 0.3824707687069792, 0.39919031494519935, 0.3898996922233352, 0.3599188432551045, 0.3495869727298575, 0.32209281998136263, 0.32335210341308995, 0.23245963856695184, 0.3502321901651991, 0.35874464231678044, 0.37919787375360514, 0.3267655347751115, 0.3476821928410988], b: &[0.26067518985888616, 0.41544398151892903, 0.31055312510515776, 0.3473006670849801, 0.3131488793661954, 0.41943392653474026, 0.2607985328589891, 0.3518868404196468, 0.3065391928119476, 0.32086646039287353, 0.3979586509921523, 0.3007130382290326, 0.37792444596619407, 0.41548327458967726, 0.3535203276089397, 0.36632468450343453, 0.3435343315162319, 0.28063283127825933, 0.3220053613864377, 0.22366868515228663, 0.3546588894624826, 0.34705485295740984, 0.38540335396771425, 0.3704706427439688, 0.33838785732256615], level: 0.95, delta: 0.00813776197542812, low: -0.0009694200657173347, high: 0.017244944016573574, statistic: 1.844205502874177, df: 24.0, p: 0.07753310398943913 },
            TestCase { name: "n = 60", a: &[0.6565888070021229, 0.6601253600235627, 0.653507130448594, 0.6611408986970972, 0.6606777187147697, 0.6606650082780917, 0.658352105037292, 0.6485902513335098, 0.6405124989179275, 0.6495884313514488, 0.6744845539200194, 0.6475155150521099, 0.6704262615366265, 0.6554991161008754, 0.6488132441720179, 0.6539328395188329, 0.6516598820557487, 0.6562168348239227, 0.6589453543678413, 0.6577556815458636, 0.6377403995700264, 0.6543836637209208, 0.6458941707581963, 0.66081680839201, 0.6608344077639947, 0.6716159932025733, 0.653233550948322, 0.6610245559244714, 0.6500237233013815, 0.6535837145226522, 0.664241403278904, 0.6719265678689018, 0.6563046900347874, 0.6468558551249015, 0.6560848582696787, 0.6639405824702969, 0.6558041013079422, 0.6535662199962889, 0.6459673912912213, 0.6309730090490769, 0.6561484838841412, 0.65478167873451, 0.6693761980000075, 0.6595249319296457, 0.6562435655546315, 0.6801079438025555, 0.6622669193338085, 0.6394149979501378, 0.6589790537287618, 0.6542812278060862, 0.6622792149974295, 0.6662691537163439, 0.6688004134948238, 0.6433972017531243, 0.6489193788277317, 0.6449849009621196, 0.6525534772902344, 0.6570580794786822, 0.654862546837829, 0.6450918151983036], b: &[0.6550314750731648, 0.659684309929702, 0.6548957664784875, 0.6616682957559179, 0.6597270098745158, 0.6660794844110585, 0.6537486330821811, 0.6423342050996187, 0.6397402250692241, 0.6315049087315239, 0.6791975283727043, 0.6437883749866922, 0.6657487256110779, 0.6448689491081477, 0.6405346003285577, 0.650679632367427, 0.6532469843045555, 0.6573878788555645, 0.6583531357941566, 0.6516968360854298, 0.6328032740173795, 0.6534265524086758, 0.6395694556340576, 0.6597314572048477, 0.6546479767872783, 0.6711897106039492, 0.6594107210200173, 0.6513424289035434, 0.6602318882502183, 0.6510919784409718, 0.6691341193609515, 0.6740274722451683, 0.6530307172977521, 0.651770308172772, 0.6503707186735487, 0.6624589117327603, 0.6528823863187957, 0.6489526672618293, 0.6560097970838524, 0.6246681608847062, 0.6545310518084222, 0.650592843310657, 0.6748479873974595, 0.6571106435338413, 0.6613629362512965, 0.6828932578865848, 0.6580809716897354, 0.6346120945099087, 0.6585106917016595, 0.640264870009563, 0.6668841659483521, 0.6671706694155506, 0.6683282138831765, 0.640373944674972, 0.6472013482164403, 0.6318396987040615, 0.6538913281149692, 0.6607037231607791, 0.654571514557093, 0.6519572106853039], level: 0.95, delta: 0.001545958598218685, low: 0.0001258673567126401, high: 0.00296604983972473, statistic: 2.178350178732679, df: 59.0, p: 0.03338794658662456 },
            TestCase { name: "no effect", a: &[0.5071, 0.4836, 0.495, 0.4981, 0.4985, 0.4966, 0.5146, 0.5063], b: &[0.5258, 0.4853, 0.4863, 0.5245, 0.5037, 0.4917, 0.5095, 0.5157], level: 0.95, delta: -0.00533750000000003, low: -0.015638547363614936, high: 0.0049635473636148765, statistic: -1.2252328814113378, df: 7.0, p: 0.2601099277182383 },
            TestCase { name: "equal differences", a: &[0.5, 0.75, 0.625, 0.875], b: &[0.375, 0.625, 0.5, 0.75], level: 0.95, delta: 0.125, low: 0.125, high: 0.125, statistic: f64::INFINITY, df: 3.0, p: 0.0 },
            TestCase { name: "zero differences", a: &[0.61, 0.64, 0.6], b: &[0.61, 0.64, 0.6], level: 0.95, delta: 0.0, low: 0.0, high: 0.0, statistic: f64::NAN, df: 2.0, p: f64::NAN },
        ];

        // welch_t: scipy.stats.ttest_ind(a, b, equal_var=False) and .confidence_interval(level).
        pub(super) const WELCH_CASES: &[TestCase] = &[
            TestCase { name: "3 vs 5", a: &[0.7267898264760577, 0.7182157779133468, 0.7094096678425776], b: &[0.695428055831827, 0.6990125972544059, 0.660940463271389, 0.6879566841733779, 0.6819726622112545], level: 0.95, delta: 0.03307633152887657, low: 0.01255117941871848, high: 0.05360148363903466, statistic: 3.9458795660324326, df: 5.98326324117865, p: 0.007615831251359422 },
            TestCase { name: "2 vs 10", a: &[0.4934, 0.5304], b: &[0.4882, 0.5054, 0.5162, 0.5063, 0.4996, 0.4839, 0.4842, 0.5082, 0.5101, 0.4876], level: 0.95, delta: 0.012929999999999997, low: -0.18667992686420612, high: 0.2125399268642061, statistic: 0.684707163730736, df: 1.0854324916052498, p: 0.6103240008830774 },
            TestCase { name: "6 vs 4", a: &[0.4312554451783108, 0.43690703799564745, 0.4517839028657687, 0.4425321063036268, 0.4381666882186101, 0.4332162693615176], b: &[0.39657293071037747, 0.3769231989940833, 0.4596355095918591, 0.4580675508673869], level: 0.9, delta: 0.016177110779653503, low: -0.03342255383922788, high: 0.06577677539853488, statistic: 0.7554287690910807, df: 3.1225783826767897, p: 0.5029118551743889 },
            TestCase { name: "10 vs 10", a: &[0.8137002416568805, 0.8072261485560566, 0.8106211224257556, 0.8106305293352535, 0.8112644639155574, 0.8108592663556414, 0.8098350056441219, 0.8078482203349792, 0.8094761196904823, 0.8067312726157225], b: &[0.8057320661401484, 0.8037096529807305, 0.8034021113648905, 0.8050616937596883, 0.8013265993562843, 0.8055553735775579, 0.8056537618233873, 0.8035039328734678, 0.7999525431339648, 0.8061745989824333], level: 0.99, delta: 0.00581200565378992, low: 0.0031318053548292746, high: 0.008492205952750565, statistic: 6.242182357578524, df: 17.99271722076, p: 6.901969165225112e-06 },
            TestCase { name: "25 vs 8", a: &[0.25919317742294745, 0.321735184287943, 0.3841187054231757, 0.39014942456542767, 0.3022058444883982, 0.36025292599338765, 0.31734474997958617, 0.3406202022185111, 0.42836610982087464, 0.3729152229892745, 0.3762822038646194, 0.3769668337794851, 0.33091584826044423, 0.5007215687066262, 0.3367483026010375, 0.4692342310872918, 0.40592569752899865, 0.31010398786723525, 0.3580588144986995, 0.23794470597573222, 0.45170212838577084, 0.316831927479838, 0.32512102465511244, 0.3492430659484897, 0.443997430061458], b: &[0.281634315151747, 0.31959871776721416, 0.32482723829660304, 0.31488560270338556, 0.2775174425882623, 0.3195464334172925, 0.3148438160473891, 0.31056241981732474], level: 0.95, delta: 0.0547409744919623, low: 0.025950458044569902, high: 0.0835314909393547, statistic: 3.8782649132373117, df: 30.915999123563438, p: 0.0005134962213203478 },
            TestCase { name: "one side constant", a: &[0.6, 0.6, 0.6], b: &[0.5722, 0.5852, 0.5887, 0.5927], level: 0.95, delta: 0.01529999999999998, low: 0.0011718260175447946, high: 0.029428173982455168, statistic: 3.4464063460222976, df: 3.0, p: 0.04104392197742062 },
            TestCase { name: "both constant", a: &[0.5, 0.5, 0.5], b: &[0.25, 0.25], level: 0.95, delta: 0.25, low: 0.25, high: 0.25, statistic: f64::INFINITY, df: 1.0, p: 0.0 },
            TestCase { name: "both constant, equal", a: &[0.5, 0.5], b: &[0.5, 0.5, 0.5], level: 0.95, delta: 0.0, low: 0.0, high: 0.0, statistic: f64::NAN, df: 1.0, p: f64::NAN },
        ];

        // wilcoxon: scipy.stats.wilcoxon(a, b) (defaults) for statistic and p; delta, low, high
        // from scipy.stats.ttest_rel(a, b).confidence_interval(level).
        pub(super) const WILCOXON_CASES: &[WilcoxonCase] = &[
            WilcoxonCase { name: "n = 6, all better (exact)", a: &[0.7013461181098491, 0.706504044300386, 0.6997897438633928, 0.7035297612802556, 0.7091244669629043, 0.7145536301762084], b: &[0.6834393928888154, 0.685115828761327, 0.680206583062726, 0.6857485005207073, 0.6862493002715441, 0.691948582491655], level: 0.95, alpha: 0.05, delta: 0.020356596116036907, low: 0.017977574237460818, high: 0.022735617994612996, statistic: 0.0, p: 0.03125 },
            WilcoxonCase { name: "n = 6, mixed (exact)", a: &[0.5289191628339905, 0.5283107982423871, 0.54792585357637, 0.5151003301733711, 0.5536978584604996, 0.5381827483727639], b: &[0.5473190694520217, 0.5078558895775694, 0.553336672592848, 0.5149848450557462, 0.5526867853052778, 0.5404181607348638], level: 0.95, alpha: 0.05, delta: -0.000744111843157443, low: -0.013926521297607795, high: 0.012438297611292908, statistic: 9.0, p: 0.84375 },
            WilcoxonCase { name: "n = 10 (exact)", a: &[0.6414383843306419, 0.6412091040707292, 0.6180038073215984, 0.661853095992136, 0.6236081230753528, 0.636317247971532, 0.6303284349901018, 0.6240735601829607, 0.6100147731511282, 0.6305181672376695], b: &[0.6461399301096378, 0.6363352883672768, 0.6109329635585831, 0.6522226949774909, 0.6247995488401755, 0.629658005646942, 0.6218675663249746, 0.6127750850478708, 0.609760876672909, 0.6247617341817239], level: 0.95, alpha: 0.05, delta: 0.004811100459626627, low: 0.001153044592153252, high: 0.008469156327100002, statistic: 5.0, p: 0.01953125 },
            WilcoxonCase { name: "n = 10, ties (permutation)", a: &[0.477, 0.479, 0.481, 0.479, 0.482, 0.479, 0.479, 0.48, 0.486, 0.485], b: &[0.476, 0.48, 0.481, 0.477, 0.481, 0.476, 0.475, 0.476, 0.486, 0.487], level: 0.95, alpha: 0.05, delta: 0.001200000000000001, low: -0.00026216182832092434, high: 0.0026621618283209263, statistic: 6.5, p: 0.1328125 },
            WilcoxonCase { name: "n = 8, one zero (permutation)", a: &[0.7500361625227573, 0.7502638459430524, 0.7433904340460761, 0.738238175660836, 0.7451336855831852, 0.7120354086147537, 0.7288974454571395, 0.7429420542730615], b: &[0.7500361625227573, 0.7474708465650657, 0.7407103163623704, 0.7280861111439038, 0.7379288359388504, 0.7112999145920671, 0.7190622222730984, 0.739698075490364], level: 0.95, alpha: 0.05, delta: 0.004580590901548082, low: 0.0012680122356884958, high: 0.007893169567407668, statistic: 0.0, p: 0.015625 },
            WilcoxonCase { name: "n = 13, ties (permutation)", a: &[0.583, 0.576, 0.58, 0.584, 0.577, 0.579, 0.583, 0.581, 0.588, 0.58, 0.577, 0.584, 0.585], b: &[0.584, 0.572, 0.58, 0.583, 0.575, 0.577, 0.583, 0.578, 0.584, 0.576, 0.573, 0.579, 0.584], level: 0.95, alpha: 0.05, delta: 0.002230769230769233, low: 0.0010695955319487537, high: 0.003391942929589712, statistic: 2.0, p: 0.00390625 },
            WilcoxonCase { name: "n = 14, ties (normal approximation)", a: &[0.577, 0.583, 0.584, 0.586, 0.582, 0.579, 0.582, 0.581, 0.575, 0.579, 0.582, 0.584, 0.58, 0.581], b: &[0.574, 0.581, 0.583, 0.586, 0.581, 0.578, 0.579, 0.578, 0.573, 0.58, 0.583, 0.584, 0.582, 0.58], level: 0.95, alpha: 0.05, delta: 0.0009285714285714294, low: 9.649493202878415e-06, high: 0.0018474933639399805, statistic: 15.0, p: 0.055537603992134955 },
            WilcoxonCase { name: "n = 25 (exact)", a: &[0.3564220768151612, 0.35525203786111953, 0.30727905046561343, 0.36126464652827445, 0.3108012124493699, 0.3531613819794269, 0.3942090288587107, 0.31329082665765196, 0.3336102782423931, 0.3968087113458268, 0.34593126085273335, 0.36537762565767334, 0.3422027086532828, 0.3753765612522571, 0.3818132865564569, 0.332063193057476, 0.3979966624410544, 0.3335079601342335, 0.3782889766050121, 0.4199920498970774, 0.3144664146804466, 0.4018523658240479, 0.37135945313963015, 0.3768159535343137, 0.3966057380335405], b: &[0.36427079171708837, 0.3613640959717878, 0.31979098835585557, 0.3681206313217547, 0.30214276048888783, 0.35796543893728666, 0.3689268127041322, 0.27864592754556167, 0.35114505198059137, 0.4018399929549723, 0.3754660455354231, 0.3398365571528244, 0.3513813881252616, 0.3371567401041842, 0.33614710844729484, 0.2948378832871595, 0.3853112663097656, 0.3158430096566042, 0.3504912247624942, 0.40960065621229225, 0.3161920660611316, 0.35595600798010046, 0.34209045866285936, 0.38028011008398893, 0.3681145630531274], level: 0.95, alpha: 0.05, delta: 0.011313275364414139, low: 0.0024531773685673233, high: 0.020173373360260954, statistic: 81.0, p: 0.02747941017150879 },
            WilcoxonCase { name: "n = 25, ties (normal approximation)", a: &[0.363, 0.352, 0.374, 0.362, 0.348, 0.372, 0.385, 0.367, 0.365, 0.35, 0.359, 0.385, 0.366, 0.378, 0.383, 0.371, 0.372, 0.365, 0.359, 0.387, 0.359, 0.375, 0.347, 0.368, 0.363], b: &[0.371, 0.36, 0.363, 0.352, 0.345, 0.373, 0.385, 0.361, 0.367, 0.349, 0.354, 0.381, 0.368, 0.376, 0.376, 0.361, 0.368, 0.365, 0.357, 0.389, 0.357, 0.375, 0.344, 0.362, 0.36], level: 0.9, alpha: 0.05, delta: 0.002240000000000002, low: 0.0005951786946064395, high: 0.003884821305393564, statistic: 55.0, p: 0.019909354528199596 },
            WilcoxonCase { name: "n = 50 (exact)", a: &[0.6799901586270098, 0.6815380269715071, 0.6927928519635259, 0.7012910228861721, 0.7043002614084537, 0.6727140267805592, 0.6775215160103083, 0.6947672652164563, 0.6791668191208713, 0.6879221498411293, 0.7040711342501433, 0.6880384338237845, 0.6968666277602281, 0.6966955374546846, 0.6809668425543604, 0.6974249475438098, 0.6873950165414003, 0.6921422872759616, 0.6872209282483623, 0.6804122319725336, 0.6632089146944078, 0.6964261530219668, 0.6905146223790226, 0.6785405313788924, 0.7001688781599366, 0.6794515294075132, 0.7077493308042213, 0.6978866698309865, 0.6880571793393419, 0.6933920106557504, 0.6912970306857641, 0.6924361505303493, 0.6824851889478438, 0.701847006954698, 0.6815994738212595, 0.6842611742381286, 0.6694208362629445, 0.6903275419231915, 0.6766091759473926, 0.6749911894695781, 0.7018465487599076, 0.6712429229342802, 0.6904517917529448, 0.6806788869148229, 0.7048123303525117, 0.7029966062918651, 0.6917455188189844, 0.6907682902101495, 0.6725537267665136, 0.6813268815518433], b: &[0.6750463572227766, 0.6812746329335, 0.6968401868257164, 0.7011764218033618, 0.6959538686385768, 0.6735052831129749, 0.6756946007959018, 0.6969773648907683, 0.6795149521541016, 0.6895691510885422, 0.7021725916020154, 0.6892023975800765, 0.6864213349798053, 0.6826023748808832, 0.6741020279577128, 0.7010253618097725, 0.687211902703566, 0.6831679691703572, 0.6874789284934152, 0.681085858575811, 0.6555722395906972, 0.6903936815864127, 0.68785855146903, 0.6701151633213525, 0.7095380794150971, 0.6758197620344075, 0.7045532695952902, 0.6946961595038722, 0.686383878527231, 0.6862911199682185, 0.69103120536136, 0.6939675864436564, 0.6791945569298554, 0.6911270108681895, 0.6787860972164373, 0.6768447850987627, 0.6703621403661955, 0.6931038396837194, 0.6701977603202461, 0.6692349152159147, 0.6976445946373724, 0.6711943222890766, 0.6821897588149684, 0.6889038434397585, 0.6969208646765946, 0.6994202399395688, 0.6929650379536896, 0.6918824288728993, 0.6717553211905689, 0.6818928220574694], level: 0.95, alpha: 0.05, delta: 0.002449351509014528, low: 0.001084746987681836, high: 0.00381395603034722, statistic: 318.0, p: 0.001654895925714328 },
            WilcoxonCase { name: "n = 51 (normal approximation)", a: &[0.6761188146910898, 0.6900419349174067, 0.6718196104159025, 0.686032080179623, 0.70384739624048, 0.6754064399796531, 0.6905452864636715, 0.6984909656307576, 0.6787193750949798, 0.6861048696593304, 0.6988460476725417, 0.6856945571513973, 0.6937943746158634, 0.692313913741014, 0.6893334280665125, 0.6820010202326561, 0.7021825913112194, 0.6846381610098353, 0.6938162627499083, 0.6924697304751487, 0.698745907377907, 0.6743651165938688, 0.687015213097443, 0.6700211882288762, 0.69423024793455, 0.679608701491649, 0.6902586950887423, 0.6811110101394156, 0.677120569474581, 0.6994415223312094, 0.6984971179937319, 0.689694270668243, 0.6876382658478014, 0.6914449132615402, 0.6670610627691111, 0.7012978818994594, 0.6959644190582523, 0.695285630490156, 0.6771081035491245, 0.6921367789818639, 0.6832044799008342, 0.6927085452118434, 0.6901820970840349, 0.6916219448499124, 0.6994104050772199, 0.6840722642080127, 0.6992146639925106, 0.6921536230358306, 0.696470581270629, 0.6813121931283842, 0.7142682087272041], b: &[0.6804092239591499, 0.6882799971913168, 0.6745838261465074, 0.6771999674498773, 0.7002257037137343, 0.6747959054166217, 0.6912455214039271, 0.6994395921695438, 0.66773116062812, 0.6841631699612339, 0.6989709100577892, 0.6650848681840026, 0.6982540804203355, 0.6861209119705495, 0.6922157356841288, 0.6865127818774671, 0.7077784048935586, 0.6870388387431047, 0.6945842056062146, 0.6895648684880789, 0.6884432229997118, 0.6716723368142863, 0.6838243043411552, 0.6840730016339888, 0.6869357461661356, 0.6849887509799101, 0.6863574136583241, 0.6710333449036219, 0.6759265889286635, 0.6977379218211047, 0.6933470673617065, 0.6824802080915305, 0.6876383701006933, 0.6793940742107587, 0.6590781600111673, 0.6953267793110866, 0.6962895003678446, 0.7026381911919077, 0.6835865878239272, 0.6877642552986715, 0.6789974695493126, 0.6958666885437051, 0.685639016482896, 0.6947566698233686, 0.6918094512402994, 0.6764885550823818, 0.6958073016849294, 0.6848518592467876, 0.6893938742226655, 0.6779055088675396, 0.7115071053818792], level: 0.95, alpha: 0.05, delta: 0.002335754567759032, low: 0.0006498824232642122, high: 0.004021626712253852, statistic: 379.0, p: 0.007766297412560549 },
            WilcoxonCase { name: "n = 60, ties and zeros (normal approximation)", a: &[0.518, 0.478, 0.539, 0.514, 0.537, 0.519, 0.506, 0.512, 0.498, 0.536, 0.539, 0.528, 0.511, 0.531, 0.524, 0.509, 0.498, 0.492, 0.514, 0.525, 0.524, 0.535, 0.518, 0.5, 0.516, 0.548, 0.521, 0.526, 0.495, 0.504, 0.496, 0.531, 0.52, 0.494, 0.53, 0.53, 0.489, 0.553, 0.497, 0.488, 0.513, 0.537, 0.536, 0.504, 0.505, 0.555, 0.494, 0.503, 0.515, 0.501, 0.515, 0.535, 0.511, 0.525, 0.508, 0.507, 0.52, 0.516, 0.483, 0.543], b: &[0.518, 0.478, 0.539, 0.485, 0.544, 0.49, 0.491, 0.52, 0.48, 0.539, 0.551, 0.529, 0.51, 0.536, 0.523, 0.507, 0.507, 0.491, 0.518, 0.519, 0.522, 0.535, 0.514, 0.501, 0.521, 0.546, 0.536, 0.525, 0.501, 0.507, 0.504, 0.511, 0.526, 0.491, 0.532, 0.537, 0.496, 0.559, 0.501, 0.487, 0.522, 0.529, 0.537, 0.506, 0.501, 0.554, 0.488, 0.506, 0.521, 0.494, 0.496, 0.533, 0.518, 0.514, 0.512, 0.509, 0.509, 0.524, 0.468, 0.552], level: 0.95, alpha: 0.05, delta: 0.0008166666666666665, low: -0.0015497443945656337, high: 0.0031830777278989667, statistic: 746.5, p: 0.6740631806459217 },
            WilcoxonCase { name: "n = 7, equal differences (permutation)", a: &[0.5, 0.75, 0.625, 0.875, 0.5625, 0.6875, 0.8125], b: &[0.375, 0.625, 0.5, 0.75, 0.4375, 0.5625, 0.6875], level: 0.95, alpha: 0.05, delta: 0.125, low: 0.125, high: 0.125, statistic: 0.0, p: 0.015625 },
            WilcoxonCase { name: "n = 8, alpha = 0.01 (exact)", a: &[0.6166474535716028, 0.6128601258857536, 0.5867025343148635, 0.6144867746304306, 0.6042736583795599, 0.6263493601074215, 0.5964654025906366, 0.596027958047921], b: &[0.6075050936164348, 0.6014784059908255, 0.5760851439592855, 0.604675415791708, 0.593109190367144, 0.6158028557936062, 0.5885124404679318, 0.5855080842294562], level: 0.95, alpha: 0.01, delta: 0.010142079663974679, low: 0.00919331850464776, high: 0.011090840823301598, statistic: 0.0, p: 0.0078125 },
        ];

        // Wilcoxon refusals: (name, a, b, alpha, n non-zero, needed, smallest attainable p as
        // scipy.stats.wilcoxon gives it for n all-positive differences).
        pub(super) const WILCOXON_REFUSED: &[Refusal] = &[
            Refusal { name: "n = 5", a: &[0.6927331855215573, 0.7061484483305936, 0.704099126101348, 0.6928752094100339, 0.7260703800642935], b: &[0.6748127063175002, 0.686692478194807, 0.6854388942533445, 0.675917515055919, 0.7102636359852448], alpha: 0.05, n: 5, needed: 6, smallest_p: 0.0625 },
            Refusal { name: "n = 7 with 2 zeros", a: &[0.5971188358877332, 0.5791044980248117, 0.610784640804412, 0.5877406767448935, 0.6050692888618086, 0.597638044694704, 0.6082866762801914], b: &[0.5971188358877332, 0.5791044980248117, 0.6031929132911439, 0.5810241533408749, 0.5959454340552883, 0.5897240709612074, 0.6063319935947897], alpha: 0.05, n: 5, needed: 6, smallest_p: 0.0625 },
            Refusal { name: "n = 7 at alpha = 0.01", a: &[0.6037507010988485, 0.604347901024544, 0.6162861227349719, 0.5929252156857783, 0.5951247437850199, 0.5811681197314476, 0.5972695555045026], b: &[0.5985401642791188, 0.6016466478676309, 0.6066488973959688, 0.5758695518910284, 0.5942000593127825, 0.5708437486482244, 0.58632394118816], alpha: 0.01, n: 7, needed: 8, smallest_p: 0.015625 },
            Refusal { name: "all zero", a: &[0.5, 0.6, 0.7], b: &[0.5, 0.6, 0.7], alpha: 0.05, n: 0, needed: 6, smallest_p: 1.0 },
            Refusal { name: "n = 1", a: &[0.5], b: &[0.4], alpha: 0.05, n: 1, needed: 6, smallest_p: 1.0 },
        ];

        // holm / benjamini_hochberg: statsmodels multipletests(p, method='holm' / 'fdr_bh')[1].
        pub(super) const ADJUST_CASES: &[AdjustCase] = &[
            AdjustCase { p: &[0.01, 0.04, 0.03, 0.005], holm: &[0.03, 0.06, 0.06, 0.02], bh: &[0.02, 0.04, 0.04, 0.02] },
            AdjustCase { p: &[0.02, 0.02, 0.02, 0.5], holm: &[0.08, 0.08, 0.08, 0.5], bh: &[0.02666666666666667, 0.02666666666666667, 0.02666666666666667, 0.5] },
            AdjustCase { p: &[0.99, 0.999, 0.5, 1.0, 0.98], holm: &[1.0, 1.0, 1.0, 1.0, 1.0], bh: &[1.0, 1.0, 1.0, 1.0, 1.0] },
            AdjustCase { p: &[0.03], holm: &[0.03], bh: &[0.03] },
            AdjustCase { p: &[], holm: &[], bh: &[] },
            AdjustCase { p: &[0.0, 0.2, 0.2, 0.04, 0.9, 0.0001, 0.7, 0.05, 0.05, 0.011], holm: &[0.0, 0.8, 0.8, 0.28, 1.0, 0.0009000000000000001, 1.0, 0.30000000000000004, 0.30000000000000004, 0.088], bh: &[0.0, 0.25, 0.25, 0.08333333333333334, 0.9, 0.0005, 0.7777777777777777, 0.08333333333333334, 0.08333333333333334, 0.03666666666666667] },
            AdjustCase { p: &[0.014864740276234058, 0.0735439550420052, 0.03475795105573898, 0.08554506384298383, 0.1586162622427487, 0.11923000272719948, 0.12766023550813035, 0.001726151535658138, 0.18706323502924116, 0.02121440415575351, 0.1820847737402177, 0.14337660906405844], holm: &[0.16351214303857464, 0.5883516403360416, 0.3128215595016508, 0.5988154469008868, 0.7153800163631969, 0.7153800163631969, 0.7153800163631969, 0.020713818427897657, 0.7153800163631969, 0.2121440415575351, 0.7153800163631969, 0.7153800163631969], bh: &[0.08485761662301404, 0.17109012768596765, 0.10427385316721693, 0.17109012768596765, 0.18706323502924116, 0.18706323502924116, 0.18706323502924116, 0.020713818427897657, 0.18706323502924116, 0.08485761662301404, 0.18706323502924116, 0.18706323502924116] },
            AdjustCase { p: &[0.3, f64::NAN, 0.01], holm: &[0.6, f64::NAN, 0.03], bh: &[f64::NAN, f64::NAN, f64::NAN] },
        ];

        // (t, df, scipy.stats.t.cdf(t, df))
        pub(super) const T_CDF: &[(f64, f64, f64)] = &[
            (-40.0, 1.0, 0.007956089912025812),
            (-8.0, 1.0, 0.039583424160565546),
            (-3.2, 1.0, 0.09641124797922958),
            (-1.0, 1.0, 0.25000000000000006),
            (-0.1, 1.0, 0.4682744825694465),
            (0.001, 1.0, 0.5003183097800921),
            (0.5, 1.0, 0.6475836176504333),
            (2.1, 1.0, 0.858536971878491),
            (6.0, 1.0, 0.9474315432887466),
            (25.0, 1.0, 0.9872743886520081),
            (-40.0, 2.0, 0.0003122073360923703),
            (-8.0, 2.0, 0.00763403608266907),
            (-3.2, 2.0, 0.04267043961997642),
            (-1.0, 2.0, 0.2113248654051871),
            (-0.1, 2.0, 0.4647327192070701),
            (0.001, 2.0, 0.500353553302205),
            (0.5, 2.0, 0.6666666666666666),
            (2.1, 2.0, 0.9147250654050163),
            (6.0, 2.0, 0.9866642633922876),
            (25.0, 2.0, 0.9992019148942949),
            (-40.0, 3.0, 1.7190340394579253e-05),
            (-8.0, 3.0, 0.002038288793892733),
            (-3.2, 3.0, 0.0246659214813481),
            (-1.0, 3.0, 0.19550110947788524),
            (-0.1, 3.0, 0.46332617440040297),
            (0.001, 3.0, 0.5003675525152695),
            (0.5, 3.0, 0.6742760175759245),
            (2.1, 3.0, 0.9367173987251577),
            (6.0, 3.0, 0.9953636425538577),
            (25.0, 3.0, 0.9999298343050212),
            (-40.0, 4.5, 3.224782606460499e-07),
            (-8.0, 4.5, 0.00039804739408227035),
            (-3.2, 4.5, 0.013922339715871432),
            (-1.0, 4.5, 0.18400254194009424),
            (-0.1, 4.5, 0.46232203381534276),
            (0.001, 4.5, 0.5003775467439242),
            (0.5, 4.5, 0.6797252489629764),
            (2.1, 4.5, 0.9520310915189568),
            (6.0, 4.5, 0.9986792620972242),
            (25.0, 4.5, 0.999997348875879),
            (-40.0, 7.3, 4.0185675839568624e-10),
            (-8.0, 7.3, 3.630986604095722e-05),
            (-3.2, 7.3, 0.007119834019329153),
            (-1.0, 7.3, 0.17464922822655723),
            (-0.1, 7.3, 0.46151774856991473),
            (0.001, 7.3, 0.5003855515094877),
            (0.5, 7.3, 0.6841032365977792),
            (2.1, 7.3, 0.9638766432875733),
            (6.0, 7.3, 0.9997691277610626),
            (25.0, 7.3, 0.9999999878617137),
            (-40.0, 10.0, 1.1404288715428768e-12),
            (-8.0, 10.0, 5.887471394833083e-06),
            (-3.2, 10.0, 0.004745847897651918),
            (-1.0, 10.0, 0.17044656615103),
            (-0.1, 10.0, 0.4611603592822041),
            (0.001, 10.0, 0.5003891083126295),
            (0.5, 10.0, 0.6860531971285135),
            (2.1, 10.0, 0.9689613778988907),
            (6.0, 10.0, 0.9999339455698226),
            (25.0, 10.0, 0.9999999998800304),
            (-40.0, 29.0, 3.173438664864671e-27),
            (-8.0, 29.0, 4.006287824815844e-09),
            (-3.2, 29.0, 0.0016592212317408765),
            (-1.0, 29.0, 0.16279099400809682),
            (-0.1, 29.0, 0.46051622224368693),
            (0.001, 29.0, 0.5003955185108189),
            (0.5, 29.0, 0.6895759579031093),
            (2.1, 29.0, 0.9777290209818548),
            (6.0, 29.0, 0.9999992036045787),
            (25.0, 29.0, 1.0),
            (-40.0, 100.0, 1.2310538010700354e-63),
            (-8.0, 100.0, 1.1364324038640347e-12),
            (-3.2, 100.0, 0.0009209712579415268),
            (-1.0, 100.0, 0.15986207789206167),
            (-0.1, 100.0, 0.4602722655479256),
            (0.001, 100.0, 0.5003979461199483),
            (0.5, 100.0, 0.6909132170845567),
            (2.1, 100.0, 0.9808773720893595),
            (6.0, 100.0, 0.9999999841375425),
            (25.0, 100.0, 1.0),
            (-40.0, 1000.0, 5.239426077586636e-210),
            (-8.0, 1000.0, 1.7133307411957489e-15),
            (-3.2, 1000.0, 0.0007087691521587772),
            (-1.0, 1000.0, 0.15877620904233627),
            (-0.1, 1000.0, 0.46018218451180204),
            (0.001, 1000.0, 0.5003988424907736),
            (0.5, 1000.0, 0.6914074595830626),
            (2.1, 1000.0, 0.982010562844609),
            (6.0, 1000.0, 0.9999999986223154),
            (25.0, 1000.0, 1.0),
            (-40.0, 100000.0, 0.0),
            (-8.0, 100000.0, 6.286959938128173e-16),
            (-3.2, 100000.0, 0.0006873523344622011),
            (-1.0, 100000.0, 0.1586564637820551),
            (-0.1, 100000.0, 0.46017226295336316),
            (0.001, 100000.0, 0.5003989412165561),
            (0.5, 100000.0, 0.6914619111727911),
            (2.1, 100000.0, 0.9821343301838515),
            (6.0, 100000.0, 0.9999999990100352),
            (25.0, 100000.0, 1.0),
        ];

        // (p, df, scipy.stats.t.ppf(p, df))
        pub(super) const T_PPF: &[(f64, f64, f64)] = &[
            (1.0e-10, 1.0, -3183098861.8379064),
            (0.0001, 1.0, -3183.0987571181513),
            (0.005, 1.0, -63.65674116287158),
            (0.025, 1.0, -12.706204736174705),
            (0.05, 1.0, -6.313751514675044),
            (0.1, 1.0, -3.0776835371752536),
            (0.3, 1.0, -0.7265425280053609),
            (0.7, 1.0, 0.7265425280053608),
            (0.95, 1.0, 6.313751514675037),
            (0.975, 1.0, 12.706204736174694),
            (0.999, 1.0, 318.30883898555015),
            (0.9999999999, 1.0, 3183098598.467148),
            (1.0e-10, 2.0, -70710.67810804816),
            (0.0001, 2.0, -70.70007107496428),
            (0.005, 2.0, -9.924843200918293),
            (0.025, 2.0, -4.302652729749464),
            (0.05, 2.0, -2.9199855803537256),
            (0.1, 2.0, -1.8856180831641267),
            (0.3, 2.0, -0.6172133998483678),
            (0.7, 2.0, 0.6172133998483674),
            (0.95, 2.0, 2.9199855803537242),
            (0.975, 2.0, 4.302652729749462),
            (0.999, 2.0, 22.327124770119866),
            (0.9999999999, 2.0, 70710.67518273447),
            (1.0e-10, 3.7, -622.7508025168837),
            (0.0001, 3.7, -14.780396445535022),
            (0.005, 3.7, -4.869252253227829),
            (0.025, 3.7, -2.8675207071911903),
            (0.05, 3.7, -2.1824938039146016),
            (0.1, 3.7, -1.557565838861507),
            (0.3, 3.7, -0.5724353841388498),
            (0.7, 3.7, 0.5724353841388498),
            (0.95, 3.7, 2.1824938039146007),
            (0.975, 3.7, 2.8675207071911895),
            (0.999, 3.7, 7.795183875029165),
            (0.9999999999, 3.7, 622.750788590658),
            (1.0e-10, 5.0, -156.82559270889433),
            (0.0001, 5.0, -9.677566300882592),
            (0.005, 5.0, -4.032142983555229),
            (0.025, 5.0, -2.5705818356363155),
            (0.05, 5.0, -2.015048373333024),
            (0.1, 5.0, -1.4758840488244813),
            (0.3, 5.0, -0.5594296444693604),
            (0.7, 5.0, 0.5594296444693603),
            (0.95, 5.0, 2.0150483733330233),
            (0.975, 5.0, 2.5705818356363146),
            (0.999, 5.0, 5.893429531356009),
            (0.9999999999, 5.0, 156.8255901132807),
            (1.0e-10, 9.0, -30.737330949971977),
            (0.0001, 9.0, -6.010132129081441),
            (0.005, 9.0, -3.2498355415921263),
            (0.025, 9.0, -2.2621571627982053),
            (0.05, 9.0, -1.8331129326562376),
            (0.1, 9.0, -1.3830287383966327),
            (0.3, 9.0, -0.5434802414542969),
            (0.7, 9.0, 0.5434802414542967),
            (0.95, 9.0, 1.833112932656237),
            (0.975, 9.0, 2.262157162798205),
            (0.999, 9.0, 4.296805662729918),
            (0.9999999999, 9.0, 30.737330664946846),
            (1.0e-10, 30.0, -9.377489780407144),
            (0.0001, 30.0, -4.233985957272021),
            (0.005, 30.0, -2.749995653567226),
            (0.025, 30.0, -2.042272456301238),
            (0.05, 30.0, -1.6972608865939574),
            (0.1, 30.0, -1.3104150253913955),
            (0.3, 30.0, -0.5300190039065046),
            (0.7, 30.0, 0.5300190039065046),
            (0.95, 30.0, 1.697260886593957),
            (0.975, 30.0, 2.0422724563012378),
            (0.999, 30.0, 3.3851848668293045),
            (0.9999999999, 30.0, 9.377489746079775),
            (1.0e-10, 120.0, -6.953862245486067),
            (0.0001, 120.0, -3.837170749032807),
            (0.005, 120.0, -2.617421145106866),
            (0.025, 120.0, -1.9799304050824411),
            (0.05, 120.0, -1.6576508993552357),
            (0.1, 120.0, -1.2886462336563778),
            (0.3, 120.0, -0.5257963906071055),
            (0.7, 120.0, 0.5257963906071053),
            (0.95, 120.0, 1.6576508993552352),
            (0.975, 120.0, 1.9799304050824402),
            (0.999, 120.0, 3.15953874331711),
            (0.9999999999, 120.0, 6.953862229113822),
            (1.0e-10, 10000.0, -6.367941351482803),
            (0.0001, 10000.0, -3.72039586911764),
            (0.005, 10000.0, -2.5763210466685287),
            (0.025, 10000.0, -1.9602012398906263),
            (0.05, 10000.0, -1.6450060180692432),
            (0.1, 10000.0, -1.2816362297304775),
            (0.3, 10000.0, -0.524417228345467),
            (0.7, 10000.0, 0.524417228345467),
            (0.95, 10000.0, 1.645006018069243),
            (0.975, 10000.0, 1.960201239890626),
            (0.999, 10000.0, 3.091047516030612),
            (0.9999999999, 10000.0, 6.3679413387372295),
        ];

        // (t, df, nc, scipy.special.nctdtr(df, nc, t), scipy_nan: the value is mpmath's
        // because SciPy returns NaN there)
        pub(super) const NCT_CDF: &[(f64, f64, f64, f64, bool)] = &[
            (-3.0, 1.0, -4.0, 0.7940986802493275, false),
            (-0.5, 1.0, -4.0, 0.9996633235010979, false),
            (0.0, 1.0, -4.0, 0.9999683287581669, false),
            (0.7, 1.0, -4.0, 0.9999924690534543, false),
            (2.2, 1.0, -4.0, 0.9999974321294829, false),
            (5.0, 1.0, -4.0, 0.9999988618250306, false),
            (12.0, 1.0, -4.0, 0.9999995250574318, false),
            (-3.0, 1.0, -1.0, 0.2698974013894366, false),
            (-0.5, 1.0, -1.0, 0.7185390313418996, false),
            (0.0, 1.0, -1.0, 0.8413447460685429, false),
            (0.7, 1.0, -1.0, 0.9261471829723064, false),
            (2.2, 1.0, -1.0, 0.9708425375632567, false),
            (5.0, 1.0, -1.0, 0.9868004512517461, false),
            (12.0, 1.0, -1.0, 0.9944673297289102, false),
            (-3.0, 1.0, 0.3, 0.06888493108771404, false),
            (-0.5, 1.0, 0.3, 0.2522590457340851, false),
            (0.0, 1.0, 0.3, 0.3820885778110474, false),
            (0.7, 1.0, 0.3, 0.5907178688627959, false),
            (2.2, 1.0, 0.3, 0.8094599662238409, false),
            (5.0, 1.0, 0.3, 0.9109763199968878, false),
            (12.0, 1.0, 0.3, 0.9624207494106252, false),
            (-3.0, 1.0, 2.0, 0.0022320951318499, false),
            (-0.5, 1.0, 2.0, 0.010361382640355911, false),
            (0.0, 1.0, 2.0, 0.02275013194817922, false),
            (0.7, 1.0, 2.0, 0.09310751717435184, false),
            (2.2, 1.0, 2.0, 0.40487911878474325, false),
            (5.0, 1.0, 2.0, 0.6935374174878984, false),
            (12.0, 1.0, 2.0, 0.8675212366408256, false),
            (-3.0, 1.0, 6.0, 4.147715561336992e-11, false),
            (-0.5, 1.0, 6.0, 2.3051280751880555e-10, false),
            (0.0, 1.0, 6.0, 9.865876450377012e-10, false),
            (0.7, 1.0, 6.0, 8.858813945205093e-07, false),
            (2.2, 1.0, 6.0, 0.013034778785337573, false),
            (5.0, 1.0, 6.0, 0.23931654119656803, false),
            (12.0, 1.0, 6.0, 0.6182917208360291, false),
            (-3.0, 1.0, 15.0, 7.291403334767889e-22, false),
            (-0.5, 1.0, 15.0, 3.811139004746577e-52, false),
            (0.0, 1.0, 15.0, 3.670966199312859e-51, false),
            (0.7, 1.0, 15.0, 1.0445309719519996e-34, false),
            (2.2, 1.0, 15.0, 5.399042946014152e-10, false),
            (5.0, 1.0, 15.0, 0.0032637169016702344, false),
            (12.0, 1.0, 15.0, 0.2128810918277631, false),
            (-3.0, 3.0, -4.0, 0.7925269282121892, false),
            (-0.5, 3.0, -4.0, 0.999737793131718, false),
            (0.0, 3.0, -4.0, 0.9999683287581669, false),
            (0.7, 3.0, -4.0, 0.9999967327998103, false),
            (2.2, 3.0, -4.0, 0.9999997810180208, false),
            (5.0, 3.0, -4.0, 0.9999999792490405, false),
            (12.0, 3.0, -4.0, 0.999999998464238, false),
            (-3.0, 3.0, -1.0, 0.12259897447608965, false),
            (-0.5, 3.0, -1.0, 0.7018895066290368, false),
            (0.0, 3.0, -1.0, 0.8413447460685429, false),
            (0.7, 3.0, -1.0, 0.9440210406425765, false),
            (2.2, 3.0, -1.0, 0.9919881803645323, false),
            (5.0, 3.0, -1.0, 0.9990750571617878, false),
            (12.0, 3.0, -1.0, 0.9999281240673673, false),
            (-3.0, 3.0, 0.3, 0.016696796375063848, false),
            (-0.5, 3.0, 0.3, 0.2277005400611012, false),
            (0.0, 3.0, 0.3, 0.3820885778110474, false),
            (0.7, 3.0, 0.3, 0.6298753176034428, false),
            (2.2, 3.0, 0.3, 0.9084202504515156, false),
            (5.0, 3.0, 0.3, 0.9870476633560182, false),
            (12.0, 3.0, 0.3, 0.998935189051425, false),
            (-3.0, 3.0, 2.0, 0.00023942058610666034, false),
            (-0.5, 3.0, 2.0, 0.007800301076436315, false),
            (0.0, 3.0, 2.0, 0.02275013194817922, false),
            (0.7, 3.0, 2.0, 0.09569118604826649, false),
            (2.2, 3.0, 2.0, 0.4989663482517477, false),
            (5.0, 3.0, 2.0, 0.8890520674382772, false),
            (12.0, 3.0, 2.0, 0.9894759117981289, false),
            (-3.0, 3.0, 6.0, 1.0815132799471796e-12, false),
            (-0.5, 3.0, 6.0, 9.933267580835433e-11, false),
            (0.0, 3.0, 6.0, 9.865876450377012e-10, false),
            (0.7, 3.0, 6.0, 1.4530001193873784e-07, false),
            (2.2, 3.0, 6.0, 0.0020711344651554732, false),
            (5.0, 3.0, 6.0, 0.2529046522429634, false),
            (12.0, 3.0, 6.0, 0.8553485239281537, false),
            (-3.0, 3.0, 15.0, 7.455071198822827e-27, false),
            (-0.5, 3.0, 15.0, 5.374985819370097e-53, false),
            (0.0, 3.0, 15.0, 3.670966199312859e-51, false),
            (0.7, 3.0, 15.0, 1.6210081988614574e-42, false),
            (2.2, 3.0, 15.0, 9.381134353924804e-19, false),
            (5.0, 3.0, 15.0, 2.128141944352919e-05, false),
            (12.0, 3.0, 15.0, 0.200730856440603, false),
            (-3.0, 9.0, -4.0, 0.8130837420392508, false),
            (-0.5, 9.0, -4.0, 0.999758035146463, false),
            (0.0, 9.0, -4.0, 0.9999683287581669, false),
            (0.7, 9.0, -4.0, 0.999998115322655, false),
            (2.2, 9.0, -4.0, 0.9999999882122306, false),
            (5.0, 9.0, -4.0, 0.9999999999723815, false),
            (12.0, 9.0, -4.0, 0.9999999999999851, false),
            (-3.0, 9.0, -1.0, 0.05639840834295736, false),
            (-0.5, 9.0, -1.0, 0.6950757457229517, false),
            (0.0, 9.0, -1.0, 0.8413447460685429, false),
            (0.7, 9.0, -1.0, 0.9514809948133707, false),
            (2.2, 9.0, -1.0, 0.9976263118195824, false),
            (5.0, 9.0, -1.0, 0.9999824041874954, false),
            (12.0, 9.0, -1.0, 0.9999999856525122, false),
            (-3.0, 9.0, 0.3, 0.0035723606175392334, false),
            (-0.5, 9.0, 0.3, 0.21738465063546264, false),
            (0.0, 9.0, 0.3, 0.3820885778110474, false),
            (0.7, 9.0, 0.3, 0.6464589208854592, false),
            (2.2, 9.0, 0.3, 0.9500360513528652, false),
            (5.0, 9.0, 0.3, 0.9991851899117438, false),
            (12.0, 9.0, 0.3, 0.9999990728088008, false),
            (-3.0, 9.0, 2.0, 1.566139929754797e-05, false),
            (-0.5, 9.0, 2.0, 0.006754461057151894, false),
            (0.0, 9.0, 2.0, 0.02275013194817922, false),
            (0.7, 9.0, 2.0, 0.0964709349676096, false),
            (2.2, 9.0, 2.0, 0.5480030242104383, false),
            (5.0, 9.0, 2.0, 0.9725351092961644, false),
            (12.0, 9.0, 2.0, 0.9999402025627327, false),
            (-3.0, 9.0, 6.0, 4.604072963735918e-15, false),
            (-0.5, 9.0, 6.0, 5.756385637494795e-11, false),
            (0.0, 9.0, 6.0, 9.865876450377012e-10, false),
            (0.7, 9.0, 6.0, 7.7882691144293e-08, false),
            (2.2, 9.0, 6.0, 0.0003410477678481541, false),
            (5.0, 9.0, 6.0, 0.22690933673648578, false),
            (12.0, 9.0, 6.0, 0.979089882398249, false),
            (-3.0, 9.0, 15.0, 1.9541866437683073e-59, true),
            (-0.5, 9.0, 15.0, 8.497690065535021e-54, false),
            (0.0, 9.0, 15.0, 3.670966199312859e-51, false),
            (0.7, 9.0, 15.0, 1.8956776731090937e-45, false),
            (2.2, 9.0, 15.0, 1.058127095767562e-28, false),
            (5.0, 9.0, 15.0, 5.578610915791994e-10, false),
            (12.0, 9.0, 15.0, 0.1329164226496474, false),
            (-3.0, 24.0, -4.0, 0.8282136067378326, false),
            (-0.5, 24.0, -4.0, 0.9997639280297339, false),
            (0.0, 24.0, -4.0, 0.9999683287581669, false),
            (0.7, 24.0, -4.0, 0.9999984921016859, false),
            (2.2, 24.0, -4.0, 0.9999999983220376, false),
            (5.0, 24.0, -4.0, 0.9999999999999775, false),
            (12.0, 24.0, -4.0, 1.0, false),
            (-3.0, 24.0, -1.0, 0.03500687690111242, false),
            (-0.5, 24.0, -1.0, 0.6928306578711271, false),
            (0.0, 24.0, -1.0, 0.8413447460685429, false),
            (0.7, 24.0, -1.0, 0.9539390709962691, false),
            (2.2, 24.0, -1.0, 0.9987981945260921, false),
            (5.0, 24.0, -1.0, 0.9999996275857247, false),
            (12.0, 24.0, -1.0, 0.9999999999999536, false),
            (-3.0, 24.0, 0.3, 0.001286218178626939, false),
            (-0.5, 24.0, 0.3, 0.21395392080767228, false),
            (0.0, 24.0, 0.3, 0.3820885778110474, false),
            (0.7, 24.0, 0.3, 0.6520122741400175, false),
            (2.2, 24.0, 0.3, 0.9633962102280641, false),
            (5.0, 24.0, 0.3, 0.9999396747776039, false),
            (12.0, 24.0, 0.3, 0.9999999999756956, false),
            (-3.0, 24.0, 2.0, 2.1701698170018864e-06, false),
            (-0.5, 24.0, 2.0, 0.00641480996054997, false),
            (0.0, 24.0, 2.0, 0.02275013194817922, false),
            (0.7, 24.0, 2.0, 0.09668353625990772, false),
            (2.2, 24.0, 2.0, 0.5668359505128784, false),
            (5.0, 24.0, 2.0, 0.9922205899723976, false),
            (12.0, 24.0, 2.0, 0.9999999785741124, false),
            (-3.0, 24.0, 6.0, 3.439301802095191e-17, false),
            (-0.5, 24.0, 6.0, 4.631291152005538e-11, false),
            (0.0, 24.0, 6.0, 9.865876450377012e-10, false),
            (0.7, 24.0, 6.0, 6.459600879420964e-08, false),
            (2.2, 24.0, 6.0, 0.00013787618121462105, false),
            (5.0, 24.0, 6.0, 0.1960845499668469, false),
            (12.0, 24.0, 6.0, 0.9990238096150709, false),
            (-3.0, 24.0, 15.0, 2.1695281519119885e-64, true),
            (-0.5, 24.0, 15.0, 3.3737207534978015e-54, false),
            (0.0, 24.0, 15.0, 3.670966199312859e-51, false),
            (0.7, 24.0, 15.0, 2.9590255852823828e-46, false),
            (2.2, 24.0, 15.0, 3.5231733501210298e-34, false),
            (5.0, 24.0, 15.0, 1.4375959881534814e-15, false),
            (12.0, 24.0, 15.0, 0.06104491363997193, false),
            (-3.0, 200.0, -4.0, 0.8395613376978843, false),
            (-0.5, 200.0, -4.0, 0.9997669613657055, false),
            (0.0, 200.0, -4.0, 0.9999683287581669, false),
            (0.7, 200.0, -4.0, 0.999998675165946, false),
            (2.2, 200.0, -4.0, 0.9999999996375235, false),
            (5.0, 200.0, -4.0, 1.0, true),
            (12.0, 200.0, -4.0, 1.0, false),
            (-3.0, 200.0, -1.0, 0.024175373078367337, false),
            (-0.5, 200.0, -1.0, 0.6916273945976236, false),
            (0.0, 200.0, -1.0, 0.8413447460685429, false),
            (0.7, 200.0, -1.0, 0.9552544008138864, false),
            (2.2, 200.0, -1.0, 0.99925905089303, false),
            (5.0, 200.0, -1.0, 0.9999999970386161, false),
            (12.0, 200.0, -1.0, 1.0, false),
            (-3.0, 200.0, 0.3, 0.0005568823893747477, false),
            (-0.5, 200.0, 0.3, 0.2121086859232892, false),
            (0.0, 200.0, 0.3, 0.3820885778110474, false),
            (0.7, 200.0, 0.3, 0.655009671512107, false),
            (2.2, 200.0, 0.3, 0.9703470307266918, false),
            (5.0, 200.0, 0.3, 0.9999973947847806, false),
            (12.0, 200.0, 0.3, 1.0, false),
            (-3.0, 200.0, 2.0, 3.872581078221607e-07, false),
            (-0.5, 200.0, 2.0, 0.00623431187363524, false),
            (0.0, 200.0, 2.0, 0.02275013194817922, false),
            (0.7, 200.0, 2.0, 0.09678692221540552, false),
            (2.2, 200.0, 2.0, 0.5777184211054109, false),
            (5.0, 200.0, 2.0, 0.9981658526283876, false),
            (12.0, 200.0, 2.0, 1.0, false),
            (-3.0, 200.0, 6.0, 2.8182954623890536e-19, true),
            (-0.5, 200.0, 6.0, 4.0872696120251526e-11, false),
            (0.0, 200.0, 6.0, 9.865876450377012e-10, false),
            (0.7, 200.0, 6.0, 5.8659282370283245e-08, false),
            (2.2, 200.0, 6.0, 7.846718502129301e-05, false),
            (5.0, 200.0, 6.0, 0.16447187944815225, false),
            (12.0, 200.0, 6.0, 0.9999998780809064, false),
            (-3.0, 200.0, 15.0, 2.856874839540084e-47, false),
            (-0.5, 200.0, 15.0, 1.8873505140138225e-54, false),
            (0.0, 200.0, 15.0, 3.670966199312859e-51, false),
            (0.7, 200.0, 15.0, 1.2262027799714916e-46, false),
            (2.2, 200.0, 15.0, 2.1658913431171227e-37, false),
            (5.0, 200.0, 15.0, 1.5553388420343282e-22, false),
            (12.0, 200.0, 15.0, 0.0049491379831543055, false),
        ];

        // (x, scipy.special.gammaln(x))
        pub(super) const LN_GAMMA: &[(f64, f64)] = &[
            (0.001, 6.907178885383853),
            (0.1, 2.252712651734206),
            (0.5, 0.5723649429247),
            (1.5, -0.12078223763524526),
            (2.5, 0.2846828704729192),
            (3.7, 1.428072326665388),
            (9.99, 12.779315214350195),
            (10.0, 12.801827480081469),
            (25.5, 56.38916764371994),
            (100.0, 359.1342053695754),
            (10000.0, 82099.71749644238),
            (1000000.0, 12815504.569147611),
        ];

        // (a, b, x, scipy.special.betainc(a, b, x))
        pub(super) const IBETA: &[(f64, f64, f64, f64)] = &[
            (0.5, 0.5, 1.0e-06, 0.0006366198784709245),
            (0.5, 0.5, 0.01, 0.06376856085851985),
            (0.5, 0.5, 0.2, 0.2951672353008665),
            (0.5, 0.5, 0.5, 0.5000000000000001),
            (0.5, 0.5, 0.8, 0.7048327646991335),
            (0.5, 0.5, 0.97, 0.8891753133955407),
            (0.5, 0.5, 0.999, 0.9798649583666235),
            (0.5, 5.0, 1.0e-06, 0.002460934218752953),
            (0.5, 5.0, 0.01, 0.24284189089843747),
            (0.5, 5.0, 0.2, 0.8550723945959195),
            (0.5, 5.0, 0.5, 0.9898804402645663),
            (0.5, 5.0, 0.8, 0.9999136978384684),
            (0.5, 5.0, 0.97, 0.999999993943697),
            (0.5, 5.0, 0.999, 0.9999999999999998),
            (5.0, 0.5, 1.0e-06, 2.460938525391282e-31),
            (5.0, 0.5, 0.01, 2.4712578086395438e-11),
            (5.0, 0.5, 0.2, 8.630216153154252e-05),
            (5.0, 0.5, 0.5, 0.010119559735433718),
            (5.0, 0.5, 0.8, 0.14492760540408042),
            (5.0, 0.5, 0.97, 0.5903491881013443),
            (5.0, 0.5, 0.999, 0.9222819921009667),
            (2.0, 3.0, 1.0e-06, 5.999992000002998e-12),
            (2.0, 3.0, 0.01, 0.0005920299999999999),
            (2.0, 3.0, 0.2, 0.18080000000000004),
            (2.0, 3.0, 0.5, 0.6875),
            (2.0, 3.0, 0.8, 0.9728),
            (2.0, 3.0, 0.97, 0.99989443),
            (2.0, 3.0, 0.999, 0.999999996003),
            (30.0, 0.5, 1.0e-06, 1.0257822264320517e-181),
            (30.0, 0.5, 0.01, 1.0307815466209114e-61),
            (30.0, 0.5, 0.2, 1.2265219714158866e-22),
            (30.0, 0.5, 0.5, 1.3302059355529255e-10),
            (30.0, 0.5, 0.8, 0.00026831214763073076),
            (30.0, 0.5, 0.97, 0.17821754497024148),
            (30.0, 0.5, 0.999, 0.8072373061595369),
            (0.5, 500.0, 1.0e-06, 0.025220823043776385),
            (0.5, 500.0, 0.01, 0.998472642120947),
            (0.5, 500.0, 0.2, 1.0),
            (0.5, 500.0, 0.5, 1.0),
            (0.5, 500.0, 0.8, 1.0),
            (0.5, 500.0, 0.97, 1.0),
            (0.5, 500.0, 0.999, 1.0),
            (150.5, 12.0, 1.0e-06, 0.0),
            (150.5, 12.0, 0.01, 3.0891015262036234e-285),
            (150.5, 12.0, 0.2, 1.9251827963244965e-90),
            (150.5, 12.0, 0.5, 8.988039565013556e-33),
            (150.5, 12.0, 0.8, 2.5502808094506682e-06),
            (150.5, 12.0, 0.97, 0.9963190939153846),
            (150.5, 12.0, 0.999, 1.0),
            (1000.0, 1000.0, 1.0e-06, 0.0),
            (1000.0, 1000.0, 0.01, 0.0),
            (1000.0, 1000.0, 0.2, 2.2479089280361154e-196),
            (1000.0, 1000.0, 0.5, 0.4999999999999992),
            (1000.0, 1000.0, 0.8, 1.0),
            (1000.0, 1000.0, 0.97, 1.0),
            (1000.0, 1000.0, 0.999, 1.0),
        ];

        // (x, scipy.special.ndtr(x))
        pub(super) const NORMAL_CDF: &[(f64, f64)] = &[
            (-37.5, 4.605353009581954e-308),
            (-20.0, 2.7536241186061556e-89),
            (-8.0, 6.22096057427174e-16),
            (-3.0, 0.0013498980316300933),
            (-1.2, 0.11506967022170822),
            (-0.5, 0.3085375387259869),
            (0.0, 0.5),
            (0.3, 0.6179114221889526),
            (1.25, 0.8943502263331446),
            (4.0, 0.9999683287581669),
            (9.0, 1.0),
        ];

        // (effect size, n, alpha, paired, power, scipy_nan): statsmodels TTestPower().power(d, n,
        // alpha) when paired, else TTestIndPower().power(d, n, alpha, ratio=1); scipy_nan: statsmodels
        // gives NaN (SciPy's nctdtr fails in the far tail), the value is its formula with mpmath.
        pub(super) const POWER: &[(f64, f64, f64, bool, f64, bool)] = &[
            (0.2, 2.0, 0.05, true, 0.05197844977094976, false),
            (0.2, 3.0, 0.05, true, 0.05554127596478557, false),
            (0.2, 5.0, 0.05, true, 0.06426957404800915, false),
            (0.2, 10.0, 0.05, true, 0.08765715402846737, false),
            (0.2, 30.0, 0.05, true, 0.18518338712591942, false),
            (0.2, 100.0, 0.05, true, 0.508264806621038, false),
            (0.5, 2.0, 0.05, true, 0.06194860668713362, false),
            (0.5, 3.0, 0.05, true, 0.0841070558963894, false),
            (0.5, 5.0, 0.05, true, 0.140516689990298, false),
            (0.5, 10.0, 0.05, true, 0.2931756065140767, false),
            (0.5, 30.0, 0.05, true, 0.75396471574379, false),
            (0.5, 100.0, 0.05, true, 0.9986097259857082, false),
            (0.8, 2.0, 0.05, true, 0.07882061454243196, false),
            (0.8, 3.0, 0.05, true, 0.1348853992309049, false),
            (0.8, 5.0, 0.05, true, 0.2809920635173735, false),
            (0.8, 10.0, 0.05, true, 0.6162327634744059, false),
            (0.8, 30.0, 0.05, true, 0.9884752400890072, false),
            (0.8, 100.0, 0.05, true, 0.9999999987452569, false),
            (1.5, 2.0, 0.05, true, 0.13295212415702737, false),
            (1.5, 3.0, 0.05, true, 0.3163818615591505, false),
            (1.5, 5.0, 0.05, true, 0.7107026739256754, false),
            (1.5, 10.0, 0.05, true, 0.9872769125845403, false),
            (1.5, 30.0, 0.05, true, 0.9999999987763708, false),
            (1.5, 100.0, 0.05, true, 1.0, true),
            (3.0, 2.0, 0.05, true, 0.26077071422910936, false),
            (3.0, 3.0, 0.05, true, 0.7452680070062834, false),
            (3.0, 5.0, 0.05, true, 0.9976795774377042, false),
            (3.0, 10.0, 0.05, true, 0.9999999998506112, true),
            (3.0, 30.0, 0.05, true, 1.0, false),
            (3.0, 100.0, 0.05, true, 1.0, true),
            (10.0, 2.0, 0.05, true, 0.7328195898057117, false),
            (10.0, 3.0, 0.05, true, 0.9999995771690124, true),
            (10.0, 5.0, 0.05, true, 1.0, false),
            (10.0, 10.0, 0.05, true, 1.0, true),
            (10.0, 30.0, 0.05, true, 1.0, false),
            (10.0, 100.0, 0.05, true, 1.0, false),
            (0.2, 2.0, 0.01, true, 0.010397287847608894, false),
            (0.2, 3.0, 0.01, true, 0.011181354590960695, false),
            (0.2, 5.0, 0.01, true, 0.013535823784837992, false),
            (0.2, 10.0, 0.01, true, 0.02121207947409411, false),
            (0.2, 30.0, 0.01, true, 0.06174533813159499, false),
            (0.2, 100.0, 0.01, true, 0.2711856140201322, false),
            (0.5, 2.0, 0.01, true, 0.012400373251621119, false),
            (0.5, 3.0, 0.01, true, 0.01736037743411658, false),
            (0.5, 5.0, 0.01, true, 0.03418409854557359, false),
            (0.5, 10.0, 0.01, true, 0.1026975095395999, false),
            (0.5, 30.0, 0.01, true, 0.5025554971271597, false),
            (0.5, 100.0, 0.01, true, 0.9903473220414916, false),
            (0.8, 2.0, 0.01, true, 0.015794377900016598, false),
            (0.8, 3.0, 0.01, true, 0.02873344835378481, false),
            (0.8, 5.0, 0.01, true, 0.08003753123666016, false),
            (0.8, 10.0, 0.01, true, 0.3096979155434131, false),
            (0.8, 30.0, 0.01, true, 0.939450604467532, false),
            (0.8, 100.0, 0.01, true, 0.9999999378748095, true),
            (1.5, 2.0, 0.01, true, 0.026733640907350944, false),
            (1.5, 3.0, 0.01, true, 0.07430718798124414, false),
            (1.5, 5.0, 0.01, true, 0.31253614993773066, false),
            (1.5, 10.0, 0.01, true, 0.8957205519224344, false),
            (1.5, 30.0, 0.01, true, 0.999999860106932, true),
            (1.5, 100.0, 0.01, true, 1.0, false),
            (3.0, 2.0, 0.01, true, 0.053132159214404194, false),
            (3.0, 3.0, 0.01, true, 0.24323335492905804, false),
            (3.0, 5.0, 0.01, true, 0.8947142418520222, false),
            (3.0, 10.0, 0.01, true, 0.9999994161807966, true),
            (3.0, 30.0, 0.01, true, 1.0, true),
            (3.0, 100.0, 0.01, true, 1.0, false),
            (10.0, 2.0, 0.01, true, 0.1757912167617932, false),
            (10.0, 3.0, 0.01, true, 0.9499658914863571, false),
            (10.0, 5.0, 0.01, true, 0.9999999999999998, true),
            (10.0, 10.0, 0.01, true, 1.0, true),
            (10.0, 30.0, 0.01, true, 1.0, false),
            (10.0, 100.0, 0.01, true, 1.0, false),
            (0.2, 2.0, 0.05, false, 0.05185069498594974, false),
            (0.2, 3.0, 0.05, false, 0.05426752635112775, false),
            (0.2, 5.0, 0.05, false, 0.05904263425365329, false),
            (0.2, 10.0, 0.05, false, 0.07082134518931064, false),
            (0.2, 30.0, 0.05, false, 0.11867943556403769, false),
            (0.2, 100.0, 0.05, false, 0.29064587165908673, false),
            (0.5, 2.0, 0.05, false, 0.06150785655602509, false),
            (0.5, 3.0, 0.05, false, 0.07684904996035902, false),
            (0.5, 5.0, 0.05, false, 0.10768598979755588, false),
            (0.5, 10.0, 0.05, false, 0.18509565629116606, false),
            (0.5, 30.0, 0.05, false, 0.4778965207601643, false),
            (0.5, 100.0, 0.05, false, 0.9404272037724145, false),
            (0.8, 2.0, 0.05, false, 0.07918238751785182, false),
            (0.8, 3.0, 0.05, false, 0.11932928311866443, false),
            (0.8, 5.0, 0.05, false, 0.2007394526520355, false),
            (0.8, 10.0, 0.05, false, 0.39506921211364077, false),
            (0.8, 30.0, 0.05, false, 0.8614225160229566, false),
            (0.8, 100.0, 0.05, false, 0.9998783800338592, false),
            (1.5, 2.0, 0.05, false, 0.148691579150247, false),
            (1.5, 3.0, 0.05, false, 0.2931947003055979, false),
            (1.5, 5.0, 0.05, false, 0.549385597762396, false),
            (1.5, 10.0, 0.05, false, 0.8869702022546694, false),
            (1.5, 30.0, 0.05, false, 0.9999119865087325, false),
            (1.5, 100.0, 0.05, false, 1.0, false),
            (3.0, 2.0, 0.05, false, 0.38740012852597094, false),
            (3.0, 3.0, 0.05, false, 0.7825543870581168, false),
            (3.0, 5.0, 0.05, false, 0.9847017142359549, false),
            (3.0, 10.0, 0.05, false, 0.9999935266852682, false),
            (3.0, 30.0, 0.05, false, 1.0, true),
            (3.0, 100.0, 0.05, false, 1.0, true),
            (10.0, 2.0, 0.05, false, 0.992746660492083, false),
            (10.0, 3.0, 0.05, false, 0.9999999998908728, false),
            (10.0, 5.0, 0.05, false, 1.0, true),
            (10.0, 10.0, 0.05, false, 1.0, true),
            (10.0, 30.0, 0.05, false, 1.0, true),
            (10.0, 100.0, 0.05, false, 1.0, false),
            (0.2, 2.0, 0.01, false, 0.01039394160042133, false),
            (0.2, 3.0, 0.01, false, 0.01104634910082624, false),
            (0.2, 5.0, 0.01, false, 0.01253670698961833, false),
            (0.2, 10.0, 0.01, false, 0.016512300268472675, false),
            (0.2, 30.0, 0.01, false, 0.034582094224353745, false),
            (0.2, 100.0, 0.01, false, 0.12034614604268745, false),
            (0.5, 2.0, 0.01, false, 0.012459564648223877, false),
            (0.5, 3.0, 0.01, false, 0.016739916927550374, false),
            (0.5, 5.0, 0.01, false, 0.027330970076859466, false),
            (0.5, 10.0, 0.01, false, 0.05992192201824209, false),
            (0.5, 30.0, 0.01, false, 0.24371972397289726, false),
            (0.5, 100.0, 0.01, false, 0.8238224887775726, false),
            (0.8, 2.0, 0.01, false, 0.016284289585566266, false),
            (0.8, 3.0, 0.01, false, 0.028152744742286254, false),
            (0.8, 5.0, 0.01, false, 0.06074815209613026, false),
            (0.8, 10.0, 0.01, false, 0.17167003814487386, false),
            (0.8, 30.0, 0.01, false, 0.6677563089860228, false),
            (0.8, 100.0, 0.01, false, 0.9987906527667917, false),
            (1.5, 2.0, 0.01, false, 0.0319173720088661, false),
            (1.5, 3.0, 0.01, false, 0.08452864798640901, false),
            (1.5, 5.0, 0.01, false, 0.2505331626195354, false),
            (1.5, 10.0, 0.01, false, 0.6797662953874919, false),
            (1.5, 30.0, 0.01, false, 0.9989076303722463, false),
            (1.5, 100.0, 0.01, false, 0.999999999999999, true),
            (3.0, 2.0, 0.01, false, 0.09480087861452545, false),
            (3.0, 3.0, 0.01, false, 0.37777660168445604, false),
            (3.0, 5.0, 0.01, false, 0.8741515240554791, false),
            (3.0, 10.0, 0.01, false, 0.9997383764778407, false),
            (3.0, 30.0, 0.01, false, 1.0, true),
            (3.0, 100.0, 0.01, false, 1.0, true),
            (10.0, 2.0, 0.01, false, 0.6339737899013808, false),
            (10.0, 3.0, 0.01, false, 0.9999313004447546, false),
            (10.0, 5.0, 0.01, false, 1.0, false),
            (10.0, 10.0, 0.01, false, 1.0, false),
            (10.0, 30.0, 0.01, false, 1.0, true),
            (10.0, 100.0, 0.01, false, 1.0, false),
        ];

        // (delta, pooled std, alpha, power, paired, smallest n whose statsmodels power reaches
        // `power`, scanning n = 2..=10000, NaN powers replaced by mpmath's; None past that).
        pub(super) const SEEDS_NEEDED: &[SeedsRow] = &[
            (0.01, 0.01, 0.05, 0.8, true, Some(10)),
            (0.01, 0.01, 0.05, 0.8, false, Some(17)),
            (0.01, 0.01, 0.01, 0.9, true, Some(19)),
            (0.01, 0.01, 0.01, 0.9, false, Some(32)),
            (0.005, 0.02, 0.05, 0.8, true, Some(128)),
            (0.005, 0.02, 0.05, 0.8, false, Some(253)),
            (0.005, 0.02, 0.01, 0.9, true, Some(242)),
            (0.005, 0.02, 0.01, 0.9, false, Some(478)),
            (0.02, 0.005, 0.05, 0.8, true, Some(3)),
            (0.02, 0.005, 0.05, 0.8, false, Some(3)),
            (0.02, 0.005, 0.01, 0.9, true, Some(5)),
            (0.02, 0.005, 0.01, 0.9, false, Some(4)),
            (-0.01, 0.015, 0.05, 0.8, true, Some(20)),
            (-0.01, 0.015, 0.05, 0.8, false, Some(37)),
            (-0.01, 0.015, 0.01, 0.9, true, Some(37)),
            (-0.01, 0.015, 0.01, 0.9, false, Some(69)),
            (0.05, 0.001, 0.05, 0.8, true, Some(2)),
            (0.05, 0.001, 0.05, 0.8, false, Some(2)),
            (0.05, 0.001, 0.01, 0.9, true, Some(3)),
            (0.05, 0.001, 0.01, 0.9, false, Some(2)),
            (0.003, 0.004, 0.05, 0.8, true, Some(16)),
            (0.003, 0.004, 0.05, 0.8, false, Some(29)),
            (0.003, 0.004, 0.01, 0.9, true, Some(30)),
            (0.003, 0.004, 0.01, 0.9, false, Some(55)),
            (0.001, 0.05, 0.05, 0.8, true, None),
            (0.001, 0.05, 0.05, 0.8, false, None),
            (0.001, 0.05, 0.01, 0.9, true, None),
            (0.001, 0.05, 0.01, 0.9, false, None),
        ];
    }
    // END GENERATED FIXTURES
    use fixtures::*;

    #[test]
    fn mean_interval_matches_scipy_t_interval() {
        for case in MEAN_CASES {
            let got = mean_interval(case.values, case.level).unwrap();
            let what = format!("n = {}", case.values.len());
            assert_eq!(got.n, case.values.len());
            assert_rel(got.mean, case.mean, &format!("{what}: mean"));
            assert_rel(got.std, case.std, &format!("{what}: std"));
            assert_rel(got.low, case.low, &format!("{what}: low"));
            assert_rel(got.high, case.high, &format!("{what}: high"));
        }
        assert_eq!(mean_interval(&[0.5], 0.95), None);
        assert_eq!(mean_interval(&[], 0.95), None);
    }

    fn check_t_test(case: &TestCase, got: &Difference, kind: TestKind) {
        let name = case.name;
        assert_eq!(got.test, kind);
        assert_rel(got.delta, case.delta, &format!("{name}: delta"));
        assert_rel(got.low, case.low, &format!("{name}: low"));
        assert_rel(got.high, case.high, &format!("{name}: high"));
        assert_rel(got.statistic, case.statistic, &format!("{name}: t"));
        assert_rel(got.df.unwrap(), case.df, &format!("{name}: df"));
        if case.p.is_nan() {
            assert_eq!(got.p_value, None, "{name}");
            assert!(got.why_no_p.as_deref().unwrap().starts_with("no variance"), "{name}");
        } else {
            assert_rel(got.p_value.unwrap(), case.p, &format!("{name}: p"));
            assert_eq!(got.why_no_p, None, "{name}");
        }
    }

    #[test]
    fn paired_t_matches_scipy_ttest_rel() {
        for case in PAIRED_CASES {
            check_t_test(case, &paired_t(case.a, case.b, case.level).unwrap(), TestKind::PairedT);
        }
    }

    #[test]
    fn welch_t_matches_scipy_ttest_ind_unequal_var() {
        for case in WELCH_CASES {
            check_t_test(case, &welch_t(case.a, case.b, case.level).unwrap(), TestKind::WelchT);
        }
    }

    #[test]
    fn t_tests_refuse_fewer_than_two() {
        let e = paired_t(&[0.5], &[0.4], 0.95).unwrap_err();
        assert_eq!((e.test, e.n, e.needed), (TestKind::PairedT, 1, 2));
        assert_eq!(e.to_string(), "n = 1 pair: a paired t-test needs at least 2 pairs");
        let e = welch_t(&[0.5, 0.6, 0.7], &[0.4], 0.95).unwrap_err();
        assert_eq!((e.test, e.n, e.needed), (TestKind::WelchT, 1, 2));
        assert_eq!(
            e.to_string(),
            "n = 3 and 1 seeds: Welch's t-test needs at least 2 seeds of each variant"
        );
        assert!(welch_t(&[], &[0.4, 0.5], 0.95).is_err());
    }

    #[test]
    fn wilcoxon_matches_scipy() {
        for case in WILCOXON_CASES {
            let name = case.name;
            let got = wilcoxon(case.a, case.b, case.level, case.alpha).unwrap();
            assert_eq!(got.test, TestKind::Wilcoxon);
            assert_eq!(got.df, None);
            assert_eq!(got.statistic, case.statistic, "{name}: statistic");
            assert_rel(got.p_value.unwrap(), case.p, &format!("{name}: p"));
            assert_rel(got.delta, case.delta, &format!("{name}: delta"));
            assert_rel(got.low, case.low, &format!("{name}: low"));
            assert_rel(got.high, case.high, &format!("{name}: high"));
        }
    }

    #[test]
    fn wilcoxon_refuses_when_p_cannot_reach_alpha() {
        for case in WILCOXON_REFUSED {
            let name = case.name;
            let e = wilcoxon(case.a, case.b, 0.95, case.alpha).unwrap_err();
            assert_eq!(
                (e.test, e.n, e.needed),
                (TestKind::Wilcoxon, case.n, case.needed),
                "{name}"
            );
            // The rule: 2 / 2^n, SciPy's p for n all-positive differences, exceeds alpha.
            assert_eq!((1.0 - case.n as f64).exp2().min(1.0), case.smallest_p, "{name}");
            assert!(case.smallest_p > case.alpha, "{name}");
            assert!(e.to_string().contains(&format!("below {} pairs", case.needed)), "{name}");
        }
        let e = wilcoxon(&[0.71, 0.72, 0.73, 0.74, 0.75], &[0.7; 5], 0.95, 0.05).unwrap_err();
        assert_eq!(
            e.to_string(),
            "n = 5 pairs: the signed-rank test cannot reach p ≤ 0.05 below 6 pairs"
        );
        let e = wilcoxon(&[0.71, 0.7, 0.7, 0.72], &[0.7; 4], 0.95, 0.05).unwrap_err();
        assert_eq!(
            e.to_string(),
            "n = 2 pairs with a non-zero difference (2 zero differences are dropped): \
             the signed-rank test cannot reach p ≤ 0.05 below 6 pairs"
        );
    }

    #[test]
    fn holm_and_bh_match_statsmodels() {
        for case in ADJUST_CASES {
            let (holm_got, bh_got) = (holm(case.p), benjamini_hochberg(case.p));
            assert_eq!(holm_got.len(), case.p.len());
            assert_eq!(bh_got.len(), case.p.len());
            for i in 0..case.p.len() {
                assert_rel(holm_got[i], case.holm[i], &format!("holm {:?}[{i}]", case.p));
                assert_rel(bh_got[i], case.bh[i], &format!("bh {:?}[{i}]", case.p));
            }
        }
    }

    #[test]
    fn t_cdf_matches_scipy() {
        for &(t, df, want) in T_CDF {
            assert_rel(t_cdf(t, df), want, &format!("t_cdf({t}, {df})"));
        }
        assert_eq!(t_cdf(f64::INFINITY, 3.0), 1.0);
        assert_eq!(t_cdf(f64::NEG_INFINITY, 3.0), 0.0);
        assert_eq!(t_cdf(0.0, 3.0), 0.5);
        assert!(t_cdf(f64::NAN, 3.0).is_nan());
    }

    #[test]
    fn t_quantile_matches_scipy() {
        for &(p, df, want) in T_PPF {
            let got = t_quantile(p, df);
            assert_rel(got, want, &format!("t_quantile({p}, {df})"));
            // Full precision: the CDF of the answer gives p back.
            assert_rel(t_cdf(got, df), p, &format!("t_cdf(t_quantile({p}, {df}))"));
        }
        // Far tails, where x = df / (df + t²) underflows: the Cauchy quantile is −1 / (π p).
        assert_rel(t_quantile(1e-300, 1.0), -1.0 / (PI * 1e-300), "Cauchy quantile at 1e-300");
        assert_rel(t_cdf(-1e200, 1.0), 1.0 / (PI * 1e200), "Cauchy CDF at -1e200");
        assert_eq!(t_quantile(1e-300, 0.5), f64::NEG_INFINITY);
        assert_eq!(t_quantile(0.5, 7.0), 0.0);
        assert_eq!(t_quantile(0.0, 7.0), f64::NEG_INFINITY);
        assert_eq!(t_quantile(1.0, 7.0), f64::INFINITY);
        assert!(t_quantile(1.5, 7.0).is_nan());
    }

    #[test]
    fn special_functions_match_scipy_special() {
        for &(x, want) in LN_GAMMA {
            assert_rel(ln_gamma(x), want, &format!("ln_gamma({x})"));
        }
        for &(a, b, x, want) in IBETA {
            assert_rel(ibeta(a, b, x), want, &format!("ibeta({a}, {b}, {x})"));
        }
        for &(x, want) in NORMAL_CDF {
            assert_rel(normal_cdf(x), want, &format!("normal_cdf({x})"));
        }
    }

    #[test]
    fn noncentral_t_cdf_matches_scipy_nctdtr() {
        for &(t, df, nc, want, scipy_nan) in NCT_CDF {
            let what = format!("nct_cdf({t}, {df}, {nc}), SciPy NaN: {scipy_nan}");
            assert_abs(nct_cdf(t, df, nc), want, &what);
        }
    }

    #[test]
    fn power_matches_statsmodels() {
        for &(d, n, alpha, paired, want, scipy_nan) in POWER {
            let got = t_test_power(d, n, alpha, paired);
            let what =
                format!("power(d = {d}, n = {n}, {alpha}, paired {paired}), NaN: {scipy_nan}");
            assert_abs(got, want, &what);
        }
    }

    #[test]
    fn seeds_needed_matches_statsmodels_scan() {
        for &(delta, std, alpha, power, paired, want) in SEEDS_NEEDED {
            let got = seeds_needed(delta, std, alpha, power, paired);
            assert_eq!(got, want, "seeds_needed({delta}, {std}, {alpha}, {power}, {paired})");
        }
        assert_eq!(seeds_needed(0.0, 0.01, 0.05, 0.8, true), None);
        assert_eq!(seeds_needed(0.01, 0.0, 0.05, 0.8, true), None);
        assert_eq!(seeds_needed(0.01, f64::NAN, 0.05, 0.8, false), None);
        // A huge effect (seeds that barely vary) needs the minimum and returns at once, even
        // when the noncentrality δ²/2 overflows.
        assert_eq!(seeds_needed(0.05, 1e-9, 0.05, 0.8, false), Some(2));
        assert_eq!(seeds_needed(0.05, 1e-300, 0.05, 0.8, true), Some(2));
    }

    #[test]
    fn nan_values_give_no_p_and_say_why() {
        let (a, b) = ([0.5, f64::NAN, 0.7, 0.6, 0.8, 0.55], [0.4, 0.5, 0.6, 0.5, 0.7, 0.5]);
        for d in [
            paired_t(&a, &b, 0.95).unwrap(),
            welch_t(&a, &b, 0.95).unwrap(),
            wilcoxon(&a, &b, 0.95, 0.05).unwrap(),
        ] {
            assert_eq!(d.p_value, None, "{}", d.test);
            assert_eq!(d.why_no_p.as_deref(), Some("a seed's value is NaN"), "{}", d.test);
        }
    }

    #[test]
    fn test_kind_names() {
        assert_eq!(TestKind::PairedT.to_string(), "paired t");
        assert_eq!(TestKind::WelchT.to_string(), "Welch t");
        assert_eq!(TestKind::Wilcoxon.to_string(), "Wilcoxon signed-rank");
        for kind in [TestKind::PairedT, TestKind::WelchT, TestKind::Wilcoxon] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<TestKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn numpy_pairwise_sum_order() {
        // 0.1 added 1000 times: NumPy's pairwise order gives 100.00000000000001 where a plain
        // loop gives 99.9999999999986.
        let x = vec![0.1; 1000];
        assert_eq!(np_sum(&x), 100.000_000_000_000_01);
    }
}

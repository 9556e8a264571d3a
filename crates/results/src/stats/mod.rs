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
use std::fmt;

mod numpy;
mod special;
#[cfg(test)]
mod tests;

use numpy::*;
use special::*;

/// The largest sample size [`seeds_needed`] considers.
pub const MAX_SEEDS: u64 = 10_000;

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

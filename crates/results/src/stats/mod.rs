//! Honest statistics for `ablate compare`: t-based confidence intervals of a mean over seeds,
//! tests of the difference between two variants (paired t, Welch t, Wilcoxon signed-rank),
//! multiple-comparison corrections (Holm, Benjamini–Hochberg) and the number of seeds a t-test
//! needs to detect a difference with a given power.
//!
//! Every value matches SciPy / statsmodels (the exact functions are named on each item; the
//! tests pin them to 1e-9 against fixtures made by `scripts/dev/stats_fixtures.py` with SciPy
//! 1.17.1 and statsmodels 0.15.0). Means and variances are summed in NumPy's pairwise order, so
//! degenerate inputs (zero variance, ties, zero differences) take the same branch as SciPy
//! (`numpy`). Here: intervals, the t-tests and the corrections; `wilcoxon` the signed-rank
//! test, `power` the seeds a difference needs, `student_t` the central and noncentral t
//! distributions, and `special` the functions under them (log-gamma, the regularized
//! incomplete beta, the normal CDF and quantile). `delong` is DeLong's test of AUROC
//! differences on one test set, `bootstrap` the draws of the hierarchical bootstrap over seeds
//! and test images and what is read off its replicates. Standard library only, but for the
//! serde names of [`TestKind`] and the bootstrap's seeded generator (`rand_chacha`). `tests`
//! holds the SciPy-matched tests, `tests/fixtures.rs` their generated expected values, and
//! `tests/resampling` those of DeLong, percentiles and the normal quantile
//! (`scripts/dev/bootstrap_fixtures.py`).
//!
//! Inputs are per-seed metric values (e.g. macro-F1), seed i of one variant paired with seed i
//! of the other in the paired tests. A test that has no p-value says why (`why_no_p`); a test
//! that cannot be run at all returns [`TooFew`], whose message says why in words.
use std::error::Error;
use std::fmt;

pub(crate) mod bootstrap;
pub(crate) mod delong;
mod numpy;
mod power;
mod special;
mod student_t;
#[cfg(test)]
mod tests;
mod wilcoxon;

use numpy::*;
pub(crate) use power::{seeds_for_width, seeds_needed};
pub(crate) use special::normal_cdf;
pub(crate) use student_t::{t_cdf, t_quantile};
pub(crate) use wilcoxon::wilcoxon;

/// The largest sample size [`seeds_needed`] considers.
pub(crate) const MAX_SEEDS: u64 = 10_000;

/// A t-based confidence interval of a mean over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MeanInterval {
    /// Sample mean.
    pub(crate) mean: f64,
    /// Sample standard deviation (n − 1 in the denominator, `np.std(values, ddof=1)`).
    pub(crate) std: f64,
    /// Number of values.
    pub(crate) n: usize,
    /// Lower end of the interval.
    pub(crate) low: f64,
    /// Upper end of the interval.
    pub(crate) high: f64,
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
pub(crate) fn mean_interval(values: &[f64], level: f64) -> Option<MeanInterval> {
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
    /// The hierarchical bootstrap over seeds and test images (`bootstrap`).
    #[serde(rename = "bootstrap")]
    Bootstrap,
    /// DeLong's test of an AUROC difference on the same test images (`delong`).
    #[serde(rename = "DeLong")]
    DeLong,
}

impl fmt::Display for TestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TestKind::PairedT => "paired t",
            TestKind::WelchT => "Welch t",
            TestKind::Wilcoxon => "Wilcoxon signed-rank",
            TestKind::Bootstrap => "bootstrap",
            TestKind::DeLong => "DeLong",
        })
    }
}

/// The difference `a − b` between two variants, its confidence interval and a test of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Difference {
    /// Point estimate of `a − b`: the mean per-seed difference (paired tests) or the
    /// difference of the means (Welch).
    pub(crate) delta: f64,
    /// Lower end of the t-based confidence interval of `delta`.
    pub(crate) low: f64,
    /// Upper end of the t-based confidence interval of `delta`.
    pub(crate) high: f64,
    /// The test statistic as SciPy reports it: t (±∞ or NaN in the degenerate cases) or, for
    /// Wilcoxon, min(R+, R−).
    pub(crate) statistic: f64,
    /// Degrees of freedom of the t distribution (`None` for Wilcoxon).
    pub(crate) df: Option<f64>,
    /// Two-sided p-value; `None` where SciPy's is NaN, with the reason in `why_no_p`.
    pub(crate) p_value: Option<f64>,
    /// The test that produced the p-value.
    pub(crate) test: TestKind,
    /// Why there is no p-value, when there is none.
    pub(crate) why_no_p: Option<String>,
}

/// Why a test cannot be run on the data at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooFew {
    /// The test that was refused.
    pub(crate) test: TestKind,
    /// What the data had: pairs (paired t), seeds of the smaller group (Welch), pairs with a
    /// non-zero difference (Wilcoxon).
    pub(crate) n: usize,
    /// The fewest that the test needs.
    pub(crate) needed: usize,
    reason: String,
}

impl TooFew {
    /// The explanation in words (also what `Display` prints).
    pub(crate) fn reason(&self) -> &str {
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
pub(crate) fn paired_t(a: &[f64], b: &[f64], level: f64) -> Result<Difference, TooFew> {
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
pub(crate) fn welch_t(a: &[f64], b: &[f64], level: f64) -> Result<Difference, TooFew> {
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

/// Holm's step-down adjusted p-values, in the input order:
/// `statsmodels.stats.multitest.multipletests(p, method='holm')[1]`.
/// A NaN p-value stays NaN and does not affect the others (statsmodels sorts it last).
pub(crate) fn holm(p: &[f64]) -> Vec<f64> {
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
pub(crate) fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
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

/// `np.maximum`: NaN propagates.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

/// `np.minimum`: NaN propagates.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}

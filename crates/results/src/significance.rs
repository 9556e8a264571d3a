//! The statistics of a comparison's cells: how sure a mean is, and whether a difference from the
//! baseline is more than seed noise.
//!
//! A cell pools one metric of one variant over its seeds: each distinct stage result is one
//! [`Sample`] (a result several seeds share counts once). From the samples come the mean, the
//! sample standard deviation (n − 1) and the t-based confidence interval of the mean.
//!
//! Against the baseline row, Δ is the difference of the means. Two rows are *paired* when every
//! sample of both belongs to exactly one seed and both ran the same seeds: then seed i of the
//! row is compared with seed i of the baseline, by the paired t-test (or the Wilcoxon
//! signed-rank test with `--test wilcoxon`); otherwise by Welch's t-test. Δ's confidence
//! interval is the test's t-interval. Where a test cannot run (fewer than 2 seeds, or too few
//! pairs for the signed-rank test to reach `alpha`), the cell says why instead of a p-value.
//!
//! The p-values of one column are adjusted across the rows of the table (Holm by default,
//! Benjamini–Hochberg or none), and a row is significant when its adjusted p is below `alpha`.
//! On request, each row also gets the number of seeds that would detect its observed Δ with
//! 80 % power at `alpha`, from the standard deviation of the paired differences or the pooled
//! standard deviation of the two rows. The numbers themselves come from [`super::stats`],
//! which matches SciPy and statsmodels.
//!
//! These intervals see the seeds alone: every seed is measured on the same test images, so
//! how much a number would move on another test set is not in them. With
//! [`Interval::Bootstrap`] the cells whose metric the stored predictions give back are
//! re-scored instead (`compare::rescore`): the interval of the mean, Δ's interval and Δ's
//! p-value come from a hierarchical bootstrap over seeds and test images, the t statistics are
//! kept beside them ([`Cell::t`]), and a cell that cannot be re-scored keeps its t statistics
//! and says why ([`Cell::fallback`]). [`PairedTest::DeLong`] tests per-label AUROC columns by
//! DeLong's test on the test images.
use serde::{Deserialize, Serialize};

pub use super::stats::TestKind;
pub use super::stats::bootstrap::{QUANTILES, Spread};
use super::stats::{self, Difference};

/// The power `--seeds-needed` aims for.
pub const POWER: f64 = 0.8;

/// Confidence level of the tests' intervals when intervals are hidden (`--ci 0`); the p-values
/// do not depend on it.
const HIDDEN_LEVEL: f64 = 0.95;

/// How cells are summarised and compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Level of every confidence interval, in (0, 1); `None` hides them.
    pub ci: Option<f64>,
    /// The test of paired rows.
    pub paired_test: PairedTest,
    pub adjustment: Adjustment,
    /// Significance level of the adjusted p-values.
    pub alpha: f64,
    /// Whether each row gets the seeds needed for [`POWER`].
    pub seeds_needed: bool,
    /// What the intervals and Δ's test account for: seeds (t) or seeds and test images
    /// (bootstrap).
    pub interval: Interval,
    /// The bootstrap's replicates and seed.
    pub bootstrap: Bootstrap,
}

/// How the intervals of the means and of Δ, and Δ's p-value, are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// From the seeds' values alone: t-intervals and t-tests (or `--test`).
    #[default]
    T,
    /// The hierarchical bootstrap over seeds and test images, re-scoring the stored predictions.
    Bootstrap,
}

impl Interval {
    pub fn name(self) -> &'static str {
        match self {
            Interval::T => "t",
            Interval::Bootstrap => "bootstrap",
        }
    }
}

/// The bootstrap's size and seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Replicates, B.
    pub replicates: u32,
    /// The seed every replicate's draw derives from.
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Bootstrap {
        Bootstrap { replicates: 2000, seed: 0 }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            ci: Some(0.95),
            paired_test: PairedTest::T,
            adjustment: Adjustment::Holm,
            alpha: 0.05,
            seeds_needed: false,
            interval: Interval::T,
            bootstrap: Bootstrap::default(),
        }
    }
}

impl Settings {
    /// Whether the statistics re-score the stored predictions, which needs the datasets.
    pub fn reads_predictions(&self) -> bool {
        self.interval == Interval::Bootstrap || self.paired_test == PairedTest::DeLong
    }

    /// The level the tests compute their intervals at.
    fn level(&self) -> f64 {
        self.ci.unwrap_or(HIDDEN_LEVEL)
    }
}

/// The test of two rows that ran the same seeds (rows that did not are compared by Welch's
/// t-test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairedTest {
    /// The paired t-test.
    T,
    /// The Wilcoxon signed-rank test (needs 6 pairs at alpha 0.05).
    Wilcoxon,
    /// For per-label AUROC columns, DeLong's test on the test images, the seeds pooled (other
    /// columns: as without it).
    #[serde(rename = "delong")]
    DeLong,
}

/// How the p-values of a column are adjusted for testing many rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Adjustment {
    /// Holm's step-down method (controls the family-wise error rate).
    Holm,
    /// Benjamini–Hochberg (controls the false discovery rate).
    Bh,
    /// No adjustment.
    None,
}

impl Adjustment {
    pub fn name(self) -> &'static str {
        match self {
            Adjustment::Holm => "Holm",
            Adjustment::Bh => "Benjamini–Hochberg",
            Adjustment::None => "none",
        }
    }

    fn apply(self, p: &[f64]) -> Vec<f64> {
        match self {
            Adjustment::Holm => stats::holm(p),
            Adjustment::Bh => stats::benjamini_hochberg(p),
            Adjustment::None => p.to_vec(),
        }
    }
}

/// One value of a cell: a distinct stage result and the seeds whose variant used it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub seeds: Vec<String>,
    pub value: f64,
    /// The result, by its index among the compared results (the first variant's that used it).
    pub result: usize,
}

/// One metric of one row, its seeds pooled, and its comparison with the baseline row. The
/// fields are the keys of `compare --format json`; the HTML report shows the same struct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cell {
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for one value.
    pub std: Option<f64>,
    /// Distinct results pooled.
    pub n: usize,
    /// Confidence interval of the mean; `None` below 2 values or when hidden.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// This mean minus the baseline's (0 in the baseline row); `None` without a baseline value.
    pub delta: Option<f64>,
    /// Confidence interval of `delta`, from its test.
    pub delta_ci_low: Option<f64>,
    pub delta_ci_high: Option<f64>,
    /// Two-sided p-value of the test against the baseline.
    pub p_value: Option<f64>,
    /// `p_value` adjusted across the rows of the table.
    pub p_adjusted: Option<f64>,
    /// The test that compared the row with the baseline (also when it could not run).
    pub test: Option<TestKind>,
    /// `p_adjusted < alpha`.
    pub significant: bool,
    /// Why there is no p-value, where a test was due.
    pub note: Option<String>,
    /// Seeds per variant that detect `delta` with 80 % power (`--seeds-needed`).
    pub seeds_needed: Option<u64>,
    /// How `ci_low`, `ci_high`, Δ's interval and `p_value` were computed.
    pub interval: Interval,
    /// With the bootstrap: the t statistics it replaced in this cell (the report shows both).
    pub t: Option<TStatistics>,
    /// With `--interval bootstrap` or `--test delong`: why this cell, or its Δ, kept its t
    /// statistics (no predictions to re-score, a metric the bootstrap does not re-score).
    pub fallback: Option<String>,
    /// The bootstrap replicates of the mean, summarised.
    pub replicates: Option<Spread>,
    /// The bootstrap replicates of Δ, summarised.
    pub delta_replicates: Option<Spread>,
    /// DeLong's test of Δ on the test images, in per-label AUROC columns whose predictions were
    /// read (`--interval bootstrap`, `--test delong`).
    pub delong: Option<DeLong>,
}

/// The t-based statistics of a cell, kept beside the bootstrap's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TStatistics {
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub delta_ci_low: Option<f64>,
    pub delta_ci_high: Option<f64>,
    pub p_value: Option<f64>,
    pub test: Option<TestKind>,
}

/// DeLong's test of a row's mean AUROC minus the baseline's, on their common test images.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeLong {
    pub delta: f64,
    /// Its standard error over test images, the trained models fixed.
    pub se: f64,
    pub z: f64,
    /// Two-sided; `None` when `se` is 0.
    pub p_value: Option<f64>,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl Cell {
    /// The pooled samples: mean, standard deviation, n and the interval of the mean. `None`
    /// without samples.
    pub fn pool(samples: &[Sample], settings: &Settings) -> Option<Cell> {
        let values = values(samples);
        let cell = match values.as_slice() {
            [] => return None,
            [one] => Cell { mean: *one, n: 1, ..Cell::default() },
            _ => {
                let interval = stats::mean_interval(&values, settings.level())
                    .expect("two or more values have an interval");
                let shown = settings.ci.is_some();
                Cell {
                    mean: interval.mean,
                    std: Some(interval.std),
                    n: interval.n,
                    ci_low: shown.then_some(interval.low),
                    ci_high: shown.then_some(interval.high),
                    ..Cell::default()
                }
            }
        };
        Some(cell)
    }

    /// Marks the cell as the baseline's own: Δ = 0, nothing to test.
    pub fn mark_baseline(&mut self) {
        self.delta = Some(0.0);
    }

    /// Δ against the baseline's samples of the same column, its interval and its test.
    pub fn compare_with(&mut self, samples: &[Sample], baseline: &[Sample], settings: &Settings) {
        let (level, shown) = (settings.level(), settings.ci.is_some());
        let paired = paired_values(samples, baseline);
        let tested = match &paired {
            Some((a, b)) => match settings.paired_test {
                PairedTest::T | PairedTest::DeLong => stats::paired_t(a, b, level),
                PairedTest::Wilcoxon => stats::wilcoxon(a, b, level, settings.alpha),
            },
            None => stats::welch_t(&values(samples), &values(baseline), level),
        };
        let baseline_mean = Cell::pool(baseline, settings).map_or(f64::NAN, |b| b.mean);
        match tested {
            Ok(Difference { delta, low, high, p_value, test, why_no_p, .. }) => {
                self.delta = Some(delta);
                self.delta_ci_low = shown.then_some(low);
                self.delta_ci_high = shown.then_some(high);
                self.p_value = p_value;
                self.test = Some(test);
                self.note = why_no_p;
            }
            Err(too_few) => {
                self.delta = Some(self.mean - baseline_mean);
                self.test = Some(too_few.test);
                self.note = Some(too_few.reason().to_string());
            }
        }
        if settings.seeds_needed {
            self.seeds_needed = self.delta.and_then(|delta| {
                let spread = match &paired {
                    Some((a, b)) => {
                        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
                        std_of(&d)
                    }
                    None => pooled_std(&values(samples), &values(baseline)),
                }?;
                stats::seeds_needed(delta, spread, settings.alpha, POWER, paired.is_some())
            });
        }
    }

    /// Records that the baseline has no value in this column.
    pub fn without_baseline(&mut self) {
        self.note = Some("the baseline has no value here".to_string());
    }
}

/// Adjusts the p-values of one column across the rows (`cells`) and marks the significant ones.
pub fn adjust(cells: &mut [&mut Cell], settings: &Settings) {
    let tested: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].p_value.is_some()).collect();
    let raw: Vec<f64> = tested.iter().map(|&i| cells[i].p_value.expect("tested")).collect();
    for (&i, adjusted) in tested.iter().zip(settings.adjustment.apply(&raw)) {
        cells[i].p_adjusted = Some(adjusted);
        cells[i].significant = adjusted < settings.alpha;
    }
}

fn values(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.value).collect()
}

/// The values of both rows by seed, when each sample is one seed's and both rows ran the same
/// seeds; in seed order.
fn paired_values(a: &[Sample], b: &[Sample]) -> Option<(Vec<f64>, Vec<f64>)> {
    let by_seed = |samples: &[Sample]| -> Option<Vec<(String, f64)>> {
        let mut seeded: Vec<(String, f64)> = samples
            .iter()
            .map(|s| match s.seeds.as_slice() {
                [seed] => Some((seed.clone(), s.value)),
                _ => None,
            })
            .collect::<Option<_>>()?;
        seeded.sort_by(|x, y| x.0.cmp(&y.0));
        Some(seeded)
    };
    let (a, b) = (by_seed(a)?, by_seed(b)?);
    let same_seeds = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0);
    same_seeds.then(|| (a.iter().map(|x| x.1).collect(), b.iter().map(|x| x.1).collect()))
}

/// Sample standard deviation (n − 1), from two values on.
fn std_of(values: &[f64]) -> Option<f64> {
    stats::mean_interval(values, HIDDEN_LEVEL).map(|i| i.std)
}

/// The pooled standard deviation of two groups of at least two values each.
fn pooled_std(a: &[f64], b: &[f64]) -> Option<f64> {
    let (sa, sb) = (std_of(a)?, std_of(b)?);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    Some((((na - 1.0) * sa * sa + (nb - 1.0) * sb * sb) / (na + nb - 2.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[(&str, f64)]) -> Vec<Sample> {
        values
            .iter()
            .map(|(s, v)| Sample { seeds: vec![s.to_string()], value: *v, result: 0 })
            .collect()
    }

    #[test]
    fn pools_distinct_results_with_the_sample_deviation() {
        let settings = Settings::default();
        let s = Cell::pool(&samples(&[("0", 0.5), ("1", 0.7), ("2", 0.9)]), &settings).unwrap();
        assert!((s.mean - 0.7).abs() < 1e-12 && (s.std.unwrap() - 0.2).abs() < 1e-12 && s.n == 3);
        assert!(s.ci_low.unwrap() < 0.7 && s.ci_high.unwrap() > 0.7);
        assert_eq!(Cell::pool(&samples(&[("0", 0.4)]), &settings).unwrap().std, None);
        assert_eq!(Cell::pool(&[], &settings), None);
        let hidden = Settings { ci: None, ..settings };
        let s = Cell::pool(&samples(&[("0", 0.5), ("1", 0.7)]), &hidden).unwrap();
        assert_eq!((s.ci_low, s.ci_high), (None, None));
    }

    #[test]
    fn rows_pair_by_seed_only_when_both_ran_the_same_seeds() {
        let a = samples(&[("1", 0.6), ("0", 0.5)]);
        let b = samples(&[("0", 0.4), ("1", 0.45)]);
        assert_eq!(paired_values(&a, &b), Some((vec![0.5, 0.6], vec![0.4, 0.45])));
        assert_eq!(paired_values(&a, &samples(&[("0", 0.4), ("2", 0.45)])), None);
        let shared = vec![Sample { seeds: vec!["0".into(), "1".into()], value: 0.5, result: 0 }];
        assert_eq!(paired_values(&shared, &b), None);
    }

    #[test]
    fn too_few_seeds_give_a_reason_instead_of_a_p_value() {
        let settings = Settings { seeds_needed: true, ..Settings::default() };
        let (a, b) = (samples(&[("0", 0.6)]), samples(&[("0", 0.5)]));
        let mut cell = Cell::pool(&a, &settings).unwrap();
        cell.compare_with(&a, &b, &settings);
        assert!((cell.delta.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!((cell.p_value, cell.test), (None, Some(TestKind::PairedT)));
        assert_eq!(
            cell.note.as_deref(),
            Some("n = 1 pair: a paired t-test needs at least 2 pairs")
        );
        assert_eq!(cell.seeds_needed, None);
        let wilcoxon = Settings { paired_test: PairedTest::Wilcoxon, ..settings };
        let (a, b) = (samples(&[("0", 0.6), ("1", 0.7)]), samples(&[("0", 0.5), ("1", 0.55)]));
        cell.compare_with(&a, &b, &wilcoxon);
        assert_eq!(cell.test, Some(TestKind::Wilcoxon));
        assert!(cell.note.unwrap().contains("cannot reach p ≤ 0.05 below 6 pairs"));
    }

    #[test]
    fn adjustment_covers_only_the_tested_cells() {
        let settings = Settings::default();
        let mut cells: Vec<Cell> = [Some(0.01), None, Some(0.04)]
            .into_iter()
            .map(|p| Cell { p_value: p, ..Cell::default() })
            .collect();
        let mut refs: Vec<&mut Cell> = cells.iter_mut().collect();
        adjust(&mut refs, &settings);
        assert_eq!(cells[0].p_adjusted, Some(0.02));
        assert_eq!(cells[1].p_adjusted, None);
        assert_eq!(cells[2].p_adjusted, Some(0.04));
        assert!(cells[0].significant && !cells[1].significant && cells[2].significant);
    }
}

//! DeLong's test of a difference of AUROCs measured on the same test images (DeLong, DeLong &
//! Clarke-Pearson, Biometrics 44, 1988), by Sun & Xu's fast algorithm (IEEE Signal Processing
//! Letters 21(11), 2014).
//!
//! The AUROC of a scoring is the mean of its placements: per positive image, the share of
//! negatives it outranks (ties count half), V10; per negative, the share of positives that
//! outrank it, V01. Scorings of the same images have correlated placements, and the AUROCs' k×k
//! covariance is S10/m + S01/n, the sample covariances (n − 1) of the placements over the m
//! positives and n negatives. Sun & Xu get every placement from midranks in O(N log N).
//!
//! Seeds are pooled as DeLong's contrasts allow: Δ is the mean AUROC of one variant's seeds
//! minus the mean of the other's (the Δ `compare` shows), its variance c'Sc with c = 1/k_a for
//! each of one side's scorings and −1/k_b for the other's. The seeds of both sides need not be
//! the same or as many; every scoring must be of the same images. The variance is that of test
//! images drawn again with these trained models fixed: it leaves out how another seed's model
//! would differ, which the hierarchical bootstrap (`bootstrap`) includes.
//!
//! z = Δ / √(c'Sc) is referred to the standard normal: a two-sided p-value and the interval
//! Δ ± z₍₁₊ₗₑᵥₑₗ₎/₂ · se, kept inside [−1, 1]. The tests pin the AUROCs, the covariance, z and p
//! to a NumPy implementation from the paper, checked against the pairwise definition and
//! against MLstatkit's `Delong_test` (`scripts/dev/bootstrap_fixtures.py`).
use super::special::{normal_cdf, normal_quantile};

/// The AUROCs of k scorings of the same images and their DeLong covariance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AucCovariance {
    pub(crate) aucs: Vec<f64>,
    /// k×k, row-major.
    pub(crate) covariance: Vec<f64>,
}

/// Δ of two groups of scorings, its standard error and test.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeLongTest {
    /// Mean AUROC of the first group minus that of the second.
    pub(crate) delta: f64,
    /// √(c'Sc).
    pub(crate) se: f64,
    /// Δ / se; NaN when se is 0.
    pub(crate) z: f64,
    /// Two-sided, from the standard normal; `None` when se is 0.
    pub(crate) p_value: Option<f64>,
    /// Δ ± z-quantile · se, inside [−1, 1].
    pub(crate) low: f64,
    pub(crate) high: f64,
}

/// Why DeLong's covariance cannot be estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoCovariance {
    /// Fewer than 2 positives or 2 negatives: a placement covariance needs two of each.
    TooFewOfAClass { positives: usize, negatives: usize },
}

impl std::fmt::Display for NoCovariance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoCovariance::TooFewOfAClass { positives, negatives } => write!(
                f,
                "{positives} positive and {negatives} negative images: DeLong's test needs at least 2 of each"
            ),
        }
    }
}

/// The AUROCs of `scorings` (each one score per image) against `truth` and their covariance.
///
/// # Panics
/// If a scoring's length differs from `truth`'s, or there is no scoring.
pub(crate) fn auc_covariance(
    scorings: &[&[f64]],
    truth: &[bool],
) -> Result<AucCovariance, NoCovariance> {
    assert!(!scorings.is_empty(), "at least one scoring");
    let positives = truth.iter().filter(|&&y| y).count();
    let negatives = truth.len() - positives;
    if positives < 2 || negatives < 2 {
        return Err(NoCovariance::TooFewOfAClass { positives, negatives });
    }
    let (m, n) = (positives as f64, negatives as f64);
    let mut aucs = Vec::with_capacity(scorings.len());
    let (mut v10, mut v01): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (Vec::new(), Vec::new());
    for scores in scorings {
        assert_eq!(scores.len(), truth.len(), "one score per image");
        let (pos, neg) = split_by_truth(scores, truth);
        let (tx, ty) = (midranks(&pos), midranks(&neg));
        let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
        let tz = midranks(&all);
        let rank_sum: f64 = tz[..positives].iter().sum();
        aucs.push(rank_sum / (m * n) - (m + 1.0) / (2.0 * n));
        v10.push(tz[..positives].iter().zip(&tx).map(|(z, x)| (z - x) / n).collect());
        v01.push(tz[positives..].iter().zip(&ty).map(|(z, y)| 1.0 - (z - y) / m).collect());
    }
    let (s10, s01) = (covariance(&v10), covariance(&v01));
    let covariance = s10.iter().zip(&s01).map(|(a, b)| a / m + b / n).collect();
    Ok(AucCovariance { aucs, covariance })
}

/// DeLong's test of mean AUROC of scorings `a` minus that of scorings `b`, all of the same
/// images, with the interval at `level`.
///
/// # Panics
/// If either group is empty, lengths differ, or `level` is not strictly between 0 and 1.
pub(crate) fn delong_test(
    a: &[&[f64]],
    b: &[&[f64]],
    truth: &[bool],
    level: f64,
) -> Result<DeLongTest, NoCovariance> {
    assert!(!a.is_empty() && !b.is_empty(), "scorings on both sides");
    assert!(level > 0.0 && level < 1.0, "confidence level must be in (0, 1), got {level}");
    let scorings: Vec<&[f64]> = a.iter().chain(b).copied().collect();
    let AucCovariance { aucs, covariance } = auc_covariance(&scorings, truth)?;
    let k = scorings.len();
    let c: Vec<f64> = (0..k)
        .map(|i| if i < a.len() { 1.0 / a.len() as f64 } else { -1.0 / b.len() as f64 })
        .collect();
    let delta: f64 = c.iter().zip(&aucs).map(|(c, auc)| c * auc).sum();
    let variance: f64 = (0..k)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| c[i] * covariance[i * k + j] * c[j])
        .sum();
    let se = variance.max(0.0).sqrt();
    let (z, p_value) = if se > 0.0 {
        let z = delta / se;
        (z, Some(2.0 * normal_cdf(-z.abs())))
    } else {
        (f64::NAN, None)
    };
    let q = normal_quantile((1.0 + level) / 2.0);
    let (low, high) = ((delta - q * se).max(-1.0), (delta + q * se).min(1.0));
    Ok(DeLongTest { delta, se, z, p_value, low, high })
}

/// The scores of the positive images, then those of the negative ones, each in image order.
fn split_by_truth(scores: &[f64], truth: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let pick = |positive: bool| -> Vec<f64> {
        scores.iter().zip(truth).filter(|(_, y)| **y == positive).map(|(s, _)| *s).collect()
    };
    (pick(true), pick(false))
}

/// 1-based ranks, tied values at the mean of their positions.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let value = values[order[start]];
        let end = start + order[start..].iter().take_while(|&&i| values[i] == value).count();
        let rank = 0.5 * (start + end - 1) as f64 + 1.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// The sample covariance matrix (n − 1) of the rows of `rows` (each a variable's observations),
/// k×k row-major, as `np.cov`.
fn covariance(rows: &[Vec<f64>]) -> Vec<f64> {
    let k = rows.len();
    let n = rows[0].len() as f64;
    let means: Vec<f64> = rows.iter().map(|r| r.iter().sum::<f64>() / n).collect();
    let mut out = vec![0.0; k * k];
    for i in 0..k {
        for j in i..k {
            let sum: f64 =
                rows[i].iter().zip(&rows[j]).map(|(x, y)| (x - means[i]) * (y - means[j])).sum();
            out[i * k + j] = sum / (n - 1.0);
            out[j * k + i] = out[i * k + j];
        }
    }
    out
}

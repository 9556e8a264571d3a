//! Threshold-free scores of one label's ranking, as scikit-learn computes them: the area under
//! the ROC curve (`sklearn.metrics.roc_auc_score(y, s)`) and average precision
//! (`sklearn.metrics.average_precision_score(y, s)`), per label of the row-major N×L
//! probability tables of `scoring`, and their macro means.
//!
//! Samples are sorted once per label by score, descending (`f64::total_cmp`, after refusing
//! NaN), and samples of equal score (`==`, so -0.0 ties with 0.0) form one threshold, as in
//! scikit-learn's `confusion_matrix_at_thresholds`. With TP_k and FP_k the positives and
//! negatives scoring at least the k-th distinct score, P and N the totals:
//! - [`roc_auc`] is the trapezoid under the ROC curve through (FP_k/N, TP_k/P) — sklearn's
//!   `auc(*roc_curve(y, s)[:2])` — which is the Mann–Whitney U over P·N with half credit for a
//!   tied positive–negative pair. The sum is formed exactly in integers and divided once.
//! - [`average_precision`] is the step sum Σ_k (R_k − R_{k−1}) · P_k over the distinct
//!   thresholds, recall R_k = TP_k/P and precision P_k = TP_k/(TP_k + FP_k), not interpolated:
//!   sklearn's `precision_recall_curve` without dropped points, summed as
//!   `average_precision_score` sums it.
//!
//! A label is sorted once ([`Ranked`]); its [`Curve`] can also be taken with each sample
//! counted a given number of times ([`Ranked::weighted_curve`]), which is what the metrics of
//! the samples repeated that often are: a bootstrap replicate re-scores a label in O(n)
//! without sorting again.
//!
//! Everything is computed in f64, in O(n log n). The tests pin both to scikit-learn 1.9.1 to
//! 1e-12, ties included, with fixtures made by `scripts/dev/ranking_fixtures.py`.
//!
//! Where scikit-learn has no meaningful number the result is [`Undefined`], with the reason:
//! - a label of one class: `roc_auc_score` warns and returns NaN (scikit-learn 1.9; earlier
//!   versions raised), here [`Undefined::NoPositives`] or [`Undefined::NoNegatives`];
//! - a label without positives: `average_precision_score` warns and returns 0.0 (recall is set
//!   to one), which reads as a model that ranked badly; here it is [`Undefined::NoPositives`]
//!   instead. A label without negatives has average precision 1, as in scikit-learn;
//! - no samples, a NaN or infinite score, a truth value other than 0 or 1: scikit-learn raises;
//!   here [`Undefined::Empty`], [`Undefined::NotFinite`], [`Undefined::NotBinary`] (truth is
//!   checked before scores, the first offending row is named).
//!
//! Scores and truth of different lengths are a caller's bug and panic, as in `scoring`.
//!
//! The macro means ([`macro_auroc`], [`macro_average_precision`]) average the labels where
//! the value is defined and say how many were left out. scikit-learn's `average="macro"` is
//! NaN for the AUC when a label is undefined and counts such a label's average precision as 0;
//! where every label is defined the two agree.
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scoring::column;

#[cfg(test)]
mod tests;

/// Why a ranking metric has no value for a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Undefined {
    /// No samples.
    Empty,
    /// A truth value other than 0 or 1 (the first such row).
    NotBinary { row: usize, value: u8 },
    /// A NaN or infinite score (the first such row).
    NotFinite { row: usize },
    /// No sample of the label is positive.
    NoPositives,
    /// Every sample of the label is positive (the ROC curve has no false-positive axis).
    NoNegatives,
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undefined::Empty => write!(f, "no samples"),
            Undefined::NotBinary { row, value } => {
                write!(f, "the truth of row {row} is {value}, not 0 or 1")
            }
            Undefined::NotFinite { row } => write!(f, "the score of row {row} is NaN or infinite"),
            Undefined::NoPositives => write!(f, "no positive sample"),
            Undefined::NoNegatives => write!(f, "no negative sample"),
        }
    }
}

impl std::error::Error for Undefined {}

/// Area under the ROC curve of one label, `sklearn.metrics.roc_auc_score(truth, scores)`.
pub fn roc_auc<S: Copy + Into<f64>>(scores: &[S], truth: &[u8]) -> Result<f64, Undefined> {
    Ranked::new(scores, truth)?.curve().roc_auc()
}

/// Average precision of one label, `sklearn.metrics.average_precision_score(truth, scores)`,
/// but [`Undefined::NoPositives`] where scikit-learn gives 0.0 with a warning.
pub fn average_precision<S: Copy + Into<f64>>(
    scores: &[S],
    truth: &[u8],
) -> Result<f64, Undefined> {
    Ranked::new(scores, truth)?.curve().average_precision()
}

/// Both ranking metrics of one label. Serialised, each is its value, or the reason it has
/// none: `{"reason": "no_positives"}` (in snake case, with its fields).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelRanking {
    #[serde(with = "value_or_reason")]
    pub auroc: Result<f64, Undefined>,
    #[serde(with = "value_or_reason")]
    pub average_precision: Result<f64, Undefined>,
}

/// A metric's value as a number, or the reason it has none as an object.
mod value_or_reason {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Undefined;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum ValueOrReason {
        Value(f64),
        Undefined(Undefined),
    }

    pub(super) fn serialize<S: Serializer>(
        value: &Result<f64, Undefined>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match *value {
            Ok(v) => ValueOrReason::Value(v),
            Err(why) => ValueOrReason::Undefined(why),
        }
        .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Result<f64, Undefined>, D::Error> {
        Ok(match ValueOrReason::deserialize(deserializer)? {
            ValueOrReason::Value(v) => Ok(v),
            ValueOrReason::Undefined(why) => Err(why),
        })
    }
}

impl LabelRanking {
    /// Both metrics of one label, from one sort.
    pub fn of<S: Copy + Into<f64>>(scores: &[S], truth: &[u8]) -> Self {
        match Ranked::new(scores, truth) {
            Ok(ranked) => ranked.curve().ranking(),
            Err(why) => LabelRanking { auroc: Err(why), average_precision: Err(why) },
        }
    }
}

/// Both metrics of each label of a row-major N×`n_labels` table of probabilities and 0/1
/// labels (the layout of `scoring::score`); rows named in an [`Undefined`] are sample rows.
pub fn per_label(probabilities: &[f32], labels: &[u8], n_labels: usize) -> Vec<LabelRanking> {
    assert_eq!(probabilities.len(), labels.len(), "one probability per label");
    assert!(n_labels > 0 && labels.len().is_multiple_of(n_labels), "rows of {n_labels} labels");
    (0..n_labels)
        .map(|c| {
            LabelRanking::of(&column(probabilities, c, n_labels), &column(labels, c, n_labels))
        })
        .collect()
}

/// The mean of a metric over the labels where it is defined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MacroMean {
    /// The plain mean over the defined labels; `None` when no label is defined.
    pub mean: Option<f64>,
    /// How many labels the mean is over.
    pub defined: usize,
    /// How many labels were left out because their value is undefined.
    pub left_out: usize,
}

/// The mean of the defined values among `values`, with how many were left out.
pub fn macro_mean<'a>(values: impl IntoIterator<Item = &'a Result<f64, Undefined>>) -> MacroMean {
    let (mut sum, mut defined, mut left_out) = (0.0, 0, 0);
    for value in values {
        match value {
            Ok(v) => {
                sum += v;
                defined += 1;
            }
            Err(_) => left_out += 1,
        }
    }
    MacroMean { mean: (defined > 0).then(|| sum / defined as f64), defined, left_out }
}

/// Macro AUC over the labels where it is defined.
pub fn macro_auroc(labels: &[LabelRanking]) -> MacroMean {
    macro_mean(labels.iter().map(|l| &l.auroc))
}

/// Macro average precision over the labels where it is defined.
pub fn macro_average_precision(labels: &[LabelRanking]) -> MacroMean {
    macro_mean(labels.iter().map(|l| &l.average_precision))
}

/// One label's samples sorted once by score, descending, with the runs of equal scores marked:
/// the [`Curve`] of the samples themselves, or of any reweighting of them (a bootstrap
/// replicate counts each sample as often as it was drawn) without sorting again.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Sample indices by score, descending.
    order: Vec<u32>,
    /// Per position of `order`: [`POSITIVE`] and [`CLOSES_RUN`].
    flags: Vec<u8>,
}

/// The sample is positive.
const POSITIVE: u8 = 1;
/// The sample is the last of a run of equal scores: a threshold of the curve.
const CLOSES_RUN: u8 = 2;

impl Ranked {
    /// The samples of one label ranked, or why its metrics are undefined whatever the weights:
    /// no samples, a truth value other than 0 or 1, a NaN or infinite score.
    pub fn new<S: Copy + Into<f64>>(scores: &[S], truth: &[u8]) -> Result<Ranked, Undefined> {
        assert_eq!(scores.len(), truth.len(), "one truth value per score");
        if scores.is_empty() {
            return Err(Undefined::Empty);
        }
        if let Some(row) = truth.iter().position(|&y| y > 1) {
            return Err(Undefined::NotBinary { row, value: truth[row] });
        }
        let scores: Vec<f64> = scores.iter().map(|&s| s.into()).collect();
        if let Some(row) = scores.iter().position(|s| !s.is_finite()) {
            return Err(Undefined::NotFinite { row });
        }
        let mut order: Vec<u32> = (0..scores.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]));
        let flags = order
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let score = scores[i as usize];
                // the last sample of a run of equal scores closes a threshold
                let closes = order.get(k + 1).is_none_or(|&next| scores[next as usize] != score);
                u8::from(truth[i as usize] == 1) * POSITIVE + u8::from(closes) * CLOSES_RUN
            })
            .collect();
        Ok(Ranked { order, flags })
    }

    /// The curve of the samples, each counted once.
    pub fn curve(&self) -> Curve {
        self.curve_by(|_| 1)
    }

    /// The curve of the samples counted `weights[i]` times each (sample `i` of the scores
    /// ranked): what [`Ranked::new`] of the samples repeated that often would give.
    ///
    /// # Panics
    /// If `weights` has fewer entries than there are samples.
    pub fn weighted_curve(&self, weights: &[u32]) -> Curve {
        self.curve_by(|i| u64::from(weights[i as usize]))
    }

    fn curve_by(&self, weight: impl Fn(u32) -> u64) -> Curve {
        let mut curve = Curve::default();
        let (mut tp, mut fp) = (0u64, 0u64);
        for (&i, &flags) in self.order.iter().zip(&self.flags) {
            let w = weight(i);
            let positive = u64::from(flags & POSITIVE);
            tp += w * positive;
            fp += w * (1 - positive);
            if flags & CLOSES_RUN != 0 {
                curve.threshold(tp, fp);
            }
        }
        curve
    }
}

/// One label's samples ranked by score, descending, swept threshold by threshold: at each
/// distinct score, the positives (TP) and negatives (FP) scoring at least that much, summed into
/// both metrics as the sweep goes, so that no curve is kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    positives: u64,
    negatives: u64,
    /// Twice the area under the ROC curve in units of 1/(P·N): Σ ΔFP · (TP_prev + TP), an
    /// integer (trapezoids between consecutive thresholds).
    twice_area: u128,
    /// Σ ΔTP_k · TP_k/(TP_k + FP_k): average precision times P.
    precision_sum: f64,
}

impl Curve {
    /// Adds the threshold at which `tp` positives and `fp` negatives score at least as much.
    /// A run of equal scores drawn no time (in a bootstrap replicate) adds nothing.
    #[inline]
    fn threshold(&mut self, tp: u64, fp: u64) {
        let (new_tp, new_fp) = (tp - self.positives, fp - self.negatives);
        self.twice_area += u128::from(new_fp) * u128::from(tp + self.positives);
        if new_tp > 0 {
            self.precision_sum += new_tp as f64 * (tp as f64 / (tp + fp) as f64);
        }
        (self.positives, self.negatives) = (tp, fp);
    }

    /// Both metrics.
    pub fn ranking(&self) -> LabelRanking {
        LabelRanking { auroc: self.roc_auc(), average_precision: self.average_precision() }
    }

    /// The area under the ROC curve.
    pub fn roc_auc(&self) -> Result<f64, Undefined> {
        if self.positives == 0 {
            return Err(Undefined::NoPositives);
        }
        if self.negatives == 0 {
            return Err(Undefined::NoNegatives);
        }
        let pairs = u128::from(self.positives) * u128::from(self.negatives);
        Ok(self.twice_area as f64 / (2 * pairs) as f64)
    }

    /// Σ (R_k − R_{k−1}) · P_k = Σ ΔTP_k · TP_k/(TP_k + FP_k), over P.
    pub fn average_precision(&self) -> Result<f64, Undefined> {
        if self.positives == 0 {
            return Err(Undefined::NoPositives);
        }
        Ok(self.precision_sum / self.positives as f64)
    }
}

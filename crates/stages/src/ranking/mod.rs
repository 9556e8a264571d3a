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
    Curve::new(scores, truth)?.roc_auc()
}

/// Average precision of one label, `sklearn.metrics.average_precision_score(truth, scores)`,
/// but [`Undefined::NoPositives`] where scikit-learn gives 0.0 with a warning.
pub fn average_precision<S: Copy + Into<f64>>(
    scores: &[S],
    truth: &[u8],
) -> Result<f64, Undefined> {
    Curve::new(scores, truth)?.average_precision()
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
        match Curve::new(scores, truth) {
            Ok(curve) => LabelRanking {
                auroc: curve.roc_auc(),
                average_precision: curve.average_precision(),
            },
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

/// One label's samples ranked by score, descending: at each distinct score, how many
/// positives (`tp`) and negatives (`fp`) score at least that much.
struct Curve {
    steps: Vec<(u64, u64)>,
    positives: u64,
    negatives: u64,
}

impl Curve {
    fn new<S: Copy + Into<f64>>(scores: &[S], truth: &[u8]) -> Result<Curve, Undefined> {
        assert_eq!(scores.len(), truth.len(), "one truth value per score");
        if scores.is_empty() {
            return Err(Undefined::Empty);
        }
        if let Some(row) = truth.iter().position(|&y| y > 1) {
            return Err(Undefined::NotBinary { row, value: truth[row] });
        }
        let mut ranked: Vec<(f64, bool)> =
            scores.iter().zip(truth).map(|(&s, &y)| (s.into(), y == 1)).collect();
        if let Some(row) = ranked.iter().position(|(s, _)| !s.is_finite()) {
            return Err(Undefined::NotFinite { row });
        }
        ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let mut steps: Vec<(u64, u64)> = Vec::new();
        let (mut tp, mut fp) = (0u64, 0u64);
        for (i, &(score, positive)) in ranked.iter().enumerate() {
            if positive {
                tp += 1;
            } else {
                fp += 1;
            }
            // the last sample of a run of equal scores closes a threshold
            if ranked.get(i + 1).is_none_or(|next| next.0 != score) {
                steps.push((tp, fp));
            }
        }
        Ok(Curve { steps, positives: tp, negatives: fp })
    }

    /// Trapezoids between consecutive thresholds: twice the area in units of 1/(P·N) is
    /// Σ ΔFP · (TP_prev + TP), an integer.
    fn roc_auc(&self) -> Result<f64, Undefined> {
        if self.positives == 0 {
            return Err(Undefined::NoPositives);
        }
        if self.negatives == 0 {
            return Err(Undefined::NoNegatives);
        }
        let (mut twice, mut previous) = (0u128, (0u64, 0u64));
        for &(tp, fp) in &self.steps {
            twice += u128::from(fp - previous.1) * u128::from(tp + previous.0);
            previous = (tp, fp);
        }
        let pairs = u128::from(self.positives) * u128::from(self.negatives);
        Ok(twice as f64 / (2 * pairs) as f64)
    }

    /// Σ (R_k − R_{k−1}) · P_k = Σ ΔTP_k · TP_k/(TP_k + FP_k), over P.
    fn average_precision(&self) -> Result<f64, Undefined> {
        if self.positives == 0 {
            return Err(Undefined::NoPositives);
        }
        let (mut sum, mut previous) = (0.0f64, 0u64);
        for &(tp, fp) in &self.steps {
            if tp > previous {
                sum += (tp - previous) as f64 * (tp as f64 / (tp + fp) as f64);
            }
            previous = tp;
        }
        Ok(sum / self.positives as f64)
    }
}

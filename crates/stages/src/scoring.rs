//! Multi-label classification scores at a fixed threshold, as scikit-learn's
//! `precision_recall_fscore_support(average=None, zero_division=0)` computes them: a label is
//! predicted when its probability is strictly above the threshold; macro F1 is the plain mean of
//! the per-label F1 scores.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
/// Fields in alphabetical order: `scores.json`'s keys are sorted.
pub struct LabelScores {
    pub f1: f64,
    pub precision: f64,
    pub recall: f64,
    pub support: usize,
}

impl LabelScores {
    /// The scores of `tp` true positives, `fp` false positives and `fn_` false negatives, 0
    /// where a ratio has no denominator (`zero_division=0`).
    pub fn from_counts(tp: usize, fp: usize, fn_: usize) -> LabelScores {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        LabelScores { precision, recall, f1, support: tp + fn_ }
    }
}

/// `probabilities` and `labels` are row-major N×`n_labels`.
pub fn score(
    probabilities: &[f32],
    labels: &[u8],
    n_labels: usize,
    threshold: f32,
) -> Vec<LabelScores> {
    assert_eq!(probabilities.len(), labels.len(), "one probability per label");
    (0..n_labels)
        .map(|c| {
            let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
            for (p, &y) in probabilities
                .iter()
                .skip(c)
                .step_by(n_labels)
                .zip(labels.iter().skip(c).step_by(n_labels))
            {
                match (*p > threshold, y == 1) {
                    (true, true) => tp += 1,
                    (true, false) => fp += 1,
                    (false, true) => fn_ += 1,
                    (false, false) => {}
                }
            }
            LabelScores::from_counts(tp, fp, fn_)
        })
        .collect()
}

pub fn macro_f1(scores: &[LabelScores]) -> f64 {
    if scores.is_empty() {
        0.0
    } else {
        scores.iter().map(|s| s.f1).sum::<f64>() / scores.len() as f64
    }
}

/// Column `c` of a row-major table with `n` columns.
pub(crate) fn column<T: Copy>(table: &[T], c: usize, n: usize) -> Vec<T> {
    table.iter().skip(c).step_by(n).copied().collect()
}

/// Per-label thresholds that maximise each label's F1 on the given predictions, searched on
/// the grid 0.01, 0.02, …, 0.99; ties go to the threshold closest to 0.5. Tuned on validation,
/// they are reported beside the fixed-0.5 scores, never instead of them.
pub fn tune_thresholds(probabilities: &[f32], labels: &[u8], n_labels: usize) -> Vec<f32> {
    (0..n_labels)
        .map(|c| {
            let (probabilities, truth) =
                (column(probabilities, c, n_labels), column(labels, c, n_labels));
            let mut best = (f64::NEG_INFINITY, 0.5f32);
            for step in 1..100 {
                let threshold = step as f32 / 100.0;
                let f1 = score(&probabilities, &truth, 1, threshold)[0].f1;
                let closer = (threshold - 0.5).abs() < (best.1 - 0.5).abs();
                if f1 > best.0 || (f1 == best.0 && closer) {
                    best = (f1, threshold);
                }
            }
            best.1
        })
        .collect()
}

/// Scores with one threshold per label.
pub fn score_at(probabilities: &[f32], labels: &[u8], thresholds: &[f32]) -> Vec<LabelScores> {
    let n = thresholds.len();
    thresholds
        .iter()
        .enumerate()
        .map(|(c, &t)| score(&column(probabilities, c, n), &column(labels, c, n), 1, t)[0])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_scores() {
        // label 0: tp=2 fp=1 fn=1 → P=2/3 R=2/3 F1=2/3; label 1: no positives predicted or true → 0.
        let probs = [0.9, 0.1, 0.8, 0.2, 0.7, 0.0, 0.2, 0.3];
        let labels = [1, 0, 1, 0, 0, 0, 1, 0];
        let s = score(&probs, &labels, 2, 0.5);
        assert!((s[0].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((s[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((s[0].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s[0].support, 3);
        assert_eq!(s[1].f1, 0.0);
        assert!((macro_f1(&s) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn tuned_thresholds_maximise_f1() {
        // label 0 separable at any threshold in [0.3, 0.6) → the grid point closest to 0.5;
        // label 1: its positives sit at 0.2 and 0.25, so only thresholds below 0.2 find both.
        let probs = [0.6, 0.2, 0.7, 0.25, 0.3, 0.1, 0.1, 0.05];
        let labels = [1, 1, 1, 1, 0, 0, 0, 0];
        let t = tune_thresholds(&probs, &labels, 2);
        assert_eq!(t[0], 0.5);
        assert!(t[1] >= 0.1 && t[1] < 0.2, "{t:?}");
        let tuned = score_at(&probs, &labels, &t);
        assert_eq!(tuned[1].f1, 1.0);
        assert!(score(&probs, &labels, 2, 0.5)[1].f1 < 1.0);
    }

    #[test]
    fn threshold_is_strict() {
        let s = score(&[0.5], &[1], 1, 0.5);
        assert_eq!(s[0].recall, 0.0);
    }
}

//! Multi-label classification scores at a fixed threshold, as scikit-learn's
//! `precision_recall_fscore_support(average=None, zero_division=0)` computes them: a label is
//! predicted when its probability is strictly above the threshold; macro F1 is the plain mean of
//! the per-label F1 scores.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// `probabilities` and `labels` are row-major N×`n_labels`.
pub fn score(probabilities: &[f32], labels: &[u8], n_labels: usize, threshold: f32) -> Vec<LabelScores> {
    assert_eq!(probabilities.len(), labels.len(), "one probability per label");
    (0..n_labels)
        .map(|c| {
            let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
            for (p, &y) in probabilities.iter().skip(c).step_by(n_labels).zip(labels.iter().skip(c).step_by(n_labels)) {
                match (*p > threshold, y == 1) {
                    (true, true) => tp += 1,
                    (true, false) => fp += 1,
                    (false, true) => fn_ += 1,
                    (false, false) => {}
                }
            }
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            let precision = ratio(tp, tp + fp);
            let recall = ratio(tp, tp + fn_);
            let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
            LabelScores { precision, recall, f1, support: tp + fn_ }
        })
        .collect()
}

pub fn macro_f1(scores: &[LabelScores]) -> f64 {
    if scores.is_empty() { 0.0 } else { scores.iter().map(|s| s.f1).sum::<f64>() / scores.len() as f64 }
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
    fn threshold_is_strict() {
        let s = score(&[0.5], &[1], 1, 0.5);
        assert_eq!(s[0].recall, 0.0);
    }
}

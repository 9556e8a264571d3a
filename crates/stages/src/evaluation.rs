//! What `evaluate` (a model's predictions, made by the torch worker) and `score` (any stage's
//! `predictions.csv`) compute from a split's predictions, in one place so that a user's model
//! is scored exactly as a native one: per label precision, recall and F1 at the decision
//! thresholds (`scoring`), AUROC and average precision (`ranking`), their macro means, the same
//! at tuned thresholds where the model carries them, as [`Scores`], metric rows and the summary
//! printed after the run.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use ablate_core::metrics::MetricRow;

use crate::evaluate::{Scores, TunedScores};
use crate::metric;
use crate::prediction::Decision;
use crate::predictions::Predictions;
use crate::ranking::{self, LabelRanking};
use crate::scoring::{self, LabelScores, score_at};

/// Thresholds tuned on validation, as a model carries them (one per label of the predictions).
pub struct Tuned<'a> {
    pub thresholds: &'a [f32],
    pub tuned_on: &'a str,
}

/// Everything an evaluation stage reports.
pub struct Evaluation {
    pub scores: Scores,
    pub metrics: Vec<MetricRow>,
    pub summary: String,
}

/// The evaluation of `predictions` of `split` against `truth` (0/1, in the predictions' row
/// and label order) at `thresholds` (one per label), chosen as `decision` says.
pub fn evaluate(
    predictions: &Predictions,
    truth: &[u8],
    split: &str,
    thresholds: &[f32],
    decision: Decision,
    tuned: Option<Tuned>,
) -> Evaluation {
    let labels = &predictions.labels;
    let probabilities = &predictions.probabilities;
    let scores = score_at(probabilities, truth, thresholds);
    let ranked = ranking::per_label(probabilities, truth, labels.len());
    let macro_auroc = ranking::macro_auroc(&ranked);
    let macro_ap = ranking::macro_average_precision(&ranked);
    let mut metrics = Vec::new();
    let row = |name: &str, value: f64| MetricRow::new(name, value).split(split);
    for ((label, s), r) in labels.iter().zip(&scores).zip(&ranked) {
        for (name, value) in
            [(metric::PRECISION, s.precision), (metric::RECALL, s.recall), (metric::F1, s.f1)]
        {
            metrics.push(row(name, value).class(label));
        }
        for (name, value) in
            [(metric::AUROC, r.auroc), (metric::AVERAGE_PRECISION, r.average_precision)]
        {
            if let Ok(value) = value {
                metrics.push(row(name, value).class(label));
            }
        }
    }
    let macro_f1 = scoring::macro_f1(&scores);
    metrics.push(row(metric::MACRO_F1, macro_f1));
    for (name, mean) in
        [(metric::MACRO_AUROC, macro_auroc), (metric::MACRO_AVERAGE_PRECISION, macro_ap)]
    {
        metrics.extend(mean.mean.map(|value| row(name, value)));
    }
    let by_label = |values: &[LabelScores]| -> BTreeMap<String, LabelScores> {
        labels.iter().cloned().zip(values.iter().copied()).collect()
    };
    let per_label = |values: &[f32]| -> BTreeMap<String, f32> {
        labels.iter().cloned().zip(values.iter().copied()).collect()
    };
    let mut summary = table(split, labels, &scores, &ranked, macro_f1);
    if decision == Decision::Tuned {
        summary += "\n  (at the thresholds tuned on validation the model carries)";
    }
    let tuned = tuned.map(|tuned| {
        let tuned_scores = score_at(probabilities, truth, tuned.thresholds);
        let tuned_macro = scoring::macro_f1(&tuned_scores);
        for (label, s) in labels.iter().zip(&tuned_scores) {
            for (name, value) in [
                (metric::TUNED_PRECISION, s.precision),
                (metric::TUNED_RECALL, s.recall),
                (metric::TUNED_F1, s.f1),
            ] {
                metrics.push(row(name, value).class(label));
            }
        }
        metrics.push(row(metric::TUNED_MACRO_F1, tuned_macro));
        if decision == Decision::Fixed {
            let _ = write!(
                summary,
                "\n  at thresholds tuned on {}: macro-F1 {tuned_macro:.4}",
                tuned.tuned_on
            );
        }
        TunedScores {
            labels: by_label(&tuned_scores),
            macro_f1: tuned_macro,
            thresholds: per_label(tuned.thresholds),
            tuned_on: tuned.tuned_on.to_string(),
        }
    });
    let scores = Scores {
        decision: Some(decision),
        labels: by_label(&scores),
        macro_f1,
        ranking: labels.iter().cloned().zip(ranked).collect(),
        macro_auroc: macro_auroc.mean,
        macro_average_precision: macro_ap.mean,
        split: split.to_string(),
        threshold: None,
        thresholds: Some(per_label(thresholds)),
        tuned,
    };
    Evaluation { scores, metrics, summary }
}

/// The summary's table: a line per label, a dash where a ranking metric is undefined.
fn table(
    split: &str,
    labels: &[String],
    scores: &[LabelScores],
    ranked: &[LabelRanking],
    macro_f1: f64,
) -> String {
    let mut out = format!(
        "{split}: macro-F1 {macro_f1:.4}\n  label  precision  recall  F1      AUROC   AP      support"
    );
    let value = |v: Result<f64, ranking::Undefined>| {
        v.map_or("–     ".to_string(), |v| format!("{v:.4}"))
    };
    for ((label, s), r) in labels.iter().zip(scores).zip(ranked) {
        let _ = write!(
            out,
            "\n  {label:<6} {:.4}     {:.4}  {:.4}  {}  {}  {}",
            s.precision,
            s.recall,
            s.f1,
            value(r.auroc),
            value(r.average_precision),
            s.support
        );
    }
    out
}

//! The torch implementation of `evaluate`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::evaluate`.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context;

use crate::nn::checkpoint;
use crate::nn::predict::predict_split;
use ablate_core::metrics::MetricRow;
use ablate_core::stage::StageContext;
use ablate_stages::prediction::PredictionParams;
use ablate_stages::scoring::{LabelScores, macro_f1 as macro_f1_of, score, score_at};

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let PredictionParams { split, threshold, tta } = PredictionParams::decode(ctx.params);
    let device = crate::nn::device::to_tch(ctx.device())?;
    let predictions = predict_split(ctx.input("model"), ctx.input("data"), &split, device, tta)?;
    let n_labels = predictions.labels.len();
    let scores = score(&predictions.probabilities, &predictions.truth, n_labels, threshold);
    let macro_f1 = macro_f1_of(&scores);

    for (label, s) in predictions.labels.iter().zip(&scores) {
        for (metric, value) in [("precision", s.precision), ("recall", s.recall), ("f1", s.f1)] {
            ctx.metric(MetricRow::new(metric, value).split(&split).class(label));
        }
    }
    ctx.metric(MetricRow::new("macro_f1", macro_f1).split(&split));
    let by_label = |scores: &[LabelScores]| -> BTreeMap<String, LabelScores> {
        predictions.labels.iter().cloned().zip(scores.iter().copied()).collect()
    };
    let mut report = serde_json::json!({
        "split": split, "threshold": threshold, "macro_f1": macro_f1, "labels": by_label(&scores),
    });
    let mut summary = table(&split, &predictions.labels, &scores, macro_f1);

    if let Some(tuned) = checkpoint::read_thresholds(ctx.input("model"))? {
        let thresholds: Vec<f32> = predictions
            .labels
            .iter()
            .map(|label| tuned.labels.iter().position(|l| l == label).map(|i| tuned.thresholds[i]))
            .collect::<Option<_>>()
            .context("the model's tuned thresholds do not cover the dataset's labels")?;
        let tuned_scores = score_at(&predictions.probabilities, &predictions.truth, &thresholds);
        let tuned_macro = macro_f1_of(&tuned_scores);
        for (label, s) in predictions.labels.iter().zip(&tuned_scores) {
            for (metric, value) in
                [("tuned_precision", s.precision), ("tuned_recall", s.recall), ("tuned_f1", s.f1)]
            {
                ctx.metric(MetricRow::new(metric, value).split(&split).class(label));
            }
        }
        ctx.metric(MetricRow::new("tuned_macro_f1", tuned_macro).split(&split));
        report["tuned"] = serde_json::json!({
            "thresholds": predictions.labels.iter().cloned().zip(thresholds.iter().copied()).collect::<BTreeMap<_, _>>(),
            "tuned_on": tuned.tuned_on, "macro_f1": tuned_macro, "labels": by_label(&tuned_scores),
        });
        summary +=
            &format!("\n  at thresholds tuned on {}: macro-F1 {tuned_macro:.4}", tuned.tuned_on);
    }
    std::fs::write(ctx.out_dir.join("scores.json"), serde_json::to_vec_pretty(&report)?)?;
    let mut csv = csv::Writer::from_path(ctx.out_dir.join("predictions.csv"))?;
    csv.write_record(
        std::iter::once("id".to_string())
            .chain(predictions.labels.iter().map(|l| format!("p_{l}"))),
    )?;
    for (id, row) in predictions.ids.iter().zip(predictions.probabilities.chunks(n_labels)) {
        csv.write_record(std::iter::once(id.clone()).chain(row.iter().map(|p| format!("{p:.6}"))))?;
    }
    csv.flush()?;
    ctx.set_summary(summary);
    Ok(())
}

fn table(split: &str, labels: &[String], scores: &[LabelScores], macro_f1: f64) -> String {
    let mut out =
        format!("{split}: macro-F1 {macro_f1:.4}\n  label  precision  recall  F1      support");
    for (label, s) in labels.iter().zip(scores) {
        let _ = write!(
            out,
            "\n  {label:<6} {:.4}     {:.4}  {:.4}  {}",
            s.precision, s.recall, s.f1, s.support
        );
    }
    out
}

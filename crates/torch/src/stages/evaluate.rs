//! The torch implementation of `evaluate`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::evaluate`.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::nn::checkpoint;
use crate::nn::predict::{decision_thresholds, predict_split};
use ablate_core::metrics::MetricRow;
use ablate_core::stage::StageContext;
use ablate_stages::evaluate::{PREDICTIONS_FILE, Scores, TunedScores};
use ablate_stages::metric;
use ablate_stages::prediction::{Decision, PredictionParams};
use ablate_stages::scoring::{LabelScores, macro_f1 as macro_f1_of, score_at};

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let PredictionParams { split, threshold, decision, tta } = PredictionParams::decode(ctx.params);
    let device = crate::nn::device::to_tch(ctx.device())?;
    let model = ctx.input("model").to_path_buf();
    let model = model.as_path();
    let predictions = predict_split(model, ctx.input("data"), &split, device, tta)?;
    let labels = &predictions.labels;
    let thresholds = decision_thresholds(model, labels, threshold, decision)?;
    let scores = score_at(&predictions.probabilities, &predictions.truth, &thresholds);
    let macro_f1 = macro_f1_of(&scores);

    for (label, s) in labels.iter().zip(&scores) {
        for (name, value) in
            [(metric::PRECISION, s.precision), (metric::RECALL, s.recall), (metric::F1, s.f1)]
        {
            ctx.metric(MetricRow::new(name, value).split(&split).class(label));
        }
    }
    ctx.metric(MetricRow::new(metric::MACRO_F1, macro_f1).split(&split));
    let by_label = |values: &[LabelScores]| -> BTreeMap<String, LabelScores> {
        labels.iter().cloned().zip(values.iter().copied()).collect()
    };
    let per_label = |values: &[f32]| -> BTreeMap<String, f32> {
        labels.iter().cloned().zip(values.iter().copied()).collect()
    };
    let mut report = Scores {
        decision: Some(decision),
        labels: by_label(&scores),
        macro_f1,
        split: split.clone(),
        threshold: None,
        thresholds: Some(per_label(&thresholds)),
        tuned: None,
    };
    let mut summary = table(&split, labels, &scores, macro_f1);
    if decision == Decision::Tuned {
        summary += "\n  (at the thresholds tuned on validation the model carries)";
    }

    if let Some(tuned) = checkpoint::thresholds_for(model, labels)? {
        let tuned_scores =
            score_at(&predictions.probabilities, &predictions.truth, &tuned.thresholds);
        let tuned_macro = macro_f1_of(&tuned_scores);
        for (label, s) in labels.iter().zip(&tuned_scores) {
            for (name, value) in [
                (metric::TUNED_PRECISION, s.precision),
                (metric::TUNED_RECALL, s.recall),
                (metric::TUNED_F1, s.f1),
            ] {
                ctx.metric(MetricRow::new(name, value).split(&split).class(label));
            }
        }
        ctx.metric(MetricRow::new(metric::TUNED_MACRO_F1, tuned_macro).split(&split));
        report.tuned = Some(TunedScores {
            labels: by_label(&tuned_scores),
            macro_f1: tuned_macro,
            thresholds: per_label(&tuned.thresholds),
            tuned_on: tuned.tuned_on.clone(),
        });
        if decision == Decision::Fixed {
            summary += &format!(
                "\n  at thresholds tuned on {}: macro-F1 {tuned_macro:.4}",
                tuned.tuned_on
            );
        }
    }
    report.write(&ctx.out_dir)?;
    let mut csv = csv::Writer::from_path(ctx.out_dir.join(PREDICTIONS_FILE))?;
    csv.write_record(
        std::iter::once("id".to_string()).chain(labels.iter().map(|l| format!("p_{l}"))),
    )?;
    for (id, row) in predictions.ids.iter().zip(predictions.probabilities.chunks(labels.len())) {
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

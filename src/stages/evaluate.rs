//! `evaluate`: per-label precision, recall and F1, and macro-F1, of a trained model on one split
//! at a fixed threshold. Writes `scores.json` and `predictions.csv` (probabilities per id).

use crate::core::params::{ParamDefault as D, ParamSpec, ParamType as T};
use crate::core::stage::{KindInfo, Resource};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("split", T::Str, D::Str("offsite_test"), "split to evaluate on"),
    super::THRESHOLD,
];

pub const INFO: KindInfo = KindInfo {
    kind: "evaluate",
    version: 1,
    doc: "per-label precision, recall, F1 and macro-F1 on a split",
    params: PARAMS,
    inputs: super::MODEL_AND_DATA,
    resource: Resource::Device,
};

#[cfg(feature = "torch")]
pub use on_device::execute;

/// The torch implementation, run in the `ablate-torch` worker.
#[cfg(feature = "torch")]
mod on_device {
    use crate::core::stage::StageContext;
    use std::fmt::Write as _;
    use crate::core::metrics::MetricRow;
    use crate::nn::predict::predict_split;
    use crate::scoring::{LabelScores, macro_f1, score};

    pub fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
        let (split, threshold) = (ctx.params.str("split").to_string(), ctx.params.float("threshold") as f32);
        let predictions = predict_split(ctx, &split)?;
        let n_labels = predictions.labels.len();
        let scores = score(&predictions.probabilities, &predictions.truth, n_labels, threshold);
        let macro_f1 = macro_f1(&scores);

        for (label, s) in predictions.labels.iter().zip(&scores) {
            for (metric, value) in [("precision", s.precision), ("recall", s.recall), ("f1", s.f1)] {
                ctx.metric(MetricRow::new(metric, value).split(&split).class(label));
            }
        }
        ctx.metric(MetricRow::new("macro_f1", macro_f1).split(&split));

        let report = serde_json::json!({
            "split": split, "threshold": threshold, "macro_f1": macro_f1,
            "labels": predictions.labels.iter().zip(&scores).map(|(l, s)| (l.clone(), *s)).collect::<std::collections::BTreeMap<_, _>>(),
        });
        std::fs::write(ctx.out_dir.join("scores.json"), serde_json::to_vec_pretty(&report)?)?;
        let mut csv = csv::Writer::from_path(ctx.out_dir.join("predictions.csv"))?;
        csv.write_record(std::iter::once("id".to_string()).chain(predictions.labels.iter().map(|l| format!("p_{l}"))))?;
        for (id, row) in predictions.ids.iter().zip(predictions.probabilities.chunks(n_labels)) {
            csv.write_record(std::iter::once(id.clone()).chain(row.iter().map(|p| format!("{p:.6}"))))?;
        }
        csv.flush()?;
        ctx.set_summary(table(&split, &predictions.labels, &scores, macro_f1));
        Ok(())
    }

    fn table(split: &str, labels: &[String], scores: &[LabelScores], macro_f1: f64) -> String {
        let mut out = format!("{split}: macro-F1 {macro_f1:.4}\n  label  precision  recall  F1      support");
        for (label, s) in labels.iter().zip(scores) {
            let _ = write!(out, "\n  {label:<6} {:.4}     {:.4}  {:.4}  {}", s.precision, s.recall, s.f1, s.support);
        }
        out
    }
}

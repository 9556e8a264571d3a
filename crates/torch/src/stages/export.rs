//! The torch implementation of `export`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::export`.
use crate::nn::predict::{decision_thresholds, predict_split};
use ablate_core::stage::StageContext;
use ablate_stages::export::*;
use ablate_stages::prediction::PredictionParams;

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let PredictionParams { split, threshold, decision, tta } = PredictionParams::decode(ctx.params);
    let device = crate::nn::device::to_tch(ctx.device())?;
    let model = ctx.input("model");
    let predictions = predict_split(model, ctx.input("data"), &split, device, tta)?.predictions;
    let thresholds = decision_thresholds(model, &predictions.labels, threshold, decision)?;
    let path = ctx.out_dir.join(FILE_NAME);
    let mut csv = csv::Writer::from_path(&path)?;
    csv.write_record(std::iter::once("id").chain(predictions.labels.iter().map(String::as_str)))?;
    let n_labels = predictions.labels.len();
    for (id, row) in predictions.ids.iter().zip(predictions.probabilities.chunks(n_labels)) {
        let flags = row.iter().zip(&thresholds).map(|(&p, &t)| if p > t { "1" } else { "0" });
        csv.write_record(std::iter::once(id.as_str()).chain(flags))?;
    }
    csv.flush()?;
    ctx.set_summary(format!("{split}: {} rows → {FILE_NAME}", predictions.ids.len()));
    Ok(())
}

//! The torch implementation of `evaluate`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::evaluate`, what it computes from the
//! predictions is `ablate_stages::evaluation`'s.
use crate::nn::checkpoint;
use crate::nn::predict::{SplitPredictions, decision_thresholds, predict_split};
use ablate_core::stage::StageContext;
use ablate_stages::evaluation::{Evaluation, Tuned, evaluate};
use ablate_stages::prediction::PredictionParams;

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let PredictionParams { split, threshold, decision, tta } = PredictionParams::decode(ctx.params);
    let device = crate::nn::device::to_tch(ctx.device())?;
    let model = ctx.input("model").to_path_buf();
    let model = model.as_path();
    let SplitPredictions { predictions, truth } =
        predict_split(model, ctx.input("data"), &split, device, tta)?;
    let labels = &predictions.labels;
    let thresholds = decision_thresholds(model, labels, threshold, decision)?;
    let carried = checkpoint::thresholds_for(model, labels)?;
    let tuned =
        carried.as_ref().map(|t| Tuned { thresholds: &t.thresholds, tuned_on: &t.tuned_on });
    let Evaluation { scores, metrics, summary } =
        evaluate(&predictions, &truth, &split, &thresholds, decision, tuned);
    scores.write(&ctx.out_dir)?;
    predictions.write(&ctx.out_dir)?;
    metrics.into_iter().for_each(|row| ctx.metric(row));
    ctx.set_summary(summary);
    Ok(())
}

//! `score`: any model's predictions scored as `evaluate` scores a native one. Its `predictions`
//! input is any stage whose output holds `predictions.csv` (`id`, then `p_<label>` per label:
//! what `evaluate` writes, and what a command stage writes with `ablate_io.py`'s
//! `write_predictions`); its `data` input is the dataset holding the split's labels. It writes
//! what `evaluate` writes (`scores.json`, `predictions.csv`, the same metrics), so `compare`,
//! `metrics`, `plot`, the report and the statistics treat a user's model as a native one. A
//! label is predicted above `threshold`; predictions of other ids than the split's, of labels
//! the dataset lacks, or that are not probabilities are refused, naming the file and line.
use anyhow::Context;

use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputSpec, KindInfo, Resource, StageContext, StageKind, Workspace};

use crate::data::dataset::read_split_labels;
use crate::evaluation::{Evaluation, evaluate};
use crate::prediction::{Decision, THRESHOLD};
use crate::predictions::{self, Predictions};

pub struct ScoreKind;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("split", T::Str, D::Str("offsite_test"), "split the predictions are of"),
    THRESHOLD,
];

const INPUTS: &[InputSpec] = &[
    InputSpec::required("predictions", "a stage whose output holds predictions.csv"),
    InputSpec::required("data", "the dataset holding the split's labels"),
];

pub const INFO: KindInfo = KindInfo {
    kind: "score",
    version: 1,
    doc: "scores any stage's predictions.csv as evaluate scores a model: F1, AUROC, average precision",
    params: PARAMS,
    inputs: INPUTS,
    resource: Resource::Cpu,
    workspace: Workspace::None,
};

/// The parameters of a `score` stage, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreParams {
    pub split: String,
    pub threshold: f32,
}

impl ScoreParams {
    pub fn decode(p: &Params) -> ScoreParams {
        ScoreParams { split: p.str("split").to_string(), threshold: p.float("threshold") as f32 }
    }
}

impl StageKind for ScoreKind {
    fn info(&self) -> &'static KindInfo {
        &INFO
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        let ScoreParams { split, threshold } = ScoreParams::decode(ctx.params);
        let predictions = Predictions::read(ctx.input("predictions"))
            .context("input `predictions` holds no predictions to score")?;
        let labels = read_split_labels(ctx.input("data"), &split)?;
        let truth = predictions.truth(&labels, &split).with_context(|| {
            format!("the predictions in {} do not match the dataset", predictions::FILE)
        })?;
        let thresholds = vec![threshold; predictions.labels.len()];
        let Evaluation { scores, metrics, summary } =
            evaluate(&predictions, &truth, &split, &thresholds, Decision::Fixed, None);
        scores.write(&ctx.out_dir)?;
        predictions.write(&ctx.out_dir)?;
        metrics.into_iter().for_each(|row| ctx.metric(row));
        ctx.set_summary(summary);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(super::PARAMS, "", super::ScoreParams::decode);
    }
}

//! What the stages that apply a trained model to a split share (`evaluate`, `export`): their
//! inputs and their parameters. The model may be one trained model or an ensemble of them
//! (`ensemble`); test-time augmentation (`tta: flips`) averages the probabilities of the image
//! and its horizontal, vertical and double flips, the flips training draws from. A label is
//! predicted above `threshold`, or, with `decision: tuned`, above the per-label thresholds the
//! model (or ensemble) carries from validation.
use ablate_core::params::{Choice, ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::InputSpec;

/// Inputs of the stages that apply a trained model to a dataset.
pub const MODEL_AND_DATA: &[InputSpec] = &[
    InputSpec::required("model", "a trained model from `train`, or an `ensemble` of them"),
    InputSpec::required("data", "the dataset holding the split"),
];

pub const THRESHOLD: ParamSpec = ParamSpec::new(
    "threshold",
    T::Float { min: 0.0, max: 1.0 },
    D::Float(0.5),
    "a label is predicted when its probability is above this",
);

ablate_core::choice! {
    /// Where a label's decision threshold comes from.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Decision {
        /// `threshold`, the same for every label.
        Fixed = "fixed",
        /// The per-label thresholds tuned on validation that the model carries.
        Tuned = "tuned",
    }
}

pub const DECISION: ParamSpec = ParamSpec::new(
    "decision",
    T::Choice(Decision::NAMES),
    D::Str("fixed"),
    "`fixed`: every label at `threshold`; `tuned`: at the thresholds the model carries (train or ensemble with tune_thresholds)",
);

ablate_core::choice! {
    /// Test-time augmentation: which views of each image are averaged.
    pub enum Tta {
        None = "none",
        /// The image and its horizontal, vertical and double flips.
        Flips = "flips",
    }
}

pub const TTA: ParamSpec = ParamSpec::new(
    "tta",
    T::Choice(Tta::NAMES),
    D::Str("none"),
    "test-time augmentation: `flips` averages the image and its three flips",
);

/// The parameters of a stage that predicts a split, with the split's default.
pub const fn params(default_split: &'static str, doc: &'static str) -> [ParamSpec; 4] {
    [ParamSpec::new("split", T::Str, D::Str(default_split), doc), THRESHOLD, DECISION, TTA]
}

/// A predicting stage's parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionParams {
    pub split: String,
    pub threshold: f32,
    pub decision: Decision,
    pub tta: Tta,
}

impl PredictionParams {
    pub fn decode(p: &Params) -> PredictionParams {
        PredictionParams {
            split: p.str("split").to_string(),
            threshold: p.float("threshold") as f32,
            decision: p.choice("decision"),
            tta: p.choice("tta"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        let params = super::params("val", "split");
        ablate_core::params::check_decoder(&params, "", super::PredictionParams::decode);
    }
}

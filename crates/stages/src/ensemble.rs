//! `ensemble`: several trained models as one, whose probabilities `evaluate` and `export`
//! average (seeds of one recipe, or different architectures). Its inputs are the members, under
//! roles the pipeline chooses (`{s0: train_a, s1: train_b}`), plus an optional `data`: with
//! `tune_thresholds`, per-label thresholds are tuned on that dataset's `split` for the averaged
//! probabilities (reported beside the 0.5 scores by `evaluate`, as a trained model's are).
//!
//! The output holds the members hard-linked beside `ensemble.json` (no copy), so the stage's
//! output digest, and the keys of what reads it, change when a member's output changes and only
//! then.
use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputSpec, KindInfo, Resource, Workspace};

use crate::prediction::{TTA, Tta};

/// The role of the dataset thresholds are tuned on; every other role is a member.
pub const DATA: &str = "data";

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "tune_thresholds",
        T::Bool,
        D::Bool(false),
        "tune per-label thresholds for the averaged probabilities on `split` of `data`",
    ),
    ParamSpec::new("split", T::Str, D::Str("val"), "the split thresholds are tuned on"),
    TTA,
];

pub const INFO: KindInfo = KindInfo {
    kind: "ensemble",
    version: 1,
    doc: "average the probabilities of several trained models",
    params: PARAMS,
    inputs: &[
        InputSpec::optional(DATA, "the dataset whose `split` tunes the thresholds"),
        InputSpec::any("a trained model from `train`, one per member"),
    ],
    resource: Resource::DEVICE,
    workspace: Workspace::None,
};

/// `ensemble`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleParams {
    pub tune_thresholds: bool,
    pub split: String,
    pub tta: Tta,
}

impl EnsembleParams {
    pub fn decode(p: &Params) -> EnsembleParams {
        EnsembleParams {
            tune_thresholds: p.bool("tune_thresholds"),
            split: p.str("split").to_string(),
            tta: p.choice("tta"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(super::PARAMS, "", super::EnsembleParams::decode);
    }
}

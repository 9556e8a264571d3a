//! `evaluate`: per-label precision, recall and F1, and macro-F1, of a trained model on one split
//! at a fixed threshold. When the model carries thresholds tuned on validation, the same scores
//! at those thresholds are reported beside them (`tuned_*` metrics), never instead. Writes
//! `scores.json` and `predictions.csv` (probabilities per id).

use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T};
use ablate_core::stage::{KindInfo, Resource, Workspace};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("split", T::Str, D::Str("offsite_test"), "split to evaluate on"),
    super::THRESHOLD,
];

pub const INFO: KindInfo = KindInfo {
    kind: "evaluate",
    version: 2,
    doc: "per-label precision, recall, F1 and macro-F1 on a split",
    params: PARAMS,
    inputs: super::MODEL_AND_DATA,
    resource: Resource::Device,
    workspace: Workspace::None,
};

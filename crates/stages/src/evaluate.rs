//! `evaluate`: per-label precision, recall and F1, and macro-F1, of a trained model on one split
//! at a fixed threshold. When the model carries thresholds tuned on validation, the same scores
//! at those thresholds are reported beside them (`tuned_*` metrics), never instead. Writes
//! `scores.json` and `predictions.csv` (probabilities per id).

use ablate_core::params::ParamSpec;
use ablate_core::stage::{KindInfo, Resource, Workspace};

use crate::prediction;

const PARAMS: &[ParamSpec] = &prediction::params("offsite_test", "split to evaluate on");

pub const INFO: KindInfo = KindInfo {
    kind: "evaluate",
    version: 2,
    doc: "per-label precision, recall, F1 and macro-F1 on a split",
    params: PARAMS,
    inputs: prediction::MODEL_AND_DATA,
    resource: Resource::Device,
    workspace: Workspace::None,
};

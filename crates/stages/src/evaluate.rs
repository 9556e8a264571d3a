//! `evaluate`: per-label precision, recall and F1, and macro-F1, of a trained model on one split
//! at its decision thresholds (`threshold` for every label, or with `decision: tuned` those the
//! model carries). When the model carries thresholds tuned on validation, the scores at them are
//! also reported as `tuned_*` metrics, so a fixed-threshold run shows them beside its own.
//! Writes `scores.json` and `predictions.csv` (probabilities per id).

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

//! `export`: the submission CSV of a split, header `id,<labels>`, 0/1 predictions at the
//! threshold, rows in the split's order (the on-site template's order).
use ablate_core::params::ParamSpec;
use ablate_core::stage::{KindInfo, Resource, Workspace};

use crate::prediction;

pub const FILE_NAME: &str = "submission.csv";

const PARAMS: &[ParamSpec] = &prediction::params("onsite_test", "split to predict");

pub const INFO: KindInfo = KindInfo {
    kind: "export",
    version: 1,
    doc: "write the submission CSV (id,<labels> with 0/1) for a split",
    params: PARAMS,
    inputs: prediction::MODEL_AND_DATA,
    resource: Resource::DEVICE,
    workspace: Workspace::None,
};

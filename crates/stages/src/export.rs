//! `export`: the submission CSV of a split, header `id,<labels>`, 0/1 predictions at the
//! threshold, rows in the split's order (the on-site template's order).
use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T};
use ablate_core::stage::{KindInfo, Resource, Workspace};

pub const FILE_NAME: &str = "submission.csv";

const PARAMS: &[ParamSpec] =
    &[ParamSpec::new("split", T::Str, D::Str("onsite_test"), "split to predict"), super::THRESHOLD];

pub const INFO: KindInfo = KindInfo {
    kind: "export",
    version: 1,
    doc: "write the submission CSV (id,<labels> with 0/1) for a split",
    params: PARAMS,
    inputs: super::MODEL_AND_DATA,
    resource: Resource::Device,
    workspace: Workspace::None,
};

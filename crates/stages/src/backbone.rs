//! `backbone`: an architecture and, optionally, its weights → an initial model.
//!
//! With `weights`, the file is read by tensor name (torchvision or timm names, after removing
//! `prefix`), checked against the architecture (strictly by default: every backbone tensor
//! present, nothing unknown, every shape right) and stored under `backbone.*`. The source
//! model's own classifier (`fc.*` of ResNet, `classifier.*` of EfficientNet, `head.*` of ViT and
//! Swin) is not part of a backbone and is dropped, as the reference's `load_backbone_only` did;
//! the report says so. Without `weights` the artifact only names the architecture, and the
//! training stage draws the initial weights with its own seed, so seeds replicate initialisation
//! too. The weights file's content, not its path, enters the key.
use std::path::Path;

use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputFile, KindInfo, Resource, Workspace};

use crate::catalog::BACKBONE_NAMES;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("arch", T::Choice(BACKBONE_NAMES), D::Required, "backbone architecture"),
    ParamSpec::new(
        "weights",
        T::Path,
        D::Absent,
        "safetensors file of its weights (absent: random initialisation)",
    )
    .unkeyed(),
    ParamSpec::new(
        "sha256",
        T::Hex { digits: 64 },
        D::Absent,
        "expected sha256 of the weights file",
    ),
    ParamSpec::new(
        "prefix",
        T::Str,
        D::Str(""),
        "prefix of the backbone's tensor names in the file, e.g. `backbone.`",
    ),
    ParamSpec::new(
        "strict",
        T::Bool,
        D::Bool(true),
        "fail unless every backbone tensor is in the file with its shape",
    ),
    ParamSpec::new(
        "drop_path",
        T::Float { min: 0.0, max: 0.99 },
        D::Absent,
        "stochastic-depth rate (absent: the library's default)",
    ),
];

pub const INFO: KindInfo = KindInfo {
    kind: "backbone",
    version: 1,
    doc: "choose a backbone architecture and load its weights",
    params: PARAMS,
    inputs: &[],
    resource: Resource::Cpu,
    workspace: Workspace::None,
};

/// The weights file, whose content keys the stage.
pub fn input_files(params: &Params) -> anyhow::Result<Vec<InputFile>> {
    let Some(weights) = params.opt_str("weights") else {
        return Ok(Vec::new());
    };
    let path = Path::new(weights);
    if !path.is_file() {
        anyhow::bail!("weights file {} does not exist", path.display());
    }
    let label =
        path.file_name().map_or_else(|| weights.to_string(), |n| n.to_string_lossy().into_owned());
    Ok(vec![InputFile { label, path: path.to_path_buf() }])
}

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
use std::path::PathBuf;

use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputFile, KindInfo, Resource, Workspace};

use crate::catalog::{self, BACKBONE_NAMES, BackboneInfo};

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

/// `backbone`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct BackboneParams {
    pub arch: &'static BackboneInfo,
    pub weights: Option<PathBuf>,
    pub sha256: Option<String>,
    pub prefix: String,
    pub strict: bool,
    pub drop_path: Option<f64>,
}

impl BackboneParams {
    pub fn decode(p: &Params) -> BackboneParams {
        BackboneParams {
            arch: catalog::backbone(p.str("arch"))
                .expect("`arch` is validated against the catalog"),
            weights: p.opt_str("weights").map(PathBuf::from),
            sha256: p.opt_str("sha256").map(String::from),
            prefix: p.str("prefix").to_string(),
            strict: p.bool("strict"),
            drop_path: p.opt_float("drop_path"),
        }
    }
}

/// The weights file, whose content keys the stage.
pub fn input_files(params: &Params) -> anyhow::Result<Vec<InputFile>> {
    let Some(path) = BackboneParams::decode(params).weights else {
        return Ok(Vec::new());
    };
    if !path.is_file() {
        anyhow::bail!("weights file {} does not exist", path.display());
    }
    let label = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(vec![InputFile { label, path }])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        let required = "arch: resnet18";
        ablate_core::params::check_decoder(super::PARAMS, required, super::BackboneParams::decode);
    }
}

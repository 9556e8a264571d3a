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

use crate::core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use crate::core::stage::{InputFile, KindInfo, Resource, Workspace};

/// Every backbone `models` can build.
pub const BACKBONES: &[&str] = &[
    "resnet18",
    "efficientnet_b0",
    "efficientnet_lite0",
    "vit_tiny_patch16_224",
    "vit_small_patch16_224",
    "vit_base_patch16_224",
    "swin_tiny_patch4_window7_224",
    "swin_small_patch4_window7_224",
];

/// The prefix of the classifier a backbone's source library puts on top of it.
pub fn source_head(backbone: &str) -> &'static str {
    match backbone {
        "resnet18" => "fc.",
        "efficientnet_b0" | "efficientnet_lite0" => "classifier.",
        _ => "head.",
    }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("arch", T::Choice(BACKBONES), D::Required, "backbone architecture"),
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

#[cfg(feature = "torch")]
pub use on_device::execute;

#[cfg(feature = "torch")]
mod on_device {
    use std::path::Path;

    use anyhow::Context;
    use sha2::{Digest, Sha256};
    use tch::nn::VarStore;

    use super::source_head;
    use crate::core::stage::StageContext;
    use crate::models::{Architecture, adapt_backbone_tensor, build_backbone};
    use crate::nn::{checkpoint, weights};

    /// ViT and Swin are defined at 224² by their checkpoints; CNNs do not care.
    const NATIVE_SIZE: i64 = 224;

    fn check_sha256(path: &Path, expected: &str) -> anyhow::Result<()> {
        let mut hasher = Sha256::new();
        let mut file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        std::io::copy(&mut file, &mut hasher)?;
        let actual = format!("{:x}", hasher.finalize());
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            anyhow::bail!("{} has sha256 {actual}, expected {expected}", path.display());
        }
        Ok(())
    }

    pub fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
        let p = ctx.params;
        let mut arch = Architecture::new(p.str("arch"));
        arch.drop_path = p.opt_float("drop_path");
        let Some(file) = p.opt_str("weights") else {
            checkpoint::write_initial(&ctx.out_dir, &arch, &[])?;
            ctx.set_summary(format!(
                "{}: random initialisation, drawn by the training stage",
                arch.backbone
            ));
            return Ok(());
        };
        let path = Path::new(file);
        if let Some(expected) = p.opt_str("sha256") {
            check_sha256(path, expected)?;
        }
        let (prefix, head) = (p.str("prefix"), source_head(&arch.backbone));
        let mut outside = 0;
        let mut dropped = 0;
        let mut tensors = Vec::new();
        for (name, tensor) in weights::read(path)? {
            match name.strip_prefix(prefix) {
                None => outside += 1,
                Some(rest) if rest.starts_with(head) => dropped += 1,
                Some(rest) => tensors.push((format!("backbone.{rest}"), tensor)),
            }
        }
        let vs = VarStore::new(tch::Device::Cpu);
        let backbone = build_backbone(&(vs.root() / "backbone"), &arch, NATIVE_SIZE)?;
        let adapt = |name: &str, t: &tch::Tensor, shape: &[i64]| {
            adapt_backbone_tensor(backbone.as_ref(), name, t, shape)
        };
        let names: Vec<String> = tensors.iter().map(|(n, _)| n.clone()).collect();
        let report =
            weights::load_into(&vs, tensors, &["backbone."], &path.display().to_string(), &adapt)?;
        if p.bool("strict") {
            report.check_strict()?;
        }
        let variables = vs.variables();
        let rejected: Vec<&String> =
            report.unexpected.iter().chain(report.mismatched.iter().map(|m| &m.0)).collect();
        let loaded: Vec<(String, tch::Tensor)> = names
            .into_iter()
            .filter(|n| !rejected.contains(&n))
            .filter_map(|n| variables.get(&n).map(|t| (n.clone(), t.shallow_clone())))
            .collect();
        checkpoint::write_initial(&ctx.out_dir, &arch, &loaded)?;
        let mut summary = format!("{}: {report}", arch.backbone);
        if dropped > 0 {
            summary += &format!("; {dropped} tensors of the source's classifier `{head}*` dropped");
        }
        if outside > 0 {
            summary += &format!("; {outside} tensors outside prefix `{prefix}` ignored");
        }
        ctx.set_summary(summary);
        Ok(())
    }
}

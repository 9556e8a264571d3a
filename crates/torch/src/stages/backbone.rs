//! The torch implementation of `backbone`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::backbone`.
use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};
use tch::nn::VarStore;

use crate::models::{Architecture, adapt_backbone_tensor, build_backbone};
use crate::nn::{checkpoint, weights};
use ablate_core::stage::StageContext;
use ablate_stages::backbone::BackboneParams;

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

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let p = BackboneParams::decode(ctx.params);
    let mut arch = Architecture::new(p.arch.name);
    arch.drop_path = p.drop_path;
    let Some(path) = &p.weights else {
        checkpoint::write_initial(&ctx.out_dir, &arch, &[])?;
        ctx.set_summary(format!(
            "{}: random initialisation, drawn by the training stage",
            arch.backbone
        ));
        return Ok(());
    };
    if let Some(expected) = &p.sha256 {
        check_sha256(path, expected)?;
    }
    let (prefix, head) = (p.prefix.as_str(), p.arch.classifier_prefix);
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
    let backbone = build_backbone(&(vs.root() / "backbone"), &arch, p.arch.native_size)?;
    let adapt = |name: &str, t: &tch::Tensor, shape: &[i64]| {
        adapt_backbone_tensor(backbone.as_ref(), name, t, shape)
    };
    let names: Vec<String> = tensors.iter().map(|(n, _)| n.clone()).collect();
    let report =
        weights::load_into(&vs, tensors, &["backbone."], &path.display().to_string(), &adapt)?;
    if p.strict {
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

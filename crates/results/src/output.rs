//! `ablate out`: the output folder of a stage instance's latest result, so that nobody reads
//! `cache/refs` by hand.
//!
//! The stage is named as in the pipeline's manifest: an instance (`export[model=lite0,seed=0]`)
//! or a stage of the file (`export`) that has one instance. Its ref gives the key of its latest
//! result, whose output is `entries/<key>/out`.
use std::collections::BTreeSet;
use std::path::PathBuf;

use ablate_core::diagnostic::did_you_mean;
use ablate_core::invalid;
use ablate_core::manifest::Manifest;
use ablate_core::store::Store;
use anyhow::bail;

/// The output folder of the latest result of `stage` in `pipeline`.
pub fn output_folder(store: &Store, pipeline: &str, stage: &str) -> anyhow::Result<PathBuf> {
    let manifests = store.manifests()?;
    let Some(manifest) = manifests.iter().find(|m| m.pipeline == pipeline) else {
        let names: Vec<&str> = manifests.iter().map(|m| m.pipeline.as_str()).collect();
        invalid!(
            "pipeline `{pipeline}` has not run with the cache {} (pipelines there: {})",
            store.root().display(),
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        );
    };
    let instance = instance_named(manifest, stage)?;
    let Some(key) = store.read_ref(pipeline, &instance) else {
        bail!("{instance} of {pipeline} has no result yet (not run, or it failed)");
    };
    let Some(entry) = store.entry(&key)? else {
        bail!(
            "the latest result of {instance} ({key}) is no longer in the cache (removed by `ablate gc`?); `ablate run` computes it again"
        );
    };
    Ok(std::path::absolute(entry.out_dir())?)
}

/// The instance `stage` names: itself; the one instance of a stage of the file; or, for
/// `template[factor=level,…]` with levels in any order, the instance of the template that the
/// variants with those levels use (`export[task=1.3,model=lite0,seed=0]`).
fn instance_named(manifest: &Manifest, stage: &str) -> anyhow::Result<String> {
    if manifest.stage(stage).is_some() {
        return Ok(stage.to_string());
    }
    if let Some((template, levels)) = split_levels(stage) {
        let used: BTreeSet<&str> = manifest
            .variants
            .iter()
            .filter(|v| {
                levels.iter().all(|(f, l)| v.levels.iter().any(|(vf, vl)| vf == f && vl == l))
            })
            .filter_map(|v| v.stages.get(template).map(String::as_str))
            .collect();
        match used.len() {
            1 => return Ok(used.into_iter().next().expect("one").to_string()),
            0 => {
                let instances = manifest.stages.iter().filter(|s| s.template == template);
                let names: Vec<&str> = instances.map(|s| s.instance.as_str()).collect();
                if !names.is_empty() {
                    let close = did_you_mean(stage, names.iter().copied());
                    invalid!(
                        "no variant of `{}` with {} uses stage `{template}`{}; its instances: {}",
                        manifest.pipeline,
                        levels
                            .iter()
                            .map(|(f, l)| format!("{f}={l}"))
                            .collect::<Vec<_>>()
                            .join(","),
                        close.map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default(),
                        names.join(", ")
                    );
                }
            }
            _ => invalid!(
                "the variants with those levels use {} instances of `{template}`; name more levels: {}",
                used.len(),
                used.into_iter().collect::<Vec<_>>().join(", ")
            ),
        }
    }
    let instances: Vec<&str> = manifest
        .stages
        .iter()
        .filter(|s| s.template == stage)
        .map(|s| s.instance.as_str())
        .collect();
    match instances.as_slice() {
        [one] => Ok(one.to_string()),
        [] => {
            let mut templates: Vec<String> = Vec::new();
            for s in &manifest.stages {
                let count = manifest.stages.iter().filter(|o| o.template == s.template).count();
                let shown = match count {
                    1 => s.template.clone(),
                    n => format!("{} ({n} instances)", s.template),
                };
                if !templates.contains(&shown) {
                    templates.push(shown);
                }
            }
            invalid!(
                "pipeline `{}` has no stage `{stage}` (its stages: {})",
                manifest.pipeline,
                templates.join(", ")
            )
        }
        many => invalid!(
            "stage `{stage}` of `{}` has {} instances; name one: {}",
            manifest.pipeline,
            many.len(),
            many.join(", ")
        ),
    }
}

/// `export[model=a,seed=0]` → (`export`, [(model, a), (seed, 0)]).
fn split_levels(stage: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    let (template, rest) = stage.split_once('[')?;
    let levels = rest.strip_suffix(']')?;
    let pairs = levels.split(',').map(|pair| pair.split_once('=')).collect::<Option<Vec<_>>>()?;
    Some((template, pairs))
}

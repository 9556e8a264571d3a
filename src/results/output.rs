//! `ablate out`: the output folder of a stage instance's latest result, so that nobody reads
//! `cache/refs` by hand.
//!
//! The stage is named as in the pipeline's manifest: an instance (`export[model=lite0,seed=0]`)
//! or a stage of the file (`export`) that has one instance. Its ref gives the key of its latest
//! result, whose output is `entries/<key>/out`.
use std::path::PathBuf;

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

/// The instance `stage` names: itself, or the one instance of a stage of the file.
fn instance_named(manifest: &Manifest, stage: &str) -> anyhow::Result<String> {
    if manifest.stage(stage).is_some() {
        return Ok(stage.to_string());
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

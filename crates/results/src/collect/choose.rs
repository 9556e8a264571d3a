//! Which stages of which variants a selection reads: the chosen pipelines' manifests, and per
//! variant the instances of the chosen stages of the file.
use ablate_core::invalid;
use ablate_core::manifest::Manifest;
use ablate_core::params::Choice;
use ablate_core::store::Store;
use ablate_stages::{SCORED_KINDS, WorkerKind};
use anyhow::bail;

use super::Stages;

/// One stage of one variant that a selection reads: indices into the manifests and their
/// variants, the stage of the file and the instance the variant uses.
pub(super) struct Wanted {
    pub(super) manifest: usize,
    pub(super) variant: usize,
    pub(super) template: String,
    pub(super) instance: String,
}

/// The stages `stages` selects of each variant of `manifests`.
pub(super) fn wanted(manifests: &[Manifest], stages: &Stages) -> anyhow::Result<Vec<Wanted>> {
    let mut wanted = Vec::new();
    for (m, manifest) in manifests.iter().enumerate() {
        let templates = chosen_templates(manifest, stages)?;
        for (v, variant) in manifest.variants.iter().enumerate() {
            let used: Vec<&String> =
                templates.iter().filter(|t| variant.stages.contains_key(*t)).collect();
            let used = match stages {
                Stages::FinalTraining => used.last().copied().into_iter().collect(),
                _ => used,
            };
            for template in used {
                let instance = variant.stages[template].clone();
                wanted.push(Wanted {
                    manifest: m,
                    variant: v,
                    template: template.clone(),
                    instance,
                });
            }
        }
    }
    Ok(wanted)
}

pub(super) fn chosen_manifests(store: &Store, names: &[String]) -> anyhow::Result<Vec<Manifest>> {
    let all = store.manifests()?;
    if names.is_empty() {
        if all.is_empty() {
            bail!(
                "no pipeline has run with the cache {} (a cache filled before `ablate compare` existed needs one `ablate run` of each pipeline, a no-op when cached)",
                store.root().display()
            );
        }
        return Ok(all);
    }
    let mut chosen = Vec::new();
    for name in names {
        match all.iter().find(|m| &m.pipeline == name) {
            Some(manifest) => chosen.push(manifest.clone()),
            None => {
                let known: Vec<&str> = all.iter().map(|m| m.pipeline.as_str()).collect();
                invalid!(
                    "pipeline `{name}` has not run with the cache {} (pipelines there: {})",
                    store.root().display(),
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                );
            }
        }
    }
    Ok(chosen)
}

/// The templates `stages` selects, in file order.
fn chosen_templates(manifest: &Manifest, stages: &Stages) -> anyhow::Result<Vec<String>> {
    let mut templates: Vec<&str> = Vec::new();
    for stage in &manifest.stages {
        if !templates.contains(&stage.template.as_str()) {
            templates.push(&stage.template);
        }
    }
    let kind_of = |template: &str| {
        manifest.stages.iter().find(|s| s.template == template).map(|s| s.kind.as_str())
    };
    let of_kinds = |kinds: &[&str]| -> Vec<String> {
        let chosen = |t: &&&str| kind_of(t).is_some_and(|kind| kinds.contains(&kind));
        templates.iter().filter(chosen).map(|t| t.to_string()).collect()
    };
    let stages = match stages {
        Stages::Named(stages) if !stages.is_empty() => stages,
        Stages::Kind(kind) => return Ok(of_kinds(&[kind.name()])),
        Stages::Scored => return Ok(of_kinds(&SCORED_KINDS)),
        Stages::FinalTraining => return Ok(of_kinds(&[WorkerKind::Train.name()])),
        Stages::All => return Ok(templates.iter().map(|t| t.to_string()).collect()),
        _ => {
            let evaluations = of_kinds(&SCORED_KINDS);
            let chosen = if evaluations.is_empty() {
                of_kinds(&[WorkerKind::Train.name()])
            } else {
                evaluations
            };
            if chosen.is_empty() {
                let stages: Vec<String> = templates
                    .iter()
                    .map(|t| format!("{t} ({})", kind_of(t).unwrap_or_default()))
                    .collect();
                let stages = stages.join(", ");
                invalid!(
                    "pipeline `{}` has no `evaluate`, `score` or `train` stage to compare (its stages: {stages}); name the stages to read with --stage",
                    manifest.pipeline
                );
            }
            return Ok(chosen);
        }
    };
    let present: Vec<String> =
        stages.iter().filter(|s| templates.contains(&s.as_str())).cloned().collect();
    if present.is_empty() {
        invalid!(
            "pipeline `{}` has no stage {} (its stages: {})",
            manifest.pipeline,
            stages.join(" or "),
            templates.join(", ")
        );
    }
    Ok(present)
}

//! What a pipeline consisted of at its last run, kept in the cache (`refs/<pipeline>/manifest.json`)
//! so that results can be compared, plotted and kept by `gc` without the pipeline file.
//!
//! A manifest lists the pipeline's stage instances (each with the stage of the file it comes
//! from, its *template*, and its kind) and its grid's variants with the instance each variant
//! uses for each template. Which result an instance last produced is in its ref
//! (`refs/<pipeline>/<instance>`), written when the instance completes; the manifest itself is
//! written when a run starts, so it always describes the pipeline as last run: its whole grid,
//! also when the run was limited to a slice of it (`grid.only`), and which file (path and
//! digest) and overrides it came from, and each instance's definition, which tells a current
//! result from one of an earlier configuration (see `refs`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::grid::{ExtraSeeds, Layout, Levels};
use super::pipeline::Pipeline;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub pipeline: String,
    /// The pipeline file's absolute path.
    pub file: String,
    /// The blake3 digest of the file's text at that run (which version of it).
    #[serde(default)]
    pub file_digest: String,
    /// The `--set` overrides of that run.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// The seeds single variants ran beyond the grid's (`run --until-ci`, see
    /// `grid::ExtraSeeds`); `variants` lists them too.
    #[serde(default, skip_serializing_if = "ExtraSeeds::is_empty")]
    pub extra_seeds: ExtraSeeds,
    /// Seconds since the Unix epoch when the run started.
    pub written: u64,
    /// Factors, levels and baseline; `None` for a pipeline without a grid.
    pub layout: Option<Layout>,
    pub stages: Vec<ManifestStage>,
    /// One per variant of the grid; a pipeline without a grid is one variant without levels.
    pub variants: Vec<ManifestVariant>,
    /// Instance → its definition at that run (`Pipeline::definition`): a ref whose result was
    /// made under another definition is stale. Empty in manifests written before.
    #[serde(default)]
    pub definitions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestStage {
    pub instance: String,
    pub template: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestVariant {
    pub levels: Levels,
    /// Stage of the file (template) → the instance this variant uses.
    pub stages: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest of `pipeline`: of its whole grid when a run is limited to a slice.
    pub fn of(pipeline: &Pipeline, written: u64) -> Manifest {
        let all_variants = pipeline.whole.as_ref().map_or(&pipeline.variants, |w| &w.variants);
        let all_stages = pipeline.whole.as_ref().map_or(&pipeline.stages, |w| &w.stages);
        let instances: Vec<(String, String)> =
            all_stages.iter().map(|s| (s.name.clone(), s.kind.clone())).collect();
        let variants: Vec<ManifestVariant> = if all_variants.is_empty() {
            vec![ManifestVariant {
                levels: Levels::default(),
                stages: instances.iter().map(|(name, _)| (name.clone(), name.clone())).collect(),
            }]
        } else {
            all_variants
                .iter()
                .map(|v| ManifestVariant {
                    levels: v.variant.levels.clone(),
                    stages: v.stages.clone(),
                })
                .collect()
        };
        let template_of: BTreeMap<&str, &str> = variants
            .iter()
            .flat_map(|v| v.stages.iter().map(|(t, i)| (i.as_str(), t.as_str())))
            .collect();
        let stages = instances
            .iter()
            .map(|(name, kind)| ManifestStage {
                instance: name.clone(),
                template: template_of.get(name.as_str()).unwrap_or(&name.as_str()).to_string(),
                kind: kind.clone(),
            })
            .collect();
        Manifest {
            pipeline: pipeline.name.clone(),
            file: pipeline.file(),
            file_digest: pipeline.text_digest.clone(),
            overrides: pipeline.overrides.clone(),
            extra_seeds: pipeline.extra_seeds.clone(),
            written,
            layout: pipeline.layout.clone(),
            stages,
            variants,
            definitions: match &pipeline.whole {
                Some(whole) => whole.definitions(),
                None => pipeline.definitions(),
            },
        }
    }

    pub fn stage(&self, instance: &str) -> Option<&ManifestStage> {
        self.stages.iter().find(|s| s.instance == instance)
    }
}

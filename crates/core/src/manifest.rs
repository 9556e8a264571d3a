//! What a pipeline consisted of at its last run, kept in the cache (`refs/<pipeline>/manifest.json`)
//! so that results can be compared, plotted and kept by `gc` without the pipeline file.
//!
//! A manifest lists the pipeline's stage instances (each with the stage of the file it comes
//! from, its *template*, and its kind) and its grid's variants with the instance each variant
//! uses for each template. Which result an instance last produced is in its ref
//! (`refs/<pipeline>/<instance>`), written when the instance completes; the manifest itself is
//! written when a run starts, so it always describes the pipeline as last run.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::grid::Layout;
use super::pipeline::Pipeline;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub pipeline: String,
    /// The pipeline file, as it was given to `ablate run`.
    pub file: String,
    /// Seconds since the Unix epoch when the run started.
    pub written: u64,
    /// Factors, levels and baseline; `None` for a pipeline without a grid.
    pub layout: Option<Layout>,
    pub stages: Vec<ManifestStage>,
    /// One per variant of the grid; a pipeline without a grid is one variant without levels.
    pub variants: Vec<ManifestVariant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestStage {
    pub instance: String,
    pub template: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestVariant {
    pub levels: Vec<(String, String)>,
    /// Stage of the file (template) → the instance this variant uses.
    pub stages: BTreeMap<String, String>,
}

impl Manifest {
    pub fn of(pipeline: &Pipeline, written: u64) -> Manifest {
        let variants: Vec<ManifestVariant> = if pipeline.variants.is_empty() {
            vec![ManifestVariant {
                levels: Vec::new(),
                stages: pipeline.stages.iter().map(|s| (s.name.clone(), s.name.clone())).collect(),
            }]
        } else {
            pipeline
                .variants
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
        let stages = pipeline
            .stages
            .iter()
            .map(|s| ManifestStage {
                instance: s.name.clone(),
                template: template_of.get(s.name.as_str()).unwrap_or(&s.name.as_str()).to_string(),
                kind: s.kind.clone(),
            })
            .collect();
        Manifest {
            pipeline: pipeline.name.clone(),
            file: pipeline.path.display().to_string(),
            written,
            layout: pipeline.layout.clone(),
            stages,
            variants,
        }
    }

    pub fn stage(&self, instance: &str) -> Option<&ManifestStage> {
        self.stages.iter().find(|s| s.instance == instance)
    }
}

//! The overlays of the pipelines' `gradcam` stages, from what each stored: its
//! [`Index`] (split, threshold and per overlay its file, image, label, probability and ground
//! truth) and the overlay PNGs.
use ablate_core::manifest::Manifest;
use ablate_core::params::Params;
use ablate_core::store::Entry;
use ablate_stages::gradcam::{self, GradcamParams, Index};
use anyhow::Context;

use super::variants::Variants;
use crate::collect::StageResult;
use crate::report::{GradcamStage, Overlay};

/// The `gradcam` results of the shown variants, in the manifests' order of their instances;
/// those whose files cannot be read are skipped with a warning.
pub(super) fn gradcam(
    manifests: &[Manifest],
    results: &[StageResult],
    variants: &Variants,
    warnings: &mut Vec<String>,
) -> Vec<GradcamStage> {
    let mut stages = Vec::new();
    for manifest in manifests {
        for stage in &manifest.stages {
            let of_stage =
                |r: &&StageResult| r.pipeline == manifest.pipeline && r.instance == stage.instance;
            let Some(result) = results.iter().find(of_stage) else { continue };
            let mut users: Vec<&str> = results
                .iter()
                .filter(of_stage)
                .filter_map(|r| variants.name(&r.pipeline, &r.levels))
                .collect();
            users.sort_unstable();
            users.dedup();
            if users.is_empty() {
                continue; // of no variant shown
            }
            match read(&result.entry) {
                Ok((split, threshold, overlays)) => stages.push(GradcamStage {
                    instance: stage.instance.clone(),
                    variant: (users.len() == 1).then(|| users[0].to_string()),
                    split,
                    threshold,
                    overlays,
                }),
                Err(error) => {
                    warnings.push(format!("no GradCAM overlays of {}: {error:#}", stage.instance))
                }
            }
        }
    }
    stages
}

/// The split, threshold and overlays of a `gradcam` result.
fn read(entry: &Entry) -> anyhow::Result<(String, f64, Vec<Overlay>)> {
    let recorded = Params::recorded(gradcam::INFO.params, &entry.record.fingerprint.params);
    let params = GradcamParams::decode(&recorded);
    let out = entry.out_dir();
    let index = Index::read(&out, &params.split, params.threshold)?;
    let overlays = index
        .overlays
        .into_iter()
        .map(|o| {
            let png = std::fs::read(out.join(&o.file))
                .with_context(|| format!("cannot read {}", o.file))?;
            Ok(Overlay {
                image_id: o.image,
                label: o.label,
                probability: o.probability,
                truth: o.truth == Some(true),
                png,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((index.split, index.threshold, overlays))
}

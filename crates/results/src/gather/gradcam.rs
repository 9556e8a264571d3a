//! The overlays of the pipelines' `gradcam` stages, from what each stored: `index.md` (per
//! overlay its file, image, label, probability and ground truth) and the overlay PNGs, with
//! the stage's split and threshold from its parameters.
use ablate_core::manifest::Manifest;
use ablate_core::store::Store;
use ablate_stages::gradcam::INDEX_FILE;
use anyhow::Context;

use super::variants::Variants;
use crate::report::{GradcamStage, Overlay};

/// The `gradcam` instances of the shown variants that have a result; those whose files cannot
/// be read are skipped with a warning.
pub(super) fn gradcam(
    store: &Store,
    manifests: &[Manifest],
    variants: &Variants,
    warnings: &mut Vec<String>,
) -> Vec<GradcamStage> {
    let mut stages = Vec::new();
    for manifest in manifests {
        for stage in manifest.stages.iter().filter(|s| s.kind == "gradcam") {
            let mut users: Vec<&str> = manifest
                .variants
                .iter()
                .filter(|v| v.stages.values().any(|i| i == &stage.instance))
                .filter_map(|v| variants.name(&manifest.pipeline, &v.levels))
                .collect();
            users.sort_unstable();
            users.dedup();
            if users.is_empty() {
                continue; // of no variant shown
            }
            let Some(key) = store.read_ref(&manifest.pipeline, &stage.instance) else { continue };
            match read(store, &key) {
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

/// The split, threshold and overlays of the result `key`.
fn read(store: &Store, key: &str) -> anyhow::Result<(String, f64, Vec<Overlay>)> {
    let entry = store.entry(key)?.context("its result is gone from the cache")?;
    let params = &entry.record.fingerprint.params;
    let split = params.get("split").and_then(|s| s.as_str()).unwrap_or_default().to_string();
    let threshold = params.get("threshold").and_then(|t| t.as_f64()).unwrap_or(0.5);
    let out = entry.out_dir();
    let index = std::fs::read_to_string(out.join(INDEX_FILE))
        .with_context(|| format!("cannot read its {INDEX_FILE}"))?;
    let mut overlays = Vec::new();
    for line in index.lines().filter(|l| l.starts_with("| ![")) {
        let row =
            IndexRow::parse(line).with_context(|| format!("{INDEX_FILE}: cannot read `{line}`"))?;
        let png = std::fs::read(out.join(row.file))
            .with_context(|| format!("cannot read {}", row.file))?;
        overlays.push(Overlay {
            image_id: row.image.to_string(),
            label: row.label.to_string(),
            probability: row.probability,
            truth: row.truth,
            png,
        });
    }
    Ok((split, threshold, overlays))
}

/// A row of the index's table: `| ![id label](overlays/file.png) | id | label | predicted |
/// probability | truth |`.
struct IndexRow<'a> {
    file: &'a str,
    image: String,
    label: &'a str,
    probability: f64,
    truth: bool,
}

impl<'a> IndexRow<'a> {
    fn parse(line: &'a str) -> Option<IndexRow<'a>> {
        let inner = line.strip_prefix("| ")?.strip_suffix(" |")?;
        let fields: Vec<&str> = inner.split(" | ").collect();
        let n = fields.len();
        if n < 6 {
            return None;
        }
        let picture = fields[0];
        let file = &picture[picture.find("](")? + 2..picture.rfind(')')?];
        Some(IndexRow {
            file,
            // An id may hold " | "; the fields after it never do.
            image: fields[1..n - 4].join(" | "),
            label: fields[n - 4],
            probability: fields[n - 2].parse().ok()?,
            truth: fields[n - 1] == "1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_row_of_gradcam_s_index() {
        let row = IndexRow::parse(
            "| ![12_left.png G](overlays/12_left_G.png) | 12_left.png | G | yes | 0.8123 | 1 |",
        )
        .unwrap();
        assert_eq!(
            (row.file, row.image.as_str(), row.label),
            ("overlays/12_left_G.png", "12_left.png", "G")
        );
        assert_eq!((row.probability, row.truth), (0.8123, true));
        let unknown = IndexRow::parse("| ![a D](overlays/a_D.png) | a | D | no | 0.1000 | – |");
        assert!(!unknown.unwrap().truth);
        assert!(IndexRow::parse("| overlay | image | label |").is_none());
    }
}

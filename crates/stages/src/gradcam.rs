//! `gradcam`: class-specific GradCAM maps of a trained model (`nn::gradcam`) for chosen images
//! of a split — listed by `ids`, or the first `count` — and labels: every `predicted` one (above
//! the threshold, or the most probable where none is) or `all`.
//!
//! Writes `overlays/<image>_<label>.png`, the map normalised by its maximum, upsampled
//! bilinearly and blended in jet colours (RGB) over the de-normalised image; `maps.safetensors`
//! with `maps` (images×labels×h×w, ReLU(Σ α_k A_k) at feature-map resolution, unnormalised),
//! `probabilities` (images×labels) and `selected` (images×labels, 1 where an overlay was
//! written), its metadata naming the `ids` and `labels`; `index.json`, the [`Index`] of the
//! overlays (label, prediction, probability and ground truth of each), which the report reads;
//! and `index.md`, the same index as a page for people. Results from before `index.json` have
//! only `index.md`, which [`Index::read_legacy_markdown`] reads back.
use std::fmt::Write as _;
use std::path::Path;

use ablate_core::params::{Choice, ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{KindInfo, Resource, Workspace};
use anyhow::Context;
use serde::{Deserialize, Serialize};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("split", T::Str, D::Str("val"), "split the images come from"),
    ParamSpec::new(
        "ids",
        T::StrList,
        D::StrList(&[]),
        "ids of the images to explain; empty: the first `count` of the split",
    ),
    ParamSpec::new(
        "count",
        T::Int { min: 1, max: 100_000 },
        D::Int(8),
        "how many images from the start of the split, when `ids` is empty",
    ),
    ParamSpec::new(
        "classes",
        T::Choice(Classes::NAMES),
        D::Str("predicted"),
        "the labels to map: those predicted (or the top one), or all",
    ),
    crate::prediction::THRESHOLD,
    ParamSpec::new(
        "opacity",
        T::Float { min: 0.0, max: 1.0 },
        D::Float(0.5),
        "weight of the colour map in the overlays",
    ),
];

pub const INFO: KindInfo = KindInfo {
    kind: "gradcam",
    version: 1,
    doc: "GradCAM overlays, maps and an index page for chosen images of a split",
    params: PARAMS,
    inputs: crate::prediction::MODEL_AND_DATA,
    resource: Resource::DEVICE,
    workspace: Workspace::None,
};

/// The [`Index`], as JSON.
pub const INDEX_FILE: &str = "index.json";
/// The [`Index`] as a Markdown page for people (and, before `index.json`, the only index).
pub const INDEX_PAGE: &str = "index.md";
pub const MAPS_FILE: &str = "maps.safetensors";
/// The metadata key of `maps.safetensors` holding `{"ids": […], "labels": […]}`.
pub const MAPS_INDEX_KEY: &str = "index";
pub const OVERLAY_DIR: &str = "overlays";

ablate_core::choice! {
    /// The labels whose maps are drawn.
    pub enum Classes {
        /// Those predicted above the threshold, or the top one where none is.
        Predicted = "predicted",
        All = "all",
    }
}

/// `gradcam`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcamParams {
    pub split: String,
    pub ids: Vec<String>,
    pub count: usize,
    pub classes: Classes,
    pub threshold: f64,
    pub opacity: f64,
}

impl GradcamParams {
    pub fn decode(p: &Params) -> GradcamParams {
        GradcamParams {
            split: p.str("split").to_string(),
            ids: p.str_list("ids"),
            count: p.usize("count"),
            classes: p.choice("classes"),
            threshold: p.float("threshold"),
            opacity: p.float("opacity"),
        }
    }
}

/// What one `gradcam` result holds: how its maps were drawn and, per overlay, the image, label,
/// prediction and ground truth. The torch side writes it (`index.json`, and `index.md` from it);
/// the report reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub split: String,
    /// How many images were explained.
    pub images: usize,
    pub backbone: String,
    pub attention: String,
    /// Height and width of the feature map the maps were computed on.
    pub map_size: (i64, i64),
    pub opacity: f64,
    /// A label is predicted above it.
    pub threshold: f64,
    pub overlays: Vec<IndexOverlay>,
}

/// One overlay of an [`Index`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexOverlay {
    /// The PNG file, relative to the result's folder (`overlays/12_left_G.png`).
    pub file: String,
    pub image: String,
    pub label: String,
    pub predicted: bool,
    pub probability: f64,
    /// The label's ground truth; `None` where the dataset does not have the label.
    pub truth: Option<bool>,
}

impl Index {
    /// Writes `index.json` and `index.md` into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join(INDEX_FILE), serde_json::to_vec_pretty(self)?)?;
        std::fs::write(dir.join(INDEX_PAGE), self.markdown())?;
        Ok(())
    }

    /// The index of the result in `dir`: `index.json`, or for a result from before it, the
    /// overlays of `index.md` with `split` and `threshold` (its parameters) and nothing else.
    pub fn read(dir: &Path, split: &str, threshold: f64) -> anyhow::Result<Index> {
        let json = dir.join(INDEX_FILE);
        if json.exists() {
            let bytes =
                std::fs::read(&json).with_context(|| format!("cannot read {INDEX_FILE}"))?;
            return serde_json::from_slice(&bytes)
                .with_context(|| format!("{INDEX_FILE} is not a gradcam index"));
        }
        let page = std::fs::read_to_string(dir.join(INDEX_PAGE))
            .with_context(|| format!("cannot read its {INDEX_FILE} or {INDEX_PAGE}"))?;
        Index::read_legacy_markdown(&page, split, threshold)
    }

    /// The overlays of an `index.md` written before `index.json` existed.
    pub fn read_legacy_markdown(page: &str, split: &str, threshold: f64) -> anyhow::Result<Index> {
        let overlays = page
            .lines()
            .filter(|l| l.starts_with("| !["))
            .map(|line| {
                legacy_row(line).with_context(|| format!("{INDEX_PAGE}: cannot read `{line}`"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Index {
            split: split.to_string(),
            images: 0,
            backbone: String::new(),
            attention: String::new(),
            map_size: (0, 0),
            opacity: 0.0,
            threshold,
            overlays,
        })
    }

    /// The index as a Markdown page: a sentence on how the maps were drawn, then a table of
    /// the overlays.
    pub fn markdown(&self) -> String {
        let (h, w) = self.map_size;
        let mut page = format!(
            "# GradCAM: {} images of `{}`\n\n{} with attention `{}`; maps on the final {h}×{w} feature map, normalised by \
             their maximum, in jet colours (blue: none, dark red: the maximum) at opacity {} over the image. Predicted: probability \
             above {}.\n\n| overlay | image | label | predicted | probability | truth |\n|---|---|---|---|---|---|\n",
            self.images, self.split, self.backbone, self.attention, self.opacity, self.threshold,
        );
        for o in &self.overlays {
            let truth = match o.truth {
                Some(truth) => u8::from(truth).to_string(),
                None => "–".to_string(),
            };
            let predicted = if o.predicted { "yes" } else { "no" };
            let _ = writeln!(
                page,
                "| ![{0} {1}]({2}) | {0} | {1} | {predicted} | {3:.4} | {truth} |",
                o.image, o.label, o.file, o.probability
            );
        }
        page
    }
}

/// A row of a legacy `index.md` table: `| ![id label](overlays/file.png) | id | label |
/// predicted | probability | truth |`.
fn legacy_row(line: &str) -> Option<IndexOverlay> {
    let inner = line.strip_prefix("| ")?.strip_suffix(" |")?;
    let fields: Vec<&str> = inner.split(" | ").collect();
    let n = fields.len();
    if n < 6 {
        return None;
    }
    let picture = fields[0];
    let file = &picture[picture.find("](")? + 2..picture.rfind(')')?];
    Some(IndexOverlay {
        file: file.to_string(),
        // An id may hold " | "; the fields after it never do.
        image: fields[1..n - 4].join(" | "),
        label: fields[n - 4].to_string(),
        predicted: fields[n - 3] == "yes",
        probability: fields[n - 2].parse().ok()?,
        truth: match fields[n - 1] {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_markdown_page_reads_back_as_the_index_it_shows() {
        let overlay = |image: &str, label: &str, truth| IndexOverlay {
            file: format!("overlays/{image}_{label}.png"),
            image: image.to_string(),
            label: label.to_string(),
            predicted: truth == Some(true),
            probability: 0.8123,
            truth,
        };
        let index = Index {
            split: "val".into(),
            images: 2,
            backbone: "resnet18".into(),
            attention: "none".into(),
            map_size: (7, 7),
            opacity: 0.5,
            threshold: 0.5,
            overlays: vec![
                overlay("12_left.png", "G", Some(true)),
                overlay("b", "D", Some(false)),
                overlay("c", "A", None),
            ],
        };
        let read = Index::read_legacy_markdown(&index.markdown(), "val", 0.5).unwrap();
        assert_eq!(read.overlays, index.overlays);
        assert!(
            Index::read_legacy_markdown("| overlay | image | label |", "val", 0.5)
                .unwrap()
                .overlays
                .is_empty()
        );
        assert!(Index::read_legacy_markdown("| ![x](y) | a | b |", "val", 0.5).is_err());
    }

    #[test]
    fn an_index_survives_its_json_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index {
            split: "offsite_test".into(),
            images: 1,
            backbone: "resnet18".into(),
            attention: "se".into(),
            map_size: (2, 2),
            opacity: 0.25,
            threshold: 0.3,
            overlays: vec![IndexOverlay {
                file: "overlays/a_D.png".into(),
                image: "a".into(),
                label: "D".into(),
                predicted: true,
                probability: 0.123_456_7,
                truth: None,
            }],
        };
        index.write(dir.path()).unwrap();
        assert_eq!(Index::read(dir.path(), "ignored", 0.9).unwrap(), index);
        std::fs::remove_file(dir.path().join(INDEX_FILE)).unwrap();
        let legacy = Index::read(dir.path(), "offsite_test", 0.3).unwrap();
        assert_eq!(legacy.overlays[0].probability, 0.1235, "index.md keeps four digits");
    }

    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(super::PARAMS, "", super::GradcamParams::decode);
    }
}

//! `gradcam`: class-specific GradCAM maps of a trained model (`nn::gradcam`) for chosen images
//! of a split — listed by `ids`, or the first `count` — and labels: every `predicted` one (above
//! the threshold, or the most probable where none is) or `all`.
//!
//! Writes `overlays/<image>_<label>.png`, the map normalised by its maximum, upsampled
//! bilinearly and blended in jet colours (RGB) over the de-normalised image; `maps.safetensors`
//! with `maps` (images×labels×h×w, ReLU(Σ α_k A_k) at feature-map resolution, unnormalised),
//! `probabilities` (images×labels) and `selected` (images×labels, 1 where an overlay was
//! written), its metadata naming the `ids` and `labels`; and `index.md`, a table of the overlays
//! with label, prediction, probability and ground truth.
use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T};
use ablate_core::stage::{KindInfo, Resource, Workspace};

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
        T::Choice(&["predicted", "all"]),
        D::Str("predicted"),
        "the labels to map: those predicted (or the top one), or all",
    ),
    super::THRESHOLD,
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
    inputs: super::MODEL_AND_DATA,
    resource: Resource::Device,
    workspace: Workspace::None,
};

pub const INDEX_FILE: &str = "index.md";
pub const MAPS_FILE: &str = "maps.safetensors";
pub const OVERLAY_DIR: &str = "overlays";

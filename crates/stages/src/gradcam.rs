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
use ablate_core::params::{Choice, ParamDefault as D, ParamSpec, ParamType as T, Params};
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
    resource: Resource::Device,
    workspace: Workspace::None,
};

pub const INDEX_FILE: &str = "index.md";
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(super::PARAMS, "", super::GradcamParams::decode);
    }
}

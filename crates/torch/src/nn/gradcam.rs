//! Class-specific GradCAM (Selvaraju et al., 2017) on a classifier's final feature map, batched.
//!
//! For maps (the `gradcam` stage), one forward in evaluation mode (BatchNorm reads its running
//! statistics and leaves them alone; dropout and stochastic depth are off) yields the feature
//! map A (B×C×h×w: the CNN's
//! last feature map, ViT's patch tokens or Swin's final tokens as a grid) and the logits
//! computed from it. For each label, one `autograd.grad`-style backward of that label's logit,
//! summed over the images that select it, gives ∂logit/∂A for every image at once; it goes to
//! A only, so no parameter gradient is left behind. With α_k the spatial mean of the gradient
//! of channel k (detached), the map is ReLU(Σ_k α_k A_k). The training regulariser computes
//! the same maps from the batch's own training forward (see [`entropy_regulariser`]); they keep
//! their graph through A, not through α, so its gradient reaches the backbone (§4.3 of the
//! reference specification, with its bugs fixed: no extra or per-image forwards to disturb
//! BatchNorm statistics, every predicted label rather than the argmax, no label skipped, no
//! hooks or stray gradients).
//!
//! Maps are normalised by their maximum: after the ReLU their minimum is already "no
//! evidence", and min-max scaling would stretch a nearly flat map into a peaked one.
use tch::{Kind, Tensor};

use crate::models::{Classifier, Features};

/// Which (image, label) maps a pass computes.
#[derive(Debug, Clone, Copy)]
pub enum Selection {
    All,
    /// Every label whose probability is above the threshold, or the most probable one where
    /// none is.
    Predicted {
        threshold: f64,
    },
}

/// What one GradCAM pass computes.
pub struct CamPass {
    /// B×labels, from the evaluation-mode forward.
    pub logits: Tensor,
    /// B×labels×h×w, ReLU(Σ α_k A_k); zero where not selected.
    pub maps: Tensor,
    /// B×labels, the selected maps.
    pub selected: Tensor,
}

/// GradCAM maps of the normalised images `x` under `model`. When the model's parameters are
/// frozen (inference), the map becomes a leaf of its own so that it can still be differentiated.
pub fn class_activation_maps(
    model: &Classifier,
    x: &Tensor,
    selection: Selection,
) -> anyhow::Result<CamPass> {
    let features = model.features_t(x, false);
    if !model.reads_feature_map(&features) {
        anyhow::bail!(
            "GradCAM needs logits computed from the feature map, but this model's head reads the ViT class token; \
             give it an attention block (`attention: se` or `mha`) to use the patch-token map"
        );
    }
    let map = match features.map.requires_grad() {
        true => features.map,
        false => features.map.detach().set_requires_grad(true),
    };
    let features = Features { map, token: features.token };
    let logits = model.logits_t(&features, false);
    let selected = match selection {
        Selection::All => logits.ones_like().to_kind(Kind::Bool),
        Selection::Predicted { threshold } => predicted_labels(&logits.detach(), threshold),
    };
    let maps = maps_from(&features.map, &logits, &selected);
    Ok(CamPass { logits, maps, selected })
}

/// Labels above `threshold`, or the top one where none is: B×labels bool.
pub fn predicted_labels(logits: &Tensor, threshold: f64) -> Tensor {
    let above = logits.sigmoid().gt(threshold);
    let top = logits.argmax(1, true);
    let top_only = logits.zeros_like().scatter_value(1, &top, 1.0).to_kind(Kind::Bool);
    let none = above.any_dim(1, true).logical_not();
    above.logical_or(&top_only.logical_and(&none))
}

/// ReLU(Σ_k α_k A_k) for the `selected` (B×labels bool) maps of `map` (B×C×h×w), whose
/// `logits` (B×labels) were computed from it; B×labels×h×w, zero where not selected.
pub fn maps_from(map: &Tensor, logits: &Tensor, selected: &Tensor) -> Tensor {
    let (b, _, h, w) = map.size4().expect("feature map is B×C×h×w");
    let mask = selected.to_kind(logits.kind());
    let per_label: Vec<Tensor> = (0..logits.size()[1])
        .map(|label| {
            let mask = mask.select(1, label);
            if !bool::try_from(mask.any()).expect("bool scalar") {
                return Tensor::zeros([b, h, w], (Kind::Float, map.device()));
            }
            let score = (logits.select(1, label) * &mask).sum(Kind::Float);
            let gradient = Tensor::run_backward(&[score], &[map], true, false).remove(0);
            let alpha = gradient.to_kind(Kind::Float).mean_dim([2, 3].as_slice(), true, None);
            (alpha * map.to_kind(Kind::Float)).sum_dim_intlist(1, false, None).relu()
                * mask.to_kind(Kind::Float).view([b, 1, 1])
        })
        .collect();
    Tensor::stack(&per_label, 1)
}

/// Each map divided by its maximum, into [0, 1]; all-zero maps stay zero.
pub fn normalise(maps: &Tensor) -> Tensor {
    maps / maps.amax([-2, -1].as_slice(), true).clamp_min(1e-12)
}

/// The mean entropy of the selected maps read as distributions over the h·w positions,
/// divided by ln(h·w) so that it lies in [0, 1] whatever the map size (1: flat, 0: one cell).
/// Maps with no positive mass have no distribution and are left out. Differentiable through
/// the maps.
pub fn normalised_entropy(maps: &Tensor, selected: &Tensor) -> anyhow::Result<Tensor> {
    let (b, labels, h, w) = maps.size4().expect("maps are B×labels×h×w");
    if h * w < 2 {
        anyhow::bail!(
            "the feature map is {h}×{w} at this image size: a one-cell GradCAM map has no entropy to minimise"
        );
    }
    let flat = maps.view([b, labels, h * w]);
    let mass = flat.sum_dim_intlist(2, true, None);
    let p = &flat / mass.clamp_min(1e-12);
    let entropy =
        -(&p * (&p + 1e-12).log()).sum_dim_intlist(2, false, None) / ((h * w) as f64).ln();
    let live = selected.logical_and(&mass.squeeze_dim(2).gt(0.0)).to_kind(Kind::Float);
    Ok((entropy * &live).sum(Kind::Float) / live.sum(Kind::Float).clamp_min(1.0))
}

/// The GradCAM regulariser of one training batch, from the batch's own training forward
/// (`features` and the `logits` computed from them): the normalised entropy of the maps of
/// every predicted label (threshold 0.5). Adding it to the loss sharpens the maps; its gradient
/// flows through the feature map into the backbone.
///
/// Reusing the training forward, rather than a second forward in evaluation mode, matters: the
/// convolutions before a BatchNorm can be rescaled at no cost to a batch-statistics forward, so
/// a regulariser computed through running statistics minimises itself by changing exactly what
/// evaluation sees and training does not (measured: validation macro-F1 fell to 0 while the
/// training loss matched an unregularised run). One forward also means BatchNorm statistics are
/// updated once per batch, as without the regulariser, and dropout draws the same numbers.
pub fn entropy_regulariser(features: &Features, logits: &Tensor) -> anyhow::Result<Tensor> {
    let selected = predicted_labels(&logits.detach(), 0.5);
    let maps = maps_from(&features.map, logits, &selected);
    normalised_entropy(&maps, &selected)
}

/// The jet colour map in RGB: values in [0, 1] (B×1×H×W) → B×3×H×W, dark blue through cyan,
/// yellow to dark red.
pub fn jet(values: &Tensor) -> Tensor {
    let channel = |centre: f64| (((values * 4.0) - centre).abs().neg() + 1.5).clamp(0.0, 1.0);
    Tensor::cat(&[channel(3.0), channel(2.0), channel(1.0)], 1)
}

/// `images` (B×3×H×W in [0, 1], RGB) with the normalised `maps` (B×h×w) upsampled bilinearly
/// and blended in jet colours: (1 − opacity)·image + opacity·jet(map).
pub fn overlay(images: &Tensor, maps: &Tensor, opacity: f64) -> Tensor {
    let (_, _, height, width) = images.size4().expect("images are B×3×H×W");
    let upsampled =
        maps.unsqueeze(1).upsample_bilinear2d([height, width], false, None, None).clamp(0.0, 1.0);
    images * (1.0 - opacity) + jet(&upsampled) * opacity
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// A two-channel "redness"/"greenness" map of 16×16 RGB images and two logits, one reading
    /// only the top-left quadrant of the map (red there, not green), one only the bottom-right
    /// quadrant (green there, not red).
    fn quadrant_model(images: &Tensor) -> (Tensor, Tensor) {
        let (r, g) = (images.select(1, 0), images.select(1, 1));
        let map = Tensor::stack(&[(&r - &g).relu(), (&g - &r).relu()], 1).set_requires_grad(true);
        let quadrant = |rows: i64, cols: i64| {
            map.narrow(2, rows, 8).narrow(3, cols, 8).mean_dim([2, 3].as_slice(), false, None)
        };
        let (red, green) =
            (Tensor::from_slice(&[1.0f32, -1.0]), Tensor::from_slice(&[-1.0f32, 1.0]));
        let logits =
            Tensor::stack(&[quadrant(0, 0).matmul(&red), quadrant(8, 8).matmul(&green)], 1);
        (map, logits)
    }

    /// Images with a red top-left quadrant and green elsewhere, plus noise everywhere.
    fn red_top_left(batch: i64) -> Tensor {
        let mut images = Tensor::zeros([batch, 3, 16, 16], (Kind::Float, Device::Cpu));
        let _ = images.select(1, 1).fill_(0.6);
        let _ = images.narrow(2, 0, 8).narrow(3, 0, 8).select(1, 0).fill_(0.9);
        let _ = images.narrow(2, 0, 8).narrow(3, 0, 8).select(1, 1).fill_(0.1);
        images += Tensor::rand([batch, 3, 16, 16], (Kind::Float, Device::Cpu)) * 0.8;
        images
    }

    #[test]
    fn gradcam_puts_the_mass_where_the_logit_reads() {
        tch::manual_seed(0);
        let images = red_top_left(4);
        let (map, logits) = quadrant_model(&images);
        let selected = Tensor::ones([4, 2], (Kind::Bool, Device::Cpu));
        let maps = maps_from(&map, &logits, &selected);
        let top_left_fraction = |label: i64| {
            let maps = maps.select(1, label);
            let inside = maps.narrow(1, 0, 8).narrow(2, 0, 8).sum_dim_intlist(
                [1, 2].as_slice(),
                false,
                None,
            );
            inside / maps.sum_dim_intlist([1, 2].as_slice(), false, None)
        };
        let worst = f64::try_from(top_left_fraction(0).min()).unwrap();
        println!("GradCAM mass in the top-left quadrant: worst image {worst:.4}");
        assert!(worst >= 0.9, "only {worst:.3} of the map's mass in the quadrant the logit reads");
        let other_label = f64::try_from(top_left_fraction(1).max()).unwrap();
        assert!(
            other_label < 0.1,
            "the green label's map is not class-specific: {other_label:.3} in the red quadrant"
        );
        let red_elsewhere = f64::try_from(
            map.select(1, 0).sum(Kind::Float)
                - map.select(1, 0).narrow(1, 0, 8).narrow(2, 0, 8).sum(Kind::Float),
        )
        .unwrap();
        assert!(red_elsewhere > 0.0, "the test wants red evidence outside the quadrant too");
        assert!(!map.grad().defined(), "the map is an input of the gradient, not accumulated into");
    }

    /// A ResNet18 for 64 px images (2×2 maps) and a batch; dropout off, so that a training step
    /// draws no random numbers (tests run in parallel and share the generator).
    fn resnet_and_batch() -> (tch::nn::VarStore, Classifier, Tensor, Tensor) {
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let config = crate::models::ModelConfig {
            arch: crate::models::Architecture::new("resnet18"),
            labels: ["D", "G", "A"].map(String::from).to_vec(),
            head_hidden: 16,
            dropout: 0.0,
            image_size: 64,
        };
        let model = Classifier::new(&vs.root(), &config).unwrap();
        let x = Tensor::randn([4, 3, 64, 64], (Kind::Float, Device::Cpu));
        let y =
            Tensor::from_slice(&[1.0f32, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0])
                .view([4, 3]);
        (vs, model, x, y)
    }

    /// One SGD step with the regulariser at `cam_weight`; returns every variable after it,
    /// BatchNorm buffers included.
    fn training_step(
        vs: &tch::nn::VarStore,
        model: &Classifier,
        x: &Tensor,
        y: &Tensor,
        cam_weight: f64,
    ) -> Vec<(String, Tensor)> {
        let features = model.features_t(x, true);
        let logits = model.logits_t(&features, true);
        let mut objective =
            logits.binary_cross_entropy_with_logits::<Tensor>(y, None, None, tch::Reduction::Mean);
        if cam_weight > 0.0 {
            let regulariser = entropy_regulariser(&features, &logits).unwrap();
            assert!(
                vs.trainable_variables().iter().all(|t| !t.grad().defined()),
                "the CAM pass left parameter gradients"
            );
            // Not `+=`: tch's in-place `add_` on a tensor autograd tracks.
            #[allow(clippy::assign_op_pattern)]
            {
                objective = objective + regulariser * cam_weight;
            }
        }
        objective.backward();
        tch::no_grad(|| {
            for mut parameter in vs.trainable_variables() {
                let update = parameter.grad() * 0.1;
                let _ = parameter.f_sub_(&update).unwrap();
            }
        });
        let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        variables.sort_by(|a, b| a.0.cmp(&b.0));
        variables
    }

    #[test]
    fn the_regulariser_trains_without_touching_batchnorm_statistics() {
        let (vs, model, x, y) = resnet_and_batch();
        let (mut guided_vs, guided_model, _, _) = resnet_and_batch();
        guided_vs.copy(&vs).unwrap();
        let plain = training_step(&vs, &model, &x, &y, 0.0);
        let guided = training_step(&guided_vs, &guided_model, &x, &y, 1.0);
        let is_statistic =
            |name: &str| name.contains("running_") || name.ends_with("num_batches_tracked");
        let mut statistics = 0;
        for ((name, a), (_, b)) in plain.iter().zip(&guided) {
            if is_statistic(name) {
                assert!(a.equal(b), "{name} differs: the CAM pass touched BatchNorm statistics");
                statistics += 1;
            }
        }
        assert!(statistics > 20, "ResNet18 has running statistics");
        let changed = plain
            .iter()
            .zip(&guided)
            .filter(|((name, a), (_, b))| !is_statistic(name) && !a.equal(b))
            .count();
        assert!(changed > 0, "the regulariser changed no parameter");
        let stem = |vars: &[(String, Tensor)]| {
            vars.iter().find(|(n, _)| n == "backbone.bn1.running_mean").unwrap().1.shallow_clone()
        };
        assert!(
            !stem(&plain).equal(&stem(&plain).zeros_like()),
            "the training-mode forward updates the statistics"
        );
    }

    #[test]
    fn predicted_labels_are_those_above_the_threshold_or_else_the_top_one() {
        let logits = Tensor::from_slice(&[2.0f32, 1.0, -3.0, -1.0, -0.5, -2.0]).view([2, 3]);
        let predicted =
            Vec::<bool>::try_from(predicted_labels(&logits, 0.5).flatten(0, -1)).unwrap();
        assert_eq!(predicted, [true, true, false, false, true, false]);
    }

    #[test]
    fn entropy_is_zero_for_one_cell_and_one_for_a_flat_map() {
        let maps = Tensor::zeros([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        let _ = maps.get(0).get(0).get(1).get(1).fill_(2.0);
        let _ = maps.get(0).get(1).fill_(0.5);
        let pick = |flags: [bool; 3]| Tensor::from_slice(&flags).view([1, 3]);
        let entropy =
            |flags| f64::try_from(normalised_entropy(&maps, &pick(flags)).unwrap()).unwrap();
        assert!(entropy([true, false, false]).abs() < 1e-6);
        assert!((entropy([false, true, false]) - 1.0).abs() < 1e-6);
        assert!(
            (entropy([true, true, true]) - 0.5).abs() < 1e-6,
            "the all-zero map is left out of the mean"
        );
    }

    #[test]
    fn jet_runs_from_blue_to_red_in_rgb() {
        let rgb = |v: f64| {
            Vec::<f32>::try_from(
                jet(&Tensor::from_slice(&[v as f32]).view([1, 1, 1, 1])).flatten(0, -1),
            )
            .unwrap()
        };
        assert_eq!(rgb(0.0), [0.0, 0.0, 0.5]);
        assert_eq!(rgb(0.5), [0.5, 1.0, 0.5]);
        assert_eq!(rgb(1.0), [0.5, 0.0, 0.0]);
    }
}

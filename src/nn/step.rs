//! One optimisation step of a classifier on a batch of uint8 images, on the device: augment,
//! normalise, optionally convert to channels-last, forward under autocast, loss (plus the
//! GradCAM regulariser when weighted), backward, fused Adam step (loss-scaled for fp16).
//! `train` repeats it and `ablate bench` times it, so the benchmark measures what training runs.
//! Nothing in it waits for the device: the losses come back as device tensors.
use tch::Tensor;
use tch::nn::VarStore;

use super::augment::Augment;
use super::gradcam;
use super::loss::Loss;
use super::optim::{Adam, GradScaler};
use super::shim::{self, Autocast, HalfKind};
use super::tensors::{normalize, to_unit};
use crate::models::Classifier;

pub struct StepOptions {
    pub augment: Augment,
    pub channels_last: bool,
    /// Autocast to this precision; fp32 without.
    pub half: Option<HalfKind>,
    /// Weight of the GradCAM entropy regulariser (0: off).
    pub cam_weight: f64,
}

/// The step's losses, detached: the task loss and the unweighted GradCAM loss.
pub struct StepLosses {
    pub task: Tensor,
    pub cam: Option<Tensor>,
}

/// Trains `model` on one batch (`images` uint8 N×3×H×W, `labels` float N×L) at learning rate `lr`.
pub fn train_step(
    model: &Classifier,
    optimizer: &mut Adam,
    scaler: Option<&mut GradScaler>,
    loss: &Loss,
    images: &Tensor,
    labels: &Tensor,
    options: &StepOptions,
    lr: f64,
) -> anyhow::Result<StepLosses> {
    let mut x = normalize(&options.augment.apply(&to_unit(images)));
    if options.channels_last {
        x = shim::channels_last(&x)?;
    }
    optimizer.clear_grads()?;
    let (logits, cam) = {
        let _autocast = options.half.map(|kind| Autocast::enter(x.device(), kind)).transpose()?;
        let features = model.features_t(&x, true);
        let logits = model.logits_t(&features, true);
        let cam = (options.cam_weight > 0.0).then(|| gradcam::entropy_regulariser(&features, &logits)).transpose()?;
        (logits, cam)
    };
    let task = loss.forward(&logits, labels);
    let objective = match &cam {
        Some(cam) => &task + cam * options.cam_weight,
        None => task.shallow_clone(),
    };
    match scaler {
        Some(scaler) => {
            scaler.scale(&objective).backward();
            scaler.step(optimizer, lr)?;
        }
        None => {
            objective.backward();
            optimizer.step(lr, None)?;
        }
    }
    Ok(StepLosses { task: task.detach(), cam: cam.map(|c| c.detach()) })
}

/// Converts every variable of `vs` to channels-last (what `channels_last` training needs).
pub fn weights_to_channels_last(vs: &VarStore) -> anyhow::Result<()> {
    for (_, mut variable) in vs.variables() {
        let converted = shim::channels_last(&variable)?;
        variable.set_data(&converted);
    }
    Ok(())
}

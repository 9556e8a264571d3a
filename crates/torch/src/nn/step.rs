//! One optimisation step of a classifier on a batch of uint8 images, on the device: augment,
//! normalise, optionally convert to channels-last, forward under autocast, loss (plus the
//! GradCAM regulariser when weighted), backward, fused Adam step (loss-scaled for fp16).
//! `train` repeats it and `ablate bench` times it, so the benchmark measures what training runs.
//! Nothing in it waits for the device: the losses come back as device tensors.
//!
//! At batch 32 a step is hundreds of small kernels whose launches cost the host more time than
//! the GPU spends on them. [`GraphedStep`] captures the step once as a CUDA graph and replays it
//! with one launch per batch: the batch is copied into the graph's static input buffers, and
//! augmentation and dropout draw from the default generator, which libtorch advances per
//! replay. Capture needs a side stream (`shim::SideStream`) and a few eager steps before it on
//! that stream (cuDNN picks its algorithms, gradients and optimizer state get their memory); the
//! learning rate is part of the graph, so only a constant one can be replayed.
use tch::Tensor;
use tch::nn::VarStore;

use super::augment::Augment;
use super::gradcam;
use super::loss::Loss;
use super::optim::{Adam, GradScaler};
use super::shim::{self, Autocast, Graph, HalfKind};
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

/// What a step trains and how.
pub struct Trainee<'a> {
    pub model: &'a Classifier,
    pub optimizer: &'a mut Adam,
    pub scaler: Option<&'a mut GradScaler>,
    pub loss: &'a Loss,
    pub options: &'a StepOptions,
}

/// Trains on one batch (`images` uint8 N×3×H×W, `labels` float N×L) at learning rate `lr`.
pub fn train_step(
    trainee: &mut Trainee,
    images: &Tensor,
    labels: &Tensor,
    lr: f64,
) -> anyhow::Result<StepLosses> {
    let Trainee { model, optimizer, scaler, loss, options } = trainee;
    let mut x = normalize(&options.augment.apply(&to_unit(images)));
    if options.channels_last {
        x = shim::channels_last(&x)?;
    }
    optimizer.clear_grads()?;
    let (logits, cam) = {
        let _autocast = options.half.map(|kind| Autocast::enter(x.device(), kind)).transpose()?;
        let features = model.features_t(&x, true);
        let logits = model.logits_t(&features, true);
        let cam = (options.cam_weight > 0.0)
            .then(|| gradcam::entropy_regulariser(&features, &logits))
            .transpose()?;
        (logits, cam)
    };
    let task = loss.forward(&logits, labels);
    let objective = match &cam {
        Some(cam) => &task + cam * options.cam_weight,
        None => task.shallow_clone(),
    };
    match scaler.as_deref_mut() {
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

/// Eager steps on the side stream before a capture.
pub const GRAPH_WARMUP_STEPS: u32 = 3;

/// The training step captured as a CUDA graph for batches of one shape.
pub struct GraphedStep {
    graph: Graph,
    images: Tensor,
    labels: Tensor,
    losses: StepLosses,
}

impl GraphedStep {
    /// Captures [`train_step`] for batches shaped like this one, then trains on this batch by a
    /// replay. Call on a side stream after [`GRAPH_WARMUP_STEPS`] eager steps there.
    pub fn capture(
        trainee: &mut Trainee,
        images: &Tensor,
        labels: &Tensor,
        lr: f64,
    ) -> anyhow::Result<GraphedStep> {
        let (static_images, static_labels) = (images.copy(), labels.copy());
        let (graph, losses) =
            Graph::capture(|| train_step(trainee, &static_images, &static_labels, lr))?;
        graph.replay()?;
        Ok(GraphedStep { graph, images: static_images, labels: static_labels, losses })
    }

    pub fn fits(&self, images: &Tensor) -> bool {
        images.size() == self.images.size()
    }

    /// Trains on one batch shaped like the captured one.
    pub fn run(&self, images: &Tensor, labels: &Tensor) -> anyhow::Result<StepLosses> {
        self.images.shallow_clone().copy_(images);
        self.labels.shallow_clone().copy_(labels);
        self.graph.replay()?;
        Ok(self.losses())
    }

    /// The losses of the last replay (the graph's static outputs).
    pub fn losses(&self) -> StepLosses {
        StepLosses {
            task: self.losses.task.shallow_clone(),
            cam: self.losses.cam.as_ref().map(Tensor::shallow_clone),
        }
    }
}

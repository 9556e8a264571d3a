//! A classifier ready to train: its variables, optimizer, loss scaler and step options, built
//! the same way by `train` and `ablate bench` so that the benchmark times what training runs.
//!
//! Building happens in the order that keeps training reproducible and correct: the caller seeds
//! the generator, the classifier is drawn, `prepare` loads weights and freezes parameters, then
//! the weights move to channels-last and the optimizer collects the parameters that still
//! train (frozen ones get no optimizer state).
use ablate_stages::train::{Optimizer, Precision};
use tch::nn::VarStore;

use super::augment::Augment;
use super::loss::Loss;
use super::optim::{Adam, AdamConfig, GradScaler};
use super::shim::HalfKind;
use super::step::{StepOptions, Trainee, weights_to_channels_last};
use crate::models::{Classifier, ModelConfig};

/// How a learner trains, beside its model.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub precision: Precision,
    pub channels_last: bool,
    pub optimizer: Optimizer,
    pub weight_decay: f64,
    pub augment: Augment,
    /// Weight of the GradCAM regulariser (0: off).
    pub cam_weight: f64,
}

pub struct Learner {
    pub vs: VarStore,
    pub model: Classifier,
    pub optimizer: Adam,
    /// Dynamic loss scaling, for fp16 only.
    pub scaler: Option<GradScaler>,
    pub step: StepOptions,
}

impl Learner {
    /// Draws the classifier of `config` on `device`, lets `prepare` load and freeze what it
    /// wants, and sets up the rest from `settings`; returns what `prepare` returned beside it.
    pub fn build<T>(
        config: &ModelConfig,
        device: tch::Device,
        settings: &Settings,
        prepare: impl FnOnce(&VarStore, &Classifier) -> anyhow::Result<T>,
    ) -> anyhow::Result<(Learner, T)> {
        let vs = VarStore::new(device);
        let model = Classifier::new(&vs.root(), config)?;
        let prepared = prepare(&vs, &model)?;
        if settings.channels_last {
            weights_to_channels_last(&vs)?;
        }
        let optimizer = Adam::new(
            &vs,
            AdamConfig {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: settings.weight_decay,
                decoupled: settings.optimizer == Optimizer::AdamW,
            },
        );
        let half = half(settings.precision);
        let scaler = (half == Some(HalfKind::Float16)).then(|| GradScaler::new(device));
        let step = StepOptions {
            augment: settings.augment,
            channels_last: settings.channels_last,
            half,
            cam_weight: settings.cam_weight,
        };
        Ok((Learner { vs, model, optimizer, scaler, step }, prepared))
    }

    /// What one training step works on, with `loss`.
    pub fn trainee<'a>(&'a mut self, loss: &'a Loss) -> Trainee<'a> {
        Trainee {
            model: &self.model,
            optimizer: &mut self.optimizer,
            scaler: self.scaler.as_mut(),
            loss,
            options: &self.step,
        }
    }
}

/// The autocast precision of `precision`; `None` is fp32.
pub fn half(precision: Precision) -> Option<HalfKind> {
    match precision {
        Precision::Fp32 => None,
        Precision::Bf16 => Some(HalfKind::BFloat16),
        Precision::Fp16 => Some(HalfKind::Float16),
    }
}

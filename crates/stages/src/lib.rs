//! The stage kinds as the engine sees them, one file each: parameters, inputs, resources and
//! the files they read. Kinds that need no tensors (`load`, `loss`, `synthetic`, `score`, and
//! `command`, which runs any program) run here, in the `ablate` process; the others (models, training, prediction) are delegated to an
//! `ablate-torch` worker process (`worker`), which runs their implementation from the
//! `ablate-torch` crate's `stages` module, in a file of the same name.
//!
//! Also here, because both processes read them: the dataset format (`data`), device names
//! (`device`), scores at a threshold (`scoring`) and without one (`ranking`), and the options of
//! `ablate bench` (`bench`).
pub mod attention;
pub mod backbone;
pub mod bench;
pub mod catalog;
pub mod command;
pub mod data;
pub mod device;
pub mod ensemble;
pub mod evaluate;
pub mod evaluation;
pub mod export;
pub mod gradcam;
pub mod load;
pub mod loss;
pub mod metric;
pub mod prediction;
pub mod predictions;
pub mod ranking;
pub mod score;
pub mod scoring;
pub mod synthetic;
pub mod train;
pub mod vae_augment;
pub mod worker;

use ablate_core::params::{Choice, Params};
use ablate_core::progress::Units;
use ablate_core::stage::{InputFile, KindInfo, Registry, StageContext, StageKind};

/// The kinds whose output is an evaluation's: `scores.json` (`evaluate::Scores`) and
/// `predictions.csv` (`predictions::Predictions`).
pub const SCORED_KINDS: [&str; 2] = [evaluate::INFO.kind, score::INFO.kind];

/// Every stage kind: those that run here, then those that run in a worker.
pub fn registry() -> Registry {
    let here = Registry::default()
        .with(load::LoadKind)
        .with(loss::LossKind)
        .with(synthetic::SyntheticKind)
        .with(score::ScoreKind)
        .with(command::CommandKind);
    WorkerKind::ALL.iter().fold(here, |registry, &kind| registry.with(kind))
}

ablate_core::choice! {
    /// The kinds whose work needs torch and so runs in an `ablate-torch` worker process (see
    /// `worker`). Each is declared in the file of its name here and implemented in the file of
    /// its name in `ablate_torch::stages`, whose dispatch matches on this enum: a kind without
    /// an implementation does not compile.
    pub enum WorkerKind {
        Backbone = "backbone",
        Attention = "attention",
        Train = "train",
        Evaluate = "evaluate",
        Export = "export",
        VaeAugment = "vae_augment",
        Gradcam = "gradcam",
        Ensemble = "ensemble",
    }
}

impl StageKind for WorkerKind {
    fn info(&self) -> &'static KindInfo {
        match self {
            WorkerKind::Backbone => &backbone::INFO,
            WorkerKind::Attention => &attention::INFO,
            WorkerKind::Train => &train::INFO,
            WorkerKind::Evaluate => &evaluate::INFO,
            WorkerKind::Export => &export::INFO,
            WorkerKind::VaeAugment => &vae_augment::INFO,
            WorkerKind::Gradcam => &gradcam::INFO,
            WorkerKind::Ensemble => &ensemble::INFO,
        }
    }

    fn input_files(&self, params: &Params) -> anyhow::Result<Vec<InputFile>> {
        match self {
            WorkerKind::Backbone => backbone::input_files(params),
            _ => Ok(Vec::new()),
        }
    }

    fn planned_units(&self, params: &Params) -> Option<Units> {
        match self {
            WorkerKind::Train => {
                Some(Units { name: "epochs", planned: u64::try_from(params.int("epochs")).ok()? })
            }
            _ => None,
        }
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        worker::delegate(*self, ctx)
    }
}

#[cfg(test)]
mod tests {
    use ablate_core::params::Choice;
    use ablate_core::stage::StageKind;

    use super::WorkerKind;

    #[test]
    fn worker_kinds_are_named_as_their_declarations() {
        for kind in WorkerKind::ALL {
            assert_eq!(kind.info().kind, kind.name());
        }
    }
}

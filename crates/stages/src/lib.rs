//! The stage kinds as the engine sees them, one file each: parameters, inputs, resources and
//! the files they read. Kinds that need no tensors (`load`, `loss`, `synthetic`) run here, in
//! the `ablate` process; the others (models, training, prediction) are delegated to an
//! `ablate-torch` worker process (`worker`), which runs their implementation from the
//! `ablate-torch` crate's `stages` module, in a file of the same name.
//!
//! Also here, because both processes read them: the dataset format (`data`), device names
//! (`device`), scores (`scoring`) and the options of `ablate bench` (`bench`).
pub mod attention;
pub mod backbone;
pub mod bench;
pub mod catalog;
pub mod data;
pub mod device;
pub mod evaluate;
pub mod export;
pub mod gradcam;
pub mod load;
pub mod loss;
pub mod scoring;
pub mod synthetic;
pub mod train;
pub mod vae_augment;
pub mod worker;

use ablate_core::params::{ParamDefault, ParamSpec, ParamType, Params};
use ablate_core::stage::{InputFile, InputSpec, KindInfo, Registry, StageContext, StageKind};

/// Inputs of the stages that apply a trained model to a dataset.
const MODEL_AND_DATA: &[InputSpec] = &[
    InputSpec::required("model", "a trained model from `train`"),
    InputSpec::required("data", "the dataset holding the split"),
];

const THRESHOLD: ParamSpec = ParamSpec::new(
    "threshold",
    ParamType::Float { min: 0.0, max: 1.0 },
    ParamDefault::Float(0.5),
    "a label is predicted when its probability is above this",
);

pub fn registry() -> Registry {
    Registry::default()
        .with(load::Load)
        .with(loss::Loss)
        .with(synthetic::Synthetic)
        .with(InWorker::new(&backbone::INFO).reading(backbone::input_files))
        .with(InWorker::new(&attention::INFO))
        .with(InWorker::new(&train::INFO))
        .with(InWorker::new(&evaluate::INFO))
        .with(InWorker::new(&export::INFO))
        .with(InWorker::new(&vae_augment::INFO))
        .with(InWorker::new(&gradcam::INFO))
}

/// A stage kind whose work needs torch and so runs in the `ablate-torch` worker process (see
/// `worker`); its file declares its [`KindInfo`] and, with the torch feature, its `execute`.
struct InWorker {
    info: &'static KindInfo,
    files: fn(&Params) -> anyhow::Result<Vec<InputFile>>,
}

impl InWorker {
    fn new(info: &'static KindInfo) -> Self {
        InWorker { info, files: |_| Ok(Vec::new()) }
    }

    /// The kind reads files outside the cache, listed by `files`.
    fn reading(self, files: fn(&Params) -> anyhow::Result<Vec<InputFile>>) -> Self {
        InWorker { files, ..self }
    }
}

impl StageKind for InWorker {
    fn info(&self) -> &'static KindInfo {
        self.info
    }

    fn input_files(&self, params: &Params) -> anyhow::Result<Vec<InputFile>> {
        (self.files)(params)
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        crate::worker::delegate(self.info.kind, ctx)
    }
}

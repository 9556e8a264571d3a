//! Stage kinds, one file each. Data stages run in the `ablate` process; stages that need torch
//! (models, training, prediction) run their `execute` in the `ablate-torch` worker process.
pub mod attention;
pub mod backbone;
pub mod evaluate;
pub mod export;
pub mod gradcam;
pub mod load;
pub mod loss;
pub mod synthetic;
pub mod train;
pub mod vae_augment;

use crate::core::params::{ParamDefault, ParamSpec, ParamType, Params};
use crate::core::stage::{InputFile, InputSpec, KindInfo, Registry, StageContext, StageKind};

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

#[cfg(feature = "torch")]
/// Runs a worker stage's torch implementation; called in the worker process only. A worker
/// serves many stages, so each starts from the global state of a fresh process: libtorch's
/// default seed, and non-deterministic algorithms with cuDNN benchmarking (what `train` sets
/// unless `deterministic`).
pub fn execute_on_device(kind: &str, ctx: &mut StageContext) -> anyhow::Result<()> {
    /// libtorch's `default_rng_seed_val`, the seed of every generator in a new process.
    const FRESH_PROCESS_SEED: i64 = 67_280_421_310_721;
    tch::manual_seed(FRESH_PROCESS_SEED);
    crate::nn::shim::set_deterministic(false)?;
    match kind {
        "backbone" => backbone::execute(ctx),
        "attention" => attention::execute(ctx),
        "train" => train::execute(ctx),
        "evaluate" => evaluate::execute(ctx),
        "export" => export::execute(ctx),
        "vae_augment" => vae_augment::execute(ctx),
        "gradcam" => gradcam::execute(ctx),
        other => anyhow::bail!("`{other}` is not a worker stage kind"),
    }
}

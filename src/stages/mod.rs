//! Stage kinds, one file each. Data stages run in the `ablate` process; device stages
//! (`Resource::Device`) run their `execute` in the `ablate-torch` worker process.
pub mod evaluate;
pub mod export;
pub mod load;
pub mod synthetic;
pub mod train;

use crate::core::params::{ParamDefault, ParamSpec, ParamType};
use crate::core::stage::{InputSpec, KindInfo, Registry, StageContext, StageKind};

/// Inputs of the stages that apply a trained model to a dataset.
const MODEL_AND_DATA: &[InputSpec] = &[
    InputSpec { role: "model", doc: "a trained model from `train`" },
    InputSpec { role: "data", doc: "the dataset holding the split" },
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
        .with(synthetic::Synthetic)
        .with(OnDevice(&train::INFO))
        .with(OnDevice(&evaluate::INFO))
        .with(OnDevice(&export::INFO))
}

/// A stage kind whose work runs in the `ablate-torch` worker process (see `worker`); its file
/// declares its [`KindInfo`] and, with the torch feature, its `execute`.
struct OnDevice(&'static KindInfo);

impl StageKind for OnDevice {
    fn info(&self) -> &'static KindInfo {
        self.0
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        crate::worker::delegate(self.0.kind, ctx)
    }
}

#[cfg(feature = "torch")]
/// Runs a device stage's torch implementation; called in the worker process only.
pub fn execute_on_device(kind: &str, ctx: &mut StageContext) -> anyhow::Result<()> {
    match kind {
        "train" => train::execute(ctx),
        "evaluate" => evaluate::execute(ctx),
        "export" => export::execute(ctx),
        other => anyhow::bail!("`{other}` is not a device stage kind"),
    }
}

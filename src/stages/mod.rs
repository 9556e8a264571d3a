//! Stage kinds, one file each. Data stages run in the `ablate` process; device stages
//! (`Resource::Device`) run their `execute` in the `ablate-torch` worker process.
pub mod evaluate;
pub mod export;
pub mod load;
pub mod synthetic;
pub mod train;

use crate::core::stage::Registry;

pub fn registry() -> Registry {
    Registry::default()
        .with(load::Load)
        .with(synthetic::Synthetic)
        .with(train::Train)
        .with(evaluate::Evaluate)
        .with(export::Export)
}

#[cfg(feature = "torch")]
/// Runs a device stage's torch implementation; called in the worker process only.
pub fn execute_on_device(kind: &str, ctx: &mut crate::core::stage::StageContext) -> anyhow::Result<()> {
    match kind {
        "train" => train::execute(ctx),
        "evaluate" => evaluate::execute(ctx),
        "export" => export::execute(ctx),
        other => anyhow::bail!("`{other}` is not a device stage kind"),
    }
}

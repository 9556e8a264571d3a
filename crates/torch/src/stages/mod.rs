//! The implementations of the device stage kinds, one file per kind with the name of the file
//! in `ablate_stages` that declares its parameters and inputs; the worker runs them.
mod attention;
mod backbone;
mod evaluate;
mod export;
mod gradcam;
mod train;
mod vae_augment;

use ablate_core::stage::StageContext;

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

//! The implementations of the device stage kinds, one file per kind with the name of the file
//! in `ablate_stages` that declares its parameters and inputs; the worker runs them. The
//! dispatch matches on `ablate_stages::WorkerKind`, the one list of these kinds.
mod attention;
mod backbone;
mod ensemble;
mod evaluate;
mod export;
mod gradcam;
mod train;
mod vae_augment;

use ablate_core::stage::StageContext;
use ablate_stages::WorkerKind;

/// Runs a worker stage's torch implementation; called in the worker process only. A worker
/// serves many stages, so each starts from the global state of a fresh process: libtorch's
/// default seed, and non-deterministic algorithms with cuDNN benchmarking (what `train` sets
/// unless `deterministic`).
pub fn execute_on_device(kind: WorkerKind, ctx: &mut StageContext) -> anyhow::Result<()> {
    /// libtorch's `default_rng_seed_val`, the seed of every generator in a new process.
    const FRESH_PROCESS_SEED: i64 = 67_280_421_310_721;
    tch::manual_seed(FRESH_PROCESS_SEED);
    crate::nn::shim::set_deterministic(false)?;
    match kind {
        WorkerKind::Backbone => backbone::execute(ctx),
        WorkerKind::Attention => attention::execute(ctx),
        WorkerKind::Train => train::execute(ctx),
        WorkerKind::Evaluate => evaluate::execute(ctx),
        WorkerKind::Export => export::execute(ctx),
        WorkerKind::VaeAugment => vae_augment::execute(ctx),
        WorkerKind::Gradcam => gradcam::execute(ctx),
        WorkerKind::Ensemble => ensemble::execute(ctx),
    }
}

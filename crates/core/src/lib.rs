//! The engine core: pipeline specs, the stage graph, cache keys, the store and the scheduler.
//! Nothing here knows about tensors or models; stage kinds plug in through [`stage::StageKind`].
pub mod clock;
pub mod columns;
pub mod dag;
pub mod diagnostic;
pub mod digest;
pub mod disk;
pub mod fingerprint;
pub mod gc;
pub mod grid;
pub mod interrupt;
pub mod keys;
pub mod manifest;
pub mod metrics;
pub mod names;
mod overrides;
pub mod params;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod run_record;
pub mod run_state;
pub mod scheduler;
pub mod spec;
pub mod stage;
pub mod store;
mod vars;
pub mod yaml;

//! `ablate`: deep-learning ablation studies declared in YAML, run as a DAG of content-hashed
//! stages. See the README for the tour; `core` is the engine, `stages` the stage kinds,
//! `models` the architectures.
pub mod bench;
pub mod cli;
pub mod core;
pub mod data;
pub mod device;
#[cfg(feature = "torch")]
pub mod models;
#[cfg(feature = "torch")]
pub mod nn;
pub mod results;
pub mod schedule;
pub mod scoring;
pub mod session;
pub mod slurm;
pub mod stages;
pub mod worker;

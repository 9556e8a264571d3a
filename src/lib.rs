//! `ablate`: deep-learning ablation studies declared in YAML, run as a DAG of content-hashed
//! stages. See the README for the tour. This crate is the command line (`cli`, `session`), the
//! results (`results`: compare, plot), the Slurm executor (`slurm`) and the remote cache's HTTP
//! transport (`remote`); the engine is `ablate_core`, the stage kinds `ablate_stages`, and the
//! torch side `ablate_torch`, which only the `ablate-torch` worker binary links.
pub mod cli;
pub mod environment;
pub mod remote;
pub mod session;
pub mod slurm;
pub mod status;
pub mod toolchain;

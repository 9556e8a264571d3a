//! The Slurm executor: `ablate run --executor slurm` submits every stage that is not cached as
//! one `sbatch` job, and Slurm runs them in dependency order.
//!
//! A stage's key chains on its upstream stages' output digests, so a downstream key is not
//! known when the jobs are submitted. Each job therefore runs `ablate slurm-job`: it loads the
//! pipeline as submitted (the record keeps the file's text and the `--set` overrides), computes
//! the keys of the stage's upstream stages (cached by then), and runs exactly that stage as a
//! local run would (`Scheduler::run_only`), publishing under the same per-key lock. The shared
//! cache folder is the only channel between jobs; a job's `--dependency=afterok:` list is the
//! jobs of its upstream stages submitted with it, and `--kill-on-invalid-dep=yes` lets Slurm
//! cancel the descendants of a failed job instead of leaving them pending forever.
//!
//! `record` is what a submission leaves in the cache; `submit` writes the batch scripts and
//! calls `sbatch`; `queue` asks `squeue` and calls `scancel`; `state` derives each stage's
//! state; `follow` prints it (`ablate status`), waits (`--wait`) and cancels (`ablate cancel`).
pub mod follow;
pub mod queue;
pub mod record;
pub mod state;
pub mod submit;

//! The `ablate` command line: one subcommand per file (`run`, `plan`, `results`, `cache`,
//! `share`, `info`), each an argument struct whose `execute` does the command. Exit codes: 0 success,
//! 1 a stage or check failed, 2 an invalid invocation or pipeline.
mod cache;
mod info;
mod plan;
mod results;
mod run;
mod share;
mod terminal;
mod until_ci;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ablate_core::diagnostic::Diagnostics;
use ablate_core::key_commands::KeyOutputs;
use ablate_core::scheduler::device_kind;
use ablate_core::spec::{self, PipelineSource};
use ablate_stages::{device, registry};
use clap::{Parser, Subcommand};

use crate::session::{Access, Session};

#[derive(Parser)]
#[command(name = "ablate", version, about = "Deep-learning ablation studies as cached pipelines")]
pub struct Cli {
    /// Cache folder (results, locks, stat cache).
    #[arg(long, global = true, env = "ABLATE_CACHE", default_value = "cache")]
    cache: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every stage that is not cached.
    Run(run::Run),
    /// Cancel the jobs of the latest Slurm submission (of PIPELINE, by name or file) that are
    /// still queued or running.
    Cancel(run::Cancel),
    /// Run one stage of a Slurm submission: what each of its jobs runs.
    #[command(hide = true)]
    SlurmJob(run::SlurmJob),
    /// Show which stages are cached and why the others will run.
    Plan(plan::Plan),
    /// Send the results of the pipelines' latest runs to the remote cache (--remote).
    Push(share::Push),
    /// Fetch the results of pipelines' stages from the remote cache (--remote), so that
    /// `compare`, `report`, `metrics` and `out` read them here.
    Pull(share::Pull),
    /// Print the stage graph.
    Dag(plan::DagCommand),
    /// Show recent runs and the cache's size.
    Status(cache::Status),
    /// Compare the variants of pipelines from their stored metrics: one row per variant, seeds
    /// pooled (mean, confidence interval, n), Δ against the baseline with its interval and a
    /// test, p-values adjusted across the rows.
    Compare(results::Compare),
    /// Draw PNG charts from stored metrics: learning curves (curves.png) and the comparison's
    /// primary column as bars (bars.png).
    Plot(results::Plot),
    /// Write one self-contained HTML page about the pipelines' results: the comparison with its
    /// statistics, per-class F1, learning curves, confusion counts, GradCAM overlays, the stage
    /// graph and each variant's provenance.
    Report(results::Report),
    /// Write every stored metric of the pipelines' variants as one tidy table (Parquet or CSV),
    /// one column per factor: for pandas, polars and DuckDB.
    Metrics(results::Metrics),
    /// Print the output folder of a stage's latest result (an instance such as
    /// `export[model=resnet18,seed=0]`, or a stage of the file with one instance).
    Out(results::Out),
    /// Remove cache entries and workspaces no current pipeline reaches (a dry run unless
    /// --apply).
    Gc(cache::Gc),
    /// Re-hash every cached result against its record; `--repair` sets corrupt ones aside so
    /// that the next run recomputes them.
    Verify(cache::Verify),
    /// List the stage kinds with their inputs and parameters.
    Kinds,
    /// List the backbones and attention blocks with their parameter counts.
    Models(info::Models),
    /// Measure steady-state training throughput (images/s) of architectures on the device.
    Bench(ablate_stages::bench::BenchOptions),
}

/// A pipeline file with its overrides and the device it runs on.
#[derive(clap::Args)]
struct PipelineArgs {
    /// Pipeline file (YAML).
    pipeline: PathBuf,
    /// Override a value: `vars.size=32`, `train.lr=2e-5` or `stages.train.params.lr=2e-5`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Add or replace a grid factor: `lr=1e-4,3e-4,1e-3` sets variable `lr` in levels named by
    /// their values, checked like the file's factors.
    #[arg(long = "factor", value_name = "NAME=LEVEL,…")]
    factor: Vec<String>,
    /// Compute device for device stages: auto, cpu, cuda, cuda:N, or GPUs cuda:N,M,….
    #[arg(long, default_value = "auto")]
    device: String,
}

impl PipelineArgs {
    fn source(&self) -> anyhow::Result<PipelineSource> {
        let factors = self.factor.iter().map(|f| spec::factor_assignment(f));
        let mut overrides =
            factors.collect::<Result<Vec<String>, _>>().map_err(|d| Diagnostics(vec![d]))?;
        overrides.extend(self.set.iter().cloned());
        Ok(PipelineSource::read(&self.pipeline, &overrides)?)
    }

    /// The pipeline against `cache`, with the device slots of `--device`.
    fn open(&self, cache: &Path, access: Access) -> anyhow::Result<(Session, Vec<String>)> {
        let devices = device::resolve(&self.device)?;
        let known = KeyOutputs::default();
        Ok((Session::open(cache, &self.source()?, device_kind(&devices), access, &known)?, devices))
    }
}

/// Pipeline names, for arguments that name a pipeline or its file.
fn pipeline_names(arguments: &[String]) -> anyhow::Result<Vec<String>> {
    let registry = registry();
    arguments
        .iter()
        .map(|p| {
            let path = Path::new(p);
            if path.is_file() { Ok(spec::load(path, &[], &registry)?.name) } else { Ok(p.clone()) }
        })
        .collect()
}

/// Exit code for invalid pipelines and arguments.
const INVALID: u8 = 2;

pub fn main() -> ExitCode {
    // A closed pipe (`ablate plan P | head`) ends ablate quietly, as it does any Unix tool,
    // instead of a panic in `println!`.
    // SAFETY: restores the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match execute(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            let invalid = error.downcast_ref::<ablate_core::diagnostic::Diagnostics>().is_some()
                || error.downcast_ref::<ablate_core::diagnostic::Invalid>().is_some();
            if invalid { ExitCode::from(INVALID) } else { ExitCode::FAILURE }
        }
    }
}

fn execute(cli: &Cli) -> anyhow::Result<ExitCode> {
    let cache = &cli.cache;
    match &cli.command {
        Command::Run(command) => command.execute(cache),
        Command::Cancel(command) => command.execute(cache),
        Command::SlurmJob(command) => command.execute(cache),
        Command::Plan(command) => command.execute(cache),
        Command::Push(command) => command.execute(cache),
        Command::Pull(command) => command.execute(cache),
        Command::Dag(command) => command.execute(),
        Command::Status(command) => command.execute(cache),
        Command::Compare(command) => command.execute(cache),
        Command::Plot(command) => command.execute(cache),
        Command::Report(command) => command.execute(cache),
        Command::Metrics(command) => command.execute(cache),
        Command::Out(command) => command.execute(cache),
        Command::Gc(command) => command.execute(cache),
        Command::Verify(command) => command.execute(cache),
        Command::Kinds => info::kinds(),
        Command::Models(command) => command.execute(),
        Command::Bench(options) => info::bench(options),
    }
}

/// Success unless `ok` is false (a stage or a check failed).
fn exit(ok: bool) -> ExitCode {
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

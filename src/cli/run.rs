//! `ablate run` (here or on Slurm), `ablate cancel`, and the hidden `ablate slurm-job` that each
//! Slurm job runs.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ablate_core::interrupt;
use ablate_core::key_commands::KeyOutputs;
use ablate_core::remote::Remote;
use ablate_core::run_record::{Environment, Outcome, RunReport};
use ablate_core::scheduler::RunOptions;
use ablate_core::store::Store;
use ablate_stages::device;
use clap::ValueEnum;

use super::share::RemoteArgs;
use super::until_ci::UntilCi;
use super::{PipelineArgs, exit, pipeline_names};
use crate::session::{Access, Session};
use crate::slurm::{self, record::Submission};

#[derive(clap::Args)]
pub(super) struct Run {
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Most CPU stages at once (default: number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Device stages at once on each device (GPU, or the CPU with `--device cpu`): small
    /// trainings of a grid share a GPU better than they queue for it. `auto`: one per 6 GiB
    /// of each GPU's free memory, 1 to 8, at most half the cores (the CPU: 1).
    #[arg(long, default_value = "1")]
    gpu_slots: device::Slots,
    /// Run exactly this stage; every stage it reads from must be cached.
    #[arg(long, value_name = "STAGE")]
    only: Option<String>,
    /// Where stages run: here, or as jobs of a Slurm cluster.
    #[arg(long, value_enum, default_value = "local")]
    executor: Executor,
    /// After the run, bring the cache under SIZE (e.g. 20G) as `ablate gc --max-size` does.
    #[arg(long, value_name = "SIZE", env = "ABLATE_MAX_CACHE_SIZE", value_parser = ablate_core::disk::parse_size)]
    max_size: Option<u64>,
    #[command(flatten)]
    until_ci: UntilCi,
    #[command(flatten)]
    slurm: SlurmArgs,
    #[command(flatten)]
    remote: RemoteArgs,
    /// Share the workspaces of stages that continue (a training's last checkpoint) through the
    /// remote cache too: fetched where this cache has none, sent after each such stage.
    #[arg(long)]
    remote_workspaces: bool,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Executor {
    /// This machine.
    Local,
    /// One sbatch job per stage that is not cached.
    Slurm,
}

#[derive(clap::Args)]
#[command(next_help_heading = "Slurm executor (--executor slurm)")]
struct SlurmArgs {
    /// Partition of every job (sbatch --partition).
    #[arg(long)]
    partition: Option<String>,
    /// Account charged (sbatch --account).
    #[arg(long)]
    account: Option<String>,
    /// Time limit of each job (sbatch --time), e.g. 2:00:00.
    #[arg(long)]
    time: Option<String>,
    /// An extra sbatch argument for every job, e.g. --sbatch-arg=--qos=high (repeatable).
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
    /// GPUs each device stage asks for (--gres=gpu:N) when the device is cuda, or as many as
    /// it takes where that is more (`device: N`) [default: 1].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    gpus_per_stage: Option<u32>,
    /// Wait until every job has finished, printing each change; exit 1 unless all succeeded.
    #[arg(long)]
    wait: bool,
}

impl SlurmArgs {
    fn options(&self) -> slurm::submit::Options {
        slurm::submit::Options {
            partition: self.partition.clone(),
            account: self.account.clone(),
            time: self.time.clone(),
            extra: self.sbatch_args.clone(),
            gpus_per_stage: self.gpus_per_stage.unwrap_or(1),
        }
    }

    fn given(&self) -> bool {
        self.partition.is_some()
            || self.account.is_some()
            || self.time.is_some()
            || !self.sbatch_args.is_empty()
            || self.gpus_per_stage.is_some()
            || self.wait
    }
}

impl Run {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        match self.executor {
            Executor::Local => self.local(cache),
            Executor::Slurm => {
                if self.only.is_some()
                    || self.jobs.is_some()
                    || self.gpu_slots != device::Slots::Count(1)
                    || self.until_ci.requested()
                {
                    anyhow::bail!(
                        "--only, --jobs, --gpu-slots and --until-ci apply to the local executor; a Slurm job runs one stage"
                    );
                }
                if self.remote.open()?.is_some() {
                    eprintln!(
                        "warning: the Slurm executor does not use the remote cache: its jobs share the cache folder"
                    );
                }
                submit_to_slurm(cache, &self.pipeline, &self.slurm)
            }
        }
    }

    fn local(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        if self.slurm.given() {
            anyhow::bail!(
                "--partition, --account, --time, --sbatch-arg, --gpus-per-stage and --wait apply to --executor slurm"
            );
        }
        if self.until_ci.requested() && self.only.is_some() {
            anyhow::bail!("--until-ci runs the grid's variants; --only runs one stage");
        }
        self.until_ci.check()?;
        let remote = self.remote.open()?;
        if self.remote_workspaces && remote.is_none() {
            anyhow::bail!(
                "--remote-workspaces shares workspaces through a remote cache: give --remote URL or ABLATE_REMOTE"
            );
        }
        let remote = remote.map(|remote| remote.sharing_workspaces(self.remote_workspaces));
        let (session, devices) = self.pipeline.open(cache, Access::Run)?;
        let (devices, chosen) = device::slots(&devices, self.gpu_slots);
        if let Some(chosen) = chosen {
            eprintln!("{chosen}");
        }
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let options = RunOptions { jobs, devices };
        on_interrupt(cache, session.environment(&options))?;
        let run_once = |session: &Session, options: &RunOptions| {
            run_once(session, options, self.only.as_deref(), remote.as_ref())
        };
        let succeeded = if self.until_ci.requested() {
            self.until_ci.rounds(cache, session, &options, &run_once)?
        } else {
            let report = run_once(&session, &options)?;
            drop(session);
            report.succeeded()
        };
        if let Some(budget) = self.max_size {
            let store = Store::existing(cache)?;
            super::cache::collect(
                &store,
                cache,
                &[],
                ablate_core::gc::RECENT_RUNS,
                Some(budget),
                true,
            )?;
        }
        Ok(exit(succeeded))
    }
}

/// Runs what is not cached of `session` (with `only`, that stage), records the run and prints
/// its report.
fn run_once(
    session: &Session,
    options: &RunOptions,
    only: Option<&str>,
    remote: Option<&Remote>,
) -> anyhow::Result<RunReport> {
    let report = session.run(options, only, remote)?;
    if let Err(error) = session.store.write_run(&report) {
        eprintln!("warning: {error:#}");
    }
    print_report(&report, &session.store);
    Ok(report)
}

#[derive(clap::Args)]
pub(super) struct SlurmJob {
    /// The submission's record (`cache/slurm/<pipeline>/<id>.json`).
    submission: PathBuf,
    stage: String,
}

impl SlurmJob {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let submission = Submission::load(&self.submission)?;
        // The keys are the submission's: its key commands' outputs are not computed again.
        let session = Session::open(
            cache,
            &submission.source,
            &submission.device,
            Access::Run,
            &submission.key_outputs,
        )?;
        // Only a device stage needs the device; a CPU stage may run on a node without one.
        let devices = if session.devices(&self.stage) > 0 {
            device::resolve(&submission.device)?
        } else {
            Vec::new()
        };
        let report = session.run(&RunOptions { jobs: 1, devices }, Some(&self.stage), None)?;
        print_report(&report, &session.store);
        Ok(exit(report.succeeded()))
    }
}

#[derive(clap::Args)]
pub(super) struct Cancel {
    pipeline: Option<String>,
}

impl Cancel {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        let name = self
            .pipeline
            .as_ref()
            .map(|p| pipeline_names(std::slice::from_ref(p)))
            .transpose()?
            .and_then(|names| names.into_iter().next());
        let latest = slurm::record::latest(&store, name.as_deref())?.into_iter().next();
        let submission = latest.ok_or_else(|| {
            let of = name.map(|n| format!(" of pipeline {n}")).unwrap_or_default();
            anyhow::anyhow!("no Slurm submission{of} in the cache {}", cache.display())
        })?;
        slurm::follow::cancel(&store, &submission)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// On Ctrl-C or SIGTERM: kills the programs of command stages, records the run (on
/// `environment`) as interrupted, removes its staging folders, says what is kept and exits with
/// 128 + the signal.
fn on_interrupt(cache: &Path, environment: Environment) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let (cache, started) = (cache.to_path_buf(), std::time::Instant::now());
    std::thread::spawn(move || {
        let Some(signal) = signals.forever().next() else { return };
        ablate_stages::command::kill_running();
        if let Some(mut record) = interrupt::interrupted_record(started.elapsed().as_secs_f64())
            && let Ok(store) = Store::existing(&cache)
        {
            record.environment = environment;
            store.remove_own_staging();
            let _ = store.write_run(&record);
            eprintln!("\ninterrupted; {}", interruption(&record));
        }
        std::process::exit(128 + signal);
    });
    Ok(())
}

/// What an interrupted run leaves: what is cached, and what the next run continues from.
fn interruption(record: &RunReport) -> String {
    let done = record.keys().count();
    let running: Vec<String> = record
        .stages
        .iter()
        .filter_map(|(stage, outcome)| match outcome {
            Outcome::Interrupted { kept: Some(kept) } => {
                Some(format!("{stage} continues from {kept}"))
            }
            Outcome::Interrupted { kept: None } => Some(format!("{stage} starts over")),
            _ => None,
        })
        .collect();
    let next = if running.is_empty() {
        String::new()
    } else {
        format!("; on the next run {}", running.join(", "))
    };
    let stages = if done == 1 { "1 stage is" } else { &format!("{done} stages are") };
    format!("{stages} done and cached{next}")
}

/// `ablate run --executor slurm`: plans as a local run would, with the device kind asked for,
/// and submits what is not cached.
fn submit_to_slurm(
    cache: &Path,
    args: &PipelineArgs,
    slurm_args: &SlurmArgs,
) -> anyhow::Result<ExitCode> {
    slurm::submit::require_sbatch()?;
    let device = device::requested_kind(&args.device)?;
    let source = args.source()?;
    let session = Session::open(cache, &source, device, Access::Run, &KeyOutputs::default())?;
    let planned = session.plan()?;
    let Some(submission) =
        slurm::submit::submit(&session, &planned, device, &slurm_args.options())?
    else {
        println!(
            "{}: nothing to submit, all {} stages are cached",
            session.pipeline.name,
            planned.len()
        );
        return Ok(ExitCode::SUCCESS);
    };
    for job in &submission.jobs {
        let after = if job.after.is_empty() {
            String::new()
        } else {
            format!(" after {}", job.after.join(", "))
        };
        let gpus = if job.gpus > 0 { format!(" with {} GPU", job.gpus) } else { String::new() };
        println!("submitted {} as job {}{after}{gpus}", job.stage, job.id);
    }
    println!(
        "{}: {} jobs submitted, {} stages cached; record {}",
        submission.pipeline,
        submission.jobs.len(),
        submission.cached.len(),
        submission.path(&session.store).display()
    );
    if !slurm_args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(exit(slurm::follow::wait(&session.store, &submission)?))
}

/// Each stage's summary, with where its files are when it names some (`→ submission.csv`),
/// then the counts.
fn print_report(report: &RunReport, store: &Store) {
    let (mut ran, mut cached, mut failed, mut skipped) = (0, 0, 0, 0);
    let fetched =
        report.stages.iter().filter(|(_, o)| matches!(o, Outcome::Fetched { .. })).count();
    for (stage, outcome) in &report.stages {
        let summary = match outcome {
            Outcome::Ran { summary, key, .. }
            | Outcome::Cached { summary, key }
            | Outcome::Fetched { summary, key, .. } => {
                if matches!(outcome, Outcome::Ran { .. }) {
                    ran += 1;
                } else {
                    cached += 1;
                }
                if let Some(summary) = summary.as_deref().filter(|s| s.contains("→ ")) {
                    let out = store.entries_dir().join(key).join("out");
                    println!("{stage}: {summary} (in {})", out.display());
                    continue;
                }
                summary
            }
            Outcome::Failed { .. } => {
                failed += 1;
                &None
            }
            Outcome::Skipped { .. } | Outcome::Interrupted { .. } => {
                skipped += 1;
                &None
            }
        };
        if let Some(summary) = summary {
            println!("{stage}: {summary}");
        }
    }
    let mut line = format!("{}: {ran} ran, {cached} cached", report.pipeline);
    if fetched > 0 {
        line.push_str(&format!(" ({fetched} fetched)"));
    }
    if failed + skipped > 0 {
        line.push_str(&format!(", {failed} failed, {skipped} skipped"));
    }
    println!("{line} in {:.2}s", report.seconds);
}

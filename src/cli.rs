//! The `ablate` command line.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::results::collect::{Selection, Stages, collect};
use crate::results::format::{self, Format};
use crate::results::{compare, plot};
use crate::session::Session;
use crate::slurm::{self, record::Submission};
use ablate_core::dag::Dag;
use ablate_core::disk::human_size;
use ablate_core::gc::{self, Garbage};
use ablate_core::plan::{LevelSummary, PlannedStage, Status, by_factor};
use ablate_core::run_record::{Outcome, RunReport};
use ablate_core::scheduler::RunOptions;
use ablate_core::spec::{self, PipelineSource};
use ablate_core::store::Store;
use ablate_stages::device;
use ablate_stages::registry;

#[derive(Parser)]
#[command(name = "ablate", version, about = "Deep-learning ablation studies as cached pipelines")]
pub struct Cli {
    /// Cache folder (results, locks, stat cache).
    #[arg(long, global = true, env = "ABLATE_CACHE", default_value = "cache")]
    cache: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct PipelineArgs {
    /// Pipeline file (YAML).
    pipeline: PathBuf,
    /// Override a value: `vars.size=32`, `train.lr=2e-5` or `stages.train.params.lr=2e-5`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Compute device for device stages: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
}

impl PipelineArgs {
    fn source(&self) -> anyhow::Result<PipelineSource> {
        Ok(PipelineSource::read(&self.pipeline, &self.set)?)
    }

    /// The pipeline against `cache`, with the device slots of `--device`.
    fn open(&self, cache: &Path) -> anyhow::Result<(Session, Vec<String>)> {
        let devices = device::resolve(&self.device)?;
        Ok((Session::open(cache, &self.source()?, device::kind(&devices))?, devices))
    }
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
    /// GPUs each device stage asks for (--gres=gpu:N) when the device is cuda [default: 1].
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

#[derive(Subcommand)]
enum Command {
    /// Run every stage that is not cached.
    Run {
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
        #[command(flatten)]
        slurm: SlurmArgs,
    },
    /// Cancel the jobs of the latest Slurm submission (of PIPELINE, by name or file) that are
    /// still queued or running.
    Cancel { pipeline: Option<String> },
    /// Run one stage of a Slurm submission: what each of its jobs runs.
    #[command(hide = true)]
    SlurmJob {
        /// The submission's record (`cache/slurm/<pipeline>/<id>.json`).
        submission: PathBuf,
        stage: String,
    },
    /// Show which stages are cached and why the others will run.
    Plan {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// Print a JSON list of {stage, kind, key, status, reasons}.
        #[arg(long)]
        json: bool,
    },
    /// Print the stage graph.
    Dag {
        #[command(flatten)]
        pipeline: PipelineArgs,
        #[arg(long, value_enum, default_value = "dot")]
        format: DagFormat,
    },
    /// Show recent runs and the cache's size.
    Status {
        /// How many recent runs to list.
        #[arg(long, default_value_t = 10)]
        last: usize,
    },
    /// Compare the variants of pipelines from their stored metrics: one row per variant, seeds
    /// pooled as mean ± std (n), Δ against the baseline.
    Compare {
        #[command(flatten)]
        results: ResultArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Draw PNG charts from stored metrics: learning curves (curves.png) and the comparison's
    /// primary column as bars (bars.png).
    Plot {
        #[command(flatten)]
        results: ResultArgs,
        /// Colour variants by this factor (default: the first that varies).
        #[arg(long)]
        by: Option<String>,
        /// The training stage whose curves to draw (default: each variant's last `train`).
        #[arg(long)]
        curves_stage: Option<String>,
        /// Folder for the PNG files.
        #[arg(long, default_value = "plots")]
        out: PathBuf,
    },
    /// Remove cache entries and workspaces no current pipeline reaches (a dry run unless
    /// --apply).
    Gc {
        /// Keep only these pipelines' results, by name or file (default: every pipeline run with
        /// the cache); the others are forgotten.
        pipelines: Vec<String>,
        /// Remove what is listed; without it nothing is removed.
        #[arg(long)]
        apply: bool,
    },
    /// Re-hash every cached result against its record; `--repair` sets corrupt ones aside so
    /// that the next run recomputes them.
    Verify {
        #[arg(long)]
        repair: bool,
    },
    /// List the stage kinds with their inputs and parameters.
    Kinds,
    /// List the backbones and attention blocks with their parameter counts.
    Models {
        /// Print JSON objects {name, kind, params, channels}.
        #[arg(long)]
        json: bool,
    },
    /// Measure steady-state training throughput (images/s) of architectures on the device.
    Bench(ablate_stages::bench::BenchOptions),
}

/// Which stored results a command reads, and how it lays them out.
#[derive(clap::Args)]
struct ResultArgs {
    /// Pipelines, by name or file (default: every pipeline run with the cache).
    pipelines: Vec<String>,
    /// Stages of the pipeline file to read (default: the `evaluate` stages, else `train`).
    #[arg(long = "stage", value_delimiter = ',')]
    stages: Vec<String>,
    /// Metrics to show (repeat or separate with commas); default macro_f1 and f1.
    #[arg(long = "metric", value_delimiter = ',')]
    metrics: Vec<String>,
    /// Splits to show (repeat or separate with commas); default all.
    #[arg(long = "split", value_delimiter = ',')]
    splits: Vec<String>,
    /// Keep rows where `factor=level[,level]`, `factor!=level` or `column>number` (also >=,
    /// <, <=, =, != on the mean); repeat to combine.
    #[arg(long = "where", value_name = "CONDITION")]
    filters: Vec<String>,
    /// Sort by a column (best first) or a factor (in declaration order).
    #[arg(long)]
    sort: Option<String>,
    /// Reverse the order of the rows.
    #[arg(long)]
    reverse: bool,
    /// The row Δ is computed against, as `factor=level,...` (default: the grid's baseline).
    #[arg(long)]
    baseline: Option<String>,
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

impl ResultArgs {
    fn compare(&self, store: &Store, names: &[String]) -> anyhow::Result<compare::Comparison> {
        let collected =
            collect(store, &Selection { pipelines: names, stages: Stages::Named(&self.stages) })?;
        let options = compare::Options {
            metrics: self.metrics.clone(),
            splits: self.splits.clone(),
            baseline: self.baseline.as_deref().map(parse_levels).transpose()?,
            filters: self.filters.clone(),
            sort: self.sort.clone(),
            reverse: self.reverse,
        };
        compare::compare(&collected, &options)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum DagFormat {
    Dot,
    Mermaid,
}

/// Exit code for invalid pipelines and arguments.
const INVALID: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<ablate_core::diagnostic::Diagnostics>().is_some() {
                ExitCode::from(INVALID)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn execute(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Run { pipeline, jobs, gpu_slots, only, executor: Executor::Local, slurm } => {
            if slurm.given() {
                anyhow::bail!(
                    "--partition, --account, --time, --sbatch-arg, --gpus-per-stage and --wait apply to --executor slurm"
                );
            }
            let (session, devices) = pipeline.open(&cli.cache)?;
            let (devices, chosen) = device::slots(&devices, *gpu_slots);
            if let Some(chosen) = chosen {
                eprintln!("{chosen}");
            }
            let options = RunOptions {
                jobs: jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                devices,
            };
            let report = session.run(&options, only.as_deref())?;
            if let Err(error) = session.store.write_run(&report) {
                eprintln!("warning: {error:#}");
            }
            print_report(&report);
            Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Run { pipeline, jobs, gpu_slots, only, executor: Executor::Slurm, slurm } => {
            if only.is_some() || jobs.is_some() || *gpu_slots != device::Slots::Count(1) {
                anyhow::bail!(
                    "--only, --jobs and --gpu-slots apply to the local executor; a Slurm job runs one stage"
                );
            }
            submit_to_slurm(&cli.cache, pipeline, slurm)
        }
        Command::SlurmJob { submission, stage } => {
            let submission = Submission::load(submission)?;
            let session = Session::open(&cli.cache, &submission.source, &submission.device)?;
            // Only a device stage needs the device; a CPU stage may run on a node without one.
            let devices = if session.on_device(stage) {
                device::resolve(&submission.device)?
            } else {
                Vec::new()
            };
            let report = session.run(&RunOptions { jobs: 1, devices }, Some(stage))?;
            print_report(&report);
            Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Cancel { pipeline } => {
            let store = Store::open(&cli.cache)?;
            let name = pipeline
                .as_ref()
                .map(|p| pipeline_names(std::slice::from_ref(p)))
                .transpose()?
                .and_then(|names| names.into_iter().next());
            let latest = slurm::record::latest(&store, name.as_deref())?.into_iter().next();
            let submission = latest.ok_or_else(|| {
                let of = name.map(|n| format!(" of pipeline {n}")).unwrap_or_default();
                anyhow::anyhow!("no Slurm submission{of} in the cache {}", cli.cache.display())
            })?;
            slurm::follow::cancel(&store, &submission)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan { pipeline, json } => {
            let (session, _) = pipeline.open(&cli.cache)?;
            let planned = session.plan()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&planned)?);
            } else {
                print_plan(&planned, &by_factor(&session.pipeline, &planned));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Dag { pipeline, format } => {
            let registry = registry();
            let spec = spec::load(&pipeline.pipeline, &pipeline.set, &registry)?;
            let dag = Dag::new(&spec).map_err(|d| ablate_core::diagnostic::Diagnostics(vec![d]))?;
            print!(
                "{}",
                match format {
                    DagFormat::Dot => dag.to_dot(&spec),
                    DagFormat::Mermaid => dag.to_mermaid(&spec),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { last } => {
            let store = Store::open(&cli.cache)?;
            crate::status::print(&store, *last)?;
            for submission in slurm::record::latest(&store, None)? {
                println!();
                slurm::follow::print_submission(&store, &submission);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { results, format } => {
            let store = Store::open(&cli.cache)?;
            let comparison = results.compare(&store, &pipeline_names(&results.pipelines)?)?;
            print!("{}", format::render(&comparison, *format)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Plot { results, by, curves_stage, out } => {
            let store = Store::open(&cli.cache)?;
            let names = pipeline_names(&results.pipelines)?;
            let comparison = results.compare(&store, &names)?;
            let colouring = plot::Colouring::new(&comparison, by.as_deref())?;
            let named = curves_stage.iter().cloned().collect::<Vec<_>>();
            let stages =
                if named.is_empty() { Stages::FinalTraining } else { Stages::Named(&named) };
            let trainings = collect(&store, &Selection { pipelines: &names, stages })?.results;
            std::fs::create_dir_all(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            println!("{}", plot::curves(&comparison, &trainings, &colouring, out)?.display());
            println!("{}", plot::bars(&comparison, &colouring, out)?.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Gc { pipelines, apply } => {
            let store = Store::open(&cli.cache)?;
            let garbage = gc::find(&store, &pipeline_names(pipelines)?)?;
            if *apply {
                gc::remove(&store, &garbage)?;
            }
            print_garbage(&garbage, *apply);
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { repair } => {
            let store = Store::open(&cli.cache)?;
            let report = store.verify_all()?;
            for (_, error) in &report.corrupt {
                println!("corrupt: {error:#}");
            }
            if *repair {
                for (key, _) in &report.corrupt {
                    store.quarantine(key)?;
                }
            }
            let what = if *repair && !report.corrupt.is_empty() {
                ", set aside; the next run recomputes them"
            } else {
                ""
            };
            println!(
                "{} results verified, {} corrupt{what}",
                report.verified,
                report.corrupt.len()
            );
            Ok(if report.corrupt.is_empty() || *repair {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Kinds => {
            print_kinds();
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(options) => {
            options.validate()?;
            ablate_stages::worker::run_worker_command(&["bench", &serde_json::to_string(options)?])
        }
        Command::Models { json } => {
            let args: &[&str] = if *json { &["models", "--json"] } else { &["models"] };
            ablate_stages::worker::run_worker_command(args)
        }
    }
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
    let session = Session::open(cache, &source, device)?;
    let planned = session.plan()?;
    let Some(submission) =
        slurm::submit::submit(&session, &source, &planned, device, &slurm_args.options())?
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
    Ok(if slurm::follow::wait(&session.store, &submission)? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `factor=level,factor=level`.
fn parse_levels(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    text.split(',')
        .map(|pair| match pair.split_once('=') {
            Some((factor, level)) => Ok((factor.trim().to_string(), level.trim().to_string())),
            None => anyhow::bail!("`{pair}` in `{text}` is not `factor=level`"),
        })
        .collect()
}

fn print_garbage(garbage: &[Garbage], applied: bool) {
    for item in garbage {
        let stage = item.stage.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
        println!("{:>10}  {}{stage}: {}", human_size(item.bytes), item.path.display(), item.why);
    }
    let total = human_size(garbage.iter().map(|g| g.bytes).sum());
    match (garbage.is_empty(), applied) {
        (true, _) => println!("nothing to remove"),
        (false, true) => println!("removed {} items, {total}", garbage.len()),
        (false, false) => println!(
            "{} items, {total}: a dry run; `ablate gc --apply` removes them",
            garbage.len()
        ),
    }
}

/// For a grid, the summary by factor and then only the stages that run; else every stage.
fn print_plan(planned: &[PlannedStage], levels: &[LevelSummary]) {
    if !levels.is_empty() {
        let factor_width = levels.iter().map(|l| l.factor.len()).max().unwrap_or(0).max(6);
        let level_width = levels.iter().map(|l| l.level.len()).max().unwrap_or(0).max(5);
        println!(
            "{:<factor_width$}  {:<level_width$}  variants  cached  to run",
            "factor", "level"
        );
        for l in levels {
            println!(
                "{:<factor_width$}  {:<level_width$}  {:>8}  {:>6}  {:>6}",
                l.factor, l.level, l.variants, l.cached, l.to_run
            );
        }
        println!();
    }
    let listed: Vec<&PlannedStage> =
        planned.iter().filter(|p| levels.is_empty() || p.status == Status::Run).collect();
    if !listed.is_empty() {
        let width = listed.iter().map(|p| p.stage.len()).max().unwrap_or(5).max(5);
        let kind_width = listed.iter().map(|p| p.kind.len()).max().unwrap_or(4).max(4);
        println!("{:<width$}  {:<kind_width$}  {:<6}  why", "stage", "kind", "status");
        for p in listed {
            let status = match p.status {
                Status::Cached => "cached",
                Status::Run => "run",
            };
            let reasons: Vec<String> = p.reasons.iter().map(|r| r.to_string()).collect();
            println!(
                "{:<width$}  {:<kind_width$}  {status:<6}  {}",
                p.stage,
                p.kind,
                reasons.join("; ")
            );
        }
    }
    let to_run = planned.iter().filter(|p| p.status == Status::Run).count();
    let note = if levels.is_empty() {
        ""
    } else {
        " (cached stages are not listed; --json lists every stage)"
    };
    println!("{} stages: {} cached, {to_run} to run{note}", planned.len(), planned.len() - to_run);
}

fn print_report(report: &RunReport) {
    let (mut ran, mut cached, mut failed, mut skipped) = (0, 0, 0, 0);
    for (stage, outcome) in &report.stages {
        let summary = match outcome {
            Outcome::Ran { summary, .. } => {
                ran += 1;
                summary
            }
            Outcome::Cached { summary, .. } => {
                cached += 1;
                summary
            }
            Outcome::Failed { .. } => {
                failed += 1;
                &None
            }
            Outcome::Skipped { .. } => {
                skipped += 1;
                &None
            }
        };
        if let Some(summary) = summary {
            println!("{stage}: {summary}");
        }
    }
    let mut line = format!("{}: {ran} ran, {cached} cached", report.pipeline);
    if failed + skipped > 0 {
        line.push_str(&format!(", {failed} failed, {skipped} skipped"));
    }
    println!("{line} in {:.2}s", report.seconds);
}

fn print_kinds() {
    let registry = registry();
    for name in registry.names() {
        let kind = registry.get(name).expect("listed kinds exist");
        println!("{name} — {}", kind.info().doc);
        for input in kind.info().inputs {
            println!("    input  {:<14} {}", input.role, input.doc);
        }
        for param in kind.info().params {
            println!("    param  {:<14} {} ({})", param.name, param.doc, param.type_description());
        }
    }
}

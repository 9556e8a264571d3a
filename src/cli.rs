//! The `ablate` command line.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::core::dag::Dag;
use crate::core::digest::FileDigests;
use crate::core::keys::{Fingerprinter, Toolchain};
use crate::core::plan::{PlannedStage, Status, plan};
use crate::core::progress::Progress;
use crate::core::scheduler::{Outcome, RunOptions, RunReport, Scheduler};
use crate::core::spec::{self, Pipeline};
use crate::core::store::Store;
use crate::device;
use crate::stages::registry;

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

#[derive(Subcommand)]
enum Command {
    /// Run every stage that is not cached.
    Run {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// Most CPU stages at once (default: number of cores).
        #[arg(long)]
        jobs: Option<usize>,
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
    /// List the stage kinds with their inputs and parameters.
    Kinds,
    /// List the backbones and attention blocks with their parameter counts.
    Models {
        /// Print JSON objects {name, kind, params, channels}.
        #[arg(long)]
        json: bool,
    },
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
            if error.downcast_ref::<crate::core::diagnostic::Diagnostics>().is_some() {
                ExitCode::from(INVALID)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

struct Session {
    pipeline: Pipeline,
    dag: Dag,
    store: Store,
    digests: FileDigests,
    toolchain: Toolchain,
    devices: Vec<String>,
}

impl Session {
    fn open(cache: &Path, args: &PipelineArgs) -> anyhow::Result<Session> {
        let registry = registry();
        let pipeline = spec::load(&args.pipeline, &args.set, &registry)?;
        let dag = Dag::new(&pipeline).map_err(|d| crate::core::diagnostic::Diagnostics(vec![d]))?;
        let store = Store::open(cache)?;
        let digests = FileDigests::open(cache.join("stat-cache.json"));
        let devices = device::resolve(&args.device)?;
        let toolchain = Toolchain {
            common: [("ablate".to_string(), env!("CARGO_PKG_VERSION").to_string())].into(),
            device: [
                ("libtorch".to_string(), env!("ABLATE_LIBTORCH_VERSION").to_string()),
                ("device".to_string(), device::kind(&devices).to_string()),
                ("precision".to_string(), "fp32".to_string()),
            ]
            .into(),
        };
        Ok(Session { pipeline, dag, store, digests, toolchain, devices })
    }
}

fn execute(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Run { pipeline, jobs } => {
            let session = Session::open(&cli.cache, pipeline)?;
            let registry = registry();
            let fingerprinter = Fingerprinter { registry: &registry, digests: &session.digests, toolchain: &session.toolchain };
            let progress = Progress::new();
            let options = RunOptions {
                jobs: jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                devices: session.devices.clone(),
            };
            let report = Scheduler {
                pipeline: &session.pipeline,
                dag: &session.dag,
                store: &session.store,
                registry: &registry,
                fingerprinter: &fingerprinter,
                progress: &progress,
                options: &options,
            }
            .run();
            session.digests.save()?;
            print_report(&report);
            Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Plan { pipeline, json } => {
            let session = Session::open(&cli.cache, pipeline)?;
            let registry = registry();
            let fingerprinter = Fingerprinter { registry: &registry, digests: &session.digests, toolchain: &session.toolchain };
            let planned = plan(&session.pipeline, &session.dag, &session.store, &fingerprinter)?;
            session.digests.save()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&planned)?);
            } else {
                print_plan(&planned);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Dag { pipeline, format } => {
            let registry = registry();
            let spec = spec::load(&pipeline.pipeline, &pipeline.set, &registry)?;
            let dag = Dag::new(&spec).map_err(|d| crate::core::diagnostic::Diagnostics(vec![d]))?;
            print!("{}", match format {
                DagFormat::Dot => dag.to_dot(&spec),
                DagFormat::Mermaid => dag.to_mermaid(&spec),
            });
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { last } => {
            crate::core::status::print(&Store::open(&cli.cache)?, *last)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Kinds => {
            print_kinds();
            Ok(ExitCode::SUCCESS)
        }
        Command::Models { json } => {
            let args: &[&str] = if *json { &["models", "--json"] } else { &["models"] };
            crate::worker::run_worker_command(args)
        }
    }
}

fn print_plan(planned: &[PlannedStage]) {
    let width = planned.iter().map(|p| p.stage.len()).max().unwrap_or(5).max(5);
    let kind_width = planned.iter().map(|p| p.kind.len()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:<kind_width$}  {:<6}  why", "stage", "kind", "status");
    for p in planned {
        let status = match p.status {
            Status::Cached => "cached",
            Status::Run => "run",
        };
        let reasons: Vec<String> = p.reasons.iter().map(|r| r.to_string()).collect();
        println!("{:<width$}  {:<kind_width$}  {status:<6}  {}", p.stage, p.kind, reasons.join("; "));
    }
    let to_run = planned.iter().filter(|p| p.status == Status::Run).count();
    println!("{} stages: {} cached, {to_run} to run", planned.len(), planned.len() - to_run);
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

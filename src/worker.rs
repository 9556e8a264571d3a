//! Device stages run in a separate process, `ablate-torch`.
//!
//! Only that binary links libtorch (loading it costs about 0.4 s), so `ablate plan`, `ablate
//! status` and a fully cached `ablate run` start in milliseconds. The process boundary also
//! isolates crashes inside libtorch and returns all GPU memory when a stage ends. The parent
//! writes a [`Job`] as JSON and waits; the worker runs the stage's `execute`, writes a
//! [`JobResult`] (metrics, summary or error) and exits. The worker dies with its parent.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::core::metrics::MetricRow;
use crate::core::params::Params;
use crate::core::progress::Progress;
use crate::core::stage::{Registry, StageContext};

pub const BINARY: &str = "ablate-torch";

#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    pub kind: String,
    pub stage: String,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub inputs: BTreeMap<String, PathBuf>,
    pub out_dir: PathBuf,
    pub device: Option<String>,
    pub workspace: Option<PathBuf>,
    pub result: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct JobResult {
    pub metrics: Vec<MetricRow>,
    pub summary: Option<String>,
    pub error: Option<String>,
}

pub fn worker_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("ABLATE_TORCH_WORKER") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("cannot locate the ablate binary")?;
    Ok(exe.with_file_name(BINARY))
}

/// Runs a worker subcommand (e.g. `models`) with the terminal attached; its exit code is ours.
pub fn run_worker_command(args: &[&str]) -> anyhow::Result<std::process::ExitCode> {
    let worker = worker_path()?;
    let status = Command::new(&worker).args(args).status().with_context(|| format!("cannot start the torch worker {}", worker.display()))?;
    Ok(std::process::ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8))
}

/// Runs `ctx`'s stage in a worker process and collects what it reported.
pub fn delegate(kind: &str, ctx: &mut StageContext) -> anyhow::Result<()> {
    let work = ctx.out_dir.parent().context("output folder has a parent")?;
    let job = Job {
        kind: kind.to_string(),
        stage: ctx.stage.to_string(),
        params: ctx.params.values().clone(),
        inputs: ctx.inputs.clone(),
        out_dir: ctx.out_dir.clone(),
        device: ctx.device.clone(),
        workspace: ctx.workspace.clone(),
        result: work.join("worker-result.json"),
    };
    let job_path = work.join("worker-job.json");
    std::fs::write(&job_path, serde_json::to_vec(&job)?)?;
    let worker = worker_path()?;
    let mut command = Command::new(&worker);
    command.arg(&job_path);
    if std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
        // What cuBLAS needs to be deterministic (`train`'s `deterministic`): a few MiB of memory.
        command.env("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
    }
    let status = command
        .status()
        .with_context(|| format!("cannot start the device worker {}", worker.display()))?;
    let result: JobResult = match std::fs::read(&job.result) {
        Ok(bytes) => serde_json::from_slice(&bytes).context("unreadable worker result")?,
        Err(_) => JobResult::default(),
    };
    let _ = std::fs::remove_file(&job_path);
    let _ = std::fs::remove_file(&job.result);
    if let Some(error) = result.error {
        bail!("{error}");
    }
    if !status.success() {
        bail!("device worker {} ended with {status}", worker.display());
    }
    ctx.metrics.extend(result.metrics);
    ctx.summary = result.summary;
    Ok(())
}

/// The worker's side: runs the job at `job_path`; returns the process exit code.
pub fn serve(job_path: &Path, registry: &Registry, execute: impl Fn(&str, &mut StageContext) -> anyhow::Result<()>) -> i32 {
    die_with_parent();
    let job: Job = match std::fs::read(job_path).map_err(anyhow::Error::from).and_then(|b| Ok(serde_json::from_slice(&b)?)) {
        Ok(job) => job,
        Err(error) => {
            eprintln!("error: cannot read job {}: {error:#}", job_path.display());
            return 2;
        }
    };
    let Some(kind) = registry.get(&job.kind) else {
        eprintln!("error: unknown stage kind `{}`", job.kind);
        return 2;
    };
    let params = Params::from_values(kind.info().params, job.params);
    let progress = Progress::new();
    let mut ctx = StageContext {
        stage: &job.stage,
        params: &params,
        inputs: job.inputs,
        out_dir: job.out_dir,
        device: job.device,
        workspace: job.workspace,
        progress: &progress,
        metrics: Vec::new(),
        summary: None,
    };
    let outcome = execute(&job.kind, &mut ctx);
    let result = JobResult {
        metrics: std::mem::take(&mut ctx.metrics),
        summary: ctx.summary.take(),
        error: outcome.as_ref().err().map(|e| format!("{e:#}")),
    };
    let written = serde_json::to_vec(&result).map_err(anyhow::Error::from).and_then(|bytes| {
        crate::core::store::write_atomically(&job.result, &bytes)
    });
    match (outcome, written) {
        (Ok(()), Ok(())) => 0,
        (_, Err(error)) => {
            eprintln!("error: cannot write worker result: {error:#}");
            1
        }
        (Err(_), Ok(())) => 1,
    }
}

/// A worker orphaned by a killed `ablate` must not train on for nobody.
fn die_with_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of the calling process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    if std::os::unix::process::parent_id() == 1 {
        std::process::exit(1);
    }
}

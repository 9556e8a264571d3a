//! Device stages run in separate processes, `ablate-torch` workers.
//!
//! Only that binary links libtorch, so `ablate plan`, `ablate status` and a fully cached `ablate
//! run` start in milliseconds. The process boundary also isolates crashes inside libtorch. The
//! parent writes a [`Request`] as JSON, sends its path to a worker (a line on the worker's stdin)
//! and waits for the reply line; the worker runs the stage's `execute`, writes a [`Reply`]
//! (metrics, summary or error) and replies. On the way, the stage's progress (its lines, task
//! bars and epochs done) arrives on the same channel as `ablate_core::progress::Event` lines,
//! which the parent shows beside every other stage's.
//!
//! Workers are kept between stages, one pool per device name, so that a grid pays the start of
//! a worker (loading libtorch and creating the CUDA context: 0.5–1.5 s) once per device slot, not
//! once per stage. A worker whose stage failed is not reused (a failed capture or an
//! out-of-memory error may leave its CUDA state unusable). Each job starts from the state
//! of a fresh process (see `stages::execute_on_device`). A worker exits when its stdin closes:
//! when `ablate` ends, however it ends, so a killed run leaves no worker training for nobody.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use ablate_core::params::Choice;
use ablate_core::params::Params;
use ablate_core::progress::{Event, Progress};
use ablate_core::stage::{StageContext, StageKind, StageReport};

use crate::WorkerKind;

pub const BINARY: &str = "ablate-torch";

#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
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
pub struct Reply {
    pub report: StageReport,
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
    let status = Command::new(&worker)
        .args(args)
        .status()
        .with_context(|| format!("cannot start the torch worker {}", worker.display()))?;
    Ok(std::process::ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8))
}

/// Runs `ctx`'s stage in a worker process and collects what it reported.
pub fn delegate(kind: WorkerKind, ctx: &mut StageContext) -> anyhow::Result<()> {
    let work = ctx.out_dir.parent().context("output folder has a parent")?;
    let job = Request {
        kind: kind.name().to_string(),
        stage: ctx.stage.to_string(),
        params: ctx.params.to_map(),
        inputs: ctx.inputs.clone(),
        out_dir: ctx.out_dir.clone(),
        device: ctx.devices.first().cloned(),
        workspace: ctx.workspace.clone(),
        result: work.join("worker-result.json"),
    };
    let job_path = work.join("worker-job.json");
    std::fs::write(&job_path, serde_json::to_vec(&job)?)?;
    let mut worker = match take_idle(&job.device) {
        Some(worker) => worker,
        None => Worker::start(job.device.clone())?,
    };
    let finished = worker.run(&job_path, ctx.progress, ctx.stage);
    let result: Reply = match std::fs::read(&job.result) {
        Ok(bytes) => serde_json::from_slice(&bytes).context("unreadable worker result")?,
        Err(_) => Reply::default(),
    };
    let _ = std::fs::remove_file(&job_path);
    let _ = std::fs::remove_file(&job.result);
    if finished.is_ok() && result.error.is_none() {
        IDLE.lock().expect("worker pool").push(worker);
    }
    if let Some(error) = result.error {
        bail!("{error}");
    }
    finished?;
    ctx.report = result.report;
    Ok(())
}

/// Workers waiting for their next job.
static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());

fn take_idle(device: &Option<String>) -> Option<Worker> {
    let mut idle = IDLE.lock().expect("worker pool");
    let index = idle.iter().position(|w| &w.device == device)?;
    Some(idle.swap_remove(index))
}

/// A running `ablate-torch --serve` process.
struct Worker {
    device: Option<String>,
    child: Child,
    jobs: ChildStdin,
    replies: BufReader<ChildStdout>,
}

impl Worker {
    fn start(device: Option<String>) -> anyhow::Result<Worker> {
        let path = worker_path()?;
        let mut command = Command::new(&path);
        command.arg(SERVE).stdin(Stdio::piped()).stdout(Stdio::piped());
        if std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
            // What cuBLAS needs to be deterministic (`train`'s `deterministic`): a few MiB of memory.
            command.env("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the device worker {}", path.display()))?;
        let jobs = child.stdin.take().expect("piped");
        let replies = BufReader::new(child.stdout.take().expect("piped"));
        Ok(Worker { device, child, jobs, replies })
    }

    /// Sends one job and waits for its reply, showing the progress it reports on the way
    /// ([`Event`] lines before [`DONE`]); an error means the worker died.
    fn run(&mut self, job_path: &Path, progress: &Progress, stage: &str) -> anyhow::Result<()> {
        let sent = writeln!(self.jobs, "{}", job_path.display()).and_then(|()| self.jobs.flush());
        let mut line = String::new();
        while sent.is_ok() && matches!(self.replies.read_line(&mut line), Ok(1..)) {
            if line.trim_end() == DONE {
                return Ok(());
            }
            if let Ok(event) = serde_json::from_str::<Event>(&line) {
                progress.replay(stage, event);
            }
            line.clear();
        }
        let _ = self.child.kill();
        let status = self.child.wait().context("waiting for the device worker")?;
        bail!("the device worker ended with {status}")
    }
}

/// The argument that makes `ablate-torch` serve jobs from its stdin.
pub const SERVE: &str = "--serve";
const DONE: &str = "done";

/// The worker's side: runs the jobs whose paths arrive on stdin, one per line, replying
/// [`DONE`] on stdout after each; exits when stdin closes.
pub fn serve(execute: impl Fn(WorkerKind, &mut StageContext) -> anyhow::Result<()>) -> i32 {
    let mut replies = reply_channel();
    let Ok(events) = replies.try_clone() else { return 1 };
    let progress = Progress::forwarding(Box::new(events));
    let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
    // Reading on another thread notices a closed stdin (ablate gone) also while a job runs.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(PathBuf::from(line)).is_err() {
                break;
            }
        }
        // SAFETY: ends the process at once; no destructor runs beside a job that may be running.
        unsafe { libc::_exit(0) }
    });
    for job_path in rx {
        if let Err(error) = run_job(&job_path, &execute, &progress) {
            eprintln!("error: {error:#}");
            return 2;
        }
        if writeln!(replies, "{DONE}").and_then(|()| replies.flush()).is_err() {
            return 1;
        }
    }
    0
}

/// The stdout that `ablate` reads replies from; anything else printed to stdout goes to stderr.
fn reply_channel() -> std::fs::File {
    use std::os::fd::FromRawFd;
    // SAFETY: plain descriptor duplication; the new descriptor is owned by the returned File.
    unsafe {
        let replies = libc::dup(libc::STDOUT_FILENO);
        libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO);
        std::fs::File::from_raw_fd(replies)
    }
}

/// Runs the job at `job_path`, writing its result file; an error means no result was written.
fn run_job(
    job_path: &Path,
    execute: &impl Fn(WorkerKind, &mut StageContext) -> anyhow::Result<()>,
    progress: &Progress,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(job_path)
        .with_context(|| format!("cannot read job {}", job_path.display()))?;
    let job: Request = serde_json::from_slice(&bytes)
        .with_context(|| format!("cannot read job {}", job_path.display()))?;
    let kind = WorkerKind::from_name(&job.kind)
        .ok_or_else(|| anyhow::anyhow!("`{}` is not a worker stage kind", job.kind))?;
    let params = Params::from_values(kind.info().params, job.params);
    let mut ctx = StageContext {
        stage: &job.stage,
        params: &params,
        inputs: job.inputs,
        out_dir: job.out_dir,
        devices: job.device.into_iter().collect(),
        workspace: job.workspace,
        progress,
        report: StageReport::default(),
    };
    let outcome = execute(kind, &mut ctx);
    let result = Reply {
        report: std::mem::take(&mut ctx.report),
        error: outcome.err().map(|e| format!("{e:#}")),
    };
    let bytes = serde_json::to_vec(&result)?;
    ablate_core::store::write_atomically(&job.result, &bytes)
        .context("cannot write the worker result")
}

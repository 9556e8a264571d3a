//! `--remote` (of `run` and `plan`), `ablate push` and `ablate pull`: results shared between
//! machines through a remote cache (see `ablate_core::remote`).
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use ablate_core::disk::human_size;
use ablate_core::key_commands::KeyOutputs;
use ablate_core::remote::{Mode, Remote, Uploads, pull};
use ablate_core::run_record::Transfer;
use ablate_core::spec::PipelineSource;
use ablate_core::store::{Entry, Store};
use ablate_stages::device;
use clap::ValueEnum;

use super::{exit, pipeline_names};
use crate::session::{Access, Session};

#[derive(clap::Args)]
#[command(next_help_heading = "Remote cache")]
pub(super) struct RemoteArgs {
    /// A remote cache shared between machines: http[s]://[user:password@]host[:port][/prefix]
    /// (a WebDAV server such as nginx's dav module; see the README).
    #[arg(long, value_name = "URL", env = "ABLATE_REMOTE", hide_env_values = true)]
    remote: Option<String>,
    /// What this machine may do with the remote cache.
    #[arg(long, value_enum, default_value = "read-write")]
    remote_mode: RemoteMode,
}

#[derive(Clone, Copy, ValueEnum)]
enum RemoteMode {
    /// Fetch results, send none.
    Read,
    /// Send results, fetch none.
    Write,
    /// Fetch and send.
    ReadWrite,
}

impl RemoteArgs {
    /// The remote cache, when one is given.
    pub(super) fn open(&self) -> anyhow::Result<Option<Remote>> {
        let mode = match self.remote_mode {
            RemoteMode::Read => Mode::Read,
            RemoteMode::Write => Mode::Write,
            RemoteMode::ReadWrite => Mode::ReadWrite,
        };
        self.remote.as_deref().map(|url| crate::remote::open(url, mode)).transpose()
    }

    /// The remote cache, which `command` needs.
    fn required(&self, command: &str) -> anyhow::Result<Remote> {
        self.open()?.ok_or_else(|| {
            anyhow::Error::new(ablate_core::diagnostic::Invalid(format!(
                "`ablate {command}` needs a remote cache: --remote URL or ABLATE_REMOTE"
            )))
        })
    }
}

#[derive(clap::Args)]
pub(super) struct Push {
    /// Pipelines, by name or file, whose latest results to send (default: every pipeline run
    /// with this cache).
    pipelines: Vec<String>,
    #[command(flatten)]
    remote: RemoteArgs,
}

impl Push {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let remote = self.remote.required("push")?;
        let store = Store::existing(cache)?;
        let entries = latest_results(&store, &pipeline_names(&self.pipelines)?)?;
        let started = Instant::now();
        let warn = |line: &str| eprintln!("warning: {line}");
        std::thread::scope(|scope| {
            let uploads = Uploads::start(scope, &remote, &store, &warn);
            for entry in &entries {
                match store.verify(entry) {
                    Ok(()) => uploads.send(entry.clone()),
                    Err(error) => eprintln!("warning: not sent: {error:#} (`ablate verify`)"),
                }
            }
            uploads.finish();
        });
        let traffic = remote.traffic();
        println!(
            "{}: {} of {} results sent ({}), the others were there",
            traffic.location,
            traffic.sent.results,
            entries.len(),
            rate(&traffic.sent, started.elapsed().as_secs_f64())
        );
        Ok(exit(traffic.warning.is_none()))
    }
}

/// The results the latest runs of `pipelines` (all when empty) recorded, each once.
fn latest_results(store: &Store, pipelines: &[String]) -> anyhow::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::new();
    for manifest in store.manifests()? {
        if !pipelines.is_empty() && !pipelines.contains(&manifest.pipeline) {
            continue;
        }
        for stage in &manifest.stages {
            let Some(key) = store.read_ref(&manifest.pipeline, &stage.instance) else { continue };
            if entries.iter().all(|e| e.record.key != key)
                && let Some(entry) = store.entry(&key)?
            {
                entries.push(entry);
            }
        }
    }
    Ok(entries)
}

#[derive(clap::Args)]
pub(super) struct Pull {
    /// Pipeline files whose results to fetch (their keys are computed here, as `plan` does).
    #[arg(required = true)]
    pipelines: Vec<PathBuf>,
    /// Only these stages (a stage of the file takes every instance of it); the stages they
    /// read from are followed through their records only.
    #[arg(long = "stage", value_name = "STAGE")]
    stages: Vec<String>,
    /// The device kind the results were computed on (it is part of device stages' keys):
    /// auto, cpu, cuda.
    #[arg(long, default_value = "auto")]
    device: String,
    #[command(flatten)]
    remote: RemoteArgs,
}

impl Pull {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let remote = self.remote.required("pull")?;
        let device = device::requested_kind(&self.device)?;
        let started = Instant::now();
        let warn = |line: &str| eprintln!("warning: {line}");
        let known = KeyOutputs::default();
        for file in &self.pipelines {
            let source = PipelineSource::read(file, &[])?;
            let session = Session::open(cache, &source, device, Access::Run, &known)?;
            let wanted = |spec: &ablate_core::pipeline::StageSpec| {
                self.stages.is_empty()
                    || self
                        .stages
                        .iter()
                        .any(|s| *s == spec.name || spec.name.split('[').next() == Some(s.as_str()))
            };
            let fingerprinter = session.fingerprinter();
            let _cache_in_use = session.store.lock_shared()?;
            let pulled = pull(
                &session.pipeline,
                &session.dag,
                &session.store,
                &fingerprinter,
                &remote,
                &wanted,
                &warn,
            )?;
            session.digests.save()?;
            let missing = match pulled.missing.len() {
                0 => String::new(),
                n => format!(", {n} on neither: {}", pulled.missing.join(", ")),
            };
            println!(
                "{}: {} results fetched, {} here already{missing}",
                session.pipeline.name,
                pulled.fetched.len(),
                pulled.here.len()
            );
        }
        let traffic = remote.traffic();
        println!(
            "{}: fetched {}",
            traffic.location,
            rate(&traffic.fetched, started.elapsed().as_secs_f64())
        );
        Ok(exit(traffic.warning.is_none()))
    }
}

/// `12.0 MB in 0.4 s, 30.0 MB/s` over `seconds` of wall time.
pub(super) fn rate(transfer: &Transfer, seconds: f64) -> String {
    let per_second = transfer.bytes as f64 / seconds.max(1e-3);
    format!("{} in {seconds:.1} s, {}/s", human_size(transfer.bytes), human_size(per_second as u64))
}

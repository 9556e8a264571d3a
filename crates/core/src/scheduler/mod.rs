//! Runs a pipeline: every stage whose key is not in the store, in dependency order.
//!
//! A stage becomes ready when all its upstream stages are done; only then is its key computed,
//! from their output digests (so an upstream stage that re-ran and produced identical output
//! leaves this stage cached — early cutoff). Ready CPU stages run in parallel up to `jobs`;
//! device stages take a free device slot. A stage that fails (error or panic) stops only its
//! descendants; every other stage still runs and is cached, and the run reports failure.
//! Before a stage reads a cached upstream output, that output is re-hashed against its record
//! (once per run and result; results published by this run are trusted). A corrupt one is set
//! aside (`cache/corrupt/`), its stage runs again, and then the stage that read it.
//! `run_only` runs a single stage whose upstream stages are cached: `ablate run --only`, and
//! each job of a Slurm submission. With a remote cache (see `remote` and `sharing`), a stage
//! that is not cached here is fetched from it before it would run, and what runs is sent to it.
mod devices;
mod sharing;

use devices::distinct;
pub use devices::refuse_too_wide;

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, mpsc};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};

use super::clock::unix_seconds;
use super::dag::Dag;
use super::fingerprint::{Fingerprint, StageKey, why_dirty};
use super::interrupt;
use super::keys::Fingerprinter;
use super::manifest::Manifest;
use super::metrics::{MetricSource, write_parquet};
use super::pipeline::{Pipeline, StageSpec};
use super::plan::workspace_reasons;
use super::progress::Progress;
use super::remote::{Remote, Uploads};
use super::run_record::{Environment, Outcome, RunReport};
use super::run_state::{Ended, Next, Node, RunState};
use super::stage::{Kept, Registry, Resource, StageContext, StageReport};
use super::store::{Entry, Record, RefEntry, Staging, Store, WorkspaceOwner};

/// An upstream output that did not match its digest when a stage was about to read it; it has
/// been set aside, so computing `stage` again replaces it.
#[derive(Debug, thiserror::Error)]
#[error("the cached output of {stage} is corrupt")]
struct CorruptInput {
    stage: String,
}

pub struct RunOptions {
    /// Most CPU stages at once.
    pub jobs: usize,
    /// One slot per entry, e.g. `["cuda:0"]`, `["cpu"]`, or `["cuda:0", "cuda:0"]` for two
    /// stages at once on one GPU.
    pub devices: Vec<String>,
}

impl RunOptions {
    pub fn device_kind(&self) -> &'static str {
        device_kind(&self.devices)
    }
}

/// The device kind of a run's slots, which enters device stages' keys (kernels differ between
/// CPU and GPU): `cuda` when there is a GPU slot, else `cpu`.
pub fn device_kind(devices: &[String]) -> &'static str {
    if devices.iter().any(|d| d.starts_with("cuda")) { "cuda" } else { "cpu" }
}

pub struct Scheduler<'a> {
    pub pipeline: &'a Pipeline,
    pub dag: &'a Dag,
    pub store: &'a Store,
    pub registry: &'a Registry,
    pub fingerprinter: &'a Fingerprinter<'a>,
    pub progress: &'a Progress,
    pub options: &'a RunOptions,
    /// The build and machine of the run, as its record keeps them.
    pub environment: Environment,
    /// The remote cache, if the run has one.
    pub remote: Option<&'a Remote>,
}

impl Scheduler<'_> {
    pub fn run(&self) -> RunReport {
        let started = Instant::now();
        let started_at = unix_seconds();
        self.store.clean_staging();
        self.record_manifest(started_at);
        let journal = self.record_start(started_at);
        self.progress.begin_run(
            self.dag
                .topological()
                .map(|name| {
                    let spec = self.pipeline.stage(name).expect("dag nodes are stages");
                    let kind = self.registry.get(&spec.kind).expect("validated");
                    (name.to_string(), spec.kind.clone(), kind.planned_units(&spec.params))
                })
                .collect(),
        );
        // A stage that takes more devices than the run has is cached (see `check_devices`): it
        // takes what there is to find its result, and fails should that be gone meanwhile.
        let available = NonZeroU32::new(distinct(&self.options.devices).len() as u32);
        let nodes = self
            .dag
            .topological()
            .map(|name| {
                let spec = self.pipeline.stage(name).expect("dag nodes are stages");
                let kind = self.registry.get(&spec.kind).expect("validated");
                let resource = match (kind.resource(&spec.params), available) {
                    (Resource::Devices(n), Some(available)) => Resource::Devices(n.min(available)),
                    (resource, _) => resource,
                };
                Node { name, inputs: spec.inputs.values().map(String::as_str).collect(), resource }
            })
            .collect();
        let mut state = RunState::new(nodes, self.options.jobs, self.options.devices.clone());
        let warn = |line: &str| self.warn(line);
        std::thread::scope(|scope| {
            let uploads =
                self.remote.map(|remote| Uploads::start(scope, remote, self.store, &warn));
            self.run_until_done(&mut state, &journal, uploads.as_ref());
            uploads.inspect(Uploads::finish);
        });
        self.progress.end_run();
        let seconds = started.elapsed().as_secs_f64();
        RunReport {
            remote: self.remote.map(Remote::traffic),
            ..RunReport::new(
                self.pipeline,
                self.options.device_kind(),
                started_at,
                seconds,
                state.outcomes(),
            )
        }
    }

    /// Records what the pipeline consists of, warning when its name was last run from another
    /// file.
    fn record_manifest(&self, started_at: u64) {
        match self.store.write_manifest(&Manifest::of(self.pipeline, started_at)) {
            Ok(Some(previous)) if previous.file != self.pipeline.file() => {
                self.progress.line(&format!(
                    "warning: pipeline name `{}` was last run from {}; this run from {} replaces \
                     its record, so `compare {}` shows this file's variants (give one file its \
                     own `name:`)",
                    self.pipeline.name,
                    previous.file,
                    self.pipeline.file(),
                    self.pipeline.name
                ));
            }
            Ok(_) => {}
            Err(error) => self.progress.line(&format!("warning: {error:#}")),
        }
    }

    /// Records the run's start where an interrupt (every stage "interrupted" until it ends) and
    /// a kill (the journal on disk: every stage "killed" until it ends) find it; returns the
    /// journal.
    fn record_start(&self, started_at: u64) -> RunReport {
        let skipped = |because: &str| -> Vec<(String, Outcome)> {
            let outcome = Outcome::Skipped { because: because.into() };
            self.dag.topological().map(|name| (name.to_string(), outcome.clone())).collect()
        };
        let record = RunReport {
            environment: self.environment.clone(),
            ..RunReport::new(
                self.pipeline,
                self.options.device_kind(),
                started_at,
                0.0,
                skipped("the run was interrupted"),
            )
        };
        interrupt::begin(record.clone());
        let journal = RunReport {
            ended: false,
            stages: skipped("the run was killed before it ended"),
            ..record
        };
        if let Err(error) = self.store.write_run(&journal) {
            self.progress.line(&format!("warning: cannot record the run's start: {error:#}"));
        }
        journal
    }

    /// Starts every stage `state` finds ready, each on its own thread, and feeds each ending
    /// back into `state` (see `run_state`), until nothing runs.
    fn run_until_done<'p>(
        &'p self,
        state: &mut RunState<'p>,
        journal: &RunReport,
        uploads: Option<&Uploads>,
    ) {
        let verified = Mutex::new(HashSet::new());
        let (tx, rx) = mpsc::channel::<(&str, Vec<String>, Ended)>();
        std::thread::scope(|scope| {
            loop {
                let skipped = |name: &str, blocker: &str| {
                    self.progress.line(&format!("  skip {name} (upstream {blocker} failed)"));
                    self.progress.stage_ended(name, false, 0.0);
                };
                for (name, devices, upstream) in state.start_ready(skipped) {
                    let spec = self.pipeline.stage(name).expect("stage exists");
                    self.progress.stage_started(name);
                    let (tx, verified) = (tx.clone(), &verified);
                    scope.spawn(move || {
                        let ran = self.run_caught(spec, &upstream, verified, &devices, uploads);
                        let ended = match ran {
                            Ok((outcome, entry)) => Ended::Ok(outcome, Box::new(entry)),
                            Err(error) => match error.downcast_ref::<CorruptInput>() {
                                Some(corrupt) => Ended::CorruptInput {
                                    upstream: corrupt.stage.clone(),
                                    error: format!("{error:#}"),
                                },
                                None => Ended::Failed(format!("{error:#}")),
                            },
                        };
                        let _ = tx.send((name, devices, ended));
                    });
                }
                if !state.running() {
                    break;
                }
                let (name, devices, ended) = rx.recv().expect("workers send before exiting");
                match &ended {
                    Ended::Ok(Outcome::Ran { seconds, .. }, _) => {
                        self.progress.stage_ended(name, true, *seconds)
                    }
                    _ => self.progress.stage_ended(name, false, 0.0),
                }
                if let Ended::Ok(outcome, _) = &ended {
                    self.record_outcome(journal, name, outcome);
                }
                let published = |key: &str| self.store.entries_dir().join(key).exists();
                match state.finish(name, devices, ended, published) {
                    Next::Continue => {}
                    Next::Recompute { upstream, error } => self
                        .progress
                        .line(&format!("! {name}: {error}; set aside, {upstream} runs again")),
                    Next::Failed(error) => {
                        self.progress.line(&format!("✗ {name} failed: {error}"));
                        self.record_outcome(journal, name, &Outcome::Failed { error });
                    }
                }
            }
        });
    }

    /// Keeps how `stage` ended where an interrupted run (its record) and a killed one (its
    /// journal) find it.
    fn record_outcome(&self, journal: &RunReport, stage: &str, outcome: &Outcome) {
        interrupt::ended(stage, outcome);
        self.store.journal_outcome(journal, stage, outcome);
    }

    /// Runs exactly `stage` (`ablate run --only`, one job of a Slurm submission). Its upstream
    /// stages must all be cached: their keys are computed as a whole run computes them, so the
    /// stage gets the same key and inputs, and publishes the same way (under the same per-key
    /// lock) as in a whole run.
    pub fn run_only(&self, stage: &str) -> anyhow::Result<RunReport> {
        let started = Instant::now();
        let started_at = unix_seconds();
        let Some(spec) = self.pipeline.stage(stage) else {
            let names: Vec<&str> = self.dag.topological().collect();
            crate::invalid!(
                "pipeline {} has no stage `{stage}`; its stages: {}",
                self.pipeline.name,
                names.join(", ")
            );
        };
        let ancestors = self.ancestors(stage);
        let mut outputs: HashMap<String, Option<String>> = HashMap::new();
        let mut upstream: HashMap<String, Entry> = HashMap::new();
        for name in self.dag.topological().filter(|name| ancestors.contains(name)) {
            let spec = self.pipeline.stage(name).expect("dag nodes are stages");
            let key = self.fingerprinter.fingerprint(spec, &outputs)?.key();
            let key = key.expect("the outputs of its own upstream stages are known");
            let entry = self.upstream_entry(&key)?.ok_or_else(|| {
                anyhow!("stage `{stage}` needs upstream stage `{name}`, which is not cached (key {key}): run `{name}` first")
            })?;
            outputs.insert(name.to_string(), Some(entry.record.output.clone()));
            upstream.insert(name.to_string(), entry);
        }
        let wanted = self.registry.get(&spec.kind).expect("validated").resource(&spec.params);
        let mut devices = distinct(&self.options.devices);
        devices.truncate(wanted.devices() as usize);
        let verified = Mutex::new(HashSet::new());
        let outcome = match self.run_caught(spec, &upstream, &verified, &devices, None) {
            Ok((outcome, entry)) => {
                if matches!(outcome, Outcome::Ran { .. }) {
                    self.send(&entry);
                }
                outcome
            }
            Err(error) => {
                let error = format!("{error:#}");
                self.progress.line(&format!("✗ {stage} failed: {error}"));
                Outcome::Failed { error }
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let stages = vec![(stage.to_string(), outcome)];
        Ok(RunReport {
            remote: self.remote.map(Remote::traffic),
            ..RunReport::new(self.pipeline, self.options.device_kind(), started_at, seconds, stages)
        })
    }

    /// Every stage `stage` reads from, directly or not.
    fn ancestors(&self, stage: &str) -> HashSet<&str> {
        let mut found = HashSet::new();
        let mut pending = vec![stage];
        while let Some(name) = pending.pop() {
            for upstream in self.pipeline.stage(name).expect("inputs are stages").inputs.values() {
                if found.insert(upstream.as_str()) {
                    pending.push(upstream);
                }
            }
        }
        found
    }

    /// `run_stage`, with a panic turned into an error.
    fn run_caught(
        &self,
        spec: &StageSpec,
        upstream: &HashMap<String, Entry>,
        verified: &Mutex<HashSet<StageKey>>,
        devices: &[String],
        uploads: Option<&Uploads>,
    ) -> anyhow::Result<(Outcome, Entry)> {
        catch_unwind(AssertUnwindSafe(|| {
            self.run_stage(spec, upstream, verified, devices, uploads)
        }))
        .unwrap_or_else(|panic| Err(anyhow!("stage panicked: {}", panic_message(&panic))))
    }

    fn run_stage(
        &self,
        spec: &StageSpec,
        upstream: &HashMap<String, Entry>,
        verified: &Mutex<HashSet<StageKey>>,
        devices: &[String],
        uploads: Option<&Uploads>,
    ) -> anyhow::Result<(Outcome, Entry)> {
        let outputs = upstream
            .iter()
            .map(|(stage, e)| (stage.clone(), Some(e.record.output.clone())))
            .collect();
        let fingerprint = self.fingerprinter.fingerprint(spec, &outputs)?;
        let key = fingerprint.key().expect("all upstream outputs are known");
        let pipeline = &self.pipeline.name;
        let cached = |entry: Entry| -> anyhow::Result<(Outcome, Entry)> {
            self.store.write_ref(
                pipeline,
                &spec.name,
                &RefEntry::of(self.pipeline, &spec.name, &key),
            )?;
            self.progress.line(&format!("· {} cached", spec.name));
            Ok((Outcome::Cached { key: key.clone(), summary: entry.record.summary.clone() }, entry))
        };
        if let Some(entry) = self.store.entry(&key)? {
            return cached(entry);
        }
        let last = self.store.last_result(pipeline, &spec.name)?;
        let kept = |digest: &str| self.store.key_output(digest);
        let mut reasons = why_dirty(&last, Some(&key), &fingerprint, &kept);
        let kind = self.registry.get(&spec.kind).expect("validated");
        workspace_reasons(self.store, None, kind.info(), spec, &fingerprint, &mut reasons);
        let _lock = self.store.lock(&key)?;
        if let Some(entry) = self.store.entry(&key)? {
            return cached(entry);
        }
        if let Some(fetched) = self.fetch(&key) {
            return self.fetched(spec, &key, fetched, verified);
        }
        let wanted = kind.resource(&spec.params).devices() as usize;
        if devices.len() < wanted {
            bail!("it takes {wanted} devices, and this run has {}", devices.len());
        }
        let reasons: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
        let on =
            if devices.is_empty() { String::new() } else { format!(" on {}", devices.join(", ")) };
        self.progress.line(&format!("▶ {} ({}){on}: {}", spec.name, spec.kind, reasons.join("; ")));

        self.verify_inputs(spec, upstream, verified)?;
        let kept = kind.info().workspace.kept(&spec.params);
        let workspace = match kept.left_out() {
            Some(left_out) => {
                let workspace_key =
                    fingerprint.workspace_key(left_out).expect("all upstream outputs are known");
                let lock = self.store.lock(&format!("work-{workspace_key}"))?;
                if let Kept::Extendable(_) = kept {
                    self.fetch_workspace(spec, &workspace_key);
                }
                let owner = WorkspaceOwner {
                    pipeline: pipeline.clone(),
                    stage: spec.name.clone(),
                    key: key.clone(),
                };
                Some((self.store.workspace(&workspace_key, &owner)?, lock, workspace_key))
            }
            None => None,
        };
        let staging = self.store.staging(&key)?;
        interrupt::started(&spec.name, workspace.as_ref().map(|(dir, ..)| dir.as_path()));
        let started = Instant::now();
        let mut ctx = StageContext {
            stage: &spec.name,
            params: &spec.params,
            inputs: spec
                .inputs
                .iter()
                .map(|(role, stage)| (role.clone(), upstream[stage].out_dir()))
                .collect(),
            out_dir: staging.out_dir(),
            devices: devices.to_vec(),
            workspace: workspace.as_ref().map(|(dir, ..)| dir.clone()),
            progress: self.progress,
            report: StageReport::default(),
        };
        kind.run(&mut ctx)?;
        let seconds = started.elapsed().as_secs_f64();
        let entry =
            self.publish(spec, &key, fingerprint.to_fingerprint(), staging, &ctx.report, seconds)?;
        match (&workspace, kept) {
            (Some((dir, ..)), Kept::UntilPublished) => std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove workspace {}", dir.display()))?,
            (Some((dir, _lock, workspace_key)), Kept::Extendable(_)) => {
                self.send_workspace(workspace_key, dir)
            }
            _ => {}
        }
        self.progress.line(&format!("✓ {} {:.1}s", spec.name, seconds));
        verified.lock().expect("verified set").insert(key.clone());
        if let Some(uploads) = uploads {
            uploads.send(entry.clone());
        }
        Ok((Outcome::Ran { key, seconds, summary: ctx.report.summary }, entry))
    }

    /// Checks each input's result against its digest once per run; a corrupt one is set aside
    /// and fails the stage.
    fn verify_inputs(
        &self,
        spec: &StageSpec,
        upstream: &HashMap<String, Entry>,
        verified: &Mutex<HashSet<StageKey>>,
    ) -> anyhow::Result<()> {
        for (role, stage) in &spec.inputs {
            let entry = &upstream[stage];
            if verified.lock().expect("verified set").contains(&entry.record.key) {
                continue;
            }
            if let Err(error) = self.store.verify(entry) {
                // A consumer running beside this one may have set it aside already.
                let _ = self.store.quarantine(&entry.record.key);
                return Err(anyhow::Error::new(CorruptInput { stage: stage.clone() })
                    .context(format!("input `{role}` (stage {stage}): {error:#}")));
            }
            verified.lock().expect("verified set").insert(entry.record.key.clone());
        }
        Ok(())
    }

    /// Writes the stage's metrics beside its output, publishes it under `key` with its record
    /// and points the stage's ref at it.
    fn publish(
        &self,
        spec: &StageSpec,
        key: &str,
        fingerprint: Fingerprint,
        staging: Staging,
        report: &StageReport,
        seconds: f64,
    ) -> anyhow::Result<Entry> {
        let pipeline = &self.pipeline.name;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).context("clock before 1970")?;
        if !report.metrics.is_empty() {
            let source = MetricSource {
                pipeline,
                stage: &spec.name,
                stage_key: key,
                timestamp_micros: now.as_micros() as i64,
            };
            write_parquet(&staging.dir.join(crate::store::METRICS), &source, &report.metrics)?;
        }
        let record = Record {
            key: key.into(),
            pipeline: pipeline.clone(),
            stage: spec.name.clone(),
            fingerprint,
            output: String::new(),
            metrics: None,
            created: now.as_secs(),
            seconds,
            summary: report.summary.clone(),
        };
        let entry = self.store.publish(staging, record)?;
        self.store.write_ref(
            pipeline,
            &spec.name,
            &RefEntry::of(self.pipeline, &spec.name, key),
        )?;
        Ok(entry)
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

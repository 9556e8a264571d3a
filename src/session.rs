//! One pipeline opened against one cache: what `run`, `plan`, a Slurm submission and a Slurm
//! job all start from. The toolchain (see `toolchain`) enters the keys of every stage, so every
//! command computes the same keys; the outputs of key commands (`key_cmd`) are computed here,
//! once per distinct command, or taken from a Slurm submission (see
//! `ablate_core::key_commands`). A pipeline whose variants `run --until-ci` gave extra seeds is
//! loaded with them (see `ablate_core::grid::ExtraSeeds`), unless its source names its own.
use std::path::Path;

use ablate_core::dag::Dag;
use ablate_core::diagnostic::Diagnostics;
use ablate_core::digest::FileDigests;
use ablate_core::key_commands::KeyOutputs;
use ablate_core::keys::{Fingerprinter, Toolchain};
use ablate_core::pipeline::Pipeline;
use ablate_core::plan::{PlannedStage, plan_with_remote};
use ablate_core::progress::Progress;
use ablate_core::remote::Remote;
use ablate_core::run_record::{Environment, RunReport};
use ablate_core::scheduler::{RunOptions, Scheduler};
use ablate_core::spec::PipelineSource;
use ablate_core::stage::{Registry, Resource};
use ablate_core::store::Store;
use ablate_stages::registry;

use crate::toolchain::toolchain;

/// What a command does with the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Runs stages: the cache is created if missing.
    Run,
    /// Only plans: a missing cache is an empty one, not created.
    Plan,
}

pub struct Session {
    /// What the pipeline was loaded from, with the extra seeds it was loaded with.
    pub source: PipelineSource,
    pub pipeline: Pipeline,
    pub dag: Dag,
    pub store: Store,
    pub registry: Registry,
    pub digests: FileDigests,
    pub toolchain: Toolchain,
    /// The output digests of the pipeline's key commands, as its keys hold them.
    pub key_outputs: KeyOutputs,
}

impl Session {
    /// `device_kind` (`cpu` or `cuda`, see `scheduler::device_kind`) enters device stages' keys;
    /// `access` says whether the cache may be created; `known`: outputs of key commands that
    /// are not to run again (a Slurm submission's), empty to run every one.
    pub fn open(
        cache: &Path,
        source: &PipelineSource,
        device_kind: &str,
        access: Access,
        known: &KeyOutputs,
    ) -> anyhow::Result<Session> {
        let registry = registry();
        // The stat cache (thousands of lines for a dataset of images) is read on a second
        // thread while this one parses the pipeline. Not the other way round: the main thread
        // allocates from the heap glibc grows in large steps, another thread from an arena it
        // grows a page at a time, a system call each (30,000 for a grid of 10,000 stages).
        let (pipeline, digests) = std::thread::scope(|scope| {
            let digests = scope.spawn(|| FileDigests::open(cache.join("stat-cache")));
            let pipeline = source.load(&registry);
            (pipeline, digests.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
        let mut pipeline = pipeline?;
        let store = match access {
            Access::Run => Store::open(cache)?,
            Access::Plan => Store::for_planning(cache)?,
        };
        let mut source = source.clone();
        if source.extra_seeds.is_empty() {
            let recorded = store.extra_seeds(&pipeline.name)?;
            if !recorded.is_empty() {
                source.extra_seeds = recorded;
                pipeline = source.load(&registry)?;
                eprintln!(
                    "note: {}: variants run the seeds --until-ci added: {}",
                    pipeline.name,
                    pipeline.extra_seeds.describe()
                );
            }
        }
        for warning in &pipeline.warnings {
            eprintln!("warning: {warning}");
        }
        let dag = Dag::new(&pipeline).map_err(|d| Diagnostics(vec![d]))?;
        let device_stages = pipeline
            .stages
            .iter()
            .any(|s| registry.get(&s.kind).is_some_and(|k| k.resource(&s.params) != Resource::Cpu));
        let toolchain = toolchain(&store, &digests, device_kind, device_stages)?;
        let key_outputs = KeyOutputs::apply(&mut pipeline, &registry, &store, known)?;
        pipeline.digest_inputs(&registry, &digests);
        Ok(Session { source, pipeline, dag, store, registry, digests, toolchain, key_outputs })
    }

    pub fn fingerprinter(&self) -> Fingerprinter<'_> {
        Fingerprinter {
            registry: &self.registry,
            digests: &self.digests,
            toolchain: &self.toolchain,
        }
    }

    /// How many devices `stage` takes (see `Resource`); 0 for a CPU stage, and for a stage the
    /// pipeline lacks.
    pub fn devices(&self, stage: &str) -> u32 {
        let Some(spec) = self.pipeline.stage(stage) else { return 0 };
        let kind = self.registry.get(&spec.kind);
        kind.map_or(0, |kind| kind.resource(&spec.params).devices())
    }

    /// Which stages are cached, which would run, and why.
    pub fn plan(&self) -> anyhow::Result<Vec<PlannedStage>> {
        self.plan_with_remote(None)
    }

    /// [`Session::plan`], with the stages that `remote` has marked as such.
    pub fn plan_with_remote(&self, remote: Option<&Remote>) -> anyhow::Result<Vec<PlannedStage>> {
        let warn = |line: &str| eprintln!("warning: {line}");
        let fingerprinter = self.fingerprinter();
        let planned = plan_with_remote(
            &self.pipeline,
            &self.dag,
            &self.store,
            &fingerprinter,
            remote,
            &warn,
        )?;
        if self.store.writable() {
            self.digests.save()?;
        }
        Ok(planned)
    }

    /// The build and machine a run with `options` is on (see `environment`).
    pub fn environment(&self, options: &RunOptions) -> Environment {
        let file = std::path::Path::new(&self.pipeline.path);
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        crate::environment::current(&self.toolchain, options.device_kind(), dir)
    }

    /// Runs what is not cached, or with `only` exactly that stage (see `Scheduler::run_only`),
    /// holding the cache shared so that `ablate gc` waits; refuses first a stage that takes
    /// more devices than `options` has (see `Scheduler::check_devices`).
    pub fn run(
        &self,
        options: &RunOptions,
        only: Option<&str>,
        remote: Option<&Remote>,
    ) -> anyhow::Result<RunReport> {
        let _cache_in_use = self.store.lock_shared()?;
        let fingerprinter = self.fingerprinter();
        let progress = Progress::new();
        let scheduler = Scheduler {
            pipeline: &self.pipeline,
            dag: &self.dag,
            store: &self.store,
            registry: &self.registry,
            fingerprinter: &fingerprinter,
            progress: &progress,
            options,
            environment: self.environment(options),
            remote,
        };
        scheduler.check_devices(only)?;
        let mut report = match only {
            Some(stage) => scheduler.run_only(stage)?,
            None => scheduler.run(),
        };
        report.environment = self.environment(options);
        if self.store.writable() {
            self.digests.save()?;
        }
        Ok(report)
    }
}

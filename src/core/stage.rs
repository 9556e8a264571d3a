//! The one trait every stage kind implements, and the registry the engine looks kinds up in.
//!
//! The engine core never sees tensors: a kind declares its parameters, its input roles, the
//! files it reads (their contents enter its cache key) and whether it needs a compute device;
//! `run` gets a [`StageContext`] with the upstream output folders and a fresh output folder.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::metrics::MetricRow;
use super::params::{ParamSpec, Params};
use super::progress::Progress;

/// What a stage competes for while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Runs on CPU threads; independent CPU stages run in parallel.
    Cpu,
    /// Needs a compute device (a GPU, or the CPU when no GPU is used); one stage per device slot.
    Device,
}

/// A named input of a stage kind, to be connected to another stage's output.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    pub role: &'static str,
    pub doc: &'static str,
}

/// A file outside the cache that a stage reads; its content digest enters the stage's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// How the file is named in explanations, e.g. `images/train/12_left.jpg`.
    pub label: String,
    pub path: PathBuf,
}

/// What a stage kind declares about itself.
#[derive(Debug)]
pub struct KindInfo {
    pub kind: &'static str,
    /// Bumped whenever the implementation changes what it computes; part of every key.
    pub version: u32,
    pub doc: &'static str,
    pub params: &'static [ParamSpec],
    pub inputs: &'static [InputSpec],
    pub resource: Resource,
}

pub trait StageKind: Send + Sync {
    fn info(&self) -> &'static KindInfo;
    /// Files read from outside the cache. Errors here are reported before anything runs.
    fn input_files(&self, _params: &Params) -> anyhow::Result<Vec<InputFile>> {
        Ok(Vec::new())
    }
    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()>;
}

/// Everything a running stage may touch.
pub struct StageContext<'a> {
    pub stage: &'a str,
    pub params: &'a Params,
    /// Output folder of the upstream stage connected to each input role (read-only).
    pub inputs: BTreeMap<String, PathBuf>,
    /// Empty folder the stage writes its artifact into; published atomically on success.
    pub out_dir: PathBuf,
    /// The device assigned to a [`Resource::Device`] stage, e.g. `cpu` or `cuda:0`.
    pub device: Option<String>,
    pub progress: &'a Progress,
    pub(crate) metrics: Vec<MetricRow>,
    pub(crate) summary: Option<String>,
}

impl StageContext<'_> {
    pub fn input(&self, role: &str) -> &Path {
        self.inputs.get(role).unwrap_or_else(|| panic!("input `{role}` is not declared"))
    }

    pub fn device(&self) -> &str {
        self.device.as_deref().unwrap_or("cpu")
    }

    pub fn metric(&mut self, row: MetricRow) {
        self.metrics.push(row);
    }

    /// A short human-readable result, printed after the run and again when the stage is cached.
    pub fn set_summary(&mut self, summary: impl Into<String>) {
        self.summary = Some(summary.into());
    }
}

/// The stage kinds a pipeline may use.
#[derive(Default)]
pub struct Registry {
    kinds: Vec<Box<dyn StageKind>>,
}

impl Registry {
    pub fn with(mut self, kind: impl StageKind + 'static) -> Self {
        self.kinds.push(Box::new(kind));
        self
    }

    pub fn get(&self, kind: &str) -> Option<&dyn StageKind> {
        self.kinds.iter().find(|k| k.info().kind == kind).map(|k| k.as_ref())
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.iter().map(|k| k.info().kind)
    }
}

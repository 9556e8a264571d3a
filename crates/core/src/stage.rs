//! The one trait every stage kind implements, and the registry the engine looks kinds up in.
//!
//! The engine core never sees tensors: a kind declares its parameters (and checks on them that
//! types alone do not make), its input roles (or any role, [`InputSpec::any`]), the files it
//! reads (their contents enter its cache key), the program whose output describes the rest of
//! its environment ([`KeyCommand`]) and how many compute devices it needs; `run` gets
//! a [`StageContext`] with the upstream output folders and a fresh output folder, whose parent
//! (the staging folder) may hold files kept beside the result but outside its digest.
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use super::metrics::MetricRow;
use super::params::{ParamProblem, ParamSpec, Params};
use super::progress::{Progress, Units};

/// What a stage competes for while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Runs on CPU threads; independent CPU stages run in parallel.
    Cpu,
    /// Needs this many compute devices (GPUs, or the CPU when no GPU is used): a slot on each of
    /// that many different devices, taken at once (see `run_state`).
    Devices(NonZeroU32),
}

impl Resource {
    /// One device: what the native device stages need.
    pub const DEVICE: Resource = Resource::Devices(NonZeroU32::MIN);

    /// How many devices it takes; 0 for a CPU stage.
    pub fn devices(self) -> u32 {
        match self {
            Resource::Cpu => 0,
            Resource::Devices(n) => n.get(),
        }
    }
}

/// A named input of a stage kind, to be connected to another stage's output.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    pub role: &'static str,
    pub doc: &'static str,
    /// The stage runs without it when the pipeline leaves it unconnected.
    pub optional: bool,
}

impl InputSpec {
    pub const fn required(role: &'static str, doc: &'static str) -> Self {
        InputSpec { role, doc, optional: false }
    }

    pub const fn optional(role: &'static str, doc: &'static str) -> Self {
        InputSpec { role, doc, optional: true }
    }

    /// Any number of inputs under roles the pipeline chooses (each a `names::NameKind::Role`).
    pub const fn any(doc: &'static str) -> Self {
        InputSpec { role: ANY_ROLE, doc, optional: true }
    }

    pub fn is_any(&self) -> bool {
        self.role == ANY_ROLE
    }
}

/// The role of [`InputSpec::any`], as `ablate kinds` lists it.
const ANY_ROLE: &str = "<any role>";

/// Whether a stage keeps private state in `cache/work/` between runs, and how long.
///
/// A workspace belongs to a key computed like the stage's cache key (see `fingerprint`), so a
/// stage never continues from state made under other inputs or parameters.
#[derive(Debug, Clone, Copy)]
pub enum Workspace {
    /// No state between runs.
    None,
    /// A run that died leaves its workspace; the next run of the same key continues from it.
    /// Where `safe` says so for the stage's parameters, the workspace key also leaves out
    /// `params` and the workspace outlives the published result, so that raising one of them
    /// (e.g. `epochs`) continues from the last state instead of starting over; otherwise the
    /// workspace is removed once the result is published (a schedule that depends on `epochs`
    /// is not continuable).
    Resume { extend: &'static [&'static str], safe: fn(&Params) -> bool },
}

/// What a stage with given parameters keeps between runs: [`Workspace`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Nothing.
    Nothing,
    /// A workspace of the stage's own key, removed once its result is published.
    UntilPublished,
    /// A workspace whose key leaves these parameters out, kept after the result is published
    /// so that raising one of them continues from it.
    Extendable(&'static [&'static str]),
}

impl Kept {
    /// The parameters the workspace key leaves out; `None` without a workspace.
    pub fn left_out(self) -> Option<&'static [&'static str]> {
        match self {
            Kept::Nothing => None,
            Kept::UntilPublished => Some(&[]),
            Kept::Extendable(params) => Some(params),
        }
    }
}

impl Workspace {
    /// What a stage with `params` keeps between runs.
    pub fn kept(&self, params: &Params) -> Kept {
        match self {
            Workspace::None => Kept::Nothing,
            Workspace::Resume { extend, safe } if safe(params) => Kept::Extendable(extend),
            Workspace::Resume { .. } => Kept::UntilPublished,
        }
    }
}

/// A file outside the cache that a stage reads; its content digest enters the stage's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// How the file is named in explanations: a path, e.g. `images/train/12_left.jpg`, shown as
    /// `input file images/train/12_left.jpg`; or a phrase that says what the file is to the
    /// stage, a lower-case word, a space and the rest (`deps file scripts/fit.py`,
    /// `interpreter /usr/bin/python3.11`), shown as it is.
    pub label: String,
    pub path: PathBuf,
}

/// A program run before planning whose standard output enters a stage's key: what describes
/// the environment beyond the files a stage names, e.g. `pip freeze` (a command stage's
/// `key_cmd`). It runs as typed in a shell: in the current folder, with `ablate`'s environment
/// (not the stage's `env`, so that a grid over a variable still runs it once); each distinct
/// one runs once per `ablate` invocation (see `key_commands`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct KeyCommand {
    /// The program and its arguments (no shell).
    pub argv: Vec<String>,
}

impl KeyCommand {
    /// How keys and explanations name it: its arguments, spaced.
    pub fn label(&self) -> String {
        self.argv.join(" ")
    }
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
    pub workspace: Workspace,
}

pub trait StageKind: Send + Sync {
    fn info(&self) -> &'static KindInfo;
    /// What the stage competes for with these parameters; by default what the kind declares.
    fn resource(&self, _params: &Params) -> Resource {
        self.info().resource
    }
    /// Problems with validated parameters that their types do not catch (an empty list, a
    /// file that does not exist), reported with the parameter's position before anything runs.
    fn check(&self, _params: &Params) -> Vec<ParamProblem> {
        Vec::new()
    }
    /// The units of work a stage of this kind plans with these parameters (a training's
    /// epochs), which a run's status counts; none by default.
    fn planned_units(&self, _params: &Params) -> Option<Units> {
        None
    }
    /// Files read from outside the cache. Errors here are reported before anything runs.
    fn input_files(&self, _params: &Params) -> anyhow::Result<Vec<InputFile>> {
        Ok(Vec::new())
    }
    /// The program whose output enters the key beside the files; none by default. Asked for
    /// every stage while planning, so it must be cheap: it names the program, it runs nothing.
    fn key_command(&self, _params: &Params) -> Option<KeyCommand> {
        None
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
    /// The devices assigned to a [`Resource::Devices`] stage, e.g. `[cpu]` or `[cuda:2,
    /// cuda:3]`; empty for a CPU stage.
    pub devices: Vec<String>,
    /// The stage's private folder that survives a killed run (kinds with a [`Workspace`]).
    pub workspace: Option<PathBuf>,
    pub progress: &'a Progress,
    /// What the stage reported; stored with its result.
    pub report: StageReport,
}

/// What a stage reports besides its output folder: metrics (stored as `metrics.parquet`) and a
/// one-line summary (printed after the run and again when the stage is cached).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageReport {
    pub metrics: Vec<MetricRow>,
    pub summary: Option<String>,
}

impl StageContext<'_> {
    pub fn input(&self, role: &str) -> &Path {
        self.inputs.get(role).unwrap_or_else(|| panic!("input `{role}` is not declared"))
    }

    /// An optional input, `None` when the pipeline left it unconnected.
    pub fn optional_input(&self, role: &str) -> Option<&Path> {
        self.inputs.get(role).map(PathBuf::as_path)
    }

    pub fn workspace(&self) -> &Path {
        self.workspace.as_deref().expect("the kind declares a workspace")
    }

    /// The (first) device of a device stage, `cpu` for a CPU stage.
    pub fn device(&self) -> &str {
        self.devices.first().map_or("cpu", String::as_str)
    }

    pub fn metric(&mut self, row: MetricRow) {
        self.report.metrics.push(row);
    }

    /// A short human-readable result, printed after the run and again when the stage is cached.
    pub fn set_summary(&mut self, summary: impl Into<String>) {
        self.report.summary = Some(summary.into());
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

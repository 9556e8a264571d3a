//! Run records: what each `ablate run` did, stage by stage, kept in `cache/runs/` for `ablate
//! status`, and for `ablate gc`, which keeps the results of each pipeline's recent runs.
use serde::{Deserialize, Serialize};

use super::fingerprint::StageKey;
use super::grid::ExtraSeeds;
use super::pipeline::Pipeline;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
/// How one stage of a run ended.
pub enum Outcome {
    Cached {
        key: StageKey,
        summary: Option<String>,
    },
    /// Taken from the remote cache (see `remote`): `bytes` of archive downloaded.
    Fetched {
        key: StageKey,
        summary: Option<String>,
        bytes: u64,
    },
    Ran {
        key: StageKey,
        seconds: f64,
        summary: Option<String>,
    },
    Failed {
        error: String,
    },
    Skipped {
        because: String,
    },
    /// The run was interrupted (Ctrl-C, SIGTERM) while the stage ran; `kept` says what stays
    /// for the next run (a training's checkpoint).
    Interrupted {
        kept: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
/// One run of a pipeline: when, how long, and each stage's outcome in dependency order.
pub struct RunReport {
    pub pipeline: String,
    /// The pipeline file's absolute path, its `--set` overrides and the device kind.
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub overrides: Vec<String>,
    /// The seeds single variants of the grid ran beyond the grid's `seeds` (recorded by `run
    /// --until-ci` in the cache, and part of every later run of the pipeline: see
    /// `grid::ExtraSeeds`).
    #[serde(default, skip_serializing_if = "ExtraSeeds::is_empty")]
    pub extra_seeds: ExtraSeeds,
    /// With `run --until-ci`: which round of seeds this run was, and what it decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ci: Option<UntilCiRound>,
    #[serde(default)]
    pub device: String,
    /// The build and machine it ran on; empty in records written before it was recorded.
    #[serde(default)]
    pub environment: Environment,
    pub started: u64,
    pub seconds: f64,
    pub stages: Vec<(String, Outcome)>,
    /// Whether the run ended (finished, failed or was interrupted) and wrote this record:
    /// `false` in the record a run writes when it starts, which is all that is left of a run
    /// killed outright, with the outcomes its journal kept (`Store::runs`).
    #[serde(default = "ended_by_default")]
    pub ended: bool,
    /// The process that ran it (0 in records written before it was recorded).
    #[serde(default)]
    pub pid: u32,
    /// What it fetched from and sent to a remote cache, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteTraffic>,
}

/// What a run moved between its cache and a remote one (`ablate status` shows it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RemoteTraffic {
    /// Where the remote is, without credentials.
    pub location: String,
    pub fetched: Transfer,
    pub sent: Transfer,
    /// The failure that turned the remote off for the rest of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Results moved one way, their archives' bytes, and the seconds the transfers took (added up
/// over transfers that may overlap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub results: usize,
    pub bytes: u64,
    pub seconds: f64,
}

/// One round of `run --until-ci`: its number (1 for the first) and, per variant, the decision
/// taken after it (the seeds it had, its Δ interval's width, the reason and the seeds added),
/// in the words `ablate run` printed them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UntilCiRound {
    pub round: u32,
    pub decisions: Vec<String>,
}

/// Records written before runs recorded their start were written at their end.
fn ended_by_default() -> bool {
    true
}

/// Where a run stands, as `ablate status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// It ended and wrote its record.
    Ended,
    /// Its process is still alive.
    Running,
    /// It never wrote its record, and its process is gone (SIGKILL, a crash, a power cut).
    Killed,
}

/// The build of ablate and the machine a run was on, as the HTML report's provenance shows
/// them; `None` where unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    pub ablate_version: Option<String>,
    /// The git commit ablate was built from.
    pub ablate_commit: Option<String>,
    pub libtorch: Option<String>,
    /// The GPU's name (`NVIDIA H200`), or the CPU's for a run on the CPU.
    pub device_name: Option<String>,
    /// The GPU driver's version.
    pub driver: Option<String>,
    pub host: Option<String>,
    /// The git state of the pipeline file's folder: which version of the user's configuration
    /// and code ran; `None` outside a git work tree (and in records from before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_source: Option<SourceState>,
}

/// A git work tree's state: its commit, and whether (and how) its files differ from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    pub commit: String,
    /// Tracked files differ from the commit, or untracked files exist.
    pub dirty: bool,
    /// The blake3 digest of `git diff HEAD` (the tracked files' changes), when there are any: two
    /// runs with the same commit and digest ran the same tracked files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl SourceState {
    /// `3f2a1c7d9e0b`, or `3f2a1c7d9e0b + uncommitted changes (diff 1a2b3c4d)`.
    pub fn describe(&self) -> String {
        let commit = &self.commit[..self.commit.len().min(12)];
        match (self.dirty, &self.diff) {
            (false, _) => commit.to_string(),
            (true, Some(diff)) => {
                format!("{commit} + uncommitted changes (diff {})", &diff[..diff.len().min(8)])
            }
            (true, None) => format!("{commit} + untracked files"),
        }
    }
}

impl RunReport {
    /// The record of a run of `pipeline` on `device` (kind) that started at `started`.
    pub fn new(
        pipeline: &Pipeline,
        device: &str,
        started: u64,
        seconds: f64,
        stages: Vec<(String, Outcome)>,
    ) -> RunReport {
        RunReport {
            pipeline: pipeline.name.clone(),
            file: pipeline.file(),
            overrides: pipeline.overrides.clone(),
            extra_seeds: pipeline.extra_seeds.clone(),
            until_ci: None,
            device: device.to_string(),
            environment: Environment::default(),
            started,
            seconds,
            stages,
            ended: true,
            pid: std::process::id(),
            remote: None,
        }
    }

    /// Whether the run ended, runs or was killed.
    pub fn state(&self) -> RunState {
        if self.ended {
            RunState::Ended
        } else if self.pid != 0 && std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
            RunState::Running
        } else {
            RunState::Killed
        }
    }

    /// The keys of the results the run used or made.
    pub fn keys(&self) -> impl Iterator<Item = &StageKey> {
        self.stages.iter().filter_map(|(_, outcome)| match outcome {
            Outcome::Cached { key, .. }
            | Outcome::Fetched { key, .. }
            | Outcome::Ran { key, .. } => Some(key),
            _ => None,
        })
    }

    pub fn succeeded(&self) -> bool {
        self.stages.iter().all(|(_, o)| {
            matches!(o, Outcome::Cached { .. } | Outcome::Fetched { .. } | Outcome::Ran { .. })
        })
    }
}

//! `ablate gc`: removes what no current pipeline reaches.
//!
//! The current pipelines are those with a manifest in the cache (every pipeline run with it, or
//! only those named). A result is kept when it is reached:
//!
//! - by a ref of one of their stage instances: every stage of a pipeline's last run, upstream
//!   stages included, since the manifest lists them all;
//! - by one of each pipeline's most recent runs (the run records; [`RECENT_RUNS`] by default),
//!   so that a run with `--set` overrides does not make the results of the file as written
//!   collectable, nor the reverse;
//! - by the caller's `protected` keys: `ablate gc` plans each pipeline's file as written and
//!   protects what that plan finds cached.
//!
//! Results of old parameters, of stages since removed, and of forgotten pipelines are garbage.
//!
//! A workspace (`work/`, resumable training state) is kept when the result it was last used for
//! is kept (raising `epochs` continues from it), or when that result does not exist yet, its
//! stage is a current one and has not completed since under other inputs: a run that died and
//! will resume. Also removed: results set aside as
//! corrupt, staging folders of dead runs, the refs of pipelines not kept, and the outputs of key
//! commands (`key-outputs/`) that no kept result's fingerprint names.
//!
//! With a size budget ([`within`]), gc removes only what brings the cache under it, in this
//! order: garbage that is not a result (dead staging folders, corrupt results, stale
//! workspaces), then the workspaces of completed trainings, least recently used first (raising
//! their `epochs` then starts over instead of continuing), then unreachable results, oldest
//! first, then results only recent runs or the file as written keep, oldest first. It never
//! removes what the refs of the current pipelines name, nor the workspace of a training that
//! has not completed.
//!
//! Nothing is removed without `apply`; removal holds the cache's lock exclusively, so it never
//! runs while an `ablate run` uses the cache.
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::clock::format_time;
#[cfg(doc)]
use super::disk::disk_usage;
use super::disk::{Removal, size_of};
use super::fingerprint::StageKey;
use super::manifest::Manifest;
use super::store::{Store, WorkspaceOwner};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A result no current stage instance refers to.
    Unreachable,
    /// A workspace whose stage is gone or whose result is garbage.
    StaleWorkspace,
    /// A result set aside because its content did not match its digest.
    Corrupt,
    /// A folder left by a run that died while computing.
    DeadStaging,
    /// The refs of a pipeline not kept.
    ForgottenPipeline,
    /// The workspace of a completed training, kept so that raising `epochs` continues it
    /// (removed only to meet a size budget).
    IdleWorkspace,
    /// A result only recent runs or the file as written keep (removed only to meet a budget).
    KeptResult,
    /// What a key command printed, which no kept result's fingerprint names.
    UnusedKeyOutput,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Why::Unreachable => "result no current pipeline reaches",
            Why::StaleWorkspace => "workspace no current stage will use",
            Why::Corrupt => "corrupt result set aside",
            Why::DeadStaging => "staging folder of a dead run",
            Why::ForgottenPipeline => "refs of a pipeline not kept",
            Why::IdleWorkspace => "workspace of a completed training (to continue it)",
            Why::KeptResult => "result of a recent run or of the file as written",
            Why::UnusedKeyOutput => "key command output no kept result names",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Garbage {
    pub path: PathBuf,
    pub bytes: u64,
    pub why: Why,
    /// The stage that made it, when known.
    pub stage: Option<String>,
    /// Seconds since the Unix epoch when it was last used (made, or continued from).
    pub used: u64,
}

/// How many of each pipeline's most recent runs keep their results, unless told otherwise.
pub const RECENT_RUNS: usize = 5;

/// A result kept whatever the refs say, and who keeps it (shown by the dry run).
#[derive(Debug, Clone)]
pub struct Protected {
    pub key: StageKey,
    pub by: String,
}

/// What `gc` would remove, and why the rest stays: (who keeps, results, bytes).
pub struct Collection {
    pub garbage: Vec<Garbage>,
    /// What only a size budget removes ([`Why::IdleWorkspace`], [`Why::KeptResult`]).
    pub evictable: Vec<Garbage>,
    pub kept: Vec<(String, usize, u64)>,
}

impl Collection {
    /// What to remove to bring a cache of `total` bytes (as [`disk_usage`] counts them) within
    /// `budget` bytes, in the order of the module doc (everything there may not suffice), and
    /// the cache's size after removing it.
    pub fn within(&self, total: u64, budget: u64) -> (Vec<Garbage>, u64) {
        let rank = |g: &Garbage| match g.why {
            Why::DeadStaging
            | Why::Corrupt
            | Why::StaleWorkspace
            | Why::ForgottenPipeline
            | Why::UnusedKeyOutput => 0,
            Why::IdleWorkspace => 1,
            Why::Unreachable => 2,
            Why::KeptResult => 3,
        };
        let mut candidates: Vec<&Garbage> = self.garbage.iter().chain(&self.evictable).collect();
        candidates.sort_by_key(|g| (rank(g), g.used));
        let mut removal = Removal::default();
        let mut chosen = Vec::new();
        for candidate in candidates {
            if total.saturating_sub(removal.freed()) <= budget {
                break;
            }
            removal.add(&candidate.path);
            chosen.push(candidate.clone());
        }
        (chosen, total.saturating_sub(removal.freed()))
    }
}

/// What `gc` would remove, keeping the pipelines named in `keep` (all when empty), the results
/// of each one's `recent_runs` most recent runs, and the results `protected` names.
pub fn find(
    store: &Store,
    keep: &[String],
    recent_runs: usize,
    protected: &[Protected],
) -> anyhow::Result<Collection> {
    let manifests = store.manifests()?;
    for name in keep {
        if !manifests.iter().any(|m| &m.pipeline == name) {
            let known: Vec<&str> = manifests.iter().map(|m| m.pipeline.as_str()).collect();
            bail!(
                "pipeline `{name}` has not run with this cache (pipelines: {})",
                known.join(", ")
            );
        }
    }
    let kept: Vec<&Manifest> =
        manifests.iter().filter(|m| keep.is_empty() || keep.contains(&m.pipeline)).collect();
    let keepers = Keepers::of(store, &kept, recent_runs, protected)?;
    let reachable: HashSet<StageKey> = keepers.by.keys().cloned().collect();
    let mut garbage = Vec::new();
    let mut evictable = Vec::new();
    for entry in read_dir(&store.entries_dir())? {
        let key = entry.file_name().to_string_lossy().into_owned();
        let stage = || store.entry(&key).ok().flatten().map(|e| e.record.stage);
        if !reachable.contains(key.as_str()) {
            garbage.push(found(entry.path(), Why::Unreachable, stage()));
        } else if !keepers.by_refs.contains(key.as_str()) {
            evictable.push(found(entry.path(), Why::KeptResult, stage()));
        }
    }
    for workspace in read_dir(&store.workspaces_dir())? {
        // A workspace that does not say whose it is is kept: it cannot be told from a live one.
        let Some(owner) = store.workspace_owner(&workspace.path()) else { continue };
        match workspace_fate(store, &owner, &reachable, &keepers.current) {
            Some(why @ Why::StaleWorkspace) => {
                garbage.push(found(workspace.path(), why, Some(owner.stage)))
            }
            Some(why) => evictable.push(found(workspace.path(), why, Some(owner.stage))),
            None => {}
        }
    }
    for corrupt in read_dir(&store.root().join("corrupt"))? {
        garbage.push(found(corrupt.path(), Why::Corrupt, None));
    }
    for staging in read_dir(&store.root().join("staging"))? {
        garbage.push(found(staging.path(), Why::DeadStaging, None));
    }
    for forgotten in manifests.iter().filter(|m| !keep.is_empty() && !keep.contains(&m.pipeline)) {
        let dir = store.manifest_dir(&forgotten.pipeline);
        garbage.push(found(dir, Why::ForgottenPipeline, None));
    }
    for output in unused_key_outputs(store, &reachable)? {
        garbage.push(found(output, Why::UnusedKeyOutput, None));
    }
    Ok(Collection { garbage, evictable, kept: keepers.summary(store) })
}

fn found(path: PathBuf, why: Why, stage: Option<String>) -> Garbage {
    let used = modified(&path);
    Garbage { bytes: size_of(&path), path, why, stage, used }
}

/// Who keeps which result.
struct Keepers {
    /// Key → who keeps it, the first reason found: the file as written, the refs, recent runs.
    by: BTreeMap<StageKey, String>,
    /// The keys the refs of the kept pipelines name.
    by_refs: HashSet<StageKey>,
    /// (pipeline, stage instance) of every stage of the kept pipelines.
    current: HashSet<(String, String)>,
}

impl Keepers {
    fn of(
        store: &Store,
        kept: &[&Manifest],
        recent_runs: usize,
        protected: &[Protected],
    ) -> anyhow::Result<Keepers> {
        let mut by: BTreeMap<StageKey, String> = BTreeMap::new();
        for p in protected {
            by.entry(p.key.clone()).or_insert_with(|| p.by.clone());
        }
        let mut current = HashSet::new();
        let mut by_refs = HashSet::new();
        for manifest in kept {
            let keeper = format!("the refs of {} (its last run)", manifest.pipeline);
            for stage in &manifest.stages {
                if let Some(key) = store.read_ref(&manifest.pipeline, &stage.instance) {
                    by_refs.insert(key.clone());
                    by.entry(key).or_insert_with(|| keeper.clone());
                }
                current.insert((manifest.pipeline.clone(), stage.instance.clone()));
            }
        }
        let names: HashSet<&str> = kept.iter().map(|m| m.pipeline.as_str()).collect();
        let mut runs = store.runs()?;
        runs.reverse(); // newest first
        let mut per_pipeline: BTreeMap<&str, usize> = BTreeMap::new();
        for run in runs.iter().filter(|r| names.contains(r.pipeline.as_str())) {
            let count = per_pipeline.entry(&run.pipeline).or_default();
            *count += 1;
            if *count > recent_runs {
                continue;
            }
            let sets = if run.overrides.is_empty() {
                String::new()
            } else {
                format!(" with --set {}", run.overrides.join(" --set "))
            };
            let keeper =
                format!("the run of {} at {}{sets}", run.pipeline, format_time(run.started));
            for key in run.keys() {
                by.entry(key.clone()).or_insert_with(|| keeper.clone());
            }
        }
        Ok(Keepers { by, by_refs, current })
    }

    /// Per keeper, the results it keeps that exist and their bytes.
    fn summary(&self, store: &Store) -> Vec<(String, usize, u64)> {
        let mut kept: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
        for (key, by) in &self.by {
            let dir = store.entries_dir().join(key);
            if dir.exists() {
                let entry = kept.entry(by).or_default();
                entry.0 += 1;
                entry.1 += size_of(&dir);
            }
        }
        kept.into_iter().map(|(by, (n, bytes))| (by.to_string(), n, bytes)).collect()
    }
}

/// What becomes of a workspace: garbage ([`Why::StaleWorkspace`]), evictable under a budget
/// ([`Why::IdleWorkspace`]), or kept (`None`: a run that died and will resume).
fn workspace_fate(
    store: &Store,
    owner: &WorkspaceOwner,
    reachable: &HashSet<StageKey>,
    current: &HashSet<(String, String)>,
) -> Option<Why> {
    let published = |key: &str| store.entries_dir().join(key).exists();
    if published(&owner.key) {
        return Some(if reachable.contains(&owner.key) {
            Why::IdleWorkspace
        } else {
            Why::StaleWorkspace
        });
    }
    // A run that died: live while its stage is current and has not since completed under other
    // inputs or parameters.
    let superseded = store
        .read_ref(&owner.pipeline, &owner.stage)
        .is_some_and(|r| r != owner.key && published(&r));
    let live = current.contains(&(owner.pipeline.clone(), owner.stage.clone())) && !superseded;
    (!live).then_some(Why::StaleWorkspace)
}

/// The files of `key-outputs/` whose digest no fingerprint of the `kept` results names (their
/// records are read only when there is such a folder).
fn unused_key_outputs(store: &Store, kept: &HashSet<StageKey>) -> anyhow::Result<Vec<PathBuf>> {
    let outputs = read_dir(&store.key_outputs_dir())?;
    if outputs.is_empty() {
        return Ok(Vec::new());
    }
    let mut named: HashSet<String> = HashSet::new();
    for key in kept {
        if let Some(entry) = store.entry(key)? {
            named.extend(entry.record.fingerprint.commands.into_values());
        }
    }
    Ok(outputs
        .into_iter()
        .filter(|file| {
            let name = file.file_name().to_string_lossy().into_owned();
            !name.strip_suffix(".txt").is_some_and(|digest| named.contains(digest))
        })
        .map(|file| file.path())
        .collect())
}

/// When `path` was last modified (a workspace's `owner.json` is rewritten each time it is used).
fn modified(path: &Path) -> u64 {
    let owner = path.join("owner.json");
    let meta = fs::metadata(&owner).or_else(|_| fs::metadata(path));
    meta.and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// Removes `garbage`; fails without removing anything while a run uses the cache.
pub fn remove(store: &Store, garbage: &[Garbage]) -> anyhow::Result<()> {
    let Some(_lock) = store.try_lock_exclusive()? else {
        bail!(
            "a run is using the cache {}; run `ablate gc` again when it has finished",
            store.root().display()
        );
    };
    for item in garbage {
        let removed = if item.path.is_dir() {
            fs::remove_dir_all(&item.path)
        } else {
            fs::remove_file(&item.path)
        };
        match removed {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove {}", item.path.display()));
            }
        }
        if item.why == Why::Unreachable
            && let Some(key) = item.path.file_name()
        {
            let _ = fs::remove_file(
                store.root().join("locks").join(format!("{}.lock", key.to_string_lossy())),
            );
        }
    }
    Ok(())
}

fn read_dir(dir: &Path) -> anyhow::Result<Vec<fs::DirEntry>> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries.flatten().collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot list {}", dir.display())),
    }
}

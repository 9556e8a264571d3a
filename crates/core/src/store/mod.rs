//! The content-addressed result store under `cache/`.
//!
//! ```text
//! cache/
//!   entries/<key>/            one published result, never modified after publishing
//!     record.json             fingerprint, output digest, timings, summary
//!     out/                    the artifact downstream stages read
//!     metrics.parquet         metrics in long format (kept out of the output digest)
//!   staging/<key>.<pid>.<n>/  results under construction
//!   work/<workspace key>/     private state of stages that resume (training checkpoints), with
//!                             owner.json naming the pipeline, stage and key it was last used for
//!   locks/<key>.lock          per-key locks (flock) between concurrent runs
//!   locks/cache.lock          held shared by every run, exclusively by `ablate gc`
//!   refs/<pipeline>/<stage>   key of the last result of each stage instance (see `refs`)
//!   refs/<pipeline>/manifest.json   the pipeline's stages and variants at its last run
//!   toolchain/<digest>.json   the versions a torch worker binary reports (see `toolchain`)
//!   key-outputs/<digest>.txt  what a key command printed (`key_cmd`: `pip freeze`), by the
//!                             digest keys hold, to explain a change (see `key_commands`)
//!   runs/                     one summary per `ablate run`
//!   slurm/                    submissions of `ablate run --executor slurm` (see `slurm`)
//!   stat-cache                file stat → digest memo
//! ```
//!
//! Publishing is a `rename` of a complete staging folder, so a crash leaves either nothing or a
//! whole entry, never a partial one. Two runs that need the same key serialise on its lock; the
//! second finds the first's entry and reuses it instead of computing it again.
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

mod refs;

pub use refs::{PipelineRefs, RefEntry};

use anyhow::{Context, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::digest::{hash_dir, hash_file};
use crate::fingerprint::Previous;
use crate::fingerprint::{Fingerprint, StageKey};
use crate::run_record::{Outcome, RunReport};

const OWNER: &str = "owner.json";
/// A result's metrics, beside its `out/`.
pub const METRICS: &str = "metrics.parquet";
/// A result's record, beside its `out/`.
pub const RECORD: &str = "record.json";

/// What `verify_all` found.
pub struct Verification {
    pub verified: usize,
    /// Results whose `metrics.parquet` predates metrics digests: their metrics are not checked.
    pub metrics_unchecked: usize,
    /// Key and what is wrong with it.
    pub corrupt: Vec<(String, anyhow::Error)>,
}

/// The stage a workspace was last used for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceOwner {
    pub pipeline: String,
    pub stage: String,
    pub key: StageKey,
}

/// What is stored beside each result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub key: StageKey,
    pub pipeline: String,
    pub stage: String,
    pub fingerprint: Fingerprint,
    /// Digest of `out/`; downstream fingerprints chain on it.
    pub output: String,
    /// Digest of `metrics.parquet` (kept out of `output`, so that timings do not defeat early
    /// cutoff, but covered all the same); `None` without metrics, and in records written before
    /// metrics were digested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub seconds: f64,
    pub summary: Option<String>,
}

pub struct Store {
    root: PathBuf,
    writable: bool,
}

/// A published result.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
    pub record: Record,
}

impl Entry {
    pub fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }
}

/// Exclusive right to compute one key; released when dropped (or when the process dies).
pub struct KeyLock {
    _file: fs::File,
}

/// A folder being filled with a result; removed unless published.
pub struct Staging {
    pub dir: PathBuf,
    key: StageKey,
}

impl Staging {
    pub fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

const FOLDERS: [&str; 6] = ["entries", "staging", "work", "locks", "refs", "runs"];

impl Store {
    /// The cache at `root`, created if missing (`ablate run`). A cache that cannot be written
    /// (a read-only mount, say) opens read-only: what is cached can be read and reused, refs and
    /// run records are not written, and a stage that must run fails when it publishes.
    pub fn open(root: &Path) -> anyhow::Result<Store> {
        if !root.join("entries").is_dir() {
            for sub in FOLDERS {
                fs::create_dir_all(root.join(sub)).with_context(|| {
                    format!("cannot create cache folder {}", root.join(sub).display())
                })?;
            }
        }
        Store::existing(root)
    }

    /// The cache at `root`, which must exist: commands that only read results never create
    /// an empty cache where a mistyped `--cache` points.
    pub fn existing(root: &Path) -> anyhow::Result<Store> {
        if !root.join("entries").is_dir() {
            return Err(anyhow::Error::new(crate::diagnostic::Invalid(format!(
                "there is no cache at {} (no runs yet): `ablate run` makes one; check --cache or \
                 ABLATE_CACHE (default `cache`)",
                root.display()
            ))));
        }
        let lock = root.join("locks").join("cache.lock");
        let writable = fs::create_dir_all(root.join("locks")).is_ok()
            && fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock).is_ok();
        let store = Store { root: root.to_path_buf(), writable };
        if writable {
            for sub in FOLDERS {
                let _ = fs::create_dir_all(root.join(sub));
            }
            store.migrate_refs();
        }
        Ok(store)
    }

    /// The cache at `root` for planning: the existing one, or, where there is none, an empty
    /// one that is not created (nothing is written).
    pub fn for_planning(root: &Path) -> anyhow::Result<Store> {
        if root.join("entries").is_dir() {
            Store::existing(root)
        } else {
            Ok(Store { root: root.to_path_buf(), writable: false })
        }
    }

    /// Whether results, refs and records can be written.
    pub fn writable(&self) -> bool {
        self.writable
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn entries_dir(&self) -> PathBuf {
        self.root.join("entries")
    }

    /// The published result for `key`, if any.
    pub fn entry(&self, key: &str) -> anyhow::Result<Option<Entry>> {
        let dir = self.entries_dir().join(key);
        let bytes = match fs::read(dir.join("record.json")) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context(format!("cannot read cache entry {}", dir.display())),
        };
        let record: Record = serde_json::from_slice(&bytes)
            .with_context(|| format!("corrupt record in cache entry {}", dir.display()))?;
        Ok(Some(Entry { dir, record }))
    }

    /// Re-hashes an entry's output, and its metrics where its record has their digest, and
    /// compares them with its record.
    pub fn verify(&self, entry: &Entry) -> anyhow::Result<()> {
        let actual = hash_dir(&entry.out_dir()).context("cannot read cached output")?;
        if actual != entry.record.output {
            bail!(
                "cache entry {} is corrupt: its output digest is {actual}, its record says {}",
                entry.dir.display(),
                entry.record.output
            );
        }
        let metrics = entry.dir.join(METRICS);
        match (&entry.record.metrics, metrics.exists()) {
            (Some(recorded), true) => {
                let actual = hash_file(&metrics).context("cannot read cached metrics")?;
                if &actual != recorded {
                    bail!(
                        "cache entry {} is corrupt: the digest of its {METRICS} is {actual}, its record says {recorded}",
                        entry.dir.display()
                    );
                }
            }
            (Some(_), false) => {
                bail!("cache entry {} is corrupt: its {METRICS} is missing", entry.dir.display())
            }
            (None, _) => {}
        }
        Ok(())
    }

    /// Re-hashes every published result, in parallel.
    pub fn verify_all(&self) -> anyhow::Result<Verification> {
        let keys: Vec<String> = fs::read_dir(self.entries_dir())?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let checked: Vec<(String, anyhow::Result<bool>)> = keys
            .par_iter()
            .map(|key| {
                let checked = self.entry(key).and_then(|entry| match entry {
                    Some(entry) => self
                        .verify(&entry)
                        .map(|()| {
                            entry.record.metrics.is_none() && entry.dir.join(METRICS).exists()
                        })
                        .with_context(|| {
                            let Record { pipeline, stage, .. } = &entry.record;
                            format!("stage `{stage}` of pipeline `{pipeline}`")
                        }),
                    None => Err(anyhow::anyhow!("its record is missing")),
                });
                (key.clone(), checked)
            })
            .collect();
        let metrics_unchecked = checked.iter().filter(|(_, c)| matches!(c, Ok(true))).count();
        let corrupt = checked
            .into_iter()
            .filter_map(|(key, checked)| checked.err().map(|error| (key, error)))
            .collect();
        Ok(Verification { verified: keys.len(), metrics_unchecked, corrupt })
    }

    /// Moves a corrupt entry aside so that its key is computed again.
    pub fn quarantine(&self, key: &str) -> anyhow::Result<()> {
        let corrupt = self.root.join("corrupt");
        fs::create_dir_all(&corrupt)?;
        let target = corrupt.join(format!("{key}.{}", std::process::id()));
        fs::rename(self.entries_dir().join(key), target)?;
        Ok(())
    }

    pub fn lock(&self, key: &str) -> anyhow::Result<KeyLock> {
        let file = self.open_lock(key)?;
        file.lock().with_context(|| format!("cannot lock the result {key}"))?;
        Ok(KeyLock { _file: file })
    }

    /// Held by a run for its whole duration, so that `gc` never removes what a run may read.
    /// A read-only cache's lock is taken through a read-only descriptor, when there is one.
    pub fn lock_shared(&self) -> anyhow::Result<Option<KeyLock>> {
        let file = if self.writable {
            self.open_lock("cache")?
        } else {
            match fs::File::open(self.root.join("locks").join("cache.lock")) {
                Ok(file) => file,
                Err(_) => return Ok(None),
            }
        };
        file.lock_shared().context("cannot lock the cache")?;
        Ok(Some(KeyLock { _file: file }))
    }

    /// The cache to itself, or `None` while a run holds it.
    pub fn try_lock_exclusive(&self) -> anyhow::Result<Option<KeyLock>> {
        let file = self.open_lock("cache")?;
        match file.try_lock() {
            Ok(()) => Ok(Some(KeyLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e).context("cannot lock the cache"),
        }
    }

    fn open_lock(&self, name: &str) -> anyhow::Result<fs::File> {
        let path = self.root.join("locks").join(format!("{name}.lock"));
        fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open lock {}", path.display()))
    }

    /// The workspace folder of a workspace key (see `stage::Workspace`), created if missing and
    /// marked as used by `owner`.
    pub fn workspace(
        &self,
        workspace_key: &str,
        owner: &WorkspaceOwner,
    ) -> anyhow::Result<PathBuf> {
        let dir = self.workspaces_dir().join(workspace_key);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        write_atomically(&dir.join(OWNER), &serde_json::to_vec(owner)?)?;
        Ok(dir)
    }

    pub fn workspaces_dir(&self) -> PathBuf {
        self.root.join("work")
    }

    /// The names (workspace keys) of the workspaces the store holds now.
    pub fn workspace_names(&self) -> HashSet<String> {
        let Ok(entries) = fs::read_dir(self.workspaces_dir()) else { return HashSet::new() };
        entries.flatten().filter_map(|e| e.file_name().into_string().ok()).collect()
    }

    /// Who last used the workspace in `dir`, if it says.
    pub fn workspace_owner(&self, dir: &Path) -> Option<WorkspaceOwner> {
        serde_json::from_slice(&fs::read(dir.join(OWNER)).ok()?).ok()
    }

    pub fn staging(&self, key: &str) -> anyhow::Result<Staging> {
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.join("staging").join(format!("{key}.{}.{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("out"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Staging { dir, key: key.into() })
    }

    /// Writes the record, with the digests of the staged output and metrics, into the staging
    /// folder and renames it into place.
    pub fn publish(&self, staging: Staging, mut record: Record) -> anyhow::Result<Entry> {
        (record.output, record.metrics) = staged_digests(&staging)?;
        self.rename_into_place(staging, record)
    }

    /// Publishes a result made elsewhere (see `remote`) with its own record, once the staged
    /// output and metrics match the record's digests; a mismatch publishes nothing.
    pub fn adopt(&self, staging: Staging, record: Record) -> anyhow::Result<Entry> {
        let (output, metrics) = staged_digests(&staging)?;
        if output != record.output {
            bail!("its output digest is {output}, its record says {}", record.output);
        }
        if metrics != record.metrics {
            bail!(
                "the digest of its {METRICS} is {metrics:?}, its record says {:?}",
                record.metrics
            );
        }
        self.rename_into_place(staging, record)
    }

    fn rename_into_place(&self, staging: Staging, record: Record) -> anyhow::Result<Entry> {
        write_atomically(&staging.dir.join("record.json"), &serde_json::to_vec_pretty(&record)?)?;
        sync_dir(&staging.out_dir());
        sync_dir(&staging.dir);
        let target = self.entries_dir().join(&staging.key);
        fs::rename(&staging.dir, &target)
            .with_context(|| format!("cannot publish cache entry {}", target.display()))?;
        sync_dir(&self.entries_dir());
        Ok(Entry { dir: target, record })
    }

    /// Removes this process's staging folders (an interrupted run, whose `Staging` guards do
    /// not get to run).
    pub fn remove_own_staging(&self) {
        let Ok(dirs) = fs::read_dir(self.root.join("staging")) else { return };
        let own = format!(".{}.", std::process::id());
        for dir in dirs.flatten() {
            if dir.file_name().to_string_lossy().contains(&own) {
                let _ = fs::remove_dir_all(dir.path());
            }
        }
    }

    /// Removes staging folders left behind by runs that died (their locks are free).
    pub fn clean_staging(&self) {
        let Ok(dirs) = fs::read_dir(self.root.join("staging")) else { return };
        for dir in dirs.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            let key = name.split('.').next().unwrap_or_default();
            let lock_path = self.root.join("locks").join(format!("{key}.lock"));
            let Ok(file) =
                fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)
            else {
                continue;
            };
            if file.try_lock().is_ok() {
                let _ = fs::remove_dir_all(dir.path());
            }
        }
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// The recorded runs, oldest first; unreadable records are skipped. A run that has not
    /// ended (it runs, or was killed) has the outcomes of its journal.
    pub fn runs(&self) -> anyhow::Result<Vec<RunReport>> {
        // Runs that started in the same second are ordered by when their record was written.
        let mut runs: Vec<(u64, std::time::SystemTime, RunReport)> = fs::read_dir(self.runs_dir())?
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|e| e == "json"))
            .filter_map(|entry| {
                let written = entry.metadata().and_then(|m| m.modified()).ok()?;
                let mut report: RunReport =
                    serde_json::from_slice(&fs::read(entry.path()).ok()?).ok()?;
                if !report.ended {
                    self.apply_journal(&mut report);
                }
                Some((report.started, written, report))
            })
            .collect();
        runs.sort_by_key(|(started, written, _)| (*started, *written));
        Ok(runs.into_iter().map(|(_, _, report)| report).collect())
    }

    /// What a key command printed, by the digest of its output, where it is kept.
    pub fn key_output(&self, digest: &str) -> Option<String> {
        fs::read_to_string(self.key_outputs_dir().join(format!("{digest}.txt"))).ok()
    }

    /// Keeps what a key command printed under its digest (not in a read-only cache; a few
    /// kilobytes once per distinct output, which `gc` leaves: explanations read old ones).
    pub fn keep_key_output(&self, digest: &str, text: &str) -> anyhow::Result<()> {
        let path = self.key_outputs_dir().join(format!("{digest}.txt"));
        if !self.writable || path.exists() {
            return Ok(());
        }
        fs::create_dir_all(self.key_outputs_dir())?;
        write_atomically(&path, text.as_bytes())
    }

    pub(crate) fn key_outputs_dir(&self) -> PathBuf {
        self.root.join("key-outputs")
    }

    /// What the store knows of the last result of `stage` of `pipeline` (see `why_dirty`).
    pub fn last_result(&self, pipeline: &str, stage: &str) -> anyhow::Result<Previous> {
        self.previous(self.read_ref(pipeline, stage))
    }

    /// What the store knows of the result a ref names (`None`: there is no ref).
    pub fn previous(&self, key: Option<StageKey>) -> anyhow::Result<Previous> {
        let Some(key) = key else { return Ok(Previous::None) };
        Ok(match self.entry(&key)? {
            Some(entry) => Previous::Result { key, fingerprint: entry.record.fingerprint },
            None => Previous::Gone { key },
        })
    }

    /// Records a run's report in `runs/`, for `ablate status` (not in a read-only cache): at its
    /// start (`ended` false) and when it ends, which replaces the first and its journal.
    pub fn write_run(&self, report: &RunReport) -> anyhow::Result<()> {
        if !self.writable {
            return Ok(());
        }
        write_atomically(&self.run_file(report, "json"), &serde_json::to_vec_pretty(report)?)?;
        if report.ended {
            let _ = fs::remove_file(self.run_file(report, "journal"));
        }
        Ok(())
    }

    /// Appends how `stage` ended to the journal of a run in progress (one JSON line, not
    /// synced: a journal only matters for a run that never writes its final record).
    pub fn journal_outcome(&self, report: &RunReport, stage: &str, outcome: &Outcome) {
        if !self.writable {
            return;
        }
        let Ok(mut line) = serde_json::to_vec(&(stage, outcome)) else { return };
        line.push(b'\n');
        let file =
            fs::OpenOptions::new().create(true).append(true).open(self.run_file(report, "journal"));
        if let Ok(mut file) = file {
            let _ = io::Write::write_all(&mut file, &line);
        }
    }

    fn run_file(&self, report: &RunReport, extension: &str) -> PathBuf {
        self.runs_dir().join(format!("{}-{}.{extension}", report.started, report.pid))
    }

    fn apply_journal(&self, report: &mut RunReport) {
        let Ok(text) = fs::read_to_string(self.run_file(report, "journal")) else { return };
        for (stage, outcome) in
            text.lines().filter_map(|l| serde_json::from_str::<(String, Outcome)>(l).ok())
        {
            if let Some(entry) = report.stages.iter_mut().find(|(name, _)| *name == stage) {
                entry.1 = outcome;
            }
        }
    }
}

/// The digests of a staged output and of its metrics, if any.
fn staged_digests(staging: &Staging) -> anyhow::Result<(String, Option<String>)> {
    let output = hash_dir(&staging.out_dir()).context("cannot hash stage output")?;
    let metrics = staging.dir.join(METRICS);
    let metrics = match metrics.exists() {
        true => Some(hash_file(&metrics).context("cannot hash stage metrics")?),
        false => None,
    };
    Ok((output, metrics))
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    io::Write::write_all(&mut tmp, bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(file) = fs::File::open(dir) {
        let _ = file.sync_all();
    }
}

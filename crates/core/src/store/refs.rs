//! Refs and manifests: `refs/<pipeline>/<instance>` holds the key of a stage instance's last
//! result with the definition it was made under ([`RefEntry`]), `refs/<pipeline>/manifest.json`
//! what the pipeline consisted of at its last run (see `manifest`),
//! `refs/<pipeline>/extra-seeds.json` the seeds `run --until-ci` added (see `grid::ExtraSeeds`). Folder and file names come from `names::file_name`, so every pipeline and
//! instance name has its own, whatever it holds, and none leaves its folder. Caches written
//! before kept refs under a lossy name (`p q` and `p_q` shared one); opening a writable cache
//! moves those refs once, by the names their manifest lists.
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::{Store, write_atomically};
use crate::clock::unix_seconds;
use crate::fingerprint::StageKey;
use crate::grid::ExtraSeeds;
use crate::manifest::Manifest;
use crate::names::file_name;
use crate::pipeline::Pipeline;

const MANIFEST: &str = "manifest.json";
/// Instances' ref files hold a `~`, so neither name is ever a ref's.
const EXTRA_SEEDS: &str = "extra-seeds.json";

/// What `refs/<pipeline>/<instance>` records: the key of the instance's last result and the
/// configuration it was made under, so that a table can tell a current row from a stale one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefEntry {
    pub key: StageKey,
    /// The instance's [`Pipeline::definition`] when the result was recorded; `None` in refs
    /// written before definitions were (a plain key).
    #[serde(default)]
    pub definition: Option<String>,
    /// Seconds since the Unix epoch when the result was first recorded under this definition.
    #[serde(default)]
    pub written: u64,
    /// The `--set` overrides of the run that recorded it.
    #[serde(default)]
    pub overrides: Vec<String>,
}

impl RefEntry {
    /// The ref of `key` as the result of `stage` of `pipeline` as loaded now.
    pub fn of(pipeline: &Pipeline, stage: &str, key: &str) -> RefEntry {
        RefEntry {
            key: key.into(),
            definition: Some(pipeline.definition(stage)),
            written: unix_seconds(),
            overrides: pipeline.overrides.clone(),
        }
    }

    fn parse(text: &str) -> Option<RefEntry> {
        let text = text.trim();
        if text.starts_with('{') {
            return serde_json::from_str(text).ok();
        }
        let key = (!text.is_empty()).then(|| text.into())?;
        Some(RefEntry { key, definition: None, written: 0, overrides: Vec::new() })
    }
}

/// The refs of one pipeline, its folder listed once: a plan looks up the ref of each of
/// thousands of stages, most of which have none, and opens only those that exist.
pub struct PipelineRefs {
    dir: PathBuf,
    /// The names of the files in the folder.
    files: HashSet<String>,
}

impl PipelineRefs {
    /// The key of the last result of `stage`, if any (as [`Store::read_ref`] reads it).
    pub fn read(&self, stage: &str) -> Option<StageKey> {
        let file = file_name(stage);
        if !self.files.contains(&file) {
            return None;
        }
        RefEntry::parse(&fs::read_to_string(self.dir.join(file)).ok()?).map(|r| r.key)
    }
}

impl Store {
    /// The refs of `pipeline` as they are now.
    pub fn pipeline_refs(&self, pipeline: &str) -> PipelineRefs {
        let dir = self.manifest_dir(pipeline);
        let files = match fs::read_dir(&dir) {
            Ok(entries) => entries.flatten().filter_map(|e| e.file_name().into_string().ok()),
            Err(_) => return PipelineRefs { dir, files: HashSet::new() },
        };
        PipelineRefs { files: files.collect(), dir }
    }

    /// The key of the last result of `stage` of `pipeline`, if any.
    pub fn read_ref(&self, pipeline: &str, stage: &str) -> Option<StageKey> {
        self.read_ref_entry(pipeline, stage).map(|r| r.key)
    }

    /// What the ref of `stage` of `pipeline` records, if there is one.
    pub fn read_ref_entry(&self, pipeline: &str, stage: &str) -> Option<RefEntry> {
        RefEntry::parse(&fs::read_to_string(self.ref_path(pipeline, stage)).ok()?)
    }

    /// Records `entry` as the last result of `stage` of `pipeline` (not in a read-only cache);
    /// a ref that already names its key under its definition is left alone, so that a no-op run
    /// syncs nothing to disk and the ref keeps when the result was first recorded.
    pub fn write_ref(&self, pipeline: &str, stage: &str, entry: &RefEntry) -> anyhow::Result<()> {
        let same = |old: RefEntry| old.key == entry.key && old.definition == entry.definition;
        if !self.writable || self.read_ref_entry(pipeline, stage).is_some_and(same) {
            return Ok(());
        }
        let path = self.ref_path(pipeline, stage);
        fs::create_dir_all(path.parent().expect("refs have a parent"))?;
        write_atomically(&path, &serde_json::to_vec(entry)?)
    }

    /// Records what `manifest.pipeline` consists of (see `manifest`); returns the manifest it
    /// replaces, if any. One that differs from the stored one only in when it was written is
    /// not written again (it dates the run that recorded this layout, file and overrides).
    pub fn write_manifest(&self, manifest: &Manifest) -> anyhow::Result<Option<Manifest>> {
        let path = self.manifest_dir(&manifest.pipeline).join(MANIFEST);
        let previous = read_manifest(&path)?;
        let unchanged = previous
            .as_ref()
            .is_some_and(|p| Manifest { written: manifest.written, ..p.clone() } == *manifest);
        if self.writable && !unchanged {
            fs::create_dir_all(path.parent().expect("refs have a parent"))?;
            write_atomically(&path, &serde_json::to_vec(manifest)?)?;
        }
        Ok(previous)
    }

    /// The seeds `run --until-ci` added to variants of `pipeline` (none when it added none).
    pub fn extra_seeds(&self, pipeline: &str) -> anyhow::Result<ExtraSeeds> {
        let path = self.manifest_dir(pipeline).join(EXTRA_SEEDS);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "corrupt record of extra seeds {} (remove it to forget them)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ExtraSeeds::default()),
            Err(e) => Err(e).context(format!("cannot read {}", path.display())),
        }
    }

    /// Records the seeds variants of `pipeline` run beyond its grid's (not in a read-only cache).
    pub fn write_extra_seeds(&self, pipeline: &str, extra: &ExtraSeeds) -> anyhow::Result<()> {
        if !self.writable {
            return Ok(());
        }
        let path = self.manifest_dir(pipeline).join(EXTRA_SEEDS);
        fs::create_dir_all(path.parent().expect("refs have a parent"))?;
        write_atomically(&path, &serde_json::to_vec(extra)?)
    }

    /// The manifests of every pipeline run with this cache, by pipeline name.
    pub fn manifests(&self) -> anyhow::Result<Vec<Manifest>> {
        let mut manifests = Vec::new();
        for dir in fs::read_dir(self.refs_dir())?.flatten() {
            manifests.extend(read_manifest(&dir.path().join(MANIFEST))?);
        }
        manifests.sort_by(|a: &Manifest, b| a.pipeline.cmp(&b.pipeline));
        Ok(manifests)
    }

    fn refs_dir(&self) -> PathBuf {
        self.root.join("refs")
    }

    /// The folder of a pipeline's refs and manifest.
    pub fn manifest_dir(&self, pipeline: &str) -> PathBuf {
        self.refs_dir().join(file_name(pipeline))
    }

    fn ref_path(&self, pipeline: &str, stage: &str) -> PathBuf {
        self.manifest_dir(pipeline).join(file_name(stage))
    }

    /// Moves the refs of a cache written before refs had injective names (see the module doc).
    pub(super) fn migrate_refs(&self) {
        let Ok(dirs) = fs::read_dir(self.refs_dir()) else { return };
        for dir in dirs.flatten() {
            let old = dir.path();
            if dir.file_name().to_string_lossy().contains('~') {
                continue;
            }
            let Ok(Some(manifest)) = read_manifest(&old.join(MANIFEST)) else { continue };
            let new = self.manifest_dir(&manifest.pipeline);
            if !new.join(MANIFEST).exists() {
                for stage in &manifest.stages {
                    let from = old.join(legacy_file_name(&stage.instance));
                    if let Some(entry) =
                        fs::read_to_string(from).ok().and_then(|t| RefEntry::parse(&t))
                    {
                        let _ = self.write_ref(&manifest.pipeline, &stage.instance, &entry);
                    }
                }
                let _ = self.write_manifest(&manifest);
            }
            let _ = fs::remove_dir_all(old);
        }
    }
}

fn read_manifest(path: &std::path::Path) -> anyhow::Result<Option<Manifest>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("corrupt manifest {}", path.display()))?,
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context(format!("cannot read {}", path.display())),
    }
}

/// How refs were named before `names::file_name`: lossy.
fn legacy_file_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_=,".contains(c) { c } else { '_' })
        .collect()
}

//! Refs and manifests: `refs/<pipeline>/<instance>` holds the key of a stage instance's last
//! result, `refs/<pipeline>/manifest.json` what the pipeline consisted of at its last run (see
//! `manifest`). Folder and file names come from `names::file_name`, so every pipeline and
//! instance name has its own, whatever it holds, and none leaves its folder. Caches written
//! before kept refs under a lossy name (`p q` and `p_q` shared one); opening a writable cache
//! moves those refs once, by the names their manifest lists.
use std::fs;
use std::io;
use std::path::PathBuf;

use anyhow::Context;

use super::{Store, write_atomically};
use crate::fingerprint::StageKey;
use crate::manifest::Manifest;
use crate::names::file_name;

const MANIFEST: &str = "manifest.json";

impl Store {
    pub fn read_ref(&self, pipeline: &str, stage: &str) -> Option<StageKey> {
        fs::read_to_string(self.ref_path(pipeline, stage)).ok().map(|s| s.trim().to_string())
    }

    /// Records `key` as the last result of `stage` of `pipeline` (not in a read-only cache); a
    /// ref that already says so is left alone, so that a no-op run syncs nothing to disk.
    pub fn write_ref(&self, pipeline: &str, stage: &str, key: &str) -> anyhow::Result<()> {
        if !self.writable || self.read_ref(pipeline, stage).as_deref() == Some(key) {
            return Ok(());
        }
        let path = self.ref_path(pipeline, stage);
        fs::create_dir_all(path.parent().expect("refs have a parent"))?;
        write_atomically(&path, key.as_bytes())
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
                    if let Ok(key) = fs::read_to_string(from) {
                        let _ = self.write_ref(&manifest.pipeline, &stage.instance, key.trim());
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

//! A result as one archive: a tar of its cache entry but `record.json` (its `out/` folder,
//! `metrics.parquet`, a command stage's `log.txt`), files in sorted order with deterministic
//! headers (no owner, no times), so that one result packs to the same bytes on every machine.
//! Unpacking takes only plain files and folders inside the entry: anything else (links,
//! devices, `..`, absolute paths, a `record.json`) refuses the archive.
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

use crate::store::RECORD;

/// Writes the archive of the result in `entry_dir` into `into`.
pub(super) fn pack(entry_dir: &Path, into: impl Write) -> anyhow::Result<()> {
    let mut builder = tar::Builder::new(into);
    builder.mode(tar::HeaderMode::Deterministic);
    let mut files = Vec::new();
    collect(entry_dir, Path::new(""), &mut files)?;
    files.retain(|f| f != Path::new(RECORD));
    for relative in files {
        let path = entry_dir.join(&relative);
        let mut file = fs::File::open(&path)
            .with_context(|| format!("cannot read {} to upload it", path.display()))?;
        builder.append_file(&relative, &mut file)?;
    }
    builder.into_inner()?.flush()?;
    Ok(())
}

/// The files under `dir/relative`, as paths relative to `dir`, sorted (symbolic links to files
/// are packed as the files they name, as `hash_dir` reads them).
fn collect(dir: &Path, relative: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir.join(relative))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = relative.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            collect(dir, &path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Unpacks an archive into a staging folder (`out/` there already).
pub(super) fn unpack(archive: impl Read, staging: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let kind = entry.header().entry_type();
        if !allowed(&path) || !(kind.is_file() || kind.is_dir()) {
            bail!("the archive holds {} ({kind:?}), which no result holds", path.display());
        }
        let target = staging.join(&path);
        if kind.is_dir() {
            fs::create_dir_all(&target)?;
            continue;
        }
        fs::create_dir_all(target.parent().expect("inside the staging folder"))?;
        let file = fs::File::create(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        let mut file = io::BufWriter::with_capacity(1 << 18, file);
        io::copy(&mut entry, &mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        if let Ok(mode) = entry.header().mode() {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(mode & 0o755 | 0o600))?;
        }
    }
    Ok(())
}

/// A relative path without `..`, other than the record's.
fn allowed(path: &Path) -> bool {
    path != Path::new(RECORD) && path.components().all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_output_digest_and_packs_identically() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("entry");
        fs::create_dir_all(entry.join("out/sub")).unwrap();
        fs::write(entry.join("out/a.txt"), "a").unwrap();
        fs::write(entry.join("out/sub/b.bin"), [0u8, 1, 2]).unwrap();
        fs::write(entry.join(crate::store::METRICS), "m").unwrap();
        fs::write(entry.join(RECORD), "{}").unwrap();
        let (mut first, mut second) = (Vec::new(), Vec::new());
        pack(&entry, &mut first).unwrap();
        pack(&entry, &mut second).unwrap();
        assert_eq!(first, second);
        let staging = dir.path().join("staging");
        fs::create_dir_all(staging.join("out")).unwrap();
        unpack(first.as_slice(), &staging).unwrap();
        let digest = |d: &Path| crate::digest::hash_dir(&d.join("out")).unwrap();
        assert_eq!(digest(&entry), digest(&staging));
        assert_eq!(fs::read(staging.join(crate::store::METRICS)).unwrap(), b"m");
        assert!(!staging.join(RECORD).exists());
    }

    #[test]
    fn refuses_paths_outside_a_result() {
        for path in ["record.json", "out/../x", "/etc/passwd", "../a"] {
            assert!(!allowed(Path::new(path)), "{path}");
        }
        assert!(allowed(Path::new("out/a/b.txt")));
    }
}

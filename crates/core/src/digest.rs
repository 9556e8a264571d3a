//! Content digests of files and folders, with a stat cache so unchanged files are not re-read.
//!
//! Freshness is decided by content (blake3), never by modification time. The stat cache only
//! saves work: it remembers (size, mtime, ctime, inode) → digest per path, and a file whose stat
//! is unchanged is not hashed again. Entries are not trusted for files modified within the last
//! few seconds (the "racy git" problem: a second write within the timestamp's granularity
//! would keep the stat unchanged); such files are simply re-hashed next time.
//!
//! The stat cache is a text file with a line per file, `digest size mtime_ns ctime_ns inode
//! path` (the path is the rest of the line, its bytes as they are): a plan of a dataset of
//! thousands of images reads it in a millisecond or two, where JSON took several.
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use rayon::prelude::*;

use super::stage::InputFile;

const RACY_WINDOW: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stat {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
}

impl Stat {
    fn of(meta: &fs::Metadata) -> Stat {
        Stat {
            size: meta.len(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
            inode: meta.ino(),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    stat: Stat,
    digest: String,
}

/// Digests of external files, backed by a persistent stat cache.
pub struct FileDigests {
    path: PathBuf,
    entries: RwLock<HashMap<PathBuf, Entry>>,
    changed: Mutex<bool>,
}

impl FileDigests {
    /// Opens the stat cache at `path`; a missing or unreadable cache starts empty, and a line
    /// that does not parse is skipped (its file is hashed again).
    pub fn open(path: PathBuf) -> FileDigests {
        let entries = fs::read(&path).map(|bytes| parse_entries(&bytes)).unwrap_or_default();
        FileDigests { path, entries: RwLock::new(entries), changed: Mutex::new(false) }
    }

    /// Digest of one file's content.
    pub fn digest(&self, path: &Path) -> io::Result<String> {
        let meta = fs::metadata(path)?;
        let stat = Stat::of(&meta);
        if let Some(entry) = self.entries.read().expect("stat cache lock").get(path)
            && entry.stat == stat
        {
            return Ok(entry.digest.clone());
        }
        let digest = hash_file(path)?;
        let settled = meta.modified().ok().and_then(|m| SystemTime::now().duration_since(m).ok());
        if settled.is_some_and(|age| age > RACY_WINDOW) {
            self.entries
                .write()
                .expect("stat cache lock")
                .insert(path.to_path_buf(), Entry { stat, digest: digest.clone() });
            *self.changed.lock().expect("stat cache lock") = true;
        }
        Ok(digest)
    }

    /// Digests of many files, in parallel, keyed by label.
    pub fn digest_all(&self, files: &[InputFile]) -> anyhow::Result<BTreeMap<String, String>> {
        files
            .par_iter()
            .map(|file| {
                let digest = self
                    .digest(&file.path)
                    .with_context(|| format!("cannot read input file {}", file.path.display()))?;
                Ok((file.label.clone(), digest))
            })
            .collect()
    }

    /// Writes the stat cache back if it learned anything (atomically; last writer wins).
    pub fn save(&self) -> io::Result<()> {
        if !*self.changed.lock().expect("stat cache lock") {
            return Ok(());
        }
        let bytes = format_entries(&self.entries.read().expect("stat cache lock"));
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        io::Write::write_all(&mut tmp, &bytes)?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The stat cache's lines (see the module doc).
fn parse_entries(bytes: &[u8]) -> HashMap<PathBuf, Entry> {
    use std::os::unix::ffi::OsStrExt;
    let parse = |line: &[u8]| -> Option<(PathBuf, Entry)> {
        let mut fields = line.splitn(6, |&b| b == b' ');
        let mut text = || std::str::from_utf8(fields.next()?).ok();
        let digest = text()?.to_string();
        let stat = Stat {
            size: text()?.parse().ok()?,
            mtime_ns: text()?.parse().ok()?,
            ctime_ns: text()?.parse().ok()?,
            inode: text()?.parse().ok()?,
        };
        let path = fields.next().filter(|p| !p.is_empty())?;
        Some((PathBuf::from(std::ffi::OsStr::from_bytes(path)), Entry { stat, digest }))
    };
    bytes.split(|&b| b == b'\n').filter_map(parse).collect()
}

fn format_entries(entries: &HashMap<PathBuf, Entry>) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::with_capacity(entries.len() * 160);
    for (path, Entry { stat, digest }) in entries {
        let path = path.as_os_str().as_bytes();
        if path.contains(&b'\n') {
            continue; // a name with a line break is hashed each time instead
        }
        let Stat { size, mtime_ns, ctime_ns, inode } = stat;
        out.extend_from_slice(format!("{digest} {size} {mtime_ns} {ctime_ns} {inode} ").as_bytes());
        out.extend_from_slice(path);
        out.push(b'\n');
    }
    out
}

pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut file = fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Digest of a folder: relative paths, sizes and contents of all files, in sorted order.
pub fn hash_dir(root: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    collect_files(root, root, &mut files)?;
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for relative in files {
        let digest = hash_file(&root.join(&relative))?;
        let name = relative.to_string_lossy();
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(digest.as_bytes());
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root).expect("inside root").to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_not_mtime_decides() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        fs::write(&file, "one").unwrap();
        let digests = FileDigests::open(dir.path().join("stat-cache"));
        let first = digests.digest(&file).unwrap();
        fs::write(&file, "two").unwrap();
        assert_ne!(digests.digest(&file).unwrap(), first);
        fs::write(&file, "one").unwrap();
        assert_eq!(digests.digest(&file).unwrap(), first);
    }

    #[test]
    fn the_stat_cache_reads_back_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a name with spaces.txt");
        fs::write(&file, "one").unwrap();
        let cache = dir.path().join("stat-cache");
        let digests = FileDigests::open(cache.clone());
        let digest = digests.digest(&file).unwrap();
        // Fresh files are not remembered (racy window): remember this one as if settled.
        let stat = Stat::of(&fs::metadata(&file).unwrap());
        digests.entries.write().unwrap().insert(file.clone(), Entry { stat, digest });
        *digests.changed.lock().unwrap() = true;
        digests.save().unwrap();
        let mut text = fs::read(&cache).unwrap();
        text.extend_from_slice(b"not a line of the cache\n");
        fs::write(&cache, text).unwrap();
        let again = FileDigests::open(cache);
        let entries = again.entries.read().unwrap();
        assert_eq!(entries.len(), 1, "the malformed line is skipped");
        assert_eq!(entries[&file].stat, Stat::of(&fs::metadata(&file).unwrap()));
    }

    #[test]
    fn folder_digest_sees_names_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/a"), "x").unwrap();
        let first = hash_dir(dir.path()).unwrap();
        fs::rename(dir.path().join("sub/a"), dir.path().join("sub/b")).unwrap();
        let renamed = hash_dir(dir.path()).unwrap();
        assert_ne!(first, renamed);
        fs::write(dir.path().join("sub/b"), "y").unwrap();
        assert_ne!(hash_dir(dir.path()).unwrap(), renamed);
    }
}

//! ODIR-style dataset folders: `<split><suffix>.csv` with header `id,<label>…`, images under
//! `images/<split>/<id>`.
//!
//! Every row is checked before any image is decoded: the header, the number of fields, labels
//! that are exactly 0 or 1, unique ids, and ids that are plain file names (an id such as
//! `../../etc/passwd` must never be read). Errors name the file and line. An image that a
//! symbolic link resolves to outside the data root is refused too, before it is read.
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// One split's table as read from its CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub csv: PathBuf,
    pub label_names: Vec<String>,
    pub ids: Vec<String>,
    /// Row-major N×labels, 0 or 1.
    pub labels: Vec<u8>,
}

/// A dataset folder: its CSVs, and the images their ids name.
pub struct DataRoot {
    path: PathBuf,
    /// Without symbolic links, to tell where an image really is.
    canonical: PathBuf,
}

impl DataRoot {
    pub fn open(path: &Path) -> anyhow::Result<DataRoot> {
        if !path.is_dir() {
            bail!("data root {} is not a folder", path.display());
        }
        let canonical = path
            .canonicalize()
            .with_context(|| format!("cannot resolve data root {}", path.display()))?;
        Ok(DataRoot { path: path.to_path_buf(), canonical })
    }

    pub fn csv(&self, split: &str, suffix: &str) -> PathBuf {
        self.path.join(format!("{split}{suffix}.csv"))
    }

    /// The folder of a split's images, `images/<split>`.
    pub fn images(&self, split: &str) -> anyhow::Result<ImageFolder<'_>> {
        let path = self.path.join("images").join(split);
        // Resolved once: an image that is no link is where its folder is.
        if let Ok(real) = path.canonicalize() {
            self.check_inside(&path, &real)?;
        }
        // Which images are links, from one listing of the folder (the entries' types come with
        // the names), instead of an `lstat` per image. A folder that cannot be listed has no
        // links to follow: its missing images are reported where they are read.
        let links = std::fs::read_dir(&path)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
                    .map(|e| e.file_name())
                    .collect()
            })
            .unwrap_or_default();
        Ok(ImageFolder { root: self, path, links })
    }

    /// Refuses what symbolic links take outside the data root (a dataset must not make `load`
    /// read, say, a key file).
    fn check_inside(&self, path: &Path, real: &Path) -> anyhow::Result<()> {
        if !real.starts_with(&self.canonical) {
            bail!(
                "image {} resolves to {}, outside the data root {} (symbolic links may not leave it)",
                path.display(),
                real.display(),
                self.canonical.display()
            );
        }
        Ok(())
    }
}

/// The images of one split of a [`DataRoot`].
pub struct ImageFolder<'a> {
    root: &'a DataRoot,
    path: PathBuf,
    /// The names in the folder that are symbolic links.
    links: HashSet<OsString>,
}

impl ImageFolder<'_> {
    /// `images/<split>/<id>`, refused when a symbolic link takes it outside the data root. A
    /// missing image is reported where it is read. Only links are resolved, so that planning a
    /// dataset of thousands of images costs no system call per image here.
    pub fn image(&self, id: &str) -> anyhow::Result<PathBuf> {
        let path = self.path.join(id);
        if self.links.contains(OsStr::new(id))
            && let Ok(real) = path.canonicalize()
        {
            self.root.check_inside(&path, &real)?;
        }
        Ok(path)
    }
}

/// Reads a split's CSV, keeping at most `limit` rows (0: all).
pub fn read_table(csv: &Path, limit: usize) -> anyhow::Result<Table> {
    let file =
        std::fs::File::open(csv).with_context(|| format!("cannot open {}", csv.display()))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
    let mut records = reader.records();
    let header = match records.next() {
        Some(record) => {
            record.with_context(|| format!("{}:1: unreadable header", csv.display()))?
        }
        None => bail!("{}: empty file, expected a header `id,<labels>`", csv.display()),
    };
    let columns: Vec<String> = header.iter().map(|c| c.trim().to_string()).collect();
    if columns.first().map(String::as_str) != Some("id") || columns.len() < 2 {
        bail!("{}:1: header must be `id,<label>,…`, found `{}`", csv.display(), columns.join(","));
    }
    let label_names = columns[1..].to_vec();
    let mut ids = Vec::new();
    let mut labels = Vec::new();
    let mut first_line = HashMap::new();
    for record in records {
        if limit > 0 && ids.len() == limit {
            break;
        }
        let record = record.with_context(|| format!("{}: malformed CSV", csv.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = || format!("{}:{line}", csv.display());
        if record.len() != columns.len() {
            bail!(
                "{}: expected {} fields (`{}`), found {}",
                at(),
                columns.len(),
                columns.join(","),
                record.len()
            );
        }
        let id = record[0].trim();
        check_id(id).with_context(at)?;
        if let Some(first) = first_line.insert(id.to_string(), line) {
            bail!("{}: duplicate id `{id}` (first on line {first})", at());
        }
        for (name, value) in label_names.iter().zip(record.iter().skip(1)) {
            match value.trim() {
                "0" => labels.push(0),
                "1" => labels.push(1),
                other => bail!("{}: label {name} must be 0 or 1, found `{other}`", at()),
            }
        }
        ids.push(id.to_string());
    }
    if ids.is_empty() {
        bail!("{}: no rows after the header", csv.display());
    }
    Ok(Table { csv: csv.to_path_buf(), label_names, ids, labels })
}

/// An id names a file inside its split's folder, nothing else.
fn check_id(id: &str) -> anyhow::Result<()> {
    if id.is_empty() {
        bail!("empty id");
    }
    if id.contains(['/', '\\', '\0']) || id == "." || id == ".." || id.starts_with('.') {
        bail!(
            "id `{id}` is not a plain file name (ids may not contain path separators or start with `.`)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> anyhow::Result<Table> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.csv");
        std::fs::write(&path, text).unwrap();
        read_table(&path, 0)
    }

    fn error(text: &str) -> String {
        format!("{:#}", table(text).unwrap_err())
    }

    #[test]
    fn reads_ids_and_labels() {
        let t = table("id,D,G,A\na.jpg,1,0,0\nb.jpg,0,1,1\n").unwrap();
        assert_eq!(t.label_names, ["D", "G", "A"]);
        assert_eq!(t.ids, ["a.jpg", "b.jpg"]);
        assert_eq!(t.labels, [1, 0, 0, 0, 1, 1]);
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        assert!(error("id,D\na.jpg,1\nb.jpg\n").contains("train.csv:3: expected 2 fields"));
        assert!(
            error("id,D\na.jpg,2\n").contains("train.csv:2: label D must be 0 or 1, found `2`")
        );
        assert!(
            error("id,D\na.jpg,1\na.jpg,0\n")
                .contains("train.csv:3: duplicate id `a.jpg` (first on line 2)")
        );
        assert!(error("name,D\na.jpg,1\n").contains("train.csv:1: header must be"));
        assert!(error("id,D\n../../etc/passwd,1\n").contains("not a plain file name"));
        assert!(error("").contains("empty file"));
        assert!(error("id,D\n").contains("train.csv: no rows after the header"));
    }
}

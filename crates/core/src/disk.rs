//! Sizes of files and folders, as `ablate status` and `ablate gc` report them.
use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes under `path`. A file with several hard links (a finished training's best weights are
/// its result's model file) counts its share at each, so the parts of the cache add up to the
/// whole.
pub fn size_of(path: &Path) -> u64 {
    let mut total = 0;
    walk(path, &mut |meta| {
        if !meta.is_dir() {
            total += meta.len() / meta.nlink().max(1);
        }
    });
    total
}

/// Bytes under `path` as `du --apparent-size` counts them: folders too, and a file with several
/// hard links once.
pub fn disk_usage(path: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    walk(path, &mut |meta| {
        if meta.is_dir() || meta.nlink() <= 1 || seen.insert((meta.dev(), meta.ino())) {
            total += meta.len();
        }
    });
    total
}

/// What removing folders frees: a file with several hard links only when its last link goes
/// (removing a training's workspace leaves its best weights to the result that links them).
#[derive(Default)]
pub struct Removal {
    /// (device, inode) → links among the removed folders, for files with several links.
    links: HashMap<(u64, u64), u64>,
    freed: u64,
}

impl Removal {
    /// Counts `path` and everything under it as removed.
    pub fn add(&mut self, path: &Path) {
        walk(path, &mut |meta| {
            if meta.is_dir() || meta.nlink() <= 1 {
                self.freed += meta.len();
                return;
            }
            let removed = self.links.entry((meta.dev(), meta.ino())).or_default();
            *removed += 1;
            if *removed == meta.nlink() {
                self.freed += meta.len();
            }
        });
    }

    /// Bytes freed by removing everything added.
    pub fn freed(&self) -> u64 {
        self.freed
    }
}

/// Visits `path` and everything under it, folders included (as `du` counts them).
fn walk(path: &Path, visit: &mut dyn FnMut(&fs::Metadata)) {
    let Ok(meta) = fs::symlink_metadata(path) else { return };
    visit(&meta);
    if meta.is_dir() {
        for entry in fs::read_dir(path).into_iter().flatten().flatten() {
            walk(&entry.path(), visit);
        }
    }
}

/// `1.5 MiB`.
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

/// `20G`, `500M`, `1.5T`, `4096` (bytes; K, M, G, T are powers of 1024, an optional `i` or
/// `B` after them is allowed).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim().trim_end_matches(['B', 'b']).trim_end_matches('i');
    let (number, unit) = match trimmed.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => (&trimmed[..at], &trimmed[at..]),
        None => (trimmed, ""),
    };
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("`{text}` is not a size such as 20G, 500M or 4096")),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value >= 0.0 && value.is_finite() => Ok((value * scale as f64) as u64),
        _ => Err(format!("`{text}` is not a size such as 20G, 500M or 4096")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("20G"), Ok(20 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err() && parse_size("-1G").is_err());
    }
}

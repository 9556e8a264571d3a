//! Sizes of files and folders, as `ablate status` and `ablate gc` report them.
use std::fs;
use std::path::Path;

/// Bytes under `path`.
pub fn size_of(path: &Path) -> u64 {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::read_dir(path)
            .map_or(0, |entries| entries.flatten().map(|e| size_of(&e.path())).sum()),
        Ok(meta) => meta.len(),
        Err(_) => 0,
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

//! The ensemble artifact: trained models whose probabilities are averaged.
//!
//! `ensemble.json` lists the members, each a trained-model folder (`model.json`,
//! `model.safetensors`, optional `thresholds.json`) beside it: `m0/`, `m1/`, …, in the order of
//! the ensemble's inputs. Members' files are hard links to their published results (no copy;
//! results are never modified), so the ensemble's output digest is its members' content. An
//! ensemble may carry its own `thresholds.json`, tuned on validation for the averaged
//! probabilities.
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "ensemble.json";

#[derive(Debug, Serialize, Deserialize)]
struct Index {
    members: Vec<String>,
}

/// The member folders of the ensemble in `dir`, or `None` when `dir` holds one model.
pub fn members(dir: &Path) -> anyhow::Result<Option<Vec<PathBuf>>> {
    let path = dir.join(FILE_NAME);
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let index: Index = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not an ensemble index", path.display()))?;
    Ok(Some(index.members.iter().map(|m| dir.join(m)).collect()))
}

/// Writes an ensemble of the trained models in `models` into `out`.
pub fn write(out: &Path, models: &[&Path]) -> anyhow::Result<()> {
    let mut names = Vec::new();
    for (i, model) in models.iter().enumerate() {
        if members(model)?.is_some() {
            anyhow::bail!("{} is an ensemble; give its members instead", model.display());
        }
        let name = format!("m{i}");
        let member = out.join(&name);
        std::fs::create_dir_all(&member)?;
        for file in std::fs::read_dir(model)? {
            let file = file?.path();
            let target = member.join(file.file_name().expect("files have names"));
            if std::fs::hard_link(&file, &target).is_err() {
                std::fs::copy(&file, &target)
                    .with_context(|| format!("cannot copy {}", file.display()))?;
            }
        }
        names.push(name);
    }
    std::fs::write(out.join(FILE_NAME), serde_json::to_vec_pretty(&Index { members: names })?)?;
    Ok(())
}

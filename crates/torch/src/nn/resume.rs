//! Epoch checkpoints of `train`, kept in the stage's workspace so that a killed run continues
//! from its last completed epoch and raising `epochs` continues a finished one.
//!
//! One safetensors file, replaced atomically after every completed epoch, holds the model's
//! variables (`model.*`), the weights of the best epoch so far (`best.*`), the optimizer and
//! loss-scaler state, and as metadata the [`TrainingProgress`] (epoch, step, best epoch, the
//! metrics written so far). Together with randomness seeded per epoch from the stage's seed,
//! this makes a resumed run compute exactly what an uninterrupted one does.
//!
//! A finished training's checkpoint leaves the best weights out: they are the result's
//! `model.safetensors`, which the workspace keeps as `best-<epoch>.safetensors` (the
//! checkpoint's epoch), a hard link to it (a copy across file systems). A workspace is then 3×
//! its model (weights and Adam's two moments) instead of 4×, and the best weights are on disk
//! once. The epoch in the name ties the file to its checkpoint, whichever of the two a crash
//! left behind.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::weights;
use ablate_core::interrupt::CONTINUES_FILE;
use ablate_core::metrics::MetricRow;

const FILE: &str = "checkpoint.safetensors";
const BEST: &str = "best.";

/// The best weights of a training finished at `epoch`, beside its checkpoint.
fn best_file(workspace: &Path, epoch: u32) -> PathBuf {
    workspace.join(format!("best-{epoch}.safetensors"))
}
const METADATA_KEY: &str = "ablate.training";

/// Where training stands after a completed epoch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainingProgress {
    /// Epochs completed.
    pub epoch: u32,
    /// Optimizer steps taken.
    pub step: u64,
    pub best_epoch: u32,
    pub best_macro_f1: f64,
    /// Set when early stopping ended training at `epoch`.
    pub stopped_early: bool,
    /// The metric rows of the completed epochs.
    pub metrics: Vec<MetricRow>,
}

/// A checkpoint as read back: progress and every tensor by name.
pub struct Checkpoint {
    pub progress: TrainingProgress,
    pub tensors: HashMap<String, Tensor>,
}

impl Checkpoint {
    /// The tensors under `prefix`, with the prefix removed.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self
            .tensors
            .iter()
            .filter_map(|(name, t)| {
                name.strip_prefix(prefix).map(|rest| (rest.to_string(), t.shallow_clone()))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

pub fn path(workspace: &Path) -> PathBuf {
    workspace.join(FILE)
}

/// Reads the workspace's checkpoint; `Ok(None)` when there is none.
pub fn read(workspace: &Path) -> anyhow::Result<Option<Checkpoint>> {
    let file = path(workspace);
    if !file.is_file() {
        return Ok(None);
    }
    let (tensors, metadata) = weights::read_with_metadata(&file)?;
    let state = metadata
        .get(METADATA_KEY)
        .with_context(|| format!("{} has no training state", file.display()))?;
    let progress: TrainingProgress = serde_json::from_str(state)
        .with_context(|| format!("{}: unreadable training state", file.display()))?;
    let mut tensors: HashMap<String, Tensor> = tensors.into_iter().collect();
    if !tensors.keys().any(|name| name.starts_with(BEST)) {
        let best = best_file(workspace, progress.epoch);
        let weights = weights::read(&best).with_context(|| {
            format!("{} has no best weights, and {} is unreadable", file.display(), best.display())
        })?;
        tensors.extend(weights.into_iter().map(|(name, t)| (format!("{BEST}{name}"), t)));
    }
    Ok(Some(Checkpoint { progress, tensors }))
}

/// The checkpoint of a finished training: `tensors` without `best.*`, whose weights are
/// `model_file` (the result's), kept as a hard link named by the checkpoint's epoch; best
/// weights of other epochs are removed once the checkpoint is in place.
pub fn write_finished(
    workspace: &Path,
    progress: &TrainingProgress,
    tensors: &[(String, Tensor)],
    model_file: &Path,
) -> anyhow::Result<()> {
    let best = best_file(workspace, progress.epoch);
    let _ = std::fs::remove_file(&best);
    if std::fs::hard_link(model_file, &best).is_err() {
        let staged = workspace.join("best.safetensors.partial");
        std::fs::copy(model_file, &staged)
            .and_then(|_| std::fs::rename(&staged, &best))
            .with_context(|| {
                format!("cannot copy {} to {}", model_file.display(), best.display())
            })?;
    }
    let kept: Vec<(String, Tensor)> = tensors
        .iter()
        .filter(|(name, _)| !name.starts_with(BEST))
        .map(|(name, t)| (name.clone(), t.shallow_clone()))
        .collect();
    write(workspace, progress, &kept)?;
    for entry in std::fs::read_dir(workspace)?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("best-") && name.ends_with(".safetensors") && entry.path() != best {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// Replaces the workspace's checkpoint (atomically: a crash leaves the previous one).
pub fn write(
    workspace: &Path,
    progress: &TrainingProgress,
    tensors: &[(String, Tensor)],
) -> anyhow::Result<()> {
    let metadata = (METADATA_KEY, serde_json::to_string(progress)?);
    weights::write(&path(workspace), tensors, Some(metadata))?;
    // What `ablate plan` and an interrupted run say the next run continues from.
    let continues = format!("epoch {}", progress.epoch);
    ablate_core::store::write_atomically(&workspace.join(CONTINUES_FILE), continues.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every number a checkpoint carries decides something after a resume (a tie between
    /// epochs, a threshold, a learning rate): each must read back bit for bit. Without
    /// serde_json's `float_roundtrip`, about a tenth of the fractions a/b below read back one
    /// ULP off (0.15384615384615385, 2/13, is one), and a later epoch of an equal score then
    /// counted as strictly better after a resume.
    #[test]
    fn progress_reads_back_every_float_exactly() {
        for b in 2..60u32 {
            for a in 1..b {
                let value = f64::from(a) / f64::from(b);
                let progress = TrainingProgress {
                    best_macro_f1: value,
                    metrics: vec![MetricRow::new("threshold", value)],
                    ..Default::default()
                };
                let text = serde_json::to_string(&progress).unwrap();
                let back: TrainingProgress = serde_json::from_str(&text).unwrap();
                assert_eq!(back.best_macro_f1.to_bits(), value.to_bits(), "{a}/{b}: {text}");
                assert_eq!(back.metrics[0].value.to_bits(), value.to_bits(), "{a}/{b}");
            }
        }
    }
}

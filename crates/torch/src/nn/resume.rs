//! Epoch checkpoints of `train`, kept in the stage's workspace so that a killed run continues
//! from its last completed epoch and raising `epochs` continues a finished one.
//!
//! One safetensors file, replaced atomically after every completed epoch, holds the model's
//! variables (`model.*`), the weights of the best epoch so far (`best.*`), the optimizer and
//! loss-scaler state, and as metadata the [`TrainingProgress`] (epoch, step, best epoch, the
//! metrics written so far). Together with randomness seeded per epoch from the stage's seed,
//! this makes a resumed run compute exactly what an uninterrupted one does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::weights;
use ablate_core::interrupt::CONTINUES_FILE;
use ablate_core::metrics::MetricRow;

const FILE: &str = "checkpoint.safetensors";
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
    let progress = serde_json::from_str(state)
        .with_context(|| format!("{}: unreadable training state", file.display()))?;
    Ok(Some(Checkpoint { progress, tensors: tensors.into_iter().collect() }))
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

//! A trained model on disk: `model.json` (its [`ModelConfig`]) and `model.safetensors` (its
//! weights under PyTorch state-dict names).
use std::path::Path;

use anyhow::Context;
use tch::nn::VarStore;

use crate::models::{Classifier, ModelConfig};

pub const CONFIG_FILE: &str = "model.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";

pub fn save(dir: &Path, config: &ModelConfig, vs: &VarStore) -> anyhow::Result<()> {
    std::fs::write(dir.join(CONFIG_FILE), serde_json::to_vec_pretty(config)?)?;
    vs.save(dir.join(WEIGHTS_FILE)).context("cannot save model weights")?;
    Ok(())
}

/// Rebuilds the model saved in `dir` on `device`, in evaluation mode.
pub fn load(dir: &Path, device: tch::Device) -> anyhow::Result<(ModelConfig, VarStore, Classifier)> {
    let config_path = dir.join(CONFIG_FILE);
    let config: ModelConfig = serde_json::from_slice(
        &std::fs::read(&config_path).with_context(|| format!("cannot read {}", config_path.display()))?,
    )
    .with_context(|| format!("{} is not a model config", config_path.display()))?;
    let mut vs = VarStore::new(device);
    let model = Classifier::new(&vs.root(), &config)?;
    let weights = dir.join(WEIGHTS_FILE);
    vs.load(&weights).with_context(|| format!("cannot load weights {}", weights.display()))?;
    Ok((config, vs, model))
}

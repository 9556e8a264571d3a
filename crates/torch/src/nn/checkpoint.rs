//! Model artifacts on disk.
//!
//! A trained model is `model.json` (its [`ModelConfig`]) and `model.safetensors` (every weight
//! under its PyTorch state-dict name). An initial model, the output of `backbone` and
//! `attention`, is `architecture.json` (an [`Architecture`]) and, when it carries weights,
//! `weights.safetensors` (a subset: what was loaded or handed on; the rest is initialised by the
//! stage that trains it, with its seed). A trained model may also carry `thresholds.json`,
//! per-label decision thresholds tuned on validation.
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::de::DeserializeOwned;
use tch::Tensor;
use tch::nn::VarStore;

use super::weights;
use crate::models::{Architecture, Classifier, ModelConfig};

pub const CONFIG_FILE: &str = "model.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const ARCHITECTURE_FILE: &str = "architecture.json";
pub const INITIAL_WEIGHTS_FILE: &str = "weights.safetensors";
pub const THRESHOLDS_FILE: &str = "thresholds.json";

/// Per-label thresholds tuned on a split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thresholds {
    pub labels: Vec<String>,
    pub thresholds: Vec<f32>,
    pub tuned_on: String,
}

fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not {what}", path.display()))
}

/// Saves a trained model given its weights by name; returns the weights file.
pub fn save(
    dir: &Path,
    config: &ModelConfig,
    weights: &[(String, Tensor)],
) -> anyhow::Result<PathBuf> {
    std::fs::write(dir.join(CONFIG_FILE), serde_json::to_vec_pretty(config)?)?;
    let file = dir.join(WEIGHTS_FILE);
    weights::write(&file, weights, None)?;
    Ok(file)
}

/// The configuration of the trained model saved in `dir`.
pub fn read_config(dir: &Path) -> anyhow::Result<ModelConfig> {
    refuse_ensemble(dir)?;
    read_json(&dir.join(CONFIG_FILE), "a model config")
}

/// Rebuilds the trained model saved in `dir` on `device`; every weight must be there.
pub fn load(
    dir: &Path,
    device: tch::Device,
) -> anyhow::Result<(ModelConfig, VarStore, Classifier)> {
    let config = read_config(dir)?;
    let vs = VarStore::new(device);
    let model = Classifier::new(&vs.root(), &config)?;
    let path = dir.join(WEIGHTS_FILE);
    let report = weights::load_into(
        &vs,
        weights::read(&path)?,
        &[""],
        &path.display().to_string(),
        &|_, _, _| None,
    )?;
    report.check_strict()?;
    Ok((config, vs, model))
}

/// What a model artifact hands to the stage that trains it.
pub struct Initial {
    pub arch: Architecture,
    /// The labels its head predicts (trained models only).
    pub labels: Option<Vec<String>>,
    pub weights: Vec<(String, Tensor)>,
}

/// An ensemble is made of trained models but is none: only prediction averages its members.
fn refuse_ensemble(dir: &Path) -> anyhow::Result<()> {
    if dir.join(super::ensemble::FILE_NAME).is_file() {
        anyhow::bail!(
            "the input model is an ensemble, which only `evaluate` and `export` take; give this \
             stage one of its members"
        );
    }
    Ok(())
}

/// Reads any model artifact: a trained model or an initial one.
pub fn read_initial(dir: &Path) -> anyhow::Result<Initial> {
    refuse_ensemble(dir)?;
    if dir.join(CONFIG_FILE).is_file() {
        let config: ModelConfig = read_json(&dir.join(CONFIG_FILE), "a model config")?;
        let weights = weights::read(&dir.join(WEIGHTS_FILE))?;
        return Ok(Initial { arch: config.arch, labels: Some(config.labels), weights });
    }
    let arch = read_json(&dir.join(ARCHITECTURE_FILE), "an architecture")?;
    let path = dir.join(INITIAL_WEIGHTS_FILE);
    let weights = if path.is_file() { weights::read(&path)? } else { Vec::new() };
    Ok(Initial { arch, labels: None, weights })
}

pub fn write_initial(
    dir: &Path,
    arch: &Architecture,
    tensors: &[(String, Tensor)],
) -> anyhow::Result<()> {
    std::fs::write(dir.join(ARCHITECTURE_FILE), serde_json::to_vec_pretty(arch)?)?;
    if !tensors.is_empty() {
        weights::write(&dir.join(INITIAL_WEIGHTS_FILE), tensors, None)?;
    }
    Ok(())
}

pub fn write_thresholds(
    dir: &Path,
    labels: &[String],
    thresholds: &[f32],
    tuned_on: &str,
) -> anyhow::Result<()> {
    let record = Thresholds {
        labels: labels.to_vec(),
        thresholds: thresholds.to_vec(),
        tuned_on: tuned_on.to_string(),
    };
    std::fs::write(dir.join(THRESHOLDS_FILE), serde_json::to_vec_pretty(&record)?)?;
    Ok(())
}

/// The model's tuned thresholds, if it has any.
pub fn read_thresholds(dir: &Path) -> anyhow::Result<Option<Thresholds>> {
    let path = dir.join(THRESHOLDS_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    read_json(&path, "a thresholds record").map(Some)
}

/// The model's tuned thresholds for `labels`, in their order, if it has any.
pub fn thresholds_for(dir: &Path, labels: &[String]) -> anyhow::Result<Option<Thresholds>> {
    let Some(tuned) = read_thresholds(dir)? else { return Ok(None) };
    let thresholds = labels
        .iter()
        .map(|label| tuned.labels.iter().position(|l| l == label).map(|i| tuned.thresholds[i]))
        .collect::<Option<Vec<f32>>>()
        .with_context(|| {
            format!(
                "the thresholds in {} cover {} but not all of {}",
                dir.join(THRESHOLDS_FILE).display(),
                tuned.labels.join(","),
                labels.join(",")
            )
        })?;
    Ok(Some(Thresholds { labels: labels.to_vec(), thresholds, tuned_on: tuned.tuned_on }))
}

//! `evaluate`: per-label precision, recall and F1, and macro-F1, of a trained model on one split
//! at its decision thresholds (`threshold` for every label, or with `decision: tuned` those the
//! model carries). When the model carries thresholds tuned on validation, the scores at them are
//! also reported as `tuned_*` metrics, so a fixed-threshold run shows them beside its own.
//! Writes `scores.json` ([`Scores`]) and `predictions.csv` (probabilities per id).

use std::collections::BTreeMap;
use std::path::Path;

use ablate_core::params::ParamSpec;
use ablate_core::stage::{KindInfo, Resource, Workspace};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::prediction::{self, Decision};
use crate::scoring::LabelScores;

/// The [`Scores`] of an evaluation, as JSON.
pub const SCORES_FILE: &str = "scores.json";
/// The probabilities: a row per image, `id` then `p_<label>` per label.
pub const PREDICTIONS_FILE: &str = "predictions.csv";

/// What an evaluation scored: the torch side writes it, the report reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// How the thresholds were chosen; `None` in results from before the choice existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Per label, at `thresholds`.
    #[serde(default)]
    pub labels: BTreeMap<String, LabelScores>,
    pub macro_f1: f64,
    pub split: String,
    /// One threshold for every label, in results from before per-label thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    /// Per label, the decision threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<BTreeMap<String, f32>>,
    /// At the thresholds tuned on validation, where the model carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuned: Option<TunedScores>,
}

/// The scores at the thresholds a model carries from validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedScores {
    pub labels: BTreeMap<String, LabelScores>,
    pub macro_f1: f64,
    pub thresholds: BTreeMap<String, f32>,
    /// The split they were tuned on.
    pub tuned_on: String,
}

impl Scores {
    /// Writes `scores.json`, its keys sorted at every level (as the format promises).
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let sorted = serde_json::to_value(self)?;
        Ok(std::fs::write(dir.join(SCORES_FILE), serde_json::to_vec_pretty(&sorted)?)?)
    }

    pub fn read(dir: &Path) -> anyhow::Result<Scores> {
        let bytes = std::fs::read(dir.join(SCORES_FILE))
            .with_context(|| format!("cannot read its {SCORES_FILE}"))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{SCORES_FILE} is not an evaluation's"))
    }

    /// The decision threshold of `label`.
    pub fn threshold(&self, label: &str) -> anyhow::Result<f32> {
        match (&self.thresholds, self.threshold) {
            (Some(thresholds), _) => thresholds
                .get(label)
                .copied()
                .with_context(|| format!("{SCORES_FILE} has no threshold for label {label}")),
            (None, Some(threshold)) => Ok(threshold),
            (None, None) => bail!("{SCORES_FILE} names no threshold"),
        }
    }

    /// How the thresholds were chosen, for people: `0.5`, or `tuned on validation`.
    pub fn describe_thresholds(&self) -> String {
        if self.decision == Some(Decision::Tuned) {
            return "tuned on validation".into();
        }
        let mut values: Vec<String> = match &self.thresholds {
            Some(thresholds) => thresholds.values().map(|t| t.to_string()).collect(),
            None => self.threshold.iter().map(|t| t.to_string()).collect(),
        };
        values.sort();
        values.dedup();
        values.join(", ")
    }
}

const PARAMS: &[ParamSpec] = &prediction::params("offsite_test", "split to evaluate on");

pub const INFO: KindInfo = KindInfo {
    kind: "evaluate",
    version: 2,
    doc: "per-label precision, recall, F1 and macro-F1 on a split",
    params: PARAMS,
    inputs: prediction::MODEL_AND_DATA,
    resource: Resource::Device,
    workspace: Workspace::None,
};

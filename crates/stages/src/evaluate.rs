//! `evaluate`: per-label precision, recall and F1, and macro-F1, of a trained model on one split
//! at its decision thresholds, and its threshold-free AUROC and average precision (`threshold` for every label, or with `decision: tuned` those the
//! model carries). When the model carries thresholds tuned on validation, the scores at them are
//! also reported as `tuned_*` metrics, so a fixed-threshold run shows them beside its own.
//! Writes `scores.json` ([`Scores`]) and `predictions.csv` (`predictions`); what it computes
//! from the predictions is `evaluation`'s, shared with `score`.

use std::collections::BTreeMap;
use std::path::Path;

use ablate_core::params::ParamSpec;
use ablate_core::stage::{KindInfo, Resource, Workspace};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::prediction::{self, Decision};
use crate::ranking::LabelRanking;
use crate::scoring::LabelScores;

/// The [`Scores`] of an evaluation, as JSON.
pub const SCORES_FILE: &str = "scores.json";

/// What an evaluation scored: the torch side and `score` write it, the report reads it. Fields
/// are declared in alphabetical order, so the file's keys are sorted at every level (as the
/// format promises) and each f32 threshold is written as its shortest decimal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// How the thresholds were chosen; `None` in results from before the choice existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Per label, at `thresholds`.
    #[serde(default)]
    pub labels: BTreeMap<String, LabelScores>,
    /// The means of `ranking`'s values over the labels where they are defined; `None` where no
    /// label's is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_auroc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_average_precision: Option<f64>,
    pub macro_f1: f64,
    /// Per label, the threshold-free AUROC and average precision, each a value or the reason
    /// it has none; empty in results from before they were computed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ranking: BTreeMap<String, LabelRanking>,
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
    /// Writes `scores.json`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        Ok(std::fs::write(dir.join(SCORES_FILE), serde_json::to_vec_pretty(self)?)?)
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
    version: 3,
    doc: "per-label precision, recall, F1, AUROC and average precision, and their macro means, on a split",
    params: PARAMS,
    inputs: prediction::MODEL_AND_DATA,
    resource: Resource::DEVICE,
    workspace: Workspace::None,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranking::{LabelRanking, Undefined};

    #[test]
    fn scores_json_has_sorted_keys_and_short_thresholds() {
        let label = LabelScores { f1: 0.5, precision: 0.25, recall: 1.0, support: 3 };
        let ranking =
            LabelRanking { auroc: Err(Undefined::NoNegatives), average_precision: Ok(1.0) };
        let scores = Scores {
            decision: Some(Decision::Fixed),
            labels: [("D".to_string(), label)].into(),
            macro_auroc: None,
            macro_average_precision: Some(1.0),
            macro_f1: 0.5,
            ranking: [("D".to_string(), ranking)].into(),
            split: "test".into(),
            threshold: None,
            thresholds: Some([("D".to_string(), 0.4f32)].into()),
            tuned: Some(TunedScores {
                labels: [("D".to_string(), label)].into(),
                macro_f1: 0.5,
                thresholds: [("D".to_string(), 0.3f32)].into(),
                tuned_on: "val".into(),
            }),
        };
        let dir = tempfile::tempdir().unwrap();
        scores.write(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(SCORES_FILE)).unwrap();
        let sorted: serde_json::Value = serde_json::from_str(&text).unwrap();
        let resorted = serde_json::to_string_pretty(&sorted).unwrap();
        assert_eq!(text, resorted, "keys in sorted order");
        assert!(text.contains("\"D\": 0.4\n") && text.contains("\"D\": 0.3\n"), "{text}");
        assert!(text.contains("\"auroc\": {\n        \"reason\": \"no_negatives\""), "{text}");
        assert_eq!(Scores::read(dir.path()).unwrap(), scores);
    }
}

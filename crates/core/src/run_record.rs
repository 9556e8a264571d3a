//! Run records: what each `ablate run` did, stage by stage, kept in `cache/runs/` for `ablate
//! status`.
use serde::{Deserialize, Serialize};

use super::fingerprint::StageKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
/// How one stage of a run ended.
pub enum Outcome {
    Cached { key: StageKey, summary: Option<String> },
    Ran { key: StageKey, seconds: f64, summary: Option<String> },
    Failed { error: String },
    Skipped { because: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
/// One run of a pipeline: when, how long, and each stage's outcome in dependency order.
pub struct RunReport {
    pub pipeline: String,
    pub started: u64,
    pub seconds: f64,
    pub stages: Vec<(String, Outcome)>,
}

impl RunReport {
    pub fn succeeded(&self) -> bool {
        self.stages.iter().all(|(_, o)| matches!(o, Outcome::Cached { .. } | Outcome::Ran { .. }))
    }
}

//! What a run leaves when it is interrupted (Ctrl-C, SIGTERM).
//!
//! The scheduler reports here which stages started and how they ended; on a signal, the
//! command line asks for [`interrupted_record`]: the run's record with the finished stages as
//! they ended, the running ones `Interrupted` (with what the next run continues from: a
//! stage that keeps a workspace says so in `continues.txt` there, e.g. `epoch 3`), and the
//! rest skipped. Results already published stay cached; staging folders of the process are
//! removed ([`Store::remove_own_staging`](crate::store::Store::remove_own_staging)).
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::run_record::{Outcome, RunReport};

/// The file in a stage's workspace that says where its next run continues (e.g. `epoch 3`).
pub const CONTINUES_FILE: &str = "continues.txt";

struct RunInProgress {
    record: RunReport,
    /// Stages running, with their workspace.
    running: Vec<(String, Option<PathBuf>)>,
}

static CURRENT: Mutex<Option<RunInProgress>> = Mutex::new(None);

/// A run starts: `record` has every stage, in order, as skipped until it ends.
pub fn begin(record: RunReport) {
    *CURRENT.lock().expect("run in progress") = Some(RunInProgress { record, running: Vec::new() });
}

pub fn started(stage: &str, workspace: Option<&Path>) {
    if let Some(run) = CURRENT.lock().expect("run in progress").as_mut() {
        run.running.push((stage.to_string(), workspace.map(Path::to_path_buf)));
    }
}

pub fn ended(stage: &str, outcome: &Outcome) {
    if let Some(run) = CURRENT.lock().expect("run in progress").as_mut() {
        run.running.retain(|(name, _)| name != stage);
        if let Some(entry) = run.record.stages.iter_mut().find(|(name, _)| name == stage) {
            entry.1 = outcome.clone();
        }
    }
}

/// The run ended by itself.
pub fn finish() {
    *CURRENT.lock().expect("run in progress") = None;
}

/// Where a workspace's stage continues from, as the stage wrote it.
pub fn continues_from(workspace: &Path) -> Option<String> {
    let text = std::fs::read_to_string(workspace.join(CONTINUES_FILE)).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The record of the run in progress, interrupted now; `None` when no run is in progress.
pub fn interrupted_record(seconds: f64) -> Option<RunReport> {
    let run = CURRENT.lock().ok()?.take()?;
    let mut record = run.record;
    record.seconds = seconds;
    for (stage, workspace) in run.running {
        let kept = workspace.as_deref().and_then(continues_from);
        if let Some(entry) = record.stages.iter_mut().find(|(name, _)| *name == stage) {
            entry.1 = Outcome::Interrupted { kept };
        }
    }
    Some(record)
}

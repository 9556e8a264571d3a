//! The state of each job of a submission, from the most certain source to the least:
//!
//! 1. its exit file: the job ran `ablate` to the end (0: done, else failed);
//! 2. `squeue`: pending (queued or held), running, or ended without an exit file (cancelled,
//!    timed out, out of memory, node failure);
//! 3. once Slurm has forgotten the job (no accounting database), the store: the stage's result
//!    is published (done), or it is not (lost).
//!
//! Then a job that did not run because a job upstream failed is blocked by that failure; Slurm
//! cancels it by itself (`--kill-on-invalid-dep=yes`) or leaves it pending with the reason
//! `DependencyNeverSatisfied`.
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;

use super::queue::{self, Listed};
use super::record::{Job, Submission};
use crate::session::{Access, Session};
use ablate_core::plan::Status;
use ablate_core::store::Store;

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Pending, with Slurm's reason (`Dependency`, `Priority`, `JobHeldUser`, …).
    Queued {
        reason: String,
    },
    Running,
    Done,
    Failed {
        why: String,
    },
    Cancelled,
    /// Gone from Slurm without an exit status or a published result.
    Lost,
    /// Did not run because stage `by` failed.
    Blocked {
        by: String,
    },
}

impl State {
    /// Nothing more will happen to the job's stage.
    pub fn finished(&self) -> bool {
        !matches!(self, State::Queued { .. } | State::Running)
    }

    /// One word, for counts.
    pub fn word(&self) -> &'static str {
        match self {
            State::Queued { .. } => "queued",
            State::Running => "running",
            State::Done => "done",
            State::Failed { .. } => "failed",
            State::Cancelled => "cancelled",
            State::Lost => "lost",
            State::Blocked { .. } => "blocked",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            State::Queued { reason } if reason != "None" => write!(f, "queued ({reason})"),
            State::Failed { why } => write!(f, "failed ({why})"),
            State::Lost => f.write_str("lost: left the queue without an exit status or a result"),
            State::Blocked { by } => write!(f, "blocked by failed {by}"),
            other => f.write_str(other.word()),
        }
    }
}

pub struct JobState<'a> {
    pub job: &'a Job,
    pub state: State,
    /// Slurm may still run it: pending or running, and no exit file yet.
    pub active: bool,
}

/// The state of every job of `submission` now; an error when `squeue` fails.
pub fn current<'a>(store: &Store, submission: &'a Submission) -> anyhow::Result<Vec<JobState<'a>>> {
    let ids: Vec<&str> = submission.jobs.iter().map(|j| j.id.as_str()).collect();
    let listed = queue::list(&ids)?;
    let published = || published(store, submission);
    Ok(derive(submission, &listed, exit_status, published))
}

fn exit_status(job: &Job) -> Option<i32> {
    fs::read_to_string(&job.exit_file).ok()?.trim().parse().ok()
}

/// Stages of the submission whose result is in the store now (none if the pipeline as
/// submitted cannot be planned any more, e.g. its data moved).
fn published(store: &Store, submission: &Submission) -> HashSet<String> {
    let planned = Session::open(
        store.root(),
        &submission.source,
        &submission.device,
        Access::Plan,
        &submission.key_outputs,
    )
    .and_then(|session| session.plan());
    planned
        .map(|p| p.into_iter().filter(|s| s.status == Status::Cached).map(|s| s.stage).collect())
        .unwrap_or_default()
}

/// The states from the three sources; `published` is asked at most once, and only when Slurm
/// has forgotten a job that left no exit file.
fn derive<'a>(
    submission: &'a Submission,
    listed: &HashMap<String, Listed>,
    exit_status: impl Fn(&Job) -> Option<i32>,
    published: impl FnOnce() -> HashSet<String>,
) -> Vec<JobState<'a>> {
    let mut published = Some(published);
    let mut published_now: Option<HashSet<String>> = None;
    let mut states: Vec<JobState> = Vec::with_capacity(submission.jobs.len());
    for job in &submission.jobs {
        let slurm = listed.get(&job.id);
        let (state, active) = match (exit_status(job), slurm) {
            (Some(0), _) => (State::Done, false),
            (Some(code), _) => (State::Failed { why: format!("exit {code}") }, false),
            (None, Some(listed)) if listed.pending() => {
                (State::Queued { reason: listed.reason.clone() }, true)
            }
            (None, Some(listed)) if !listed.ended() => (State::Running, true),
            (None, Some(listed)) => match listed.state.as_str() {
                "COMPLETED" => (State::Done, false),
                "CANCELLED" => (State::Cancelled, false),
                other => (State::Failed { why: other.to_lowercase() }, false),
            },
            (None, None) => {
                let published = published_now
                    .get_or_insert_with(|| published.take().map(|f| f()).unwrap_or_default());
                (if published.contains(&job.stage) { State::Done } else { State::Lost }, false)
            }
        };
        let blocker = || {
            job.after.iter().find_map(|upstream| {
                match &states.iter().find(|s| &s.job.stage == upstream)?.state {
                    State::Failed { .. } => Some(upstream.clone()),
                    State::Blocked { by } => Some(by.clone()),
                    _ => None,
                }
            })
        };
        let state = match state {
            State::Queued { .. } | State::Cancelled | State::Lost => {
                blocker().map_or(state, |by| State::Blocked { by })
            }
            state => state,
        };
        states.push(JobState { job, state, active });
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use ablate_core::spec::PipelineSource;

    fn submission(jobs: &[(&str, &[&str])]) -> Submission {
        Submission {
            id: "1-1".into(),
            pipeline: "p".into(),
            submitted: 1,
            source: PipelineSource {
                path: "p.yaml".into(),
                text: String::new(),
                overrides: Vec::new(),
                bases: Vec::new(),
                extra_seeds: Default::default(),
            },
            workdir: "/".into(),
            device: "cpu".into(),
            key_outputs: Default::default(),
            sbatch: Vec::new(),
            cached: Vec::new(),
            jobs: jobs
                .iter()
                .enumerate()
                .map(|(n, (stage, after))| Job {
                    stage: stage.to_string(),
                    id: (10 + n).to_string(),
                    after: after.iter().map(|s| s.to_string()).collect(),
                    gpus: 0,
                    script: format!("{stage}.sh").into(),
                    log: format!("{stage}.log").into(),
                    exit_file: format!("{stage}.exit").into(),
                })
                .collect(),
        }
    }

    fn listed(entries: &[(&str, &str, &str)]) -> HashMap<String, Listed> {
        entries
            .iter()
            .map(|(id, state, reason)| {
                (id.to_string(), Listed { state: state.to_string(), reason: reason.to_string() })
            })
            .collect()
    }

    fn words(states: &[JobState]) -> Vec<String> {
        states.iter().map(|s| s.state.to_string()).collect()
    }

    #[test]
    fn a_failed_job_blocks_its_descendants() {
        let submission = submission(&[
            ("data", &[]),
            ("train", &["data"]),
            ("evaluate", &["train"]),
            ("other", &[]),
        ]);
        let slurm = listed(&[
            ("11", "CANCELLED", "DependencyNeverSatisfied"),
            ("12", "PENDING", "DependencyNeverSatisfied"),
            ("13", "RUNNING", "None"),
        ]);
        let exits = |job: &Job| (job.stage == "data").then_some(1);
        let states = derive(&submission, &slurm, exits, || panic!("every job is accounted for"));
        assert_eq!(
            words(&states),
            ["failed (exit 1)", "blocked by failed data", "blocked by failed data", "running"]
        );
        assert_eq!(states.iter().map(|s| s.active).collect::<Vec<_>>(), [false, false, true, true]);
    }

    #[test]
    fn jobs_slurm_forgot_are_done_when_their_result_is_published() {
        let submission = submission(&[("data", &[]), ("train", &["data"]), ("held", &[])]);
        let slurm = listed(&[("11", "TIMEOUT", "TimeLimit"), ("12", "PENDING", "JobHeldUser")]);
        let states = derive(&submission, &slurm, |_| None, || HashSet::from(["data".to_string()]));
        assert_eq!(words(&states), ["done", "failed (timeout)", "queued (JobHeldUser)"]);
        let states = derive(&submission, &HashMap::new(), |_| None, HashSet::new);
        assert_eq!(words(&states)[..2], [State::Lost.to_string(), State::Lost.to_string()]);
    }
}

//! Following a submission: its state (`ablate status`), waiting for it to finish (`ablate run
//! --executor slurm --wait`), and cancelling what is left of it (`ablate cancel`).
use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use super::queue;
use super::record::Submission;
use super::state::{self, JobState, State};
use ablate_core::clock::format_time;
use ablate_core::store::Store;

/// Lines of a failed job's log that are shown.
const LOG_TAIL: usize = 20;
/// The longest pause between two looks at the queue while waiting.
const MAX_POLL: Duration = Duration::from_secs(15);

/// The submission's header, one line per job, and the end of each failed job's log.
pub fn print_submission(store: &Store, submission: &Submission) {
    match state::current(store, submission) {
        Ok(states) => {
            print_header(submission, &states);
            let width = states.iter().map(|s| s.job.stage.len()).max().unwrap_or(0).max(5);
            for s in &states {
                println!("  {:<width$}  job {:<8}  {}", s.job.stage, s.job.id, s.state);
            }
            print_failures(&states);
            if states.iter().any(|s| s.active) {
                println!(
                    "  `ablate cancel {}` cancels the jobs still queued or running",
                    submission.pipeline
                );
            }
        }
        Err(error) => println!(
            "slurm {}: submission {}: cannot read the queue: {error:#}",
            submission.pipeline, submission.id
        ),
    }
}

/// Cancels the jobs Slurm may still run.
pub fn cancel(store: &Store, submission: &Submission) -> anyhow::Result<()> {
    let states = state::current(store, submission)?;
    let active: Vec<&JobState> = states.iter().filter(|s| s.active).collect();
    queue::cancel(&active.iter().map(|s| s.job.id.as_str()).collect::<Vec<_>>())?;
    let what = if active.is_empty() {
        "no job is queued or running".to_string()
    } else {
        let jobs: Vec<String> =
            active.iter().map(|s| format!("{} (job {})", s.job.stage, s.job.id)).collect();
        format!("cancelled {} jobs: {}", jobs.len(), jobs.join(", "))
    };
    println!("slurm {}: submission {}: {what}", submission.pipeline, submission.id);
    Ok(())
}

/// Polls until no job is queued or running, printing each change; cancels jobs Slurm still
/// holds that can never run. True when every job succeeded.
pub fn wait(store: &Store, submission: &Submission) -> anyhow::Result<bool> {
    let mut shown: HashMap<String, String> = HashMap::new();
    let mut pause = Duration::from_secs(1);
    loop {
        let states = match state::current(store, submission) {
            Ok(states) => states,
            Err(error) => {
                eprintln!("warning: {error:#}; trying again");
                std::thread::sleep(MAX_POLL);
                continue;
            }
        };
        let mut changed = false;
        for s in &states {
            let text = s.state.to_string();
            if shown.get(&s.job.stage) != Some(&text) {
                println!("{} (job {}): {text}", s.job.stage, s.job.id);
                shown.insert(s.job.stage.clone(), text);
                changed = true;
            }
        }
        if states.iter().all(|s| s.state.finished()) {
            let stuck: Vec<&str> =
                states.iter().filter(|s| s.active).map(|s| s.job.id.as_str()).collect();
            queue::cancel(&stuck)?;
            print_header(submission, &states);
            print_failures(&states);
            return Ok(states.iter().all(|s| s.state == State::Done));
        }
        pause = if changed { Duration::from_secs(1) } else { (pause * 2).min(MAX_POLL) };
        std::thread::sleep(pause);
    }
}

/// The states in the order the summary counts them, whatever order the jobs were submitted in.
const SUMMARY_ORDER: [&str; 7] =
    ["done", "running", "queued", "failed", "blocked", "cancelled", "lost"];

fn print_header(submission: &Submission, states: &[JobState]) {
    let counts: Vec<String> = SUMMARY_ORDER
        .iter()
        .filter_map(|word| {
            let n = states.iter().filter(|s| s.state.word() == *word).count();
            (n > 0).then(|| format!("{n} {word}"))
        })
        .collect();
    println!(
        "slurm {}: submission {} at {}: {} jobs: {}; {} stages were cached",
        submission.pipeline,
        submission.id,
        format_time(submission.submitted),
        states.len(),
        counts.join(", "),
        submission.cached.len()
    );
}

fn print_failures(states: &[JobState]) {
    for s in states.iter().filter(|s| matches!(s.state, State::Failed { .. })) {
        println!("  {} {}; last lines of {}:", s.job.stage, s.state, s.job.log.display());
        for line in tail(&s.job.log, LOG_TAIL) {
            println!("    | {line}");
        }
    }
}

/// The last `n` lines of a file (none if it cannot be read).
fn tail(path: &Path, n: usize) -> Vec<String> {
    let text = fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect()
}

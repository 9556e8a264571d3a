//! `ablate status`: recent runs recorded in the store, and what the cache holds.
use std::fs;

use ablate_core::clock::format_time;
use ablate_core::disk::{human_size, size_of};
use ablate_core::run_record::{Outcome, RemoteTraffic, RunState, Transfer};
use ablate_core::store::Store;

pub fn print(store: &Store, last: usize) -> anyhow::Result<()> {
    let runs = store.runs()?;
    let entries = fs::read_dir(store.entries_dir())?.flatten().count();
    let workspaces = fs::read_dir(store.workspaces_dir())?.flatten().count();
    println!(
        "cache {}: {}; {entries} results ({}), {workspaces} workspaces of resumable trainings ({})",
        store.root().display(),
        human_size(size_of(store.root())),
        human_size(size_of(&store.entries_dir())),
        human_size(size_of(&store.workspaces_dir())),
    );
    if runs.is_empty() {
        println!("no runs yet");
    }
    for run in runs.iter().rev().take(last) {
        let count = |f: fn(&Outcome) -> bool| run.stages.iter().filter(|(_, o)| f(o)).count();
        let ran = count(|o| matches!(o, Outcome::Ran { .. }));
        let cached = count(|o| matches!(o, Outcome::Cached { .. } | Outcome::Fetched { .. }));
        let failed = count(|o| matches!(o, Outcome::Failed { .. }));
        let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
        let interrupted = count(|o| matches!(o, Outcome::Interrupted { .. }));
        let state = match (run.state(), interrupted, failed + skipped) {
            (RunState::Killed, _, _) => "KILLED",
            (RunState::Running, _, _) => "RUNNING",
            (RunState::Ended, 1.., _) => "INTERRUPTED",
            (RunState::Ended, 0, 1..) => "FAILED",
            _ => "ok",
        };
        println!(
            "{}  {:<20} {state:<6} {ran} ran, {cached} cached, {failed} failed, {skipped} skipped  ({:.1}s)",
            format_time(run.started),
            run.pipeline,
            run.seconds
        );
        if let Some(remote) = &run.remote {
            println!("    {}", remote_traffic(remote));
        }
        for (stage, outcome) in &run.stages {
            match outcome {
                Outcome::Failed { error } => {
                    println!("    {stage}: {}", error.lines().next().unwrap_or_default())
                }
                Outcome::Interrupted { kept: Some(kept) } => {
                    println!("    {stage}: interrupted; the next run continues from {kept}")
                }
                Outcome::Interrupted { kept: None } => {
                    println!("    {stage}: interrupted; the next run starts it over")
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// `remote http://host/cache: fetched 3 results (12.0 MB, 40.0 MB/s), sent 1 (…)`, and the
/// warning that turned it off.
fn remote_traffic(remote: &RemoteTraffic) -> String {
    let moved = |transfer: &Transfer| {
        let rate = transfer.bytes as f64 / transfer.seconds.max(1e-3);
        format!(
            "{} ({}, {}/s)",
            transfer.results,
            human_size(transfer.bytes),
            human_size(rate as u64)
        )
    };
    let mut line = format!(
        "remote {}: fetched {}, sent {}",
        remote.location,
        moved(&remote.fetched),
        moved(&remote.sent)
    );
    if let Some(warning) = &remote.warning {
        line.push_str(&format!("; {warning}"));
    }
    line
}

//! What Slurm says about jobs (`squeue`), and cancelling them (`scancel`).
//!
//! `squeue --states=all` lists pending and running jobs and those that ended recently; without
//! an accounting database Slurm forgets an ended job after `MinJobAge` (5 minutes by default),
//! which is why each job also leaves an exit-status file (see `state`).
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

/// Job states after which Slurm runs nothing more of a job.
const ENDED: &[&str] = &[
    "BOOT_FAIL",
    "CANCELLED",
    "COMPLETED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "SPECIAL_EXIT",
    "TIMEOUT",
];

/// A job as `squeue` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// `PENDING`, `RUNNING`, `COMPLETED`, `CANCELLED`, … (Slurm's JOB STATE CODES).
    pub state: String,
    /// Why it is pending or ended, e.g. `Dependency`, `JobHeldUser`, `NonZeroExitCode`.
    pub reason: String,
}

impl Listed {
    pub fn ended(&self) -> bool {
        ENDED.contains(&self.state.as_str())
    }

    pub fn pending(&self) -> bool {
        self.state == "PENDING" || self.state.starts_with("REQUEUE")
    }
}

/// The program's path when it is on PATH.
pub fn find_program(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The jobs among `ids` that Slurm still knows, by id.
pub fn list(ids: &[&str]) -> anyhow::Result<HashMap<String, Listed>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let output = Command::new("squeue")
        .args(["--noheader", "--states=all", "--format=%i|%T|%r", "--jobs"])
        .arg(ids.join(","))
        .output()
        .context("cannot run squeue")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        // Every id is one Slurm has forgotten.
        if stderr.contains("Invalid job id") {
            return Ok(HashMap::new());
        }
        bail!("squeue failed ({}): {}", output.status, stderr.trim());
    }
    Ok(parse(&String::from_utf8_lossy(&output.stdout)))
}

fn parse(text: &str) -> HashMap<String, Listed> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.trim().splitn(3, '|');
            let (id, state, reason) = (fields.next()?, fields.next()?, fields.next()?);
            Some((id.to_string(), Listed { state: state.to_string(), reason: reason.to_string() }))
        })
        .collect()
}

/// `scancel` on `ids`.
pub fn cancel(ids: &[&str]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let output = Command::new("scancel").args(ids).output().context("cannot run scancel")?;
    if !output.status.success() {
        bail!(
            "scancel {} failed ({}): {}",
            ids.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_squeue_lines() {
        let listed = parse("12|COMPLETED|None\n13|PENDING|DependencyNeverSatisfied\nnoise\n");
        assert_eq!(listed.len(), 2);
        assert!(listed["12"].ended() && !listed["12"].pending());
        assert!(listed["13"].pending() && listed["13"].reason == "DependencyNeverSatisfied");
    }
}

//! `kill -9` of `ablate run` at pseudo-random moments, 20 times: after every kill the cache
//! passes `ablate verify` and holds no partial result, and the next run completes. Then `gc`
//! removes what the trials left behind and nothing the last one needs.
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Workspace, text};

const TRIALS: u64 = 20;

/// Every published entry has its record and output; `ablate verify` finds nothing corrupt.
fn assert_cache_sound(ws: &Workspace, trial: u64) {
    for entry in ws.entries() {
        assert!(
            entry.join("record.json").is_file() && entry.join("out").is_dir(),
            "trial {trial}: partial entry {entry:?}"
        );
    }
    let verify = ws.ablate(&["verify"]);
    assert!(verify.status.success(), "trial {trial}: verify failed:\n{}", text(&verify));
}

#[test]
fn runs_killed_at_random_moments_lose_nothing() {
    let ws = Workspace::new();
    // A data seed no trial uses: the file as written reaches nothing gc must keep.
    ws.write("p.yaml", &common::TINY.replace("train: 48", "seed: 5000, train: 48"));
    // How long a run takes here, to spread the kills over it.
    let started = Instant::now();
    ws.run("p.yaml", &["data.seed=1000"]);
    let full = started.elapsed();

    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut killed_mid_run = 0;
    for trial in 0..TRIALS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Within the first three quarters of a run: runs vary with the machine's load, and a
        // kill after the run ended tests nothing.
        let delay = full.mul_f64(0.75 * (state % 1000) as f64 / 1000.0);
        // Each trial has new data to make and train on, so kills land in every stage.
        let seed = format!("data.seed={trial}");
        let mut child = ws
            .command(&["run", "p.yaml", "--device", "cpu", "--set", &seed])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100)); // the worker follows its parent
        assert_cache_sound(&ws, trial);

        let output = ws.ablate(&["run", "p.yaml", "--device", "cpu", "--set", &seed]);
        assert!(
            output.status.success(),
            "trial {trial}: the run after the kill failed:\n{}",
            text(&output)
        );
        assert_cache_sound(&ws, trial);
    }
    assert!(
        killed_mid_run >= TRIALS / 2,
        "only {killed_mid_run} of {TRIALS} kills hit a running run"
    );
    let staging = std::fs::read_dir(ws.path("cache/staging")).unwrap().count();
    assert_eq!(staging, 0, "leftover staging folders are cleaned");

    // Only the last trial's data seed is current: gc keeping the last run alone removes every
    // other trial's results and training workspaces, and keeps all the current pipeline needs.
    let gc = ws.ablate(&["gc", "--keep-runs", "1", "--apply"]);
    assert!(gc.status.success(), "{}", text(&gc));
    let workspaces = std::fs::read_dir(ws.path("cache/work")).unwrap().count();
    assert_eq!(workspaces, 1, "the current training's workspace alone is kept:\n{}", text(&gc));
    assert_eq!(ws.entries().len(), 5, "the current run's five results are kept");
    let last = format!("data.seed={}", TRIALS - 1);
    assert!(
        ws.run("p.yaml", &[&last]).is_empty(),
        "nothing the current pipeline needs was removed"
    );
}

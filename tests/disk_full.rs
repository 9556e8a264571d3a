//! A full disk while a stage writes its result: the run fails with the OS's "No space left on
//! device" naming the stage and the file, nothing partial is published, and once there is room
//! again the next run completes. The cache lives on a 4 MiB tmpfs (a training checkpoint of the
//! tiny ResNet18 needs ~90 MB); mounting needs root, as on the CI machines — elsewhere the test
//! says it was skipped.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Workspace, text};

/// A tmpfs mounted for the test's duration.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status();
        mounted.is_ok_and(|s| s.success()).then(|| Tmpfs(at.to_path_buf()))
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_stage_cleanly_and_publishes_nothing_partial() {
    let ws = Workspace::new();
    ws.write("p.yaml", common::TINY);
    let Some(disk) = Tmpfs::mount(&ws.path("cache"), "4m") else {
        eprintln!("SKIPPED: mounting a tmpfs needs root");
        return;
    };
    let output = ws.ablate(&["run", "p.yaml", "--device", "cpu"]);
    let log = text(&output);
    assert!(!output.status.success(), "{log}");
    assert!(log.contains("No space left on device"), "{log}");
    assert!(
        log.contains("✗ train failed: cannot write"),
        "the stage and the file that ran out of space are named:\n{log}"
    );
    for entry in ws.entries() {
        assert!(entry.join("record.json").is_file(), "partial entry {entry:?}");
    }
    let verify = ws.ablate(&["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert_eq!(ws.entries().len(), 2, "only `data` and `model` fitted");

    disk.resize("256m");
    let ran = ws.run("p.yaml", &[]);
    assert_eq!(ran, ["evaluate", "export", "train"], "the next run completes what did not fit");
    assert_eq!(std::fs::read_dir(ws.path("cache/staging")).unwrap().count(), 0);
}

//! The build and the machine a run is on, kept in its run record so that a result's provenance
//! (`ablate report`) says what computed it.
//!
//! ablate's version and the git commit it was built from (`build.rs` records `git rev-parse
//! HEAD` when the source is a git checkout); libtorch's version as the keys know it (from the
//! worker binary, see `toolchain`); on a GPU its name and driver from `nvidia-smi`, on the CPU
//! the processor's model name from `/proc/cpuinfo`; the host name; the git state of the pipeline
//! file's folder (commit, dirty, the digest of its diff). Whatever cannot be found is left out,
//! never guessed.
use std::path::Path;
use std::process::Command;

use ablate_core::keys::Toolchain;
use ablate_core::run_record::{Environment, SourceState};

/// The environment of a run on `device_kind` (`cpu` or `cuda`) with `toolchain`'s keys, of the
/// pipeline in `pipeline_dir`.
pub fn current(toolchain: &Toolchain, device_kind: &str, pipeline_dir: &Path) -> Environment {
    let (device_name, driver) = match device_kind {
        "cuda" => gpus(),
        _ => (cpu_model(), None),
    };
    Environment {
        ablate_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        ablate_commit: option_env!("ABLATE_COMMIT").map(str::to_string),
        libtorch: toolchain.device().get("libtorch").cloned(),
        device_name,
        driver,
        host: host_name(),
        pipeline_source: source_state(pipeline_dir),
    }
}

/// The git state of the work tree holding `dir`; `None` outside one, or without git.
fn source_state(dir: &Path) -> Option<SourceState> {
    let git = |args: &[&str]| -> Option<Vec<u8>> {
        let output = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
        output.status.success().then_some(output.stdout)
    };
    let commit = String::from_utf8(git(&["rev-parse", "--verify", "-q", "HEAD"])?).ok()?;
    let status = git(&["status", "--porcelain", "--untracked-files=normal"])?;
    let diff = git(&["diff", "HEAD", "--binary"])?;
    Some(SourceState {
        commit: commit.trim().to_string(),
        dirty: !status.is_empty(),
        diff: (!diff.is_empty()).then(|| blake3::hash(&diff).to_hex().to_string()),
    })
}

/// The names of the GPUs (distinct, joined) and their driver version, from `nvidia-smi`.
fn gpus() -> (Option<String>, Option<String>) {
    let output = Command::new("nvidia-smi")
        .args(["--query-gpu=name,driver_version", "--format=csv,noheader"])
        .output();
    let Ok(output) = output.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()) else {
        return (None, None);
    };
    let (mut names, mut drivers): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for line in output.lines() {
        if let Some((name, driver)) = line.split_once(',') {
            for (list, value) in [(&mut names, name.trim()), (&mut drivers, driver.trim())] {
                if !value.is_empty() && !list.iter().any(|v| v == value) {
                    list.push(value.to_string());
                }
            }
        }
    }
    let joined = |list: Vec<String>| (!list.is_empty()).then(|| list.join(", "));
    (joined(names), joined(drivers))
}

/// `cpu (<model name>)` from `/proc/cpuinfo`, or `cpu` where it says none.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim()));
    Some(match model {
        Some(model) if !model.is_empty() => format!("cpu ({model})"),
        _ => "cpu".to_string(),
    })
}

fn host_name() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer, which lives on this stack.
    let ok = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) } == 0;
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let name = String::from_utf8_lossy(&buffer[..end]).into_owned();
    (ok && !name.is_empty()).then_some(name)
}

/// This program as a report names its generator: `ablate 0.1.0 (3f2a1c7d9e0b)`, the commit where
/// the build recorded one.
pub fn generator() -> String {
    let version = env!("CARGO_PKG_VERSION");
    match option_env!("ABLATE_COMMIT") {
        Some(commit) => format!("ablate {version} ({})", &commit[..12.min(commit.len())]),
        None => format!("ablate {version}"),
    }
}

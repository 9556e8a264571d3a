//! The toolchain part of cache keys (`ablate_core::keys::Toolchain`).
//!
//! ablate's version enters every key. Device stages' keys also get the device kind (`cpu` or
//! `cuda`: kernels differ) and the versions of what computes them: libtorch, and on a GPU the
//! CUDA runtime and cuDNN libtorch was built with. Those versions come from the worker binary,
//! the process that links libtorch, never from how `ablate` was built: `ablate-torch
//! toolchain` answers once per worker binary and the answer is kept in
//! `cache/toolchain/<digest of the worker>.json`, and beside the worker binary
//! (`ablate-torch.toolchain.json`, naming the digest it is for), where a first `plan` finds it
//! before any cache exists. Planning therefore starts libtorch at most once per worker binary,
//! and with the stat cache the digest costs a `stat` after the first time.
use std::collections::BTreeMap;
use std::path::Path;

use ablate_core::digest::FileDigests;
use ablate_core::keys::Toolchain;
use ablate_core::store::{Store, write_atomically};
use anyhow::Context;
use serde::Deserialize;

/// What `ablate-torch toolchain` prints.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
struct Versions {
    libtorch: String,
    cuda_runtime: Option<i64>,
    cudnn: Option<i64>,
}

/// The toolchain of keys for stages run on `device_kind`; `device_stages` says whether the
/// pipeline has any (without, the worker is not consulted).
pub fn toolchain(
    store: &Store,
    digests: &FileDigests,
    device_kind: &str,
    device_stages: bool,
) -> anyhow::Result<Toolchain> {
    let common = BTreeMap::from([("ablate".to_string(), env!("CARGO_PKG_VERSION").to_string())]);
    let mut device = BTreeMap::from([("device".to_string(), device_kind.to_string())]);
    if device_stages {
        let versions = worker_versions(store, digests)?;
        device.insert("libtorch".into(), versions.libtorch);
        if device_kind == "cuda" {
            let show = |v: Option<i64>| v.map_or_else(|| "none".to_string(), |v| v.to_string());
            device.insert("cuda_runtime".into(), show(versions.cuda_runtime));
            device.insert("cudnn".into(), show(versions.cudnn));
        }
    }
    Ok(Toolchain::new(common, device))
}

/// The worker's versions, from the cache, else from the memo beside the worker binary (a first
/// plan, before any cache exists), else, the first time for this binary, from the worker.
fn worker_versions(store: &Store, digests: &FileDigests) -> anyhow::Result<Versions> {
    let worker = ablate_stages::worker::worker_path()?;
    let digest = digests.digest(&worker).with_context(|| {
        format!(
            "cannot read the torch worker {} (device stages' keys take libtorch's version from \
             it): build it with `make build`, or point ABLATE_TORCH_WORKER at it",
            worker.display()
        )
    })?;
    let memo = store.root().join("toolchain").join(format!("{digest}.json"));
    if let Some(versions) = std::fs::read(&memo).ok().and_then(|b| serde_json::from_slice(&b).ok())
    {
        return Ok(versions);
    }
    let beside = beside_worker(&worker);
    let remembered = std::fs::read(&beside)
        .ok()
        .and_then(|b| serde_json::from_slice::<WorkerMemo>(&b).ok())
        .filter(|m| m.worker_digest == digest);
    let versions = match remembered {
        Some(memo) => memo.versions,
        None => {
            let versions = ask(&worker)?;
            let memo = WorkerMemo { worker_digest: digest.clone(), versions: versions.clone() };
            // Best effort: the worker's folder may be read-only.
            let _ = write_atomically(&beside, &serde_json::to_vec(&memo)?);
            versions
        }
    };
    if store.writable() {
        std::fs::create_dir_all(memo.parent().expect("has a parent"))?;
        write_atomically(&memo, &serde_json::to_vec(&versions)?)?;
    }
    Ok(versions)
}

/// The memo kept beside a worker binary: its versions, for the binary of that digest.
#[derive(Deserialize, serde::Serialize)]
struct WorkerMemo {
    worker_digest: String,
    versions: Versions,
}

/// `target/release/ablate-torch` → `target/release/ablate-torch.toolchain.json`.
fn beside_worker(worker: &Path) -> std::path::PathBuf {
    let mut name = worker.file_name().unwrap_or_default().to_os_string();
    name.push(".toolchain.json");
    worker.with_file_name(name)
}

fn ask(worker: &Path) -> anyhow::Result<Versions> {
    let output = std::process::Command::new(worker)
        .arg("toolchain")
        .output()
        .with_context(|| format!("cannot start the torch worker {}", worker.display()))?;
    if !output.status.success() {
        anyhow::bail!(
            "`{} toolchain` failed ({}): {}",
            worker.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    serde_json::from_slice(&output.stdout)
        .with_context(|| format!("`{} toolchain` printed no versions", worker.display()))
}

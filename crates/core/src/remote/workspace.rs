//! Workspaces on the remote cache (`ablate run --remote-workspaces`): the private state of a
//! stage that resumes (a training's last checkpoint), so that another machine continues it,
//! raising `epochs`, instead of starting over.
//!
//! `ws/<workspace key>` is a pointer ([`RemoteWorkspace`]) to the workspace's archive under
//! `cas/`. Unlike a result, a workspace changes as its stage goes on, so each upload *replaces*
//! the pointer ([`Transport::replace`]): the latest checkpoint is the one worth continuing. It is
//! sent after the stage's result is published, while the stage still holds the workspace's
//! lock, and fetched before a stage runs whose workspace is not here. The archive is checked
//! against the pointer's digest and size, and unpacked in a staging folder before one rename
//! makes it the stage's: a workspace is whole or absent. Nothing checks the checkpoint
//! itself against anything (the stage re-checks its own files as it does after a crash); as
//! with results, only trusted machines should write.
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::Transport;
use super::fetch::{Failure, read_small};
use super::{Blob, Body, FORMAT, Remote};
use crate::store::Store;

/// The pointer under `ws/<workspace key>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteWorkspace {
    /// The layout of the remote cache; 1.
    pub format: u32,
    pub archive: Blob,
}

fn pointer_path(workspace_key: &str) -> String {
    format!("ws/{workspace_key}")
}

impl Remote {
    /// Sends the workspace in `dir` under `workspace_key`, replacing the one the remote has;
    /// returns whether it sent it. Failures are reported as `Remote::upload` reports them.
    pub fn upload_workspace(
        &self,
        store: &Store,
        workspace_key: &str,
        dir: &Path,
        warn: &dyn Fn(&str),
    ) -> bool {
        if !self.mode.writes() || self.is_off() {
            return false;
        }
        let started = Instant::now();
        let sent = self.send_archive(store, dir).and_then(|archive| {
            let size = archive.size;
            let pointer = serde_json::to_vec_pretty(&RemoteWorkspace { format: FORMAT, archive })?;
            self.transport.replace(&pointer_path(workspace_key), Body::Bytes(&pointer))?;
            Ok(size)
        });
        match sent {
            Ok(bytes) => {
                self.count(true, bytes, started.elapsed());
                true
            }
            Err(error) => {
                let what = format!("cannot send the workspace {workspace_key}");
                self.report_send_failure(&error, &what, warn);
                false
            }
        }
    }

    /// The remote's workspace of `workspace_key`, checked and made `store`'s (the caller holds
    /// its lock, and the store has none); its archive's size, `None` when the remote has none
    /// or sent an invalid one (reported through `warn`).
    pub fn fetch_workspace(
        &self,
        store: &Store,
        workspace_key: &str,
        warn: &dyn Fn(&str),
    ) -> Option<u64> {
        if !self.mode.reads() || self.is_off() {
            return None;
        }
        let started = Instant::now();
        match self.receive_workspace(store, workspace_key) {
            Ok(Some(bytes)) => {
                self.count(false, bytes, started.elapsed());
                Some(bytes)
            }
            Ok(None) => None,
            Err(failure) => {
                self.reject(failure, warn, &|error| {
                    let location = self.location();
                    format!("the workspace {workspace_key} on {location} is not usable: {error:#}")
                });
                None
            }
        }
    }

    fn receive_workspace(
        &self,
        store: &Store,
        workspace_key: &str,
    ) -> Result<Option<u64>, Failure> {
        let Some(body) = self.transport.get(&pointer_path(workspace_key))? else {
            return Ok(None);
        };
        let pointer: RemoteWorkspace = serde_json::from_slice(&read_small(body, "pointer")?)
            .context("its pointer is not a workspace pointer")?;
        if pointer.format != FORMAT {
            return Err(Failure::Rejected(anyhow::anyhow!(
                "its pointer has format {}; this ablate reads format {FORMAT}",
                pointer.format
            )));
        }
        // In `staging/`, named after the workspace's lock (which the caller holds), so that
        // what a run that died leaves there is cleaned as its other staging folders are.
        let staging = store.root().join("staging");
        let unpacked = std::fs::create_dir_all(&staging)
            .and_then(|()| {
                let prefix = format!("work-{workspace_key}.");
                tempfile::Builder::new().prefix(&prefix).tempdir_in(&staging)
            })
            .with_context(|| format!("cannot write in {}", staging.display()))?;
        let Some(bytes) = self.unpack_verified(&pointer.archive, unpacked.path(), "pointer")?
        else {
            return Ok(None);
        };
        let dir = store.workspaces_dir().join(workspace_key);
        std::fs::create_dir_all(store.workspaces_dir())
            .and_then(|()| std::fs::rename(unpacked.keep(), &dir))
            .with_context(|| format!("cannot make {} the workspace", dir.display()))?;
        Ok(Some(bytes))
    }
}

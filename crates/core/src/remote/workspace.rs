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
use std::io::{self, BufReader, BufWriter, Read, Seek};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::Transport;
use super::fetch::Hashing;
use super::{Blob, Body, FORMAT, Remote, TransportError, archive, blob_path};
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
        match self.send_workspace(store, workspace_key, dir) {
            Ok(bytes) => {
                self.count(true, bytes, started.elapsed());
                true
            }
            Err(error) => {
                self.report(&error, &format!("cannot send the workspace {workspace_key}"), warn);
                false
            }
        }
    }

    fn send_workspace(
        &self,
        store: &Store,
        workspace_key: &str,
        dir: &Path,
    ) -> anyhow::Result<u64> {
        let staging = store.root().join("staging");
        std::fs::create_dir_all(&staging)?;
        let file = tempfile::tempfile_in(&staging)
            .with_context(|| format!("cannot write in {}", staging.display()))?;
        let mut packed = Hashing {
            inner: BufWriter::with_capacity(1 << 18, file),
            hasher: blake3::Hasher::new(),
            bytes: 0,
        };
        archive::pack(dir, &mut packed)?;
        let archive =
            Blob { digest: packed.hasher.finalize().to_hex().to_string(), size: packed.bytes };
        let mut file = packed.inner.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        let blob = blob_path(&archive.digest);
        if !self.transport.exists(&blob)? {
            self.transport.put_new(&blob, Body::File(&file))?;
        }
        let size = archive.size;
        let pointer = serde_json::to_vec_pretty(&RemoteWorkspace { format: FORMAT, archive })?;
        self.transport.replace(&pointer_path(workspace_key), Body::Bytes(&pointer))?;
        Ok(size)
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
            Err(error) => {
                let what =
                    format!("the workspace {workspace_key} on {} is not usable", self.location());
                self.report(&error, &what, warn);
                None
            }
        }
    }

    fn receive_workspace(&self, store: &Store, workspace_key: &str) -> anyhow::Result<Option<u64>> {
        let Some(body) = self.transport.get(&pointer_path(workspace_key))? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        body.take(1 << 20).read_to_end(&mut bytes)?;
        let pointer: RemoteWorkspace =
            serde_json::from_slice(&bytes).context("its pointer is not a workspace pointer")?;
        if pointer.format != FORMAT {
            bail!("its pointer has format {}; this ablate reads format {FORMAT}", pointer.format);
        }
        let Some(body) = self.transport.get(&blob_path(&pointer.archive.digest))? else {
            return Ok(None);
        };
        // In `staging/`, named after the workspace's lock (which the caller holds), so that
        // what a run that died leaves there is cleaned as its other staging folders are.
        let staging = store.root().join("staging");
        std::fs::create_dir_all(&staging)?;
        let unpacked = tempfile::Builder::new()
            .prefix(&format!("work-{workspace_key}."))
            .tempdir_in(&staging)?;
        let mut body = Hashing {
            inner: BufReader::with_capacity(1 << 18, body),
            hasher: blake3::Hasher::new(),
            bytes: 0,
        };
        archive::unpack(&mut body, unpacked.path())?;
        io::copy(&mut body, &mut io::sink())?;
        let digest = body.hasher.finalize().to_hex().to_string();
        if digest != pointer.archive.digest || body.bytes != pointer.archive.size {
            bail!(
                "its archive has digest {digest} and {} bytes, its pointer says {} and {} bytes",
                body.bytes,
                pointer.archive.digest,
                pointer.archive.size
            );
        }
        let workspaces = store.workspaces_dir();
        std::fs::create_dir_all(&workspaces)?;
        let dir = workspaces.join(workspace_key);
        std::fs::rename(unpacked.keep(), &dir)
            .with_context(|| format!("cannot make {} the workspace", dir.display()))?;
        Ok(Some(body.bytes))
    }

    /// Reports a failed transfer: a server failure turns the remote off (one warning), any
    /// other is named by `what`.
    fn report(&self, error: &anyhow::Error, what: &str, warn: &dyn Fn(&str)) {
        match error.chain().find_map(|e| super::transport_error(e)) {
            Some(transport @ TransportError::Unreachable { .. })
            | Some(transport @ TransportError::Denied { .. })
            | Some(transport @ TransportError::Status { .. }) => {
                if let Some(warning) = self.turn_off(transport) {
                    warn(&warning);
                }
            }
            _ => warn(&format!("remote cache: {what}: {error:#}")),
        }
    }
}

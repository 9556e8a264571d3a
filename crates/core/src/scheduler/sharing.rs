//! The scheduler's side of a remote cache: a stage that is not cached here is fetched before
//! it would run (under its key's lock, so that two runs on one machine fetch it once), and a
//! stage that ran is sent (by `Uploads` in a whole run, at once by `run_only`). A local hit
//! asks nothing of the remote. With `--remote-workspaces`, an extendable stage's workspace is
//! fetched when it has none here, and sent after its result is published.
use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use super::Scheduler;
use crate::disk::human_size;
use crate::fingerprint::StageKey;
use crate::interrupt::continues_from;
use crate::pipeline::StageSpec;
use crate::remote::Fetched;
use crate::run_record::Outcome;
use crate::store::{Entry, RefEntry};

impl Scheduler<'_> {
    pub(super) fn warn(&self, line: &str) {
        self.progress.line(&format!("warning: {line}"));
    }

    /// The result of `key` from the remote cache, published here; the caller holds the lock.
    pub(super) fn fetch(&self, key: &str) -> Option<Fetched> {
        self.remote?.fetch(self.store, key, &|line| self.warn(line))
    }

    /// A fetched result as the stage's: its ref, and trusted for the rest of the run (it was
    /// verified as it arrived).
    pub(super) fn fetched(
        &self,
        spec: &StageSpec,
        key: &str,
        fetched: Fetched,
        verified: &Mutex<HashSet<StageKey>>,
    ) -> anyhow::Result<(Outcome, Entry)> {
        let pipeline = &self.pipeline.name;
        self.store.write_ref(
            pipeline,
            &spec.name,
            &RefEntry::of(self.pipeline, &spec.name, key),
        )?;
        verified.lock().expect("verified set").insert(key.into());
        self.progress.line(&format!("⇣ {} fetched ({})", spec.name, human_size(fetched.bytes)));
        let summary = fetched.entry.record.summary.clone();
        Ok((Outcome::Fetched { key: key.into(), summary, bytes: fetched.bytes }, fetched.entry))
    }

    /// The result of an upstream stage for `run_only`: the local one, or the remote's.
    pub(super) fn upstream_entry(&self, key: &str) -> anyhow::Result<Option<Entry>> {
        if let Some(entry) = self.store.entry(key)? {
            return Ok(Some(entry));
        }
        if self.remote.is_none() {
            return Ok(None);
        }
        let _lock = self.store.lock(key)?;
        Ok(match self.store.entry(key)? {
            Some(entry) => Some(entry),
            None => self.fetch(key).map(|fetched| fetched.entry),
        })
    }

    /// Sends a result now (`run_only`, whose process ends with the stage).
    pub(super) fn send(&self, entry: &Entry) {
        if let Some(remote) = self.remote {
            remote.upload(self.store, entry, &|line| self.warn(line));
        }
    }

    /// With `--remote-workspaces`, the remote's workspace of `workspace_key` where the store
    /// has none (the caller holds the workspace's lock).
    pub(super) fn fetch_workspace(&self, spec: &StageSpec, workspace_key: &str) {
        let Some(remote) = self.remote.filter(|r| r.shares_workspaces()) else { return };
        let dir = self.store.workspaces_dir().join(workspace_key);
        if dir.exists() {
            return;
        }
        if let Some(bytes) = remote.fetch_workspace(self.store, workspace_key, &|l| self.warn(l)) {
            let from = continues_from(&dir).map(|f| format!(": continues from {f}"));
            let line = format!(
                "⇣ {} workspace fetched ({}){}",
                spec.name,
                human_size(bytes),
                from.unwrap_or_default()
            );
            self.progress.line(&line);
        }
    }

    /// With `--remote-workspaces`, sends the workspace in `dir` (its stage's result is
    /// published; the caller holds the workspace's lock).
    pub(super) fn send_workspace(&self, workspace_key: &str, dir: &Path) {
        if let Some(remote) = self.remote.filter(|r| r.shares_workspaces()) {
            remote.upload_workspace(self.store, workspace_key, dir, &|line| self.warn(line));
        }
    }
}

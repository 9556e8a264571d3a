//! Uploading: a result's archive, then its record (the commit point), each stored only where
//! it is missing; [`Uploads`] sends a run's results on a few threads as they are published.
use std::io::{BufWriter, Seek};
use std::path::Path;
use std::sync::{Mutex, mpsc};
use std::thread::Scope;
use std::time::Instant;

use anyhow::Context;

use super::fetch::Hashing;
use super::{Blob, Body, FORMAT, Remote, RemoteRecord, Stored, archive, blob_path, record_path};
use crate::store::{Entry, Store};

/// At most this many uploads (and `pull`'s downloads) at once.
pub const PARALLEL_TRANSFERS: usize = 4;

impl Remote {
    /// Sends the result in `entry` unless the remote has its record already; returns whether it
    /// sent it. A server failure turns the remote off (see `Remote::turn_off`); a result that
    /// cannot be read here is reported through `warn`.
    pub fn upload(&self, store: &Store, entry: &Entry, warn: &dyn Fn(&str)) -> bool {
        if !self.mode.writes() || self.is_off() {
            return false;
        }
        let started = Instant::now();
        match self.send(store, entry) {
            Ok(Some(bytes)) => {
                self.count(true, bytes, started.elapsed());
                true
            }
            Ok(None) => false,
            Err(error) => {
                let what = format!("cannot send the result {}", entry.record.key);
                self.report_send_failure(&error, &what, warn);
                false
            }
        }
    }

    /// Says why a send failed: a server failure turns the remote off (see
    /// `Remote::turn_off`), any other is reported as `what` through `warn`.
    pub(super) fn report_send_failure(
        &self,
        error: &anyhow::Error,
        what: &str,
        warn: &dyn Fn(&str),
    ) {
        match error.downcast_ref::<super::TransportError>() {
            Some(transport) => {
                if let Some(warning) = self.turn_off(transport) {
                    warn(&warning);
                }
            }
            None => warn(&format!("remote cache: {what}: {error:#}")),
        }
    }

    /// The archive's size when it sent the result, `None` when the remote had it.
    fn send(&self, store: &Store, entry: &Entry) -> anyhow::Result<Option<u64>> {
        let key = &entry.record.key;
        if self.transport.exists(&record_path(key))? {
            return Ok(None);
        }
        let archive = self.send_archive(store, &entry.dir)?;
        let size = archive.size;
        let record = RemoteRecord { format: FORMAT, record: entry.record.clone(), archive };
        let json = serde_json::to_vec_pretty(&record)?;
        let stored = self.transport.put_new(&record_path(key), Body::Bytes(&json))?;
        Ok((stored == Stored::Created).then_some(size))
    }
}

impl Remote {
    /// Packs the folder `dir` into an archive (`archive::pack`) and stores it under `cas/`
    /// unless it is there; the archive's digest and size.
    pub(super) fn send_archive(&self, store: &Store, dir: &Path) -> anyhow::Result<Blob> {
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
        Ok(archive)
    }
}

/// Results sent by [`PARALLEL_TRANSFERS`] threads of a scope while the run goes on.
pub struct Uploads {
    queue: Mutex<Option<mpsc::Sender<Entry>>>,
}

impl Uploads {
    /// Starts the threads in `scope`; they end once [`Uploads::finish`] is called and the
    /// queue is empty.
    pub fn start<'scope, 'env>(
        scope: &'scope Scope<'scope, 'env>,
        remote: &'env Remote,
        store: &'env Store,
        warn: &'env (dyn Fn(&str) + Sync),
    ) -> Uploads {
        let (tx, rx) = mpsc::channel::<Entry>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for _ in 0..PARALLEL_TRANSFERS {
            let rx = rx.clone();
            scope.spawn(move || {
                loop {
                    let next = rx.lock().expect("queue").recv();
                    let Ok(entry) = next else { break };
                    remote.upload(store, &entry, warn);
                }
            });
        }
        Uploads { queue: Mutex::new(Some(tx)) }
    }

    pub fn send(&self, entry: Entry) {
        if let Some(queue) = self.queue.lock().expect("queue").as_ref() {
            let _ = queue.send(entry);
        }
    }

    /// No more results: the threads end when the queue is empty.
    pub fn finish(&self) {
        self.queue.lock().expect("queue").take();
    }
}

//! Fetching: a record, checked against its key, then its archive, checked against the record,
//! published through the store (see the module doc of `remote`).
use std::fs;
use std::io::{self, BufReader, Write};
use std::time::Instant;

use anyhow::{Context, bail};

use super::{FORMAT, Remote, RemoteRecord, TransportError, archive, blob_path, record_path};
use crate::store::{Entry, Store};

/// A result taken from the remote cache and published in the local one.
pub struct Fetched {
    pub entry: Entry,
    /// The archive's size.
    pub bytes: u64,
}

/// Why a fetch found nothing usable.
enum Failure {
    /// The server failed: the remote turns off.
    Transport(TransportError),
    /// What it sent is not a valid result of the key: discarded.
    Rejected(anyhow::Error),
}

impl From<TransportError> for Failure {
    fn from(error: TransportError) -> Failure {
        match error {
            TransportError::CutShort { .. } => Failure::Rejected(error.into()),
            _ => Failure::Transport(error),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure::Rejected(error)
    }
}

impl Remote {
    /// The record of `key` on the remote, when it has one and may be read; an invalid one is
    /// reported through `warn` and is a miss.
    pub fn record(&self, key: &str, warn: &dyn Fn(&str)) -> Option<RemoteRecord> {
        if !self.mode.reads() || self.is_off() {
            return None;
        }
        let mut bytes = Vec::new();
        let checked = match self.transport.get(&record_path(key), &mut bytes) {
            Ok(false) => return None,
            Ok(true) => check(key, &bytes).map_err(Failure::Rejected),
            Err(error) => Err(error.into()),
        };
        checked.map_err(|failure| self.reject(key, failure, warn)).ok()
    }

    /// The result of `key`, fetched, verified and published in `store` (the caller holds the
    /// key's lock); `None` when the remote does not have it whole, or sent something invalid.
    pub fn fetch(&self, store: &Store, key: &str, warn: &dyn Fn(&str)) -> Option<Fetched> {
        let started = Instant::now();
        let remote = self.record(key, warn)?;
        match self.download(store, remote) {
            Ok(Some(fetched)) => {
                self.count(false, fetched.bytes, started.elapsed());
                Some(fetched)
            }
            Ok(None) => None,
            Err(failure) => {
                self.reject(key, failure, warn);
                None
            }
        }
    }

    /// The archive of `remote` into a staging folder, hashed as it arrives, then unpacked and
    /// adopted by the store; `None` when the archive is missing.
    fn download(&self, store: &Store, remote: RemoteRecord) -> Result<Option<Fetched>, Failure> {
        let key = remote.record.key.clone();
        let staging = store.staging(&key)?;
        let path = staging.dir.join("archive.tar");
        let mut file = Hashing {
            file: fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        };
        if !self.transport.get(&blob_path(&remote.archive.digest), &mut file)? {
            return Ok(None);
        }
        file.file.flush().map_err(TransportError::Local)?;
        let digest = file.hasher.finalize().to_hex().to_string();
        if digest != remote.archive.digest || file.bytes != remote.archive.size {
            return Err(Failure::Rejected(anyhow::anyhow!(
                "its archive has digest {digest} and {} bytes, its record says {} and {} bytes",
                file.bytes,
                remote.archive.digest,
                remote.archive.size
            )));
        }
        let reader = BufReader::new(fs::File::open(&path).map_err(TransportError::Local)?);
        archive::unpack(reader, &staging.dir)?;
        fs::remove_file(&path).map_err(TransportError::Local)?;
        let entry = store.adopt(staging, remote.record)?;
        Ok(Some(Fetched { entry, bytes: file.bytes }))
    }

    /// Says why nothing usable came for `key`: a server failure turns the remote off (one
    /// warning), an invalid result is discarded (a warning naming the key).
    fn reject(&self, key: &str, failure: Failure, warn: &dyn Fn(&str)) {
        match failure {
            Failure::Transport(error) => {
                if let Some(warning) = self.turn_off(&error) {
                    warn(&warning);
                }
            }
            Failure::Rejected(error) => warn(&format!(
                "remote cache: the result {key} on {} is not valid ({error:#}); discarded, it is computed here",
                self.location()
            )),
        }
    }
}

/// Checks that `bytes` are the record of the result of `key`.
fn check(key: &str, bytes: &[u8]) -> anyhow::Result<RemoteRecord> {
    let remote: RemoteRecord =
        serde_json::from_slice(bytes).context("its record is not a result record")?;
    if remote.format != FORMAT {
        bail!("its record has format {}; this ablate reads format {FORMAT}", remote.format);
    }
    let hashed = remote.record.fingerprint.key();
    if remote.record.key != key || hashed.as_deref() != Some(key) {
        bail!("its record is the record of another key ({})", hashed.unwrap_or_default());
    }
    Ok(remote)
}

/// A file that hashes and counts what is written to it.
pub(super) struct Hashing {
    pub(super) file: fs::File,
    pub(super) hasher: blake3::Hasher,
    pub(super) bytes: u64,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

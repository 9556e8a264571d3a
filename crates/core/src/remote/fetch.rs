//! Fetching: a record, checked against its key, then its archive, checked against the record,
//! published through the store (see the module doc of `remote`).
use std::io::{self, BufReader, Read, Write};
use std::time::Instant;

use anyhow::{Context, bail};

use super::{
    FORMAT, Remote, RemoteRecord, TransportError, archive, blob_path, record_path, transport_error,
};
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
        let checked = match self.transport.get(&record_path(key)) {
            Ok(None) => return None,
            Ok(Some(body)) => {
                read_record(body).and_then(|bytes| check(key, &bytes).map_err(Failure::Rejected))
            }
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

    /// The archive of `remote`, unpacked into a staging folder as it arrives while it is
    /// hashed, then checked and adopted by the store; `None` when the archive is missing.
    fn download(&self, store: &Store, remote: RemoteRecord) -> Result<Option<Fetched>, Failure> {
        let Some(body) = self.transport.get(&blob_path(&remote.archive.digest))? else {
            return Ok(None);
        };
        let staging = store.staging(&remote.record.key)?;
        let mut body = Hashing {
            inner: BufReader::with_capacity(1 << 18, body),
            hasher: blake3::Hasher::new(),
            bytes: 0,
        };
        // The archive ends before its last padding: the digest covers every byte sent.
        archive::unpack(&mut body, &staging.dir)
            .and_then(|()| Ok(io::copy(&mut body, &mut io::sink())?))
            .map_err(failed_read)?;
        let digest = body.hasher.finalize().to_hex().to_string();
        if digest != remote.archive.digest || body.bytes != remote.archive.size {
            return Err(Failure::Rejected(anyhow::anyhow!(
                "its archive has digest {digest} and {} bytes, its record says {} and {} bytes",
                body.bytes,
                remote.archive.digest,
                remote.archive.size
            )));
        }
        let entry = store.adopt(staging, remote.record)?;
        Ok(Some(Fetched { entry, bytes: body.bytes }))
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

/// A record's bytes (at most 1 MiB: records are a few kilobytes).
fn read_record(body: Box<dyn Read + Send>) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    body.take(1 << 20).read_to_end(&mut bytes).map_err(|error| {
        failed_read(anyhow::Error::new(error).context("its record cannot be read"))
    })?;
    Ok(bytes)
}

/// A download that failed: the server's failure when it stopped answering (the remote turns
/// off), else what it sent is rejected (a download cut short, an archive that is not one).
fn failed_read(error: anyhow::Error) -> Failure {
    match error.chain().find_map(transport_error) {
        Some(TransportError::Unreachable { url, reason }) => {
            let (url, reason) = (url.clone(), reason.clone());
            Failure::Transport(TransportError::Unreachable { url, reason })
        }
        _ => Failure::Rejected(error),
    }
}

/// A stream (`Read`) or a file (`Write`) that hashes and counts the bytes that pass.
pub(super) struct Hashing<T> {
    pub(super) inner: T,
    pub(super) hasher: blake3::Hasher,
    pub(super) bytes: u64,
}

impl<T: Read> Read for Hashing<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<T: Write> Write for Hashing<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

//! Fetching: a record, checked against its key, then its archive, checked against the record,
//! published through the store (see the module doc of `remote`).
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};

use super::{
    Blob, FORMAT, Remote, RemoteRecord, TransportError, archive, blob_path, record_path,
    transport_error,
};
use crate::store::{Entry, Store};

/// A result taken from the remote cache and published in the local one.
pub struct Fetched {
    pub entry: Entry,
    /// The archive's size.
    pub bytes: u64,
}

/// Why a fetch found nothing usable.
pub(super) enum Failure {
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
            Ok(Some(body)) => read_small(body, "record")
                .and_then(|bytes| check(key, &bytes).map_err(Failure::Rejected)),
            Err(error) => Err(error.into()),
        };
        checked.map_err(|failure| self.reject_result(key, failure, warn)).ok()
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
                self.reject_result(key, failure, warn);
                None
            }
        }
    }

    /// The archive of `remote`, unpacked into a staging folder as it arrives while it is
    /// hashed, then checked and adopted by the store; `None` when the archive is missing.
    fn download(&self, store: &Store, remote: RemoteRecord) -> Result<Option<Fetched>, Failure> {
        let staging = store.staging(&remote.record.key)?;
        let Some(bytes) = self.unpack_verified(&remote.archive, &staging.dir, "record")? else {
            return Ok(None);
        };
        let entry = store.adopt(staging, remote.record)?;
        Ok(Some(Fetched { entry, bytes }))
    }

    /// Downloads the archive `expected` names into the folder `into`, unpacking it as it
    /// arrives while it is hashed, and checks its digest and size (`named_by`: what named it,
    /// for the message of a mismatch); its size, `None` when the remote lacks it.
    pub(super) fn unpack_verified(
        &self,
        expected: &Blob,
        into: &Path,
        named_by: &str,
    ) -> Result<Option<u64>, Failure> {
        let Some(body) = self.transport.get(&blob_path(&expected.digest))? else {
            return Ok(None);
        };
        let mut body = Hashing {
            inner: BufReader::with_capacity(1 << 18, body),
            hasher: blake3::Hasher::new(),
            bytes: 0,
        };
        // The archive ends before its last padding: the digest covers every byte sent.
        archive::unpack(&mut body, into)
            .and_then(|()| Ok(io::copy(&mut body, &mut io::sink())?))
            .map_err(failed_read)?;
        let digest = body.hasher.finalize().to_hex().to_string();
        if digest != expected.digest || body.bytes != expected.size {
            return Err(Failure::Rejected(anyhow::anyhow!(
                "its archive has digest {digest} and {} bytes, its {named_by} says {} and {} bytes",
                body.bytes,
                expected.digest,
                expected.size
            )));
        }
        Ok(Some(body.bytes))
    }

    /// Says why nothing usable came: a server failure turns the remote off (one warning), an
    /// invalid object is discarded with the warning `invalid` words.
    pub(super) fn reject(
        &self,
        failure: Failure,
        warn: &dyn Fn(&str),
        invalid: &dyn Fn(&anyhow::Error) -> String,
    ) {
        match failure {
            Failure::Transport(error) => {
                if let Some(warning) = self.turn_off(&error) {
                    warn(&warning);
                }
            }
            Failure::Rejected(error) => warn(&format!("remote cache: {}", invalid(&error))),
        }
    }

    /// `reject` for the result of `key`.
    fn reject_result(&self, key: &str, failure: Failure, warn: &dyn Fn(&str)) {
        self.reject(failure, warn, &|error| {
            format!(
                "the result {key} on {} is not valid ({error:#}); discarded, it is computed here",
                self.location()
            )
        });
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

/// A record's or a pointer's bytes (`what`; at most 1 MiB: they are a few kilobytes).
pub(super) fn read_small(body: Box<dyn Read + Send>, what: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    body.take(1 << 20).read_to_end(&mut bytes).map_err(|error| {
        failed_read(anyhow::Error::new(error).context(format!("its {what} cannot be read")))
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

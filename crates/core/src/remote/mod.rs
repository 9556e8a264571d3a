//! The remote cache: results shared between machines through a content-addressed store that
//! any of them can reach (`ablate run --remote URL`, `ablate push`, `ablate pull`).
//!
//! ```text
//! cas/<blake3>   one archive per result: its out/ folder and metrics.parquet, packed (see
//!                `archive`), named by the blake3 digest of the archive's bytes
//! ac/<key>       the result's record (`RemoteRecord`): the local `Record` (fingerprint, output
//!                and metrics digests, summary) and the archive's digest and size
//! ws/<key>       with `--remote-workspaces`: the pointer to a workspace's latest archive under
//!                cas/, replaced by each upload (see `workspace`)
//! ```
//!
//! Uploading a result sends its archive first, then its record: the record is the commit point,
//! written last, so a machine that finds a record finds a complete result behind it, and an
//! upload killed halfway leaves at most an archive no record names. Each object is stored by
//! [`Transport::put_new`], which never shows a partial object under its final name (over
//! WebDAV: a `PUT` to a temporary name, then `MOVE` with `Overwrite: F`); an object that is
//! already there is left alone (another machine got there first; the archive is the same bytes,
//! and either record describes a valid result of the key).
//!
//! Fetching a result reads its record, checks that it is the record of the key asked for (its
//! key, and its fingerprint hashing to that key), downloads the archive into a staging folder of
//! the local store while hashing it, compares that digest with the record's, unpacks, and
//! publishes it through the store's rename after re-hashing `out/` and `metrics.parquet`
//! against the record's digests ([`Store::adopt`]). Any mismatch discards the download with a
//! warning naming the key, and the stage is computed here: nothing corrupt reaches the cache.
//! A record whose archive is missing is a miss.
//!
//! What cannot be checked: that a record's output belongs to its key. The key hashes the
//! stage's inputs; the output digest is whatever the writer computed, and only computing the
//! stage again could confirm it. A machine with write access can therefore poison the cache
//! with a consistent record and archive of a wrong result, which is why write access is for
//! trusted machines (CI) only.
//!
//! Failures of the server (down, refusing, slow past the timeouts, denying access) are not a
//! run's failures: the first one turns the remote off for the rest of the process with one
//! warning ([`Remote::warning`]), and the run goes on with the local cache. The transport is a
//! trait so that other stores (S3, whose conditional `PUT` gives `put_new`) can come beside
//! the HTTP one.
mod archive;
mod fetch;
mod pull;
mod upload;
mod workspace;

use std::fmt;
use std::io::{self, Read};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use fetch::Fetched;
pub use pull::{Pulled, pull};
pub use upload::{PARALLEL_TRANSFERS, Uploads};
pub use workspace::RemoteWorkspace;

use crate::run_record::{RemoteTraffic, Transfer};
use crate::store::Record;

/// The [`TransportError`] an error holds, if any: a stream from [`Transport::get`] fails with
/// an `io::Error` that wraps one, which readers on top (tar) may wrap again.
pub fn transport_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a TransportError> {
    let inner = || {
        let io = error.downcast_ref::<io::Error>()?;
        transport_error(io.get_ref()?)
    };
    error
        .downcast_ref::<TransportError>()
        .or_else(inner)
        .or_else(|| error.source().and_then(transport_error))
}

/// What an object store offers the remote cache: the HTTP transport and, later, others.
pub trait Transport: Send + Sync {
    /// Where the store is, without credentials: safe to print and record.
    fn location(&self) -> String;
    /// The object at `path` as a stream, `None` when there is none. A read of the stream that
    /// fails returns an `io::Error` that wraps a [`TransportError`] (see [`transport_error`]).
    fn get(&self, path: &str) -> Result<Option<Box<dyn Read + Send>>, TransportError>;
    /// Whether an object is at `path`.
    fn exists(&self, path: &str) -> Result<bool, TransportError>;
    /// Stores `body` at `path` unless an object is there already. No reader ever sees part of
    /// the body under `path`.
    fn put_new(&self, path: &str, body: Body<'_>) -> Result<Stored, TransportError>;
    /// Stores `body` at `path`, replacing what is there. No reader ever sees part of the body
    /// under `path`.
    fn replace(&self, path: &str, body: Body<'_>) -> Result<(), TransportError>;
}

/// What [`Transport::put_new`] stores: an archive (a file read from its start) or a record.
pub enum Body<'a> {
    File(&'a std::fs::File),
    Bytes(&'a [u8]),
}

/// How [`Transport::put_new`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    /// An object was there already and was left alone.
    AlreadyThere,
}

/// Why a request to the store failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// 401 or 403.
    #[error(
        "{url} refused access ({status}): check the user and password (in the URL or the netrc file) and that they may {action}"
    )]
    Denied { url: String, status: String, action: &'static str },
    /// No answer: refused connection, unknown host, timeout.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server ended a download before its end: an object written in place as it was
    /// read, or a connection cut. The download is discarded; the server is not blamed.
    #[error("the download from {url} was cut short ({reason})")]
    CutShort { url: String, reason: String },
    /// Any other status the protocol does not expect.
    #[error("{url} answered {status}")]
    Status { url: String, status: String },
    /// Reading or writing the local side of a transfer.
    #[error("{0}")]
    Local(#[from] std::io::Error),
}

/// What a run may do with the remote (`--remote-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
    ReadWrite,
}

impl Mode {
    pub fn reads(self) -> bool {
        self != Mode::Write
    }

    pub fn writes(self) -> bool {
        self != Mode::Read
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Read => "read",
            Mode::Write => "write",
            Mode::ReadWrite => "read-write",
        })
    }
}

/// The record under `ac/<key>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteRecord {
    /// The layout of the remote cache (see the module doc); 1.
    pub format: u32,
    pub record: Record,
    pub archive: Blob,
}

const FORMAT: u32 = 1;

/// An object under `cas/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
}

fn record_path(key: &str) -> String {
    format!("ac/{key}")
}

fn blob_path(digest: &str) -> String {
    format!("cas/{digest}")
}

/// A remote cache as one process uses it: its transport, what it may do, what it moved and the
/// first failure, after which it is off.
pub struct Remote {
    transport: Box<dyn Transport>,
    mode: Mode,
    /// Whether workspaces are shared too (`--remote-workspaces`).
    workspaces: bool,
    off: Mutex<Option<String>>,
    traffic: Mutex<RemoteTraffic>,
}

impl Remote {
    pub fn new(transport: Box<dyn Transport>, mode: Mode) -> Remote {
        let traffic = RemoteTraffic { location: transport.location(), ..RemoteTraffic::default() };
        let (off, traffic) = (Mutex::new(None), Mutex::new(traffic));
        Remote { transport, mode, workspaces: false, off, traffic }
    }

    /// The same remote, sharing workspaces too when `shared`.
    pub fn sharing_workspaces(self, shared: bool) -> Remote {
        Remote { workspaces: shared, ..self }
    }

    /// Whether workspaces are shared (`--remote-workspaces`).
    pub fn shares_workspaces(&self) -> bool {
        self.workspaces
    }

    pub fn location(&self) -> String {
        self.transport.location()
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// What it fetched and sent so far, and the warning that turned it off, if any.
    pub fn traffic(&self) -> RemoteTraffic {
        let mut traffic = self.traffic.lock().expect("traffic").clone();
        traffic.warning = self.off.lock().expect("off").clone();
        traffic
    }

    /// Whether an earlier failure turned it off.
    fn is_off(&self) -> bool {
        self.off.lock().expect("off").is_some()
    }

    /// Turns it off for the rest of the process after `error`; returns the warning to print
    /// the first time, `None` after.
    fn turn_off(&self, error: &TransportError) -> Option<String> {
        let mut off = self.off.lock().expect("off");
        if off.is_some() {
            return None;
        }
        let warning = format!("remote cache: {error}; going on without it");
        *off = Some(warning.clone());
        Some(warning)
    }

    fn count(&self, sent: bool, bytes: u64, took: Duration) {
        let mut traffic = self.traffic.lock().expect("traffic");
        let transfer: &mut Transfer = if sent { &mut traffic.sent } else { &mut traffic.fetched };
        transfer.results += 1;
        transfer.bytes += bytes;
        transfer.seconds += took.as_secs_f64();
    }
}

//! The remote cache over HTTP, as Bazel's HTTP cache and WebDAV servers (nginx's dav module,
//! `rclone serve webdav`) speak it: `GET` and `HEAD` read, a new object is a `PUT` to a
//! temporary name beside it and a `MOVE` to its name with `Overwrite: F`, so that no reader
//! sees an object half written (rclone writes a `PUT` in place) and the first of two writers
//! wins (412 for the second). `If-None-Match` is not relied on: nginx ignores it on `PUT`.
//! Every request has bounded timeouts (`ABLATE_REMOTE_TIMEOUT` seconds to connect, for an
//! answer and between reads of a body; 30 by default).
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ablate_core::remote::{Body, Stored, Transport, TransportError};
use ureq::http::{Request, Response, StatusCode};

use super::endpoint::Endpoint;

pub(super) struct Http {
    agent: ureq::Agent,
    endpoint: Endpoint,
    /// Whether the folders objects go into have been made (see [`Http::make_folders`]).
    folders: OnceLock<()>,
}

static UPLOADS: AtomicU64 = AtomicU64::new(0);

impl Http {
    pub(super) fn new(endpoint: Endpoint, timeout: Duration) -> Http {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .timeout_connect(Some(timeout))
            .timeout_send_request(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .timeout_per_write(Some(timeout))
            .max_idle_connections_per_host(8)
            .build()
            .into();
        Http { agent, endpoint, folders: OnceLock::new() }
    }

    /// Makes the folders of the prefix, `cas/`, `ac/` and `ws/` (`MKCOL`), once per process before
    /// the first upload: nginx makes them itself (`create_full_put_path`), other WebDAV servers
    /// (rclone) refuse a `PUT` or `MOVE` into a missing folder. An answer that the folder
    /// exists, or any other, is left for the upload to meet.
    fn make_folders(&self) -> Result<(), TransportError> {
        if self.folders.get().is_some() {
            return Ok(());
        }
        let (origin, prefix) = match self.endpoint.base.match_indices('/').nth(2) {
            Some((at, _)) => self.endpoint.base.split_at(at),
            None => (self.endpoint.base.as_str(), ""),
        };
        let (mut path, mut folders) = (String::new(), Vec::new());
        for part in prefix.split('/').filter(|p| !p.is_empty()) {
            path = format!("{path}/{part}");
            folders.push(path.clone());
        }
        folders.extend(["cas", "ac", "ws"].map(|folder| format!("{path}/{folder}")));
        for folder in folders {
            self.call("MKCOL", &format!("{origin}{folder}/"), &[], None)?;
        }
        let _ = self.folders.set(());
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.endpoint.base)
    }

    /// Sends `method` to `url` with the credentials and `headers`.
    fn call(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
    ) -> Result<Response<ureq::Body>, TransportError> {
        let mut request = Request::builder().method(method).uri(url);
        if let Some(authorization) = &self.endpoint.authorization {
            request = request.header("Authorization", authorization);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        match body {
            None => self.send(request, (), url),
            Some(Body::File(file)) => self.send(request, file, url),
            Some(Body::Bytes(bytes)) => self.send(request, bytes, url),
        }
    }

    fn send(
        &self,
        request: ureq::http::request::Builder,
        body: impl ureq::AsSendBody,
        url: &str,
    ) -> Result<Response<ureq::Body>, TransportError> {
        let unreachable = |reason: String| TransportError::Unreachable { url: url.into(), reason };
        let request = request.body(body).map_err(|e| unreachable(e.to_string()))?;
        self.agent.run(request).map_err(|e| unreachable(e.to_string()))
    }

    /// A status the protocol does not expect, as an error: access denied, or any other.
    fn unexpected(url: &str, status: StatusCode, action: &'static str) -> TransportError {
        let (url, status) = (url.to_string(), status.to_string());
        match status.as_str().split(' ').next() {
            Some("401" | "403") => TransportError::Denied { url, status, action },
            _ => TransportError::Status { url, status },
        }
    }
}

impl Transport for Http {
    fn location(&self) -> String {
        self.endpoint.base.clone()
    }

    fn get(&self, path: &str) -> Result<Option<Box<dyn io::Read + Send>>, TransportError> {
        let url = self.url(path);
        let response = self.call("GET", &url, &[], None)?;
        match response.status() {
            StatusCode::OK => {
                Ok(Some(Box::new(Download { body: response.into_body().into_reader(), url })))
            }
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(Http::unexpected(&url, status, "read")),
        }
    }

    fn exists(&self, path: &str) -> Result<bool, TransportError> {
        let url = self.url(path);
        match self.call("HEAD", &url, &[], None)?.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            status => Err(Http::unexpected(&url, status, "read")),
        }
    }

    fn put_new(&self, path: &str, body: Body<'_>) -> Result<Stored, TransportError> {
        self.put(path, body, false)
    }

    fn replace(&self, path: &str, body: Body<'_>) -> Result<(), TransportError> {
        self.put(path, body, true).map(|_| ())
    }
}

impl Http {
    /// A `PUT` to a temporary name, then a `MOVE` to `path` (`Overwrite: T` when `replacing`;
    /// otherwise `F`, and 412 means an object was there already).
    fn put(&self, path: &str, body: Body<'_>, replacing: bool) -> Result<Stored, TransportError> {
        self.make_folders()?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let n = UPLOADS.fetch_add(1, Ordering::Relaxed);
        let temporary = self.url(&format!("{path}.upload-{}-{nanos}-{n}", std::process::id()));
        let status = self.call("PUT", &temporary, &[], Some(body))?.status();
        if !status.is_success() {
            return Err(Http::unexpected(&temporary, status, "write"));
        }
        let url = self.url(path);
        let overwrite = if replacing { "T" } else { "F" };
        let moved =
            self.call("MOVE", &temporary, &[("Destination", &url), ("Overwrite", overwrite)], None);
        let stored = match moved.map(|r| r.status()) {
            Ok(status) if status.is_success() => return Ok(Stored::Created),
            Ok(StatusCode::PRECONDITION_FAILED) if !replacing => Ok(Stored::AlreadyThere),
            Ok(status) => Err(Http::unexpected(&url, status, "write")),
            Err(error) => Err(error),
        };
        let _ = self.call("DELETE", &temporary, &[], None);
        stored
    }
}

/// A response's body whose failures say what they are: cut short (the server closed the
/// connection before the announced end), else unreachable (a timeout, a reset).
struct Download {
    body: ureq::BodyReader<'static>,
    url: String,
}

impl io::Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.body.read(buf).map_err(|e| {
            let url = self.url.clone();
            io::Error::other(match e.kind() {
                io::ErrorKind::UnexpectedEof => {
                    TransportError::CutShort { url, reason: e.to_string() }
                }
                _ => TransportError::Unreachable {
                    url,
                    reason: format!("the download stopped: {e}"),
                },
            })
        })
    }
}

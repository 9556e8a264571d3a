//! The remote cache as the command line opens it (`--remote URL` or `ABLATE_REMOTE`,
//! `--remote-mode`): the URL and its credentials (`endpoint`) and the HTTP transport (`http`).
//! What is stored and how it is checked is `ablate_core::remote`.
mod endpoint;
mod http;

use std::time::Duration;

use ablate_core::remote::{Mode, Remote};

/// Seconds to connect, to wait for an answer, and between two reads or writes of a body.
const TIMEOUT_SECONDS: f64 = 30.0;

/// The remote cache at `url`. Nothing is sent until a stage needs it.
pub fn open(url: &str, mode: Mode) -> anyhow::Result<Remote> {
    let endpoint = endpoint::Endpoint::parse(url)?;
    let timeout = match std::env::var("ABLATE_REMOTE_TIMEOUT") {
        Ok(text) => match text.parse::<f64>() {
            Ok(seconds) if seconds > 0.0 => seconds,
            _ => ablate_core::invalid!("ABLATE_REMOTE_TIMEOUT is {text:?}: give seconds, e.g. 30"),
        },
        Err(_) => TIMEOUT_SECONDS,
    };
    let transport = http::Http::new(endpoint, Duration::from_secs_f64(timeout));
    Ok(Remote::new(Box::new(transport), mode))
}

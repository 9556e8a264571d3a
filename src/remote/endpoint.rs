//! A remote cache's URL and its credentials: `http[s]://[user:password@]host[:port][/prefix]`,
//! or the user and password of the host's `machine` line in a netrc file (`ABLATE_NETRC`, else
//! `~/.netrc`). The credentials become an `Authorization` header and nothing else: the location
//! that messages and run records show has none.
use std::path::PathBuf;

use base64::Engine;

pub(super) struct Endpoint {
    /// `scheme://host[:port][/prefix]`, no trailing slash, no credentials.
    pub(super) base: String,
    /// `Basic …`, when there are credentials.
    pub(super) authorization: Option<String>,
}

impl Endpoint {
    pub(super) fn parse(url: &str) -> anyhow::Result<Endpoint> {
        let Some((scheme, rest)) = url.split_once("://") else {
            ablate_core::invalid!("the remote cache URL must start with http:// or https://");
        };
        if scheme != "http" && scheme != "https" {
            ablate_core::invalid!(
                "the remote cache URL must start with http:// or https://, not {scheme}://"
            );
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        if host.is_empty() {
            ablate_core::invalid!("the remote cache URL {scheme}://{path} names no host");
        }
        let credentials = match userinfo {
            Some(userinfo) => Some(match userinfo.split_once(':') {
                Some((user, password)) => (decode(user), decode(password)),
                None => (decode(userinfo), String::new()),
            }),
            None => netrc(host.split(':').next().unwrap_or(host)),
        };
        let authorization = credentials.map(|(user, password)| {
            let pair = format!("{user}:{password}");
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        });
        let base = format!("{scheme}://{host}{}", path.trim_end_matches('/'));
        Ok(Endpoint { base, authorization })
    }
}

/// `%XX` escapes decoded (a password may hold `@` or `:` written as `%40`, `%3A`).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The login and password of `host` (or the `default` entry) in the netrc file.
fn netrc(host: &str) -> Option<(String, String)> {
    let path = std::env::var_os("ABLATE_NETRC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".netrc")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let mut tokens = text.split_whitespace();
    let (mut current, mut found, mut default) = (None::<bool>, None, None);
    let (mut login, mut password) = (String::new(), String::new());
    let mut close = |current: Option<bool>, login: &mut String, password: &mut String| {
        let entry = (std::mem::take(login), std::mem::take(password));
        match current {
            Some(true) if found.is_none() => found = Some(entry),
            Some(false) if default.is_none() => default = Some(entry),
            _ => {}
        }
    };
    while let Some(token) = tokens.next() {
        match token {
            "machine" => {
                close(current, &mut login, &mut password);
                current = Some(tokens.next() == Some(host));
            }
            "default" => {
                close(current, &mut login, &mut password);
                current = Some(false);
            }
            "login" => login = tokens.next().unwrap_or_default().to_string(),
            "password" => password = tokens.next().unwrap_or_default().to_string(),
            _ => {}
        }
    }
    close(current, &mut login, &mut password);
    found.or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_location() {
        let endpoint = Endpoint::parse("http://ann:s%40cret@127.0.0.1:8080/cache/").unwrap();
        assert_eq!(endpoint.base, "http://127.0.0.1:8080/cache");
        let basic = base64::engine::general_purpose::STANDARD.encode("ann:s@cret");
        assert_eq!(endpoint.authorization, Some(format!("Basic {basic}")));
    }

    #[test]
    fn refuses_other_schemes() {
        assert!(Endpoint::parse("ftp://host/x").is_err());
        assert!(Endpoint::parse("host/x").is_err());
        assert!(Endpoint::parse("http:///x").is_err());
    }
}

//! The request line and the Host and User-Agent headers of an HTTP/1.x request
//! (RFC 9112 §3, §5), read from one client payload.

use crate::text;

/// Most header lines looked at.
const MAX_HEADERS: usize = 100;

/// Methods recognised at the start of a payload.
const METHODS: [&[u8]; 9] = [
    b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"CONNECT", b"PATCH", b"TRACE",
];

/// An HTTP request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) uri: String,
    /// Host header (or CONNECT target) without port, lower-cased.
    pub(crate) host: Option<String>,
    pub(crate) user_agent: Option<String>,
}

/// `Some` when `payload` starts with `METHOD SP target SP HTTP/`.
pub(crate) fn parse(payload: &[u8]) -> Option<Request> {
    let sp = memchr::memchr(b' ', payload.get(..8)?)?;
    let method = payload.get(..sp)?;
    if !METHODS.contains(&method) {
        return None;
    }
    let line_end = memchr::memchr(b'\n', payload).unwrap_or(payload.len());
    let line = text::trim(payload.get(..line_end)?);
    let rest = line.get(sp + 1..)?;
    let uri_end = memchr::memchr(b' ', rest)?;
    if !rest.get(uri_end + 1..)?.starts_with(b"HTTP/") {
        return None;
    }
    let uri = rest.get(..uri_end)?;
    let mut req = Request {
        method: text::string(method),
        uri: text::string(uri),
        host: None,
        user_agent: None,
    };
    if method == b"CONNECT" {
        req.host = Some(text::host_without_port(uri));
    }
    let headers = payload.get(line_end + 1..).unwrap_or(&[]);
    for h in headers.split(|&b| b == b'\n').take(MAX_HEADERS) {
        let h = text::trim(h);
        if h.is_empty() {
            break;
        }
        let Some(colon) = memchr::memchr(b':', h) else {
            continue;
        };
        let (name, value) = (
            h.get(..colon).unwrap_or(&[]),
            text::trim(h.get(colon + 1..).unwrap_or(&[])),
        );
        if name.eq_ignore_ascii_case(b"host") && req.host.is_none() {
            req.host = Some(text::host_without_port(value));
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            req.user_agent = Some(text::string(value));
        }
    }
    Some(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_head() {
        let r =
            parse(b"GET /a?b HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent: curl/8\r\n\r\nbody")
                .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.uri, "/a?b");
        assert_eq!(r.host.as_deref(), Some("example.com"));
        assert_eq!(r.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(parse(b"GETTING nothing"), None);
        assert_eq!(parse(b"\x16\x03\x01"), None);
        let c = parse(b"CONNECT safebrowsing.googleapis.com:443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(c.host.as_deref(), Some("safebrowsing.googleapis.com"));
    }
}

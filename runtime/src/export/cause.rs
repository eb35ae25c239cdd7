//! Naming the cause of a failed export: what one attempt returned ([`Failure`]: the
//! [`LossCause`], whether to retry, whether the endpoint does not take the signal), read
//! from error chains (connection refused, DNS, TLS, timeouts) and answers (status and the
//! start of the body), with hints when the bytes say more: a TLS client talking to a
//! plaintext port, an `http://` endpoint that is a gRPC port ([`probe`]).

use std::error::Error as StdError;
use std::time::Duration;

use crate::delivery::LossCause;

/// How many characters of an answer's body a cause quotes.
pub(crate) const BODY_SNIPPET: usize = 300;

/// Hint: a TLS client reached a plaintext port.
pub(crate) const HINT_PLAINTEXT: &str = "the server answered in plaintext, not TLS: use http:// \
     or grpc:// for this port, or the collector's TLS port";
/// Hint: a plaintext client reached a TLS port.
pub(crate) const HINT_TLS_PORT: &str =
    "the server speaks TLS: use https:// or grpcs:// for this port";
/// Hint: an OTLP/HTTP client reached a gRPC port.
pub(crate) const HINT_GRPC_PORT: &str = "this port speaks gRPC over HTTP/2, not OTLP/HTTP: use \
     grpc://host:port or protocol grpc, or the collector's OTLP/HTTP port, usually 4318";
/// Hint: a gRPC client reached an HTTP/1.1 port.
pub(crate) const HINT_HTTP1_PORT: &str = "this port speaks HTTP/1.1, not gRPC: use \
     http://host:port for OTLP/HTTP, or the collector's gRPC port, usually 4317";

/// Whether another attempt may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// No: the answer will not change (a 4xx, TLS, DNS), or retrying would cost more
    /// than the export timeout allows (a timeout).
    No,
    /// Yes, after the usual backoff.
    Backoff,
    /// Yes, after this long (the server's `Retry-After`).
    #[cfg_attr(
        not(any(feature = "http-proto", feature = "http-json")),
        allow(dead_code)
    )]
    After(Duration),
}

/// One failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) cause: LossCause,
    pub(crate) retry: Retry,
    /// The connection could not be made: later batches try once, without retries, until
    /// an export succeeds (no retry storm against a closed port).
    pub(crate) unreachable: bool,
    /// The endpoint does not take this signal (HTTP 404/405, gRPC `UNIMPLEMENTED`): why.
    pub(crate) not_accepted: Option<String>,
}

impl Failure {
    pub(crate) fn new(cause: LossCause, retry: Retry) -> Self {
        Self {
            cause,
            retry,
            unreachable: false,
            not_accepted: None,
        }
    }

    pub(crate) fn timeout(after: Duration) -> Self {
        Self::new(LossCause::Timeout { after }, Retry::No)
    }
}

/// `bytes` as text for a message: lossy UTF-8, control characters escaped (`\n`,
/// `\u{1b}`), cut after `max` characters with `…`.
pub(crate) fn snippet(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out.trim_end().to_owned()
}

/// The next error in a chain: an `io::Error` wrapping another error yields that error
/// (its own `source()` skips it).
fn next_in_chain<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    if let Some(io) = err.downcast_ref::<std::io::Error>()
        && let Some(inner) = io.get_ref()
    {
        return Some(inner);
    }
    err.source()
}

/// An error's own message (a gRPC status: its message, not its debug-like `Display`).
fn message_of(err: &(dyn StdError + 'static)) -> String {
    #[cfg(feature = "grpc")]
    if let Some(status) = err.downcast_ref::<tonic::Status>() {
        return status.message().to_owned();
    }
    err.to_string()
}

/// Every message of an error and its sources, joined with `: ` (for classification).
pub(crate) fn chain_text(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        parts.push(message_of(err));
        cur = next_in_chain(err);
    }
    parts.join(": ")
}

/// The deepest message of an error chain: the root cause, which says the most
/// (`Connection refused (os error 111)`, `received corrupt message of type
/// InvalidContentType`, `invalid HTTP version parsed`); wrappers only repeat the URL.
pub(crate) fn root_text(e: &(dyn StdError + 'static)) -> String {
    let mut cur = e;
    let mut text = message_of(e);
    while let Some(next) = next_in_chain(cur) {
        let m = message_of(next);
        if !m.is_empty() {
            text = m;
        }
        cur = next;
    }
    text
}

/// The cause of a failure to connect or to read an answer, from the error's chain. `tls`
/// says whether the client spoke TLS.
pub(crate) fn from_error_chain(e: &(dyn StdError + 'static), tls: bool) -> Failure {
    let lower = chain_text(e).to_ascii_lowercase();
    let text = root_text(e);
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => {
                    return Failure {
                        unreachable: true,
                        ..Failure::new(LossCause::ConnectionRefused, Retry::Backoff)
                    };
                }
                K::TimedOut => return Failure::timeout(Duration::ZERO),
                _ => {}
            }
        }
        #[cfg(feature = "tls")]
        if let Some(tls_err) = err.downcast_ref::<rustls::Error>() {
            let hint = match tls_err {
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
                | rustls::Error::InvalidMessage(_) => Some(HINT_PLAINTEXT),
                _ => None,
            };
            return Failure::new(
                LossCause::Tls {
                    detail: tls_err.to_string(),
                    hint,
                },
                Retry::No,
            );
        }
        cur = next_in_chain(err);
    }
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return Failure {
            unreachable: true,
            ..Failure::new(LossCause::Dns { detail: text }, Retry::No)
        };
    }
    if tls
        && (lower.contains("tls")
            || lower.contains("certificate")
            || lower.contains("handshake")
            || lower.contains("invalidcontenttype"))
    {
        let hint = lower
            .contains("invalidcontenttype")
            .then_some(HINT_PLAINTEXT);
        return Failure::new(LossCause::Tls { detail: text, hint }, Retry::No);
    }
    if lower.contains("connection refused") {
        return Failure {
            unreachable: true,
            ..Failure::new(LossCause::ConnectionRefused, Retry::Backoff)
        };
    }
    if lower.contains("timed out") || lower.contains("timeout") {
        return Failure::timeout(Duration::ZERO);
    }
    // Resets, closed connections, answers that are not HTTP: worth one more try.
    Failure::new(
        LossCause::Transport {
            detail: text,
            hint: None,
        },
        Retry::Backoff,
    )
}

/// The HTTP/1.1 and HTTP/2 first bytes a probe looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Heard {
    /// An HTTP/2 frame (a gRPC server's SETTINGS or GOAWAY).
    Http2,
    /// `HTTP/1.x …`.
    Http1,
    /// A TLS record (an alert or a handshake).
    Tls,
    /// Something else: these bytes.
    Other,
}

/// What the first bytes of an answer are.
pub(crate) fn classify_bytes(bytes: &[u8]) -> Heard {
    if bytes.starts_with(b"HTTP/") {
        Heard::Http1
    } else if bytes.len() >= 3 && (0x14..=0x17).contains(&bytes[0]) && bytes[1] == 0x03 {
        Heard::Tls
    } else if bytes.len() >= 9 && matches!(bytes[3], 0x04 | 0x07) && bytes[5..9] == [0, 0, 0, 0] {
        // length (3 bytes), type SETTINGS or GOAWAY, flags, stream 0.
        Heard::Http2
    } else {
        Heard::Other
    }
}

/// Opens a plaintext connection to `host:port`, sends `hello` and returns the first bytes
/// the server answers within a second (none when it answers nothing or closes): used once
/// per signal after a plaintext export failed on bytes that are not what was expected.
pub(crate) async fn probe(host: &str, port: u16, hello: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        stream.write_all(hello).await.ok()?;
        let mut buf = vec![0u8; 64];
        let n = stream.read(&mut buf).await.ok()?;
        buf.truncate(n);
        Some(buf)
    };
    tokio::time::timeout(Duration::from_secs(1), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The hint for a plaintext answer that the client could not read, from what a probe
/// heard, and a description of the bytes for the cause.
pub(crate) fn hint_from_probe(
    heard: &[u8],
    client_speaks_grpc: bool,
) -> (Option<&'static str>, String) {
    let hint = match classify_bytes(heard) {
        Heard::Http2 if !client_speaks_grpc => Some(HINT_GRPC_PORT),
        Heard::Http1 if client_speaks_grpc => Some(HINT_HTTP1_PORT),
        Heard::Tls => Some(HINT_TLS_PORT),
        _ => None,
    };
    let what = if heard.is_empty() {
        "the server sent nothing back".to_owned()
    } else {
        format!("the server's answer starts with \"{}\"", snippet(heard, 40))
    };
    (hint, what)
}

/// What a probe of a signal's endpoint found, kept so that every later unreadable answer
/// (a retry, the next batch) is explained the same way without probing again.
#[derive(Debug, Default)]
pub(crate) struct ProbeMemo {
    found: std::sync::Mutex<Option<(Option<&'static str>, String, bool)>>,
    started: std::sync::atomic::AtomicBool,
}

impl ProbeMemo {
    /// Adds to `failure` (when it is an answer that could not be read) what the endpoint's
    /// first bytes say: probes `host:port` with `hello` the first time, then reuses that.
    /// An endpoint that answered something unreadable is not tried again.
    pub(crate) async fn explain(
        &self,
        failure: &mut Failure,
        host: &str,
        port: u16,
        hello: &[u8],
        client_speaks_grpc: bool,
    ) {
        use std::sync::PoisonError;
        use std::sync::atomic::Ordering;
        if !matches!(failure.cause, LossCause::Transport { .. }) {
            return;
        }
        let known = self
            .found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let found = match known {
            Some(f) => f,
            None if !self.started.swap(true, Ordering::Relaxed) => {
                let heard = probe(host, port, hello).await;
                let (hint, what) = hint_from_probe(&heard, client_speaks_grpc);
                let f = (hint, what, !heard.is_empty());
                *self.found.lock().unwrap_or_else(PoisonError::into_inner) = Some(f.clone());
                f
            }
            None => return, // another export is probing
        };
        let (hint, what, heard) = found;
        if let LossCause::Transport { detail, hint: h } = &mut failure.cause {
            *detail = format!("{detail}; {what}");
            *h = hint;
        }
        if heard {
            failure.retry = Retry::No;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_escape_control_characters_and_stop_at_the_limit() {
        assert_eq!(snippet(b"a\nb\x1bc", 100), "a\\nb\\u{1b}c");
        assert_eq!(snippet("é".repeat(10).as_bytes(), 3), "ééé…");
        assert_eq!(snippet(b"\xff\xfe", 10), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn first_bytes_say_what_answered() {
        assert_eq!(classify_bytes(b"HTTP/1.1 400 Bad Request"), Heard::Http1);
        // A gRPC server's SETTINGS frame.
        assert_eq!(
            classify_bytes(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3]),
            Heard::Http2
        );
        assert_eq!(classify_bytes(&[0x15, 0x03, 0x03, 0, 2, 2, 70]), Heard::Tls);
        assert_eq!(classify_bytes(b"garbage!"), Heard::Other);
        let (hint, what) = hint_from_probe(&[0, 0, 6, 4, 0, 0, 0, 0, 0], false);
        assert_eq!(hint, Some(HINT_GRPC_PORT));
        assert!(
            what.starts_with("the server's answer starts with"),
            "{what}"
        );
    }

    #[test]
    fn a_refused_connection_is_named_and_marks_the_collector_unreachable() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let f = from_error_chain(&io, false);
        assert_eq!(f.cause, LossCause::ConnectionRefused);
        assert!(f.unreachable);
        assert_eq!(f.retry, Retry::Backoff);
    }
}

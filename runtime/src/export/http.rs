//! OTLP/HTTP: one POST of an encoded request with exactly the resolved headers (whatever
//! the process environment holds), on llmetry's export runtime, and what its answer
//! means: accepted (with the collector's partial-success count), or a [`Failure`] naming
//! the cause: connection refused, DNS, TLS (with a hint when the port is plaintext),
//! timeout, the status and the start of the body, or an answer that is not OTLP/HTTP (a
//! gRPC port, garbage: [`probe`]d once to say which).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use super::cause::{self, Failure, Retry};
use super::encode::Format;
use super::headers::header_map;
use super::wire::{Accepted, partial_success};
use crate::config::OtlpRoute;
use crate::config::endpoint::Signal;
use crate::delivery::LossCause;
use crate::error::InitError;

/// How much of a success answer is read (for a partial success).
const MAX_SUCCESS_BODY: usize = 64 * 1024;
/// How much of an error answer is read (for its message).
const MAX_ERROR_BODY: usize = 4 * 1024;

/// The OTLP/HTTP sender of one route.
pub(crate) struct HttpWire {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    signal: Signal,
    format: Format,
    tls: bool,
    /// What a look at an unreadable answer's first bytes found (once per signal).
    probe: cause::ProbeMemo,
}

impl std::fmt::Debug for HttpWire {
    // Header values are secrets: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWire")
            .field("url", &self.url.as_str())
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl HttpWire {
    /// The sender of `route`, sending `format` bodies (gzip'ed when the route compresses).
    pub(crate) fn new(
        route: &OtlpRoute,
        format: Format,
        concurrency: usize,
    ) -> Result<Self, InitError> {
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| InitError::Exporter {
            signal: route.signal.as_str(),
            destination: route.describe(),
            source,
        };
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| failed(Box::new(e)))?;
        let mut headers = header_map(route)?;
        let content_type = match format {
            Format::Protobuf => "application/x-protobuf",
            #[cfg(feature = "http-json")]
            Format::Json => "application/json",
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if route.compression.is_some() {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let url = route.destination.url().clone();
        Ok(Self {
            client,
            tls: url.scheme() == "https",
            url,
            headers,
            signal: route.signal,
            format,
            probe: cause::ProbeMemo::default(),
        })
    }

    /// One attempt: POSTs `body`, waiting at most `timeout` for the whole answer.
    pub(crate) async fn send(&self, body: Bytes, timeout: Duration) -> Result<Accepted, Failure> {
        let sent = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .timeout(timeout)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return Err(self.transport_failure(&e, timeout).await),
        };
        let status = response.status();
        let grpc_answer = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/grpc"));
        if grpc_answer {
            return Err(Failure::new(
                LossCause::Transport {
                    detail: format!(
                        "the server answered HTTP {} with content-type application/grpc",
                        status.as_u16()
                    ),
                    hint: Some(cause::HINT_GRPC_PORT),
                },
                Retry::No,
            ));
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let limit = if status.is_success() {
            MAX_SUCCESS_BODY
        } else {
            MAX_ERROR_BODY
        };
        let mut body = Vec::new();
        while body.len() < limit {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                // The data was taken; only the answer's end is missing.
                Err(_) if status.is_success() => break,
                Err(e) => return Err(self.transport_failure(&e, timeout).await),
            }
        }
        if status.is_success() {
            return Ok(partial_success(self.signal, &body, self.format));
        }
        let code = status.as_u16();
        let cause = LossCause::HttpStatus {
            status: code,
            body: cause::snippet(&body, cause::BODY_SNIPPET),
        };
        let mut failure = match code {
            429 | 503 => Failure::new(cause, retry_after.map_or(Retry::Backoff, Retry::After)),
            502 | 504 => Failure::new(cause, Retry::Backoff),
            _ => Failure::new(cause, Retry::No),
        };
        if matches!(code, 404 | 405) {
            let reason = status.canonical_reason().unwrap_or_default();
            failure.not_accepted = Some(format!("HTTP {code} {reason} from {}", self.url));
        }
        Err(failure)
    }

    /// The cause of a request that got no (complete) HTTP answer.
    async fn transport_failure(&self, e: &reqwest::Error, timeout: Duration) -> Failure {
        if e.is_timeout() {
            return Failure::timeout(timeout);
        }
        let mut failure = cause::from_error_chain(e, self.tls);
        if let LossCause::Timeout { after } = &mut failure.cause {
            *after = timeout;
        }
        // An answer that is not HTTP/1.1: look at its first bytes (once per signal).
        if !self.tls
            && let Some(host) = self.url.host_str()
        {
            let port = self.url.port_or_known_default().unwrap_or(80);
            let hello = format!(
                "POST {} HTTP/1.1\r\nhost: {host}\r\ncontent-length: 0\r\n\r\n",
                self.url.path()
            );
            self.probe
                .explain(&mut failure, host, port, hello.as_bytes(), false)
                .await;
        }
        failure
    }
}

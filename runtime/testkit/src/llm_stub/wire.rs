//! Shared wire helpers: stream frames (SSE events, NDJSON lines), responses with each
//! provider's usual headers, header capture, timestamps and base64.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::request::Provider;

/// One event (SSE) or line (NDJSON) of a stream.
pub(super) struct Frame {
    pub(super) bytes: Bytes,
    /// Carries content (text, tool-call arguments): faults cut after such frames and slow
    /// streams delay them.
    pub(super) delta: bool,
}

impl Frame {
    pub(super) fn delta(bytes: Bytes) -> Frame {
        Frame { bytes, delta: true }
    }

    pub(super) fn other(bytes: Bytes) -> Frame {
        Frame {
            bytes,
            delta: false,
        }
    }
}

/// `data: <json>` and a blank line.
pub(super) fn sse_data(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

/// `event: <name>`, `data: <json>` and a blank line.
pub(super) fn sse_event(name: &str, v: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {v}\n\n"))
}

/// OpenAI's end of stream.
pub(super) fn sse_done() -> Bytes {
    Bytes::from_static(b"data: [DONE]\n\n")
}

/// One NDJSON line.
pub(super) fn ndjson(v: &Value) -> Bytes {
    Bytes::from(format!("{v}\n"))
}

/// The content type of a provider's JSON bodies.
pub(super) fn json_content_type(provider: Provider) -> &'static str {
    match provider {
        Provider::Ollama | Provider::Google => "application/json; charset=utf-8",
        Provider::OpenAi | Provider::Anthropic | Provider::Bedrock => "application/json",
    }
}

/// The content type of a provider's streams.
pub(super) fn stream_content_type(provider: Provider) -> &'static str {
    match provider {
        Provider::Ollama => "application/x-ndjson",
        Provider::OpenAi | Provider::Anthropic => "text/event-stream; charset=utf-8",
        // With `alt=sse`; the JSON-array stream is `application/json` (see dispatch).
        Provider::Google => "text/event-stream",
        Provider::Bedrock => "application/vnd.amazon.eventstream",
    }
}

pub(super) fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), v);
    }
}

/// A response with the provider's usual headers (request id, versions).
pub(super) fn respond(
    status: StatusCode,
    provider: Provider,
    n: u64,
    content_type: &str,
    body: Body,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    set_header(&mut response, "content-type", content_type);
    let request_id = format!("req_stub{n:06}");
    match provider {
        Provider::OpenAi => {
            set_header(&mut response, "x-request-id", &request_id);
            set_header(&mut response, "openai-processing-ms", "1");
            set_header(&mut response, "openai-version", "2020-10-01");
        }
        Provider::Anthropic => set_header(&mut response, "request-id", &request_id),
        Provider::Google => set_header(&mut response, "x-goog-request-id", &request_id),
        Provider::Bedrock => {
            set_header(&mut response, "x-amzn-requestid", &request_id);
        }
        Provider::Ollama => {}
    }
    response
}

/// A JSON body with the provider's headers.
pub(super) fn json_response(
    status: StatusCode,
    provider: Provider,
    n: u64,
    body: &Value,
) -> Response {
    respond(
        status,
        provider,
        n,
        json_content_type(provider),
        Body::from(body.to_string()),
    )
}

/// A plain-text answer of the stub itself (no route, wrong method).
pub(super) fn plain(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    set_header(&mut response, "content-type", "text/plain; charset=utf-8");
    response
}

/// Every header, names lower-cased, values lossy UTF-8, in arrival order.
pub(super) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Now, in Unix seconds.
pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Now as RFC 3339 UTC with nanoseconds, as Ollama writes `created_at`.
pub(super) fn rfc3339_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Year, month, day of the `days`-th day after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Standard base64 with padding (OpenAI's `encoding_format: "base64"`).
pub(super) fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }
}

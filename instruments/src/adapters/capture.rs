//! The capture core of the HTTP adapters ([`super::middleware`], [`super::tower`]):
//! [`Capture`] works on `reqwest::Request` / `reqwest::Response`: it starts the span from
//! the request (one typed read of the body the client serialised, plus what the URL says:
//! Gemini's model and streaming), and ends it from the response: an error status fails the
//! span; a stream — the request asked for one (`"stream": true`, Ollama's default, Gemini's
//! `:streamGenerateContent`) or the content type says so (`text/event-stream`,
//! `application/x-ndjson`) — passes through chunk by chunk while it is decoded and
//! accumulated ([`super::tap`]), the span ending with it; any other body is read once,
//! recorded, and handed back intact. Errors recorded or handed back never show an API key
//! of the URL ([`redact_error`]).

use reqwest::ResponseBuilderExt as _;
use reqwest::header::{HeaderName, HeaderValue};

use crate::model::{Api, Provider, ProviderError};
use crate::providers;
use crate::span::LlmSpan;

use super::tap::{Decoder, StreamTap};

fn instrument_of(provider: &Provider, api: Api) -> llmetry::Instrument {
    match (provider, api) {
        (Provider::GcpVertexAi, Api::GeminiGenerateContent | Api::GeminiEmbedContent) => {
            llmetry::Instrument::VertexAi
        }
        (_, Api::GeminiGenerateContent | Api::GeminiEmbedContent) => {
            llmetry::Instrument::GoogleGenerativeAi
        }
        (_, Api::BedrockConverse) => llmetry::Instrument::Bedrock,
        (Provider::Anthropic, _) | (_, Api::AnthropicMessages) => llmetry::Instrument::Anthropic,
        (_, Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed) => {
            llmetry::Instrument::Ollama
        }
        _ => llmetry::Instrument::OpenAi,
    }
}

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

struct HeaderInjector<'a>(&'a mut reqwest::header::HeaderMap);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        HeaderInjector::set(self, key, value);
    }
}

impl HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(key.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// The error of a request that got no HTTP response, or whose body broke. Its message is
/// the error and its sources without the request URL, which may hold an API key (Gemini's
/// `?key=`): reqwest's `Display` ends with ` for url (…)`.
pub(crate) fn reqwest_error(e: &reqwest::Error) -> ProviderError {
    let error_type = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection_error"
    } else {
        "transport_error"
    };
    let mut message = e.to_string();
    if let Some(url) = e.url() {
        let suffix = format!(" for url ({url})");
        if message.ends_with(&suffix) {
            message.truncate(message.len() - suffix.len());
        }
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    ProviderError {
        error_type: error_type.to_owned(),
        message: redact_text(message),
    }
}

/// Query parameters that carry credentials (Gemini's `key`, and the usual others).
const SECRET_PARAMS: [&str; 4] = ["key", "api_key", "api-key", "access_token"];

/// `url` with the values of credential query parameters replaced by `REDACTED`.
fn redact_url(url: &mut reqwest::Url) {
    if !url
        .query_pairs()
        .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
    {
        return;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                "REDACTED".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

/// `e` with the credentials of its URL redacted: what the adapters hand back to the caller
/// for an LLM call, so that printing the error never shows an API key.
pub(crate) fn redact_error(mut e: reqwest::Error) -> reqwest::Error {
    if let Some(url) = e.url_mut() {
        redact_url(url);
    }
    e
}

/// A message that may quote a URL (an error source that names it): credential query
/// parameters cut out.
pub(crate) fn redact_text(mut message: String) -> String {
    for param in SECRET_PARAMS {
        for sep in ['?', '&'] {
            let needle = format!("{sep}{param}=");
            let mut from = 0;
            while let Some(at) = message.get(from..).and_then(|m| m.find(&needle)) {
                let start = from + at + needle.len();
                let end = message
                    .get(start..)
                    .and_then(|m| m.find(|c: char| c == '&' || c == ')' || c.is_whitespace()))
                    .map_or(message.len(), |e| start + e);
                message.replace_range(start..end, "REDACTED");
                from = start + "REDACTED".len();
            }
        }
    }
    message
}

fn rebuild(
    status: reqwest::StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
    url: reqwest::Url,
    body: reqwest::Body,
) -> Result<reqwest::Response, http::Error> {
    let mut builder = http::Response::builder()
        .status(status)
        .version(version)
        .url(url);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
    }
    builder.body(body).map(reqwest::Response::from)
}

/// Why [`Capture::respond`] could not hand the response on.
#[derive(Debug)]
pub(crate) enum RespondError {
    /// Reading the (non-streamed) body failed; the span has failed with it. Its URL's
    /// credentials are redacted.
    Body(reqwest::Error),
    /// Putting the response back together failed.
    Rebuild(http::Error),
}

/// One LLM call in flight, shared by the adapters: [`Capture::start`] opens the span from
/// the request, [`Capture::respond`] (or [`Capture::fail`]) ends it.
#[derive(Debug)]
pub(crate) struct Capture {
    /// Boxed: the span (~450 bytes) would otherwise be copied at each move of the capture
    /// through the adapter's futures.
    span: Box<LlmSpan>,
    api: Api,
    streamed_request: bool,
}

impl Capture {
    /// Opens the LLM span and records the request, or `None` when `req` is no LLM call
    /// (unknown endpoint, instrument blocked, no JSON body naming a model).
    pub(crate) fn start(req: &reqwest::Request, overrides: &[(String, Provider)]) -> Option<Self> {
        let (provider, api) = providers::detect::detect_with(req.url(), overrides)?;
        if !llmetry::instrument_enabled(instrument_of(&provider, api)) {
            return None;
        }
        let body = req.body().and_then(reqwest::Body::as_bytes)?;
        // Only JSON bodies naming a model are LLM calls: `/api/chat` or `/v1/messages` on an
        // unknown host may be something else entirely.
        let (mut parsed, mut names_model) =
            providers::read_request(api, body, providers::MessageForm::for_span())?;
        // Gemini names the model and asks for a stream in the path.
        let facts = providers::detect::url_facts(api, req.url());
        if let Some(model) = facts.model {
            parsed.model = Some(model);
            names_model = true;
        }
        parsed.stream |= facts.stream;
        if !names_model {
            return None;
        }
        let streamed_request = parsed.stream;
        let span = Box::new(LlmSpan::start_with_request(
            api,
            provider,
            req.url(),
            parsed,
        ));
        Some(Self {
            span,
            api,
            streamed_request,
        })
    }

    /// The context with the LLM span current: run the call under it.
    pub(crate) fn context(&self) -> opentelemetry::Context {
        self.span.context().clone()
    }

    /// Writes the span's W3C `traceparent` into `headers`, and `tracestate` when the trace
    /// state is not empty: what Python's OpenAI instrumentation sends (it injects with the
    /// W3C trace-context propagator itself, whatever the global propagators are, so no
    /// `baggage` reaches the provider).
    pub(crate) fn inject(&self, headers: &mut reqwest::header::HeaderMap) {
        use opentelemetry::trace::TraceContextExt as _;
        let span = self.span.context().span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let flags = sc.trace_flags() & opentelemetry::trace::TraceFlags::SAMPLED;
        let traceparent = traceparent(
            &sc.trace_id().to_bytes(),
            &sc.span_id().to_bytes(),
            flags.to_u8(),
        );
        // Static names and the strings moved into the values: no copies.
        if let Ok(v) = HeaderValue::from_bytes(&traceparent) {
            headers.insert(HeaderName::from_static(TRACEPARENT), v);
        }
        let state = sc.trace_state().header();
        if !state.is_empty()
            && let Ok(v) = HeaderValue::try_from(state)
        {
            headers.insert(HeaderName::from_static(TRACESTATE), v);
        }
    }

    /// Adds llmetry's context values as `baggage` when `url`'s host is one the app allows
    /// (`llmetry::propagate`; default: none, so LLM providers never receive them).
    pub(crate) fn inject_baggage(&self, url: &url::Url, headers: &mut reqwest::header::HeaderMap) {
        if url.host_str().is_some_and(llmetry::propagate::host_allowed) {
            llmetry::propagate::inject_baggage(self.span.context(), &mut HeaderInjector(headers));
        }
    }

    /// Ends the span of a call that got no response.
    pub(crate) fn fail(self, e: &ProviderError) {
        self.span.fail(e);
    }

    /// Records the response and hands it on: an error status fails the span; a stream passes
    /// through chunk by chunk while it is accumulated, the span ending with the stream; any
    /// other body is read, recorded, and handed back intact.
    pub(crate) async fn respond(
        self,
        mut resp: reqwest::Response,
    ) -> Result<reqwest::Response, RespondError> {
        let Capture {
            mut span,
            api,
            streamed_request,
        } = self;
        let status = resp.status();
        let version = resp.version();
        // Taken, not copied: reading the body does not look at them.
        let headers = std::mem::take(resp.headers_mut());
        let url = resp.url().clone();

        if !status.is_success() {
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    span.fail(&reqwest_error(&e));
                    return Err(RespondError::Body(redact_error(e)));
                }
            };
            span.fail(&providers::parse_error_of(api, status.as_u16(), &bytes));
            return rebuild(status, version, headers, url, reqwest::Body::from(bytes))
                .map_err(RespondError::Rebuild);
        }

        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        let is = |prefix: &str| {
            content_type
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
        };
        let (sse, ndjson) = (is("text/event-stream"), is("application/x-ndjson"));
        // A stream is never buffered, whatever its content type says: some
        // OpenAI-compatible servers stream with none, or with `application/json`.
        if sse || ndjson || streamed_request {
            let decoder = match (sse, ndjson) {
                (true, _) => Decoder::sse(),
                (_, true) => Decoder::ndjson(),
                // Asked for a stream, the content type does not say: SSE, unless the body
                // turns out to be one JSON document (a server that ignored `stream`).
                _ if api.streams_sse() => Decoder::Sniff,
                _ => Decoder::ndjson(),
            };
            let tap = StreamTap::new(Box::pin(resp.bytes_stream()), decoder, api, *span);
            return rebuild(
                status,
                version,
                headers,
                url,
                reqwest::Body::wrap_stream(tap),
            )
            .map_err(RespondError::Rebuild);
        }

        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                span.fail(&reqwest_error(&e));
                return Err(RespondError::Body(redact_error(e)));
            }
        };
        if let Some(parsed) =
            providers::read_response(api, &bytes, providers::MessageForm::for_span())
        {
            span.record_response_owned(parsed);
        }
        span.finish();
        rebuild(status, version, headers, url, reqwest::Body::from(bytes))
            .map_err(RespondError::Rebuild)
    }
}

/// `00-{trace id}-{span id}-{flags}` in lowercase hex (W3C Trace Context), written directly:
/// `format!` through the ids' `LowerHex` costs about 2,400 instructions per call.
fn traceparent(trace_id: &[u8; 16], span_id: &[u8; 8], flags: u8) -> [u8; 55] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
    // Two hex digits per byte, into the fields after "00-", after the trace id's "-" and
    // after the span id's "-".
    let fields: [(&[u8], usize); 3] = [(trace_id, 3), (span_id, 36), (&[flags], 53)];
    for (bytes, at) in fields {
        for (i, b) in bytes.iter().enumerate() {
            if let Some(pair) = out.get_mut(at + 2 * i..at + 2 * i + 2) {
                pair[0] = DIGITS[usize::from(b >> 4)];
                pair[1] = DIGITS[usize::from(b & 0x0f)];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};

    #[test]
    fn traceparent_is_the_w3c_header_of_the_ids() {
        let trace = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
        let span = SpanId::from_hex("00f067aa0ba902b7").unwrap();
        for flags in [0u8, 1] {
            let header = super::traceparent(&trace.to_bytes(), &span.to_bytes(), flags);
            assert_eq!(
                std::str::from_utf8(&header).unwrap(),
                format!("00-{trace}-{span}-{flags:02x}")
            );
        }
        let header = super::traceparent(&trace.to_bytes(), &span.to_bytes(), 1);
        assert_eq!(
            std::str::from_utf8(&header).unwrap(),
            "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
        );
        // Every nibble value, in every position.
        let ids = TraceId::from_hex("0123456789abcdeffedcba9876543210").unwrap();
        let spans = SpanId::from_hex("f0e1d2c3b4a59687").unwrap();
        let header = super::traceparent(&ids.to_bytes(), &spans.to_bytes(), 0xa5);
        assert_eq!(
            std::str::from_utf8(&header).unwrap(),
            "00-0123456789abcdeffedcba9876543210-f0e1d2c3b4a59687-a5"
        );
    }
}

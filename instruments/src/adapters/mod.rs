//! A `reqwest-middleware` middleware that captures LLM calls made with reqwest (raw
//! reqwest users, rig's `ReqwestMiddlewareClient`): the LLM span, its attributes and the
//! metrics. Non-streamed bodies are handed back to the caller intact; streamed bodies pass
//! through chunk by chunk while they are accumulated, and the span ends with the stream.
//!
//! [`Capture`] is the reqwest-level part every adapter shares (this middleware and the
//! async-openai tower layer): it starts the span from a `reqwest::Request` and ends it from
//! the `reqwest::Response`.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
#[cfg(feature = "reqwest-middleware")]
use opentelemetry::context::FutureExt as _;
use reqwest::ResponseBuilderExt as _;
#[cfg(feature = "reqwest-middleware")]
use reqwest_middleware::{Middleware, Next};

use crate::model::{Api, Provider, ProviderError};
use crate::providers::stream::{NdjsonDecoder, SseDecoder};
use crate::providers::{self, Accumulator};
use crate::span::{LlmSpan, StreamEnd};

/// Captures LLM calls passing through a `reqwest_middleware::ClientWithMiddleware`.
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(llmetry_instruments::LlmMiddleware::default())
///     .build();
/// # drop(client);
/// ```
#[cfg(feature = "reqwest-middleware")]
#[derive(Debug, Clone)]
pub struct LlmMiddleware {
    inject_traceparent: bool,
    providers: Vec<(String, Provider)>,
}

#[cfg(feature = "reqwest-middleware")]
impl Default for LlmMiddleware {
    fn default() -> Self {
        Self {
            inject_traceparent: true,
            providers: Vec::new(),
        }
    }
}

#[cfg(feature = "reqwest-middleware")]
impl LlmMiddleware {
    /// A middleware with W3C `traceparent` injection on (the same as
    /// `LlmMiddleware::default()`).
    ///
    /// ```
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(llmetry_instruments::LlmMiddleware::new())
    ///     .build();
    /// # drop(client);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to send the LLM span's W3C `traceparent` (and `tracestate`, baggage) with each
    /// request. Default: on, as in Python.
    ///
    /// ```
    /// // A provider that rejects unknown headers:
    /// let middleware = llmetry_instruments::LlmMiddleware::new().inject_traceparent(false);
    /// # drop(middleware);
    /// ```
    pub fn inject_traceparent(mut self, on: bool) -> Self {
        self.inject_traceparent = on;
        self
    }

    /// Names the provider behind an OpenAI-compatible base URL the built-in rules cannot
    /// recognise, e.g. `("http://gpu-box:8000", Provider::Vllm)`.
    ///
    /// ```
    /// use llmetry_instruments::{LlmMiddleware, model::Provider};
    /// let middleware = LlmMiddleware::new()
    ///     .provider("https://llm-gateway.internal/mistral", Provider::Mistral)
    ///     .provider("http://gpu-box:9000", Provider::Other("tgi".into()));
    /// # drop(middleware);
    /// ```
    pub fn provider(mut self, base_url: impl Into<String>, provider: Provider) -> Self {
        self.providers.push((base_url.into(), provider));
        self
    }
}

fn instrument_of(provider: &Provider, api: Api) -> llmetry::Instrument {
    match (provider, api) {
        (Provider::Anthropic, _) | (_, Api::AnthropicMessages) => llmetry::Instrument::Anthropic,
        (_, Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed) => {
            llmetry::Instrument::Ollama
        }
        _ => llmetry::Instrument::OpenAi,
    }
}

struct HeaderInjector<'a>(&'a mut reqwest::header::HeaderMap);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(key.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// The error of a request that got no HTTP response, or whose body broke.
pub(crate) fn reqwest_error(e: &reqwest::Error) -> ProviderError {
    let error_type = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection_error"
    } else {
        "transport_error"
    };
    ProviderError {
        error_type: error_type.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(feature = "reqwest-middleware")]
fn transport_error(e: &reqwest_middleware::Error) -> ProviderError {
    match e {
        reqwest_middleware::Error::Reqwest(r) => reqwest_error(r),
        reqwest_middleware::Error::Middleware(_) => ProviderError {
            error_type: "transport_error".to_owned(),
            message: e.to_string(),
        },
    }
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
    /// Reading the (non-streamed) body failed; the span has failed with it.
    Body(reqwest::Error),
    /// Putting the response back together failed.
    Rebuild(http::Error),
}

/// One LLM call in flight, shared by the adapters: [`Capture::start`] opens the span from
/// the request, [`Capture::respond`] (or [`Capture::fail`]) ends it.
#[derive(Debug)]
pub(crate) struct Capture {
    span: LlmSpan,
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
        let server = req
            .url()
            .host_str()
            .map(|h| (h.to_owned(), req.url().port_or_known_default().unwrap_or(0)));
        let request_json: Option<serde_json::Value> = req
            .body()
            .and_then(|b| b.as_bytes())
            .and_then(|b| serde_json::from_slice(b).ok());
        // Only JSON bodies naming a model are LLM calls: `/api/chat` or `/v1/messages` on an
        // unknown host may be something else entirely.
        let request_json = request_json.filter(|j| j.get("model").is_some())?;
        let mut span = LlmSpan::start(
            api,
            provider,
            server.as_ref().map(|(h, p)| (h.as_str(), *p)),
        );
        let parsed = providers::parse_request(api, &request_json);
        let streamed_request = parsed.stream;
        span.record_request(&parsed);
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

    /// Writes the span's W3C `traceparent` (and `tracestate`, baggage) into `headers`.
    pub(crate) fn inject(&self, headers: &mut reqwest::header::HeaderMap) {
        let cx = self.span.context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(cx, &mut HeaderInjector(headers))
        });
    }

    /// Ends the span of a call that got no response.
    pub(crate) fn fail(self, e: &ProviderError) {
        self.span.fail(e);
    }

    /// Records the response and hands it on: an error status fails the span; a streamed
    /// body passes through chunk by chunk while it is accumulated, the span ending with the
    /// stream; any other body is read, recorded, and handed back intact.
    pub(crate) async fn respond(
        self,
        resp: reqwest::Response,
    ) -> Result<reqwest::Response, RespondError> {
        let Capture {
            mut span,
            api,
            streamed_request,
        } = self;
        let status = resp.status();
        let version = resp.version();
        let headers = resp.headers().clone();
        let url = resp.url().clone();

        if !status.is_success() {
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    span.fail(&reqwest_error(&e));
                    return Err(RespondError::Body(e));
                }
            };
            span.fail(&providers::parse_error(status.as_u16(), &bytes));
            return rebuild(status, version, headers, url, reqwest::Body::from(bytes))
                .map_err(RespondError::Rebuild);
        }

        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let streamed = content_type.starts_with("text/event-stream")
            || content_type.starts_with("application/x-ndjson")
            || (streamed_request
                && !api.streams_sse()
                && !content_type.starts_with("application/json"));
        if streamed {
            let tap = StreamTap {
                inner: Box::pin(resp.bytes_stream()),
                decoder: if api.streams_sse() {
                    Decoder::Sse(SseDecoder::default())
                } else {
                    Decoder::Ndjson(NdjsonDecoder::default())
                },
                acc: Accumulator::new(api),
                span: Some(span),
                done: false,
                failed: false,
            };
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
                return Err(RespondError::Body(e));
            }
        };
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            span.record_response_json(&json);
        }
        span.finish();
        rebuild(status, version, headers, url, reqwest::Body::from(bytes))
            .map_err(RespondError::Rebuild)
    }
}

#[cfg(feature = "reqwest-middleware")]
#[async_trait::async_trait]
impl Middleware for LlmMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let Some(capture) = Capture::start(&req, &self.providers) else {
            return next.run(req, extensions).await;
        };
        if self.inject_traceparent {
            capture.inject(req.headers_mut());
        }

        let cx = capture.context();
        let resp = match next.run(req, extensions).with_context(cx).await {
            Ok(r) => r,
            Err(e) => {
                capture.fail(&transport_error(&e));
                return Err(e);
            }
        };
        capture.respond(resp).await.map_err(|e| match e {
            RespondError::Body(e) => reqwest_middleware::Error::Reqwest(e),
            RespondError::Rebuild(e) => reqwest_middleware::Error::Middleware(e.into()),
        })
    }
}

enum Decoder {
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
}

type ByteStream = Pin<Box<dyn futures_core::Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Passes a streamed body through unchanged while feeding the accumulator; ends the span
/// when the stream ends, fails, or is dropped.
struct StreamTap {
    inner: ByteStream,
    decoder: Decoder,
    acc: Accumulator,
    span: Option<LlmSpan>,
    done: bool,
    failed: bool,
}

impl StreamTap {
    fn feed(&mut self, events: Vec<(Option<String>, String)>) {
        let Some(span) = self.span.as_mut() else {
            return;
        };
        for (event, data) in events {
            match self.acc.push(event.as_deref(), &data) {
                Ok(p) => {
                    if p.first_token {
                        span.first_token();
                    }
                    if p.done {
                        self.done = true;
                    }
                }
                Err(e) => {
                    span.record_error(&e);
                    self.failed = true;
                }
            }
        }
    }

    fn decode(&mut self, bytes: Option<&[u8]>) -> Vec<(Option<String>, String)> {
        match (&mut self.decoder, bytes) {
            (Decoder::Sse(d), Some(b)) => {
                d.push(b).into_iter().map(|e| (e.event, e.data)).collect()
            }
            (Decoder::Sse(d), None) => d.finish().into_iter().map(|e| (e.event, e.data)).collect(),
            (Decoder::Ndjson(d), Some(b)) => d.push(b).into_iter().map(|l| (None, l)).collect(),
            (Decoder::Ndjson(d), None) => d.finish().into_iter().map(|l| (None, l)).collect(),
        }
    }

    fn end(&mut self, how: StreamEnd) {
        if let Some(mut span) = self.span.take() {
            let how = if self.failed { StreamEnd::Failed } else { how };
            span.record_response(&self.acc.response());
            span.finish_stream(how);
        }
    }
}

impl futures_core::Stream for StreamTap {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(bytes))) => {
                let events = self.decode(Some(bytes));
                self.feed(events);
            }
            Poll::Ready(Some(Err(_))) => {
                self.failed = true;
                self.end(StreamEnd::Failed);
            }
            Poll::Ready(None) => {
                let events = self.decode(None);
                self.feed(events);
                let how = if self.done {
                    StreamEnd::Completed
                } else {
                    StreamEnd::Failed
                };
                self.end(how);
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for StreamTap {
    fn drop(&mut self) {
        // A consumer that stops reading once the provider said the stream is complete
        // (async-openai stops at `[DONE]`, before the end of the body) completed it.
        let how = if self.done {
            StreamEnd::Completed
        } else {
            StreamEnd::Dropped
        };
        self.end(how);
    }
}

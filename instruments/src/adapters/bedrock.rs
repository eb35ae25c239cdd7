//! The Bedrock adapter: [`BedrockInterceptor`], an aws-smithy interceptor for
//! `aws-sdk-bedrockruntime`'s Converse and ConverseStream.
//!
//! Hooks, in the order the SDK's orchestrator calls them for one call (retries repeat the
//! attempt hooks):
//!
//! - `modify_before_transmit` (per attempt, after SigV4 signing, so the signature stays
//!   valid): the first attempt opens the span under the caller's current context, from the
//!   path (`/model/{modelId}/converse[-stream]`, the endpoint resolved only by now) and the
//!   body; its state lives in the call's config bag. Then `traceparent` when asked for
//!   ([`BedrockInterceptor::inject_traceparent`]).
//! - `modify_before_deserialization` (per attempt): a successful ConverseStream response's
//!   body is still the raw `application/vnd.amazon.eventstream` body; it is replaced by a
//!   tap ([`EventStreamTap`]) that the SDK's event receiver reads through. The tap decodes
//!   the frames (`aws-smithy-eventstream`, each message's declared length checked against a
//!   cap before anything is buffered), folds the events, and owns the span from then on: it
//!   ends with the stream (complete at the `metadata` event, broken, or dropped).
//! - `read_after_deserialization` (per attempt): a Converse body (or any error body) is in
//!   memory; the last attempt's is kept.
//! - `read_after_execution` (once): the span of a non-streamed call ends with what the
//!   last attempt said, or with the SDK's error (timeout, dispatch failure).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextMut,
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::event_stream::HeaderValue;
use bytes::Bytes;
use llmetry::semconv as k;
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt as _;

use crate::decode::MAX_LINE;
use crate::model::{Api, CaptureCap, LlmResponse, Provider, ProviderError};
use crate::providers::{self, Accumulator, bedrock};
use crate::span::{LlmSpan, StreamEnd};

/// Captures Bedrock Converse and ConverseStream calls made with `aws-sdk-bedrockruntime`:
/// add it to the client's configuration, and every call becomes a `chat {model}` span
/// (provider `aws.bedrock`) under the current span, with the GenAI attributes and metrics
/// of the other LLM spans. Other operations pass through untouched.
///
/// ```rust,ignore
/// let config = aws_sdk_bedrockruntime::config::Builder::from(&sdk_config)
///     .interceptor(llmetry_instruments::BedrockInterceptor::default())
///     .build();
/// let client = aws_sdk_bedrockruntime::Client::from_conf(config);
/// ```
///
/// (The `llmetry-integrations` crate of this repository runs exactly that against a local
/// stub; this crate does not depend on the SDK itself.)
///
/// ```
/// use aws_smithy_runtime_api::client::interceptors::Intercept;
/// let interceptor = llmetry_instruments::BedrockInterceptor::new().inject_traceparent(false);
/// assert_eq!(interceptor.name(), "llmetry.BedrockInterceptor");
/// ```
#[derive(Debug, Clone, Default)]
pub struct BedrockInterceptor {
    inject_traceparent: bool,
}

impl BedrockInterceptor {
    /// An interceptor that sends no `traceparent` (the same as `BedrockInterceptor::default()`).
    ///
    /// ```
    /// let interceptor = llmetry_instruments::BedrockInterceptor::new();
    /// # drop(interceptor);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to send the LLM span's W3C `traceparent` (and `tracestate`, baggage) with each
    /// attempt, added after SigV4 signing. Default: off (Bedrock does not read it, and
    /// Python's instrumentation sends none).
    ///
    /// ```
    /// // A proxy in front of Bedrock that continues the trace:
    /// let interceptor = llmetry_instruments::BedrockInterceptor::new().inject_traceparent(true);
    /// # drop(interceptor);
    /// ```
    pub fn inject_traceparent(mut self, on: bool) -> Self {
        self.inject_traceparent = on;
        self
    }
}

/// One call in flight, shared between the hooks through the config bag.
#[derive(Debug, Clone)]
struct CallState(Arc<Mutex<Call>>);

impl Storable for CallState {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug)]
struct Call {
    /// `None` once a stream tap owns it.
    span: Option<LlmSpan>,
    /// What the last attempt's response said.
    last: Option<Attempt>,
}

#[derive(Debug)]
enum Attempt {
    Response(Box<LlmResponse>),
    Error(ProviderError),
}

impl CallState {
    fn with<R>(&self, f: impl FnOnce(&mut Call) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// `(model id, stream)` of a Converse path `/model/{modelId}/converse[-stream]`.
fn converse_path(path: &str) -> Option<(String, bool)> {
    let path = path.trim_end_matches('/');
    let (head, op) = path.rsplit_once('/')?;
    let stream = match op {
        "converse" => false,
        "converse-stream" => true,
        _ => return None,
    };
    let (prefix, id) = head.rsplit_once('/')?;
    if !prefix.ends_with("/model") && !prefix.is_empty() {
        return None;
    }
    let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
    Some((id.into_owned(), stream))
}

struct HeaderInjector<'a>(&'a mut aws_smithy_runtime_api::http::Headers);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // Invalid header values are skipped, never fail the call.
        let _ = self.0.try_insert(key.to_owned(), value);
    }
}

/// The error of a call the SDK failed without a response body to read.
fn orchestrator_error(e: &dyn std::error::Error, timeout: bool, connector: bool) -> ProviderError {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    let error_type = if timeout {
        "timeout"
    } else if connector {
        "connection_error"
    } else {
        "transport_error"
    };
    ProviderError::new(error_type, message)
}

/// Opens the span of a Converse / ConverseStream request (`None` for any other operation,
/// or when the Bedrock instrument is off).
fn start(request: &aws_smithy_runtime_api::http::Request, cfg: &ConfigBag) -> Option<CallState> {
    if !llmetry::instrument_enabled(llmetry::Instrument::Bedrock) {
        return None;
    }
    if let Some(meta) = cfg.load::<Metadata>()
        && !matches!(meta.name(), "Converse" | "ConverseStream")
    {
        return None;
    }
    let url = url::Url::parse(request.uri()).ok()?;
    let (model_id, stream) = converse_path(url.path())?;
    let body = request.body().bytes().unwrap_or_default();
    let mut req = providers::parse_request_bytes(Api::BedrockConverse, body).unwrap_or_default();
    req.model = Some(bedrock::bedrock_model(&model_id).model);
    req.stream = stream;
    let span = LlmSpan::start_with_request(Api::BedrockConverse, Provider::AwsBedrock, &url, req);
    if let Some(id) = bedrock::guardrail_id(body) {
        span.context()
            .span()
            .set_attribute(KeyValue::new(k::AWS_BEDROCK_GUARDRAIL_ID, id));
    }
    Some(CallState(Arc::new(Mutex::new(Call {
        span: Some(span),
        last: None,
    }))))
}

impl Intercept for BedrockInterceptor {
    fn name(&self) -> &'static str {
        "llmetry.BedrockInterceptor"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The first attempt opens the span: only now is the endpoint resolved (the URI is
        // absolute) and the request signed.
        let state = match cfg.load::<CallState>() {
            Some(state) => state.clone(),
            None => match start(context.request(), cfg) {
                Some(state) => {
                    cfg.interceptor_state().store_put(state.clone());
                    state
                }
                None => return Ok(()),
            },
        };
        if !self.inject_traceparent {
            return Ok(());
        }
        let cx = state.with(|call| call.span.as_ref().map(|s| s.context().clone()));
        if let Some(cx) = cx {
            let headers = context.request_mut().headers_mut();
            opentelemetry::global::get_text_map_propagator(|p| {
                p.inject_context(&cx, &mut HeaderInjector(headers))
            });
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(state) = cfg.load::<CallState>() else {
            return Ok(());
        };
        let response = context.response_mut();
        let event_stream = response
            .headers()
            .get("content-type")
            .is_some_and(|ct| ct.starts_with("application/vnd.amazon.eventstream"));
        if !response.status().is_success() || !event_stream {
            return Ok(());
        }
        let Some(span) = state.with(|call| call.span.take()) else {
            return Ok(());
        };
        let inner = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = SdkBody::from_body_1_x(EventStreamTap::new(inner, span));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(state) = cfg.load::<CallState>() else {
            return Ok(());
        };
        let response = context.response();
        let Some(body) = response.body().bytes() else {
            // A stream: its tap has the span.
            return Ok(());
        };
        let status = response.status();
        let attempt = if status.is_success() {
            Attempt::Response(Box::new(
                providers::parse_response_bytes(Api::BedrockConverse, body).unwrap_or_default(),
            ))
        } else {
            Attempt::Error(bedrock::parse_error(
                status.as_u16(),
                response.headers().get("x-amzn-errortype"),
                body,
            ))
        };
        state.with(|call| call.last = Some(attempt));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(state) = cfg.load::<CallState>() else {
            return Ok(());
        };
        let (span, last) = state.with(|call| (call.span.take(), call.last.take()));
        let Some(mut span) = span else {
            return Ok(());
        };
        match (context.output_or_error(), last) {
            (Some(Ok(_)), Some(Attempt::Response(resp))) => {
                span.record_response_owned(*resp);
                span.finish();
            }
            (Some(Ok(_)), _) => span.finish(),
            (_, Some(Attempt::Error(e))) => span.fail(&e),
            (Some(Err(e)), _) => span.fail(&orchestrator_error(
                e,
                e.is_timeout_error(),
                e.is_connector_error(),
            )),
            (None, _) => span.fail(&ProviderError::new(
                "transport_error",
                "the call ended without a response",
            )),
        }
        Ok(())
    }
}

/// Passes a ConverseStream body through unchanged while decoding its event-stream messages
/// into the accumulator; ends the span with the stream.
struct EventStreamTap {
    inner: SdkBody,
    /// The start of an unfinished message.
    pending: Vec<u8>,
    /// Bytes still to drop of a message longer than [`MAX_LINE`].
    skip: usize,
    /// A message was dropped for its size.
    dropped: bool,
    /// The framing broke (a bad length or CRC): decoding stopped, the bytes still pass.
    broken: bool,
    acc: Accumulator,
    span: Option<LlmSpan>,
    done: bool,
    failed: bool,
}

/// Prelude (total length, headers length, prelude CRC) plus the message CRC.
const FRAME_OVERHEAD: usize = 16;

impl EventStreamTap {
    fn new(inner: SdkBody, span: LlmSpan) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            skip: 0,
            dropped: false,
            broken: false,
            acc: Accumulator::new(Api::BedrockConverse),
            span: Some(span),
            done: false,
            failed: false,
        }
    }

    /// Decodes the messages `bytes` completes.
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.broken {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = bytes.get(n..).unwrap_or_default();
                continue;
            }
            // Complete messages straight from the chunk; only a partial one is copied.
            if self.pending.is_empty() {
                match message_len(bytes) {
                    Frame::Complete(len) => {
                        self.message(bytes.get(..len).unwrap_or_default());
                        bytes = bytes.get(len..).unwrap_or_default();
                        continue;
                    }
                    Frame::TooLong(len) => {
                        self.dropped = true;
                        self.skip = len;
                        continue;
                    }
                    Frame::Invalid => {
                        self.broken = true;
                        return;
                    }
                    Frame::Incomplete => {
                        self.pending.extend_from_slice(bytes);
                        return;
                    }
                }
            }
            // Fill the pending message up to its length (or its prelude first).
            let want = match message_len(&self.pending) {
                Frame::Incomplete if self.pending.len() < 4 => 4 - self.pending.len(),
                Frame::Incomplete => {
                    let total = declared_len(&self.pending).unwrap_or(0);
                    total.saturating_sub(self.pending.len())
                }
                Frame::TooLong(len) => {
                    self.dropped = true;
                    self.skip = len.saturating_sub(self.pending.len());
                    self.pending = Vec::new();
                    continue;
                }
                Frame::Invalid => {
                    self.broken = true;
                    return;
                }
                Frame::Complete(_) => 0,
            };
            let n = want.min(bytes.len());
            self.pending
                .extend_from_slice(bytes.get(..n).unwrap_or_default());
            bytes = bytes.get(n..).unwrap_or_default();
            if let Frame::Complete(len) = message_len(&self.pending) {
                let message = std::mem::take(&mut self.pending);
                self.message(message.get(..len).unwrap_or_default());
                // Keep the buffer's capacity for the next partial message.
                self.pending = message;
                self.pending.clear();
            }
        }
    }

    /// Folds one whole message.
    fn message(&mut self, bytes: &[u8]) {
        let Ok(message) = aws_smithy_eventstream::frame::read_message_from(bytes) else {
            self.broken = true;
            return;
        };
        let header = |name: &str| {
            message.headers().iter().find_map(|h| match h.value() {
                HeaderValue::String(s) if h.name().as_str() == name => Some(s.as_str()),
                _ => None,
            })
        };
        let kind = match header(":message-type") {
            Some("event") => header(":event-type"),
            Some("exception") => header(":exception-type").or(Some("exception")),
            Some("error") => header(":error-code").or(Some("error")),
            _ => None,
        };
        let payload = String::from_utf8_lossy(message.payload());
        let Some(span) = self.span.as_mut() else {
            return;
        };
        let pushed = match header(":message-type") {
            // `:error-message` carries the text of a protocol error.
            Some("error") => Err(ProviderError::new(
                kind.unwrap_or("error"),
                header(":error-message").unwrap_or_default(),
            )),
            _ => self.acc.push(kind, &payload),
        };
        match pushed {
            Ok(p) => {
                if p.chunk {
                    span.chunk();
                }
                self.done |= p.done;
            }
            Err(e) => {
                span.record_error(&e);
                self.failed = true;
            }
        }
    }

    fn end(&mut self, how: StreamEnd) {
        let Some(mut span) = self.span.take() else {
            return;
        };
        let mut caps: Vec<CaptureCap> = self.acc.caps_hit().to_vec();
        if self.dropped {
            caps.push(CaptureCap::Line);
        }
        span.record_response_owned(self.acc.response());
        span.record_capture_truncated(&caps);
        let how = if self.failed { StreamEnd::Failed } else { how };
        span.finish_stream(how);
    }
}

/// What the bytes at the start of a buffer hold.
enum Frame {
    /// Fewer bytes than the message declares (or than a prelude).
    Incomplete,
    /// A whole message of this length.
    Complete(usize),
    /// A message longer than [`MAX_LINE`] (its declared length): dropped, not buffered.
    TooLong(usize),
    /// A declared length smaller than the framing itself.
    Invalid,
}

fn declared_len(bytes: &[u8]) -> Option<usize> {
    let prelude: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(prelude) as usize)
}

fn message_len(bytes: &[u8]) -> Frame {
    let Some(total) = declared_len(bytes) else {
        return Frame::Incomplete;
    };
    if total < FRAME_OVERHEAD {
        Frame::Invalid
    } else if total > MAX_LINE {
        Frame::TooLong(total)
    } else if bytes.len() >= total {
        Frame::Complete(total)
    } else {
        Frame::Incomplete
    }
}

impl http_body::Body for EventStreamTap {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let data = data.clone();
                    self.feed(&data);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                self.failed = true;
                self.end(StreamEnd::Failed);
            }
            Poll::Ready(None) => {
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

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for EventStreamTap {
    fn drop(&mut self) {
        // A consumer that stops reading once the `metadata` event arrived completed it.
        let how = if self.done {
            StreamEnd::Completed
        } else {
            StreamEnd::Dropped
        };
        self.end(how);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn converse_paths() {
        assert_eq!(
            converse_path("/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"),
            Some((
                "us.anthropic.claude-3-5-sonnet-20240620-v1:0".to_owned(),
                true
            ))
        );
        assert_eq!(
            converse_path(
                "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.meta.llama3-v1%3A0/converse"
            ),
            Some((
                "arn:aws:bedrock:us-east-1:1:inference-profile/us.meta.llama3-v1:0".to_owned(),
                false
            ))
        );
        assert_eq!(converse_path("/model/m/invoke"), None);
        assert_eq!(converse_path("/guardrail/g/version/1/apply"), None);
    }

    #[test]
    fn frame_lengths() {
        assert!(matches!(message_len(&[0, 0]), Frame::Incomplete));
        assert!(matches!(message_len(&[0, 0, 0, 8]), Frame::Invalid));
        assert!(matches!(message_len(&[0, 0, 0, 20, 1]), Frame::Incomplete));
        assert!(matches!(message_len(&[0xFF, 0, 0, 0]), Frame::TooLong(_)));
        assert!(matches!(
            message_len(&[0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Frame::Complete(16)
        ));
    }
}

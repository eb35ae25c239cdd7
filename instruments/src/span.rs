//! The LLM span (kind CLIENT, named like Python's `openai.chat`), the `gen_ai.*` attributes,
//! and the `gen_ai.client.*` metrics recorded when it ends.
//!
//! This is the manual API, for a client no adapter covers: the adapters
//! ([`crate::LlmMiddleware`], `LlmLayer`) drive the same [`LlmSpan`]. The span opens under the
//! current context, so inside a `#[task]` it nests beneath it and gets the workflow name,
//! entity path and association properties like any span:
//!
//! ```rust,standalone_crate
//! use llmetry_instruments::LlmSpan;
//! use llmetry_instruments::model::{Api, Provider};
//! use opentelemetry::trace::SpanKind;
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//! use serde_json::json;
//!
//! # fn send(_request: &serde_json::Value) -> serde_json::Value {
//! #     json!({"id": "msg_01", "model": "claude-haiku-4-5-20251001", "role": "assistant",
//! #            "stop_reason": "end_turn", "content": [{"type": "text", "text": "db-1's disk is full."}],
//! #            "usage": {"input_tokens": 12, "output_tokens": 7}})
//! # }
//! #[llmetry::task(name = "summarize")]
//! fn summarize(text: &str) -> String {
//!     let request = json!({
//!         "model": "claude-haiku-4-5",
//!         "max_tokens": 256,
//!         "messages": [{"role": "user", "content": text}],
//!     });
//!     let mut span = LlmSpan::start(Api::AnthropicMessages, Provider::Anthropic, Some(("api.anthropic.com", 443)));
//!     span.record_request_json(&request);
//!     let response = send(&request); // your client's call
//!     span.record_response_json(&response);
//!     span.finish();
//!     response["content"][0]["text"].as_str().unwrap_or_default().to_owned()
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = InMemorySpanExporter::default();
//! let telemetry = llmetry::init()
//!     .exporter(exporter.clone())
//!     .silence_init_message(true)
//! #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
//!     .install()?;
//! summarize("disk usage alerts for db-1");
//! telemetry.flush()?;
//! let spans = exporter.get_finished_spans()?;
//! let llm = spans.iter().find(|s| s.name == "anthropic.chat").ok_or("no LLM span")?;
//! let task = spans.iter().find(|s| s.name == "summarize.task").ok_or("no task span")?;
//! assert_eq!(llm.parent_span_id, task.span_context.span_id());
//! assert_eq!(llm.span_kind, SpanKind::Client);
//! let attr = |key: &str| llm.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
//! assert_eq!(attr("gen_ai.provider.name").as_deref(), Some("anthropic"));
//! assert_eq!(attr("gen_ai.request.model").as_deref(), Some("claude-haiku-4-5"));
//! assert_eq!(attr("gen_ai.response.model").as_deref(), Some("claude-haiku-4-5-20251001"));
//! assert_eq!(attr("gen_ai.usage.input_tokens").as_deref(), Some("12"));
//! assert_eq!(attr("server.address").as_deref(), Some("api.anthropic.com"));
//! assert!(attr("gen_ai.output.messages").is_some_and(|m| m.contains("disk is full")));
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use serde_json::Value as Json;

use llmetry::semconv as k;

use crate::metrics;
use crate::model::{
    Api, CaptureCap, LlmRequest, LlmResponse, Message, Provider, ProviderError, Usage,
};

/// Instrumentation scope of LLM spans.
///
/// ```
/// use opentelemetry_sdk::trace::SpanData;
/// /// The LLM calls among exported spans.
/// fn llm_calls(spans: &[SpanData]) -> impl Iterator<Item = &SpanData> {
///     spans.iter().filter(|s| s.instrumentation_scope.name() == llmetry_instruments::span::SCOPE)
/// }
/// assert_eq!(llm_calls(&[]).count(), 0);
/// ```
pub const SCOPE: &str = metrics::SCOPE;

/// How a streamed response ended: what to pass to [`LlmSpan::finish_stream`].
///
/// ```
/// use llmetry_instruments::{LlmSpan, StreamEnd};
/// use llmetry_instruments::model::{Api, Provider};
/// use llmetry_instruments::decode::SseDecoder;
/// use llmetry_instruments::providers::Accumulator;
/// use serde_json::json;
///
/// # let chunks: Vec<&[u8]> = vec![
/// #     b"data: {\"model\": \"gpt-4o\", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"Hi\"}}]}\n\n",
/// #     b"data: [DONE]\n\n",
/// # ];
/// let mut span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, Some(("api.openai.com", 443)));
/// span.record_request_json(&json!({"model": "gpt-4o", "stream": true, "messages": []}));
/// let (mut decoder, mut acc) = (SseDecoder::new(), Accumulator::new(Api::OpenAiChat));
/// let mut end = StreamEnd::Failed; // unless the provider says the stream is complete
/// for chunk in chunks {
///     for event in decoder.push(chunk) {
///         match acc.push(event.event.as_deref(), &event.data) {
///             Ok(progress) => {
///                 if progress.first_token {
///                     span.first_token();
///                 }
///                 if progress.done {
///                     end = StreamEnd::Completed;
///                 }
///             }
///             Err(e) => span.record_error(&e),
///         }
///     }
/// }
/// span.record_response(&acc.response());
/// span.finish_stream(end);
/// assert_eq!(end, StreamEnd::Completed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEnd {
    /// The provider said the stream is complete: status OK.
    Completed,
    /// The stream broke (transport error or an error event): status ERROR.
    Failed,
    /// The consumer dropped the stream before its end: status left unset.
    Dropped,
}

/// An open LLM call. Ends (recording metrics) on [`LlmSpan::finish`], [`LlmSpan::fail`],
/// [`LlmSpan::finish_stream`], or when dropped.
///
/// ```
/// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
/// let mut span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, Some(("api.openai.com", 443)));
/// span.record_request_json(&serde_json::json!({"model": "gpt-4o-mini", "messages": []}));
/// span.record_response_json(&serde_json::json!({"id": "c-1", "model": "gpt-4o-mini", "choices": [],
///     "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}));
/// span.finish();
/// ```
#[derive(Debug)]
pub struct LlmSpan {
    cx: Context,
    api: Api,
    provider: Provider,
    /// `gen_ai.provider.name`, shared with the metric attributes (no copy for well-known
    /// providers).
    provider_value: StringValue,
    server: Option<(StringValue, u16)>,
    request_model: Option<StringValue>,
    response_model: Option<StringValue>,
    stream: bool,
    content: bool,
    start: Instant,
    first_token: Option<Instant>,
    usage: Usage,
    choices: usize,
    error_type: Option<StringValue>,
    ended: bool,
}

fn kv(key: &'static str, value: impl Into<Value>) -> KeyValue {
    KeyValue::new(key, value)
}

/// A string attribute value that is shared, not copied, by the span and the metrics.
fn shared(s: String) -> StringValue {
    StringValue::from(Arc::<str>::from(s))
}

fn strings(v: Vec<String>) -> Value {
    Value::Array(Array::String(
        v.into_iter().map(StringValue::from).collect(),
    ))
}

/// Messages as the JSON of `gen_ai.*.messages`, cut to the attribute value length limit.
fn messages_json(messages: &[Message]) -> String {
    let mut s = serde_json::to_string(messages).unwrap_or_default();
    llmetry::truncate_value(&mut s);
    s
}

impl LlmSpan {
    /// Opens the span under the current context. `server` is the host and port of the
    /// endpoint (for `server.address` / `server.port`).
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let span = LlmSpan::start(Api::OllamaChat, Provider::Ollama, Some(("localhost", 11434)));
    /// span.finish();
    /// ```
    pub fn start(api: Api, provider: Provider, server: Option<(&str, u16)>) -> Self {
        Self::open(api, provider, server, None)
    }

    /// Opens the span with the request's attributes among its start attributes (what the
    /// adapters do: one attribute vector, moved into the span).
    #[cfg_attr(
        not(any(feature = "reqwest-middleware", feature = "async-openai")),
        allow(dead_code)
    )]
    pub(crate) fn start_with_request(
        api: Api,
        provider: Provider,
        server: Option<(&str, u16)>,
        req: LlmRequest,
    ) -> Self {
        Self::open(api, provider, server, Some(req))
    }

    fn open(
        api: Api,
        provider: Provider,
        server: Option<(&str, u16)>,
        req: Option<LlmRequest>,
    ) -> Self {
        let tracer = opentelemetry::global::tracer(api.scope().unwrap_or(SCOPE));
        let parent = Context::current();
        let name = api.span_name_for(req.as_ref().and_then(|r| r.model.as_deref()));
        let provider_value = match provider.static_str() {
            Some(s) => StringValue::from(s),
            None => shared(provider.as_str().to_owned()),
        };
        let server = server.map(|(h, p)| (shared(h.to_owned()), p));
        let mut attrs = Vec::with_capacity(if req.is_some() { 16 } else { 4 });
        attrs.push(kv(k::GEN_AI_OPERATION_NAME, api.operation()));
        attrs.push(kv(k::GEN_AI_PROVIDER_NAME, provider_value.clone()));
        if let Some((host, port)) = &server {
            attrs.push(kv(k::SERVER_ADDRESS, host.clone()));
            attrs.push(kv(k::SERVER_PORT, i64::from(*port)));
        }
        let mut this = Self {
            cx: Context::new(),
            api,
            provider,
            provider_value,
            server,
            request_model: None,
            response_model: None,
            stream: false,
            content: llmetry::trace_content_enabled(),
            start: Instant::now(),
            first_token: None,
            usage: Usage::default(),
            choices: 0,
            error_type: None,
            ended: false,
        };
        let messages = req.map(|req| this.request_attributes(req, &mut attrs));
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attrs)
            .start_with_context(&tracer, &parent);
        this.cx = parent.with_span(span);
        if let Some(messages) = messages
            && !messages.is_empty()
        {
            crate::events::input_messages(
                &this.cx,
                this.provider.as_str(),
                this.content,
                &messages,
            );
        }
        this
    }

    /// The context with this span current: attach it while the call runs, inject it as
    /// `traceparent`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    ///
    /// let span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None);
    /// let mut headers = HashMap::new(); // HashMap<String, String> is an `Injector`
    /// opentelemetry::global::get_text_map_propagator(|p| p.inject_context(span.context(), &mut headers));
    /// {
    ///     let _guard = span.context().clone().attach();
    ///     // spans started here (the HTTP client's own, for example) are children of the LLM span
    /// }
    /// span.finish();
    /// ```
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The provider this span describes.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let span = LlmSpan::start(Api::OpenAiChat, Provider::DeepSeek, None);
    /// assert_eq!(span.provider().as_str(), "deepseek");
    /// ```
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The API this span describes.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let span = LlmSpan::start(Api::OpenAiEmbeddings, Provider::OpenAi, None);
    /// assert_eq!(span.api().operation(), "embeddings");
    /// ```
    pub fn api(&self) -> Api {
        self.api
    }

    /// Whether content may be recorded on this span (decided when it started, by
    /// [`llmetry::trace_content_enabled`]).
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let span = llmetry::with_trace_content(false, || LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None));
    /// assert!(!span.content_enabled()); // no prompts or completions on this one
    /// ```
    pub fn content_enabled(&self) -> bool {
        self.content
    }

    /// Appends the attributes of `req` to `attrs`, moving its strings. Returns the input
    /// messages when they go out as log events (`use_attributes(false)`), after the span
    /// exists.
    fn request_attributes(&mut self, req: LlmRequest, attrs: &mut Vec<KeyValue>) -> Vec<Message> {
        self.stream = req.stream;
        attrs.push(kv(k::GEN_AI_IS_STREAMING, req.stream));
        if let Some(m) = req.model {
            let m = shared(m);
            self.request_model = Some(m.clone());
            attrs.push(kv(k::GEN_AI_REQUEST_MODEL, m));
        }
        let ints = [
            (k::GEN_AI_REQUEST_MAX_TOKENS, req.max_tokens),
            (k::GEN_AI_REQUEST_SEED, req.seed),
            (k::GEN_AI_REQUEST_CHOICE_COUNT, req.choice_count),
        ];
        attrs.extend(
            ints.into_iter()
                .filter_map(|(key, v)| v.map(|v| kv(key, v))),
        );
        let floats = [
            (k::GEN_AI_REQUEST_TEMPERATURE, req.temperature),
            (k::GEN_AI_REQUEST_TOP_P, req.top_p),
            (k::GEN_AI_REQUEST_TOP_K, req.top_k),
            (k::GEN_AI_REQUEST_FREQUENCY_PENALTY, req.frequency_penalty),
            (k::GEN_AI_REQUEST_PRESENCE_PENALTY, req.presence_penalty),
        ];
        attrs.extend(
            floats
                .into_iter()
                .filter_map(|(key, v)| v.map(|v| kv(key, v))),
        );
        if !req.stop_sequences.is_empty() {
            attrs.push(kv(
                k::GEN_AI_REQUEST_STOP_SEQUENCES,
                strings(req.stop_sequences),
            ));
        }
        if !req.encoding_formats.is_empty() {
            attrs.push(kv(
                k::GEN_AI_REQUEST_ENCODING_FORMATS,
                strings(req.encoding_formats),
            ));
        }
        let texts = [
            (k::GEN_AI_USER, req.user),
            (k::GEN_AI_REQUEST_REASONING_EFFORT, req.reasoning_effort),
            (k::GEN_AI_OUTPUT_TYPE, req.output_type),
            (
                k::GEN_AI_REQUEST_STRUCTURED_OUTPUT_SCHEMA,
                req.structured_output_schema,
            ),
        ];
        attrs.extend(
            texts
                .into_iter()
                .filter_map(|(key, v)| v.map(|v| kv(key, v))),
        );
        if !llmetry::use_attributes() {
            return req.input_messages;
        }
        if self.content {
            if !req.input_messages.is_empty() {
                attrs.push(kv(
                    k::GEN_AI_INPUT_MESSAGES,
                    messages_json(&req.input_messages),
                ));
            }
            if !req.tool_definitions.is_empty() {
                let mut s = serde_json::to_string(&req.tool_definitions).unwrap_or_default();
                llmetry::truncate_value(&mut s);
                attrs.push(kv(k::GEN_AI_TOOL_DEFINITIONS, s));
            }
        }
        Vec::new()
    }

    /// Records what the request asked for (`gen_ai.request.*`, `gen_ai.is_streaming`, and
    /// the input messages and tool definitions when content is allowed).
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, LlmRequest, Provider}};
    /// let mut span = LlmSpan::start(Api::OpenAiChat, Provider::Vllm, Some(("gpu-box", 8000)));
    /// let mut req = LlmRequest::default(); // `#[non_exhaustive]`: set field by field
    /// req.model = Some("meta-llama/Llama-3.1-8B-Instruct".into());
    /// req.temperature = Some(0.0);
    /// req.max_tokens = Some(512);
    /// span.record_request(&req);
    /// span.finish();
    /// ```
    pub fn record_request(&mut self, req: &LlmRequest) {
        if self.api.names_span_by_model()
            && let Some(model) = req.model.as_deref()
        {
            self.cx
                .span()
                .update_name(self.api.span_name_for(Some(model)));
        }
        let mut attrs = Vec::with_capacity(12);
        let messages = self.request_attributes(req.clone(), &mut attrs);
        self.cx.span().set_attributes(attrs);
        if !messages.is_empty() {
            crate::events::input_messages(
                &self.cx,
                self.provider.as_str(),
                self.content,
                &messages,
            );
        }
    }

    /// Parses and records a request body (with the parser of the span's [`Api`]).
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let mut span = LlmSpan::start(Api::OllamaGenerate, Provider::Ollama, Some(("localhost", 11434)));
    /// span.record_request_json(&serde_json::json!({"model": "llama3.2", "prompt": "Hi", "stream": false}));
    /// span.finish();
    /// ```
    pub fn record_request_json(&mut self, body: &Json) {
        let req = crate::providers::parse_request(self.api, body);
        self.record_request(&req);
    }

    /// Marks the arrival of the first generated token of a stream
    /// (`gen_ai.server.time_to_first_token`). Later calls change nothing.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, StreamEnd, model::{Api, Provider}};
    /// let mut span = LlmSpan::start(Api::AnthropicMessages, Provider::Anthropic, None);
    /// span.first_token(); // when the first text delta arrives
    /// span.first_token(); // ignored
    /// span.finish_stream(StreamEnd::Completed);
    /// ```
    pub fn first_token(&mut self) {
        if self.first_token.is_none() {
            let now = Instant::now();
            self.first_token = Some(now);
            let ttft = now.duration_since(self.start).as_secs_f64();
            self.cx
                .span()
                .set_attribute(kv(k::GEN_AI_SERVER_TIME_TO_FIRST_TOKEN, ttft));
        }
    }

    fn usage_attributes(&mut self, usage: Usage, attrs: &mut Vec<KeyValue>) {
        self.usage = usage;
        let fields = [
            (k::GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens),
            (k::GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens),
            (k::GEN_AI_USAGE_TOTAL_TOKENS, usage.total_tokens),
            (
                k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                usage.cache_read_input_tokens,
            ),
            (
                k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                usage.cache_creation_input_tokens,
            ),
            (k::GEN_AI_USAGE_REASONING_TOKENS, usage.reasoning_tokens),
        ];
        attrs.extend(
            fields
                .into_iter()
                .filter_map(|(key, v)| v.map(|v| kv(key, v))),
        );
    }

    /// Records token usage (`gen_ai.usage.*`; also used by the token metrics).
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider, Usage}};
    /// let mut span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None);
    /// let mut usage = Usage::default(); // `#[non_exhaustive]`: set field by field
    /// usage.input_tokens = Some(12);
    /// usage.output_tokens = Some(3);
    /// usage.total_tokens = Some(15);
    /// span.record_usage(usage);
    /// span.finish();
    /// ```
    pub fn record_usage(&mut self, usage: Usage) {
        let mut attrs = Vec::with_capacity(6);
        self.usage_attributes(usage, &mut attrs);
        self.cx.span().set_attributes(attrs);
    }

    /// Records what the response said (without ending the span): `gen_ai.response.*`,
    /// usage, the output messages when content is allowed, and the error the body reports.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, LlmResponse, Provider}};
    /// let mut span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None);
    /// let mut resp = LlmResponse::default(); // `#[non_exhaustive]`: set field by field
    /// resp.id = Some("chatcmpl-1".into());
    /// resp.model = Some("gpt-4o-2024-08-06".into());
    /// resp.finish_reasons = vec!["stop".into()];
    /// resp.choice_count = 1;
    /// resp.usage.input_tokens = Some(12);
    /// resp.usage.output_tokens = Some(3);
    /// span.record_response(&resp);
    /// span.finish();
    /// ```
    pub fn record_response(&mut self, resp: &LlmResponse) {
        self.record_response_owned(resp.clone());
    }

    /// [`LlmSpan::record_response`], moving the response's strings into the attributes.
    pub(crate) fn record_response_owned(&mut self, resp: LlmResponse) {
        let mut attrs = Vec::with_capacity(12);
        if let Some(id) = resp.id {
            attrs.push(kv(k::GEN_AI_RESPONSE_ID, id));
        }
        if let Some(m) = resp.model {
            let m = shared(m);
            self.response_model = Some(m.clone());
            attrs.push(kv(k::GEN_AI_RESPONSE_MODEL, m));
        }
        if !resp.finish_reasons.is_empty() {
            attrs.push(kv(
                k::GEN_AI_RESPONSE_FINISH_REASONS,
                strings(resp.finish_reasons),
            ));
        }
        if let Some(d) = resp.embedding_dimensions {
            attrs.push(kv(k::GEN_AI_EMBEDDINGS_DIMENSION_COUNT, d as i64));
        }
        self.choices = resp.choice_count;
        self.usage_attributes(resp.usage, &mut attrs);
        let events = !llmetry::use_attributes();
        if !events && self.content && !resp.output_messages.is_empty() {
            attrs.push(kv(
                k::GEN_AI_OUTPUT_MESSAGES,
                messages_json(&resp.output_messages),
            ));
        }
        self.cx.span().set_attributes(attrs);
        if events {
            crate::events::choices(
                &self.cx,
                self.provider.as_str(),
                self.content,
                &resp.output_messages,
            );
        }
        if let Some(e) = &resp.error {
            self.record_error(e);
        }
    }

    /// Parses and records a response body (without ending the span).
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let mut span = LlmSpan::start(Api::OllamaChat, Provider::Ollama, None);
    /// span.record_response_json(&serde_json::json!({
    ///     "model": "llama3.2", "done": true, "done_reason": "stop",
    ///     "message": {"role": "assistant", "content": "Hi!"}, "prompt_eval_count": 5, "eval_count": 2,
    /// }));
    /// span.finish();
    /// ```
    pub fn record_response_json(&mut self, body: &Json) {
        let resp = crate::providers::parse_response(self.api, body);
        self.record_response_owned(resp);
    }

    /// Says on the span that its capture hit memory caps (`llmetry.capture.truncated` and
    /// `llmetry.capture.truncated_caps`): what it records of the response was cut, the
    /// caller's data was not. Nothing happens for an empty list.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, CaptureCap, Provider}, providers::Accumulator};
    ///
    /// let mut span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None);
    /// let acc = Accumulator::new(Api::OpenAiChat);
    /// // ...the stream fed to `acc`...
    /// span.record_response(&acc.response());
    /// span.record_capture_truncated(acc.caps_hit()); // empty: nothing recorded
    /// span.record_capture_truncated(&[CaptureCap::Line]); // e.g. the decoder dropped a line
    /// span.finish();
    /// ```
    pub fn record_capture_truncated(&mut self, caps: &[CaptureCap]) {
        if caps.is_empty() {
            return;
        }
        let names = caps.iter().map(|c| StringValue::from(c.as_str())).collect();
        self.cx.span().set_attributes([
            kv(k::LLMETRY_CAPTURE_TRUNCATED, true),
            kv(
                k::LLMETRY_CAPTURE_TRUNCATED_CAPS,
                Value::Array(Array::String(names)),
            ),
        ]);
    }

    /// Marks the call failed: `error.type`, an `exception` event, status ERROR. The span
    /// stays open (e.g. an error event in the middle of a stream).
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, StreamEnd, model::{Api, Provider, ProviderError}};
    /// let mut span = LlmSpan::start(Api::AnthropicMessages, Provider::Anthropic, None);
    /// span.record_error(&ProviderError::new("overloaded_error", "Overloaded"));
    /// span.finish_stream(StreamEnd::Failed);
    /// ```
    pub fn record_error(&mut self, e: &ProviderError) {
        let error_type = StringValue::from(e.error_type.clone());
        self.error_type = Some(error_type.clone());
        let span = self.cx.span();
        span.set_attribute(kv(k::ERROR_TYPE, error_type.clone()));
        span.add_event(
            k::EXCEPTION_EVENT,
            vec![
                kv(k::EXCEPTION_TYPE, error_type),
                kv(k::EXCEPTION_MESSAGE, e.message.clone()),
            ],
        );
        span.set_status(Status::error(e.message.clone()));
    }

    /// Ends a non-streamed call (status stays unset on success, as in Python) and records
    /// the `gen_ai.client.*` metrics.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let span = LlmSpan::start(Api::OpenAiEmbeddings, Provider::OpenAi, None);
    /// span.finish();
    /// ```
    pub fn finish(mut self) {
        self.end(None);
    }

    /// Ends a failed call: [`LlmSpan::record_error`], then [`LlmSpan::finish`].
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}, providers::parse_error};
    /// let span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None);
    /// // The provider answered 429:
    /// let body = br#"{"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}"#;
    /// span.fail(&parse_error(429, body));
    /// ```
    pub fn fail(mut self, e: &ProviderError) {
        self.record_error(e);
        self.end(None);
    }

    /// Ends a streamed call: status OK when [`StreamEnd::Completed`] (and no error was
    /// recorded), ERROR when [`StreamEnd::Failed`], unset with a `gen_ai.stream.dropped`
    /// event when [`StreamEnd::Dropped`].
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, StreamEnd, model::{Api, Provider}};
    /// let mut span = LlmSpan::start(Api::OllamaChat, Provider::Ollama, None);
    /// span.record_request_json(&serde_json::json!({"model": "llama3.2", "messages": []})); // streams
    /// // ...the consumer stopped reading before the end:
    /// span.finish_stream(StreamEnd::Dropped);
    /// ```
    pub fn finish_stream(mut self, how: StreamEnd) {
        self.end(Some(how));
    }

    fn end(&mut self, stream: Option<StreamEnd>) {
        if self.ended {
            return;
        }
        self.ended = true;
        let span = self.cx.span();
        match stream {
            Some(StreamEnd::Completed) if self.error_type.is_none() => span.set_status(Status::Ok),
            Some(StreamEnd::Failed) if self.error_type.is_none() => {
                self.error_type = Some(StringValue::from(k::STREAM_ERROR_TYPE));
                span.set_attribute(kv(k::ERROR_TYPE, k::STREAM_ERROR_TYPE));
                span.set_status(Status::error("the stream failed before completing"));
            }
            Some(StreamEnd::Dropped) => {
                span.add_event(k::GEN_AI_STREAM_DROPPED_EVENT, Vec::new());
            }
            _ => {}
        }
        let elapsed = self.start.elapsed().as_secs_f64();
        let ttft = self
            .first_token
            .map(|t| t.duration_since(self.start).as_secs_f64());
        metrics::record(metrics::Call {
            provider: self.provider_value.clone(),
            operation: self.api.operation(),
            request_model: self.request_model.take(),
            response_model: self.response_model.take(),
            server: self.server.take(),
            stream: self.stream,
            error_type: self.error_type.take(),
            duration_s: elapsed,
            time_to_first_token_s: ttft,
            usage: self.usage,
            choices: self.choices,
        });
        span.end();
    }
}

impl Drop for LlmSpan {
    fn drop(&mut self) {
        let how = if self.stream {
            Some(StreamEnd::Dropped)
        } else {
            None
        };
        self.end(how);
    }
}

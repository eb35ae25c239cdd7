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

use opentelemetry::trace::{
    SpanBuilder, SpanKind, Status, TraceContextExt as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, InstrumentationScope, KeyValue, StringValue, Value};
use serde_json::Value as Json;
use url::Url;

use llmetry::redact::{Field, Verdict};
use llmetry::semconv as k;

use crate::json::{self, Style};
use crate::metrics;
use crate::model::{
    Api, CaptureCap, Family, LlmRequest, LlmResponse, Message, Provider, ProviderError, Usage,
};

/// The instrumentation scopes of LLM spans and metrics, one per Python instrumentation
/// package ([`Api::scope_name`]): OpenAI API, Anthropic, Ollama, Google Generative AI
/// (Gemini), Bedrock.
///
/// ```
/// use opentelemetry_sdk::trace::SpanData;
/// /// The LLM calls among exported spans.
/// fn llm_calls(spans: &[SpanData]) -> impl Iterator<Item = &SpanData> {
///     spans.iter().filter(|s| llmetry_instruments::span::SCOPES.contains(&s.instrumentation_scope.name()))
/// }
/// assert_eq!(llm_calls(&[]).count(), 0);
/// ```
pub const SCOPES: [&str; 5] = [
    k::OPENAI_SCOPE,
    k::ANTHROPIC_SCOPE,
    k::OLLAMA_SCOPE,
    k::GOOGLE_GENERATIVEAI_SCOPE,
    k::BEDROCK_SCOPE,
];

/// The version of the instrumentation scopes: this crate's version.
///
/// ```
/// assert!(!llmetry_instruments::span::SCOPE_VERSION.is_empty());
/// ```
pub const SCOPE_VERSION: &str = metrics::SCOPE_VERSION;

/// Per-chunk timings kept for `gen_ai.client.operation.time_per_output_chunk` (opt-in
/// conventions): 64 KiB at most per stream.
const MAX_CHUNK_GAPS: usize = 16384;

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
///                 if progress.chunk {
///                     span.chunk();
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
    /// The provider said the stream is complete: status OK (Ollama and Bedrock: left
    /// unset, as Python leaves it).
    Completed,
    /// The stream broke (transport error or an error event): status ERROR, `error.type`
    /// `stream_error` unless an error was recorded. (Python ends such a stream with status
    /// OK; see the README's "Coming from Python".)
    Failed,
    /// The consumer dropped the stream before its end: status left unset, a
    /// `gen_ai.stream.dropped` event. (Python: status OK, no event.)
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
    /// The process follows the latest GenAI conventions (decided at start).
    latest: bool,
    /// The span name says the request model (opt-in mode).
    named: bool,
    start: Instant,
    first_chunk: Option<Instant>,
    last_chunk: Option<Instant>,
    chunk_gaps: Vec<f32>,
    usage: Usage,
    choices: usize,
    finish_reasons: Vec<StringValue>,
    vector_size: Option<usize>,
    caps: Vec<CaptureCap>,
    error_type: Option<StringValue>,
    /// The response came from a service tier the price table has no price for.
    unpriced_tier: Option<String>,
    ended: bool,
}

fn kv(key: &'static str, value: impl Into<Value>) -> KeyValue {
    KeyValue::new(key, value)
}

/// A string attribute value that is shared, not copied, by the span and the metrics.
fn shared(s: String) -> StringValue {
    StringValue::from(Arc::<str>::from(s))
}

/// A finish reason as an attribute value: the common ones without an allocation.
fn reason_value(s: String) -> StringValue {
    match s.as_str() {
        "stop" => StringValue::from("stop"),
        "length" => StringValue::from("length"),
        "tool_call" => StringValue::from("tool_call"),
        "content_filter" => StringValue::from("content_filter"),
        _ => StringValue::from(s),
    }
}

fn strings(v: Vec<String>) -> Value {
    Value::Array(Array::String(
        v.into_iter().map(StringValue::from).collect(),
    ))
}

/// Cut to the attribute value length limit.
fn truncated(mut s: String) -> String {
    llmetry::truncate_value(&mut s);
    s
}

/// The part after the last `/` of a `provider/model` name (what Python's OpenAI
/// instrumentation writes as `gen_ai.response.model`, and as `gen_ai.request.model` for
/// OpenRouter).
fn model_after_slash(m: &StringValue) -> Option<String> {
    let s = m.as_str();
    s.rfind('/')
        .map(|i| s.get(i + 1..).unwrap_or_default().to_owned())
}

/// `gen_ai.openai.api_base` of an OpenAI-API request URL: the URL up to the API path
/// (`…/chat/completions`, `…/embeddings`, …), with a trailing `/`, no query: what
/// `str(client.base_url)` is in Python (`http://127.0.0.1:8080/v1/`).
fn api_base(url: &Url, api: Api) -> String {
    let suffix = match api {
        Api::OpenAiChat => "chat/completions",
        Api::OpenAiCompletion => "completions",
        Api::OpenAiEmbeddings => "embeddings",
        _ => "responses",
    };
    let path = url.path().trim_end_matches('/');
    let base_path = path.strip_suffix(suffix).unwrap_or(path);
    let mut s = String::with_capacity(url.as_str().len());
    s.push_str(url.scheme());
    s.push_str("://");
    s.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        s.push(':');
        s.push_str(&port.to_string());
    }
    s.push_str(base_path);
    if !s.ends_with('/') {
        s.push('/');
    }
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
        Self::open(api, provider, server, None, None)
    }

    /// Opens the span for a request to `url`, with the request's attributes among its start
    /// attributes (what the adapters do: one attribute vector, moved into the span).
    #[cfg_attr(
        not(any(feature = "reqwest-middleware", feature = "async-openai")),
        allow(dead_code)
    )]
    pub(crate) fn start_with_request(
        api: Api,
        provider: Provider,
        url: &Url,
        req: LlmRequest,
    ) -> Self {
        let server = url
            .host_str()
            .map(|h| (h, url.port_or_known_default().unwrap_or(0)));
        Self::open(api, provider, server, Some(url), Some(req))
    }

    fn open(
        api: Api,
        provider: Provider,
        server: Option<(&str, u16)>,
        url: Option<&Url>,
        req: Option<LlmRequest>,
    ) -> Self {
        let family = api.family();
        let latest = llmetry::gen_ai_latest_conventions();
        let parent = Context::current();
        let provider_value = match provider.static_str() {
            Some(s) => StringValue::from(s),
            None => shared(provider.as_str().to_owned()),
        };
        let server = server.map(|(h, p)| (StringValue::from(Arc::<str>::from(h)), p));
        let mut attrs = Vec::with_capacity(if req.is_some() { 20 } else { 6 });
        attrs.push(kv(k::GEN_AI_OPERATION_NAME, api.operation()));
        attrs.push(kv(k::GEN_AI_PROVIDER_NAME, provider_value.clone()));
        if family == Family::Ollama && !latest {
            // What Python's Ollama instrumentation starts its spans with.
            attrs.push(kv(k::GEN_AI_SYSTEM, "Ollama"));
            let request_type = match api {
                Api::OllamaChat => "chat",
                Api::OllamaGenerate => "completion",
                _ => "embedding",
            };
            attrs.push(kv(k::LLM_REQUEST_TYPE, request_type));
        }
        if let Some((host, port)) = &server {
            attrs.push(kv(k::SERVER_ADDRESS, host.clone()));
            attrs.push(kv(k::SERVER_PORT, i64::from(*port)));
        }
        if let Some(url) = url
            && family == Family::OpenAi
        {
            attrs.push(kv(k::GEN_AI_OPENAI_API_BASE, api_base(url, api)));
            if provider == Provider::AzureOpenAi
                && let Some((_, v)) = url.query_pairs().find(|(k, _)| k == "api-version")
            {
                attrs.push(kv(k::GEN_AI_OPENAI_API_VERSION, v.into_owned()));
            }
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
            latest,
            named: false,
            start: Instant::now(),
            first_chunk: None,
            last_chunk: None,
            chunk_gaps: Vec::new(),
            usage: Usage::default(),
            choices: 0,
            finish_reasons: Vec::new(),
            vector_size: None,
            caps: Vec::new(),
            error_type: None,
            unpriced_tier: None,
            ended: false,
        };
        let messages = req.map(|req| this.request_attributes(req, &mut attrs));
        // `{operation} {model}`: in opt-in mode, and always where Python names spans so
        // (Gemini, Bedrock).
        let by_model = latest || api.names_span_by_model();
        let name: std::borrow::Cow<'static, str> = match (&this.request_model, by_model) {
            (Some(m), true) => {
                this.named = true;
                format!("{} {}", api.operation(), m.as_str()).into()
            }
            (None, true) => api.operation().into(),
            (_, false) => api.span_name().into(),
        };
        let builder = SpanBuilder::from_name(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attrs);
        let scope = InstrumentationScope::builder(family.scope_name())
            .with_version(SCOPE_VERSION)
            .build();
        // The provider llmetry installed, as entity spans; the global one without it.
        this.cx = match llmetry::__private::installed_tracer_provider() {
            Some(provider) => {
                let tracer = provider.tracer_with_scope(scope);
                parent.with_span(builder.start_with_context(&tracer, &parent))
            }
            None => {
                let tracer = opentelemetry::global::tracer_with_scope(scope);
                parent.with_span(builder.start_with_context(&tracer, &parent))
            }
        };
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
    fn request_attributes(
        &mut self,
        mut req: LlmRequest,
        attrs: &mut Vec<KeyValue>,
    ) -> Vec<Message> {
        let family = self.api.family();
        if self.content && llmetry::redact::active() {
            // Text written before redaction was switched on (`MessageForm`) is not written.
            req.input_messages_json = None;
            let provider = self.provider.as_str();
            redact_messages(&mut req.input_messages, Field::LlmInput, provider);
            redact_parts(
                &mut req.system_instructions,
                Field::LlmSystem,
                provider,
                "system",
            );
        }
        self.stream = req.stream;
        // `gen_ai.is_streaming`: always for OpenAI-API calls and Ollama (ours), for
        // Anthropic only when the body said `stream`, as Python writes it.
        if family != Family::Anthropic || req.stream_explicit {
            attrs.push(kv(k::GEN_AI_IS_STREAMING, req.stream));
        }
        if self.latest {
            if req.stream {
                attrs.push(kv(k::GEN_AI_REQUEST_STREAM, true));
            }
        } else if family == Family::Ollama {
            attrs.push(kv(k::LLM_IS_STREAMING, req.stream));
        }
        if let Some(m) = req.model {
            let m = shared(m);
            let span_value = match (&self.provider, self.latest) {
                (Provider::OpenRouter, false) => model_after_slash(&m).map(StringValue::from),
                _ => None,
            };
            attrs.push(kv(
                k::GEN_AI_REQUEST_MODEL,
                span_value.unwrap_or_else(|| m.clone()),
            ));
            self.request_model = Some(m);
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
            (k::OPENAI_REQUEST_SERVICE_TIER, req.service_tier),
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
            // Log events: system instructions as the first (system) message.
            let mut messages = req.input_messages;
            if !req.system_instructions.is_empty() {
                messages.insert(
                    0,
                    crate::providers::parts::message("system", req.system_instructions),
                );
            }
            return messages;
        }
        if self.content {
            let style = Style::of(self.api);
            if let Some(text) = req.input_messages_json {
                attrs.push(kv(k::GEN_AI_INPUT_MESSAGES, truncated(text)));
            } else if !req.input_messages.is_empty() {
                attrs.push(kv(
                    k::GEN_AI_INPUT_MESSAGES,
                    truncated(json::messages(&req.input_messages, style, false)),
                ));
            }
            if !req.system_instructions.is_empty() {
                attrs.push(kv(
                    k::GEN_AI_SYSTEM_INSTRUCTIONS,
                    truncated(json::parts(&req.system_instructions, style)),
                ));
            }
            if !req.tool_definitions.is_empty() {
                attrs.push(kv(
                    k::GEN_AI_TOOL_DEFINITIONS,
                    truncated(json::tool_definitions(&req.tool_definitions, style)),
                ));
            }
            if family == Family::Ollama && !self.latest {
                crate::legacy::prompts(self.api, &req.input_messages, attrs);
                crate::legacy::functions(&req.tool_definitions, attrs);
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
        let mut attrs = Vec::with_capacity(12);
        let messages = self.request_attributes(req.clone(), &mut attrs);
        let span = self.cx.span();
        span.set_attributes(attrs);
        if (self.latest || self.api.names_span_by_model())
            && !self.named
            && let Some(m) = &self.request_model
        {
            self.named = true;
            span.update_name(format!("{} {}", self.api.operation(), m.as_str()));
        }
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

    /// Records the arrival of one chunk of a streamed response (an SSE event or NDJSON line
    /// the provider sent, see [`crate::model::StreamProgress::chunk`]): the first one is the
    /// time to first chunk (`gen_ai.server.time_to_first_token`); on OpenAI chat spans each
    /// adds a `gen_ai.content.completion.chunk` event, as Python writes them; with the latest
    /// conventions, each after the first is timed for
    /// `gen_ai.client.operation.time_per_output_chunk`.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, StreamEnd, model::{Api, Provider}};
    /// let mut span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None);
    /// span.chunk(); // the role chunk: time to first chunk
    /// span.chunk(); // a content chunk
    /// span.finish_stream(StreamEnd::Completed);
    /// ```
    pub fn chunk(&mut self) {
        let now = Instant::now();
        if self.first_chunk.is_none() {
            self.mark_first_chunk(now);
        }
        if self.latest {
            if let Some(last) = self.last_chunk {
                if self.chunk_gaps.len() < MAX_CHUNK_GAPS {
                    self.chunk_gaps
                        .push(now.duration_since(last).as_secs_f64() as f32);
                } else if !self.caps.contains(&CaptureCap::ChunkTimings) {
                    self.caps.push(CaptureCap::ChunkTimings);
                }
            }
            self.last_chunk = Some(now);
        } else if self.api == Api::OpenAiChat {
            self.cx
                .span()
                .add_event(k::GEN_AI_CONTENT_COMPLETION_CHUNK_EVENT, Vec::new());
        }
    }

    /// Marks the arrival of the first chunk of a stream (time to first chunk,
    /// `gen_ai.server.time_to_first_token`) without the per-chunk bookkeeping of
    /// [`LlmSpan::chunk`]. Later calls (and calls after a chunk) change nothing.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, StreamEnd, model::{Api, Provider}};
    /// let mut span = LlmSpan::start(Api::AnthropicMessages, Provider::Anthropic, None);
    /// span.first_token(); // when the first event arrives
    /// span.first_token(); // ignored
    /// span.finish_stream(StreamEnd::Completed);
    /// ```
    pub fn first_token(&mut self) {
        if self.first_chunk.is_none() {
            self.mark_first_chunk(Instant::now());
        }
    }

    fn mark_first_chunk(&mut self, now: Instant) {
        self.first_chunk = Some(now);
        let ttft = now.duration_since(self.start).as_secs_f64();
        let key = if self.latest {
            k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
        } else {
            k::GEN_AI_SERVER_TIME_TO_FIRST_TOKEN
        };
        self.cx.span().set_attribute(kv(key, ttft));
    }

    fn usage_attributes(&mut self, mut usage: Usage, attrs: &mut Vec<KeyValue>) {
        let legacy_ollama =
            self.api.family() == Family::Ollama && self.api != Api::OllamaEmbed && !self.latest;
        if legacy_ollama {
            // Python's Ollama instrumentation writes both counts, 0 when not reported, and
            // their sum as `llm.usage.total_tokens`.
            let input = *usage.input_tokens.get_or_insert(0);
            let output = *usage.output_tokens.get_or_insert(0);
            usage.total_tokens = Some(input + output);
            attrs.push(kv(k::LLM_USAGE_TOTAL_TOKENS, input + output));
        }
        if self.api.family() == Family::OpenAi && self.stream && !self.latest {
            // Python's OpenAI stream wrapper records no reasoning tokens.
            usage.reasoning_tokens = None;
        }
        self.usage = usage;
        let reasoning_key = if self.latest {
            k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
        } else {
            k::GEN_AI_USAGE_REASONING_TOKENS
        };
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
            (reasoning_key, usage.reasoning_tokens),
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
        let mut attrs = Vec::with_capacity(7);
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
    pub(crate) fn record_response_owned(&mut self, mut resp: LlmResponse) {
        let family = self.api.family();
        if self.content && llmetry::redact::active() {
            // Text written before redaction was switched on (`MessageForm`) is not written.
            resp.output_messages_json = None;
            redact_messages(
                &mut resp.output_messages,
                Field::LlmOutput,
                self.provider.as_str(),
            );
        }
        let mut attrs = Vec::with_capacity(14);
        if let Some(id) = resp.id {
            attrs.push(kv(k::GEN_AI_RESPONSE_ID, id));
        }
        if let Some(m) = resp.model {
            let m = shared(m);
            // Python's OpenAI spans say the model after the last `/` (its metrics the whole).
            let span_value = match (family, self.latest) {
                (Family::OpenAi, false) => model_after_slash(&m).map(StringValue::from),
                _ => None,
            };
            attrs.push(kv(
                k::GEN_AI_RESPONSE_MODEL,
                span_value.unwrap_or_else(|| m.clone()),
            ));
            self.response_model = Some(m);
        }
        if !resp.finish_reasons.is_empty() {
            let reasons: Vec<StringValue> =
                resp.finish_reasons.into_iter().map(reason_value).collect();
            attrs.push(kv(
                k::GEN_AI_RESPONSE_FINISH_REASONS,
                Value::Array(Array::String(reasons.clone())),
            ));
            self.finish_reasons = reasons;
        }
        if let Some(d) = resp.embedding_dimensions {
            attrs.push(kv(k::GEN_AI_EMBEDDINGS_DIMENSION_COUNT, d as i64));
            self.vector_size = Some(d);
        }
        if let Some(f) = resp.system_fingerprint {
            let key = if self.latest {
                k::OPENAI_RESPONSE_SYSTEM_FINGERPRINT
            } else {
                k::GEN_AI_OPENAI_RESPONSE_SYSTEM_FINGERPRINT
            };
            attrs.push(kv(key, f));
        }
        if let Some(t) = resp.service_tier {
            if !llmetry::cost::is_standard_tier(&t) {
                self.unpriced_tier = Some(t.clone());
            }
            attrs.push(kv(k::OPENAI_RESPONSE_SERVICE_TIER, t));
        }
        self.choices = resp.choice_count;
        self.usage_attributes(resp.usage, &mut attrs);
        let events = !llmetry::use_attributes();
        if let Some(text) = resp.output_messages_json.take() {
            // Written at parse time, only when content goes to attributes (`MessageForm`).
            if !events && self.content {
                attrs.push(kv(k::GEN_AI_OUTPUT_MESSAGES, truncated(text)));
            }
        } else if !events && self.content && !resp.output_messages.is_empty() {
            attrs.push(kv(
                k::GEN_AI_OUTPUT_MESSAGES,
                truncated(json::messages(
                    &resp.output_messages,
                    Style::of(self.api),
                    true,
                )),
            ));
            if family == Family::Ollama && !self.latest {
                crate::legacy::completions(&resp.output_messages, &mut attrs);
            }
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
    /// `llmetry.capture.truncated_caps`, every cap said so far): what it records of the
    /// response was cut, the caller's data was not. Nothing happens for an empty list.
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
        for c in caps {
            if !self.caps.contains(c) {
                self.caps.push(*c);
            }
        }
        self.write_caps();
    }

    fn write_caps(&self) {
        let names = self
            .caps
            .iter()
            .map(|c| StringValue::from(c.as_str()))
            .collect();
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
        // The provider's message may quote the prompt: with content off, the error's type
        // stands in for it; with redaction on, it is redacted.
        let message = if !self.content {
            e.error_type.clone()
        } else if llmetry::redact::active() {
            llmetry::redact::redact_message(self.provider.as_str(), &e.message)
                .unwrap_or_else(|| e.error_type.clone())
        } else {
            e.message.clone()
        };
        let error_type = StringValue::from(e.error_type.clone());
        self.error_type = Some(error_type.clone());
        let span = self.cx.span();
        span.set_attribute(kv(k::ERROR_TYPE, error_type.clone()));
        span.add_event(
            k::EXCEPTION_EVENT,
            vec![
                kv(k::EXCEPTION_TYPE, error_type),
                kv(k::EXCEPTION_MESSAGE, message.clone()),
            ],
        );
        span.set_status(Status::error(message));
    }

    /// Ends a non-streamed call and records the `gen_ai.client.*` metrics. Status on
    /// success as Python sets it: unset for OpenAI-API and Bedrock calls, OK for Anthropic,
    /// Ollama and Gemini.
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
    /// let span = LlmSpan::start(Api::OpenAiEmbeddings, Provider::OpenAi, None);
    /// span.finish();
    /// ```
    pub fn finish(mut self) {
        self.end(End::Finished);
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
        self.end(End::Finished);
    }

    /// Ends a streamed call: on [`StreamEnd::Completed`] (and no error recorded) status OK
    /// (Ollama and Bedrock: unset, as Python), ERROR on [`StreamEnd::Failed`], unset with a
    /// `gen_ai.stream.dropped` event on [`StreamEnd::Dropped`].
    ///
    /// ```
    /// use llmetry_instruments::{LlmSpan, StreamEnd, model::{Api, Provider}};
    /// let mut span = LlmSpan::start(Api::OllamaChat, Provider::Ollama, None);
    /// span.record_request_json(&serde_json::json!({"model": "llama3.2", "messages": []})); // streams
    /// // ...the consumer stopped reading before the end:
    /// span.finish_stream(StreamEnd::Dropped);
    /// ```
    pub fn finish_stream(mut self, how: StreamEnd) {
        self.end(End::Stream(how));
    }

    fn end(&mut self, how: End) {
        if self.ended {
            return;
        }
        self.ended = true;
        let now = Instant::now();
        let family = self.api.family();
        let span = self.cx.span();
        let ok = |span: &opentelemetry::trace::SpanRef<'_>| span.set_status(Status::Ok);
        // Status on success as Python sets it: OpenAI unset (non-streamed) / OK (streamed),
        // Anthropic OK, Ollama OK (non-streamed) / unset (streamed), Gemini OK, Bedrock
        // unset.
        match how {
            End::Finished
                if self.error_type.is_none()
                    && !matches!(family, Family::OpenAi | Family::Bedrock) =>
            {
                ok(&span)
            }
            End::Stream(StreamEnd::Completed)
                if self.error_type.is_none()
                    && !matches!(family, Family::Ollama | Family::Bedrock) =>
            {
                ok(&span)
            }
            End::Stream(StreamEnd::Failed) if self.error_type.is_none() => {
                self.error_type = Some(StringValue::from(k::STREAM_ERROR_TYPE));
                span.set_attribute(kv(k::ERROR_TYPE, k::STREAM_ERROR_TYPE));
                span.set_status(Status::error("the stream failed before completing"));
            }
            End::Stream(StreamEnd::Dropped) => {
                span.add_event(k::GEN_AI_STREAM_DROPPED_EVENT, Vec::new());
            }
            _ => {}
        }
        let stream = match how {
            End::Stream(s) => Some(s),
            _ => None,
        };
        if self.caps.contains(&CaptureCap::ChunkTimings) {
            self.write_caps();
        }
        let completed = stream == Some(StreamEnd::Completed);
        let cost = self.cost();
        if let Some(usd) = cost {
            span.set_attribute(kv(k::GEN_AI_USAGE_COST, usd));
        }
        metrics::record(metrics::Call {
            api: self.api,
            latest: self.latest,
            provider: self.provider_value.clone(),
            request_model: self.request_model.take(),
            response_model: self.response_model.take(),
            server: self.server.take(),
            stream: self.stream,
            error_type: self.error_type.take(),
            duration_s: now.duration_since(self.start).as_secs_f64(),
            first_chunk_s: self
                .first_chunk
                .map(|t| t.duration_since(self.start).as_secs_f64()),
            generate_s: self
                .first_chunk
                .filter(|_| completed)
                .map(|t| now.duration_since(t).as_secs_f64()),
            chunk_gaps_s: std::mem::take(&mut self.chunk_gaps),
            usage: self.usage,
            choices: self.choices,
            finish_reasons: std::mem::take(&mut self.finish_reasons),
            vector_size: self.vector_size,
            cost,
        });
        span.end();
    }

    /// `gen_ai.usage.cost`: the reported tokens priced by the installed table (`None`
    /// without token counts, or with no price for the model; see `llmetry::cost`). The
    /// usage recorded on the span counts cached tokens inside the input and reasoning inside
    /// the output for every provider (Anthropic's input has its cache counts added), which
    /// is the OpenAI counting rule.
    fn cost(&self) -> Option<f64> {
        let u = &self.usage;
        if u.input_tokens.is_none() && u.output_tokens.is_none() {
            return None;
        }
        let model = self
            .response_model
            .as_ref()
            .or(self.request_model.as_ref())?;
        let count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let usage = llmetry::cost::Usage::new(count(u.input_tokens), count(u.output_tokens))
            .cache_read(count(u.cache_read_input_tokens))
            .cache_write(count(u.cache_creation_input_tokens))
            .reasoning(count(u.reasoning_tokens));
        let call = llmetry::cost::Call::new(self.provider_value.as_str(), model.as_str(), usage)
            .accounting(llmetry::cost::Accounting::OpenAi)
            .service_tier(self.unpriced_tier.as_deref());
        llmetry::cost::span_cost(&call)
    }
}

impl Drop for LlmSpan {
    fn drop(&mut self) {
        // Dropped without an end: a stream the consumer dropped, or a call abandoned before
        // its response (status left unset: nothing says it succeeded).
        let how = if self.stream {
            End::Stream(StreamEnd::Dropped)
        } else {
            End::Abandoned
        };
        self.end(how);
    }
}

/// The configured redaction (`llmetry::redact`) over each part of each message, with the
/// message's role; parts the hook drops are left out.
fn redact_messages(messages: &mut [Message], field: Field, provider: &str) {
    for m in messages {
        redact_parts(&mut m.parts, field, provider, &m.role);
    }
}

fn redact_parts(parts: &mut Vec<Json>, field: Field, provider: &str, role: &str) {
    parts.retain_mut(|p| {
        llmetry::redact::redact_value(field, provider, Some(role), p) == Verdict::Keep
    });
}

/// How an [`LlmSpan`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// [`LlmSpan::finish`] / [`LlmSpan::fail`].
    Finished,
    /// [`LlmSpan::finish_stream`], or a streamed span dropped.
    Stream(StreamEnd),
    /// A non-streamed span dropped without [`LlmSpan::finish`].
    Abandoned,
}

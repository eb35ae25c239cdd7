//! Provider-neutral description of one LLM call, filled by the wire-format parsers in
//! [`crate::providers`] and written onto the LLM span by [`crate::span`].
//!
//! Message JSON follows the OpenTelemetry GenAI "parts" format the Python SDK writes since
//! 0.55 (`gen_ai.input.messages` / `gen_ai.output.messages`):
//! `{"role": "user", "parts": [{"type": "text", "content": "…"}]}`, tool calls as
//! `{"type": "tool_call", "id", "name", "arguments"}`, tool results as
//! `{"type": "tool_call_response", "id", "response"}`, images as
//! `{"type": "uri", "modality": "image", "uri"}` or
//! `{"type": "blob", "modality": "image", "mime_type", "content"}`.
//!
//! ```
//! use llmetry_instruments::model::Api;
//! use llmetry_instruments::providers;
//! use serde_json::json;
//!
//! let req = providers::parse_request(Api::OpenAiChat, &json!({
//!     "model": "gpt-4o",
//!     "messages": [{"role": "user", "content": "Why is db-1 down?"}],
//! }));
//! assert_eq!(
//!     req.input_messages[0].to_json(),
//!     json!({"role": "user", "parts": [{"type": "text", "content": "Why is db-1 down?"}]})
//! );
//! ```

use serde_json::Value;

/// Which API of which provider a request goes to. It decides the span name, the
/// `gen_ai.operation.name` and which parser reads the bodies.
///
/// ```
/// use llmetry_instruments::model::Api;
/// let api = Api::AnthropicMessages;
/// assert_eq!((api.span_name(), api.operation(), api.streams_sse()), ("anthropic.chat", "chat", true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Api {
    /// OpenAI-compatible `POST …/chat/completions`.
    OpenAiChat,
    /// OpenAI-compatible legacy `POST …/completions`.
    OpenAiCompletion,
    /// OpenAI-compatible `POST …/embeddings`.
    OpenAiEmbeddings,
    /// OpenAI `POST …/responses` (Responses API).
    OpenAiResponses,
    /// Anthropic `POST /v1/messages`.
    AnthropicMessages,
    /// Ollama `POST /api/chat`.
    OllamaChat,
    /// Ollama `POST /api/generate`.
    OllamaGenerate,
    /// Ollama `POST /api/embed` (and legacy `/api/embeddings`).
    OllamaEmbed,
    /// Gemini `POST …/models/{model}:generateContent` and `:streamGenerateContent` (the
    /// Generative Language API and its Vertex AI form); the model is in the path.
    GeminiGenerateContent,
    /// Gemini `POST …/models/{model}:embedContent` and `:batchEmbedContents`.
    GeminiEmbedContent,
    /// Bedrock Converse and ConverseStream (`POST /model/{modelId}/converse[-stream]`),
    /// through `aws-sdk-bedrockruntime`; the model is in the path.
    BedrockConverse,
}

impl Api {
    /// Span name, as the Python instrumentations name it.
    ///
    /// ```
    /// use llmetry_instruments::model::Api;
    /// assert_eq!(Api::OpenAiResponses.span_name(), "openai.response");
    /// assert_eq!(Api::OllamaGenerate.span_name(), "ollama.completion");
    /// ```
    pub const fn span_name(self) -> &'static str {
        match self {
            Api::OpenAiChat => "openai.chat",
            Api::OpenAiCompletion => "openai.completion",
            Api::OpenAiEmbeddings => "openai.embeddings",
            Api::OpenAiResponses => "openai.response",
            Api::AnthropicMessages => "anthropic.chat",
            Api::OllamaChat => "ollama.chat",
            Api::OllamaGenerate => "ollama.completion",
            Api::OllamaEmbed => "ollama.embeddings",
            // Named `{operation} {model}` (see `Api::span_name_for`).
            Api::GeminiGenerateContent => "generate_content",
            Api::GeminiEmbedContent => "embeddings",
            Api::BedrockConverse => "chat",
        }
    }

    /// Span name of a call of `model`: `{operation} {model}` for the APIs Python names that
    /// way (Gemini: `generate_content gemini-2.5-flash`, Bedrock: `chat claude-…`), else
    /// [`Api::span_name`].
    ///
    /// ```
    /// use llmetry_instruments::model::Api;
    /// assert_eq!(Api::GeminiGenerateContent.span_name_for(Some("gemini-2.5-flash")), "generate_content gemini-2.5-flash");
    /// assert_eq!(Api::GeminiEmbedContent.span_name_for(None), "embeddings");
    /// assert_eq!(Api::OpenAiChat.span_name_for(Some("gpt-4o")), "openai.chat");
    /// ```
    pub fn span_name_for(self, model: Option<&str>) -> std::borrow::Cow<'static, str> {
        match (self.names_span_by_model(), model) {
            (true, Some(m)) if !m.is_empty() => format!("{} {m}", self.span_name()).into(),
            _ => self.span_name().into(),
        }
    }

    /// Whether the span name carries the model (`{operation} {model}`).
    pub(crate) const fn names_span_by_model(self) -> bool {
        matches!(
            self,
            Api::GeminiGenerateContent | Api::GeminiEmbedContent | Api::BedrockConverse
        )
    }

    /// `gen_ai.operation.name`.
    ///
    /// ```
    /// use llmetry_instruments::model::Api;
    /// assert_eq!(Api::OpenAiCompletion.operation(), "text_completion");
    /// assert_eq!(Api::OllamaEmbed.operation(), "embeddings");
    /// ```
    pub const fn operation(self) -> &'static str {
        match self {
            Api::OpenAiChat
            | Api::OpenAiResponses
            | Api::AnthropicMessages
            | Api::OllamaChat
            | Api::BedrockConverse => "chat",
            Api::OpenAiCompletion | Api::OllamaGenerate => "text_completion",
            Api::OpenAiEmbeddings | Api::OllamaEmbed | Api::GeminiEmbedContent => "embeddings",
            Api::GeminiGenerateContent => "generate_content",
        }
    }

    /// The instrumentation scope of this API's spans and metrics, named as the Python
    /// instrumentation package that traces it names its own (by the API a call speaks, not
    /// the provider behind it: an OpenAI-API call to Groq is still
    /// `opentelemetry.instrumentation.openai.v1`). The scope version is
    /// [`crate::span::SCOPE_VERSION`].
    ///
    /// ```
    /// use llmetry_instruments::model::Api;
    /// assert_eq!(Api::OpenAiEmbeddings.scope_name(), "opentelemetry.instrumentation.openai.v1");
    /// assert_eq!(Api::AnthropicMessages.scope_name(), "opentelemetry.instrumentation.anthropic");
    /// assert_eq!(Api::OllamaChat.scope_name(), "opentelemetry.instrumentation.ollama");
    /// assert_eq!(Api::GeminiGenerateContent.scope_name(), "opentelemetry.instrumentation.google_generativeai");
    /// assert_eq!(Api::BedrockConverse.scope_name(), "opentelemetry.instrumentation.bedrock");
    /// ```
    pub const fn scope_name(self) -> &'static str {
        self.family().scope_name()
    }

    /// Which Python instrumentation this API's calls follow.
    pub(crate) const fn family(self) -> Family {
        match self {
            Api::OpenAiChat
            | Api::OpenAiCompletion
            | Api::OpenAiEmbeddings
            | Api::OpenAiResponses => Family::OpenAi,
            Api::AnthropicMessages => Family::Anthropic,
            Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => Family::Ollama,
            Api::GeminiGenerateContent | Api::GeminiEmbedContent => Family::Gemini,
            Api::BedrockConverse => Family::Bedrock,
        }
    }

    /// Streamed responses of this API are SSE (`true`; Gemini also streams a JSON array) or
    /// NDJSON (`false`, Ollama). Bedrock streams AWS event-stream frames, read by its
    /// interceptor.
    ///
    /// ```
    /// use llmetry_instruments::model::Api;
    /// use llmetry_instruments::decode::{NdjsonDecoder, SseDecoder};
    ///
    /// let api = Api::OllamaChat;
    /// let lines = if api.streams_sse() {
    ///     SseDecoder::new().push(b"data: {}\n\n").into_iter().map(|e| e.data).collect()
    /// } else {
    ///     NdjsonDecoder::new().push(b"{}\n")
    /// };
    /// assert_eq!(lines, ["{}"]);
    /// ```
    pub const fn streams_sse(self) -> bool {
        !matches!(
            self,
            Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed | Api::BedrockConverse
        )
    }
}

/// The Python instrumentation package whose output a call's span and metrics follow: its
/// scope, span status on success, metric set and legacy attributes differ per package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    /// `opentelemetry-instrumentation-openai` (every OpenAI-API call).
    OpenAi,
    /// `opentelemetry-instrumentation-anthropic`.
    Anthropic,
    /// `opentelemetry-instrumentation-ollama` (the native API).
    Ollama,
    /// `opentelemetry-instrumentation-google-generativeai` (Gemini, either host).
    Gemini,
    /// `opentelemetry-instrumentation-bedrock` (Converse).
    Bedrock,
}

impl Family {
    pub(crate) const fn scope_name(self) -> &'static str {
        match self {
            Family::OpenAi => llmetry::semconv::OPENAI_SCOPE,
            Family::Anthropic => llmetry::semconv::ANTHROPIC_SCOPE,
            Family::Ollama => llmetry::semconv::OLLAMA_SCOPE,
            Family::Gemini => llmetry::semconv::GOOGLE_GENERATIVEAI_SCOPE,
            Family::Bedrock => llmetry::semconv::BEDROCK_SCOPE,
        }
    }

    /// Index into per-family tables.
    pub(crate) const fn index(self) -> usize {
        match self {
            Family::OpenAi => 0,
            Family::Anthropic => 1,
            Family::Ollama => 2,
            Family::Gemini => 3,
            Family::Bedrock => 4,
        }
    }
}

/// `gen_ai.provider.name` values (OpenTelemetry GenAI well-known values where they exist).
///
/// ```
/// use llmetry_instruments::model::Provider;
/// assert_eq!(Provider::Together.as_str(), "together_ai");
/// // A provider without a well-known value, e.g. an in-house gateway:
/// let gateway = Provider::Other("acme_gateway".into());
/// assert_eq!(gateway.as_str(), "acme_gateway");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// `openai`
    OpenAi,
    /// `azure.ai.openai`
    AzureOpenAi,
    /// `anthropic`
    Anthropic,
    /// `ollama`
    Ollama,
    /// `groq`
    Groq,
    /// `together_ai`
    Together,
    /// `mistral_ai`
    Mistral,
    /// `deepseek`
    DeepSeek,
    /// `openrouter`
    OpenRouter,
    /// `vllm`
    Vllm,
    /// `gcp.gen_ai`: Gemini on `generativelanguage.googleapis.com` (what Python writes).
    GcpGenAi,
    /// `gcp.vertex_ai`: Gemini on `*aiplatform.googleapis.com`.
    GcpVertexAi,
    /// `aws.bedrock`.
    AwsBedrock,
    /// Anything else, named by the user.
    Other(String),
}

impl Provider {
    /// The `gen_ai.provider.name` value.
    ///
    /// ```
    /// use llmetry_instruments::model::Provider;
    /// assert_eq!(Provider::AzureOpenAi.as_str(), "azure.ai.openai");
    /// ```
    pub fn as_str(&self) -> &str {
        match self.static_str() {
            Some(s) => s,
            None => match self {
                Provider::Other(s) => s,
                _ => "",
            },
        }
    }

    /// The value of a well-known provider, without borrowing `self`.
    pub(crate) const fn static_str(&self) -> Option<&'static str> {
        Some(match self {
            Provider::OpenAi => "openai",
            Provider::AzureOpenAi => "azure.ai.openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
            Provider::Groq => "groq",
            Provider::Together => "together_ai",
            Provider::Mistral => "mistral_ai",
            Provider::DeepSeek => "deepseek",
            Provider::OpenRouter => "openrouter",
            Provider::Vllm => "vllm",
            Provider::GcpGenAi => "gcp.gen_ai",
            Provider::GcpVertexAi => "gcp.vertex_ai",
            Provider::AwsBedrock => "aws.bedrock",
            Provider::Other(_) => return None,
        })
    }
}

/// One message in the GenAI parts format.
///
/// ```
/// use llmetry_instruments::model::Message;
/// use serde_json::json;
///
/// let reply = Message {
///     role: "assistant".into(),
///     parts: vec![
///         json!({"type": "text", "content": "Checking the disk."}),
///         json!({"type": "tool_call", "id": "call_1", "name": "disk_usage", "arguments": {"host": "db-1"}}),
///     ],
///     finish_reason: Some("tool_call".into()),
/// };
/// assert_eq!(reply.to_json()["finish_reason"], "tool_call");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `system`, `user`, `assistant`, `tool`, `developer`.
    pub role: String,
    /// Parts, each a JSON object (see the module docs).
    pub parts: Vec<Value>,
    /// Output messages only: the mapped finish reason (`stop`, `length`, `tool_call`, …).
    pub finish_reason: Option<String>,
}

impl Message {
    /// The message as the JSON object written into `gen_ai.*.messages`
    /// (`finish_reason` only when set).
    ///
    /// ```
    /// use llmetry_instruments::model::Message;
    /// use serde_json::json;
    ///
    /// let m = Message {
    ///     role: "user".into(),
    ///     parts: vec![json!({"type": "text", "content": "hi"})],
    ///     finish_reason: None,
    /// };
    /// assert_eq!(m.to_json(), json!({"role": "user", "parts": [{"type": "text", "content": "hi"}]}));
    /// ```
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("role".into(), Value::String(self.role.clone()));
        m.insert("parts".into(), Value::Array(self.parts.clone()));
        if let Some(f) = &self.finish_reason {
            m.insert("finish_reason".into(), Value::String(f.clone()));
        }
        Value::Object(m)
    }
}

/// The JSON of [`Message::to_json`], written without building a `Value` (what the span's
/// `gen_ai.*.messages` attributes hold). Keys in `serde_json`'s default (sorted) order.
///
/// ```
/// use llmetry_instruments::model::Message;
/// use serde_json::json;
///
/// let m = Message { role: "user".into(), parts: vec![json!({"type": "text", "content": "hi"})], finish_reason: None };
/// assert_eq!(serde_json::to_value(&m)?, m.to_json());
/// # Ok::<(), serde_json::Error>(())
/// ```
impl serde::Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(2 + usize::from(self.finish_reason.is_some())))?;
        if let Some(f) = &self.finish_reason {
            map.serialize_entry("finish_reason", f)?;
        }
        map.serialize_entry("parts", &self.parts)?;
        map.serialize_entry("role", &self.role)?;
        map.end()
    }
}

/// What the request asked for: what [`crate::providers::parse_request`] reads from a
/// request body, and what [`crate::LlmSpan::record_request`] writes.
///
/// ```
/// use llmetry_instruments::model::{Api, LlmRequest};
/// use llmetry_instruments::providers::parse_request;
/// use serde_json::json;
///
/// let req = parse_request(Api::OpenAiChat, &json!({
///     "model": "gpt-4o-mini",
///     "temperature": 0.2,
///     "max_completion_tokens": 256,
///     "stop": "END",
///     "stream": true,
///     "stream_options": {"include_usage": true},
///     "messages": [{"role": "system", "content": "Be brief."}],
/// }));
/// assert_eq!(req.model.as_deref(), Some("gpt-4o-mini"));
/// assert_eq!((req.temperature, req.max_tokens), (Some(0.2), Some(256)));
/// assert_eq!(req.stop_sequences, ["END"]);
/// assert!(req.stream && req.include_usage);
/// assert_eq!(req.input_messages[0].role, "system");
///
/// // Or fill one by hand for a client the parsers do not know:
/// let mut manual = LlmRequest::default();
/// manual.model = Some("my-model".into());
/// manual.seed = Some(7);
/// # let _ = manual;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LlmRequest {
    /// `gen_ai.request.model`.
    pub model: Option<String>,
    /// `stream: true` (OpenAI/Anthropic) or Ollama's default streaming.
    pub stream: bool,
    /// The body said `stream` (`true` or `false`). Anthropic spans carry
    /// `gen_ai.is_streaming` only then, as Python writes it.
    pub stream_explicit: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    /// `gen_ai.request.max_tokens` (`max_tokens`, `max_completion_tokens`, `max_output_tokens`, Ollama `options.num_predict`).
    pub max_tokens: Option<i64>,
    /// `gen_ai.request.temperature`.
    pub temperature: Option<f64>,
    /// `gen_ai.request.top_p`.
    pub top_p: Option<f64>,
    /// `gen_ai.request.top_k`.
    pub top_k: Option<f64>,
    /// `gen_ai.request.frequency_penalty`.
    pub frequency_penalty: Option<f64>,
    /// `gen_ai.request.presence_penalty`.
    pub presence_penalty: Option<f64>,
    /// `gen_ai.request.seed`.
    pub seed: Option<i64>,
    /// `gen_ai.request.stop_sequences`.
    pub stop_sequences: Vec<String>,
    /// `gen_ai.request.choice.count` (`n`), when not 1.
    pub choice_count: Option<i64>,
    /// `gen_ai.request.encoding_formats` (embeddings).
    pub encoding_formats: Vec<String>,
    /// `gen_ai.user` / Anthropic `metadata.user_id`.
    pub user: Option<String>,
    /// `gen_ai.request.reasoning_effort`.
    pub reasoning_effort: Option<String>,
    /// `openai.request.service_tier`.
    pub service_tier: Option<String>,
    /// `gen_ai.request.structured_output_schema`: the JSON schema of `response_format` /
    /// `text.format` / Ollama `format`, serialised.
    pub structured_output_schema: Option<String>,
    /// `gen_ai.output.type` (`text`, `json`, …) from `response_format.type`.
    pub output_type: Option<String>,
    /// Input messages (content; written only when content capture allows it). A
    /// Responses `instructions` comes first with role `system`. Embedding inputs are `user`
    /// text messages.
    pub input_messages: Vec<Message>,
    /// System instructions given apart from the messages (Anthropic `system`), as parts:
    /// `gen_ai.system_instructions` (content).
    pub system_instructions: Vec<Value>,
    /// Tool definitions `[{"type": "function", "name", "description", "parameters"}]`.
    pub tool_definitions: Vec<Value>,
    /// The input messages as the JSON text of `gen_ai.input.messages`, written straight
    /// from the body instead of `input_messages` (which is then empty): only by the
    /// adapters' parse, when every message is plain text and nothing else needs them
    /// ([`crate::providers::MessageForm::Json`]).
    pub(crate) input_messages_json: Option<String>,
}

/// Token usage, as reported by the provider.
///
/// ```
/// use llmetry_instruments::model::{Api, Usage};
/// use llmetry_instruments::providers::parse_response;
/// use serde_json::json;
///
/// let resp = parse_response(Api::OpenAiChat, &json!({
///     "choices": [],
///     "usage": {"prompt_tokens": 120, "completion_tokens": 30,
///               "prompt_tokens_details": {"cached_tokens": 100}},
/// }));
/// let mut expected = Usage::default();
/// expected.input_tokens = Some(120);
/// expected.output_tokens = Some(30);
/// expected.total_tokens = Some(150); // input + output: the body gave no total
/// expected.cache_read_input_tokens = Some(100);
/// assert_eq!(resp.usage, expected);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// `gen_ai.usage.input_tokens`.
    pub input_tokens: Option<i64>,
    /// `gen_ai.usage.output_tokens`.
    pub output_tokens: Option<i64>,
    /// `gen_ai.usage.total_tokens` (input + output when the provider does not say).
    pub total_tokens: Option<i64>,
    /// `gen_ai.usage.cache_read.input_tokens`.
    pub cache_read_input_tokens: Option<i64>,
    /// `gen_ai.usage.cache_creation.input_tokens`.
    pub cache_creation_input_tokens: Option<i64>,
    /// `gen_ai.usage.reasoning_tokens`.
    pub reasoning_tokens: Option<i64>,
}

/// An error the provider reported in a body (HTTP error body, or an error event mid-stream).
///
/// ```
/// use llmetry_instruments::providers::parse_error;
///
/// let body = br#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
/// let e = parse_error(529, body);
/// assert_eq!((e.error_type.as_str(), e.message.as_str()), ("overloaded_error", "Overloaded"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// `error.type`: the provider's error type or code (`rate_limit_exceeded`,
    /// `overloaded_error`, …), else the HTTP status code as a string.
    pub error_type: String,
    /// The provider's message.
    pub message: String,
}

impl ProviderError {
    /// An error of type `error_type` (`error.type`) saying `message`.
    ///
    /// ```
    /// use llmetry_instruments::model::ProviderError;
    /// let e = ProviderError::new("rate_limit_exceeded", "Rate limit reached");
    /// assert_eq!(e.to_string(), "rate_limit_exceeded: Rate limit reached");
    /// ```
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            message: message.into(),
        }
    }
}

/// `"{error_type}: {message}"`.
///
/// ```
/// use llmetry_instruments::providers::parse_error;
/// let e = parse_error(529, br#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#);
/// assert_eq!(e.to_string(), "overloaded_error: Overloaded");
/// let boxed: Box<dyn std::error::Error> = Box::new(e); // an `Error`, for `?`
/// # drop(boxed);
/// ```
impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for ProviderError {}

/// What the response said: what [`crate::providers::parse_response`] reads from a
/// response body (or an [`crate::providers::Accumulator`] from a stream), and what
/// [`crate::LlmSpan::record_response`] writes.
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::parse_response;
/// use serde_json::json;
///
/// let resp = parse_response(Api::AnthropicMessages, &json!({
///     "id": "msg_01",
///     "model": "claude-sonnet-4-5",
///     "stop_reason": "end_turn",
///     "content": [{"type": "text", "text": "The disk is full."}],
///     "usage": {"input_tokens": 40, "output_tokens": 6},
/// }));
/// assert_eq!(resp.id.as_deref(), Some("msg_01"));
/// assert_eq!(resp.finish_reasons, ["stop"]);
/// assert_eq!(resp.output_messages[0].parts[0]["content"], "The disk is full.");
/// assert_eq!(resp.usage.total_tokens, Some(46));
/// assert!(resp.error.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LlmResponse {
    /// `gen_ai.response.id`.
    pub id: Option<String>,
    /// `gen_ai.response.model`.
    pub model: Option<String>,
    /// `gen_ai.response.finish_reasons`, one per choice (`tool_calls`/`function_call`/`tool_use` → `tool_call`;
    /// Anthropic `end_turn` → `stop`, `max_tokens` → `length`).
    pub finish_reasons: Vec<String>,
    /// Output messages (content).
    pub output_messages: Vec<Message>,
    /// Number of choices returned (for `gen_ai.client.generation.choices`); for Anthropic,
    /// the number of content blocks, as Python counts them.
    pub choice_count: usize,
    /// Token usage.
    pub usage: Usage,
    /// Embeddings: the dimension of the first vector.
    pub embedding_dimensions: Option<usize>,
    /// OpenAI `system_fingerprint`.
    pub system_fingerprint: Option<String>,
    /// OpenAI `service_tier`.
    pub service_tier: Option<String>,
    /// An error reported in the body.
    pub error: Option<ProviderError>,
    /// The output messages as the JSON text of `gen_ai.output.messages`, written straight
    /// from the body instead of `output_messages` (which is then empty), as
    /// `LlmRequest::input_messages_json`.
    pub(crate) output_messages_json: Option<String>,
}

/// What feeding one streamed event changed.
///
/// ```
/// use llmetry_instruments::model::{Api, StreamProgress};
/// use llmetry_instruments::providers::Accumulator;
///
/// let mut acc = Accumulator::new(Api::OpenAiChat);
/// let delta = r#"{"choices": [{"index": 0, "delta": {"content": "Hi"}}]}"#;
/// let first = acc.push(None, delta)?;
/// assert!(first.first_token && !first.done);
/// let last = acc.push(None, "[DONE]")?;
/// assert!(!last.first_token && last.done);
/// # Ok::<(), llmetry_instruments::model::ProviderError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamProgress {
    /// This event carried the first generated content (text, tool-call or reasoning delta):
    /// time to first token is measured here.
    pub first_token: bool,
    /// The stream said it is complete (`[DONE]`, `message_stop`, `"done": true`, `response.completed`).
    pub done: bool,
    /// This event was a chunk of the response (a JSON event or line; not `[DONE]`, not
    /// text that is not JSON): time to first chunk, per-chunk events and timings are
    /// measured on these.
    pub chunk: bool,
}

/// A memory cap an LLM span's capture hit: the span records
/// `llmetry.capture.truncated = true` and the caps in `llmetry.capture.truncated_caps`
/// ([`llmetry::semconv::LLMETRY_CAPTURE_TRUNCATED`]); the caller's stream is untouched.
///
/// ```
/// use llmetry_instruments::model::CaptureCap;
/// assert_eq!(CaptureCap::Choices.as_str(), "choices");
/// assert_eq!(CaptureCap::Line.as_str(), "line");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaptureCap {
    /// More choice indices in one stream (or Responses output items) than kept (128).
    Choices,
    /// More tool calls in one choice (or content blocks in one Anthropic message) than kept
    /// (128).
    ToolCalls,
    /// More streamed text than kept (1 MiB across choices, arguments and reasoning).
    Text,
    /// An SSE / NDJSON line (or SSE event) longer than [`crate::decode::MAX_LINE`], dropped.
    Line,
    /// More chunks in one stream than the per-chunk timings kept for
    /// `gen_ai.client.operation.time_per_output_chunk` (16384; opt-in conventions only).
    ChunkTimings,
}

impl CaptureCap {
    /// The name written into `llmetry.capture.truncated_caps`.
    ///
    /// ```
    /// assert_eq!(llmetry_instruments::model::CaptureCap::ToolCalls.as_str(), "tool_calls");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            CaptureCap::Choices => "choices",
            CaptureCap::ToolCalls => "tool_calls",
            CaptureCap::Text => "text",
            CaptureCap::Line => "line",
            CaptureCap::ChunkTimings => "chunk_timings",
        }
    }
}

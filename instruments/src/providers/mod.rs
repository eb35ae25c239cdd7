//! Wire-format parsers: request JSON, response JSON, and streamed events, per provider API.
//! They work on the bytes (or a `serde_json::Value`) of the bodies and on raw event text,
//! never on any client crate's types.
//!
//! The functions at this level dispatch on [`Api`] to the per-provider modules (OpenAI and
//! every OpenAI-compatible API, Anthropic Messages, Ollama, Gemini, Bedrock Converse), each split into request,
//! response and stream; [`detect`] finds the `Api` of a URL, and [`crate::decode`] splits
//! streamed bodies into events. The per-provider parsers are private: the functions here
//! and [`Accumulator`] are the whole parsing API.
//!
//! Bodies are read into typed, borrowing wire structs that name just the fields the
//! conventions need (no `serde_json::Value` of the whole body); the `&Value` forms serialise
//! the value once and use the same readers.
//!
//! ```
//! use llmetry_instruments::providers::{self, detect::detect};
//! use serde_json::json;
//! use url::Url;
//!
//! let url = Url::parse("http://localhost:11434/api/chat")?;
//! let (provider, api) = detect(&url).ok_or("not an LLM call")?;
//! assert_eq!(provider.as_str(), "ollama");
//! let req = providers::parse_request(api, &json!({"model": "llama3.2", "messages": []}));
//! assert!(req.stream); // Ollama streams unless told otherwise
//! let resp = providers::parse_response(api, &json!({
//!     "model": "llama3.2", "done": true, "done_reason": "stop",
//!     "message": {"role": "assistant", "content": "Hello!"},
//!     "prompt_eval_count": 12, "eval_count": 3,
//! }));
//! assert_eq!(resp.usage.total_tokens, Some(15));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod anthropic;
pub(crate) mod bedrock;
mod caps;
pub mod detect;
mod gemini;
mod ollama;
mod openai;
pub(crate) mod parts;
mod scan;
mod wire;

use serde_json::Value;

pub use bedrock::{BedrockModel, bedrock_model};

use crate::model::{Api, CaptureCap, LlmRequest, LlmResponse, ProviderError, StreamProgress};

/// How a parser hands over chat messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageForm {
    /// As [`crate::model::Message`]s: what the public parsers give, and what log events,
    /// redaction and the legacy attributes need.
    Parts,
    /// As the JSON text of `gen_ai.input.messages` / `gen_ai.output.messages`
    /// (`LlmRequest::input_messages_json`, `LlmResponse::output_messages_json`), written
    /// straight from the body when every message is plain text (Chat Completions), without
    /// building the parts (five allocations per text part); as `Parts` otherwise.
    Json,
}

impl MessageForm {
    /// What a span recorded from a parse now needs: `Json` when content goes to
    /// attributes (not log events) and no redaction hook must see the parts.
    pub(crate) fn for_span() -> Self {
        if llmetry::use_attributes() && !llmetry::redact::active() {
            MessageForm::Json
        } else {
            MessageForm::Parts
        }
    }
}

/// Reads a request body for `api`: `None` when it is not a JSON object; the flag says
/// whether the object has a `model` key (only bodies naming a model are LLM calls).
pub(crate) fn read_request(api: Api, body: &[u8], form: MessageForm) -> Option<(LlmRequest, bool)> {
    match api {
        Api::OpenAiChat | Api::OpenAiCompletion | Api::OpenAiEmbeddings | Api::OpenAiResponses => {
            openai::parse_request(api, body, form)
        }
        Api::AnthropicMessages => anthropic::parse_request(body),
        Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => {
            ollama::parse_request(api, body)
        }
        Api::GeminiGenerateContent | Api::GeminiEmbedContent => gemini::parse_request(body),
        Api::BedrockConverse => bedrock::parse_request(body),
    }
}

/// Parses a request body, as bytes, for `api`: `None` when it is not a JSON object. This is
/// what the adapters use: only the fields the conventions need are read, strings borrowed
/// from `body` where they can be.
///
/// ```
/// use llmetry_instruments::{model::Api, providers::parse_request_bytes};
///
/// let body = br#"{"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}"#;
/// let req = parse_request_bytes(Api::OpenAiChat, body).ok_or("not a JSON object")?;
/// assert_eq!((req.model.as_deref(), req.stream), (Some("gpt-4o-mini"), true));
/// assert!(parse_request_bytes(Api::OpenAiChat, b"not json").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_request_bytes(api: Api, body: &[u8]) -> Option<LlmRequest> {
    read_request(api, body, MessageForm::Parts).map(|(req, _)| req)
}

/// Parses a request body for `api`.
///
/// ```
/// use llmetry_instruments::{model::Api, providers::parse_request};
/// use serde_json::json;
///
/// let req = parse_request(Api::AnthropicMessages, &json!({
///     "model": "claude-sonnet-4-5",
///     "max_tokens": 1024,
///     "system": "You are an SRE.",
///     "messages": [{"role": "user", "content": "Why is db-1 down?"}],
/// }));
/// assert_eq!(req.max_tokens, Some(1024));
/// // `system` is the system instructions (`gen_ai.system_instructions`), not a message.
/// assert_eq!(req.system_instructions, [json!({"type": "text", "content": "You are an SRE."})]);
/// let roles: Vec<&str> = req.input_messages.iter().map(|m| m.role.as_str()).collect();
/// assert_eq!(roles, ["user"]);
/// ```
pub fn parse_request(api: Api, body: &Value) -> LlmRequest {
    // One serialisation, then the same typed reader as the adapters' bytes.
    serde_json::to_vec(body)
        .ok()
        .and_then(|bytes| parse_request_bytes(api, &bytes))
        .unwrap_or_else(|| LlmRequest {
            stream: matches!(api, Api::OllamaChat | Api::OllamaGenerate),
            ..LlmRequest::default()
        })
}

/// Parses a complete (non-streamed) response body for `api`.
///
/// ```
/// use llmetry_instruments::{model::Api, providers::parse_response};
/// use serde_json::json;
///
/// let resp = parse_response(Api::OpenAiEmbeddings, &json!({
///     "model": "text-embedding-3-small",
///     "data": [{"embedding": [0.1, -0.2, 0.3], "index": 0}],
///     "usage": {"prompt_tokens": 5, "total_tokens": 5},
/// }));
/// assert_eq!(resp.embedding_dimensions, Some(3));
/// assert_eq!(resp.usage.input_tokens, Some(5));
/// ```
pub fn parse_response(api: Api, body: &Value) -> LlmResponse {
    serde_json::to_vec(body)
        .ok()
        .and_then(|bytes| parse_response_bytes(api, &bytes))
        .unwrap_or_default()
}

/// Parses a complete (non-streamed) response body, as bytes, for `api`: `None` when it is
/// not JSON. The adapters read the body they hand back to the caller with it, once.
///
/// ```
/// use llmetry_instruments::{model::Api, providers::parse_response_bytes};
///
/// let body = br#"{"id": "c-1", "model": "gpt-4o-mini", "choices": [{"index": 0, "finish_reason": "stop",
///     "message": {"role": "assistant", "content": "Hi!"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}"#;
/// let resp = parse_response_bytes(Api::OpenAiChat, body).ok_or("not JSON")?;
/// assert_eq!(resp.finish_reasons, ["stop"]);
/// assert_eq!(resp.usage.total_tokens, Some(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_response_bytes(api: Api, body: &[u8]) -> Option<LlmResponse> {
    read_response(api, body, MessageForm::Parts)
}

/// [`parse_response_bytes`] with the messages in `form`.
pub(crate) fn read_response(api: Api, body: &[u8], form: MessageForm) -> Option<LlmResponse> {
    match api {
        Api::OpenAiChat | Api::OpenAiCompletion | Api::OpenAiEmbeddings | Api::OpenAiResponses => {
            openai::parse_response(api, body, form)
        }
        Api::AnthropicMessages => anthropic::parse_response(body),
        Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => {
            ollama::parse_response(api, body)
        }
        Api::GeminiGenerateContent | Api::GeminiEmbedContent => gemini::parse_response(body),
        Api::BedrockConverse => bedrock::parse_response(body),
    }
}

/// Parses an HTTP error body (any provider's shape); `status` is the HTTP status.
///
/// ```
/// use llmetry_instruments::providers::parse_error;
///
/// let body = br#"{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}"#;
/// assert_eq!(parse_error(429, body).error_type, "rate_limit_exceeded");
/// // Not JSON: the status code is the error type, the body the message.
/// let e = parse_error(502, b"Bad Gateway");
/// assert_eq!((e.error_type.as_str(), e.message.as_str()), ("502", "Bad Gateway"));
/// ```
pub fn parse_error(status: u16, body: &[u8]) -> ProviderError {
    parts::parse_error_body(status, body)
}

/// Parses an HTTP error body of `api`: the provider's own error shape where it has one
/// (Gemini's `status`, Bedrock's `__type`), else [`parse_error`].
///
/// ```
/// use llmetry_instruments::{model::Api, providers::parse_error_of};
///
/// let body = br#"{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}"#;
/// let e = parse_error_of(Api::GeminiGenerateContent, 429, body);
/// assert_eq!((e.error_type.as_str(), e.message.as_str()), ("RESOURCE_EXHAUSTED", "Quota exceeded"));
/// ```
pub fn parse_error_of(api: Api, status: u16, body: &[u8]) -> ProviderError {
    match api {
        Api::GeminiGenerateContent | Api::GeminiEmbedContent => gemini::parse_error(status, body),
        Api::BedrockConverse => bedrock::parse_error(status, None, body),
        _ => parts::parse_error_body(status, body),
    }
}

/// Accumulates a streamed response event by event, for any [`Api`]: feed it what
/// [`crate::decode::SseDecoder`] or [`crate::decode::NdjsonDecoder`] returns.
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::decode::SseDecoder;
/// use llmetry_instruments::providers::Accumulator;
///
/// let events = [
///     ("message_start", r#"{"type": "message_start", "message": {"id": "msg_1", "model": "claude-haiku-4-5", "role": "assistant", "usage": {"input_tokens": 9}}}"#),
///     ("content_block_start", r#"{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}"#),
///     ("content_block_delta", r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}"#),
///     ("message_delta", r#"{"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}}"#),
///     ("message_stop", r#"{"type": "message_stop"}"#),
/// ];
/// let body: String = events.iter().map(|(name, data)| format!("event: {name}\ndata: {data}\n\n")).collect();
/// let mut decoder = SseDecoder::new();
/// let mut acc = Accumulator::new(Api::AnthropicMessages);
/// let mut done = false;
/// for event in decoder.push(body.as_bytes()) {
///     done |= acc.push(event.event.as_deref(), &event.data)?.done;
/// }
/// assert!(done);
/// let resp = acc.response();
/// assert_eq!(resp.output_messages[0].parts[0]["content"], "Hi");
/// assert_eq!((resp.usage.input_tokens, resp.usage.output_tokens), (Some(9), Some(1)));
/// # Ok::<(), llmetry_instruments::model::ProviderError>(())
/// ```
#[derive(Debug)]
pub struct Accumulator(Inner);

#[derive(Debug)]
enum Inner {
    OpenAi(openai::StreamAccumulator),
    Anthropic(anthropic::StreamAccumulator),
    Ollama(ollama::StreamAccumulator),
    Gemini(gemini::StreamAccumulator),
    Bedrock(bedrock::StreamAccumulator),
}

impl Accumulator {
    /// A new accumulator for `api`.
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::Accumulator};
    /// let acc = Accumulator::new(Api::OllamaGenerate);
    /// assert!(acc.response().output_messages.len() == 1); // generate: one (empty) message
    /// ```
    pub fn new(api: Api) -> Self {
        Accumulator(match api {
            Api::OpenAiChat
            | Api::OpenAiCompletion
            | Api::OpenAiEmbeddings
            | Api::OpenAiResponses => Inner::OpenAi(openai::StreamAccumulator::new(api)),
            Api::AnthropicMessages => Inner::Anthropic(anthropic::StreamAccumulator::default()),
            Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => {
                Inner::Ollama(ollama::StreamAccumulator::new(api))
            }
            Api::GeminiGenerateContent | Api::GeminiEmbedContent => {
                Inner::Gemini(gemini::StreamAccumulator::default())
            }
            Api::BedrockConverse => Inner::Bedrock(bedrock::StreamAccumulator::default()),
        })
    }

    /// Feeds one event: for SSE, the event name (if any) and its `data` text; for NDJSON,
    /// one line; for Gemini's JSON-array stream, one element; for a Bedrock event-stream
    /// message, its `:event-type` (`:exception-type` for an exception) and JSON payload. An
    /// error event returns `Err`.
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::Accumulator};
    ///
    /// let mut acc = Accumulator::new(Api::OllamaChat);
    /// let first = acc.push(None, r#"{"model": "llama3.2", "message": {"role": "assistant", "content": "Hel"}, "done": false}"#);
    /// assert!(first.is_ok_and(|p| p.first_token));
    /// let err = acc.push(None, r#"{"error": "model requires more system memory"}"#);
    /// assert!(err.is_err_and(|e| e.message.contains("system memory")));
    /// ```
    pub fn push(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<StreamProgress, ProviderError> {
        match &mut self.0 {
            Inner::OpenAi(a) => a.push(event, data),
            Inner::Anthropic(a) => a.push(event, data),
            Inner::Ollama(a) => a.push(data),
            Inner::Gemini(a) => a.push(data),
            Inner::Bedrock(a) => a.push(event, data),
        }
    }

    /// What was accumulated so far.
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::Accumulator};
    ///
    /// let mut acc = Accumulator::new(Api::OpenAiChat);
    /// for chunk in [
    ///     r#"{"id": "c-1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Disk "}}]}"#,
    ///     r#"{"id": "c-1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "full."}, "finish_reason": "stop"}]}"#,
    ///     "[DONE]",
    /// ] {
    ///     acc.push(None, chunk)?;
    /// }
    /// let resp = acc.response();
    /// assert_eq!(resp.output_messages[0].parts[0]["content"], "Disk full.");
    /// assert_eq!(resp.finish_reasons, ["stop"]);
    /// # Ok::<(), llmetry_instruments::model::ProviderError>(())
    /// ```
    pub fn response(&self) -> LlmResponse {
        match &self.0 {
            Inner::OpenAi(a) => a.response(),
            Inner::Anthropic(a) => a.response(),
            Inner::Ollama(a) => a.response(),
            Inner::Gemini(a) => a.response(),
            Inner::Bedrock(a) => a.response(),
        }
    }

    /// The memory caps this stream hit (what the span keeps of it was cut; the stream itself
    /// was not): more than 128 choice indices (or Responses output items), more than 128
    /// tool calls in a choice (content blocks of an Anthropic message), more than 1 MiB of
    /// text in all.
    ///
    /// ```
    /// use llmetry_instruments::{model::{Api, CaptureCap}, providers::Accumulator};
    ///
    /// let mut acc = Accumulator::new(Api::OpenAiChat);
    /// for i in 0..200 {
    ///     acc.push(None, &format!(r#"{{"choices": [{{"index": {i}, "delta": {{"content": "x"}}}}]}}"#))?;
    /// }
    /// assert_eq!(acc.response().choice_count, 128);
    /// assert_eq!(acc.caps_hit(), [CaptureCap::Choices]);
    /// # Ok::<(), llmetry_instruments::model::ProviderError>(())
    /// ```
    pub fn caps_hit(&self) -> &[CaptureCap] {
        match &self.0 {
            Inner::OpenAi(a) => a.caps_hit(),
            Inner::Anthropic(a) => a.caps_hit(),
            Inner::Ollama(a) => a.caps_hit(),
            Inner::Gemini(a) => a.caps_hit(),
            Inner::Bedrock(a) => a.caps_hit(),
        }
    }
}

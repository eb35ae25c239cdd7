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

use serde_json::Value;

/// Which API of which provider a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}

impl Api {
    /// Span name, as the Python instrumentations name it.
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
        }
    }

    /// `gen_ai.operation.name`.
    pub const fn operation(self) -> &'static str {
        match self {
            Api::OpenAiChat | Api::OpenAiResponses | Api::AnthropicMessages | Api::OllamaChat => {
                "chat"
            }
            Api::OpenAiCompletion | Api::OllamaGenerate => "text_completion",
            Api::OpenAiEmbeddings | Api::OllamaEmbed => "embeddings",
        }
    }

    /// Streamed responses of this API are SSE (`true`) or NDJSON (`false`, Ollama).
    pub const fn streams_sse(self) -> bool {
        !matches!(
            self,
            Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed
        )
    }
}

/// `gen_ai.provider.name` values (OpenTelemetry GenAI well-known values where they exist).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// Anything else, named by the user.
    Other(String),
}

impl Provider {
    /// The `gen_ai.provider.name` value.
    pub fn as_str(&self) -> &str {
        match self {
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
            Provider::Other(s) => s,
        }
    }
}

/// One message in the GenAI parts format.
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
    /// The message as the JSON object written into `gen_ai.*.messages`.
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

/// What the request asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmRequest {
    /// `gen_ai.request.model`.
    pub model: Option<String>,
    /// `stream: true` (OpenAI/Anthropic) or Ollama's default streaming.
    pub stream: bool,
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
    /// `gen_ai.request.structured_output_schema`: the JSON schema of `response_format` /
    /// `text.format` / Ollama `format`, serialised.
    pub structured_output_schema: Option<String>,
    /// `gen_ai.output.type` (`text`, `json`, …) from `response_format.type`.
    pub output_type: Option<String>,
    /// Input messages (content; written only when content capture allows it). System
    /// prompts given outside `messages` (Anthropic `system`, Responses `instructions`)
    /// come first with role `system`. Embedding inputs are `user` text messages.
    pub input_messages: Vec<Message>,
    /// Tool definitions `[{"type": "function", "name", "description", "parameters"}]`.
    pub tool_definitions: Vec<Value>,
}

/// Token usage, as reported by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// `error.type`: the provider's error type or code (`rate_limit_exceeded`,
    /// `overloaded_error`, …), else the HTTP status code as a string.
    pub error_type: String,
    /// The provider's message.
    pub message: String,
}

/// What the response said.
#[derive(Debug, Clone, Default, PartialEq)]
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
    /// Number of choices returned (for `gen_ai.client.generation.choices`).
    pub choice_count: usize,
    /// Token usage.
    pub usage: Usage,
    /// Embeddings: the dimension of the first vector.
    pub embedding_dimensions: Option<usize>,
    /// An error reported in the body.
    pub error: Option<ProviderError>,
}

/// What feeding one streamed event changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamProgress {
    /// This event carried the first generated content (text, tool-call or reasoning delta):
    /// time to first token is measured here.
    pub first_token: bool,
    /// The stream said it is complete (`[DONE]`, `message_stop`, `"done": true`, `response.completed`).
    pub done: bool,
}

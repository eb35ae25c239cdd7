//! Wire-format parsers: request JSON, response JSON, and streamed events, per provider API.
//! They work on `serde_json::Value` and raw event text, never on any client crate's types.

pub mod anthropic;
pub mod detect;
pub mod ollama;
pub mod openai;
pub mod stream;

use serde_json::Value;

use crate::model::{Api, LlmRequest, LlmResponse, ProviderError, StreamProgress};

/// Parses a request body for `api`.
pub fn parse_request(api: Api, body: &Value) -> LlmRequest {
    match api {
        Api::OpenAiChat | Api::OpenAiCompletion | Api::OpenAiEmbeddings | Api::OpenAiResponses => {
            openai::parse_request(api, body)
        }
        Api::AnthropicMessages => anthropic::parse_request(body),
        Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => {
            ollama::parse_request(api, body)
        }
    }
}

/// Parses a complete (non-streamed) response body for `api`.
pub fn parse_response(api: Api, body: &Value) -> LlmResponse {
    match api {
        Api::OpenAiChat | Api::OpenAiCompletion | Api::OpenAiEmbeddings | Api::OpenAiResponses => {
            openai::parse_response(api, body)
        }
        Api::AnthropicMessages => anthropic::parse_response(body),
        Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => {
            ollama::parse_response(api, body)
        }
    }
}

/// Parses an HTTP error body (any provider's shape); `status` is the HTTP status.
pub fn parse_error(status: u16, body: &[u8]) -> ProviderError {
    openai::parse_error_body(status, body)
}

/// Accumulates a streamed response event by event.
#[derive(Debug)]
pub enum Accumulator {
    /// OpenAI chat/completions chunks, Responses events.
    OpenAi(openai::StreamAccumulator),
    /// Anthropic message events.
    Anthropic(anthropic::StreamAccumulator),
    /// Ollama NDJSON objects.
    Ollama(ollama::StreamAccumulator),
}

impl Accumulator {
    /// A new accumulator for `api`.
    pub fn new(api: Api) -> Self {
        match api {
            Api::OpenAiChat
            | Api::OpenAiCompletion
            | Api::OpenAiEmbeddings
            | Api::OpenAiResponses => Accumulator::OpenAi(openai::StreamAccumulator::new(api)),
            Api::AnthropicMessages => {
                Accumulator::Anthropic(anthropic::StreamAccumulator::default())
            }
            Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => {
                Accumulator::Ollama(ollama::StreamAccumulator::new(api))
            }
        }
    }

    /// Feeds one event: for SSE, the event name (if any) and its `data` text; for NDJSON,
    /// one line. An error event returns `Err`.
    pub fn push(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<StreamProgress, ProviderError> {
        match self {
            Accumulator::OpenAi(a) => a.push(event, data),
            Accumulator::Anthropic(a) => a.push(event, data),
            Accumulator::Ollama(a) => a.push(data),
        }
    }

    /// What was accumulated so far.
    pub fn response(&self) -> LlmResponse {
        match self {
            Accumulator::OpenAi(a) => a.response(),
            Accumulator::Anthropic(a) => a.response(),
            Accumulator::Ollama(a) => a.response(),
        }
    }
}

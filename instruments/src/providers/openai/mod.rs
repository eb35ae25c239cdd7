//! OpenAI wire formats (also spoken by Azure OpenAI, Groq, Together, Mistral, DeepSeek,
//! OpenRouter, vLLM and Ollama's `/v1` endpoints): Chat Completions, legacy Completions,
//! Embeddings and the Responses API, non-streamed ([`request`], [`response`]) and streamed
//! ([`stream`]). Messages follow the Python OpenLLMetry ≥ 0.55 "parts" format (see
//! [`crate::model`]); [`message`] holds the chat message both directions share.

mod message;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub(crate) use request::parse_request;
pub(crate) use response::parse_response;
pub(crate) use stream::StreamAccumulator;

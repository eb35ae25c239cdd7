//! Ollama native API: `/api/chat`, `/api/generate`, `/api/embed` (and the legacy
//! `/api/embeddings`), non-streamed ([`request`], [`response`]) and as NDJSON streams
//! ([`stream`]: one JSON object per line, the last with `"done": true` and the token
//! counts); [`message`] holds the message shape they share.

mod message;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub(crate) use request::parse_request;
pub(crate) use response::parse_response;
pub(crate) use stream::StreamAccumulator;

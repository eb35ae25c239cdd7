//! Gemini (`generateContent`, `streamGenerateContent`, `embedContent`,
//! `batchEmbedContents`) on the Generative Language API and its Vertex AI form, which share
//! the JSON bodies: the request ([`request`]), the response and the error body
//! ([`response`]), and the streamed chunks ([`stream`]: each SSE `data:` or JSON-array element
//! is one whole `GenerateContentResponse` carrying only the new parts); [`content`] turns
//! `Content` parts into GenAI parts for all three. The model is in the URL path, not the
//! body ([`crate::providers::detect::url_facts`]).

mod content;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub(crate) use request::parse_request;
pub(crate) use response::{parse_error, parse_response};
pub(crate) use stream::StreamAccumulator;

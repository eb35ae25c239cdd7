//! Bedrock Converse and ConverseStream (the JSON of `aws-sdk-bedrockruntime`'s restJson1
//! protocol): the request ([`request`]), the response and error bodies ([`response`]), the
//! stream's event payloads ([`stream`]: `messageStart`, `contentBlockStart`,
//! `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata`, and the exception
//! events), [`content`] for the content blocks of all three, and [`model`] for the model ids
//! of the path (`anthropic.claude-…`, inference profiles, ARNs).

mod content;
mod model;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub use model::{BedrockModel, bedrock_model};
#[cfg(any(test, feature = "bedrock"))]
pub(crate) use request::guardrail_id;
pub(crate) use request::parse_request;
pub(crate) use response::{parse_error, parse_response};
pub(crate) use stream::StreamAccumulator;

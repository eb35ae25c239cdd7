//! Anthropic Messages API (`POST /v1/messages`): the request ([`request`]), the response
//! ([`response`]), and the SSE event stream ([`stream`]: `message_start`,
//! `content_block_start`, `content_block_delta`, `content_block_stop`, `message_delta`,
//! `message_stop`, `ping`, `error`); [`content`] turns content blocks into GenAI parts for all three.

mod content;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub(crate) use request::parse_request;
pub(crate) use response::parse_response;
pub(crate) use stream::StreamAccumulator;

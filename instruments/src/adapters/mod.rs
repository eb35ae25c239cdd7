//! Adapters: the client hooks that capture LLM calls.
//!
//! | adapter | hooks into | feature |
//! |---|---|---|
//! | [`middleware`] (`LlmMiddleware`) | a `reqwest_middleware::ClientWithMiddleware` | `reqwest-middleware` |
//! | [`tower`] (`LlmLayer`) | async-openai's `Client::with_http_service` | `async-openai` |
//! | [`bedrock`] (`BedrockInterceptor`) | `aws-sdk-bedrockruntime`'s client config (an aws-smithy `Intercept`) | `bedrock` |
//! | [`mcp`] (`TracedServer`, `TracedPeer`) | an rmcp `ServerHandler`, an rmcp client `Peer` | `mcp` |
//!
//! The two HTTP adapters share the [`capture`] core and its stream [`tap`]; Bedrock has its
//! own event-stream tap; MCP spans are no LLM spans.

#[cfg(feature = "bedrock")]
pub(crate) mod bedrock;
#[cfg(any(feature = "reqwest-middleware", feature = "async-openai"))]
mod capture;
#[cfg(feature = "mcp")]
pub(crate) mod mcp;
#[cfg(feature = "reqwest-middleware")]
pub(crate) mod middleware;
#[cfg(any(feature = "reqwest-middleware", feature = "async-openai"))]
mod tap;
#[cfg(feature = "async-openai")]
pub(crate) mod tower;

#[cfg(any(feature = "reqwest-middleware", feature = "async-openai"))]
pub(crate) use capture::{Capture, RespondError, redact_error, redact_text, reqwest_error};

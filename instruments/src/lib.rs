//! # llmetry-instruments
//!
//! Automatic GenAI capture of LLM calls for [llmetry](https://docs.rs/llmetry): model,
//! tokens, latency, prompts and completions (when content capture allows), streaming, and the
//! `gen_ai.client.*` metrics, with the OpenTelemetry GenAI conventions the Python
//! OpenLLMetry SDK writes.
//!
//! The core reads the providers' wire formats (request JSON, response JSON, SSE and NDJSON
//! streams), not any client crate's types, so it works for every client: see
//! [`providers`], [`decode`] and [`model`].
//!
//! # Map
//!
//! | module | holds |
//! |---|---|
//! | [`model`] | the provider-neutral request, response, usage, error |
//! | [`providers`] | URL detection and the typed, borrowing readers of each provider's bodies and stream events (request / response / stream per provider) |
//! | [`decode`] | bounded push decoders: SSE, NDJSON, streamed JSON arrays |
//! | [`span`] | the LLM span (the manual API); it records the metrics when it ends |
//! | [`events`] | prompts and completions as log events (`use_attributes(false)`) |
//! | adapters (private) | [`LlmMiddleware`], [`LlmLayer`] and the capture core they share; `BedrockInterceptor`; the `mcp` wrappers |
//!
//! Every attribute key comes from [`llmetry::semconv`].
//!
//! # What it captures
//!
//! Every call to an OpenAI-compatible API (OpenAI, Azure OpenAI, Groq, Together, Mistral,
//! DeepSeek, OpenRouter, vLLM, Ollama's `/v1`), Anthropic Messages, Ollama's native API,
//! Gemini (the Generative Language API and its Vertex AI form: `generateContent`,
//! `streamGenerateContent` as SSE or JSON array, `embedContent`, `batchEmbedContents`) or
//! Bedrock Converse / ConverseStream becomes one LLM span, nested under the current
//! `#[workflow]` / `#[task]` / `#[agent]` / `#[tool]`:
//!
//! - span kind CLIENT, named as in Python (`openai.chat`, `anthropic.chat`,
//!   `ollama.completion`, `generate_content gemini-2.5-flash`, `chat claude-…`; see
//!   [`model::Api::span_name_for`]), under the instrumentation scope Python's
//!   instrumentation package uses (`opentelemetry.instrumentation.openai.v1`, `.anthropic`,
//!   `.ollama`, `.google_generativeai`, `.bedrock`; [`model::Api::scope_name`]), version
//!   [`span::SCOPE_VERSION`];
//! - the attributes the Python OpenLLMetry instrumentations 0.62 write, with their keys,
//!   values and types: `gen_ai.request.*`, `gen_ai.response.model/id/finish_reasons`,
//!   `gen_ai.usage.*` tokens (Anthropic input tokens with the cache reads and writes added),
//!   `gen_ai.is_streaming`, `gen_ai.openai.api_base`,
//!   `gen_ai.openai.response.system_fingerprint`, `openai.response.service_tier`; Ollama
//!   spans also carry Traceloop's legacy flattened form (`gen_ai.system`,
//!   `gen_ai.prompt.{i}.*`, `gen_ai.completion.0.*`, `llm.*`), which Python still writes for
//!   Ollama; plus the conventions' `server.address` / `server.port`;
//! - when content capture allows ([`llmetry::trace_content_enabled`]):
//!   `gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions`,
//!   `gen_ai.tool.definitions`, as the same JSON text Python writes (`json.dumps`
//!   separators, its key order, non-ASCII escaped), or, with `init().use_attributes(false)`,
//!   the log events of [`events`];
//! - provider errors (HTTP error bodies, error events mid-stream): `error.type`, an
//!   `exception` event, status ERROR; the caller still gets the response. On success the
//!   status is what Python sets (unset for OpenAI-API calls, OK for Anthropic and Ollama; OK
//!   for a completed OpenAI or Anthropic stream);
//! - streams pass through chunk by chunk: the time to the first chunk, a
//!   `gen_ai.content.completion.chunk` event per chunk on OpenAI chat spans, and the span
//!   ends with the stream ([`StreamEnd`]). A response is a stream when the request asked
//!   for one (`"stream": true`; Ollama's chat and generate unless `"stream": false`) or its
//!   content type says so (`text/event-stream`, `application/x-ndjson`): it is never
//!   buffered. What the span keeps of a stream is bounded (128 choices, 128 tool calls per
//!   choice, 1 MiB of text, 4 MiB per line); a cap hit sets `llmetry.capture.truncated`
//!   ([`model::CaptureCap`]);
//! - the metrics Python records, with its names, units, descriptions and attribute sets:
//!   `gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
//!   `gen_ai.client.generation.choices` (per finish reason), `gen_ai.server.time_to_first_token`
//!   and `llm.chat_completions.streaming_time_to_generate` (streams),
//!   `llm.openai.embeddings.vector_size`, and the exception counters
//!   (association properties only with [`set_association_properties_on_metrics`]);
//! - with the latest GenAI conventions ([`llmetry::gen_ai_latest_conventions`], semantic
//!   conventions v1.41.1): spans named `{gen_ai.operation.name} {gen_ai.request.model}`, the
//!   current keys instead of the deprecated ones, and the conventions' client metrics
//!   (`gen_ai.client.operation.time_to_first_chunk`, `…time_per_output_chunk`, …) with their
//!   advised buckets; every `traceloop.*` attribute in both modes.
//!
//! `init().instruments(..)` / `.block_instruments(..)` switch providers on and off
//! ([`llmetry::Instrument`]).
//!
//! # Adapters
//!
//! | adapter | for | Cargo feature (default on) |
//! |---|---|---|
//! | [`LlmMiddleware`] | a `reqwest_middleware::ClientWithMiddleware`: raw reqwest, rig's `ReqwestMiddlewareClient` | `reqwest-middleware` |
//! | [`LlmLayer`] / [`LlmService`] | async-openai's `Client::with_http_service` (tower) | `async-openai` |
//! | `BedrockInterceptor` | `aws-sdk-bedrockruntime`'s client config: `.interceptor(BedrockInterceptor::default())` | `bedrock` (off) |
//! | `mcp::TracedServer` / `mcp::TracedPeer` | an rmcp 3.11 `ServerHandler` / client `Peer`: MCP client and server spans (OTel MCP conventions), trace context in `params._meta` | `mcp` (off) |
//! | [`LlmSpan`] and [`providers`] | any other client: the manual API | always |
//!
//! API keys a URL carries (Gemini's `?key=`) are never recorded: spans record
//! `server.address` / `server.port`, and errors recorded or handed back by the HTTP
//! adapters have the URL's credentials redacted.
//!
//! # Example: the reqwest middleware
//!
//! Put [`LlmMiddleware`] on the client your LLM calls go through. Here a second middleware
//! stands in for the network and answers like OpenAI, so the example runs offline:
//!
//! ```rust,standalone_crate
//! use llmetry_instruments::LlmMiddleware;
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//! use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
//! use serde_json::json;
//!
//! /// Answers every request like OpenAI's chat completions endpoint would.
//! struct FakeOpenAi;
//!
//! #[async_trait::async_trait]
//! impl Middleware for FakeOpenAi {
//!     async fn handle(
//!         &self,
//!         req: reqwest::Request,
//!         _: &mut http::Extensions,
//!         _: Next<'_>,
//!     ) -> reqwest_middleware::Result<reqwest::Response> {
//!         assert!(req.headers().contains_key("traceparent")); // the LLM span's context
//!         let body = json!({
//!             "id": "chatcmpl-1", "model": "gpt-4o-mini-2024-07-18",
//!             "choices": [{"index": 0, "finish_reason": "stop",
//!                          "message": {"role": "assistant", "content": "db-1's disk is full."}}],
//!             "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28},
//!         });
//!         let resp = http::Response::builder()
//!             .header("content-type", "application/json")
//!             .body(body.to_string())
//!             .map_err(reqwest_middleware::Error::middleware)?;
//!         Ok(reqwest::Response::from(resp))
//!     }
//! }
//!
//! #[llmetry::task(name = "ask_llm", skip(client))]
//! async fn ask(client: &ClientWithMiddleware, question: &str) -> Result<String, reqwest_middleware::Error> {
//!     let resp = client
//!         .post("https://api.openai.com/v1/chat/completions")
//!         .bearer_auth("sk-…")
//!         .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]}))
//!         .send()
//!         .await?;
//!     let body: serde_json::Value = resp.json().await?;
//!     Ok(body["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_owned())
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let exporter = InMemorySpanExporter::default();
//!     let telemetry = llmetry::init()
//!         .exporter(exporter.clone())
//!         .silence_init_message(true)
//! #       .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
//!         .install()?;
//!     let client = ClientBuilder::new(reqwest::Client::new())
//!         .with(LlmMiddleware::default())
//!         .with(FakeOpenAi) // in a real app: nothing, reqwest sends the request
//!         .build();
//!     assert_eq!(ask(&client, "Why is db-1 down?").await?, "db-1's disk is full.");
//!
//!     telemetry.flush()?;
//!     let spans = exporter.get_finished_spans()?;
//!     let llm = spans.iter().find(|s| s.name == "openai.chat").ok_or("no LLM span")?;
//!     let task = spans.iter().find(|s| s.name == "ask_llm.task").ok_or("no task span")?;
//!     assert_eq!(llm.parent_span_id, task.span_context.span_id());
//!     let attr = |key: &str| llm.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
//!     assert_eq!(attr("gen_ai.request.model").as_deref(), Some("gpt-4o-mini"));
//!     assert_eq!(attr("gen_ai.response.model").as_deref(), Some("gpt-4o-mini-2024-07-18"));
//!     assert_eq!(attr("gen_ai.usage.output_tokens").as_deref(), Some("7"));
//!     assert_eq!(attr("server.address").as_deref(), Some("api.openai.com"));
//!     assert!(attr("gen_ai.input.messages").is_some_and(|m| m.contains("Why is db-1 down?")));
//!     Ok(())
//! }
//! ```

#[cfg(any(
    feature = "reqwest-middleware",
    feature = "async-openai",
    feature = "bedrock",
    feature = "mcp"
))]
mod adapters;
mod bytescan;
pub mod decode;
pub mod events;
mod json;
mod legacy;
mod metrics;
pub mod model;
pub mod providers;
pub mod span;

#[cfg(feature = "bedrock")]
pub use adapters::bedrock::BedrockInterceptor;
#[cfg(feature = "reqwest-middleware")]
pub use adapters::middleware::LlmMiddleware;
#[cfg(feature = "async-openai")]
pub use adapters::tower::{LlmLayer, LlmService};
#[cfg(feature = "mcp")]
pub mod mcp {
    //! MCP client and server spans for rmcp (feature `mcp`): see [`TracedServer`] and
    //! [`TracedPeer`].
    pub use crate::adapters::mcp::{TracedPeer, TracedServer};
}

pub use span::{LlmSpan, StreamEnd};

use std::sync::atomic::{AtomicBool, Ordering};

static ASSOCIATIONS_ON_METRICS: AtomicBool = AtomicBool::new(false);

/// Put association properties (`traceloop.association.properties.*`) on the GenAI metrics
/// too. Off by default: user and session ids make metric cardinality explode.
///
/// ```
/// llmetry_instruments::set_association_properties_on_metrics(true);
/// # llmetry_instruments::set_association_properties_on_metrics(false);
/// ```
pub fn set_association_properties_on_metrics(on: bool) {
    ASSOCIATIONS_ON_METRICS.store(on, Ordering::Relaxed);
}

pub(crate) fn association_properties_on_metrics() -> bool {
    ASSOCIATIONS_ON_METRICS.load(Ordering::Relaxed)
}

//! Attribute keys of the Traceloop and OpenTelemetry GenAI conventions.
//!
//! Our own constants (the official Rust semconv crate marks `gen_ai.*` experimental and
//! deprecated). The values are exactly the keys the Python `traceloop-sdk` writes.
//!
//! Use them to read exported spans (in tests, span processors, postprocess callbacks):
//!
//! ```rust,standalone_crate
//! use llmetry::semconv;
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//!
//! #[llmetry::tool(name = "grep_logs", version = 3)]
//! fn grep_logs(pattern: &str) -> usize {
//!     pattern.len()
//! }
//!
//! #[llmetry::workflow(name = "rca")]
//! fn rca() -> usize {
//!     llmetry::set_conversation_id("conv-1");
//!     grep_logs("OOM")
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = InMemorySpanExporter::default();
//! let telemetry = llmetry::init()
//!     .exporter(exporter.clone())
//!     .silence_init_message(true)
//! #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
//!     .install()?;
//! rca();
//! telemetry.flush()?;
//! let spans = exporter.get_finished_spans()?;
//! let tool = spans.iter().find(|s| s.name == "grep_logs.tool").ok_or("no tool span")?;
//! let attr = |key: &str| {
//!     tool.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
//! };
//! assert_eq!(attr(semconv::TRACELOOP_SPAN_KIND).as_deref(), Some("tool"));
//! assert_eq!(attr(semconv::TRACELOOP_ENTITY_NAME).as_deref(), Some("grep_logs"));
//! assert_eq!(attr(semconv::TRACELOOP_ENTITY_VERSION).as_deref(), Some("3"));
//! assert_eq!(attr(semconv::GEN_AI_TOOL_NAME).as_deref(), Some("grep_logs"));
//! assert_eq!(attr(semconv::TRACELOOP_WORKFLOW_NAME).as_deref(), Some("rca"));
//! assert_eq!(attr(semconv::GEN_AI_CONVERSATION_ID).as_deref(), Some("conv-1"));
//! assert_eq!(attr(semconv::TRACELOOP_ENTITY_OUTPUT).as_deref(), Some("3"));
//! assert_eq!(tool.instrumentation_scope.name(), semconv::TRACER_NAME);
//! # Ok(()) }
//! ```

/// `workflow` / `task` / `agent` / `tool`.
pub const TRACELOOP_SPAN_KIND: &str = "traceloop.span.kind";
/// The entity name given by `name = "…"` (default: the function's name).
pub const TRACELOOP_ENTITY_NAME: &str = "traceloop.entity.name";
/// The entity version given by `version = N`.
pub const TRACELOOP_ENTITY_VERSION: &str = "traceloop.entity.version";
/// Dotted path of the enclosing tasks and tools.
pub const TRACELOOP_ENTITY_PATH: &str = "traceloop.entity.path";
/// JSON `{"args": [], "kwargs": {…}}` of the call's arguments.
pub const TRACELOOP_ENTITY_INPUT: &str = "traceloop.entity.input";
/// JSON of the return value (the `Ok` value for a `Result`).
pub const TRACELOOP_ENTITY_OUTPUT: &str = "traceloop.entity.output";
/// Name of the enclosing workflow, on the workflow span and every span beneath it.
pub const TRACELOOP_WORKFLOW_NAME: &str = "traceloop.workflow.name";
/// Prefix of association properties: `traceloop.association.properties.<key>`.
pub const TRACELOOP_ASSOCIATION_PROPERTIES: &str = "traceloop.association.properties";
/// Name of the enclosing agent, on the agent span and every span beneath it.
pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";
/// Name of the tool, on `#[tool]` spans.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// Conversation id set by [`crate::set_conversation_id`].
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// The GenAI provider (`openai`, `anthropic`, …) of an LLM span.
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// The GenAI operation (`chat`, `embeddings`, …) of an LLM span.
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// Low-cardinality error class.
pub const ERROR_TYPE: &str = "error.type";
/// Event name of a recorded error.
pub const EXCEPTION_EVENT: &str = "exception";
/// Type of the recorded error.
pub const EXCEPTION_TYPE: &str = "exception.type";
/// Message (Display) of the recorded error.
pub const EXCEPTION_MESSAGE: &str = "exception.message";
/// Instrumentation scope name of entity spans (as Python's `traceloop.tracer`).
pub const TRACER_NAME: &str = "traceloop.tracer";
/// Target of the GenAI content events (log records only, never span events).
pub const GENAI_EVENTS_TARGET: &str = "llmetry::genai";

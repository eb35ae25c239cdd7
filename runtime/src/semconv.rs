//! Attribute keys of the Traceloop and OpenTelemetry GenAI conventions.
//!
//! Our own constants (the official Rust semconv crate marks `gen_ai.*` experimental and
//! deprecated). The values are exactly the keys the Python `traceloop-sdk` writes.
//!
//! ```
//! assert_eq!(llmetry::semconv::TRACELOOP_SPAN_KIND, "traceloop.span.kind");
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

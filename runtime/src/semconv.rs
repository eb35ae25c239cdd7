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
/// The association property ([`crate::set_association_properties`]) an
/// [`AssociationMapping`](crate::AssociationMapping) reads as the user id.
pub const ASSOCIATION_USER_ID: &str = "user_id";
/// The association property an [`AssociationMapping`](crate::AssociationMapping) reads as
/// the session id.
pub const ASSOCIATION_SESSION_ID: &str = "session_id";
/// User id as OpenInference (Phoenix), MLflow and Langfuse read it.
pub const USER_ID: &str = "user.id";
/// Session id as OpenInference (Phoenix), MLflow and Langfuse read it.
pub const SESSION_ID: &str = "session.id";
/// User id under Langfuse's own name (first in its order of precedence).
pub const LANGFUSE_USER_ID: &str = "langfuse.user.id";
/// Session id under Langfuse's own name.
pub const LANGFUSE_SESSION_ID: &str = "langfuse.session.id";
/// User id as LangSmith metadata (`langsmith.metadata.<key>`).
pub const LANGSMITH_METADATA_USER_ID: &str = "langsmith.metadata.user_id";
/// Session id as LangSmith metadata: LangSmith groups runs into threads by it.
pub const LANGSMITH_METADATA_SESSION_ID: &str = "langsmith.metadata.session_id";
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
/// Name of the enclosing workflow on `invoke_workflow` spans (opt-in latest conventions).
pub const GEN_AI_WORKFLOW_NAME: &str = "gen_ai.workflow.name";
/// `function` on `execute_tool` spans (opt-in latest conventions): a `#[tool]` runs in process.
pub const GEN_AI_TOOL_TYPE: &str = "gen_ai.tool.type";
/// `gen_ai.operation.name` of a `#[workflow]` span in the opt-in latest conventions.
pub const OPERATION_INVOKE_WORKFLOW: &str = "invoke_workflow";
/// `gen_ai.operation.name` of an `#[agent]` span in the opt-in latest conventions.
pub const OPERATION_INVOKE_AGENT: &str = "invoke_agent";
/// `gen_ai.operation.name` of a `#[tool]` span in the opt-in latest conventions.
pub const OPERATION_EXECUTE_TOOL: &str = "execute_tool";
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

// ---------------------------------------------------------------------------------------
// LLM spans (written by `llmetry-instruments`): the OpenTelemetry GenAI conventions, with
// the keys the Python OpenLLMetry instrumentations write.
// ---------------------------------------------------------------------------------------

/// Target of the GenAI content events (log records only, never span events).
pub const GENAI_EVENTS_TARGET: &str = "llmetry::genai";

// Instrumentation scopes of LLM spans and metrics: one per Python instrumentation package,
// named as Python names them (by the API a call speaks, not by the provider behind it).

/// Scope of OpenAI-API calls (Chat Completions, Completions, Embeddings, Responses; also on
/// Azure, Groq, vLLM, …), as Python's `opentelemetry-instrumentation-openai` names it.
pub const OPENAI_SCOPE: &str = "opentelemetry.instrumentation.openai.v1";
/// Scope of Anthropic Messages calls (`opentelemetry-instrumentation-anthropic`).
pub const ANTHROPIC_SCOPE: &str = "opentelemetry.instrumentation.anthropic";
/// Scope of Ollama native API calls (`opentelemetry-instrumentation-ollama`).
pub const OLLAMA_SCOPE: &str = "opentelemetry.instrumentation.ollama";
/// Scope of Gemini calls, the Generative Language API and its Vertex AI form (the same
/// wire), as Python's `opentelemetry-instrumentation-google-generativeai` names it (it
/// traces the `google-genai` SDK, which speaks both).
pub const GOOGLE_GENERATIVEAI_SCOPE: &str = "opentelemetry.instrumentation.google_generativeai";
/// Scope of Bedrock Converse calls (`opentelemetry-instrumentation-bedrock`).
pub const BEDROCK_SCOPE: &str = "opentelemetry.instrumentation.bedrock";
/// Scope of MCP spans, as Python's `opentelemetry-instrumentation-mcp` names it (the
/// module `opentelemetry.instrumentation.mcp.instrumentation`).
pub const MCP_SCOPE: &str = "opentelemetry.instrumentation.mcp.instrumentation";

/// Host name of the LLM endpoint.
pub const SERVER_ADDRESS: &str = "server.address";
/// Port of the LLM endpoint.
pub const SERVER_PORT: &str = "server.port";
/// Whether the response was requested as a stream (bool).
pub const GEN_AI_IS_STREAMING: &str = "gen_ai.is_streaming";

/// Base URL of an OpenAI-API client (`http://127.0.0.1:8080/v1/`), on OpenAI-API spans.
pub const GEN_AI_OPENAI_API_BASE: &str = "gen_ai.openai.api_base";
/// Azure OpenAI `api-version`, on Azure OpenAI spans.
pub const GEN_AI_OPENAI_API_VERSION: &str = "gen_ai.openai.api_version";
/// The response's `system_fingerprint` (the key Python 0.62 writes; deprecated in the
/// conventions for [`OPENAI_RESPONSE_SYSTEM_FINGERPRINT`], written in opt-in mode).
pub const GEN_AI_OPENAI_RESPONSE_SYSTEM_FINGERPRINT: &str =
    "gen_ai.openai.response.system_fingerprint";
/// The response's `system_fingerprint` (current conventions; opt-in mode).
pub const OPENAI_RESPONSE_SYSTEM_FINGERPRINT: &str = "openai.response.system_fingerprint";
/// The `service_tier` the request asked for.
pub const OPENAI_REQUEST_SERVICE_TIER: &str = "openai.request.service_tier";
/// The `service_tier` the response says served it.
pub const OPENAI_RESPONSE_SERVICE_TIER: &str = "openai.response.service_tier";
/// Whether the request asked for a stream, set only when it did (current conventions;
/// opt-in mode).
pub const GEN_AI_REQUEST_STREAM: &str = "gen_ai.request.stream";
/// System instructions given apart from the messages (Anthropic `system`), JSON parts
/// (content capture only).
pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// The GenAI system, as Python's Ollama instrumentation writes it (`Ollama`): deprecated in
/// the conventions for [`GEN_AI_PROVIDER_NAME`].
pub const GEN_AI_SYSTEM: &str = "gen_ai.system";
/// Traceloop's request type (`chat`, `completion`, `embedding`), on Ollama spans as Python
/// writes them.
pub const LLM_REQUEST_TYPE: &str = "llm.request.type";
/// Traceloop's streaming flag (bool), on Ollama spans as Python writes them.
pub const LLM_IS_STREAMING: &str = "llm.is_streaming";
/// Traceloop's total token count, on Ollama spans as Python writes them.
pub const LLM_USAGE_TOTAL_TOKENS: &str = "llm.usage.total_tokens";
/// Prefix of Traceloop's flattened tool definitions (`llm.request.functions.{i}.name`,
/// `.description`, `.parameters`), on Ollama spans as Python writes them.
pub const LLM_REQUEST_FUNCTIONS: &str = "llm.request.functions";
/// Prefix of Traceloop's flattened prompts (`gen_ai.prompt.{i}.role`, `.content`,
/// `.tool_call_id`, `.tool_calls.{j}.id` / `.name` / `.arguments`), on Ollama spans as Python
/// writes them (content capture only).
pub const GEN_AI_PROMPT: &str = "gen_ai.prompt";
/// Prefix of Traceloop's flattened completions (`gen_ai.completion.{i}.role`, `.content`),
/// on Ollama spans as Python writes them (content capture only).
pub const GEN_AI_COMPLETION: &str = "gen_ai.completion";

/// Model the request asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// `max_tokens` / `max_completion_tokens` / `max_output_tokens` / Ollama `num_predict`.
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// Sampling seed.
pub const GEN_AI_REQUEST_SEED: &str = "gen_ai.request.seed";
/// Number of choices asked for (`n`), when not 1.
pub const GEN_AI_REQUEST_CHOICE_COUNT: &str = "gen_ai.request.choice.count";
/// Sampling temperature.
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// Nucleus sampling `top_p`.
pub const GEN_AI_REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// `top_k` sampling.
pub const GEN_AI_REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// Frequency penalty.
pub const GEN_AI_REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
/// Presence penalty.
pub const GEN_AI_REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
/// Stop sequences (string array).
pub const GEN_AI_REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// Embedding encoding formats (string array).
pub const GEN_AI_REQUEST_ENCODING_FORMATS: &str = "gen_ai.request.encoding_formats";
/// Reasoning effort (`low`, `medium`, `high`).
pub const GEN_AI_REQUEST_REASONING_EFFORT: &str = "gen_ai.request.reasoning_effort";
/// JSON schema of a structured-output request, serialised.
pub const GEN_AI_REQUEST_STRUCTURED_OUTPUT_SCHEMA: &str = "gen_ai.request.structured_output_schema";
/// End-user id sent with the request (`user`, Anthropic `metadata.user_id`).
pub const GEN_AI_USER: &str = "gen_ai.user";
/// Requested output type (`text`, `json`, …).
pub const GEN_AI_OUTPUT_TYPE: &str = "gen_ai.output.type";
/// Input messages, JSON in the GenAI "parts" format (content capture only).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// Output messages, JSON in the GenAI "parts" format (content capture only).
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// Tool definitions offered to the model, JSON (content capture only).
pub const GEN_AI_TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";

/// Response id.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// Model that answered.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// Finish reason of each choice (string array).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Dimension of the returned embedding vectors.
pub const GEN_AI_EMBEDDINGS_DIMENSION_COUNT: &str = "gen_ai.embeddings.dimension.count";
/// Seconds from the request to the first chunk of a stream (what Python measures): a span
/// attribute and the name of the histogram.
pub const GEN_AI_SERVER_TIME_TO_FIRST_TOKEN: &str = "gen_ai.server.time_to_first_token";

/// Seconds from the request to the first chunk of a stream (current conventions; opt-in
/// mode, in place of the span attribute [`GEN_AI_SERVER_TIME_TO_FIRST_TOKEN`]).
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";

/// Input tokens (Anthropic: with the cache reads and writes added, as the conventions say).
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Output tokens.
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Input + output tokens (as reported, else their sum).
pub const GEN_AI_USAGE_TOTAL_TOKENS: &str = "gen_ai.usage.total_tokens";
/// Input tokens read from the provider's prompt cache.
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Input tokens written to the provider's prompt cache.
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";
/// Reasoning tokens.
pub const GEN_AI_USAGE_REASONING_TOKENS: &str = "gen_ai.usage.reasoning_tokens";

/// The call's cost in USD (double), from the price table (`llmetry::cost`): OpenLIT's key,
/// read by Langfuse. Also the name of the cost histogram (unit `USD`), as OpenLIT records it.
pub const GEN_AI_USAGE_COST: &str = "gen_ai.usage.cost";

/// Reasoning tokens (current conventions; opt-in mode, in place of
/// [`GEN_AI_USAGE_REASONING_TOKENS`]).
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";

/// Span event per streamed chunk of an OpenAI-API response, as Python writes it (no
/// attributes; the event's time is the chunk's arrival).
pub const GEN_AI_CONTENT_COMPLETION_CHUNK_EVENT: &str = "gen_ai.content.completion.chunk";
/// Span event: the consumer dropped a stream before its end.
pub const GEN_AI_STREAM_DROPPED_EVENT: &str = "gen_ai.stream.dropped";
/// `error.type` of a stream that broke before the provider said it was complete.
pub const STREAM_ERROR_TYPE: &str = "stream_error";

/// `true` on an LLM span whose capture hit a memory cap (the caller's data is untouched;
/// only what the span records is cut).
pub const LLMETRY_CAPTURE_TRUNCATED: &str = "llmetry.capture.truncated";
/// Which caps were hit (string array): `choices` (choice indices of one stream), `tool_calls`
/// (tool calls of one choice), `text` (accumulated streamed text), `line` (one SSE / NDJSON
/// line or event).
pub const LLMETRY_CAPTURE_TRUNCATED_CAPS: &str = "llmetry.capture.truncated_caps";

// GenAI content events (`init().use_attributes(false)`): event names and body fields.

/// Event per system (or developer) input message.
pub const GEN_AI_SYSTEM_MESSAGE_EVENT: &str = "gen_ai.system.message";
/// Event per user input message.
pub const GEN_AI_USER_MESSAGE_EVENT: &str = "gen_ai.user.message";
/// Event per assistant input message.
pub const GEN_AI_ASSISTANT_MESSAGE_EVENT: &str = "gen_ai.assistant.message";
/// Event per tool-result input message.
pub const GEN_AI_TOOL_MESSAGE_EVENT: &str = "gen_ai.tool.message";
/// Event per output choice.
pub const GEN_AI_CHOICE_EVENT: &str = "gen_ai.choice";

// GenAI client metrics.

/// Histogram of call durations, seconds.
pub const GEN_AI_CLIENT_OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Histogram of input and output tokens per call.
pub const GEN_AI_CLIENT_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// Counter of returned choices.
pub const GEN_AI_CLIENT_GENERATION_CHOICES: &str = "gen_ai.client.generation.choices";
/// Metric attribute: `input` or `output` on `gen_ai.client.token.usage`.
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";
/// Metric attribute: whether the call was streamed (bool), as Python writes it.
pub const STREAM: &str = "stream";
/// Metric attribute of `gen_ai.client.generation.choices`: the (mapped) finish reason.
pub const GEN_AI_RESPONSE_FINISH_REASON: &str = "gen_ai.response.finish_reason";
/// Histogram of seconds from the first chunk of a stream to its end (Traceloop).
pub const LLM_CHAT_COMPLETIONS_STREAMING_TIME_TO_GENERATE: &str =
    "llm.chat_completions.streaming_time_to_generate";
/// Counter of the dimensions of the first returned embedding (Traceloop, OpenAI API).
pub const LLM_OPENAI_EMBEDDINGS_VECTOR_SIZE: &str = "llm.openai.embeddings.vector_size";
/// Counter of failed OpenAI-API chat calls (Traceloop).
pub const LLM_OPENAI_CHAT_COMPLETIONS_EXCEPTIONS: &str = "llm.openai.chat_completions.exceptions";
/// Counter of failed OpenAI-API embeddings calls (Traceloop).
pub const LLM_OPENAI_EMBEDDINGS_EXCEPTIONS: &str = "llm.openai.embeddings.exceptions";
/// Counter of failed Anthropic calls (Traceloop).
pub const LLM_ANTHROPIC_COMPLETION_EXCEPTIONS: &str = "llm.anthropic.completion.exceptions";
/// Histogram of seconds from the request to the first chunk of a stream (current
/// conventions; opt-in mode, in place of [`GEN_AI_SERVER_TIME_TO_FIRST_TOKEN`]).
pub const GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK: &str =
    "gen_ai.client.operation.time_to_first_chunk";
/// Histogram of seconds between consecutive chunks of a stream (current conventions;
/// opt-in mode).
pub const GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK: &str =
    "gen_ai.client.operation.time_per_output_chunk";

/// The Bedrock guardrail a Converse request names (`guardrailConfig.guardrailIdentifier`).
pub const AWS_BEDROCK_GUARDRAIL_ID: &str = "aws.bedrock.guardrail.id";

// ---------------------------------------------------------------------------------------
// MCP spans: the OpenTelemetry MCP conventions (`docs/gen-ai/mcp.md`).
// ---------------------------------------------------------------------------------------

/// The JSON-RPC method of an MCP request or notification (`tools/call`, `initialize`, …).
pub const MCP_METHOD_NAME: &str = "mcp.method.name";
/// The MCP session id (the `Mcp-Session-Id` header of the streamable HTTP transport).
pub const MCP_SESSION_ID: &str = "mcp.session.id";
/// The MCP protocol version the session negotiated (`2025-06-18`).
pub const MCP_PROTOCOL_VERSION: &str = "mcp.protocol.version";
/// The resource URI of `resources/read`, `resources/subscribe`, `resources/unsubscribe`.
pub const MCP_RESOURCE_URI: &str = "mcp.resource.uri";
/// The JSON-RPC request id, as a string (not on notifications).
pub const JSONRPC_REQUEST_ID: &str = "jsonrpc.request.id";
/// The JSON-RPC error code of a failed request, as a string (`-32602`).
pub const RPC_RESPONSE_STATUS_CODE: &str = "rpc.response.status_code";
/// `pipe` (stdio) or `tcp` (HTTP).
pub const NETWORK_TRANSPORT: &str = "network.transport";
/// `http` for the streamable HTTP transport.
pub const NETWORK_PROTOCOL_NAME: &str = "network.protocol.name";
/// The prompt of `prompts/get`.
pub const GEN_AI_PROMPT_NAME: &str = "gen_ai.prompt.name";
/// The arguments of a tool call, JSON (content capture only).
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// The result of a tool call, JSON (content capture only).
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// `error.type` of a tool call whose result says `isError: true`.
pub const MCP_TOOL_ERROR_TYPE: &str = "tool_error";
/// `gen_ai.operation.name` of an MCP `tools/call`.
pub const EXECUTE_TOOL_OPERATION: &str = "execute_tool";

//! An in-process stub LLM server that speaks the providers' real wire formats, used by the
//! tests and by the examples (their embedded server when `OPENAI_API_KEY` is unset).
//!
//! [`LlmStub::start`] binds an ephemeral port on `127.0.0.1` and answers, with canned but
//! well-formed payloads, the endpoints of three API families (method `POST`; a route
//! matches any path that *ends* with it, so `http://HOST/openai/v1/chat/completions`
//! works as an OpenAI-compatible gateway path):
//!
//! | path                    | format                                                        |
//! |-------------------------|---------------------------------------------------------------|
//! | `/chat/completions`     | OpenAI `chat.completion`; SSE `chat.completion.chunk` + `[DONE]` |
//! | `/completions`          | OpenAI legacy `text_completion`; SSE chunks + `[DONE]`         |
//! | `/embeddings`           | OpenAI `list` of `embedding` (floats, or base64 when asked)   |
//! | `/responses`            | OpenAI Responses `response`; SSE `event:` + `data:` events     |
//! | `/v1/messages`          | Anthropic `message`; SSE `message_start` … `message_stop`      |
//! | `/api/chat`             | Ollama chat; NDJSON unless `"stream": false`                   |
//! | `/api/generate`         | Ollama generate; NDJSON unless `"stream": false`               |
//! | `/api/embed`            | Ollama `embeddings: [[..]]` (never streams)                    |
//! | `/api/embeddings`       | Ollama legacy `embedding: [..]` (never streams)                |
//! | `…/models/{m}:generateContent` | Gemini `GenerateContentResponse`                        |
//! | `…/models/{m}:streamGenerateContent` | Gemini chunks: SSE with `alt=sse`, else one streamed JSON array |
//! | `…/models/{m}:embedContent`, `:batchEmbedContents` | Gemini `embedding` / `embeddings` (no usage) |
//! | `/model/{id}/converse`  | Bedrock Converse JSON                                          |
//! | `/model/{id}/converse-stream` | Bedrock AWS event stream (feature `bedrock-stub`; `501` without) |
//!
//! OpenAI and Anthropic stream only when the request says `"stream": true`; Ollama streams
//! unless it says `"stream": false` (its real default); Gemini and Bedrock stream on their
//! stream paths. Gemini and Bedrock take the model from the path (percent-decoded), so the
//! faults below select by that model.
//!
//! Every request is recorded as a [`StubRequest`] before it is answered. No authorization
//! is required unless [`LlmStubBuilder::require_api_key`] asks for it. [`LlmStub::start`]
//! runs the server on a private tokio runtime, so the API is blocking and usable from plain
//! `#[test]` functions; [`LlmStubBuilder::serve`] runs it on the caller's runtime instead
//! (the examples). Dropping the stub stops it.
//!
//! # Answers ([`Answers::Canned`], the default)
//!
//! * Text answers are [`REPLY`], streamed word by word (the first delta is the first word,
//!   the following ones carry a leading space, so the deltas concatenate to [`REPLY`]).
//! * With tools in the request and a last message from the user, the answer is a call of
//!   the first (function) tool; its arguments fill every property of the tool's JSON schema
//!   (string: `"<tool>-<property>"`, integer `1`, number `1.5`, boolean `true`, array `[]`,
//!   object `{}`, enum: its first value), or are `{"tool": "<tool>"}` when the schema has
//!   no properties. Anthropic answers a short text block (`"Let me use <tool>."`) before
//!   the `tool_use` block, as Claude does.
//! * When the last message is a tool result (OpenAI `tool` message, Anthropic
//!   `tool_result` block, Ollama `tool` message, Responses `function_call_output` item), the
//!   answer is the text `"The tool returned: <result>"`.
//! * OpenAI chat, legacy completions and Responses answer with the request's model plus
//!   [`OPENAI_MODEL_SUFFIX`] (unless it already ends with a `-YYYY-MM-DD` date); OpenAI
//!   embeddings, Anthropic and Ollama echo the model unchanged.
//!
//! [`Answers::Demo`] answers like a model would in a demo instead; see its documentation.
//!
//! # Token counts ([`Answers::Canned`])
//!
//! `in` is the number of whitespace-separated words in the request's text (message
//! contents and text parts, `system`, `instructions`, `prompt`, `input`, tool results), at
//! least 1; `out` is the number of words of the answer text, at least 1 (a tool call counts
//! [`TOOL_CALL_TOKENS`], plus the words of Anthropic's preamble).
//!
//! * OpenAI chat and Responses: input `in`, cached `in / 2`, output `out +`
//!   [`REASONING_TOKENS`] (reasoning [`REASONING_TOKENS`]), total their sum.
//! * Gemini generate: `promptTokenCount` `in`, `cachedContentTokenCount` `in / 2`,
//!   `candidatesTokenCount` `out`, `thoughtsTokenCount` [`REASONING_TOKENS`], total their sum
//!   (input + output + thoughts); embeddings report none.
//! * Bedrock: `inputTokens` `in`, `cacheReadInputTokens` `in / 2`, `cacheWriteInputTokens`
//!   [`CACHE_CREATION_TOKENS`], `outputTokens` `out`, `totalTokens` all four.
//! * OpenAI legacy completions: prompt `in`, completion `out`.
//! * OpenAI embeddings: prompt and total `in`; Ollama embed: `prompt_eval_count` `in`.
//! * Anthropic: `input_tokens` `in`, `cache_read_input_tokens` `in / 2`,
//!   `cache_creation_input_tokens` [`CACHE_CREATION_TOKENS`], `output_tokens` `out`.
//! * Ollama chat and generate: `prompt_eval_count` `in`, `eval_count` `out`.
//!
//! # Faults
//!
//! Selected by the request's `model`, on every route (and with either [`Answers`]):
//!
//! * [`RATE_LIMITED`]: `429` with the provider's error body (OpenAI and Anthropic also send
//!   `retry-after: 1`).
//! * [`SERVER_ERROR`]: `500` with the provider's error body.
//! * [`FAIL_MIDWAY`]: streaming: the first events up to the second content delta, then the
//!   connection is aborted (the client's body stream yields an `Err`). Non-streaming: a
//!   `200` with the first half of the JSON body, then the same abort.
//! * [`ERROR_EVENT`]: streaming: the first events up to the second content delta, then the
//!   provider's in-stream error and a clean end of the body (OpenAI chat/completions:
//!   `data: {"error":{..}}`; Responses: `event: error`; Anthropic: `event: error` with an
//!   `overloaded_error`; Ollama: a `{"error":".."}` line; Gemini: an `{"error": {.., "status":
//!   "INTERNAL"}}` chunk; Bedrock: a `modelStreamErrorException` exception message).
//!   Non-streaming: a normal answer.
//! * [`SLOW_STREAM`]: streaming: [`SLOW_CHUNKS`] content deltas (`chunk0`, ` chunk1`, …),
//!   each sent [`SLOW_INTERVAL`] after the previous one. Non-streaming: a normal answer.
//!
//! # Where things live
//!
//! `spec` (the public constants, [`Answers`], [`StubRequest`]), `server` ([`LlmStub`] and
//! its builder: binding, runtimes, stopping), `dispatch` (one request: record, route,
//! authorize, fault, answer, render), `request` (routes, providers, what a request is
//! answered from), `answer` (what to say: text or tool calls, token usage, both personas),
//! `faults` (error bodies and cut, paced or erroring streams), `wire` (SSE / NDJSON
//! framing, headers, time), and one module per protocol: `openai` (chat, completions,
//! embeddings, responses), `anthropic`, `ollama`, `gemini`, `bedrock`. Each protocol module reads its requests
//! into a conversation and renders answers; none imports another.

// The examples ship this module as their embedded server: no panicking shortcuts here.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod answer;
mod anthropic;
mod bedrock;
mod dispatch;
mod faults;
mod gemini;
mod ollama;
mod openai;
mod request;
mod server;
mod spec;
mod wire;

pub use server::{LlmStub, LlmStubBuilder};
pub use spec::{
    Answers, CACHE_CREATION_TOKENS, EMBEDDING_DIMS, ERROR_EVENT, FAIL_MIDWAY, OPENAI_MODEL_SUFFIX,
    RATE_LIMITED, REASONING_TOKENS, REPLY, SERVER_ERROR, SLOW_CHUNKS, SLOW_INTERVAL, SLOW_STREAM,
    StubRequest, TOOL_CALL_TOKENS,
};

//! OpenAI wire formats (also spoken by Azure OpenAI, Groq, Together, Mistral, DeepSeek,
//! OpenRouter, vLLM and Ollama's `/v1` endpoints): Chat Completions, legacy Completions,
//! Embeddings and the Responses API, non-streamed and streamed.
//!
//! Messages follow the Python OpenLLMetry ≥ 0.55 "parts" format (see [`crate::model`]).
//! This module also holds the small JSON helpers the Anthropic and Ollama parsers share.
//!
//! ```
//! use llmetry_instruments::model::Api;
//! use llmetry_instruments::providers::openai;
//! use serde_json::json;
//!
//! // The Responses API: `instructions` become a system message.
//! let req = openai::parse_request(Api::OpenAiResponses, &json!({
//!     "model": "gpt-4.1", "instructions": "Be brief.", "input": "Why is db-1 down?",
//! }));
//! let roles: Vec<&str> = req.input_messages.iter().map(|m| m.role.as_str()).collect();
//! assert_eq!(roles, ["system", "user"]);
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::{Api, LlmRequest, LlmResponse, Message, ProviderError, StreamProgress, Usage};

// ---------------------------------------------------------------------------------------
// Shared JSON helpers (used by `anthropic` and `ollama` too).
// ---------------------------------------------------------------------------------------

/// A JSON object from `pairs`, leaving out `null` values.
pub(crate) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if !v.is_null() {
            m.insert(k.to_owned(), v);
        }
    }
    Value::Object(m)
}

/// `v[key]` as a non-empty string.
pub(crate) fn str_at(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An integer, also from a float with no fractional part (`100.0`).
pub(crate) fn int(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0)
                .map(|f| f as i64)
        })
}

/// A number as `f64`.
pub(crate) fn float(v: Option<&Value>) -> Option<f64> {
    v?.as_f64()
}

/// A string value or an array of strings (`stop`), as a list.
pub(crate) fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A message with no finish reason.
pub(crate) fn message(role: &str, parts: Vec<Value>) -> Message {
    Message {
        role: role.to_owned(),
        parts,
        finish_reason: None,
    }
}

/// `{"type": "text", "content": s}`.
pub(crate) fn text_part(s: &str) -> Value {
    obj([("type", "text".into()), ("content", s.into())])
}

/// `{"type": "reasoning", "content": s}`.
pub(crate) fn reasoning_part(s: &str) -> Value {
    obj([("type", "reasoning".into()), ("content", s.into())])
}

/// `{"type": "refusal", "content": s}`.
pub(crate) fn refusal_part(s: &str) -> Value {
    obj([("type", "refusal".into()), ("content", s.into())])
}

fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::from)
}

/// `{"type": "tool_call", "id", "name", "arguments"}` (`id` left out when unknown).
pub(crate) fn tool_call_part(id: Option<&str>, name: Option<&str>, arguments: Value) -> Value {
    obj([
        ("type", "tool_call".into()),
        ("id", opt_str(id)),
        ("name", opt_str(name)),
        ("arguments", arguments),
    ])
}

/// `{"type": "tool_call_response", "id", "response"}` (`id` left out when unknown).
pub(crate) fn tool_response_part(id: Option<&str>, response: Value) -> Value {
    obj([
        ("type", "tool_call_response".into()),
        ("id", opt_str(id)),
        ("response", response),
    ])
}

/// `{"type": "blob", "modality", "mime_type", "content"}` (`mime_type` left out when unknown).
pub(crate) fn blob_part(modality: &str, mime_type: Option<&str>, content: &str) -> Value {
    obj([
        ("type", "blob".into()),
        ("modality", modality.into()),
        ("mime_type", opt_str(mime_type)),
        ("content", content.into()),
    ])
}

/// `{"type": "uri", "modality", "uri"}`.
pub(crate) fn uri_part(modality: &str, uri: &str) -> Value {
    obj([
        ("type", "uri".into()),
        ("modality", modality.into()),
        ("uri", uri.into()),
    ])
}

/// An image URL: a `data:` URI becomes a blob with its MIME type, anything else a URI part.
pub(crate) fn image_url_part(url: &str) -> Value {
    if let Some((meta, data)) = url.strip_prefix("data:").and_then(|r| r.split_once(',')) {
        let mime = meta.split(';').next().filter(|m| !m.is_empty());
        return blob_part("image", mime, data);
    }
    uri_part("image", url)
}

/// Tool-call arguments: a JSON string is parsed when valid, else kept as the raw string;
/// objects (Anthropic, Ollama) are kept as they are.
pub(crate) fn parse_arguments(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

/// The `response` of a tool result: a string stays a string, a list of text blocks becomes
/// their joined text, anything else is kept as JSON.
pub(crate) fn tool_response_content(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::String(String::new()),
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Array(blocks)) => {
            let texts: Option<Vec<&str>> = blocks
                .iter()
                .map(|b| match b {
                    Value::String(s) => Some(s.as_str()),
                    _ => b.get("text").and_then(Value::as_str),
                })
                .collect();
            match texts {
                Some(t) => Value::String(t.join("")),
                None => Value::Array(blocks.clone()),
            }
        }
        Some(other) => other.clone(),
    }
}

/// A tool definition `{"type", "name", "description", "parameters"}`.
pub(crate) fn tool_definition(kind: &str, src: &Value, params_key: &str) -> Value {
    obj([
        ("type", kind.into()),
        ("name", src.get("name").cloned().unwrap_or(Value::Null)),
        (
            "description",
            src.get("description").cloned().unwrap_or(Value::Null),
        ),
        (
            "parameters",
            src.get(params_key).cloned().unwrap_or(Value::Null),
        ),
    ])
}

/// `gen_ai.output.type` and the serialised schema of a `response_format`-like object:
/// `{"type": "json_schema", "json_schema": {"schema"}}` (Chat), `{"type": "json_schema",
/// "schema"}` (Responses `text.format`, Anthropic), `{"type": "json_object"}`, `{"type": "text"}`.
pub(crate) fn output_format(fmt: Option<&Value>) -> (Option<String>, Option<String>) {
    let Some(fmt) = fmt.filter(|f| f.is_object()) else {
        return (None, None);
    };
    let schema = fmt
        .pointer("/json_schema/schema")
        .or_else(|| fmt.get("schema"))
        .filter(|s| !s.is_null())
        .map(Value::to_string);
    let kind = match fmt.get("type").and_then(Value::as_str) {
        Some("json_schema" | "json_object" | "json") => Some("json".to_owned()),
        Some(t) if !t.is_empty() => Some(t.to_owned()),
        _ => schema.as_ref().map(|_| "json".to_owned()),
    };
    (kind, schema)
}

/// Fills `total_tokens` with input + output when the provider did not report it.
pub(crate) fn with_total(mut u: Usage) -> Usage {
    if u.total_tokens.is_none() && (u.input_tokens.is_some() || u.output_tokens.is_some()) {
        u.total_tokens = Some(u.input_tokens.unwrap_or(0) + u.output_tokens.unwrap_or(0));
    }
    u
}

fn error_fields(e: &Value, fallback: &str) -> ProviderError {
    let code = e
        .get("code")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let kind = e
        .get("type")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != "error");
    let message = match e.get("message") {
        Some(Value::String(s)) => s.clone(),
        _ => e.to_string(),
    };
    ProviderError {
        error_type: code.or(kind).unwrap_or(fallback).to_owned(),
        message,
    }
}

/// The error a JSON body reports, in any provider's shape, or `None`:
/// OpenAI `{"error": {"message", "type", "code"}}` (the `code` wins over the `type` when
/// both are given: `rate_limit_exceeded` says more than `requests`), Anthropic
/// `{"type": "error", "error": {"type", "message"}}`, Ollama `{"error": "…"}`, the Responses
/// `error` event `{"type": "error", "code", "message"}`, Mistral/vLLM
/// `{"object": "error", "message", "type"}`, and a one-element array of any of them.
/// `fallback` is the error type when the body names none.
pub(crate) fn error_from_value(v: &Value, fallback: &str) -> Option<ProviderError> {
    match v {
        Value::Array(a) => return a.first().and_then(|f| error_from_value(f, fallback)),
        Value::Object(_) => {}
        _ => return None,
    }
    match v.get("error") {
        Some(e @ Value::Object(_)) => return Some(error_fields(e, fallback)),
        Some(Value::String(s)) => {
            return Some(ProviderError {
                error_type: fallback.to_owned(),
                message: s.clone(),
            });
        }
        _ => {}
    }
    let is_error = v.get("type").and_then(Value::as_str) == Some("error")
        || v.get("object").and_then(Value::as_str) == Some("error");
    (is_error && v.get("message").is_some()).then(|| error_fields(v, fallback))
}

/// The error type used when an error inside a response body or a stream names none
/// (as the Python instrumentation does).
pub(crate) const DEFAULT_ERROR_TYPE: &str = "api_error";

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s).to_owned(),
        None => s.to_owned(),
    }
}

/// Parses an HTTP error body of any supported provider (see the shapes of
/// [`crate::providers::parse_error`]). Without a recognisable JSON error, the error type is
/// the status code and the message the body text, truncated to 500 characters.
///
/// ```
/// use llmetry_instruments::providers::openai::parse_error_body;
///
/// let body = br#"{"object": "error", "message": "model not found", "type": "NotFoundError"}"#; // vLLM
/// let e = parse_error_body(404, body);
/// assert_eq!((e.error_type.as_str(), e.message.as_str()), ("NotFoundError", "model not found"));
/// ```
pub fn parse_error_body(status: u16, body: &[u8]) -> ProviderError {
    let status_text = status.to_string();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(e) = error_from_value(&v, &status_text) {
            return e;
        }
        for key in ["detail", "message"] {
            if let Some(s) = v.get(key).and_then(Value::as_str) {
                return ProviderError {
                    error_type: status_text,
                    message: s.to_owned(),
                };
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    ProviderError {
        message: if text.is_empty() {
            format!("HTTP {status}")
        } else {
            truncate_chars(text, 500)
        },
        error_type: status_text,
    }
}

// ---------------------------------------------------------------------------------------
// Requests.
// ---------------------------------------------------------------------------------------

/// Parts of a message `content`: a string, a list of content blocks (Chat and Responses
/// block types), or nothing.
fn content_parts(content: Option<&Value>) -> Vec<Value> {
    match content {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![text_part(s)],
        Some(Value::Array(blocks)) => blocks.iter().filter_map(block_part).collect(),
        Some(other) => block_part(other).into_iter().collect(),
    }
}

/// One content block as a part. Unknown block types are copied as they are
/// (`{"type": t, …rest}`), as the Python instrumentation does.
fn block_part(b: &Value) -> Option<Value> {
    if let Value::String(s) = b {
        return Some(text_part(s));
    }
    let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
    let part = match kind {
        "text" | "input_text" | "output_text" => {
            text_part(b.get("text").and_then(Value::as_str).unwrap_or(""))
        }
        "refusal" => refusal_part(b.get("refusal").and_then(Value::as_str).unwrap_or("")),
        "image_url" => {
            let url = b
                .pointer("/image_url/url")
                .or_else(|| b.get("image_url"))
                .and_then(Value::as_str)?;
            image_url_part(url)
        }
        "input_image" => match b.get("image_url").and_then(Value::as_str) {
            Some(url) => image_url_part(url),
            None => obj([
                ("type", "file".into()),
                ("modality", "image".into()),
                ("file_id", b.get("file_id").cloned().unwrap_or(Value::Null)),
            ]),
        },
        "input_audio" => {
            let data = b.pointer("/input_audio/data").and_then(Value::as_str)?;
            let mime = b
                .pointer("/input_audio/format")
                .and_then(Value::as_str)
                .map(|f| format!("audio/{f}"));
            blob_part("audio", mime.as_deref(), data)
        }
        _ => b.clone(),
    };
    Some(part)
}

fn chat_tool_call_part(tc: &Value) -> Value {
    let f = tc.get("function").or_else(|| tc.get("custom"));
    let args = f.and_then(|f| f.get("arguments").or_else(|| f.get("input")));
    tool_call_part(
        tc.get("id").and_then(Value::as_str),
        f.and_then(|f| f.get("name")).and_then(Value::as_str),
        parse_arguments(args),
    )
}

/// One Chat Completions request message.
fn chat_message(m: &Value) -> Message {
    let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
    match role {
        "tool" => message(
            "tool",
            vec![tool_response_part(
                m.get("tool_call_id").and_then(Value::as_str),
                tool_response_content(m.get("content")),
            )],
        ),
        // Legacy function results: named by the function, without a call id.
        "function" => message(
            "tool",
            vec![tool_response_part(
                None,
                tool_response_content(m.get("content")),
            )],
        ),
        _ => {
            let parts = chat_message_parts(m, content_parts(m.get("content")));
            message(role, parts)
        }
    }
}

/// `prompt` / `input` as user text messages: a string or an array of strings; token arrays
/// are left out (there is no text to record).
fn text_inputs(v: Option<&Value>) -> Vec<Message> {
    let one = |s: &str| message("user", vec![text_part(s)]);
    match v {
        Some(Value::String(s)) => vec![one(s)],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(one).collect(),
        _ => Vec::new(),
    }
}

fn is_assistant_side(item_type: &str, role: Option<&str>) -> bool {
    match item_type {
        "function_call" | "custom_tool_call" | "reasoning" => true,
        "message" => role == Some("assistant"),
        _ => false,
    }
}

fn reasoning_text(item: &Value) -> Option<String> {
    let mut texts = Vec::new();
    for key in ["summary", "content"] {
        for s in item
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = s
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                texts.push(t);
            }
        }
    }
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// Responses API `instructions` + `input`. Consecutive assistant-side items (assistant
/// messages, reasoning, function calls) form one assistant message, as one Chat turn would.
fn responses_input(body: &Value) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    if let Some(i) = str_at(body, "instructions") {
        out.push(message("system", vec![text_part(&i)]));
    }
    let items = match body.get("input") {
        Some(Value::String(s)) => {
            out.push(message("user", vec![text_part(s)]));
            return out;
        }
        Some(Value::Array(items)) => items,
        _ => return out,
    };
    let mut merging = false;
    for item in items {
        let role = item.get("role").and_then(Value::as_str);
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(if role.is_some() { "message" } else { "" });
        let parts = match kind {
            "message" => content_parts(item.get("content")),
            "function_call" => vec![tool_call_part(
                item.get("call_id").and_then(Value::as_str),
                item.get("name").and_then(Value::as_str),
                parse_arguments(item.get("arguments")),
            )],
            "custom_tool_call" => vec![tool_call_part(
                item.get("call_id").and_then(Value::as_str),
                item.get("name").and_then(Value::as_str),
                item.get("input").cloned().unwrap_or(Value::Null),
            )],
            "reasoning" => reasoning_text(item)
                .map(|t| vec![reasoning_part(&t)])
                .unwrap_or_default(),
            "function_call_output" | "custom_tool_call_output" => {
                merging = false;
                out.push(message(
                    "tool",
                    vec![tool_response_part(
                        item.get("call_id").and_then(Value::as_str),
                        tool_response_content(item.get("output")),
                    )],
                ));
                continue;
            }
            _ => continue,
        };
        if is_assistant_side(kind, role) {
            match out.last_mut() {
                Some(last) if merging => last.parts.extend(parts),
                _ => out.push(message("assistant", parts)),
            }
            merging = true;
        } else {
            merging = false;
            out.push(message(role.unwrap_or("user"), parts));
        }
    }
    out
}

fn tool_definitions(body: &Value) -> Vec<Value> {
    let mut defs = Vec::new();
    for t in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = t.get("type").and_then(Value::as_str).unwrap_or("function");
        if let Some(f) = t.get(kind).filter(|f| f.is_object()) {
            // Chat: {"type": "function", "function": {...}} (also "custom").
            defs.push(tool_definition(kind, f, "parameters"));
        } else if kind == "function" || kind == "custom" {
            // Responses: flat {"type": "function", "name", "description", "parameters"}.
            defs.push(tool_definition(kind, t, "parameters"));
        } else {
            // Built-in tools (`web_search`, `file_search`, …) as they are.
            defs.push(t.clone());
        }
    }
    for f in body
        .get("functions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        defs.push(tool_definition("function", f, "parameters"));
    }
    defs
}

/// Parses an OpenAI-compatible request body for `api`.
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::openai::parse_request;
/// use serde_json::json;
///
/// let req = parse_request(Api::OpenAiChat, &json!({
///     "model": "gpt-4o",
///     "messages": [{"role": "user", "content": "Disk usage of db-1?"}],
///     "tools": [{"type": "function", "function": {
///         "name": "disk_usage", "description": "Disk usage of a host",
///         "parameters": {"type": "object", "properties": {"host": {"type": "string"}}},
///     }}],
///     "response_format": {"type": "json_object"},
/// }));
/// assert_eq!(req.tool_definitions[0]["name"], "disk_usage");
/// assert_eq!(req.output_type.as_deref(), Some("json"));
/// ```
pub fn parse_request(api: Api, body: &Value) -> LlmRequest {
    let max_tokens = match api {
        Api::OpenAiResponses => int(body.get("max_output_tokens")),
        _ => int(body.get("max_completion_tokens")).or_else(|| int(body.get("max_tokens"))),
    };
    let format = match api {
        Api::OpenAiResponses => body.pointer("/text/format"),
        _ => body.get("response_format"),
    };
    let (output_type, structured_output_schema) = output_format(format);
    let input_messages = match api {
        Api::OpenAiChat => body
            .get("messages")
            .and_then(Value::as_array)
            .map(|ms| ms.iter().map(chat_message).collect())
            .unwrap_or_default(),
        Api::OpenAiCompletion => text_inputs(body.get("prompt")),
        Api::OpenAiEmbeddings => text_inputs(body.get("input")),
        Api::OpenAiResponses => responses_input(body),
        _ => Vec::new(),
    };
    LlmRequest {
        model: str_at(body, "model"),
        stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
        include_usage: body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        max_tokens,
        temperature: float(body.get("temperature")),
        top_p: float(body.get("top_p")),
        top_k: float(body.get("top_k")),
        frequency_penalty: float(body.get("frequency_penalty")),
        presence_penalty: float(body.get("presence_penalty")),
        seed: int(body.get("seed")),
        stop_sequences: string_list(body.get("stop")),
        choice_count: int(body.get("n")).filter(|&n| n != 1),
        encoding_formats: string_list(body.get("encoding_format")),
        user: str_at(body, "user"),
        reasoning_effort: str_at(body, "reasoning_effort")
            .or_else(|| body.get("reasoning").and_then(|r| str_at(r, "effort"))),
        structured_output_schema,
        output_type,
        input_messages,
        tool_definitions: tool_definitions(body),
    }
}

// ---------------------------------------------------------------------------------------
// Responses.
// ---------------------------------------------------------------------------------------

/// OpenAI finish reasons: `tool_calls` / `function_call` → `tool_call`, others unchanged.
///
/// ```
/// use llmetry_instruments::providers::openai::map_finish_reason;
/// assert_eq!(map_finish_reason("tool_calls"), "tool_call");
/// assert_eq!(map_finish_reason("length"), "length");
/// ```
pub fn map_finish_reason(reason: &str) -> String {
    match reason {
        "tool_calls" | "function_call" => "tool_call".to_owned(),
        other => other.to_owned(),
    }
}

/// Usage of any OpenAI-compatible shape: Chat/Completions (`prompt_tokens`,
/// `completion_tokens`, `prompt_tokens_details.cached_tokens`,
/// `completion_tokens_details.reasoning_tokens`), Responses (`input_tokens`,
/// `output_tokens`, `input_tokens_details.cached_tokens`,
/// `output_tokens_details.reasoning_tokens`), DeepSeek `prompt_cache_hit_tokens`.
fn usage_of(u: Option<&Value>) -> Usage {
    let Some(u) = u.filter(|u| u.is_object()) else {
        return Usage::default();
    };
    let first = |paths: &[&str]| paths.iter().find_map(|p| int(u.pointer(p)));
    with_total(Usage {
        input_tokens: first(&["/prompt_tokens", "/input_tokens"]),
        output_tokens: first(&["/completion_tokens", "/output_tokens"]),
        total_tokens: first(&["/total_tokens"]),
        cache_read_input_tokens: first(&[
            "/prompt_tokens_details/cached_tokens",
            "/input_tokens_details/cached_tokens",
            "/prompt_cache_hit_tokens",
        ]),
        cache_creation_input_tokens: None,
        reasoning_tokens: first(&[
            "/completion_tokens_details/reasoning_tokens",
            "/output_tokens_details/reasoning_tokens",
        ]),
    })
}

/// The parts of a chat message after its `content` parts: refusal, reasoning, tool calls
/// (and a legacy `function_call`). Shared by request and response messages.
fn chat_message_parts(m: &Value, mut parts: Vec<Value>) -> Vec<Value> {
    if let Some(r) = str_at(m, "refusal") {
        parts.push(refusal_part(&r));
    }
    for key in ["reasoning_content", "reasoning"] {
        if let Some(r) = str_at(m, key) {
            parts.push(reasoning_part(&r));
            break;
        }
    }
    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
        parts.extend(calls.iter().map(chat_tool_call_part));
    }
    if let Some(fc) = m.get("function_call").filter(|f| f.is_object()) {
        parts.push(tool_call_part(
            None,
            fc.get("name").and_then(Value::as_str),
            parse_arguments(fc.get("arguments")),
        ));
    }
    parts
}

fn chat_output_message(choice: &Value, api: Api) -> Option<Message> {
    let parts = if api == Api::OpenAiCompletion {
        let text = choice.get("text").and_then(Value::as_str)?;
        vec![text_part(text)]
    } else {
        let m = choice.get("message").filter(|m| m.is_object())?;
        let text = content_parts(m.get("content"))
            .into_iter()
            .filter(|p| p.get("content") != Some(&Value::String(String::new())))
            .collect();
        chat_message_parts(m, text)
    };
    let role = choice
        .pointer("/message/role")
        .and_then(Value::as_str)
        .unwrap_or("assistant");
    Some(Message {
        role: role.to_owned(),
        parts,
        finish_reason: choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(map_finish_reason),
    })
}

fn responses_output(body: &Value, r: &mut LlmResponse) {
    let output = body.get("output").and_then(Value::as_array);
    let mut parts = Vec::new();
    let mut has_tool_call = false;
    for item in output.into_iter().flatten() {
        match item.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => parts.extend(content_parts(item.get("content"))),
            "function_call" => {
                has_tool_call = true;
                parts.push(tool_call_part(
                    item.get("call_id").and_then(Value::as_str),
                    item.get("name").and_then(Value::as_str),
                    parse_arguments(item.get("arguments")),
                ));
            }
            "custom_tool_call" => {
                has_tool_call = true;
                parts.push(tool_call_part(
                    item.get("call_id").and_then(Value::as_str),
                    item.get("name").and_then(Value::as_str),
                    item.get("input").cloned().unwrap_or(Value::Null),
                ));
            }
            "reasoning" => {
                if let Some(t) = reasoning_text(item) {
                    parts.push(reasoning_part(&t));
                }
            }
            _ => {}
        }
    }
    let finish = match body.get("status").and_then(Value::as_str) {
        Some("completed") if has_tool_call => Some("tool_call".to_owned()),
        Some("completed") => Some("stop".to_owned()),
        Some("incomplete") => Some(
            match body
                .pointer("/incomplete_details/reason")
                .and_then(Value::as_str)
            {
                Some("max_output_tokens") | None => "length".to_owned(),
                Some(other) => other.to_owned(),
            },
        ),
        Some("failed") => Some("error".to_owned()),
        Some("cancelled") => Some("cancelled".to_owned()),
        _ => None,
    };
    if !parts.is_empty() || finish.is_some() {
        r.choice_count = 1;
        r.finish_reasons.extend(finish.clone());
        r.output_messages.push(Message {
            role: "assistant".to_owned(),
            parts,
            finish_reason: finish,
        });
    }
}

/// Parses a complete OpenAI-compatible response body for `api`.
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::openai::parse_response;
/// use serde_json::json;
///
/// let resp = parse_response(Api::OpenAiChat, &json!({
///     "id": "chatcmpl-1",
///     "model": "gpt-4o-2024-08-06",
///     "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
///         "role": "assistant", "content": null,
///         "tool_calls": [{"id": "call_1", "type": "function",
///             "function": {"name": "disk_usage", "arguments": "{\"host\": \"db-1\"}"}}],
///     }}],
///     "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62,
///               "completion_tokens_details": {"reasoning_tokens": 0}},
/// }));
/// assert_eq!(resp.finish_reasons, ["tool_call"]);
/// let call = &resp.output_messages[0].parts[0];
/// assert_eq!((&call["type"], &call["name"]), (&json!("tool_call"), &json!("disk_usage")));
/// assert_eq!(call["arguments"], json!({"host": "db-1"})); // parsed from the JSON string
/// assert_eq!(resp.usage.reasoning_tokens, Some(0));
/// ```
pub fn parse_response(api: Api, body: &Value) -> LlmResponse {
    let mut r = LlmResponse {
        id: str_at(body, "id"),
        model: str_at(body, "model"),
        usage: usage_of(body.get("usage")),
        error: body
            .get("error")
            .filter(|e| !e.is_null())
            .and_then(|_| error_from_value(body, DEFAULT_ERROR_TYPE)),
        ..LlmResponse::default()
    };
    match api {
        Api::OpenAiEmbeddings => {
            r.embedding_dimensions = body
                .pointer("/data/0/embedding")
                .and_then(Value::as_array)
                .map(Vec::len);
        }
        Api::OpenAiResponses => responses_output(body, &mut r),
        _ => {
            let choices = body.get("choices").and_then(Value::as_array);
            for choice in choices.into_iter().flatten() {
                r.choice_count += 1;
                if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
                    r.finish_reasons.push(map_finish_reason(f));
                }
                if let Some(m) = chat_output_message(choice, api) {
                    r.output_messages.push(m);
                }
            }
        }
    }
    r
}

// ---------------------------------------------------------------------------------------
// Streaming.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct ToolCallAcc {
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    arguments: String,
}

#[derive(Debug, Default)]
struct ChoiceAcc {
    role: Option<String>,
    content: Option<String>,
    refusal: String,
    reasoning: String,
    tool_calls: BTreeMap<i64, ToolCallAcc>,
    function_call: Option<ToolCallAcc>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default)]
struct ItemAcc {
    /// The item from `response.output_item.added`, replaced by `response.output_item.done`.
    item: Option<Value>,
    done: bool,
    text: String,
    refusal: String,
    arguments: String,
    reasoning: String,
}

impl ItemAcc {
    fn to_item(&self, default_type: &str) -> Value {
        let mut item = match &self.item {
            Some(Value::Object(o)) => o.clone(),
            _ => {
                let mut m = Map::new();
                m.insert("type".into(), default_type.into());
                m
            }
        };
        if self.done {
            return Value::Object(item);
        }
        match item.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => {
                let mut content = Vec::new();
                if !self.text.is_empty() {
                    content.push(obj([
                        ("type", "output_text".into()),
                        ("text", self.text.as_str().into()),
                    ]));
                }
                if !self.refusal.is_empty() {
                    content.push(obj([
                        ("type", "refusal".into()),
                        ("refusal", self.refusal.as_str().into()),
                    ]));
                }
                item.insert("content".into(), Value::Array(content));
            }
            "function_call" => {
                item.insert("arguments".into(), self.arguments.as_str().into());
            }
            "reasoning" => {
                item.insert(
                    "summary".into(),
                    Value::Array(vec![obj([
                        ("type", "summary_text".into()),
                        ("text", self.reasoning.as_str().into()),
                    ])]),
                );
            }
            _ => {}
        }
        Value::Object(item)
    }
}

/// Accumulates a streamed OpenAI-compatible response: Chat Completions chunks, legacy
/// Completions chunks, or Responses API events.
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::openai::StreamAccumulator;
///
/// let mut acc = StreamAccumulator::new(Api::OpenAiResponses);
/// acc.push(Some("response.output_text.delta"), r#"{"type": "response.output_text.delta", "delta": "Hi"}"#)?;
/// let end = acc.push(Some("response.completed"), r#"{"type": "response.completed", "response": {
///     "id": "resp_1", "model": "gpt-4.1", "status": "completed",
///     "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]}],
///     "usage": {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}}}"#)?;
/// assert!(end.done);
/// assert_eq!(acc.response().usage.total_tokens, Some(6));
/// # Ok::<(), llmetry_instruments::model::ProviderError>(())
/// ```
#[derive(Debug)]
pub struct StreamAccumulator {
    api: Api,
    id: Option<String>,
    model: Option<String>,
    usage: Option<Value>,
    choices: BTreeMap<i64, ChoiceAcc>,
    saw_token: bool,
    done: bool,
    // Responses API.
    status: Option<String>,
    items: BTreeMap<i64, ItemAcc>,
    completed: Option<Value>,
}

impl StreamAccumulator {
    /// A new accumulator for `api` (Chat, Completions or Responses).
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::openai::StreamAccumulator};
    /// let acc = StreamAccumulator::new(Api::OpenAiCompletion);
    /// assert!(acc.response().output_messages.is_empty());
    /// ```
    pub fn new(api: Api) -> Self {
        Self {
            api,
            id: None,
            model: None,
            usage: None,
            choices: BTreeMap::new(),
            saw_token: false,
            done: false,
            status: None,
            items: BTreeMap::new(),
            completed: None,
        }
    }

    /// Feeds one SSE event (`event` name, `data` text). `[DONE]` completes the stream; an
    /// error chunk or event returns `Err`. Data that is not JSON is ignored.
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::openai::StreamAccumulator};
    ///
    /// let mut acc = StreamAccumulator::new(Api::OpenAiChat);
    /// let err = acc.push(None, r#"{"error": {"message": "Internal error", "type": "server_error"}}"#);
    /// assert_eq!(err.map_err(|e| e.error_type), Err("server_error".to_owned()));
    /// assert!(acc.push(None, "[DONE]").is_ok_and(|p| p.done));
    /// ```
    pub fn push(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<StreamProgress, ProviderError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(StreamProgress {
                first_token: false,
                done: true,
            });
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            if event == Some("error") && !data.is_empty() {
                return Err(ProviderError {
                    error_type: DEFAULT_ERROR_TYPE.to_owned(),
                    message: data.to_owned(),
                });
            }
            return Ok(StreamProgress::default());
        };
        let token = match self.api {
            Api::OpenAiResponses => self.push_responses(event, &v)?,
            _ => self.push_chunk(event, &v)?,
        };
        let first_token = token && !self.saw_token;
        self.saw_token |= token;
        Ok(StreamProgress {
            first_token,
            done: self.done,
        })
    }

    fn set_id_model(&mut self, v: &Value) {
        if let Some(id) = str_at(v, "id") {
            self.id = Some(id);
        }
        if let Some(m) = str_at(v, "model") {
            self.model = Some(m);
        }
    }

    /// A Chat or Completions chunk; returns whether it carried generated content.
    fn push_chunk(&mut self, event: Option<&str>, v: &Value) -> Result<bool, ProviderError> {
        if event == Some("error") || v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(
                error_from_value(v, DEFAULT_ERROR_TYPE).unwrap_or_else(|| ProviderError {
                    error_type: DEFAULT_ERROR_TYPE.to_owned(),
                    message: v.to_string(),
                }),
            );
        }
        self.set_id_model(v);
        // `usage` (OpenAI, with `include_usage`: `null` until the final chunk), Groq's
        // `x_groq.usage`, Moonshot-style `choices[0].usage`.
        let usage = [
            v.get("usage"),
            v.pointer("/x_groq/usage"),
            v.pointer("/choices/0/usage"),
        ]
        .into_iter()
        .flatten()
        .find(|u| u.is_object());
        if let Some(u) = usage {
            self.usage = Some(u.clone());
        }
        let mut token = false;
        let choices = v.get("choices").and_then(Value::as_array);
        for (pos, c) in choices.into_iter().flatten().enumerate() {
            let index = int(c.get("index")).unwrap_or(pos as i64);
            let acc = self.choices.entry(index).or_default();
            let delta = c.get("delta").unwrap_or(c);
            if let Some(r) = str_at(delta, "role") {
                acc.role = Some(r);
            }
            // `delta.content` (Chat) or `text` (legacy Completions).
            let text = delta
                .get("content")
                .or_else(|| c.get("text"))
                .and_then(Value::as_str);
            if let Some(t) = text {
                acc.content.get_or_insert_with(String::new).push_str(t);
                token |= !t.is_empty();
            }
            if let Some(r) = str_at(delta, "refusal") {
                acc.refusal.push_str(&r);
                token = true;
            }
            if let Some(r) =
                str_at(delta, "reasoning_content").or_else(|| str_at(delta, "reasoning"))
            {
                acc.reasoning.push_str(&r);
                token = true;
            }
            let calls = delta.get("tool_calls").and_then(Value::as_array);
            for (tpos, tc) in calls.into_iter().flatten().enumerate() {
                token = true;
                let tindex = int(tc.get("index")).unwrap_or(tpos as i64);
                let t = acc.tool_calls.entry(tindex).or_default();
                merge_tool_delta(t, tc);
            }
            if let Some(fc) = delta.get("function_call").filter(|f| f.is_object()) {
                token = true;
                let t = acc.function_call.get_or_insert_with(ToolCallAcc::default);
                if let Some(n) = str_at(fc, "name") {
                    t.name = Some(n);
                }
                if let Some(a) = fc.get("arguments").and_then(Value::as_str) {
                    t.arguments.push_str(a);
                }
            }
            if let Some(f) = str_at(c, "finish_reason") {
                acc.finish_reason = Some(f);
            }
        }
        Ok(token)
    }

    /// A Responses API event; returns whether it carried generated content.
    fn push_responses(&mut self, event: Option<&str>, v: &Value) -> Result<bool, ProviderError> {
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(event)
            .unwrap_or("");
        let index = int(v.get("output_index")).unwrap_or(0);
        let delta = v.get("delta").and_then(Value::as_str).unwrap_or("");
        match kind {
            "response.created" | "response.in_progress" | "response.queued" => {
                if let Some(resp) = v.get("response") {
                    self.set_id_model(resp);
                    self.status = str_at(resp, "status");
                }
            }
            "response.output_item.added" => {
                let acc = self.items.entry(index).or_default();
                acc.item = v.get("item").cloned();
            }
            "response.output_item.done" => {
                let acc = self.items.entry(index).or_default();
                acc.item = v.get("item").cloned();
                acc.done = true;
            }
            "response.output_text.delta" => {
                self.items.entry(index).or_default().text.push_str(delta);
                return Ok(!delta.is_empty());
            }
            "response.refusal.delta" => {
                self.items.entry(index).or_default().refusal.push_str(delta);
                return Ok(!delta.is_empty());
            }
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
                self.items
                    .entry(index)
                    .or_default()
                    .arguments
                    .push_str(delta);
                return Ok(true);
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                self.items
                    .entry(index)
                    .or_default()
                    .reasoning
                    .push_str(delta);
                return Ok(!delta.is_empty());
            }
            "response.completed" | "response.incomplete" => {
                self.completed = v.get("response").cloned();
                self.done = true;
            }
            "response.failed" => {
                self.completed = v.get("response").cloned();
                self.done = true;
                let err = v
                    .pointer("/response/error")
                    .filter(|e| e.is_object())
                    .map(|e| error_fields(e, DEFAULT_ERROR_TYPE))
                    .unwrap_or_else(|| ProviderError {
                        error_type: DEFAULT_ERROR_TYPE.to_owned(),
                        message: "response failed".to_owned(),
                    });
                return Err(err);
            }
            "error" => {
                return Err(error_from_value(v, DEFAULT_ERROR_TYPE).unwrap_or_else(|| {
                    ProviderError {
                        error_type: DEFAULT_ERROR_TYPE.to_owned(),
                        message: v.to_string(),
                    }
                }));
            }
            _ => {}
        }
        Ok(false)
    }

    fn chat_body(&self) -> Value {
        let choices = self
            .choices
            .iter()
            .map(|(index, c)| {
                if self.api == Api::OpenAiCompletion {
                    return obj([
                        ("index", (*index).into()),
                        ("text", opt_str(c.content.as_deref())),
                        ("finish_reason", opt_str(c.finish_reason.as_deref())),
                    ]);
                }
                let tool_calls: Vec<Value> = c
                    .tool_calls
                    .values()
                    .map(|t| {
                        obj([
                            ("id", opt_str(t.id.as_deref())),
                            ("type", opt_str(t.kind.as_deref().or(Some("function")))),
                            (
                                "function",
                                obj([
                                    ("name", opt_str(t.name.as_deref())),
                                    ("arguments", t.arguments.as_str().into()),
                                ]),
                            ),
                        ])
                    })
                    .collect();
                let nonempty = |s: &str| {
                    if s.is_empty() {
                        Value::Null
                    } else {
                        Value::from(s)
                    }
                };
                let message = obj([
                    ("role", opt_str(c.role.as_deref().or(Some("assistant")))),
                    ("content", opt_str(c.content.as_deref())),
                    ("refusal", nonempty(&c.refusal)),
                    ("reasoning_content", nonempty(&c.reasoning)),
                    (
                        "tool_calls",
                        if tool_calls.is_empty() {
                            Value::Null
                        } else {
                            Value::Array(tool_calls)
                        },
                    ),
                    (
                        "function_call",
                        c.function_call
                            .as_ref()
                            .map(|f| {
                                obj([
                                    ("name", opt_str(f.name.as_deref())),
                                    ("arguments", f.arguments.as_str().into()),
                                ])
                            })
                            .unwrap_or(Value::Null),
                    ),
                ]);
                obj([
                    ("index", (*index).into()),
                    ("message", message),
                    ("finish_reason", opt_str(c.finish_reason.as_deref())),
                ])
            })
            .collect();
        obj([
            ("id", opt_str(self.id.as_deref())),
            ("model", opt_str(self.model.as_deref())),
            ("choices", Value::Array(choices)),
            ("usage", self.usage.clone().unwrap_or(Value::Null)),
        ])
    }

    fn responses_body(&self) -> Value {
        if let Some(done) = &self.completed {
            let mut done = done.clone();
            if let Value::Object(o) = &mut done {
                if !o.contains_key("id") {
                    o.insert("id".into(), opt_str(self.id.as_deref()));
                }
                if !o.contains_key("model") {
                    o.insert("model".into(), opt_str(self.model.as_deref()));
                }
            }
            return done;
        }
        let output = self
            .items
            .values()
            .map(|it| {
                let default_type = if !it.arguments.is_empty() {
                    "function_call"
                } else if !it.reasoning.is_empty() {
                    "reasoning"
                } else {
                    "message"
                };
                it.to_item(default_type)
            })
            .collect();
        obj([
            ("id", opt_str(self.id.as_deref())),
            ("model", opt_str(self.model.as_deref())),
            ("status", opt_str(self.status.as_deref())),
            ("output", Value::Array(output)),
        ])
    }

    /// What was accumulated so far (the full response once the stream is complete).
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::openai::StreamAccumulator};
    ///
    /// let mut acc = StreamAccumulator::new(Api::OpenAiChat);
    /// acc.push(None, r#"{"model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "Hel"}}]}"#)?;
    /// acc.push(None, r#"{"model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "lo"}}]}"#)?;
    /// let so_far = acc.response(); // e.g. when the consumer dropped the stream here
    /// assert_eq!(so_far.model.as_deref(), Some("gpt-4o"));
    /// assert_eq!(so_far.output_messages[0].parts[0]["content"], "Hello");
    /// # Ok::<(), llmetry_instruments::model::ProviderError>(())
    /// ```
    pub fn response(&self) -> LlmResponse {
        match self.api {
            Api::OpenAiResponses => parse_response(self.api, &self.responses_body()),
            _ => parse_response(self.api, &self.chat_body()),
        }
    }
}

fn merge_tool_delta(t: &mut ToolCallAcc, tc: &Value) {
    if let Some(id) = str_at(tc, "id") {
        t.id = Some(id);
    }
    if let Some(k) = str_at(tc, "type") {
        t.kind = Some(k);
    }
    if let Some(f) = tc.get("function") {
        if let Some(n) = str_at(f, "name") {
            t.name = Some(n);
        }
        if let Some(a) = f.get("arguments").and_then(Value::as_str) {
            t.arguments.push_str(a);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    /// Compares JSON by value, not by key order (a dependency enabling serde_json's
    /// `preserve_order` must not break these tests).
    fn parsed(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
    }
    use crate::providers::stream::SseDecoder;

    fn msgs(ms: &[Message]) -> Value {
        Value::Array(ms.iter().map(Message::to_json).collect())
    }

    /// Feeds an SSE body through the decoder and the accumulator.
    fn run_sse(
        api: Api,
        body: &str,
    ) -> (
        StreamAccumulator,
        Vec<Result<StreamProgress, ProviderError>>,
    ) {
        let mut dec = SseDecoder::new();
        let mut acc = StreamAccumulator::new(api);
        let mut events = Vec::new();
        for chunk in body.as_bytes().chunks(7) {
            events.extend(dec.push(chunk));
        }
        events.extend(dec.finish());
        let progress = events
            .iter()
            .map(|e| acc.push(e.event.as_deref(), &e.data))
            .collect();
        (acc, progress)
    }

    #[test]
    fn chat_request_with_text_and_image_parts() {
        let body = json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What's in these images?"},
                    {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/boardwalk.jpg", "detail": "high"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}},
                    {"type": "input_audio", "input_audio": {"data": "UklGRiQ=", "format": "wav"}},
                    {"type": "file", "file": {"file_id": "file-abc"}}
                ]}
            ],
            "max_completion_tokens": 300,
            "max_tokens": 10,
            "temperature": 0.2,
            "top_p": 0.9,
            "frequency_penalty": 0.5,
            "presence_penalty": -0.5,
            "seed": 42,
            "stop": "\n\n",
            "n": 2,
            "user": "user-1234",
            "reasoning_effort": "low",
            "stream": true,
            "stream_options": {"include_usage": true},
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "strict": true,
                    "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
                }
            }
        });
        let r = parse_request(Api::OpenAiChat, &body);
        assert_eq!(r.model.as_deref(), Some("gpt-4o"));
        assert!(r.stream);
        assert!(r.include_usage);
        assert_eq!(r.max_tokens, Some(300));
        assert_eq!(r.temperature, Some(0.2));
        assert_eq!(r.top_p, Some(0.9));
        assert_eq!(r.frequency_penalty, Some(0.5));
        assert_eq!(r.presence_penalty, Some(-0.5));
        assert_eq!(r.seed, Some(42));
        assert_eq!(r.stop_sequences, vec!["\n\n".to_owned()]);
        assert_eq!(r.choice_count, Some(2));
        assert_eq!(r.user.as_deref(), Some("user-1234"));
        assert_eq!(r.reasoning_effort.as_deref(), Some("low"));
        assert_eq!(r.output_type.as_deref(), Some("json"));
        assert_eq!(
            r.structured_output_schema.as_deref().map(parsed),
            Some(parsed(
                r#"{"properties":{"answer":{"type":"string"}},"required":["answer"],"type":"object"}"#
            ))
        );
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant."}]},
                {"role": "user", "parts": [
                    {"type": "text", "content": "What's in these images?"},
                    {"type": "uri", "modality": "image", "uri": "https://upload.wikimedia.org/boardwalk.jpg"},
                    {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgoAAAANSUhEUg=="},
                    {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "content": "UklGRiQ="},
                    {"type": "file", "file": {"file_id": "file-abc"}}
                ]}
            ])
        );
        assert!(r.tool_definitions.is_empty());
    }

    #[test]
    fn chat_request_defaults() {
        let r = parse_request(
            Api::OpenAiChat,
            &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "n": 1, "stop": ["END", "STOP"], "max_tokens": 50.0}),
        );
        assert!(!r.stream);
        assert!(!r.include_usage);
        assert_eq!(r.choice_count, None);
        assert_eq!(r.max_tokens, Some(50));
        assert_eq!(r.stop_sequences, vec!["END".to_owned(), "STOP".to_owned()]);
        assert_eq!(r.output_type, None);
        assert_eq!(
            msgs(&r.input_messages),
            json!([{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}])
        );
    }

    #[test]
    fn tools_round_trip() {
        let tools = json!([{
            "type": "function",
            "function": {
                "name": "get_current_weather",
                "description": "Get the current weather in a given location",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                    "required": ["location"]
                },
                "strict": true
            }
        }]);
        let first = json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "What's the weather like in Boston and Paris today?"}],
            "tools": tools,
            "tool_choice": "auto"
        });
        let r = parse_request(Api::OpenAiChat, &first);
        assert_eq!(
            Value::Array(r.tool_definitions.clone()),
            json!([{
                "type": "function",
                "name": "get_current_weather",
                "description": "Get the current weather in a given location",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                    "required": ["location"]
                }
            }])
        );

        let response = json!({
            "id": "chatcmpl-abc123",
            "object": "chat.completion",
            "created": 1699896916,
            "model": "gpt-4o-2024-08-06",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [
                        {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}},
                        {"id": "call_def456", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\"location\": \"Paris\""}}
                    ],
                    "refusal": null
                },
                "logprobs": null,
                "finish_reason": "tool_calls"
            }],
            "usage": {
                "prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
            },
            "system_fingerprint": "fp_6b68a8204b"
        });
        let resp = parse_response(Api::OpenAiChat, &response);
        assert_eq!(resp.id.as_deref(), Some("chatcmpl-abc123"));
        assert_eq!(resp.model.as_deref(), Some("gpt-4o-2024-08-06"));
        assert_eq!(resp.finish_reasons, vec!["tool_call".to_owned()]);
        assert_eq!(resp.choice_count, 1);
        assert_eq!(
            msgs(&resp.output_messages),
            json!([{
                "role": "assistant",
                "parts": [
                    {"type": "tool_call", "id": "call_abc123", "name": "get_current_weather", "arguments": {"location": "Boston, MA"}},
                    // Invalid JSON arguments stay a raw string.
                    {"type": "tool_call", "id": "call_def456", "name": "get_current_weather", "arguments": "{\"location\": \"Paris\""}
                ],
                "finish_reason": "tool_call"
            }])
        );
        assert_eq!(
            resp.usage,
            Usage {
                input_tokens: Some(82),
                output_tokens: Some(17),
                total_tokens: Some(99),
                cache_read_input_tokens: Some(0),
                cache_creation_input_tokens: None,
                reasoning_tokens: Some(0),
            }
        );
        assert_eq!(resp.error, None);

        let second = json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "content": "What's the weather like in Boston today?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\"location\": \"Boston, MA\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_abc123", "content": "{\"temperature\": 22, \"unit\": \"celsius\"}"},
                {"role": "tool", "tool_call_id": "call_x", "content": [{"type": "text", "text": "sunny"}, {"type": "text", "text": ", 25C"}]}
            ],
            "tools": tools
        });
        let r2 = parse_request(Api::OpenAiChat, &second);
        assert_eq!(
            msgs(&r2.input_messages),
            json!([
                {"role": "user", "parts": [{"type": "text", "content": "What's the weather like in Boston today?"}]},
                {"role": "assistant", "parts": [
                    {"type": "tool_call", "id": "call_abc123", "name": "get_current_weather", "arguments": {"location": "Boston, MA"}}
                ]},
                {"role": "tool", "parts": [
                    {"type": "tool_call_response", "id": "call_abc123", "response": "{\"temperature\": 22, \"unit\": \"celsius\"}"}
                ]},
                {"role": "tool", "parts": [
                    {"type": "tool_call_response", "id": "call_x", "response": "sunny, 25C"}
                ]}
            ])
        );
        assert_eq!(r2.tool_definitions.len(), 1);
    }

    #[test]
    fn legacy_functions_and_function_call() {
        let req = json!({
            "model": "gpt-3.5-turbo-0613",
            "messages": [
                {"role": "assistant", "content": null, "function_call": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}},
                {"role": "function", "name": "lookup", "content": "42"}
            ],
            "functions": [{"name": "lookup", "description": "Look up", "parameters": {"type": "object"}}]
        });
        let r = parse_request(Api::OpenAiChat, &req);
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "assistant", "parts": [{"type": "tool_call", "name": "lookup", "arguments": {"q": "x"}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "response": "42"}]}
            ])
        );
        assert_eq!(
            Value::Array(r.tool_definitions),
            json!([{"type": "function", "name": "lookup", "description": "Look up", "parameters": {"type": "object"}}])
        );
        let resp = parse_response(
            Api::OpenAiChat,
            &json!({"id": "c", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "function_call": {"name": "lookup", "arguments": "{}"}}, "finish_reason": "function_call"}]}),
        );
        assert_eq!(resp.finish_reasons, vec!["tool_call".to_owned()]);
        assert_eq!(
            msgs(&resp.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "tool_call", "name": "lookup", "arguments": {}}], "finish_reason": "tool_call"}])
        );
    }

    #[test]
    fn refusal_and_multiple_choices() {
        let response = json!({
            "id": "chatcmpl-9nYAG9LPNonX8DAyrkwYfemr3C8HC",
            "object": "chat.completion",
            "created": 1721596428,
            "model": "gpt-4o-2024-08-06",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": null, "refusal": "I'm sorry, I cannot assist with that request."}, "logprobs": null, "finish_reason": "stop"},
                {"index": 1, "message": {"role": "assistant", "content": "Here you go.", "refusal": null}, "logprobs": null, "finish_reason": "length"},
                {"index": 2, "message": {"role": "assistant", "content": ""}, "finish_reason": "content_filter"}
            ],
            "usage": {"prompt_tokens": 81, "completion_tokens": 11, "total_tokens": 92}
        });
        let r = parse_response(Api::OpenAiChat, &response);
        assert_eq!(r.choice_count, 3);
        assert_eq!(r.finish_reasons, vec!["stop", "length", "content_filter"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([
                {"role": "assistant", "parts": [{"type": "refusal", "content": "I'm sorry, I cannot assist with that request."}], "finish_reason": "stop"},
                {"role": "assistant", "parts": [{"type": "text", "content": "Here you go."}], "finish_reason": "length"},
                {"role": "assistant", "parts": [], "finish_reason": "content_filter"}
            ])
        );
        assert_eq!(r.usage.cache_read_input_tokens, None);
        assert_eq!(r.usage.total_tokens, Some(92));
    }

    #[test]
    fn reasoning_content_in_response() {
        let r = parse_response(
            Api::OpenAiChat,
            &json!({
                "id": "930c60df", "object": "chat.completion", "model": "deepseek-reasoner",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "9.11 < 9.8", "reasoning_content": "Compare decimals..."}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 20, "prompt_cache_hit_tokens": 4, "completion_tokens_details": {"reasoning_tokens": 15}}
            }),
        );
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "text", "content": "9.11 < 9.8"},
                {"type": "reasoning", "content": "Compare decimals..."}
            ], "finish_reason": "stop"}])
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: Some(10),
                output_tokens: Some(20),
                total_tokens: Some(30),
                cache_read_input_tokens: Some(4),
                cache_creation_input_tokens: None,
                reasoning_tokens: Some(15),
            }
        );
    }

    #[test]
    fn legacy_completion() {
        let req = json!({
            "model": "gpt-3.5-turbo-instruct",
            "prompt": ["Say this is a test", "Say hi"],
            "max_tokens": 7,
            "temperature": 0,
            "echo": false
        });
        let r = parse_request(Api::OpenAiCompletion, &req);
        assert_eq!(r.max_tokens, Some(7));
        assert_eq!(r.temperature, Some(0.0));
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "user", "parts": [{"type": "text", "content": "Say this is a test"}]},
                {"role": "user", "parts": [{"type": "text", "content": "Say hi"}]}
            ])
        );
        let single = parse_request(
            Api::OpenAiCompletion,
            &json!({"model": "m", "prompt": "Once upon"}),
        );
        assert_eq!(single.input_messages.len(), 1);
        let tokens = parse_request(
            Api::OpenAiCompletion,
            &json!({"model": "m", "prompt": [1212, 318]}),
        );
        assert!(tokens.input_messages.is_empty());

        let resp = json!({
            "id": "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7",
            "object": "text_completion",
            "created": 1589478378,
            "model": "gpt-3.5-turbo-instruct",
            "system_fingerprint": "fp_44709d6fcb",
            "choices": [{"text": "\n\nThis is indeed a test", "index": 0, "logprobs": null, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
        });
        let r = parse_response(Api::OpenAiCompletion, &resp);
        assert_eq!(r.id.as_deref(), Some("cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7"));
        assert_eq!(r.finish_reasons, vec!["length"]);
        assert_eq!(r.choice_count, 1);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "\n\nThis is indeed a test"}], "finish_reason": "length"}])
        );
        assert_eq!(r.usage.total_tokens, Some(12));
    }

    #[test]
    fn legacy_completion_streaming() {
        let sse = "data: {\"id\":\"cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe\",\"object\":\"text_completion\",\"created\":1690759702,\"choices\":[{\"text\":\"This\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}],\"model\":\"gpt-3.5-turbo-instruct\"}\n\n\
            data: {\"id\":\"cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe\",\"object\":\"text_completion\",\"created\":1690759702,\"choices\":[{\"text\":\" is a test.\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}],\"model\":\"gpt-3.5-turbo-instruct\"}\n\n\
            data: [DONE]\n\n";
        let (acc, progress) = run_sse(Api::OpenAiCompletion, sse);
        let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
        assert!(progress[0].first_token);
        assert!(!progress[1].first_token);
        assert!(progress[2].done);
        let r = acc.response();
        assert_eq!(r.model.as_deref(), Some("gpt-3.5-turbo-instruct"));
        assert_eq!(r.finish_reasons, vec!["stop"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "This is a test."}], "finish_reason": "stop"}])
        );
        assert_eq!(r.usage, Usage::default());
    }

    #[test]
    fn embeddings() {
        let r = parse_request(
            Api::OpenAiEmbeddings,
            &json!({"model": "text-embedding-3-small", "input": ["The food was delicious", "and the waiter..."], "encoding_format": "float", "dimensions": 3}),
        );
        assert_eq!(r.encoding_formats, vec!["float".to_owned()]);
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "user", "parts": [{"type": "text", "content": "The food was delicious"}]},
                {"role": "user", "parts": [{"type": "text", "content": "and the waiter..."}]}
            ])
        );
        let one = parse_request(
            Api::OpenAiEmbeddings,
            &json!({"model": "m", "input": "hello"}),
        );
        assert_eq!(one.input_messages.len(), 1);
        let toks = parse_request(
            Api::OpenAiEmbeddings,
            &json!({"model": "m", "input": [[1, 2], [3]]}),
        );
        assert!(toks.input_messages.is_empty());

        let resp = json!({
            "object": "list",
            "data": [
                {"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, -0.0028842222]},
                {"object": "embedding", "index": 1, "embedding": [0.1, 0.2, 0.3]}
            ],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 8, "total_tokens": 8}
        });
        let r = parse_response(Api::OpenAiEmbeddings, &resp);
        assert_eq!(r.embedding_dimensions, Some(3));
        assert_eq!(r.model.as_deref(), Some("text-embedding-3-small"));
        assert_eq!(r.usage.input_tokens, Some(8));
        assert_eq!(r.usage.output_tokens, None);
        assert_eq!(r.usage.total_tokens, Some(8));
        assert!(r.output_messages.is_empty());
        let b64 = parse_response(
            Api::OpenAiEmbeddings,
            &json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": "AAAAAA=="}], "model": "m", "usage": {"prompt_tokens": 2}}),
        );
        assert_eq!(b64.embedding_dimensions, None);
        assert_eq!(b64.usage.total_tokens, Some(2));
    }

    #[test]
    fn responses_request() {
        let body = json!({
            "model": "o4-mini",
            "instructions": "Talk like a pirate.",
            "input": [
                {"role": "user", "content": "What is the weather in Paris?"},
                {"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": "And this image?"},
                    {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto"},
                    {"type": "input_image", "file_id": "file-123"}
                ]},
                {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need the weather tool."}]},
                {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "15°C, cloudy"},
                {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed", "content": [{"type": "output_text", "text": "Arr, 15°C.", "annotations": []}]},
                {"type": "item_reference", "id": "msg_0"}
            ],
            "tools": [
                {"type": "function", "name": "get_weather", "description": "Weather by city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true},
                {"type": "web_search_preview"}
            ],
            "max_output_tokens": 1024,
            "reasoning": {"effort": "medium", "summary": "auto"},
            "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}},
            "temperature": 1,
            "user": "u-1",
            "stream": true
        });
        let r = parse_request(Api::OpenAiResponses, &body);
        assert_eq!(r.model.as_deref(), Some("o4-mini"));
        assert!(r.stream);
        assert_eq!(r.max_tokens, Some(1024));
        assert_eq!(r.reasoning_effort.as_deref(), Some("medium"));
        assert_eq!(r.output_type.as_deref(), Some("json"));
        assert_eq!(
            r.structured_output_schema.as_deref().map(parsed),
            Some(parsed(r#"{"type":"object"}"#))
        );
        assert_eq!(r.user.as_deref(), Some("u-1"));
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "Talk like a pirate."}]},
                {"role": "user", "parts": [{"type": "text", "content": "What is the weather in Paris?"}]},
                {"role": "user", "parts": [
                    {"type": "text", "content": "And this image?"},
                    {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "content": "/9j/4AAQ"},
                    {"type": "file", "modality": "image", "file_id": "file-123"}
                ]},
                {"role": "assistant", "parts": [
                    {"type": "reasoning", "content": "Need the weather tool."},
                    {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
                ]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "15°C, cloudy"}]},
                {"role": "assistant", "parts": [{"type": "text", "content": "Arr, 15°C."}]}
            ])
        );
        assert_eq!(
            Value::Array(r.tool_definitions),
            json!([
                {"type": "function", "name": "get_weather", "description": "Weather by city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
                {"type": "web_search_preview"}
            ])
        );
        let simple = parse_request(
            Api::OpenAiResponses,
            &json!({"model": "gpt-4.1", "input": "Tell me a joke"}),
        );
        assert_eq!(
            msgs(&simple.input_messages),
            json!([{"role": "user", "parts": [{"type": "text", "content": "Tell me a joke"}]}])
        );
    }

    fn responses_fixture() -> Value {
        json!({
            "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
            "object": "response",
            "created_at": 1741476542,
            "status": "completed",
            "error": null,
            "incomplete_details": null,
            "instructions": null,
            "max_output_tokens": null,
            "model": "gpt-4.1-2025-04-14",
            "output": [
                {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Thinking about unicorns."}]},
                {
                    "type": "message",
                    "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "In a peaceful grove beneath a silver moon...", "annotations": []}]
                }
            ],
            "parallel_tool_calls": true,
            "reasoning": {"effort": null, "summary": null},
            "store": true,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": {
                "input_tokens": 36,
                "input_tokens_details": {"cached_tokens": 5},
                "output_tokens": 87,
                "output_tokens_details": {"reasoning_tokens": 12},
                "total_tokens": 123
            },
            "user": null,
            "metadata": {}
        })
    }

    #[test]
    fn responses_non_streaming() {
        let r = parse_response(Api::OpenAiResponses, &responses_fixture());
        assert_eq!(
            r.id.as_deref(),
            Some("resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b")
        );
        assert_eq!(r.model.as_deref(), Some("gpt-4.1-2025-04-14"));
        assert_eq!(r.error, None);
        assert_eq!(r.finish_reasons, vec!["stop"]);
        assert_eq!(r.choice_count, 1);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "reasoning", "content": "Thinking about unicorns."},
                {"type": "text", "content": "In a peaceful grove beneath a silver moon..."}
            ], "finish_reason": "stop"}])
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: Some(36),
                output_tokens: Some(87),
                total_tokens: Some(123),
                cache_read_input_tokens: Some(5),
                cache_creation_input_tokens: None,
                reasoning_tokens: Some(12),
            }
        );

        let tool = parse_response(
            Api::OpenAiResponses,
            &json!({
                "id": "resp_2", "object": "response", "status": "completed", "model": "gpt-4.1", "error": null,
                "output": [{"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}", "status": "completed"}],
                "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
            }),
        );
        assert_eq!(tool.finish_reasons, vec!["tool_call"]);
        assert_eq!(
            msgs(&tool.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "tool_call", "id": "call_9", "name": "get_weather", "arguments": {"location": "Paris, France"}}
            ], "finish_reason": "tool_call"}])
        );

        let incomplete = parse_response(
            Api::OpenAiResponses,
            &json!({"id": "resp_3", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "model": "gpt-4.1", "output": [], "error": null}),
        );
        assert_eq!(incomplete.finish_reasons, vec!["length"]);
        let failed = parse_response(
            Api::OpenAiResponses,
            &json!({"id": "resp_4", "status": "failed", "error": {"code": "server_error", "message": "The model failed."}, "model": "gpt-4.1", "output": []}),
        );
        assert_eq!(
            failed.error,
            Some(ProviderError {
                error_type: "server_error".into(),
                message: "The model failed.".into()
            })
        );
    }

    #[test]
    fn responses_streaming() {
        let completed = json!({"type": "response.completed", "sequence_number": 9, "response": responses_fixture()});
        let sse = format!(
            "event: response.created\ndata: {}\n\n\
             event: response.in_progress\ndata: {}\n\n\
             event: response.output_item.added\ndata: {}\n\n\
             event: response.content_part.added\ndata: {}\n\n\
             event: response.output_text.delta\ndata: {}\n\n\
             event: response.output_text.delta\ndata: {}\n\n",
            json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_67c", "object": "response", "status": "in_progress", "model": "gpt-4.1-2025-04-14", "output": [], "usage": null}}),
            json!({"type": "response.in_progress", "sequence_number": 1, "response": {"id": "resp_67c", "object": "response", "status": "in_progress", "model": "gpt-4.1-2025-04-14", "output": []}}),
            json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0, "item": {"id": "msg_67c", "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
            json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": "msg_67c", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
            json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_67c", "output_index": 0, "content_index": 0, "delta": "In a peaceful"}),
            json!({"type": "response.output_text.delta", "sequence_number": 5, "item_id": "msg_67c", "output_index": 0, "content_index": 0, "delta": " grove"}),
        );
        let (acc, progress) = run_sse(Api::OpenAiResponses, &sse);
        let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
        assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
        assert!(progress[4].first_token);
        assert!(progress.iter().all(|p| !p.done));
        // Partial state before completion.
        let partial = acc.response();
        assert_eq!(partial.id.as_deref(), Some("resp_67c"));
        assert_eq!(partial.model.as_deref(), Some("gpt-4.1-2025-04-14"));
        assert_eq!(partial.finish_reasons, Vec::<String>::new());
        assert_eq!(
            msgs(&partial.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "In a peaceful grove"}]}])
        );

        let rest = format!(
            "event: response.function_call_arguments.delta\ndata: {}\n\n\
             event: response.output_item.done\ndata: {}\n\n\
             event: response.completed\ndata: {}\n\n",
            json!({"type": "response.function_call_arguments.delta", "output_index": 1, "item_id": "fc_1", "delta": "{\"a\":"}),
            json!({"type": "response.output_item.done", "output_index": 0, "item": {"id": "msg_67c", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "In a peaceful grove beneath a silver moon...", "annotations": []}]}}),
            completed,
        );
        let mut acc = acc;
        let mut dec = SseDecoder::new();
        let mut last = StreamProgress::default();
        for e in dec.push(rest.as_bytes()) {
            last = acc.push(e.event.as_deref(), &e.data).unwrap();
        }
        assert!(last.done);
        assert_eq!(
            acc.response(),
            parse_response(Api::OpenAiResponses, &responses_fixture())
        );
    }

    #[test]
    fn responses_stream_errors() {
        let mut acc = StreamAccumulator::new(Api::OpenAiResponses);
        let err = acc
            .push(Some("error"), r#"{"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1}"#)
            .unwrap_err();
        assert_eq!(
            err,
            ProviderError {
                error_type: "ERR_SOMETHING".into(),
                message: "Something went wrong".into()
            }
        );
        let mut acc = StreamAccumulator::new(Api::OpenAiResponses);
        let failed = json!({"type": "response.failed", "response": {"id": "resp_1", "status": "failed", "model": "gpt-4.1", "output": [], "error": {"code": "server_error", "message": "The model failed to generate a response."}}});
        let err = acc
            .push(Some("response.failed"), &failed.to_string())
            .unwrap_err();
        assert_eq!(err.error_type, "server_error");
        assert_eq!(acc.response().finish_reasons, vec!["error"]);
    }

    #[test]
    fn chat_streaming_with_include_usage() {
        let sse = "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
            data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
            data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" wörld 👋\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
            data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n\
            data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n\
            data: [DONE]\n\n";
        let (acc, progress) = run_sse(Api::OpenAiChat, sse);
        let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
        assert_eq!(progress.len(), 6);
        // The first chunk only carries the role and an empty content: not a token.
        assert!(!progress[0].first_token);
        assert!(progress[1].first_token);
        assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
        assert!(progress[5].done);
        assert!(!progress[4].done);
        let r = acc.response();
        assert_eq!(r.id.as_deref(), Some("chatcmpl-123"));
        assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(r.finish_reasons, vec!["stop"]);
        assert_eq!(r.choice_count, 1);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello wörld 👋"}], "finish_reason": "stop"}])
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: Some(9),
                output_tokens: Some(3),
                total_tokens: Some(12),
                cache_read_input_tokens: Some(0),
                cache_creation_input_tokens: None,
                reasoning_tokens: Some(0),
            }
        );
    }

    #[test]
    fn chat_streaming_tool_call_deltas() {
        let chunks = [
            json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}, "finish_reason": null}]}),
            json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"lo"}}]}, "finish_reason": null}]}),
            json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "cation\": \"Paris\"}"}}]}, "finish_reason": null}]}),
            json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":"}}]}, "finish_reason": null}]}),
            json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "\"CET\"}"}}]}, "finish_reason": null}]}),
            json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        ];
        let sse: String = chunks
            .iter()
            .map(|c| format!("data: {c}\n\n"))
            .collect::<String>()
            + "data: [DONE]\n\n";
        let (acc, progress) = run_sse(Api::OpenAiChat, &sse);
        let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
        assert!(progress[0].first_token);
        assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
        let r = acc.response();
        assert_eq!(r.finish_reasons, vec!["tool_call"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "tool_call", "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "name": "get_weather", "arguments": {"location": "Paris"}},
                {"type": "tool_call", "id": "call_2", "name": "get_time", "arguments": {"tz": "CET"}}
            ], "finish_reason": "tool_call"}])
        );
        // No usage without `include_usage`.
        assert_eq!(r.usage, Usage::default());
    }

    #[test]
    fn chat_streaming_usage_in_other_places() {
        // Moonshot: usage inside the last choice, top-level `usage` null.
        let mut acc = StreamAccumulator::new(Api::OpenAiChat);
        acc.push(None, r#"{"id":"c","model":"moonshot-v1-8k","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}"#).unwrap();
        acc.push(None, r#"{"id":"c","model":"moonshot-v1-8k","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":19,"completion_tokens":13,"total_tokens":32}}],"usage":null}"#).unwrap();
        assert_eq!(acc.response().usage.total_tokens, Some(32));
        // Groq: `x_groq.usage` on the last chunk.
        let mut acc = StreamAccumulator::new(Api::OpenAiChat);
        acc.push(None, r#"{"id":"chatcmpl-1","model":"llama-3.3-70b-versatile","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"queue_time":0.01,"prompt_tokens":18,"completion_tokens":4,"total_tokens":22}}}"#).unwrap();
        assert_eq!(acc.response().usage.input_tokens, Some(18));
    }

    #[test]
    fn chat_streaming_error_chunk_and_refusal() {
        let mut acc = StreamAccumulator::new(Api::OpenAiChat);
        let p = acc
            .push(None, r#"{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","refusal":"I can't"},"finish_reason":null}]}"#)
            .unwrap();
        assert!(p.first_token);
        let err = acc
            .push(None, r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#)
            .unwrap_err();
        assert_eq!(
            err,
            ProviderError {
                error_type: "server_error".into(),
                message: "The server had an error while processing your request.".into()
            }
        );
        assert_eq!(
            msgs(&acc.response().output_messages),
            json!([{"role": "assistant", "parts": [{"type": "refusal", "content": "I can't"}]}])
        );
        // Non-JSON keep-alives are ignored.
        assert_eq!(acc.push(None, ": ping").unwrap(), StreamProgress::default());
    }

    #[test]
    fn error_key_in_response_body() {
        let r = parse_response(
            Api::OpenAiChat,
            &json!({"error": {"message": "Invalid prompt", "type": "invalid_request_error", "param": null, "code": null}}),
        );
        assert_eq!(
            r.error,
            Some(ProviderError {
                error_type: "invalid_request_error".into(),
                message: "Invalid prompt".into()
            })
        );
        let r = parse_response(Api::OpenAiChat, &json!({"error": {"message": "boom"}}));
        assert_eq!(r.error.unwrap().error_type, "api_error");
    }

    #[test]
    fn error_bodies() {
        let openai_429 = br#"{
    "error": {
        "message": "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000.",
        "type": "tokens",
        "param": null,
        "code": "rate_limit_exceeded"
    }
}"#;
        assert_eq!(
            parse_error_body(429, openai_429),
            ProviderError {
                error_type: "rate_limit_exceeded".into(),
                message: "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000.".into()
            }
        );
        let openai_500 = br#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#;
        assert_eq!(parse_error_body(500, openai_500).error_type, "server_error");
        let anthropic_429 = br#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;
        assert_eq!(
            parse_error_body(429, anthropic_429),
            ProviderError {
                error_type: "rate_limit_error".into(),
                message: "Number of request tokens has exceeded your per-minute rate limit".into()
            }
        );
        let anthropic_529 =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            parse_error_body(529, anthropic_529).error_type,
            "overloaded_error"
        );
        let ollama_404 = br#"{"error":"model 'llama9' not found, try pulling it first"}"#;
        assert_eq!(
            parse_error_body(404, ollama_404),
            ProviderError {
                error_type: "404".into(),
                message: "model 'llama9' not found, try pulling it first".into()
            }
        );
        let ollama_500 = br#"{"error":"llama runner process has terminated: exit status 2"}"#;
        assert_eq!(parse_error_body(500, ollama_500).error_type, "500");
        let mistral = br#"{"object":"error","message":"Service tier capacity exceeded for this model.","type":"service_tier_capacity_exceeded","param":null,"code":"3505"}"#;
        assert_eq!(parse_error_body(429, mistral).error_type, "3505");
        let google_array = br#"[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}]"#;
        assert_eq!(
            parse_error_body(429, google_array),
            ProviderError {
                error_type: "429".into(),
                message: "Resource exhausted".into()
            }
        );
        let fastapi = br#"{"detail":"Not Found"}"#;
        assert_eq!(
            parse_error_body(404, fastapi),
            ProviderError {
                error_type: "404".into(),
                message: "Not Found".into()
            }
        );
        let html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n";
        assert_eq!(
            parse_error_body(502, html),
            ProviderError {
                error_type: "502".into(),
                message:
                    "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
                        .into()
            }
        );
        let long = "é".repeat(800);
        let e = parse_error_body(500, long.as_bytes());
        assert_eq!(e.message.chars().count(), 500);
        assert_eq!(parse_error_body(503, b"").message, "HTTP 503");
    }
}

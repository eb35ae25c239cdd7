//! Anthropic Messages API (`POST /v1/messages`): request, response, and the SSE event
//! stream (`message_start`, `content_block_start`, `content_block_delta`,
//! `content_block_stop`, `message_delta`, `message_stop`, `ping`, `error`).
//!
//! ```
//! use llmetry_instruments::providers::anthropic;
//! use serde_json::json;
//!
//! let req = anthropic::parse_request(&json!({
//!     "model": "claude-sonnet-4-5", "max_tokens": 512,
//!     "metadata": {"user_id": "u-42"},
//!     "messages": [{"role": "user", "content": "Hi"}],
//! }));
//! assert_eq!(req.user.as_deref(), Some("u-42"));
//! ```

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{LlmRequest, LlmResponse, Message, ProviderError, StreamProgress, Usage};
use crate::providers::openai::{
    DEFAULT_ERROR_TYPE, blob_part, error_from_value, float, image_url_part, int, message, obj,
    output_format, reasoning_part, str_at, string_list, text_part, tool_call_part, tool_definition,
    tool_response_content, tool_response_part, uri_part, with_total,
};

/// Anthropic stop reasons mapped to the common values: `end_turn`/`stop_sequence` →
/// `stop`, `max_tokens`/`model_context_window_exceeded` → `length`, `tool_use` →
/// `tool_call`, `refusal` → `content_filter`; others (`pause_turn`) unchanged.
///
/// ```
/// use llmetry_instruments::providers::anthropic::map_stop_reason;
/// assert_eq!(map_stop_reason("end_turn"), "stop");
/// assert_eq!(map_stop_reason("max_tokens"), "length");
/// assert_eq!(map_stop_reason("tool_use"), "tool_call");
/// assert_eq!(map_stop_reason("pause_turn"), "pause_turn");
/// ```
pub fn map_stop_reason(reason: &str) -> String {
    match reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_call",
        "refusal" => "content_filter",
        other => other,
    }
    .to_owned()
}

/// An image (or other media) `source`: `base64` → blob, `url` → URI, `file` → file part.
fn source_part(modality: &str, source: Option<&Value>) -> Option<Value> {
    let source = source?;
    let part = match source.get("type").and_then(Value::as_str) {
        Some("base64") => blob_part(
            modality,
            source.get("media_type").and_then(Value::as_str),
            source.get("data").and_then(Value::as_str).unwrap_or(""),
        ),
        Some("url") => {
            let url = source.get("url").and_then(Value::as_str)?;
            if url.starts_with("data:") {
                image_url_part(url)
            } else {
                uri_part(modality, url)
            }
        }
        Some("file") => obj([
            ("type", "file".into()),
            ("modality", modality.into()),
            (
                "file_id",
                source.get("file_id").cloned().unwrap_or(Value::Null),
            ),
        ]),
        _ => return None,
    };
    Some(part)
}

/// One content block as a part; unknown blocks are copied as they are.
fn block_part(b: &Value) -> Option<Value> {
    let part = match b.get("type").and_then(Value::as_str).unwrap_or("") {
        "text" => text_part(b.get("text").and_then(Value::as_str).unwrap_or("")),
        "image" => source_part("image", b.get("source")).unwrap_or_else(|| b.clone()),
        "tool_use" | "server_tool_use" => tool_call_part(
            b.get("id").and_then(Value::as_str),
            b.get("name").and_then(Value::as_str),
            b.get("input").cloned().unwrap_or(Value::Null),
        ),
        "tool_result" => tool_response_part(
            b.get("tool_use_id").and_then(Value::as_str),
            tool_response_content(b.get("content")),
        ),
        "thinking" => reasoning_part(b.get("thinking").and_then(Value::as_str).unwrap_or("")),
        "redacted_thinking" => return None,
        _ => b.clone(),
    };
    Some(part)
}

fn content_parts(content: Option<&Value>) -> Vec<Value> {
    match content {
        Some(Value::String(s)) => vec![text_part(s)],
        Some(Value::Array(blocks)) => blocks.iter().filter_map(block_part).collect(),
        _ => Vec::new(),
    }
}

/// Parses a Messages request body. `system` becomes the first message (role `system`);
/// `tool_result` blocks stay in their `user` message, as the API sends them.
///
/// ```
/// use llmetry_instruments::providers::anthropic::parse_request;
/// use serde_json::json;
///
/// let req = parse_request(&json!({
///     "model": "claude-sonnet-4-5",
///     "max_tokens": 1024,
///     "system": "You are an SRE.",
///     "messages": [
///         {"role": "user", "content": "Disk usage of db-1?"},
///         {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "disk_usage", "input": {"host": "db-1"}}]},
///         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "97%"}]},
///     ],
/// }));
/// assert_eq!(req.input_messages[0].parts[0]["content"], "You are an SRE.");
/// let result = &req.input_messages[3].parts[0];
/// assert_eq!((&result["type"], &result["response"]), (&json!("tool_call_response"), &json!("97%")));
/// ```
pub fn parse_request(body: &Value) -> LlmRequest {
    let mut input_messages = Vec::new();
    let system = content_parts(body.get("system"));
    if !system.is_empty() {
        input_messages.push(message("system", system));
    }
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        input_messages.push(message(role, content_parts(m.get("content"))));
    }
    let tool_definitions = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| match t.get("type").and_then(Value::as_str) {
            None | Some("custom") => tool_definition("function", t, "input_schema"),
            // Server and client built-in tools (`web_search_20250305`, `bash_…`).
            Some(kind) => obj([
                ("type", kind.into()),
                ("name", t.get("name").cloned().unwrap_or(Value::Null)),
            ]),
        })
        .collect();
    let format = body
        .get("output_format")
        .or_else(|| body.pointer("/output_config/format"))
        .or_else(|| body.get("response_format"));
    let (output_type, structured_output_schema) = output_format(format);
    LlmRequest {
        model: str_at(body, "model"),
        stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
        max_tokens: int(body.get("max_tokens")),
        temperature: float(body.get("temperature")),
        top_p: float(body.get("top_p")),
        top_k: float(body.get("top_k")),
        stop_sequences: string_list(body.get("stop_sequences")),
        user: body.get("metadata").and_then(|m| str_at(m, "user_id")),
        output_type,
        structured_output_schema,
        input_messages,
        tool_definitions,
        ..LlmRequest::default()
    }
}

/// Anthropic usage. `input_tokens` is kept as reported (it excludes cache reads and
/// writes); the total is input + output.
fn usage_of(u: Option<&Value>) -> Usage {
    let Some(u) = u.filter(|u| u.is_object()) else {
        return Usage::default();
    };
    with_total(Usage {
        input_tokens: int(u.get("input_tokens")),
        output_tokens: int(u.get("output_tokens")),
        total_tokens: None,
        cache_read_input_tokens: int(u.get("cache_read_input_tokens")),
        cache_creation_input_tokens: int(u.get("cache_creation_input_tokens")),
        reasoning_tokens: None,
    })
}

/// Parses a complete Messages response body (or an error body `{"type": "error", …}`).
///
/// ```
/// use llmetry_instruments::providers::anthropic::parse_response;
/// use serde_json::json;
///
/// let resp = parse_response(&json!({
///     "id": "msg_01", "model": "claude-sonnet-4-5", "role": "assistant",
///     "stop_reason": "tool_use",
///     "content": [{"type": "tool_use", "id": "toolu_1", "name": "disk_usage", "input": {"host": "db-1"}}],
///     "usage": {"input_tokens": 30, "output_tokens": 20, "cache_read_input_tokens": 1000},
/// }));
/// assert_eq!(resp.finish_reasons, ["tool_call"]);
/// assert_eq!(resp.output_messages[0].parts[0]["arguments"], json!({"host": "db-1"}));
/// assert_eq!(resp.usage.cache_read_input_tokens, Some(1000));
///
/// let error = parse_response(&json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}));
/// assert_eq!(error.error.map(|e| e.error_type).as_deref(), Some("overloaded_error"));
/// ```
pub fn parse_response(body: &Value) -> LlmResponse {
    if body.get("type").and_then(Value::as_str) == Some("error") {
        return LlmResponse {
            error: error_from_value(body, DEFAULT_ERROR_TYPE),
            ..LlmResponse::default()
        };
    }
    let finish = body
        .get("stop_reason")
        .and_then(Value::as_str)
        .map(map_stop_reason);
    let has_content = body.get("content").is_some();
    LlmResponse {
        id: str_at(body, "id"),
        model: str_at(body, "model"),
        finish_reasons: finish.iter().cloned().collect(),
        output_messages: if has_content || finish.is_some() {
            vec![Message {
                role: body
                    .get("role")
                    .and_then(Value::as_str)
                    .unwrap_or("assistant")
                    .to_owned(),
                parts: content_parts(body.get("content")),
                finish_reason: finish,
            }]
        } else {
            Vec::new()
        },
        choice_count: usize::from(has_content),
        usage: usage_of(body.get("usage")),
        embedding_dimensions: None,
        error: None,
    }
}

#[derive(Debug, Default)]
struct BlockAcc {
    /// The block from `content_block_start`.
    start: Value,
    text: String,
    partial_json: String,
    thinking: String,
}

impl BlockAcc {
    fn to_block(&self) -> Value {
        let mut block = self.start.clone();
        let Value::Object(o) = &mut block else {
            return block;
        };
        match o.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => {
                let mut text = o
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                text.push_str(&self.text);
                o.insert("text".into(), text.into());
            }
            "thinking" => {
                let mut t = o
                    .get("thinking")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                t.push_str(&self.thinking);
                o.insert("thinking".into(), t.into());
            }
            "tool_use" | "server_tool_use" if !self.partial_json.trim().is_empty() => {
                let input = serde_json::from_str(&self.partial_json)
                    .unwrap_or_else(|_| Value::String(self.partial_json.clone()));
                o.insert("input".into(), input);
            }
            _ => {}
        }
        block
    }
}

/// Accumulates a streamed Messages response, event by event (start with
/// `StreamAccumulator::default()`).
///
/// ```
/// use llmetry_instruments::providers::anthropic::StreamAccumulator;
///
/// let mut acc = StreamAccumulator::default();
/// acc.push(Some("content_block_start"), r#"{"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "disk_usage", "input": {}}}"#)?;
/// acc.push(Some("content_block_delta"), r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"host\": "}}"#)?;
/// acc.push(Some("content_block_delta"), r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "\"db-1\"}"}}"#)?;
/// let call = &acc.response().output_messages[0].parts[0];
/// assert_eq!(call["arguments"], serde_json::json!({"host": "db-1"}));
/// # Ok::<(), llmetry_instruments::model::ProviderError>(())
/// ```
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    id: Option<String>,
    model: Option<String>,
    role: Option<String>,
    usage: Option<Value>,
    blocks: BTreeMap<i64, BlockAcc>,
    stop_reason: Option<String>,
    saw_token: bool,
    done: bool,
}

impl StreamAccumulator {
    /// Feeds one SSE event (`event` name, `data` text). The event type is read from the
    /// data's `type`, else from the SSE event name. An `error` event returns `Err`.
    ///
    /// ```
    /// use llmetry_instruments::providers::anthropic::StreamAccumulator;
    ///
    /// let mut acc = StreamAccumulator::default();
    /// assert!(acc.push(Some("ping"), r#"{"type": "ping"}"#).is_ok_and(|p| !p.done));
    /// let err = acc.push(Some("error"), r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#);
    /// assert!(err.is_err_and(|e| e.error_type == "overloaded_error"));
    /// assert!(acc.push(Some("message_stop"), r#"{"type": "message_stop"}"#).is_ok_and(|p| p.done));
    /// ```
    pub fn push(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<StreamProgress, ProviderError> {
        let Ok(v) = serde_json::from_str::<Value>(data.trim()) else {
            if event == Some("error") && !data.trim().is_empty() {
                return Err(ProviderError {
                    error_type: DEFAULT_ERROR_TYPE.to_owned(),
                    message: data.trim().to_owned(),
                });
            }
            return Ok(StreamProgress::default());
        };
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(event)
            .unwrap_or("");
        let mut token = false;
        match kind {
            "message_start" => {
                if let Some(m) = v.get("message") {
                    self.id = str_at(m, "id").or(self.id.take());
                    self.model = str_at(m, "model").or(self.model.take());
                    self.role = str_at(m, "role").or(self.role.take());
                    if let Some(u) = m.get("usage").filter(|u| u.is_object()) {
                        self.usage = Some(u.clone());
                    }
                }
            }
            "content_block_start" => {
                let index = int(v.get("index")).unwrap_or(self.blocks.len() as i64);
                let block = self.blocks.entry(index).or_default();
                block.start = v.get("content_block").cloned().unwrap_or(Value::Null);
            }
            "content_block_delta" => {
                let index = int(v.get("index")).unwrap_or(0);
                let block = self.blocks.entry(index).or_default();
                let delta = v.get("delta").unwrap_or(&Value::Null);
                let field = |k: &str| delta.get(k).and_then(Value::as_str).unwrap_or("");
                match delta.get("type").and_then(Value::as_str).unwrap_or("") {
                    "text_delta" => {
                        block.text.push_str(field("text"));
                        token = !field("text").is_empty();
                    }
                    "input_json_delta" => {
                        block.partial_json.push_str(field("partial_json"));
                        token = true;
                    }
                    "thinking_delta" => {
                        block.thinking.push_str(field("thinking"));
                        token = !field("thinking").is_empty();
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(r) = v.get("delta").and_then(|d| str_at(d, "stop_reason")) {
                    self.stop_reason = Some(r);
                }
                // Cumulative counts: any field given here replaces the `message_start` one.
                if let Some(Value::Object(u)) = v.get("usage") {
                    let merged = self
                        .usage
                        .get_or_insert_with(|| Value::Object(serde_json::Map::new()));
                    if let Value::Object(m) = merged {
                        for (k, val) in u {
                            if !val.is_null() {
                                m.insert(k.clone(), val.clone());
                            }
                        }
                    }
                }
            }
            "message_stop" => self.done = true,
            "error" => {
                return Err(error_from_value(&v, DEFAULT_ERROR_TYPE).unwrap_or_else(|| {
                    ProviderError {
                        error_type: DEFAULT_ERROR_TYPE.to_owned(),
                        message: v.to_string(),
                    }
                }));
            }
            _ => {}
        }
        let first_token = token && !self.saw_token;
        self.saw_token |= token;
        Ok(StreamProgress {
            first_token,
            done: self.done,
        })
    }

    /// What was accumulated so far.
    ///
    /// ```
    /// use llmetry_instruments::providers::anthropic::StreamAccumulator;
    ///
    /// let mut acc = StreamAccumulator::default();
    /// acc.push(None, r#"{"type": "message_start", "message": {"id": "msg_1", "model": "claude-haiku-4-5", "usage": {"input_tokens": 9, "output_tokens": 1}}}"#)?;
    /// acc.push(None, r#"{"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 64}}"#)?;
    /// let resp = acc.response();
    /// assert_eq!(resp.finish_reasons, ["length"]);
    /// assert_eq!(resp.usage.output_tokens, Some(64)); // the cumulative count wins
    /// # Ok::<(), llmetry_instruments::model::ProviderError>(())
    /// ```
    pub fn response(&self) -> LlmResponse {
        let content: Vec<Value> = self.blocks.values().map(BlockAcc::to_block).collect();
        let mut body = serde_json::Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                body.insert(k.to_owned(), v);
            }
        };
        put("id", self.id.clone().map(Value::from));
        put("model", self.model.clone().map(Value::from));
        put("role", self.role.clone().map(Value::from));
        put("stop_reason", self.stop_reason.clone().map(Value::from));
        put("usage", self.usage.clone());
        if !content.is_empty() || self.id.is_some() {
            put("content", Some(Value::Array(content)));
        }
        parse_response(&Value::Object(body))
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

    fn sse(events: &[Value]) -> String {
        events
            .iter()
            .map(|e| format!("event: {}\ndata: {}\n\n", e["type"].as_str().unwrap(), e))
            .collect()
    }

    fn run(
        body: &str,
        chunk: usize,
    ) -> (
        StreamAccumulator,
        Vec<Result<StreamProgress, ProviderError>>,
    ) {
        let mut dec = SseDecoder::new();
        let mut acc = StreamAccumulator::default();
        let mut events = Vec::new();
        for c in body.as_bytes().chunks(chunk) {
            events.extend(dec.push(c));
        }
        events.extend(dec.finish());
        let progress = events
            .iter()
            .map(|e| acc.push(e.event.as_deref(), &e.data))
            .collect();
        (acc, progress)
    }

    #[test]
    fn request_with_system_images_tools_and_thinking() {
        let body = json!({
            "model": "claude-sonnet-4-20250514",
            "max_tokens": 1024,
            "temperature": 0.7,
            "top_p": 0.95,
            "top_k": 40,
            "stop_sequences": ["\n\nHuman:"],
            "metadata": {"user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"},
            "stream": true,
            "system": [
                {"type": "text", "text": "You are a weather bot."},
                {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
            ],
            "tools": [
                {"name": "get_weather", "description": "Get the current weather in a given location", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
            ],
            "messages": [
                {"role": "user", "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}},
                    {"type": "image", "source": {"type": "url", "url": "https://upload.wikimedia.org/a.jpg"}},
                    {"type": "text", "text": "Where is this, and what's the weather there?"}
                ]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "It looks like Paris.", "signature": "EqQBCgIYAhIM"},
                    {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "Paris, France"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"},
                    {"type": "tool_result", "tool_use_id": "toolu_02", "content": [{"type": "text", "text": "sunny"}], "is_error": false}
                ]},
                {"role": "assistant", "content": "It's 15 degrees."}
            ]
        });
        let r = parse_request(&body);
        assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-20250514"));
        assert!(r.stream);
        assert_eq!(r.max_tokens, Some(1024));
        assert_eq!(r.temperature, Some(0.7));
        assert_eq!(r.top_p, Some(0.95));
        assert_eq!(r.top_k, Some(40.0));
        assert_eq!(r.stop_sequences, vec!["\n\nHuman:".to_owned()]);
        assert_eq!(
            r.user.as_deref(),
            Some("13803d75-b4b5-4c3e-b2a2-6f21399b021b")
        );
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "system", "parts": [
                    {"type": "text", "content": "You are a weather bot."},
                    {"type": "text", "content": "Be brief."}
                ]},
                {"role": "user", "parts": [
                    {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "content": "/9j/4AAQSkZJRg=="},
                    {"type": "uri", "modality": "image", "uri": "https://upload.wikimedia.org/a.jpg"},
                    {"type": "text", "content": "Where is this, and what's the weather there?"}
                ]},
                {"role": "assistant", "parts": [
                    {"type": "reasoning", "content": "It looks like Paris."},
                    {"type": "text", "content": "Let me check."},
                    {"type": "tool_call", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "arguments": {"location": "Paris, France"}}
                ]},
                {"role": "user", "parts": [
                    {"type": "tool_call_response", "id": "toolu_01A09q90qw90lq917835lq9", "response": "15 degrees"},
                    {"type": "tool_call_response", "id": "toolu_02", "response": "sunny"}
                ]},
                {"role": "assistant", "parts": [{"type": "text", "content": "It's 15 degrees."}]}
            ])
        );
        assert_eq!(
            Value::Array(r.tool_definitions),
            json!([
                {"type": "function", "name": "get_weather", "description": "Get the current weather in a given location", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}},
                {"type": "web_search_20250305", "name": "web_search"}
            ])
        );
    }

    #[test]
    fn request_system_string_and_output_format() {
        let r = parse_request(&json!({
            "model": "claude-3-5-haiku-latest",
            "max_tokens": 100,
            "system": "Respond in JSON.",
            "messages": [{"role": "user", "content": "Hello, Claude"}],
            "output_format": {"type": "json_schema", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}
        }));
        assert!(!r.stream);
        assert_eq!(r.output_type.as_deref(), Some("json"));
        assert_eq!(
            r.structured_output_schema.as_deref().map(parsed),
            Some(parsed(
                r#"{"properties":{"a":{"type":"integer"}},"type":"object"}"#
            ))
        );
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "Respond in JSON."}]},
                {"role": "user", "parts": [{"type": "text", "content": "Hello, Claude"}]}
            ])
        );
    }

    #[test]
    fn response_text_and_usage() {
        let body = json!({
            "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": [{"type": "text", "text": "Hi! My name is Claude."}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": 2095, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1800, "output_tokens": 503, "service_tier": "standard"}
        });
        let r = parse_response(&body);
        assert_eq!(r.id.as_deref(), Some("msg_013Zva2CMHLNnXjNJJKqJ2EF"));
        assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-20250514"));
        assert_eq!(r.finish_reasons, vec!["stop"]);
        assert_eq!(r.choice_count, 1);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hi! My name is Claude."}], "finish_reason": "stop"}])
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: Some(2095),
                output_tokens: Some(503),
                total_tokens: Some(2598),
                cache_read_input_tokens: Some(1800),
                cache_creation_input_tokens: Some(100),
                reasoning_tokens: None,
            }
        );
        assert_eq!(r.error, None);
    }

    #[test]
    fn response_tool_use_and_stop_reasons() {
        let body = json!({
            "id": "msg_01Aq9w938a90dw8q",
            "type": "message",
            "role": "assistant",
            "model": "claude-opus-4-1-20250805",
            "content": [
                {"type": "thinking", "thinking": "The user wants the weather.", "signature": "abc"},
                {"type": "text", "text": "I'll check the weather."},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}}
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 472, "output_tokens": 89}
        });
        let r = parse_response(&body);
        assert_eq!(r.finish_reasons, vec!["tool_call"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "reasoning", "content": "The user wants the weather."},
                {"type": "text", "content": "I'll check the weather."},
                {"type": "tool_call", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "arguments": {"location": "San Francisco, CA", "unit": "celsius"}}
            ], "finish_reason": "tool_call"}])
        );
        for (raw, mapped) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_call"),
            ("refusal", "content_filter"),
            ("pause_turn", "pause_turn"),
        ] {
            assert_eq!(map_stop_reason(raw), mapped);
        }
    }

    #[test]
    fn error_body_as_response() {
        let r = parse_response(
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": "req_1"}),
        );
        assert_eq!(
            r.error,
            Some(ProviderError {
                error_type: "overloaded_error".into(),
                message: "Overloaded".into()
            })
        );
        assert!(r.output_messages.is_empty());
    }

    fn text_stream() -> Vec<Value> {
        vec![
            json!({"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-20250514", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "ping"}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "! Grüße 👋"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 15}}),
            json!({"type": "message_stop"}),
        ]
    }

    #[test]
    fn streaming_text() {
        let body = sse(&text_stream());
        for chunk in [1, 5, 64, 10_000] {
            let (acc, progress) = run(&body, chunk);
            let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
            assert_eq!(progress.len(), 8);
            assert!(progress[3].first_token);
            assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
            assert!(progress[7].done);
            assert!(!progress[6].done);
            let r = acc.response();
            assert_eq!(
                r.id.as_deref(),
                Some("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY")
            );
            assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-20250514"));
            assert_eq!(r.finish_reasons, vec!["stop"]);
            assert_eq!(
                msgs(&r.output_messages),
                json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello! Grüße 👋"}], "finish_reason": "stop"}])
            );
            assert_eq!(
                r.usage,
                Usage {
                    input_tokens: Some(25),
                    output_tokens: Some(15),
                    total_tokens: Some(40),
                    cache_read_input_tokens: Some(10),
                    cache_creation_input_tokens: Some(0),
                    reasoning_tokens: None,
                }
            );
        }
    }

    #[test]
    fn streaming_thinking_and_tool_use() {
        let events = vec![
            json!({"type": "message_start", "message": {"id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514", "stop_sequence": null, "usage": {"input_tokens": 472, "output_tokens": 2}, "content": [], "stop_reason": null}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Need the "}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "weather tool."}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Okay, let's check the weather for San Francisco, CA:"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"location\":"}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": " \"San Francisco, CA\"}"}}),
            json!({"type": "content_block_stop", "index": 2}),
            json!({"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}}),
            json!({"type": "content_block_stop", "index": 3}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 89}}),
            json!({"type": "message_stop"}),
        ];
        let (acc, progress) = run(&sse(&events), 3);
        let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
        assert!(progress[2].first_token);
        assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
        let r = acc.response();
        assert_eq!(r.finish_reasons, vec!["tool_call"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "reasoning", "content": "Need the weather tool."},
                {"type": "text", "content": "Okay, let's check the weather for San Francisco, CA:"},
                {"type": "tool_call", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "arguments": {"location": "San Francisco, CA"}},
                {"type": "tool_call", "id": "toolu_02", "name": "get_time", "arguments": {}}
            ], "finish_reason": "tool_call"}])
        );
        assert_eq!(r.usage.input_tokens, Some(472));
        assert_eq!(r.usage.output_tokens, Some(89));
        assert_eq!(r.usage.total_tokens, Some(561));
    }

    #[test]
    fn error_event_mid_stream() {
        let mut events = text_stream();
        events.truncate(4);
        let mut body = sse(&events);
        body.push_str("event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n");
        let (acc, progress) = run(&body, 11);
        assert_eq!(progress.len(), 5);
        assert!(progress[..4].iter().all(Result::is_ok));
        assert_eq!(
            progress[4],
            Err(ProviderError {
                error_type: "overloaded_error".into(),
                message: "Overloaded".into()
            })
        );
        // What arrived before the error is kept.
        let r = acc.response();
        assert_eq!(r.finish_reasons, Vec::<String>::new());
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]}])
        );
        assert_eq!(r.usage.input_tokens, Some(25));
    }
}

//! Ollama native API: `/api/chat`, `/api/generate`, `/api/embed` (and the legacy
//! `/api/embeddings`), non-streamed and as NDJSON streams (one JSON object per line, the
//! last with `"done": true` and the token counts).
//!
//! ```
//! use llmetry_instruments::model::Api;
//! use llmetry_instruments::providers::ollama;
//! use serde_json::json;
//!
//! let resp = ollama::parse_response(Api::OllamaEmbed, &json!({
//!     "model": "nomic-embed-text", "embeddings": [[0.1, 0.2, 0.3, 0.4]], "prompt_eval_count": 4,
//! }));
//! assert_eq!((resp.embedding_dimensions, resp.usage.input_tokens), (Some(4), Some(4)));
//! ```

use serde_json::Value;

use crate::model::{Api, LlmRequest, LlmResponse, Message, ProviderError, StreamProgress, Usage};
use crate::providers::openai::{
    DEFAULT_ERROR_TYPE, blob_part, error_from_value, float, int, message, obj, output_format,
    parse_arguments, reasoning_part, str_at, string_list, text_part, tool_call_part,
    tool_definition, tool_response_part, with_total,
};

/// The MIME type of a base64 image, from its first bytes (Ollama sends bare base64).
fn sniff_image_mime(b64: &str) -> Option<&'static str> {
    let mime = if b64.starts_with("iVBORw0KGgo") {
        "image/png"
    } else if b64.starts_with("/9j/") {
        "image/jpeg"
    } else if b64.starts_with("R0lGOD") {
        "image/gif"
    } else if b64.starts_with("UklGR") {
        "image/webp"
    } else {
        return None;
    };
    Some(mime)
}

fn image_parts(images: Option<&Value>) -> impl Iterator<Item = Value> + '_ {
    images
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|b64| blob_part("image", sniff_image_mime(b64), b64))
}

fn tool_call_parts(calls: Option<&Value>) -> impl Iterator<Item = Value> + '_ {
    calls
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|tc| {
            let f = tc.get("function").unwrap_or(&Value::Null);
            tool_call_part(
                tc.get("id").and_then(Value::as_str),
                f.get("name").and_then(Value::as_str),
                parse_arguments(f.get("arguments")),
            )
        })
}

fn chat_message(m: &Value) -> Message {
    let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
    let content = m.get("content").and_then(Value::as_str).unwrap_or("");
    if role == "tool" {
        return message(
            "tool",
            vec![tool_response_part(
                m.get("tool_call_id").and_then(Value::as_str),
                Value::String(content.to_owned()),
            )],
        );
    }
    let mut parts = Vec::new();
    if !content.is_empty() || m.get("tool_calls").is_none() {
        parts.push(text_part(content));
    }
    parts.extend(image_parts(m.get("images")));
    if let Some(t) = str_at(m, "thinking") {
        parts.push(reasoning_part(&t));
    }
    parts.extend(tool_call_parts(m.get("tool_calls")));
    message(role, parts)
}

/// Parses an Ollama request body for `api`. `stream` defaults to `true` for chat and
/// generate, as Ollama does.
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::ollama::parse_request;
/// use serde_json::json;
///
/// let req = parse_request(Api::OllamaGenerate, &json!({
///     "model": "llama3.2",
///     "system": "Be brief.",
///     "prompt": "Why is the sky blue?",
///     "format": "json",
///     "options": {"temperature": 0.1, "num_predict": 128},
/// }));
/// assert!(req.stream);
/// assert_eq!((req.temperature, req.max_tokens), (Some(0.1), Some(128)));
/// assert_eq!(req.output_type.as_deref(), Some("json"));
/// assert_eq!(req.input_messages.len(), 2); // system, then the prompt as user
/// ```
pub fn parse_request(api: Api, body: &Value) -> LlmRequest {
    let opts = body.get("options").unwrap_or(&Value::Null);
    let mut input_messages = Vec::new();
    match api {
        Api::OllamaChat => {
            let msgs = body.get("messages").and_then(Value::as_array);
            input_messages.extend(msgs.into_iter().flatten().map(chat_message));
        }
        Api::OllamaGenerate => {
            if let Some(s) = str_at(body, "system") {
                input_messages.push(message("system", vec![text_part(&s)]));
            }
            let prompt = body.get("prompt").and_then(Value::as_str);
            let mut parts: Vec<Value> = prompt.map(text_part).into_iter().collect();
            parts.extend(image_parts(body.get("images")));
            if !parts.is_empty() {
                input_messages.push(message("user", parts));
            }
        }
        _ => {
            let input = body.get("input").or_else(|| body.get("prompt"));
            let one = |s: &str| message("user", vec![text_part(s)]);
            match input {
                Some(Value::String(s)) => input_messages.push(one(s)),
                Some(Value::Array(a)) => {
                    input_messages.extend(a.iter().filter_map(Value::as_str).map(one));
                }
                _ => {}
            }
        }
    }
    let (output_type, structured_output_schema) = match body.get("format") {
        Some(Value::String(s)) if s == "json" => (Some("json".to_owned()), None),
        Some(schema @ Value::Object(_)) => (Some("json".to_owned()), Some(schema.to_string())),
        other => output_format(other),
    };
    let tool_definitions = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| match t.get("function") {
            Some(f) => tool_definition("function", f, "parameters"),
            None => t.clone(),
        })
        .collect();
    let streams_by_default = matches!(api, Api::OllamaChat | Api::OllamaGenerate);
    LlmRequest {
        model: str_at(body, "model"),
        stream: body
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(streams_by_default),
        max_tokens: int(opts.get("num_predict")),
        temperature: float(opts.get("temperature")),
        top_p: float(opts.get("top_p")),
        top_k: float(opts.get("top_k")),
        frequency_penalty: float(opts.get("frequency_penalty")),
        presence_penalty: float(opts.get("presence_penalty")),
        seed: int(opts.get("seed")),
        stop_sequences: string_list(opts.get("stop")),
        output_type,
        structured_output_schema,
        input_messages,
        tool_definitions,
        ..LlmRequest::default()
    }
}

/// Ollama `done_reason`: `stop` becomes `tool_call` when the message calls tools (Ollama
/// says `stop` there); `length`, `load`, `unload` are kept.
fn finish_reason(done_reason: Option<&str>, has_tool_calls: bool) -> Option<String> {
    match done_reason {
        Some("stop") | None if has_tool_calls => Some("tool_call".to_owned()),
        Some(r) if !r.is_empty() => Some(r.to_owned()),
        _ => None,
    }
}

/// Parses a complete Ollama response body for `api` (or the final object of a stream).
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::ollama::parse_response;
/// use serde_json::json;
///
/// let resp = parse_response(Api::OllamaChat, &json!({
///     "model": "qwen3", "done": true, "done_reason": "stop",
///     "message": {"role": "assistant", "content": "",
///         "tool_calls": [{"function": {"name": "disk_usage", "arguments": {"host": "db-1"}}}]},
///     "prompt_eval_count": 80, "eval_count": 15,
/// }));
/// assert_eq!(resp.finish_reasons, ["tool_call"]); // Ollama says "stop"
/// assert_eq!(resp.output_messages[0].parts[0]["name"], "disk_usage");
/// assert_eq!(resp.usage.total_tokens, Some(95));
/// ```
pub fn parse_response(api: Api, body: &Value) -> LlmResponse {
    let mut r = LlmResponse {
        model: str_at(body, "model"),
        usage: with_total(Usage {
            input_tokens: int(body.get("prompt_eval_count")),
            output_tokens: int(body.get("eval_count")),
            ..Usage::default()
        }),
        error: body
            .get("error")
            .filter(|e| !e.is_null())
            .and_then(|_| error_from_value(body, DEFAULT_ERROR_TYPE)),
        ..LlmResponse::default()
    };
    let (parts, has_tool_calls) = match api {
        Api::OllamaEmbed => {
            r.embedding_dimensions = body
                .pointer("/embeddings/0")
                .or_else(|| body.get("embedding"))
                .and_then(Value::as_array)
                .map(Vec::len);
            return r;
        }
        Api::OllamaGenerate => {
            let Some(text) = body.get("response").and_then(Value::as_str) else {
                return r;
            };
            let mut parts = Vec::new();
            if let Some(t) = str_at(body, "thinking") {
                parts.push(reasoning_part(&t));
            }
            parts.push(text_part(text));
            (parts, false)
        }
        _ => {
            let Some(m) = body.get("message").filter(|m| m.is_object()) else {
                return r;
            };
            let mut parts = Vec::new();
            if let Some(t) = str_at(m, "thinking") {
                parts.push(reasoning_part(&t));
            }
            if let Some(c) = str_at(m, "content") {
                parts.push(text_part(&c));
            }
            parts.extend(image_parts(m.get("images")));
            let calls: Vec<Value> = tool_call_parts(m.get("tool_calls")).collect();
            let has = !calls.is_empty();
            parts.extend(calls);
            (parts, has)
        }
    };
    let finish = finish_reason(
        body.get("done_reason").and_then(Value::as_str),
        has_tool_calls,
    );
    let role = body
        .pointer("/message/role")
        .and_then(Value::as_str)
        .unwrap_or("assistant");
    r.finish_reasons.extend(finish.clone());
    r.output_messages.push(Message {
        role: role.to_owned(),
        parts,
        finish_reason: finish,
    });
    r.choice_count = 1;
    r
}

/// Accumulates an Ollama NDJSON stream, line by line.
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::{ollama::StreamAccumulator, stream::NdjsonDecoder};
///
/// let body = concat!(
///     r#"{"model": "llama3.2", "response": "Rayleigh", "done": false}"#, "\n",
///     r#"{"model": "llama3.2", "response": " scattering.", "done": false}"#, "\n",
///     r#"{"model": "llama3.2", "response": "", "done": true, "done_reason": "stop", "prompt_eval_count": 26, "eval_count": 3}"#, "\n",
/// );
/// let mut acc = StreamAccumulator::new(Api::OllamaGenerate);
/// for line in NdjsonDecoder::new().push(body.as_bytes()) {
///     acc.push(&line)?;
/// }
/// let resp = acc.response();
/// assert_eq!(resp.output_messages[0].parts[0]["content"], "Rayleigh scattering.");
/// assert_eq!(resp.usage.output_tokens, Some(3));
/// # Ok::<(), llmetry_instruments::model::ProviderError>(())
/// ```
#[derive(Debug)]
pub struct StreamAccumulator {
    api: Api,
    model: Option<String>,
    role: Option<String>,
    content: String,
    thinking: String,
    tool_calls: Vec<Value>,
    last: Option<Value>,
    saw_token: bool,
    done: bool,
}

impl StreamAccumulator {
    /// A new accumulator for `api` (`OllamaChat`, `OllamaGenerate` or `OllamaEmbed`).
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::ollama::StreamAccumulator};
    /// let acc = StreamAccumulator::new(Api::OllamaChat);
    /// assert_eq!(acc.response().model, None);
    /// ```
    pub fn new(api: Api) -> Self {
        Self {
            api,
            model: None,
            role: None,
            content: String::new(),
            thinking: String::new(),
            tool_calls: Vec::new(),
            last: None,
            saw_token: false,
            done: false,
        }
    }

    /// Feeds one NDJSON line. A `{"error": …}` line returns `Err`; a line that is not JSON
    /// is ignored.
    ///
    /// ```
    /// use llmetry_instruments::{model::Api, providers::ollama::StreamAccumulator};
    ///
    /// let mut acc = StreamAccumulator::new(Api::OllamaChat);
    /// let p = acc.push(r#"{"model": "llama3.2", "message": {"role": "assistant", "content": "Hi"}, "done": false}"#)?;
    /// assert!(p.first_token && !p.done);
    /// assert!(acc.push("not json").is_ok_and(|p| !p.first_token));
    /// assert!(acc.push(r#"{"error": "out of memory"}"#).is_err());
    /// # Ok::<(), llmetry_instruments::model::ProviderError>(())
    /// ```
    pub fn push(&mut self, line: &str) -> Result<StreamProgress, ProviderError> {
        let Ok(v) = serde_json::from_str::<Value>(line.trim()) else {
            return Ok(StreamProgress::default());
        };
        if v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(error_from_value(&v, DEFAULT_ERROR_TYPE).unwrap_or_else(|| {
                ProviderError {
                    error_type: DEFAULT_ERROR_TYPE.to_owned(),
                    message: v.to_string(),
                }
            }));
        }
        if let Some(m) = str_at(&v, "model") {
            self.model = Some(m);
        }
        let mut token = false;
        let src = match self.api {
            Api::OllamaChat => v.get("message").unwrap_or(&Value::Null),
            _ => &v,
        };
        if let Some(r) = str_at(src, "role") {
            self.role = Some(r);
        }
        let text_key = if self.api == Api::OllamaChat {
            "content"
        } else {
            "response"
        };
        if let Some(t) = str_at(src, text_key) {
            self.content.push_str(&t);
            token = true;
        }
        if let Some(t) = str_at(src, "thinking") {
            self.thinking.push_str(&t);
            token = true;
        }
        if let Some(calls) = src.get("tool_calls").and_then(Value::as_array) {
            token |= !calls.is_empty();
            self.tool_calls.extend(calls.iter().cloned());
        }
        if v.get("done").and_then(Value::as_bool) == Some(true) {
            self.done = true;
            self.last = Some(v);
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
    /// use llmetry_instruments::{model::Api, providers::ollama::StreamAccumulator};
    ///
    /// let mut acc = StreamAccumulator::new(Api::OllamaChat);
    /// acc.push(r#"{"model": "llama3.2", "message": {"role": "assistant", "content": "Hel"}, "done": false}"#)?;
    /// acc.push(r#"{"model": "llama3.2", "message": {"role": "assistant", "content": "lo"}, "done": false}"#)?;
    /// let so_far = acc.response(); // no final object yet: no finish reason, no token counts
    /// assert_eq!(so_far.output_messages[0].parts[0]["content"], "Hello");
    /// assert_eq!(so_far.usage.output_tokens, None);
    /// # Ok::<(), llmetry_instruments::model::ProviderError>(())
    /// ```
    pub fn response(&self) -> LlmResponse {
        let mut body = match &self.last {
            Some(Value::Object(o)) => o.clone(),
            _ => serde_json::Map::new(),
        };
        if let Some(m) = &self.model {
            body.insert("model".into(), m.as_str().into());
        }
        match self.api {
            Api::OllamaChat => {
                let msg = obj([
                    ("role", self.role.as_deref().unwrap_or("assistant").into()),
                    ("content", self.content.as_str().into()),
                    (
                        "thinking",
                        if self.thinking.is_empty() {
                            Value::Null
                        } else {
                            self.thinking.as_str().into()
                        },
                    ),
                    (
                        "tool_calls",
                        if self.tool_calls.is_empty() {
                            Value::Null
                        } else {
                            Value::Array(self.tool_calls.clone())
                        },
                    ),
                ]);
                body.insert("message".into(), msg);
            }
            Api::OllamaGenerate => {
                body.insert("response".into(), self.content.as_str().into());
                if !self.thinking.is_empty() {
                    body.insert("thinking".into(), self.thinking.as_str().into());
                }
            }
            _ => {}
        }
        parse_response(self.api, &Value::Object(body))
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
    use crate::providers::stream::NdjsonDecoder;

    fn msgs(ms: &[Message]) -> Value {
        Value::Array(ms.iter().map(Message::to_json).collect())
    }

    fn run(
        api: Api,
        lines: &[Value],
        chunk: usize,
    ) -> (
        StreamAccumulator,
        Vec<Result<StreamProgress, ProviderError>>,
    ) {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut dec = NdjsonDecoder::new();
        let mut acc = StreamAccumulator::new(api);
        let mut out = Vec::new();
        for c in body.as_bytes().chunks(chunk) {
            for line in dec.push(c) {
                out.push(acc.push(&line));
            }
        }
        for line in dec.finish() {
            out.push(acc.push(&line));
        }
        (acc, out)
    }

    #[test]
    fn chat_request() {
        let body = json!({
            "model": "llama3.2-vision",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "what is in this image?", "images": ["iVBORw0KGgoAAAANSUhEUgAAAG0AAABm"]},
                {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}]},
                {"role": "tool", "content": "22 degrees", "tool_name": "get_current_weather"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_current_weather", "description": "Get the current weather for a location", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}],
            "format": {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]},
            "options": {"temperature": 0.1, "top_p": 0.9, "top_k": 20, "seed": 101, "num_predict": 128, "stop": ["<|eot|>"]}
        });
        let r = parse_request(Api::OllamaChat, &body);
        assert_eq!(r.model.as_deref(), Some("llama3.2-vision"));
        assert!(r.stream, "Ollama streams by default");
        assert_eq!(r.temperature, Some(0.1));
        assert_eq!(r.top_p, Some(0.9));
        assert_eq!(r.top_k, Some(20.0));
        assert_eq!(r.seed, Some(101));
        assert_eq!(r.max_tokens, Some(128));
        assert_eq!(r.stop_sequences, vec!["<|eot|>".to_owned()]);
        assert_eq!(r.output_type.as_deref(), Some("json"));
        assert_eq!(
            r.structured_output_schema.as_deref().map(parsed),
            Some(parsed(
                r#"{"properties":{"age":{"type":"integer"}},"required":["age"],"type":"object"}"#
            ))
        );
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
                {"role": "user", "parts": [
                    {"type": "text", "content": "what is in this image?"},
                    {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgoAAAANSUhEUgAAAG0AAABm"}
                ]},
                {"role": "assistant", "parts": [
                    {"type": "tool_call", "name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}
                ]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "response": "22 degrees"}]}
            ])
        );
        assert_eq!(
            Value::Array(r.tool_definitions),
            json!([{"type": "function", "name": "get_current_weather", "description": "Get the current weather for a location", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}])
        );
        let no_stream = parse_request(
            Api::OllamaChat,
            &json!({"model": "llama3.2", "messages": [], "stream": false, "format": "json"}),
        );
        assert!(!no_stream.stream);
        assert_eq!(no_stream.output_type.as_deref(), Some("json"));
        assert_eq!(no_stream.structured_output_schema, None);
    }

    #[test]
    fn chat_response() {
        let body = json!({
            "model": "llama3.2",
            "created_at": "2023-12-12T14:13:43.416799Z",
            "message": {"role": "assistant", "content": "Hello! How are you today?"},
            "done": true,
            "done_reason": "stop",
            "total_duration": 5191566416u64,
            "load_duration": 2154458,
            "prompt_eval_count": 26,
            "prompt_eval_duration": 383809000,
            "eval_count": 298,
            "eval_duration": 4799921000u64
        });
        let r = parse_response(Api::OllamaChat, &body);
        assert_eq!(r.model.as_deref(), Some("llama3.2"));
        assert_eq!(r.id, None);
        assert_eq!(r.finish_reasons, vec!["stop"]);
        assert_eq!(r.choice_count, 1);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello! How are you today?"}], "finish_reason": "stop"}])
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: Some(26),
                output_tokens: Some(298),
                total_tokens: Some(324),
                ..Usage::default()
            }
        );

        let tools = parse_response(
            Api::OllamaChat,
            &json!({
                "model": "llama3.2", "created_at": "2024-07-22T20:33:28.123648Z",
                "message": {"role": "assistant", "content": "", "thinking": "User wants weather.", "tool_calls": [{"function": {"name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}]},
                "done_reason": "stop", "done": true, "prompt_eval_count": 10, "eval_count": 20
            }),
        );
        assert_eq!(tools.finish_reasons, vec!["tool_call"]);
        assert_eq!(
            msgs(&tools.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "reasoning", "content": "User wants weather."},
                {"type": "tool_call", "name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}
            ], "finish_reason": "tool_call"}])
        );
    }

    #[test]
    fn generate_request_and_response() {
        let r = parse_request(
            Api::OllamaGenerate,
            &json!({"model": "llama3.2", "prompt": "Why is the sky blue?", "system": "Answer like a physicist.", "stream": false, "options": {"num_predict": 64, "temperature": 0}}),
        );
        assert!(!r.stream);
        assert_eq!(r.max_tokens, Some(64));
        assert_eq!(r.temperature, Some(0.0));
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "Answer like a physicist."}]},
                {"role": "user", "parts": [{"type": "text", "content": "Why is the sky blue?"}]}
            ])
        );
        let resp = parse_response(
            Api::OllamaGenerate,
            &json!({
                "model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z",
                "response": "The sky is blue because of Rayleigh scattering.", "done": true, "done_reason": "length",
                "context": [1, 2, 3], "total_duration": 10706818083u64, "prompt_eval_count": 26, "eval_count": 290
            }),
        );
        assert_eq!(resp.finish_reasons, vec!["length"]);
        assert_eq!(
            msgs(&resp.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "The sky is blue because of Rayleigh scattering."}], "finish_reason": "length"}])
        );
        assert_eq!(resp.usage.total_tokens, Some(316));
    }

    #[test]
    fn embed_request_and_response() {
        let r = parse_request(
            Api::OllamaEmbed,
            &json!({"model": "all-minilm", "input": ["Why is the sky blue?", "Why is the grass green?"]}),
        );
        assert!(!r.stream);
        assert_eq!(
            msgs(&r.input_messages),
            json!([
                {"role": "user", "parts": [{"type": "text", "content": "Why is the sky blue?"}]},
                {"role": "user", "parts": [{"type": "text", "content": "Why is the grass green?"}]}
            ])
        );
        let legacy = parse_request(
            Api::OllamaEmbed,
            &json!({"model": "all-minilm", "prompt": "Here is an article"}),
        );
        assert_eq!(legacy.input_messages.len(), 1);
        let resp = parse_response(
            Api::OllamaEmbed,
            &json!({"model": "all-minilm", "embeddings": [[0.010071029, -0.0017594862, 0.05007221, 0.04692972], [-0.0098027075, 0.06042469, 0.025257962, -0.006364387]], "total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": 8}),
        );
        assert_eq!(resp.embedding_dimensions, Some(4));
        assert_eq!(resp.usage.input_tokens, Some(8));
        assert_eq!(resp.usage.total_tokens, Some(8));
        assert!(resp.output_messages.is_empty());
        let old = parse_response(Api::OllamaEmbed, &json!({"embedding": [0.5, -0.2, 0.1]}));
        assert_eq!(old.embedding_dimensions, Some(3));
    }

    #[test]
    fn error_body_as_response() {
        let r = parse_response(
            Api::OllamaChat,
            &json!({"error": "model \"nope\" not found, try pulling it first"}),
        );
        assert_eq!(
            r.error,
            Some(ProviderError {
                error_type: "api_error".into(),
                message: "model \"nope\" not found, try pulling it first".into()
            })
        );
    }

    #[test]
    fn chat_ndjson_stream() {
        let lines = [
            json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "message": {"role": "assistant", "content": "The"}, "done": false}),
            json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "message": {"role": "assistant", "content": " sky é"}, "done": false}),
            json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "message": {"role": "assistant", "content": " blue."}, "done": false}),
            json!({"model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "total_duration": 4883583458u64, "load_duration": 1334875, "prompt_eval_count": 26, "prompt_eval_duration": 342546000, "eval_count": 282, "eval_duration": 4535599000u64}),
        ];
        for chunk in [1, 4, 1000] {
            let (acc, progress) = run(Api::OllamaChat, &lines, chunk);
            let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
            assert_eq!(progress.len(), 4);
            assert!(progress[0].first_token);
            assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
            assert!(progress[3].done);
            assert!(!progress[2].done);
            let r = acc.response();
            assert_eq!(r.model.as_deref(), Some("llama3.2"));
            assert_eq!(r.finish_reasons, vec!["stop"]);
            assert_eq!(
                msgs(&r.output_messages),
                json!([{"role": "assistant", "parts": [{"type": "text", "content": "The sky é blue."}], "finish_reason": "stop"}])
            );
            assert_eq!(
                r.usage,
                Usage {
                    input_tokens: Some(26),
                    output_tokens: Some(282),
                    total_tokens: Some(308),
                    ..Usage::default()
                }
            );
        }
    }

    #[test]
    fn chat_ndjson_stream_with_tool_calls() {
        let lines = [
            json!({"model": "qwen3", "created_at": "t", "message": {"role": "assistant", "content": "", "thinking": "Weather?"}, "done": false}),
            json!({"model": "qwen3", "created_at": "t", "message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Toronto"}}}]}, "done": false}),
            json!({"model": "qwen3", "created_at": "t", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 7}),
        ];
        let (acc, progress) = run(Api::OllamaChat, &lines, 9);
        assert!(progress[0].as_ref().unwrap().first_token);
        let r = acc.response();
        assert_eq!(r.finish_reasons, vec!["tool_call"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [
                {"type": "reasoning", "content": "Weather?"},
                {"type": "tool_call", "name": "get_weather", "arguments": {"city": "Toronto"}}
            ], "finish_reason": "tool_call"}])
        );
    }

    #[test]
    fn generate_ndjson_stream() {
        let lines = [
            json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "response": "The", "done": false}),
            json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "response": " end", "done": false}),
            json!({"model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z", "response": "", "done": true, "done_reason": "stop", "context": [1, 2], "prompt_eval_count": 3, "eval_count": 2}),
        ];
        let (acc, progress) = run(Api::OllamaGenerate, &lines, 5);
        assert!(progress[2].as_ref().unwrap().done);
        let r = acc.response();
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "The end"}], "finish_reason": "stop"}])
        );
        assert_eq!(r.usage.total_tokens, Some(5));
    }

    #[test]
    fn error_line_mid_stream() {
        let lines = [
            json!({"model": "llama3.2", "created_at": "t", "message": {"role": "assistant", "content": "Hi"}, "done": false}),
            json!({"error": "an error was encountered while running the model: unexpected EOF"}),
        ];
        let (acc, progress) = run(Api::OllamaChat, &lines, 3);
        assert!(progress[0].is_ok());
        assert_eq!(
            progress[1],
            Err(ProviderError {
                error_type: "api_error".into(),
                message: "an error was encountered while running the model: unexpected EOF".into()
            })
        );
        let r = acc.response();
        assert_eq!(r.finish_reasons, Vec::<String>::new());
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hi"}]}])
        );
    }
}

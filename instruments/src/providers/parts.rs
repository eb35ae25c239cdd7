//! What every provider parser shares: builders of the GenAI message parts (see
//! [`crate::model`]), usage totals, and the error shapes of any provider's JSON.

use serde_json::{Map, Value};

use crate::model::{Message, ProviderError, Usage};

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

pub(crate) fn opt_str(s: Option<&str>) -> Value {
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

/// Tool-call arguments accumulated as a string: parsed when valid JSON, else kept raw.
pub(crate) fn parse_arguments_str(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

/// The `content` string of a part, if it has one.
pub(crate) fn content_of(part: &Value) -> Option<&str> {
    part.get("content").and_then(Value::as_str)
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
        .get("json_schema")
        .and_then(|j| j.get("schema"))
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

pub(crate) fn error_fields(e: &Value, fallback: &str) -> ProviderError {
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
/// use llmetry_instruments::providers::parse_error;
///
/// let body = br#"{"object": "error", "message": "model not found", "type": "NotFoundError"}"#; // vLLM
/// let e = parse_error(404, body);
/// assert_eq!((e.error_type.as_str(), e.message.as_str()), ("NotFoundError", "model not found"));
/// ```
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> ProviderError {
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

//! Anthropic content blocks as GenAI parts (text, images, tool use and results, thinking),
//! and the stop-reason mapping: what the request, response and stream readers share.

use serde_json::Value;
use serde_json::value::RawValue;

use crate::providers::parts::{
    blob_part, obj, reasoning_part, text_part, tool_call_part, tool_response_part, uri_part,
};
use crate::providers::wire::{raw_str, value};

/// Anthropic stop reasons mapped as Python maps them (`span_utils.py` `_FINISH_REASON_MAP`):
/// `end_turn`/`stop_sequence` → `stop`, `max_tokens` → `length`, `tool_use` → `tool_call`;
/// others (`refusal`, `pause_turn`, …) unchanged.
pub(super) fn map_stop_reason(reason: &str) -> String {
    match reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_call",
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
            Some(
                source
                    .get("media_type")
                    .and_then(Value::as_str)
                    .unwrap_or("image/unknown"),
            ),
            source.get("data").and_then(Value::as_str).unwrap_or(""),
        ),
        Some("url") => uri_part(
            modality,
            source.get("url").and_then(Value::as_str).unwrap_or(""),
        ),
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
        // The result as the request gave it (a string or a list of blocks), as Python.
        "tool_result" => tool_response_part(
            b.get("tool_use_id").and_then(Value::as_str),
            b.get("content").cloned().unwrap_or(Value::Null),
        ),
        "thinking" => reasoning_part(b.get("thinking").and_then(Value::as_str).unwrap_or("")),
        "redacted_thinking" => return None,
        _ => b.clone(),
    };
    Some(part)
}

pub(super) fn content_parts(content: Option<&Value>) -> Vec<Value> {
    match content {
        Some(Value::String(s)) => vec![text_part(s)],
        Some(Value::Array(blocks)) => blocks.iter().filter_map(block_part).collect(),
        _ => Vec::new(),
    }
}

/// Parts of a raw `content` (or `system`): a string is read without building a `Value`.
pub(super) fn raw_content_parts(content: Option<&RawValue>) -> Vec<Value> {
    match content {
        None => Vec::new(),
        Some(raw) => match raw_str(raw) {
            Some(s) => vec![text_part(&s)],
            None => content_parts(value(Some(raw)).as_ref()),
        },
    }
}

//! Converse content blocks as GenAI parts (text, images and documents, tool use and results,
//! reasoning, guard content), the stop-reason mapping, and the system blocks: what the
//! request, response and stream readers share.

use serde_json::Value;

use crate::providers::parts::{
    blob_part, obj, reasoning_part, text_part, tool_call_part, tool_response_part,
};

/// Converse stop reasons mapped as Python maps them (`end_turn` / `stop_sequence` → `stop`,
/// `tool_use` → `tool_call`, `max_tokens` → `length`, `guardrail_intervened` →
/// `content_filter`), plus `content_filtered` → `content_filter` and
/// `model_context_window_exceeded` → `length`; others unchanged.
pub(super) fn map_stop_reason(reason: &str) -> String {
    match reason {
        "end_turn" | "stop_sequence" => "stop",
        "tool_use" => "tool_call",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        other => other,
    }
    .to_owned()
}

/// The base64 `bytes` of a media source.
fn source_bytes(block: &Value) -> &str {
    block
        .get("source")
        .and_then(|s| s.get("bytes"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A tool result's content blocks: text joined, JSON kept.
fn tool_result_content(content: Option<&Value>) -> Value {
    let Some(Value::Array(blocks)) = content else {
        return Value::String(String::new());
    };
    let texts: Option<Vec<&str>> = blocks
        .iter()
        .map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    match texts {
        Some(t) => Value::String(t.join("")),
        None if blocks.len() == 1 => blocks[0]
            .get("json")
            .cloned()
            .unwrap_or_else(|| blocks[0].clone()),
        None => Value::Array(blocks.clone()),
    }
}

/// One content block as a part; `cachePoint` (no content) is left out, unknown blocks are
/// copied as they are.
pub(super) fn block_part(b: &Value) -> Option<Value> {
    let (kind, inner) = b.as_object().and_then(|o| o.iter().next())?;
    let part = match kind.as_str() {
        "text" => text_part(inner.as_str().unwrap_or("")),
        "image" | "video" | "audio" => {
            let format = inner.get("format").and_then(Value::as_str);
            let mime = format.map(|f| format!("{kind}/{f}"));
            blob_part(kind, mime.as_deref(), source_bytes(inner))
        }
        "document" => obj([
            ("type", "blob".into()),
            ("modality", "document".into()),
            ("name", inner.get("name").cloned().unwrap_or(Value::Null)),
            ("content", source_bytes(inner).into()),
        ]),
        "toolUse" => tool_call_part(
            inner.get("toolUseId").and_then(Value::as_str),
            inner.get("name").and_then(Value::as_str),
            inner.get("input").cloned().unwrap_or(Value::Null),
        ),
        "toolResult" => tool_response_part(
            inner.get("toolUseId").and_then(Value::as_str),
            tool_result_content(inner.get("content")),
        ),
        "reasoningContent" => reasoning_part(
            inner
                .get("reasoningText")
                .and_then(|r| r.get("text"))
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        "guardContent" => text_part(
            inner
                .get("text")
                .and_then(|t| t.get("text"))
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        "cachePoint" => return None,
        _ => b.clone(),
    };
    Some(part)
}

/// The parts of a content (or system) block list.
pub(super) fn blocks_parts(blocks: Option<&Value>) -> Vec<Value> {
    blocks
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(block_part)
        .collect()
}

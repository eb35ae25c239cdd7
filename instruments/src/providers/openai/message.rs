//! The chat message, shared by Chat Completions requests and responses: its wire struct and
//! its GenAI parts (content blocks, refusal, reasoning, tool calls).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::providers::parts::{
    blob_part, image_url_part, obj, parse_arguments, reasoning_part, refusal_part, text_part,
    tool_call_part,
};
use crate::providers::scan::{Scan, Seen};
use crate::providers::wire::{Scalar, StrOrRaw, value};

/// A chat message as sent (request) or returned (response `choices[].message`): only the
/// fields the conventions read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ChatMessage<'a> {
    #[serde(borrow)]
    pub(super) role: Scalar<'a>,
    #[serde(borrow)]
    pub(super) content: StrOrRaw<'a>,
    #[serde(borrow)]
    pub(super) tool_call_id: Scalar<'a>,
    #[serde(borrow)]
    pub(super) refusal: Scalar<'a>,
    #[serde(borrow)]
    pub(super) reasoning_content: Scalar<'a>,
    #[serde(borrow)]
    pub(super) reasoning: Scalar<'a>,
    #[serde(borrow)]
    pub(super) tool_calls: Option<&'a RawValue>,
    #[serde(borrow)]
    pub(super) function_call: Option<&'a RawValue>,
}

/// Parts of a `content`: a string (read without building a `Value`), or blocks.
pub(super) fn raw_content_parts(content: &StrOrRaw<'_>) -> Vec<Value> {
    match content {
        StrOrRaw::Absent => Vec::new(),
        StrOrRaw::Str(s) => s.as_str().map(text_part).into_iter().collect(),
        StrOrRaw::Raw(raw) => content_parts(value(Some(raw)).as_ref()),
    }
}

/// The text of a chat message that is plain text, as its parts would have it: `Some(None)`
/// without content, `Some(Some(text))` with a string content; `None` when it has anything
/// else (content blocks, a refusal, reasoning, tool calls), which its parts must carry.
pub(super) fn plain_text<'m>(m: &'m ChatMessage<'_>) -> Option<Option<&'m str>> {
    let plain = m.tool_calls.is_none()
        && m.function_call.is_none()
        && m.refusal.non_empty().is_none()
        && m.reasoning_content.non_empty().is_none()
        && m.reasoning.non_empty().is_none();
    if !plain {
        return None;
    }
    match &m.content {
        StrOrRaw::Absent => Some(None),
        StrOrRaw::Str(s) => s.as_str().map(Some),
        StrOrRaw::Raw(_) => None,
    }
}

/// The parts of a chat message after its `content` parts: refusal, reasoning, tool calls
/// (and a legacy `function_call`). Shared by request and response messages.
pub(super) fn chat_message_parts(m: &ChatMessage<'_>, mut parts: Vec<Value>) -> Vec<Value> {
    if let Some(r) = m.refusal.non_empty() {
        parts.push(refusal_part(r));
    }
    if let Some(r) = m.reasoning_content.non_empty().or(m.reasoning.non_empty()) {
        parts.push(reasoning_part(r));
    }
    if let Some(Value::Array(calls)) = value(m.tool_calls) {
        parts.extend(calls.iter().map(chat_tool_call_part));
    }
    if let Some(fc) = value(m.function_call).filter(Value::is_object) {
        parts.push(tool_call_part(
            None,
            fc.get("name").and_then(Value::as_str),
            parse_arguments(fc.get("arguments")),
        ));
    }
    parts
}

/// Parts of a message `content`: a string, a list of content blocks (Chat and Responses
/// block types), or nothing.
pub(super) fn content_parts(content: Option<&Value>) -> Vec<Value> {
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
                .get("image_url")
                .and_then(|i| i.get("url"))
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
            let audio = b.get("input_audio");
            let data = audio.and_then(|a| a.get("data")).and_then(Value::as_str)?;
            let mime = audio
                .and_then(|a| a.get("format"))
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

pub(super) fn reasoning_text(item: &Value) -> Option<String> {
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

/// A chat message read by the pull reader (the fields of [`ChatMessage`], as serde reads
/// them); `None` leaves the whole body to serde.
pub(super) fn fast_message<'a>(s: &mut Scan<'a>, m: &mut ChatMessage<'a>) -> Option<()> {
    let mut seen = Seen::default();
    s.object(|s, key| {
        match key {
            "role" => s.scalar_once(&mut seen, 0, &mut m.role)?,
            "content" => {
                seen.first(1)?;
                m.content = s.str_or_raw()?;
            }
            "tool_call_id" => s.scalar_once(&mut seen, 2, &mut m.tool_call_id)?,
            "refusal" => s.scalar_once(&mut seen, 3, &mut m.refusal)?,
            "reasoning_content" => s.scalar_once(&mut seen, 4, &mut m.reasoning_content)?,
            "reasoning" => s.scalar_once(&mut seen, 5, &mut m.reasoning)?,
            "tool_calls" => s.raw_once(&mut seen, 6, &mut m.tool_calls)?,
            "function_call" => s.raw_once(&mut seen, 7, &mut m.function_call)?,
            _ => s.skip()?,
        }
        Some(())
    })
}

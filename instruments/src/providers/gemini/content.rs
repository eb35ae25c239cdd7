//! Gemini `Content` and its parts as GenAI messages and parts (text, thought summaries,
//! inline and file data, function calls and responses, code execution), the role mapping
//! (`model` → `assistant`) and the finish-reason mapping: what the request, response and
//! stream readers share.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::providers::parts::{
    blob_part, obj, opt_str, reasoning_part, text_part, tool_call_part, tool_response_part,
};
use crate::providers::wire::{Lenient, Scalar, Seq, value};

/// A `Content`: a role and its parts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Content<'a> {
    #[serde(borrow)]
    pub(super) role: Scalar<'a>,
    #[serde(borrow)]
    pub(super) parts: Seq<Lenient<Part<'a>>>,
}

/// One part: exactly one of its data fields is set. Proto JSON accepts both camelCase and
/// snake_case names.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Part<'a> {
    #[serde(borrow)]
    pub(super) text: Scalar<'a>,
    #[serde(borrow)]
    pub(super) thought: Scalar<'a>,
    #[serde(borrow, alias = "inline_data")]
    inline_data: Lenient<Blob<'a>>,
    #[serde(borrow, alias = "file_data")]
    file_data: Lenient<FileData<'a>>,
    #[serde(borrow, alias = "function_call")]
    pub(super) function_call: Lenient<FunctionCall<'a>>,
    #[serde(borrow, alias = "function_response")]
    function_response: Lenient<FunctionResponse<'a>>,
    #[serde(borrow, alias = "executable_code")]
    executable_code: Option<&'a RawValue>,
    #[serde(borrow, alias = "code_execution_result")]
    code_execution_result: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Blob<'a> {
    #[serde(borrow, alias = "mime_type")]
    mime_type: Scalar<'a>,
    #[serde(borrow)]
    data: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct FileData<'a> {
    #[serde(borrow, alias = "mime_type")]
    mime_type: Scalar<'a>,
    #[serde(borrow, alias = "file_uri")]
    file_uri: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct FunctionCall<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    name: Scalar<'a>,
    #[serde(borrow)]
    args: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FunctionResponse<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
}

/// The GenAI role of a Gemini role: `model` → `assistant`, `function` → `tool`; no role
/// (a `systemInstruction`, an embedding input) → `fallback`.
pub(super) fn role_of<'r>(role: &'r Scalar<'_>, fallback: &'r str) -> &'r str {
    match role.non_empty() {
        Some("model") => "assistant",
        Some("function") => "tool",
        Some(r) => r,
        None => fallback,
    }
}

/// The modality of a MIME type (`image/png` → `image`).
fn modality(mime: Option<&str>) -> &str {
    match mime.and_then(|m| m.split('/').next()) {
        Some(m @ ("image" | "audio" | "video")) => m,
        _ => "document",
    }
}

impl Part<'_> {
    /// Whether this part is generated content (text, a thought, a function call): what
    /// time to first token waits for.
    pub(super) fn is_token(&self) -> bool {
        self.text.non_empty().is_some() || self.function_call.get().is_some()
    }

    /// Whether this part is a thought summary (`"thought": true`).
    pub(super) fn is_thought(&self) -> bool {
        self.thought.bool() == Some(true)
    }

    /// The part as a GenAI part (`None` for an empty one).
    pub(super) fn to_part(&self) -> Option<Value> {
        if let Some(t) = self.text.as_str() {
            return Some(if self.is_thought() {
                reasoning_part(t)
            } else {
                text_part(t)
            });
        }
        if let Some(call) = self.function_call.get() {
            return Some(tool_call_part(
                call.id.non_empty(),
                call.name.as_str(),
                value(call.args).unwrap_or(Value::Null),
            ));
        }
        if let Some(r) = self.function_response.get() {
            return Some(tool_response_part(
                r.id.non_empty(),
                value(r.response).unwrap_or(Value::Null),
            ));
        }
        if let Some(b) = self.inline_data.get() {
            let mime = b.mime_type.non_empty();
            return Some(blob_part(
                modality(mime),
                mime,
                b.data.as_str().unwrap_or(""),
            ));
        }
        if let Some(f) = self.file_data.get() {
            let mime = f.mime_type.non_empty();
            return Some(obj([
                ("type", "uri".into()),
                ("modality", modality(mime).into()),
                ("mime_type", opt_str(mime)),
                ("uri", f.file_uri.as_str().unwrap_or("").into()),
            ]));
        }
        for (kind, raw) in [
            ("executable_code", self.executable_code),
            ("code_execution_result", self.code_execution_result),
        ] {
            if let Some(v) = value(raw) {
                return Some(obj([("type", kind.into()), ("content", v)]));
            }
        }
        None
    }
}

/// The GenAI parts of a content's parts.
pub(super) fn parts_of(parts: &Seq<Lenient<Part<'_>>>) -> Vec<Value> {
    parts
        .0
        .iter()
        .filter_map(|p| p.get().and_then(Part::to_part))
        .collect()
}

/// Gemini finish reasons mapped as Python maps them: `STOP` → `stop`, `MAX_TOKENS` →
/// `length`, the safety family → `content_filter`, malformed calls and `OTHER` → `error`;
/// `FINISH_REASON_UNSPECIFIED` (and an empty value) → `None`. Unknown values are kept
/// lower-cased (Python drops them; they still say more than nothing).
pub(super) fn map_finish_reason(reason: &str) -> Option<String> {
    let mapped = match reason {
        "" | "FINISH_REASON_UNSPECIFIED" => return None,
        "STOP" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "LANGUAGE"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => "content_filter",
        "MALFORMED_FUNCTION_CALL"
        | "OTHER"
        | "UNEXPECTED_TOOL_CALL"
        | "NO_IMAGE"
        | "IMAGE_OTHER"
        | "TOO_MANY_TOOL_CALLS"
        | "MALFORMED_RESPONSE"
        | "MISSING_THOUGHT_SIGNATURE" => "error",
        other => return Some(other.to_ascii_lowercase()),
    };
    Some(mapped.to_owned())
}

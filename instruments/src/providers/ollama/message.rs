//! The Ollama chat message (request `messages[]`, response and stream `message`) and its
//! GenAI parts (images, tool calls): what the request, response and stream readers share.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::providers::parts::{blob_part, parse_arguments, tool_call_part};
use crate::providers::wire::{Scalar, Seq, keep_null};

/// A chat message (request `messages[]`, response and stream `message`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OllamaMessage<'a> {
    #[serde(borrow)]
    pub(super) role: Scalar<'a>,
    #[serde(borrow)]
    pub(super) content: Scalar<'a>,
    #[serde(borrow)]
    pub(super) tool_call_id: Scalar<'a>,
    #[serde(borrow)]
    pub(super) thinking: Scalar<'a>,
    #[serde(borrow)]
    pub(super) images: Seq<Scalar<'a>>,
    /// Kept when `null`: a message with a `tool_calls` key and no content has no text part.
    #[serde(borrow, deserialize_with = "keep_null")]
    pub(super) tool_calls: Option<&'a RawValue>,
}

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

pub(super) fn image_parts<'x>(images: &'x Seq<Scalar<'_>>) -> impl Iterator<Item = Value> + 'x {
    images
        .0
        .iter()
        .filter_map(Scalar::as_str)
        .map(|b64| blob_part("image", sniff_image_mime(b64), b64))
}

pub(super) fn tool_call_parts(calls: Option<&Value>) -> impl Iterator<Item = Value> + '_ {
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

//! Anthropic Messages response bodies (and error bodies `{"type": "error", …}`).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::content::{map_stop_reason, raw_content_parts};
use crate::model::{LlmResponse, Message, Usage};
use crate::providers::parts::{DEFAULT_ERROR_TYPE, error_from_value};
use crate::providers::wire::{Count, Lenient, Scalar, keep_null};

/// The response fields the conventions read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow, rename = "type")]
    kind: Scalar<'a>,
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    stop_reason: Scalar<'a>,
    #[serde(borrow, deserialize_with = "keep_null")]
    content: Option<&'a RawValue>,
    #[serde(borrow)]
    usage: Lenient<WireUsage<'a>>,
}

/// Anthropic usage, as reported: `input_tokens` excludes cache reads and writes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WireUsage<'a> {
    #[serde(borrow)]
    pub(super) input_tokens: Scalar<'a>,
    #[serde(borrow)]
    pub(super) output_tokens: Scalar<'a>,
    #[serde(borrow)]
    pub(super) cache_read_input_tokens: Scalar<'a>,
    #[serde(borrow)]
    pub(super) cache_creation_input_tokens: Scalar<'a>,
}

impl WireUsage<'_> {
    /// The counts as reported (see [`span_usage`] for what the span records).
    pub(super) fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens.int(),
            output_tokens: self.output_tokens.int(),
            total_tokens: None,
            cache_read_input_tokens: self.cache_read_input_tokens.int(),
            cache_creation_input_tokens: self.cache_creation_input_tokens.int(),
            reasoning_tokens: None,
        }
    }
}

/// The usage the span and metrics record from the reported one, as the conventions
/// (`anthropic.md`: input tokens MUST include the cached ones) and Python
/// (`__init__.py` `_set_token_usage`) say: input = `input_tokens` + cache reads + cache
/// writes; the cache counts 0 when not reported; total = input + output.
pub(super) fn span_usage(reported: Usage) -> Usage {
    let cache_read = reported.cache_read_input_tokens.unwrap_or(0);
    let cache_creation = reported.cache_creation_input_tokens.unwrap_or(0);
    let input = reported.input_tokens.unwrap_or(0) + cache_read + cache_creation;
    let output = reported.output_tokens.unwrap_or(0);
    Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        total_tokens: Some(input + output),
        cache_read_input_tokens: Some(cache_read),
        cache_creation_input_tokens: Some(cache_creation),
        reasoning_tokens: None,
    }
}

/// The response an accumulated stream (or a body) describes: `blocks` content blocks
/// (the choices Python counts), `usage` as reported (`None`: the response had none).
pub(super) fn response_of(
    id: Option<String>,
    model: Option<String>,
    role: Option<&str>,
    stop_reason: Option<&str>,
    content: Option<Vec<Value>>,
    blocks: usize,
    usage: Option<Usage>,
) -> LlmResponse {
    let finish = stop_reason.map(map_stop_reason);
    let has_content = content.is_some();
    LlmResponse {
        id,
        model,
        finish_reasons: finish.iter().cloned().collect(),
        output_messages: if has_content || finish.is_some() {
            vec![Message {
                role: role.unwrap_or("assistant").to_owned(),
                parts: content.unwrap_or_default(),
                finish_reason: finish,
            }]
        } else {
            Vec::new()
        },
        choice_count: blocks,
        usage: usage.map(span_usage).unwrap_or_default(),
        ..LlmResponse::default()
    }
}

/// Reads a complete Messages response body; `None` when it is not JSON.
pub(crate) fn parse_response(bytes: &[u8]) -> Option<LlmResponse> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(bytes).ok()?;
    let Some(body) = body.0 else {
        return Some(LlmResponse::default());
    };
    if body.kind.as_str() == Some("error") {
        let v: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
        return Some(LlmResponse {
            error: error_from_value(&v, DEFAULT_ERROR_TYPE),
            ..LlmResponse::default()
        });
    }
    let content = body.content.map(|c| raw_content_parts(Some(c)));
    let blocks = body
        .content
        .and_then(|c| serde_json::from_str::<Count>(c.get()).ok())
        .and_then(|c| c.0)
        .unwrap_or(0);
    let usage = body.usage.get().map(WireUsage::usage);
    Some(response_of(
        body.id.into_non_empty(),
        body.model.into_non_empty(),
        body.role.as_str(),
        body.stop_reason.as_str(),
        content,
        blocks,
        usage,
    ))
}

//! Ollama response bodies (and the final object of a stream): the message or `response`
//! text, `done_reason`, the token counts, embeddings' dimension, an `error`.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::message::{OllamaMessage, image_parts, tool_call_parts};
use crate::model::{Api, LlmResponse, Message, Usage};
use crate::providers::parts::{
    DEFAULT_ERROR_TYPE, error_from_value, reasoning_part, text_part, with_total,
};
use crate::providers::wire::{Count, Lenient, Scalar, Seq, value};

/// The response fields the conventions read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    prompt_eval_count: Scalar<'a>,
    #[serde(borrow)]
    eval_count: Scalar<'a>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    embeddings: Seq<Count>,
    embedding: Count,
    #[serde(borrow)]
    response: Scalar<'a>,
    #[serde(borrow)]
    thinking: Scalar<'a>,
    #[serde(borrow)]
    message: Lenient<OllamaMessage<'a>>,
    #[serde(borrow)]
    done_reason: Scalar<'a>,
}

/// Ollama `done_reason`: `stop` becomes `tool_call` when the message calls tools (Ollama
/// says `stop` there); `length`, `load`, `unload` are kept.
pub(super) fn finish_reason(done_reason: Option<&str>, has_tool_calls: bool) -> Option<String> {
    match done_reason {
        Some("stop") | None if has_tool_calls => Some("tool_call".to_owned()),
        Some(r) if !r.is_empty() => Some(r.to_owned()),
        _ => None,
    }
}

/// Pushes the one output message (and its finish reason) onto `r`.
pub(super) fn push_output(
    r: &mut LlmResponse,
    role: Option<&str>,
    parts: Vec<Value>,
    done_reason: Option<&str>,
    has_tool_calls: bool,
) {
    let finish = finish_reason(done_reason, has_tool_calls);
    r.finish_reasons.extend(finish.clone());
    r.output_messages.push(Message {
        role: role.unwrap_or("assistant").to_owned(),
        parts,
        finish_reason: finish,
    });
    r.choice_count = 1;
}

/// The usage of the token counts.
pub(super) fn usage(prompt_eval_count: Option<i64>, eval_count: Option<i64>) -> Usage {
    with_total(Usage {
        input_tokens: prompt_eval_count,
        output_tokens: eval_count,
        ..Usage::default()
    })
}

/// Reads a complete Ollama response body for `api`; `None` when it is not JSON.
pub(crate) fn parse_response(api: Api, bytes: &[u8]) -> Option<LlmResponse> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(bytes).ok()?;
    let Some(body) = body.0 else {
        return Some(LlmResponse::default());
    };
    let error = match body.error {
        Some(_) => serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| error_from_value(&v, DEFAULT_ERROR_TYPE)),
        None => None,
    };
    let mut r = LlmResponse {
        model: body.model.non_empty().map(str::to_owned),
        usage: usage(body.prompt_eval_count.int(), body.eval_count.int()),
        error,
        ..LlmResponse::default()
    };
    let (parts, has_tool_calls, role) = match api {
        Api::OllamaEmbed => {
            r.embedding_dimensions = match body.embeddings.0.first() {
                Some(first) => first.0,
                None => body.embedding.0,
            };
            return Some(r);
        }
        Api::OllamaGenerate => {
            let Some(text) = body.response.as_str() else {
                return Some(r);
            };
            let mut parts = Vec::new();
            if let Some(t) = body.thinking.non_empty() {
                parts.push(reasoning_part(t));
            }
            parts.push(text_part(text));
            (parts, false, None)
        }
        _ => {
            let Some(m) = body.message.get() else {
                return Some(r);
            };
            let mut parts = Vec::new();
            if let Some(t) = m.thinking.non_empty() {
                parts.push(reasoning_part(t));
            }
            if let Some(c) = m.content.non_empty() {
                parts.push(text_part(c));
            }
            parts.extend(image_parts(&m.images));
            let calls = value(m.tool_calls);
            let calls: Vec<Value> = tool_call_parts(calls.as_ref()).collect();
            let has = !calls.is_empty();
            parts.extend(calls);
            (parts, has, m.role.as_str())
        }
    };
    push_output(
        &mut r,
        role,
        parts,
        body.done_reason.as_str(),
        has_tool_calls,
    );
    Some(r)
}

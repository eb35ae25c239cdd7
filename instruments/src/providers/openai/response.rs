//! OpenAI-compatible response bodies: Chat and legacy Completions `choices`, Embeddings
//! `data`, Responses `output`, usage in every shape, and an `error` in the body.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::message::{
    ChatMessage, chat_message_parts, content_parts, raw_content_parts, reasoning_text,
};
use crate::model::{Api, LlmResponse, Message, Usage};
use crate::providers::parts::{
    DEFAULT_ERROR_TYPE, content_of, error_from_value, parse_arguments, reasoning_part, text_part,
    tool_call_part, with_total,
};
use crate::providers::wire::{Field, Lenient, Scalar, Seq, VectorLen};

/// The response fields the conventions read, for every OpenAI-compatible API.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    usage: Lenient<WireUsage<'a>>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    data: Seq<Lenient<Embedding>>,
    #[serde(borrow)]
    choices: Seq<Lenient<Choice<'a>>>,
    #[serde(borrow)]
    output: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Scalar<'a>,
    #[serde(borrow)]
    incomplete_details: Lenient<Incomplete<'a>>,
    #[serde(borrow)]
    system_fingerprint: Scalar<'a>,
    #[serde(borrow)]
    service_tier: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Embedding {
    embedding: VectorLen,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Choice<'a> {
    #[serde(borrow)]
    finish_reason: Scalar<'a>,
    #[serde(borrow)]
    text: Scalar<'a>,
    #[serde(borrow)]
    message: Lenient<ChatMessage<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Incomplete<'a> {
    #[serde(borrow)]
    reason: Scalar<'a>,
}

/// Usage of any OpenAI-compatible shape: Chat/Completions (`prompt_tokens`,
/// `completion_tokens`, `prompt_tokens_details.cached_tokens`,
/// `completion_tokens_details.reasoning_tokens`), Responses (`input_tokens`,
/// `output_tokens`, `input_tokens_details.cached_tokens`,
/// `output_tokens_details.reasoning_tokens`), DeepSeek `prompt_cache_hit_tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WireUsage<'a> {
    #[serde(borrow)]
    prompt_tokens: Scalar<'a>,
    #[serde(borrow)]
    input_tokens: Scalar<'a>,
    #[serde(borrow)]
    completion_tokens: Scalar<'a>,
    #[serde(borrow)]
    output_tokens: Scalar<'a>,
    #[serde(borrow)]
    total_tokens: Scalar<'a>,
    #[serde(borrow)]
    prompt_cache_hit_tokens: Scalar<'a>,
    #[serde(borrow)]
    prompt_tokens_details: Field<Details<'a>>,
    #[serde(borrow)]
    input_tokens_details: Lenient<Details<'a>>,
    #[serde(borrow)]
    completion_tokens_details: Lenient<Details<'a>>,
    #[serde(borrow)]
    output_tokens_details: Lenient<Details<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Details<'a> {
    #[serde(borrow)]
    cached_tokens: Scalar<'a>,
    #[serde(borrow)]
    reasoning_tokens: Scalar<'a>,
}

impl WireUsage<'_> {
    pub(super) fn usage(&self) -> Usage {
        let detail =
            |d: &Lenient<Details<'_>>, f: fn(&Details<'_>) -> Option<i64>| d.get().and_then(f);
        // Chat / Completions / Embeddings usage (`prompt_tokens`): without
        // `prompt_tokens_details` Python records 0 cached tokens (with it `null`, none).
        let chat_default = match (&self.prompt_tokens, &self.prompt_tokens_details) {
            (Scalar::Absent, _) | (_, Field::Null) => None,
            _ => Some(0),
        };
        with_total(Usage {
            input_tokens: self.prompt_tokens.int().or(self.input_tokens.int()),
            output_tokens: self.completion_tokens.int().or(self.output_tokens.int()),
            total_tokens: self.total_tokens.int(),
            cache_read_input_tokens: self
                .prompt_tokens_details
                .get()
                .and_then(|d| d.cached_tokens.int())
                .or_else(|| detail(&self.input_tokens_details, |d| d.cached_tokens.int()))
                .or(self.prompt_cache_hit_tokens.int())
                .or(chat_default),
            cache_creation_input_tokens: None,
            reasoning_tokens: detail(&self.completion_tokens_details, |d| {
                d.reasoning_tokens.int()
            })
            .or_else(|| detail(&self.output_tokens_details, |d| d.reasoning_tokens.int())),
        })
    }
}

/// The usage of a raw `usage` field, when it is an object.
pub(super) fn usage_of_raw(raw: Option<&RawValue>) -> Option<Usage> {
    let raw = raw.filter(|r| r.get().starts_with('{'))?;
    serde_json::from_str::<Lenient<WireUsage<'_>>>(raw.get())
        .ok()
        .and_then(|l| l.0.map(|u| u.usage()))
}

/// OpenAI finish reasons: `tool_calls` / `function_call` → `tool_call`, others unchanged.
pub(super) fn map_finish_reason(reason: &str) -> String {
    match reason {
        "tool_calls" | "function_call" => "tool_call".to_owned(),
        other => other.to_owned(),
    }
}

fn chat_output_message(choice: &Choice<'_>, api: Api) -> Option<Message> {
    let parts = if api == Api::OpenAiCompletion {
        vec![text_part(choice.text.as_str()?)]
    } else {
        let m = choice.message.get()?;
        let text = raw_content_parts(m.content)
            .into_iter()
            .filter(|p| content_of(p) != Some(""))
            .collect();
        chat_message_parts(m, text)
    };
    let role = choice
        .message
        .get()
        .and_then(|m| m.role.as_str())
        .unwrap_or("assistant");
    Some(Message {
        role: role.to_owned(),
        parts,
        finish_reason: choice.finish_reason.as_str().map(map_finish_reason),
    })
}

pub(super) fn responses_output(
    output: Option<&Value>,
    status: Option<&str>,
    incomplete_reason: Option<&str>,
    r: &mut LlmResponse,
) {
    let output = output.and_then(Value::as_array);
    let mut parts = Vec::new();
    let mut has_tool_call = false;
    for item in output.into_iter().flatten() {
        match item.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => parts.extend(content_parts(item.get("content"))),
            "function_call" => {
                has_tool_call = true;
                parts.push(tool_call_part(
                    item.get("call_id").and_then(Value::as_str),
                    item.get("name").and_then(Value::as_str),
                    parse_arguments(item.get("arguments")),
                ));
            }
            "custom_tool_call" => {
                has_tool_call = true;
                parts.push(tool_call_part(
                    item.get("call_id").and_then(Value::as_str),
                    item.get("name").and_then(Value::as_str),
                    item.get("input").cloned().unwrap_or(Value::Null),
                ));
            }
            "reasoning" => {
                if let Some(t) = reasoning_text(item) {
                    parts.push(reasoning_part(&t));
                }
            }
            _ => {}
        }
    }
    let finish = match status {
        Some("completed") if has_tool_call => Some("tool_call".to_owned()),
        Some("completed") => Some("stop".to_owned()),
        Some("incomplete") => Some(match incomplete_reason {
            Some("max_output_tokens") | None => "length".to_owned(),
            Some(other) => other.to_owned(),
        }),
        Some("failed") => Some("error".to_owned()),
        Some("cancelled") => Some("cancelled".to_owned()),
        _ => None,
    };
    if !parts.is_empty() || finish.is_some() {
        r.choice_count = 1;
        r.finish_reasons.extend(finish.clone());
        r.output_messages.push(Message {
            role: "assistant".to_owned(),
            parts,
            finish_reason: finish,
        });
    }
}

/// Reads a complete OpenAI-compatible response body for `api`; `None` when it is not JSON.
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
        usage: body.usage.get().map(WireUsage::usage).unwrap_or_default(),
        error,
        ..LlmResponse::default()
    };
    match api {
        Api::OpenAiEmbeddings => {
            r.embedding_dimensions = body
                .data
                .0
                .first()
                .and_then(|d| d.get())
                .and_then(|d| d.embedding.0);
        }
        Api::OpenAiResponses => {
            let output = crate::providers::wire::value(body.output);
            responses_output(
                output.as_ref(),
                body.status.as_str(),
                body.incomplete_details
                    .get()
                    .and_then(|i| i.reason.as_str()),
                &mut r,
            );
        }
        _ => {
            for choice in &body.choices.0 {
                r.choice_count += 1;
                let Some(choice) = choice.get() else {
                    continue;
                };
                if let Some(f) = choice.finish_reason.as_str() {
                    r.finish_reasons.push(map_finish_reason(f));
                }
                if let Some(m) = chat_output_message(choice, api) {
                    r.output_messages.push(m);
                }
            }
        }
    }
    r.id = body.id.into_non_empty();
    r.model = body.model.into_non_empty();
    r.system_fingerprint = body.system_fingerprint.into_non_empty();
    r.service_tier = body.service_tier.into_non_empty();
    Some(r)
}

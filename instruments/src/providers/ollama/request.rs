//! Ollama request bodies: chat `messages`, generate `system` + `prompt` + `images`, embed
//! `input`; sampling from `options`; `format` (`"json"` or a JSON schema); tools. `stream`
//! defaults to `true` for chat and generate, as Ollama does.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::message::{OllamaMessage, image_parts, tool_call_parts};
use crate::model::{Api, LlmRequest, Message};
use crate::providers::parts::{
    message, reasoning_part, text_part, tool_definition, tool_response_part,
};
use crate::providers::wire::{Lenient, Scalar, Seq, StrList, keep_null, raw_str, value};

/// The request fields the conventions read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    stream: Scalar<'a>,
    #[serde(borrow)]
    options: Lenient<Options<'a>>,
    #[serde(borrow)]
    messages: Seq<Lenient<OllamaMessage<'a>>>,
    #[serde(borrow)]
    system: Scalar<'a>,
    #[serde(borrow, deserialize_with = "keep_null")]
    prompt: Option<&'a RawValue>,
    #[serde(borrow)]
    images: Seq<Scalar<'a>>,
    #[serde(borrow, deserialize_with = "keep_null")]
    input: Option<&'a RawValue>,
    #[serde(borrow)]
    format: Option<&'a RawValue>,
    #[serde(borrow)]
    tools: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Options<'a> {
    #[serde(borrow)]
    num_predict: Scalar<'a>,
    #[serde(borrow)]
    temperature: Scalar<'a>,
    #[serde(borrow)]
    top_p: Scalar<'a>,
    #[serde(borrow)]
    top_k: Scalar<'a>,
    #[serde(borrow)]
    frequency_penalty: Scalar<'a>,
    #[serde(borrow)]
    presence_penalty: Scalar<'a>,
    #[serde(borrow)]
    seed: Scalar<'a>,
    stop: StrList,
}

fn chat_message(m: Option<&OllamaMessage<'_>>) -> Message {
    let Some(m) = m else {
        return message("user", vec![text_part("")]);
    };
    let role = m.role.as_str().unwrap_or("user");
    let content = m.content.as_str().unwrap_or("");
    if role == "tool" {
        return message(
            "tool",
            vec![tool_response_part(
                m.tool_call_id.as_str(),
                Value::String(content.to_owned()),
            )],
        );
    }
    let mut parts = Vec::new();
    if !content.is_empty() || m.tool_calls.is_none() {
        parts.push(text_part(content));
    }
    parts.extend(image_parts(&m.images));
    if let Some(t) = m.thinking.non_empty() {
        parts.push(reasoning_part(t));
    }
    let calls = value(m.tool_calls);
    parts.extend(tool_call_parts(calls.as_ref()));
    message(role, parts)
}

/// Reads an Ollama request body for `api`: `None` when it is not a JSON object; the flag
/// says whether it has a `model` key.
pub(crate) fn parse_request(api: Api, body: &[u8]) -> Option<(LlmRequest, bool)> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(body).ok()?;
    let body = body.0?;
    let names_model = !matches!(body.model, Scalar::Absent);
    let mut input_messages = Vec::new();
    match api {
        Api::OllamaChat => {
            input_messages.extend(body.messages.0.iter().map(|m| chat_message(m.get())));
        }
        Api::OllamaGenerate => {
            if let Some(s) = body.system.non_empty() {
                input_messages.push(message("system", vec![text_part(s)]));
            }
            let prompt = body.prompt.and_then(raw_str);
            let mut parts: Vec<Value> = prompt.as_deref().map(text_part).into_iter().collect();
            parts.extend(image_parts(&body.images));
            if !parts.is_empty() {
                input_messages.push(message("user", parts));
            }
        }
        _ => {
            let input = body.input.or(body.prompt);
            let one = |s: &str| message("user", vec![text_part(s)]);
            match value(input) {
                Some(Value::String(s)) => input_messages.push(one(&s)),
                Some(Value::Array(a)) => {
                    input_messages.extend(a.iter().filter_map(Value::as_str).map(one));
                }
                _ => {}
            }
        }
    }
    let (output_type, structured_output_schema) = match value(body.format) {
        Some(Value::String(s)) if s == "json" => (Some("json".to_owned()), None),
        Some(schema @ Value::Object(_)) => (Some("json".to_owned()), Some(schema.to_string())),
        _ => (None, None),
    };
    let tools = value(body.tools);
    let tool_definitions = tools
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| match t.get("function") {
            Some(f) => tool_definition("function", f, "parameters"),
            None => t.clone(),
        })
        .collect();
    let streams_by_default = matches!(api, Api::OllamaChat | Api::OllamaGenerate);
    let opts = body.options.0.unwrap_or_default();
    let req = LlmRequest {
        stream: body.stream.bool().unwrap_or(streams_by_default),
        max_tokens: opts.num_predict.int(),
        temperature: opts.temperature.float(),
        top_p: opts.top_p.float(),
        top_k: opts.top_k.float(),
        frequency_penalty: opts.frequency_penalty.float(),
        presence_penalty: opts.presence_penalty.float(),
        seed: opts.seed.int(),
        stop_sequences: opts.stop.0,
        output_type,
        structured_output_schema,
        input_messages,
        tool_definitions,
        model: body.model.into_non_empty(),
        ..LlmRequest::default()
    };
    Some((req, names_model))
}

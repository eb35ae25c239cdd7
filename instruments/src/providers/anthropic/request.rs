//! Anthropic Messages request bodies: `system` becomes the system instructions,
//! `tool_result` blocks stay in their `user` message as the API sends them, tools and the
//! structured-output format.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::content::raw_content_parts;
use crate::model::LlmRequest;
use crate::providers::parts::{message, obj, output_format};
use crate::providers::wire::{Lenient, Scalar, Seq, StrList, value};

/// The request fields the conventions read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    stream: Scalar<'a>,
    #[serde(borrow)]
    max_tokens: Scalar<'a>,
    #[serde(borrow)]
    temperature: Scalar<'a>,
    #[serde(borrow)]
    top_p: Scalar<'a>,
    #[serde(borrow)]
    top_k: Scalar<'a>,
    stop_sequences: StrList,
    #[serde(borrow)]
    metadata: Lenient<Metadata<'a>>,
    #[serde(borrow)]
    system: Option<&'a RawValue>,
    #[serde(borrow)]
    messages: Seq<Lenient<InputMessage<'a>>>,
    #[serde(borrow)]
    tools: Option<&'a RawValue>,
    #[serde(borrow)]
    output_format: Option<&'a RawValue>,
    #[serde(borrow)]
    output_config: Lenient<OutputConfig<'a>>,
    #[serde(borrow)]
    response_format: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata<'a> {
    #[serde(borrow)]
    user_id: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputConfig<'a> {
    #[serde(borrow)]
    format: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InputMessage<'a> {
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

/// Tool definitions as Python writes them for Anthropic: `{"name", "description",
/// "input_schema"}` (the description only when non-empty), for every tool, built-in or not.
fn tool_definitions(tools: Option<&RawValue>) -> Vec<Value> {
    let tools = value(tools);
    tools
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            let description = t
                .get("description")
                .filter(|d| !matches!(d, Value::Null | Value::Bool(false)))
                .filter(|d| d.as_str() != Some(""))
                .cloned()
                .unwrap_or(Value::Null);
            obj([
                ("name", t.get("name").cloned().unwrap_or(Value::Null)),
                ("description", description),
                (
                    "input_schema",
                    t.get("input_schema").cloned().unwrap_or(Value::Null),
                ),
            ])
        })
        .collect()
}

/// Reads a Messages request body: `None` when it is not a JSON object; the flag says
/// whether it has a `model` key.
pub(crate) fn parse_request(body: &[u8]) -> Option<(LlmRequest, bool)> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(body).ok()?;
    let body = body.0?;
    let names_model = !matches!(body.model, Scalar::Absent);
    // `system` goes into `gen_ai.system_instructions`, not among the messages (as Python
    // and the conventions put it).
    let system_instructions = raw_content_parts(body.system);
    let mut input_messages = Vec::with_capacity(body.messages.0.len());
    for m in &body.messages.0 {
        let (role, content) = match m.get() {
            Some(m) => (m.role.as_str().unwrap_or("user"), m.content),
            None => ("user", None),
        };
        input_messages.push(message(role, raw_content_parts(content)));
    }
    let format = body
        .output_format
        .or_else(|| body.output_config.get().and_then(|c| c.format))
        .or(body.response_format);
    let (output_type, structured_output_schema) = output_format(value(format).as_ref());
    let req = LlmRequest {
        stream: body.stream.bool().unwrap_or(false),
        stream_explicit: body.stream.is_set(),
        max_tokens: body.max_tokens.int(),
        temperature: body.temperature.float(),
        top_p: body.top_p.float(),
        top_k: body.top_k.float(),
        stop_sequences: body.stop_sequences.0,
        user: body.metadata.0.and_then(|m| m.user_id.into_non_empty()),
        output_type,
        structured_output_schema,
        input_messages,
        system_instructions,
        tool_definitions: tool_definitions(body.tools),
        model: body.model.into_non_empty(),
        ..LlmRequest::default()
    };
    Some((req, names_model))
}

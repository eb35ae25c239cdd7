//! Converse / ConverseStream request bodies: `system` blocks become the first message (role
//! `system`), `messages[].content` blocks their parts, `inferenceConfig` the request
//! parameters, `toolConfig.tools[].toolSpec` the tool definitions. The model is not in the
//! body (it is in the path).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::content::blocks_parts;
use crate::model::LlmRequest;
use crate::providers::parts::{message, obj};
use crate::providers::wire::{Lenient, Scalar, Seq, StrList, value};

/// The request fields the conventions read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Body<'a> {
    #[serde(borrow)]
    messages: Seq<Lenient<InputMessage<'a>>>,
    #[serde(borrow)]
    system: Option<&'a RawValue>,
    #[serde(borrow)]
    inference_config: Lenient<InferenceConfig<'a>>,
    #[serde(borrow)]
    tool_config: Option<&'a RawValue>,
    #[serde(borrow)]
    guardrail_config: Lenient<GuardrailConfig<'a>>,
    #[serde(borrow)]
    additional_model_request_fields: Lenient<Additional<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InputMessage<'a> {
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct InferenceConfig<'a> {
    #[serde(borrow)]
    max_tokens: Scalar<'a>,
    #[serde(borrow)]
    temperature: Scalar<'a>,
    #[serde(borrow)]
    top_p: Scalar<'a>,
    stop_sequences: StrList,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GuardrailConfig<'a> {
    #[serde(borrow)]
    guardrail_identifier: Scalar<'a>,
}

/// Model-specific fields; Anthropic models take `top_k` here.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Additional<'a> {
    #[serde(borrow)]
    top_k: Scalar<'a>,
}

/// `toolConfig.tools[].toolSpec` as `{"type": "function", "name", "description",
/// "parameters"}` (`parameters` = `inputSchema.json`).
fn tool_definitions(config: Option<&RawValue>) -> Vec<Value> {
    let config = value(config);
    config
        .as_ref()
        .and_then(|c| c.get("tools"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("toolSpec"))
        .map(|spec| {
            obj([
                ("type", "function".into()),
                ("name", spec.get("name").cloned().unwrap_or(Value::Null)),
                (
                    "description",
                    spec.get("description").cloned().unwrap_or(Value::Null),
                ),
                (
                    "parameters",
                    spec.get("inputSchema")
                        .and_then(|s| s.get("json"))
                        .cloned()
                        .unwrap_or(Value::Null),
                ),
            ])
        })
        .collect()
}

/// Reads a Converse request body: `None` when it is not a JSON object. The flag (the body
/// names a model) is always `false`: the model is in the path.
pub(crate) fn parse_request(body: &[u8]) -> Option<(LlmRequest, bool)> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(body).ok()?;
    let body = body.0?;
    let mut input_messages = Vec::with_capacity(body.messages.0.len() + 1);
    let system = blocks_parts(value(body.system).as_ref());
    if !system.is_empty() {
        input_messages.push(message("system", system));
    }
    for m in &body.messages.0 {
        let (role, content) = match m.get() {
            Some(m) => (m.role.as_str().unwrap_or("user"), value(m.content)),
            None => ("user", None),
        };
        input_messages.push(message(role, blocks_parts(content.as_ref())));
    }
    let mut req = LlmRequest {
        input_messages,
        tool_definitions: tool_definitions(body.tool_config),
        top_k: body
            .additional_model_request_fields
            .get()
            .and_then(|a| a.top_k.float()),
        ..LlmRequest::default()
    };
    if let Some(c) = body.inference_config.0 {
        req.max_tokens = c.max_tokens.int();
        req.temperature = c.temperature.float();
        req.top_p = c.top_p.float();
        req.stop_sequences = c.stop_sequences.0;
    }
    Some((req, false))
}

/// The guardrail a request names (`guardrailConfig.guardrailIdentifier`), for
/// `aws.bedrock.guardrail.id`.
#[cfg(any(test, feature = "bedrock"))]
pub(crate) fn guardrail_id(body: &[u8]) -> Option<String> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(body).ok()?;
    body.0?
        .guardrail_config
        .0?
        .guardrail_identifier
        .into_non_empty()
}

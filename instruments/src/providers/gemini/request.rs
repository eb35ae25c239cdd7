//! Gemini request bodies: `GenerateContentRequest` (`contents`, `systemInstruction` as the
//! first message with role `system`, `tools`, `generationConfig`) and the embedding requests
//! (`embedContent`: one `content`; `batchEmbedContents`: `requests[].content`), each input a
//! `user` message. The model is not in the body (it is in the path).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::content::{Content, parts_of, role_of};
use crate::model::{LlmRequest, Message};
use crate::providers::parts::{message, obj, tool_definition};
use crate::providers::wire::{Lenient, Scalar, Seq, StrList, value};

/// The request fields the conventions read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Body<'a> {
    #[serde(borrow)]
    contents: Seq<Lenient<Content<'a>>>,
    #[serde(borrow, alias = "system_instruction")]
    system_instruction: Lenient<Content<'a>>,
    #[serde(borrow)]
    tools: Option<&'a RawValue>,
    #[serde(borrow, alias = "generation_config")]
    generation_config: Lenient<GenerationConfig<'a>>,
    /// `embedContent`.
    #[serde(borrow)]
    content: Lenient<Content<'a>>,
    /// `batchEmbedContents`.
    #[serde(borrow)]
    requests: Seq<Lenient<EmbedRequest<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmbedRequest<'a> {
    #[serde(borrow)]
    content: Lenient<Content<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GenerationConfig<'a> {
    #[serde(borrow)]
    temperature: Scalar<'a>,
    #[serde(borrow, alias = "top_p")]
    top_p: Scalar<'a>,
    #[serde(borrow, alias = "top_k")]
    top_k: Scalar<'a>,
    #[serde(borrow, alias = "candidate_count")]
    candidate_count: Scalar<'a>,
    #[serde(borrow, alias = "max_output_tokens")]
    max_output_tokens: Scalar<'a>,
    #[serde(alias = "stop_sequences")]
    stop_sequences: StrList,
    #[serde(borrow, alias = "presence_penalty")]
    presence_penalty: Scalar<'a>,
    #[serde(borrow, alias = "frequency_penalty")]
    frequency_penalty: Scalar<'a>,
    #[serde(borrow)]
    seed: Scalar<'a>,
    #[serde(borrow, alias = "response_mime_type")]
    response_mime_type: Scalar<'a>,
    #[serde(borrow, alias = "response_schema")]
    response_schema: Option<&'a RawValue>,
    #[serde(borrow, alias = "response_json_schema")]
    response_json_schema: Option<&'a RawValue>,
    #[serde(borrow, alias = "thinking_config")]
    thinking_config: Lenient<ThinkingConfig<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ThinkingConfig<'a> {
    #[serde(borrow, alias = "thinking_level")]
    thinking_level: Scalar<'a>,
}

/// `tools[].functionDeclarations[]` as function definitions; the built-in tools
/// (`codeExecution`, `googleSearch`, …) as `{"type": "<name>"}`.
fn tool_definitions(tools: Option<&RawValue>) -> Vec<Value> {
    let tools = value(tools);
    let mut out = Vec::new();
    for tool in tools
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(fields) = tool.as_object() else {
            continue;
        };
        for (key, v) in fields {
            match key.as_str() {
                "functionDeclarations" | "function_declarations" => {
                    for decl in v.as_array().into_iter().flatten() {
                        let params = if decl.get("parametersJsonSchema").is_some() {
                            "parametersJsonSchema"
                        } else {
                            "parameters"
                        };
                        out.push(tool_definition("function", decl, params));
                    }
                }
                other => out.push(obj([("type", other.into())])),
            }
        }
    }
    out
}

/// `gen_ai.output.type` of a `responseMimeType`.
fn output_type(mime: &str) -> String {
    match mime {
        "application/json" => "json".to_owned(),
        "text/plain" => "text".to_owned(),
        other => other.to_owned(),
    }
}

fn user_message(content: &Content<'_>) -> Message {
    message(role_of(&content.role, "user"), parts_of(&content.parts))
}

/// Reads a Gemini request body: `None` when it is not a JSON object. The flag (the body
/// names a model) is always `false`: the model is in the path.
pub(crate) fn parse_request(body: &[u8]) -> Option<(LlmRequest, bool)> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(body).ok()?;
    let body = body.0?;
    let mut input_messages = Vec::with_capacity(body.contents.0.len() + 1);
    if let Some(system) = body.system_instruction.get() {
        let parts = parts_of(&system.parts);
        if !parts.is_empty() {
            input_messages.push(message("system", parts));
        }
    }
    input_messages.extend(
        body.contents
            .0
            .iter()
            .filter_map(|c| c.get().map(user_message)),
    );
    if let Some(c) = body.content.get() {
        input_messages.push(user_message(c));
    }
    input_messages.extend(
        body.requests
            .0
            .iter()
            .filter_map(|r| r.get().and_then(|r| r.content.get()).map(user_message)),
    );
    let mut req = LlmRequest {
        input_messages,
        tool_definitions: tool_definitions(body.tools),
        ..LlmRequest::default()
    };
    if let Some(g) = body.generation_config.0 {
        req.temperature = g.temperature.float();
        req.top_p = g.top_p.float();
        req.top_k = g.top_k.float();
        req.max_tokens = g.max_output_tokens.int();
        req.presence_penalty = g.presence_penalty.float();
        req.frequency_penalty = g.frequency_penalty.float();
        req.seed = g.seed.int();
        req.choice_count = g.candidate_count.int().filter(|n| *n != 1);
        req.stop_sequences = g.stop_sequences.0;
        req.output_type = g.response_mime_type.non_empty().map(output_type);
        req.structured_output_schema = value(g.response_json_schema.or(g.response_schema))
            .filter(|s| !s.is_null())
            .map(|s| s.to_string());
        if req.structured_output_schema.is_some() && req.output_type.is_none() {
            req.output_type = Some("json".to_owned());
        }
        req.reasoning_effort = g
            .thinking_config
            .0
            .and_then(|t| t.thinking_level.into_non_empty());
    }
    Some((req, false))
}

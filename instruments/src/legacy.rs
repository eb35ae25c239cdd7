//! Traceloop's legacy flattened content attributes, which Python's Ollama instrumentation
//! (0.62) still writes instead of the JSON `gen_ai.input.messages` /
//! `gen_ai.output.messages`: `gen_ai.prompt.{i}.role` / `.content` / `.tool_call_id` /
//! `.tool_calls.{j}.id|name|arguments`, `llm.request.functions.{i}.name|description|parameters`,
//! `gen_ai.completion.0.role` / `.content` (source: `opentelemetry-instrumentation-ollama`
//! 0.62.4 `span_utils.py` `set_input_attributes`, `_set_prompts`, `set_tools_attributes`,
//! `set_response_attributes`).
//!
//! Ollama spans carry them next to the JSON attributes in the default mode, so a Traceloop
//! dashboard reading either finds its data; content capture gates them like the JSON ones.

use llmetry::semconv as k;
use opentelemetry::KeyValue;
use serde_json::Value;

use crate::json;
use crate::model::{Api, Message};

fn text_of(m: &Message) -> String {
    m.parts
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|p| p.get("content").and_then(Value::as_str))
        .collect()
}

fn push_text(attrs: &mut Vec<KeyValue>, key: String, value: String) {
    if !value.is_empty() {
        attrs.push(KeyValue::new(key, value));
    }
}

/// A JSON string of `v` as Python's `json.dumps` writes it, or the string itself.
fn json_or_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => json::to_string(other),
    }
}

/// `gen_ai.prompt.*` of an Ollama request's input messages.
pub(crate) fn prompts(api: Api, messages: &[Message], attrs: &mut Vec<KeyValue>) {
    let prefix = k::GEN_AI_PROMPT;
    match api {
        Api::OllamaChat => {
            if messages.is_empty() {
                attrs.push(KeyValue::new(format!("{prefix}.0.role"), "user"));
            }
            for (i, m) in messages.iter().enumerate() {
                push_text(attrs, format!("{prefix}.{i}.role"), m.role.clone());
                let mut content = text_of(m);
                let mut calls = 0;
                for part in &m.parts {
                    match part.get("type").and_then(Value::as_str) {
                        Some("tool_call_response") => {
                            if let Some(r) = part.get("response") {
                                content.push_str(&json_or_str(r));
                            }
                            if let Some(id) = part.get("id").and_then(Value::as_str) {
                                push_text(
                                    attrs,
                                    format!("{prefix}.{i}.tool_call_id"),
                                    id.to_owned(),
                                );
                            }
                        }
                        Some("tool_call") => {
                            let field = |f: &str| part.get(f).and_then(Value::as_str);
                            let call = format!("{prefix}.{i}.tool_calls.{calls}");
                            if let Some(id) = field("id") {
                                push_text(attrs, format!("{call}.id"), id.to_owned());
                            }
                            if let Some(name) = field("name") {
                                push_text(attrs, format!("{call}.name"), name.to_owned());
                            }
                            if let Some(a) = part.get("arguments").filter(|a| !a.is_null()) {
                                push_text(attrs, format!("{call}.arguments"), json_or_str(a));
                            }
                            calls += 1;
                        }
                        _ => {}
                    }
                }
                push_text(attrs, format!("{prefix}.{i}.content"), content);
            }
        }
        Api::OllamaGenerate => {
            attrs.push(KeyValue::new(format!("{prefix}.0.role"), "user"));
            // The prompt (Python leaves `system` out).
            if let Some(user) = messages.iter().find(|m| m.role == "user") {
                push_text(attrs, format!("{prefix}.0.content"), text_of(user));
            }
        }
        _ => {
            for (i, m) in messages.iter().enumerate() {
                attrs.push(KeyValue::new(format!("{prefix}.{i}.role"), "user"));
                push_text(attrs, format!("{prefix}.{i}.content"), text_of(m));
            }
        }
    }
}

/// `llm.request.functions.*` of an Ollama request's tools.
pub(crate) fn functions(tools: &[Value], attrs: &mut Vec<KeyValue>) {
    let prefix = k::LLM_REQUEST_FUNCTIONS;
    for (i, t) in tools.iter().enumerate() {
        let Some(name) = t.get("name").and_then(Value::as_str) else {
            continue;
        };
        push_text(attrs, format!("{prefix}.{i}.name"), name.to_owned());
        if let Some(d) = t.get("description").and_then(Value::as_str) {
            push_text(attrs, format!("{prefix}.{i}.description"), d.to_owned());
        }
        let parameters = t
            .get("parameters")
            .map_or_else(|| "null".to_owned(), json::to_string);
        attrs.push(KeyValue::new(
            format!("{prefix}.{i}.parameters"),
            parameters,
        ));
    }
}

/// `gen_ai.completion.0.*` of an Ollama response's message.
pub(crate) fn completions(messages: &[Message], attrs: &mut Vec<KeyValue>) {
    let Some(m) = messages.first() else {
        return;
    };
    let prefix = k::GEN_AI_COMPLETION;
    push_text(attrs, format!("{prefix}.0.content"), text_of(m));
    push_text(attrs, format!("{prefix}.0.role"), m.role.clone());
}

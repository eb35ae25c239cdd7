//! Prompts and completions as log events instead of span attributes
//! (`init().use_attributes(false)`), as Python's event mode: `gen_ai.{role}.message` per input
//! message and `gen_ai.choice` per choice, emitted as `tracing` events under the LLM span's
//! context (so the log bridge gives them its trace and span ids), with the target
//! [`llmetry::semconv::GENAI_EVENTS_TARGET`]: llmetry's span layer ignores it, its log
//! bridge exports it. An app printing `tracing` events with a subscriber of its own may
//! want to leave that target out (the events carry prompts and completions). With content
//! capture off the events are still emitted, without `content` and tool-call `arguments`.
//!
//! This module takes the context, provider and content switch of the span, not the span:
//! [`crate::span`] calls it, it calls nothing back.
//!
//! Turn logging on to export them:
//!
//! ```rust,standalone_crate
//! use llmetry_instruments::{LlmSpan, model::{Api, Provider}};
//! use opentelemetry_sdk::logs::InMemoryLogExporter;
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//! use serde_json::json;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let logs = InMemoryLogExporter::default();
//! let telemetry = llmetry::init()
//!     .use_attributes(false)
//!     .logging_enabled(true)
//!     .logging_exporter(logs.clone())
//!     .exporter(InMemorySpanExporter::default())
//!     .silence_init_message(true)
//! #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
//!     .install()?;
//! let mut span = LlmSpan::start(Api::OpenAiChat, Provider::OpenAi, None);
//! span.record_request_json(&json!({"model": "gpt-4o", "messages": [
//!     {"role": "system", "content": "Be brief."},
//!     {"role": "user", "content": "Why is db-1 down?"},
//! ]}));
//! span.record_response_json(&json!({"choices": [
//!     {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Disk full."}},
//! ]}));
//! span.finish();
//! telemetry.flush()?;
//! let emitted = logs.get_emitted_logs()?;
//! let names: Vec<&str> = emitted.iter().filter_map(|l| l.record.event_name()).collect();
//! assert_eq!(names, ["gen_ai.system.message", "gen_ai.user.message", "gen_ai.choice"]);
//! # Ok(()) }
//! ```

use llmetry::semconv as k;
use opentelemetry::Context;
use serde_json::{Map, Value, json};

use crate::model::Message;

fn text_or_parts(parts: &[Value]) -> Value {
    let texts: Vec<&str> = parts
        .iter()
        .filter(|p| p["type"] == "text")
        .filter_map(|p| p["content"].as_str())
        .collect();
    let others = parts
        .iter()
        .filter(|p| p["type"] != "text" && p["type"] != "tool_call")
        .count();
    if others == 0 {
        Value::String(texts.join(""))
    } else {
        Value::Array(
            parts
                .iter()
                .filter(|p| p["type"] != "tool_call")
                .cloned()
                .collect(),
        )
    }
}

fn tool_calls(parts: &[Value], content: bool) -> Vec<Value> {
    parts
        .iter()
        .filter(|p| p["type"] == "tool_call")
        .map(|p| {
            let mut function = Map::new();
            function.insert("name".into(), p["name"].clone());
            if content {
                let args = match &p["arguments"] {
                    Value::String(s) => Value::String(s.clone()),
                    other => Value::String(other.to_string()),
                };
                function.insert("arguments".into(), args);
            }
            json!({"id": p["id"], "type": "function", "function": Value::Object(function)})
        })
        .collect()
}

fn body(message: &Message, content: bool, with_role: bool) -> Map<String, Value> {
    let mut b = Map::new();
    if content {
        b.insert("content".into(), text_or_parts(&message.parts));
    }
    let calls = tool_calls(&message.parts, content);
    if !calls.is_empty() {
        b.insert("tool_calls".into(), Value::Array(calls));
    }
    if let Some(id) = message
        .parts
        .iter()
        .find(|p| p["type"] == "tool_call_response")
        .and_then(|p| p["id"].as_str())
    {
        b.insert("id".into(), Value::String(id.to_owned()));
    }
    if with_role {
        b.insert("role".into(), Value::String(message.role.clone()));
    }
    b
}

macro_rules! emit {
    ($name:expr, $provider:expr, $body:expr) => {
        tracing::event!(
            name: $name,
            target: k::GENAI_EVENTS_TARGET,
            tracing::Level::INFO,
            { k::GEN_AI_PROVIDER_NAME } = $provider,
            message = %$body
        )
    };
}

/// One `gen_ai.{role}.message` event per input message, under the LLM span's context `cx`
/// (`content`: whether content may be recorded).
pub(crate) fn input_messages(cx: &Context, provider: &str, content: bool, messages: &[Message]) {
    let _guard = cx.clone().attach();
    for m in messages {
        let known = matches!(m.role.as_str(), "system" | "user" | "assistant" | "tool");
        let body = Value::Object(body(m, content, !known));
        match m.role.as_str() {
            "system" | "developer" => emit!(k::GEN_AI_SYSTEM_MESSAGE_EVENT, provider, body),
            "assistant" => emit!(k::GEN_AI_ASSISTANT_MESSAGE_EVENT, provider, body),
            "tool" => emit!(k::GEN_AI_TOOL_MESSAGE_EVENT, provider, body),
            _ => emit!(k::GEN_AI_USER_MESSAGE_EVENT, provider, body),
        }
    }
}

/// One `gen_ai.choice` event per output message, under the LLM span's context `cx`.
pub(crate) fn choices(cx: &Context, provider: &str, content: bool, messages: &[Message]) {
    let _guard = cx.clone().attach();
    for (index, m) in messages.iter().enumerate() {
        let mut message = body(m, content, m.role != "assistant");
        let calls = message.remove("tool_calls");
        let mut b = Map::new();
        b.insert("index".into(), json!(index));
        b.insert("message".into(), Value::Object(message));
        b.insert(
            "finish_reason".into(),
            Value::String(
                m.finish_reason
                    .clone()
                    .unwrap_or_else(|| "unknown".to_owned()),
            ),
        );
        if let Some(calls) = calls {
            b.insert("tool_calls".into(), calls);
        }
        let b = Value::Object(b);
        emit!(k::GEN_AI_CHOICE_EVENT, provider, b);
    }
}

//! A local stand-in for `POST /v1/chat/completions` that answers in OpenAI's real wire
//! format: a JSON `chat.completion`, or with `"stream": true` a `text/event-stream` of
//! `chat.completion.chunk`s ending in `data: [DONE]` (with a usage chunk when
//! `stream_options.include_usage` is set). A missing `Authorization: Bearer …` gets
//! OpenAI's 401 error body.
//!
//! What it answers:
//!
//! * With function `tools` in the request and the last message from the user (and
//!   `tool_choice` not `"none"`), an assistant message with `tool_calls` (one call per tool,
//!   only the first when `parallel_tool_calls` is `false`) and `finish_reason: "tool_calls"`.
//!   The `arguments` are a JSON object string filling every property of the tool's schema: a
//!   string property gets the word that follows the property's name in the last user message
//!   (`"… on host web-3 …"` gives `{"host": "web-3"}`), else the property's name; an enum its
//!   first value; integers and numbers `1`, booleans `true`, arrays `[]`, objects `{}`.
//! * When the last message is a `tool` message, a text answer quoting every tool result sent
//!   since the last assistant message (`- <tool name>: <content>`).
//! * Otherwise a haiku about the last word of the last user message.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The embedded server; stops when dropped.
#[derive(Debug)]
pub struct OpenAiStub {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

/// Model name the stub reports when the request names none.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

impl OpenAiStub {
    /// Binds 127.0.0.1 on a free port and serves on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .route("/chat/completions", post(chat_completions));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            stop: Some(tx),
        })
    }

    /// Base URL to use as `OPENAI_BASE_URL`, e.g. `http://127.0.0.1:41234/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for OpenAiStub {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn error(status: StatusCode, message: &str, kind: &str, code: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A deterministic reply: a haiku mentioning the last user message.
fn reply_for(prompt: &str) -> String {
    let topic: String = prompt
        .split_whitespace()
        .last()
        .unwrap_or("traces")
        .chars()
        .take(24)
        .collect();
    format!("Spans drift like leaves,\n{topic} hums in the collector,\nroot span finally ends.")
}

fn count_tokens(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// What the stub answers: text, or calls of the request's tools.
enum Answer {
    Text(String),
    /// `(id, function name, arguments as a JSON string)`.
    Tools(Vec<(String, String, String)>),
}

/// The word after `name` in `prompt` (case-insensitive, punctuation trimmed), if any.
fn word_after(prompt: &str, name: &str) -> Option<String> {
    let trim = |w: &str| {
        w.trim_matches(|c: char| {
            matches!(
                c,
                ',' | '.' | ';' | ':' | '!' | '?' | '"' | '\'' | '`' | '(' | ')'
            )
        })
        .to_owned()
    };
    let words: Vec<String> = prompt.split_whitespace().map(trim).collect();
    let at = words.iter().position(|w| w.eq_ignore_ascii_case(name))?;
    words.get(at + 1).filter(|w| !w.is_empty()).cloned()
}

/// Arguments for a call of the function tool `tool` (see the module docs).
fn arguments_for(tool: &Value, prompt: &str) -> String {
    let mut args = serde_json::Map::new();
    if let Some(props) = tool["function"]["parameters"]["properties"].as_object() {
        for (name, schema) in props {
            let value = if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
                first.clone()
            } else {
                match schema["type"].as_str() {
                    Some("integer" | "number") => json!(1),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => json!({}),
                    _ => json!(word_after(prompt, name).unwrap_or_else(|| name.clone())),
                }
            };
            args.insert(name.clone(), value);
        }
    }
    Value::Object(args).to_string()
}

/// The answer to `req` (see the module docs).
fn answer(req: &Value) -> Answer {
    let messages = req["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let last_role = messages.last().and_then(|m| m["role"].as_str());
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let tools: Vec<&Value> = req["tools"]
        .as_array()
        .map(|t| t.iter().filter(|t| t["type"] == "function").collect())
        .unwrap_or_default();
    if last_role == Some("user") && !tools.is_empty() && req["tool_choice"] != "none" {
        let n = if req["parallel_tool_calls"] == false {
            1
        } else {
            tools.len()
        };
        return Answer::Tools(
            tools
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, t)| {
                    let name = t["function"]["name"].as_str().unwrap_or("tool").to_owned();
                    (format!("call_stub0001_{i}"), name, arguments_for(t, prompt))
                })
                .collect(),
        );
    }
    if last_role == Some("tool") {
        // The results since the last assistant message, named after the calls they answer.
        let from = messages
            .iter()
            .rposition(|m| m["role"] == "assistant")
            .map_or(0, |i| i + 1);
        let calls = from
            .checked_sub(1)
            .and_then(|i| messages[i]["tool_calls"].as_array())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut text = String::from("From the tool results:");
        for m in messages[from..].iter().filter(|m| m["role"] == "tool") {
            let name = calls
                .iter()
                .find(|c| c["id"] == m["tool_call_id"])
                .and_then(|c| c["function"]["name"].as_str())
                .unwrap_or("tool");
            let content = match &m["content"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("\n- {name}: {content}"));
        }
        return Answer::Text(text);
    }
    Answer::Text(reply_for(prompt))
}

async fn chat_completions(headers: HeaderMap, body: String) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > "Bearer ".len());
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key.",
            "invalid_request_error",
            "invalid_api_key",
        );
    }
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            "invalid_json",
        );
    };
    let model = req["model"].as_str().unwrap_or(DEFAULT_MODEL).to_owned();
    let prompt_tokens: u64 = req["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| count_tokens(m["content"].as_str().unwrap_or_default()) + 4)
                .sum()
        })
        .unwrap_or(0);
    let answer = answer(&req);
    let completion_tokens = match &answer {
        Answer::Text(content) => count_tokens(content),
        Answer::Tools(calls) => calls
            .iter()
            .map(|(_, name, args)| count_tokens(name) + count_tokens(args) + 8)
            .sum(),
    };
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    });
    let id = "chatcmpl-stub0001";
    let created = 1_732_000_000u64;
    let response_model = format!("{model}-2024-07-18");
    let finish_reason = match &answer {
        Answer::Text(_) => "stop",
        Answer::Tools(_) => "tool_calls",
    };

    if req["stream"].as_bool() == Some(true) {
        let include_usage = req["stream_options"]["include_usage"].as_bool() == Some(true);
        let chunk = |delta: Value, finish: Value| {
            json!({
                "id": id, "object": "chat.completion.chunk", "created": created, "model": response_model,
                "system_fingerprint": "fp_stub",
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
            })
        };
        let mut events = Vec::new();
        match &answer {
            Answer::Text(content) => {
                events.push(chunk(
                    json!({"role": "assistant", "content": "", "refusal": null}),
                    Value::Null,
                ));
                for piece in content.split_inclusive(' ') {
                    events.push(chunk(json!({"content": piece}), Value::Null));
                }
            }
            Answer::Tools(calls) => {
                events.push(chunk(
                    json!({"role": "assistant", "content": null, "refusal": null}),
                    Value::Null,
                ));
                // As OpenAI does: the call's id and name first, then its arguments.
                for (index, (call_id, name, args)) in calls.iter().enumerate() {
                    events.push(chunk(
                        json!({"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                        Value::Null,
                    ));
                    events.push(chunk(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": args}}]}),
                        Value::Null,
                    ));
                }
            }
        }
        events.push(chunk(json!({}), json!(finish_reason)));
        let mut sse = String::new();
        for e in &mut events {
            if include_usage {
                e["usage"] = Value::Null;
            }
            sse.push_str(&format!("data: {e}\n\n"));
        }
        if include_usage {
            let last = json!({
                "id": id, "object": "chat.completion.chunk", "created": created, "model": response_model,
                "system_fingerprint": "fp_stub", "choices": [], "usage": usage
            });
            sse.push_str(&format!("data: {last}\n\n"));
        }
        sse.push_str("data: [DONE]\n\n");
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/event-stream")],
            Body::from(sse),
        )
            .into_response();
    }

    let message = match &answer {
        Answer::Text(content) => {
            json!({"role": "assistant", "content": content, "refusal": null, "annotations": []})
        }
        Answer::Tools(calls) => json!({
            "role": "assistant",
            "content": null,
            "tool_calls": calls
                .iter()
                .map(|(call_id, name, args)| json!({"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}))
                .collect::<Vec<_>>(),
            "refusal": null,
            "annotations": []
        }),
    };
    let body = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": response_model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason
        }],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_stub"
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

//! A local stand-in for `POST /v1/chat/completions` that answers in OpenAI's real wire
//! format: a JSON `chat.completion`, or with `"stream": true` a `text/event-stream` of
//! `chat.completion.chunk`s ending in `data: [DONE]` (with a usage chunk when
//! `stream_options.include_usage` is set). A missing `Authorization: Bearer …` gets
//! OpenAI's 401 error body.

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
    let prompt: String = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let prompt_tokens: u64 = req["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| count_tokens(m["content"].as_str().unwrap_or_default()) + 4)
                .sum()
        })
        .unwrap_or(0);
    let content = reply_for(&prompt);
    let completion_tokens = count_tokens(&content);
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

    if req["stream"].as_bool() == Some(true) {
        let include_usage = req["stream_options"]["include_usage"].as_bool() == Some(true);
        let chunk = |delta: Value, finish: Value| {
            json!({
                "id": id, "object": "chat.completion.chunk", "created": created, "model": response_model,
                "system_fingerprint": "fp_stub",
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
            })
        };
        let mut events = vec![chunk(
            json!({"role": "assistant", "content": "", "refusal": null}),
            Value::Null,
        )];
        for piece in content.split_inclusive(' ') {
            events.push(chunk(json!({"content": piece}), Value::Null));
        }
        events.push(chunk(json!({}), json!("stop")));
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

    let body = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": response_model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
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

//! The faults, as each provider shows them: error bodies (`400`, `401`, `429`, `500`),
//! and stream bodies that are cut, abort the connection, carry an in-stream error, or are
//! paced slowly.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use super::request::{Ctx, Fault, Provider, Route};
use super::spec::SLOW_INTERVAL;
use super::wire::{Frame, json_response, ndjson, set_header, sse_data, sse_event};

/// Pause before a [`Fault::FailMidway`] abort, so the data before it reaches the client.
const ABORT_DELAY: Duration = Duration::from_millis(50);
/// Content deltas sent before a [`Fault::FailMidway`] or [`Fault::ErrorEvent`] fault.
const DELTAS_BEFORE_FAULT: usize = 2;

/// What a body stream does next.
pub(super) enum Step {
    /// Waits, then sends.
    Send(Bytes, Duration),
    /// Waits [`ABORT_DELAY`], then fails (hyper aborts the connection).
    Abort,
}

/// The body of a streamed answer made of `frames`, shaped by the request's fault.
pub(super) fn stream_body(ctx: &Ctx, frames: Vec<Frame>) -> Body {
    let cut = |frames: Vec<Frame>| -> Vec<Step> {
        let mut deltas = 0;
        let mut out = Vec::new();
        for f in frames {
            let is_delta = f.delta;
            out.push(Step::Send(f.bytes, Duration::ZERO));
            if is_delta {
                deltas += 1;
                if deltas == DELTAS_BEFORE_FAULT {
                    break;
                }
            }
        }
        out
    };
    let steps = match ctx.fault {
        Fault::FailMidway => {
            let mut steps = cut(frames);
            steps.push(Step::Abort);
            steps
        }
        Fault::ErrorEvent => {
            let mut steps = cut(frames);
            steps.push(Step::Send(stream_error(ctx, steps.len()), Duration::ZERO));
            steps
        }
        Fault::SlowStream => frames
            .into_iter()
            .map(|f| {
                let delay = if f.delta {
                    SLOW_INTERVAL
                } else {
                    Duration::ZERO
                };
                Step::Send(f.bytes, delay)
            })
            .collect(),
        Fault::None | Fault::RateLimited | Fault::ServerError => frames
            .into_iter()
            .map(|f| Step::Send(f.bytes, Duration::ZERO))
            .collect(),
    };
    steps_body(steps)
}

/// A [`Fault::FailMidway`] JSON answer: the first half of `body`, then an abort.
pub(super) fn half_then_abort(body: &Value) -> Body {
    let text = body.to_string();
    let half = Bytes::from(text.as_bytes()[..text.len() / 2].to_vec());
    steps_body(vec![Step::Send(half, Duration::ZERO), Step::Abort])
}

fn steps_body(steps: Vec<Step>) -> Body {
    let stream = futures_util::stream::iter(steps).then(|step| async move {
        match step {
            Step::Send(bytes, delay) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(bytes)
            }
            Step::Abort => {
                tokio::time::sleep(ABORT_DELAY).await;
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "llm stub: fail-midway",
                ))
            }
        }
    });
    Body::from_stream(stream)
}

/// The provider's in-stream error for [`Fault::ErrorEvent`], after `sent` events.
fn stream_error(ctx: &Ctx, sent: usize) -> Bytes {
    match ctx.route {
        Route::GeminiStream => super::gemini::stream_error(ctx),
        Route::ConverseStream => super::bedrock::stream_error(),
        Route::Responses => sse_event(
            "error",
            &json!({
                "type": "error",
                "code": "server_error",
                "message": "The server had an error while processing your request. Sorry about that!",
                "param": null,
                "sequence_number": sent
            }),
        ),
        Route::Messages => sse_event(
            "error",
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
        Route::OllamaChat | Route::OllamaGenerate => ndjson(&json!({
            "error": "an error was encountered while running the model: unexpected EOF"
        })),
        _ => sse_data(&json!({"error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": null,
            "code": null
        }})),
    }
}

fn anthropic_error(n: u64, kind: &str, message: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": format!("req_stub{n:06}")
    })
}

/// Google's error body: `{"error": {"code", "message", "status"}}`.
fn google_error(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

/// A Bedrock error: the type in `x-amzn-errortype`, `{"message"}` in the body.
fn bedrock_error(status: StatusCode, n: u64, kind: &str, message: &str) -> Response {
    let mut response = json_response(status, Provider::Bedrock, n, &json!({"message": message}));
    set_header(
        &mut response,
        "x-amzn-errortype",
        &format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    );
    response
}

/// `400` for a body that is not JSON or names no model.
pub(super) fn invalid_request(provider: Provider, n: u64, message: &str) -> Response {
    let body = match provider {
        Provider::Google => google_error(400, "INVALID_ARGUMENT", message),
        Provider::Bedrock => {
            return bedrock_error(StatusCode::BAD_REQUEST, n, "ValidationException", message);
        }
        Provider::OpenAi => json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null, "code": null
        }}),
        Provider::Anthropic => anthropic_error(n, "invalid_request_error", message),
        Provider::Ollama => json!({"error": message}),
    };
    json_response(StatusCode::BAD_REQUEST, provider, n, &body)
}

/// `401` for a request without an API key (when the stub requires one).
pub(super) fn unauthorized(provider: Provider, n: u64) -> Response {
    let body = match provider {
        Provider::Google => {
            let body = google_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            );
            return json_response(StatusCode::FORBIDDEN, provider, n, &body);
        }
        Provider::Bedrock => {
            return bedrock_error(
                StatusCode::FORBIDDEN,
                n,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            );
        }
        Provider::Anthropic => {
            anthropic_error(n, "authentication_error", "x-api-key header is required")
        }
        Provider::OpenAi | Provider::Ollama => json!({"error": {
            "message": "You didn't provide an API key.",
            "type": "invalid_request_error",
            "param": null,
            "code": "invalid_api_key"
        }}),
    };
    json_response(StatusCode::UNAUTHORIZED, provider, n, &body)
}

/// `429` with the provider's body and rate-limit headers.
pub(super) fn rate_limited(provider: Provider, n: u64, model: &str) -> Response {
    let body = match provider {
        Provider::OpenAi => json!({"error": {
            "message": format!(
                "Rate limit reached for {model} in organization org-llmetrystub on requests per \
                 min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit \
                 https://platform.openai.com/account/rate-limits to learn more."
            ),
            "type": "requests",
            "param": null,
            "code": "rate_limit_exceeded"
        }}),
        Provider::Anthropic => anthropic_error(
            n,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50 requests \
             per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
        ),
        Provider::Ollama => json!({"error": "rate limit exceeded, please retry later"}),
        Provider::Google => google_error(
            429,
            "RESOURCE_EXHAUSTED",
            &format!(
                "You exceeded your current quota, please check your plan and billing details. Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: {model}"
            ),
        ),
        Provider::Bedrock => {
            return bedrock_error(
                StatusCode::TOO_MANY_REQUESTS,
                n,
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
            );
        }
    };
    let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, provider, n, &body);
    match provider {
        Provider::OpenAi => {
            set_header(&mut response, "retry-after", "1");
            set_header(&mut response, "x-ratelimit-limit-requests", "3");
            set_header(&mut response, "x-ratelimit-remaining-requests", "0");
            set_header(&mut response, "x-ratelimit-reset-requests", "1s");
        }
        Provider::Anthropic => {
            set_header(&mut response, "retry-after", "1");
            set_header(&mut response, "anthropic-ratelimit-requests-limit", "50");
            set_header(&mut response, "anthropic-ratelimit-requests-remaining", "0");
        }
        Provider::Ollama | Provider::Google | Provider::Bedrock => {}
    }
    response
}

/// `500` with the provider's body.
pub(super) fn server_error(provider: Provider, n: u64) -> Response {
    let body = match provider {
        Provider::OpenAi => json!({"error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": null,
            "code": null
        }}),
        Provider::Anthropic => anthropic_error(n, "api_error", "Internal server error"),
        Provider::Ollama => json!({"error": "llama runner process has terminated: exit status 2"}),
        Provider::Google => google_error(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        ),
        Provider::Bedrock => {
            return bedrock_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                n,
                "InternalServerException",
                "The server encountered an internal error. Try again later.",
            );
        }
    };
    json_response(StatusCode::INTERNAL_SERVER_ERROR, provider, n, &body)
}

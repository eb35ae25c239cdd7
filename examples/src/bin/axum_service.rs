//! A long-running HTTP service: an axum server on 127.0.0.1 where every request gets a
//! server span (`http.request`, kind SERVER, with `http.request.method`, `http.route` and
//! `http.response.status_code`), and `POST /ask` runs one `#[workflow(name = "ask")]` under
//! it, with the request's `x-user-id` and `x-session-id` headers as the association
//! properties `user_id` and `session_id`, calling an OpenAI-compatible chat completion
//! through the LLM middleware (an embedded stub answers without `OPENAI_API_KEY`).
//!
//! ```sh
//! curl -s localhost:3000/ask -H 'x-user-id: u-42' -d '{"question": "what is a span?"}'
//! # {"answer":"…","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}
//! ```
//!
//! The body is `{"question": "…"}` or the question as plain text. Spans are batched (a
//! service exports in the background); on Ctrl-C, SIGTERM or `POST /shutdown` (for tests
//! and local use: the server listens on loopback only) the server stops accepting, finishes
//! the requests in flight, then `telemetry.shutdown()` delivers everything still buffered.
//!
//! Environment: `PORT` (default 3000; `0` picks a free port), overridden by `--port N`;
//! `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`, `OTEL_SERVICE_NAME` (default
//! `axum_service`); telemetry destinations from `TRACELOOP_*` / `OTEL_*` (see the README).
//! Prints `listening on http://127.0.0.1:<port>` on stdout once it accepts connections.
//!
//! `cargo run -p llmetry-examples --bin axum_service`

use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use llmetry::workflow;
use llmetry_examples::support::{self, ChatError, OpenAi, env_or};
use opentelemetry::trace::TraceContextExt as _;
use serde_json::json;
use tokio::sync::Notify;
use tracing::Instrument as _;

/// The request's error (its own type, recorded as the spans' `error.type`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct AskError(#[from] ChatError);

#[derive(Debug, Clone)]
struct AppState {
    /// Where the model is, shared by every request.
    model: Arc<OpenAi>,
    shutdown: Arc<Notify>,
}

/// The port from `--port N` / `--port=N`, else `PORT`, else 3000.
fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut from_args = None;
    while let Some(a) = args.next() {
        if a == "--port" {
            from_args = Some(("--port", args.next().unwrap_or_default()));
        } else if let Some(v) = a.strip_prefix("--port=") {
            from_args = Some(("--port", v.to_owned()));
        } else {
            return Err(format!(
                "unknown argument {a:?}; usage: axum_service [--port N]"
            ));
        }
    }
    let (source, value) = from_args.unwrap_or_else(|| ("PORT", env_or("PORT", "3000")));
    value
        .trim()
        .parse()
        .map_err(|_| format!("{source}={value:?}: expected a port number (0 picks a free one)"))
}

/// One server span per request, around the handler: the `ask` workflow nests under it.
async fn trace_request(State(route): State<&'static str>, req: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        http.request.method = %req.method(),
        http.route = route,
        url.path = %req.uri().path(),
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    response
}

/// The model call; the middleware records it as an `openai.chat` span under the workflow.
async fn chat(model: &OpenAi, question: &str) -> Result<String, AskError> {
    let body = json!({
        "model": model.model,
        "messages": [
            {"role": "system", "content": "Answer in three short lines."},
            {"role": "user", "content": question}
        ]
    });
    let completion =
        support::chat_completion(&model.client, &model.base_url, &model.api_key, &body).await?;
    Ok(completion.content()?.to_owned())
}

#[workflow(name = "ask", skip(model))]
async fn ask_workflow(model: &OpenAi, question: &str) -> Result<String, AskError> {
    let answer = chat(model, question).await?;
    tracing::info!(chars = answer.len(), "answered");
    Ok(answer)
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// `POST /ask`: `{"question": "…"}` or plain text in, `{"answer", "trace_id"}` out.
async fn ask(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let question = match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(v) => v["question"].as_str().unwrap_or_default().trim().to_owned(),
        Err(_) => body.trim().to_owned(),
    };
    if question.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "send a question: {\"question\": \"…\"} or plain text"}),
        );
    }
    // Request-scoped context, set outside the workflow: every span of this request's
    // workflow (and the LLM span under it) carries these properties; no other request's.
    let mut props: Vec<(&'static str, String)> = Vec::new();
    if let Some(user) = header_value(&headers, "x-user-id") {
        props.push(("user_id", user));
    }
    if let Some(session) = header_value(&headers, "x-session-id") {
        props.push(("session_id", session));
    }
    let trace_id = opentelemetry::Context::current()
        .span()
        .span_context()
        .trace_id();
    let result =
        llmetry::with_association_properties(props, ask_workflow(&state.model, &question)).await;
    match result {
        Ok(answer) => json_response(
            StatusCode::OK,
            json!({"answer": answer, "trace_id": trace_id.to_string()}),
        ),
        Err(e) => {
            tracing::error!(error = %e, "ask failed");
            json_response(
                StatusCode::BAD_GATEWAY,
                json!({"error": e.to_string(), "trace_id": trace_id.to_string()}),
            )
        }
    }
}

/// `POST /shutdown`: the same graceful stop as Ctrl-C.
async fn shutdown(State(state): State<AppState>) -> Response {
    state.shutdown.notify_one();
    (StatusCode::ACCEPTED, "shutting down\n").into_response()
}

/// Resolves on Ctrl-C, SIGTERM or `POST /shutdown`, saying which.
async fn stop_signal(requested: Arc<Notify>) -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => "Ctrl-C",
        () = terminate => "SIGTERM",
        () = requested.notified() => "POST /shutdown",
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let port = match port() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("axum_service: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A service must run without telemetry rather than not at all.
    let telemetry = support::telemetry_or_none(
        "axum_service",
        llmetry::init()
            .app_name(env_or("OTEL_SERVICE_NAME", "axum_service"))
            .logging_enabled(true)
            .install(),
    );

    let Some(model) = OpenAi::from_env("axum_service", support::http_client()).await else {
        return ExitCode::FAILURE;
    };
    let state = AppState {
        model: Arc::new(model),
        shutdown: Arc::new(Notify::new()),
    };
    let requested = Arc::clone(&state.shutdown);
    let app = Router::new()
        .route(
            "/ask",
            post(ask).layer(from_fn_with_state("/ask", trace_request)),
        )
        .route(
            "/shutdown",
            post(shutdown).layer(from_fn_with_state("/shutdown", trace_request)),
        )
        .with_state(state);

    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("axum_service: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(e) => {
            eprintln!("axum_service: {e}");
            return ExitCode::FAILURE;
        }
    }

    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let why = stop_signal(requested).await;
            eprintln!("axum_service: {why}: finishing requests in flight, then stopping");
        })
        .await;
    let code = match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum_service: server error: {e}");
            ExitCode::FAILURE
        }
    };
    // Spans are batched: deliver what is still buffered before exiting.
    support::shutdown("axum_service", telemetry);
    eprintln!("axum_service: stopped");
    code
}

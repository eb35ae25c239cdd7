//! One request, start to end: read and record it, find its route, check the API key and
//! the model, apply a fault, let the protocol module read the conversation, choose the
//! answer, and render it as JSON or as a stream.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::answer::{Answer, Conversation, Usage, answer};
use super::faults::{
    half_then_abort, invalid_request, rate_limited, server_error, stream_body, unauthorized,
};
use super::request::{Ctx, Fault, Provider, Route, input_words, path_model};
use super::spec::{Answers, StubRequest};
use super::wire::{
    Frame, json_content_type, plain, respond, set_header, stream_content_type, unix_now,
};
use super::{anthropic, bedrock, gemini, ollama, openai};

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// State shared by the server and the handle.
#[derive(Debug)]
pub(super) struct Shared {
    requests: Mutex<Vec<StubRequest>>,
    counter: AtomicU64,
    answers: Answers,
    require_api_key: bool,
}

impl Shared {
    pub(super) fn new(answers: Answers, require_api_key: bool) -> Shared {
        Shared {
            requests: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
            answers,
            require_api_key,
        }
    }

    fn record(&self, request: StubRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    pub(super) fn snapshot(&self) -> Vec<StubRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The one handler of every path.
pub(super) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let (body, parse_error) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(raw) if raw.is_empty() => (Value::Null, Some("the request body is empty".to_owned())),
        Ok(raw) => match serde_json::from_slice::<Value>(&raw) {
            Ok(v) => (v, None),
            Err(e) => (
                Value::String(String::from_utf8_lossy(&raw).into_owned()),
                Some(format!("the request body is not valid JSON: {e}")),
            ),
        },
        Err(e) => (
            Value::Null,
            Some(format!("cannot read the request body: {e}")),
        ),
    };
    let query = parts.uri.query().map(str::to_owned);
    shared.record(StubRequest {
        path: path.clone(),
        query: query.clone(),
        headers: super::wire::header_pairs(&parts.headers),
        body: body.clone(),
    });
    let n = shared.counter.fetch_add(1, Ordering::Relaxed) + 1;

    let Some(route) = Route::of(&path) else {
        return plain(
            StatusCode::NOT_FOUND,
            format!("llm stub: no route for {path}"),
        );
    };
    if parts.method != Method::POST {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "llm stub: use POST".to_owned(),
        );
    }
    let provider = route.provider();
    if shared.require_api_key && !has_api_key(provider, &parts.headers, query.as_deref()) {
        return unauthorized(provider, n);
    }
    if let Some(message) = parse_error {
        return invalid_request(provider, n, &message);
    }
    let model = if route.model_in_path() {
        path_model(&path).map(|(m, _)| m).filter(|m| !m.is_empty())
    } else {
        body["model"].as_str().map(str::to_owned)
    };
    let Some(model) = model else {
        return invalid_request(provider, n, "you must provide a model parameter");
    };
    if route == Route::ConverseStream && !cfg!(feature = "bedrock-stub") {
        return plain(
            StatusCode::NOT_IMPLEMENTED,
            "llm stub: built without the `bedrock-stub` feature (event-stream frames)".to_owned(),
        );
    }

    let fault = Fault::of(&model);
    match fault {
        Fault::RateLimited => return rate_limited(provider, n, &model),
        Fault::ServerError => return server_error(provider, n),
        _ => {}
    }
    let stream = route.can_stream()
        && match provider {
            Provider::Ollama => body["stream"].as_bool() != Some(false),
            Provider::OpenAi | Provider::Anthropic => body["stream"].as_bool() == Some(true),
            // The path says it.
            Provider::Google | Provider::Bedrock => true,
        };
    let sse = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|pair| pair == "alt=sse"));
    let ctx = Ctx {
        route,
        input_tokens: input_words(&body),
        body,
        model,
        n,
        created: unix_now(),
        stream,
        sse,
        fault,
        answers: shared.answers,
    };
    let (answer, usage) = answer(&ctx, &conversation(&ctx));

    if stream {
        let body = stream_body(&ctx, frames(&ctx, &answer, usage));
        // Gemini without `alt=sse` streams one JSON array.
        let content_type = if provider == Provider::Google && !sse {
            json_content_type(provider)
        } else {
            stream_content_type(provider)
        };
        let mut response = respond(StatusCode::OK, provider, n, content_type, body);
        set_header(&mut response, "cache-control", "no-cache");
        return response;
    }

    let value = json(&ctx, &answer, usage);
    let body = if fault == Fault::FailMidway {
        half_then_abort(&value)
    } else {
        Body::from(value.to_string())
    };
    respond(
        StatusCode::OK,
        provider,
        n,
        json_content_type(provider),
        body,
    )
}

/// OpenAI: `Authorization: Bearer <key>`; Anthropic: `x-api-key` (or a bearer token);
/// Google: `x-goog-api-key`, a `key=` query parameter, or a bearer token (Vertex AI);
/// Bedrock: a SigV4 `Authorization` (not verified) or a bearer token; Ollama takes anything.
fn has_api_key(provider: Provider, headers: &HeaderMap, query: Option<&str>) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let bearer = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| !key.trim().is_empty());
    match provider {
        Provider::OpenAi => bearer,
        Provider::Anthropic => bearer || header("x-api-key").is_some(),
        Provider::Google => {
            let query_key = query.is_some_and(|q| {
                q.split('&')
                    .any(|pair| pair.strip_prefix("key=").is_some_and(|k| !k.is_empty()))
            });
            bearer || query_key || header("x-goog-api-key").is_some()
        }
        Provider::Bedrock => {
            bearer || header("authorization").is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 "))
        }
        Provider::Ollama => true,
    }
}

/// The conversation, as the route's protocol reads it.
fn conversation(ctx: &Ctx) -> Conversation {
    let body = &ctx.body;
    match ctx.route {
        Route::Chat | Route::OllamaChat => openai::chat::conversation(body),
        Route::Completions => openai::completions::conversation(body),
        Route::Responses => openai::responses::conversation(body),
        Route::Messages => anthropic::conversation(body),
        Route::OllamaGenerate => ollama::generate_conversation(body),
        Route::GeminiGenerate | Route::GeminiStream => gemini::conversation(body),
        Route::Converse | Route::ConverseStream => bedrock::conversation(body),
        Route::Embeddings
        | Route::OllamaEmbed
        | Route::OllamaEmbeddings
        | Route::GeminiEmbed
        | Route::GeminiBatchEmbed => Conversation::default(),
    }
}

/// The answer as a stream.
fn frames(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    match ctx.route {
        Route::Chat => openai::chat::stream(ctx, answer, usage),
        Route::Completions => openai::completions::stream(ctx, answer, usage),
        Route::Responses => openai::responses::stream(ctx, answer, usage),
        Route::Messages => anthropic::stream(ctx, answer, usage),
        Route::OllamaChat | Route::OllamaGenerate => ollama::stream(ctx, answer, usage),
        Route::GeminiStream => gemini::stream(ctx, answer, usage),
        Route::ConverseStream => bedrock::stream(ctx, answer, usage),
        Route::Embeddings
        | Route::OllamaEmbed
        | Route::OllamaEmbeddings
        | Route::GeminiGenerate
        | Route::GeminiEmbed
        | Route::GeminiBatchEmbed
        | Route::Converse => Vec::new(),
    }
}

/// The answer as one JSON body.
fn json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    match ctx.route {
        Route::Chat => openai::chat::json(ctx, answer, usage),
        Route::Completions => openai::completions::json(ctx, answer, usage),
        Route::Embeddings => openai::embeddings::json(ctx),
        Route::Responses => openai::responses::json(ctx, answer, usage),
        Route::Messages => anthropic::json(ctx, answer, usage),
        Route::OllamaChat => ollama::chat_json(ctx, answer, usage),
        Route::OllamaGenerate => ollama::generate_json(ctx, answer, usage),
        Route::OllamaEmbed | Route::OllamaEmbeddings => ollama::embed_json(ctx),
        Route::GeminiGenerate | Route::GeminiStream => gemini::json(ctx, answer, usage),
        Route::GeminiEmbed | Route::GeminiBatchEmbed => gemini::embed_json(ctx),
        Route::Converse | Route::ConverseStream => bedrock::json(ctx, answer, usage),
    }
}

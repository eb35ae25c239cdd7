//! An in-process stub LLM server that speaks the providers' real wire formats.
//!
//! [`LlmStub::start`] binds an ephemeral port on `127.0.0.1` and answers, with canned but
//! well-formed payloads, the endpoints of three API families (method `POST`; a route
//! matches any path that *ends* with it, so `http://HOST/openai/v1/chat/completions`
//! works as an OpenAI-compatible gateway path):
//!
//! | path                    | format                                                        |
//! |-------------------------|---------------------------------------------------------------|
//! | `/chat/completions`     | OpenAI `chat.completion`; SSE `chat.completion.chunk` + `[DONE]` |
//! | `/completions`          | OpenAI legacy `text_completion`; SSE chunks + `[DONE]`         |
//! | `/embeddings`           | OpenAI `list` of `embedding` (floats, or base64 when asked)   |
//! | `/responses`            | OpenAI Responses `response`; SSE `event:` + `data:` events     |
//! | `/v1/messages`          | Anthropic `message`; SSE `message_start` … `message_stop`      |
//! | `/api/chat`             | Ollama chat; NDJSON unless `"stream": false`                   |
//! | `/api/generate`         | Ollama generate; NDJSON unless `"stream": false`               |
//! | `/api/embed`            | Ollama `embeddings: [[..]]` (never streams)                    |
//! | `/api/embeddings`       | Ollama legacy `embedding: [..]` (never streams)                |
//!
//! OpenAI and Anthropic stream only when the request says `"stream": true`; Ollama streams
//! unless it says `"stream": false` (its real default).
//!
//! Every request is recorded as a [`StubRequest`] before it is answered. No authorization
//! is required. The server runs on a private tokio runtime, so the API is blocking and
//! usable from plain `#[test]` functions; dropping the stub stops it.
//!
//! # Answers
//!
//! * Text answers are [`REPLY`], streamed word by word (the first delta is the first word,
//!   the following ones carry a leading space, so the deltas concatenate to [`REPLY`]).
//! * With tools in the request and a last message from the user, the answer is a call of
//!   the first (function) tool; its arguments fill every property of the tool's JSON schema
//!   (string: `"<tool>-<property>"`, integer `1`, number `1.5`, boolean `true`, array `[]`,
//!   object `{}`, enum: its first value), or are `{"tool": "<tool>"}` when the schema has
//!   no properties. Anthropic answers a short text block (`"Let me use <tool>."`) before
//!   the `tool_use` block, as Claude does.
//! * When the last message is a tool result (OpenAI `tool` message, Anthropic
//!   `tool_result` block, Ollama `tool` message, Responses `function_call_output` item), the
//!   answer is the text `"The tool returned: <result>"`.
//! * OpenAI chat, legacy completions and Responses answer with the request's model plus
//!   [`OPENAI_MODEL_SUFFIX`] (unless it already ends with a `-YYYY-MM-DD` date); OpenAI
//!   embeddings, Anthropic and Ollama echo the model unchanged.
//!
//! # Token counts
//!
//! `in` is the number of whitespace-separated words in the request's text (message
//! contents and text parts, `system`, `instructions`, `prompt`, `input`, tool results), at
//! least 1; `out` is the number of words of the answer text, at least 1 (a tool call counts
//! [`TOOL_CALL_TOKENS`], plus the words of Anthropic's preamble).
//!
//! * OpenAI chat and Responses: input `in`, cached `in / 2`, output `out +`
//!   [`REASONING_TOKENS`] (reasoning [`REASONING_TOKENS`]), total their sum.
//! * OpenAI legacy completions: prompt `in`, completion `out`.
//! * OpenAI embeddings: prompt and total `in`; Ollama embed: `prompt_eval_count` `in`.
//! * Anthropic: `input_tokens` `in`, `cache_read_input_tokens` `in / 2`,
//!   `cache_creation_input_tokens` [`CACHE_CREATION_TOKENS`], `output_tokens` `out`.
//! * Ollama chat and generate: `prompt_eval_count` `in`, `eval_count` `out`.
//!
//! # Faults
//!
//! Selected by the request's `model`, on every route:
//!
//! * [`RATE_LIMITED`]: `429` with the provider's error body (OpenAI and Anthropic also send
//!   `retry-after: 1`).
//! * [`SERVER_ERROR`]: `500` with the provider's error body.
//! * [`FAIL_MIDWAY`]: streaming: the first events up to the second content delta, then the
//!   connection is aborted (the client's body stream yields an `Err`). Non-streaming: a
//!   `200` with the first half of the JSON body, then the same abort.
//! * [`ERROR_EVENT`]: streaming: the first events up to the second content delta, then the
//!   provider's in-stream error and a clean end of the body (OpenAI chat/completions:
//!   `data: {"error":{..}}`; Responses: `event: error`; Anthropic: `event: error` with an
//!   `overloaded_error`; Ollama: a `{"error":".."}` line). Non-streaming: a normal answer.
//! * [`SLOW_STREAM`]: streaming: [`SLOW_CHUNKS`] content deltas (`chunk0`, ` chunk1`, …),
//!   each sent [`SLOW_INTERVAL`] after the previous one. Non-streaming: a normal answer.

use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};

/// The model that makes every route answer `429`.
pub const RATE_LIMITED: &str = "rate-limited";
/// The model that makes every route answer `500`.
pub const SERVER_ERROR: &str = "server-error";
/// The model that makes a stream (or a JSON body) abort the connection midway.
pub const FAIL_MIDWAY: &str = "fail-midway";
/// The model that makes a stream carry the provider's in-stream error event.
pub const ERROR_EVENT: &str = "error-event";
/// The model that makes a stream send [`SLOW_CHUNKS`] deltas [`SLOW_INTERVAL`] apart.
pub const SLOW_STREAM: &str = "slow-stream";

/// The text of every normal text answer.
pub const REPLY: &str = "Hello! This is the llmetry stub speaking.";
/// Appended by the OpenAI chat, completions and Responses routes to the request's model.
pub const OPENAI_MODEL_SUFFIX: &str = "-2024-07-18";
/// Content deltas of a [`SLOW_STREAM`] stream.
pub const SLOW_CHUNKS: usize = 50;
/// Pause before each content delta of a [`SLOW_STREAM`] stream.
pub const SLOW_INTERVAL: Duration = Duration::from_millis(20);
/// Dimensions of every embedding vector.
pub const EMBEDDING_DIMS: usize = 8;
/// Output tokens counted for one tool call.
pub const TOOL_CALL_TOKENS: u64 = 12;
/// Reasoning tokens reported (and included in the output tokens) by OpenAI chat and
/// Responses answers.
pub const REASONING_TOKENS: u64 = 2;
/// `cache_creation_input_tokens` of every Anthropic answer.
pub const CACHE_CREATION_TOKENS: u64 = 3;

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Pause before a [`FAIL_MIDWAY`] abort, so the data before it reaches the client.
const ABORT_DELAY: Duration = Duration::from_millis(50);
/// Content deltas sent before a [`FAIL_MIDWAY`] or [`ERROR_EVENT`] fault.
const DELTAS_BEFORE_FAULT: usize = 2;
const SYSTEM_FINGERPRINT: &str = "fp_llmetry_stub";

/// One request as the stub saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct StubRequest {
    /// The request path, e.g. `/v1/chat/completions` (no query).
    pub path: String,
    /// Every request header, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body; `Null` for an empty body, a JSON string holding the (lossy UTF-8)
    /// text for a body that is not JSON.
    pub body: Value,
}

impl StubRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// State shared by the server and the handle.
#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Vec<StubRequest>>,
    counter: AtomicU64,
}

impl Shared {
    fn record(&self, request: StubRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    fn snapshot(&self) -> Vec<StubRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A stub LLM server on `127.0.0.1`; see the [module docs](self).
///
/// Stops serving (and closes its port) when dropped.
#[derive(Debug)]
pub struct LlmStub {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LlmStub {
    /// Binds a port and starts serving.
    pub fn start() -> LlmStub {
        let std_listener = match StdTcpListener::bind(("127.0.0.1", 0)) {
            Ok(l) => l,
            Err(e) => panic!("llm stub: cannot bind 127.0.0.1:0: {e}"),
        };
        if let Err(e) = std_listener.set_nonblocking(true) {
            panic!("llm stub: set_nonblocking: {e}");
        }
        let addr = match std_listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("llm stub: local_addr: {e}"),
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("llm-stub")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("llm stub: cannot build tokio runtime: {e}"),
        };

        let shared = Arc::new(Shared::default());
        {
            let _guard = runtime.enter();
            let listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(e) => panic!("llm stub: cannot register listener: {e}"),
            };
            let app = axum::Router::new()
                .fallback(handle)
                .with_state(Arc::clone(&shared));
            runtime.spawn(async move {
                // Errors end the server; the test then sees connection failures.
                let _ = axum::serve(listener, app).await;
            });
        }

        let (shutdown, stop) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("llm-stub-owner".to_owned())
            .spawn(move || {
                // Returns on a message or when the sender is dropped.
                let _ = stop.recv();
                runtime.shutdown_timeout(Duration::from_secs(2));
            });
        let thread = match thread {
            Ok(t) => t,
            Err(e) => panic!("llm stub: cannot spawn thread: {e}"),
        };

        LlmStub {
            shared,
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`: the Anthropic and Ollama base URL; append `/v1` for
    /// OpenAI clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.shared.snapshot()
    }
}

impl Drop for LlmStub {
    fn drop(&mut self) {
        drop(self.shutdown.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dispatch

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    OpenAi,
    Anthropic,
    Ollama,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Chat,
    Completions,
    Embeddings,
    Responses,
    Messages,
    OllamaChat,
    OllamaGenerate,
    OllamaEmbed,
    OllamaEmbeddings,
}

impl Route {
    fn of(path: &str) -> Option<Route> {
        let p = path.trim_end_matches('/');
        let routes = [
            ("/api/chat", Route::OllamaChat),
            ("/api/generate", Route::OllamaGenerate),
            ("/api/embed", Route::OllamaEmbed),
            ("/api/embeddings", Route::OllamaEmbeddings),
            ("/v1/messages", Route::Messages),
            ("/chat/completions", Route::Chat),
            ("/completions", Route::Completions),
            ("/embeddings", Route::Embeddings),
            ("/responses", Route::Responses),
        ];
        routes
            .iter()
            .find(|(suffix, _)| p.ends_with(suffix))
            .map(|(_, r)| *r)
    }

    fn provider(self) -> Provider {
        match self {
            Route::Chat | Route::Completions | Route::Embeddings | Route::Responses => {
                Provider::OpenAi
            }
            Route::Messages => Provider::Anthropic,
            Route::OllamaChat
            | Route::OllamaGenerate
            | Route::OllamaEmbed
            | Route::OllamaEmbeddings => Provider::Ollama,
        }
    }

    fn can_stream(self) -> bool {
        !matches!(
            self,
            Route::Embeddings | Route::OllamaEmbed | Route::OllamaEmbeddings
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    RateLimited,
    ServerError,
    FailMidway,
    ErrorEvent,
    SlowStream,
}

impl Fault {
    fn of(model: &str) -> Fault {
        match model {
            RATE_LIMITED => Fault::RateLimited,
            SERVER_ERROR => Fault::ServerError,
            FAIL_MIDWAY => Fault::FailMidway,
            ERROR_EVENT => Fault::ErrorEvent,
            SLOW_STREAM => Fault::SlowStream,
            _ => Fault::None,
        }
    }
}

/// What one request is answered from.
struct Ctx {
    route: Route,
    body: Value,
    /// The request's model.
    model: String,
    /// The request number (1-based), for ids.
    n: u64,
    /// Unix seconds.
    created: u64,
    stream: bool,
    fault: Fault,
    input_tokens: u64,
}

impl Ctx {
    fn id(&self, prefix: &str) -> String {
        format!("{prefix}stub{:06}", self.n)
    }

    /// The model named in the answer.
    fn response_model(&self) -> String {
        match self.route {
            Route::Chat | Route::Completions | Route::Responses
                if !has_date_suffix(&self.model) =>
            {
                format!("{}{OPENAI_MODEL_SUFFIX}", self.model)
            }
            _ => self.model.clone(),
        }
    }

    fn include_usage(&self) -> bool {
        self.body["stream_options"]["include_usage"].as_bool() == Some(true)
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
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
    shared.record(StubRequest {
        path: path.clone(),
        headers: header_pairs(&parts.headers),
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
    if let Some(message) = parse_error {
        return invalid_request(provider, n, &message);
    }
    let Some(model) = body["model"].as_str().map(str::to_owned) else {
        return invalid_request(provider, n, "you must provide a model parameter");
    };

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
        };
    let ctx = Ctx {
        route,
        input_tokens: input_words(&body),
        body,
        model,
        n,
        created: unix_now(),
        stream,
        fault,
    };

    if stream {
        let frames = match route {
            Route::Chat => chat_stream(&ctx),
            Route::Completions => completions_stream(&ctx),
            Route::Responses => responses_stream(&ctx),
            Route::Messages => messages_stream(&ctx),
            Route::OllamaChat | Route::OllamaGenerate => ollama_stream(&ctx),
            Route::Embeddings | Route::OllamaEmbed | Route::OllamaEmbeddings => Vec::new(),
        };
        let content_type = match provider {
            Provider::Ollama => "application/x-ndjson",
            Provider::OpenAi | Provider::Anthropic => "text/event-stream; charset=utf-8",
        };
        let body = stream_body(frames, fault, |sent| stream_error(&ctx, sent));
        let mut response = respond(StatusCode::OK, provider, n, content_type, body);
        set_header(&mut response, "cache-control", "no-cache");
        return response;
    }

    let value = match route {
        Route::Chat => chat_json(&ctx),
        Route::Completions => completions_json(&ctx),
        Route::Embeddings => embeddings_json(&ctx),
        Route::Responses => responses_json(&ctx),
        Route::Messages => messages_json(&ctx),
        Route::OllamaChat => ollama_chat_json(&ctx),
        Route::OllamaGenerate => ollama_generate_json(&ctx),
        Route::OllamaEmbed | Route::OllamaEmbeddings => ollama_embed_json(&ctx),
    };
    let content_type = json_content_type(provider);
    if fault == Fault::FailMidway {
        let text = value.to_string();
        let half = Bytes::from(text.as_bytes()[..text.len() / 2].to_vec());
        let steps = vec![Step::Send(half, Duration::ZERO), Step::Abort];
        return respond(StatusCode::OK, provider, n, content_type, steps_body(steps));
    }
    respond(
        StatusCode::OK,
        provider,
        n,
        content_type,
        Body::from(value.to_string()),
    )
}

// ---------------------------------------------------------------------------------------
// Answers

/// The content of an answer.
enum Answer {
    Text(String),
    Tool {
        /// Text said before the call (Anthropic only, else empty).
        preamble: String,
        name: String,
        arguments: Value,
    },
}

impl Answer {
    fn output_tokens(&self) -> u64 {
        match self {
            Answer::Text(t) => words(t).max(1),
            Answer::Tool { preamble, .. } => words(preamble) + TOOL_CALL_TOKENS,
        }
    }

    fn text(&self) -> &str {
        match self {
            Answer::Text(t) => t,
            Answer::Tool { preamble, .. } => preamble,
        }
    }

    fn arguments_string(&self) -> String {
        match self {
            Answer::Text(_) => String::new(),
            Answer::Tool { arguments, .. } => arguments.to_string(),
        }
    }
}

/// What the last message asks for.
enum Turn {
    /// A user message: call a tool when there are tools.
    User,
    /// A tool result with this text.
    ToolResult(String),
    /// Anything else.
    Other,
}

fn answer(ctx: &Ctx) -> Answer {
    if ctx.stream && ctx.fault == Fault::SlowStream {
        let words: Vec<String> = (0..SLOW_CHUNKS).map(|i| format!("chunk{i}")).collect();
        return Answer::Text(words.join(" "));
    }
    let body = &ctx.body;
    let (turn, tool) = match ctx.route {
        Route::Chat | Route::OllamaChat => (chat_turn(body), openai_tool(body)),
        Route::Responses => (responses_turn(body), responses_tool(body)),
        Route::Messages => (messages_turn(body), anthropic_tool(body)),
        _ => (Turn::Other, None),
    };
    match (turn, tool) {
        (Turn::ToolResult(result), _) => Answer::Text(format!("The tool returned: {result}")),
        (Turn::User, Some((name, schema))) => Answer::Tool {
            preamble: if ctx.route == Route::Messages {
                format!("Let me use {name}.")
            } else {
                String::new()
            },
            arguments: tool_arguments(&name, schema),
            name,
        },
        _ => Answer::Text(REPLY.to_owned()),
    }
}

fn chat_turn(body: &Value) -> Turn {
    let last = body["messages"].as_array().and_then(|m| m.last());
    match last.map(|m| (m["role"].as_str(), m)) {
        Some((Some("tool"), m)) => Turn::ToolResult(text_of(&m["content"])),
        Some((Some("user"), _)) => Turn::User,
        _ => Turn::Other,
    }
}

fn messages_turn(body: &Value) -> Turn {
    let Some(last) = body["messages"].as_array().and_then(|m| m.last()) else {
        return Turn::Other;
    };
    if last["role"].as_str() != Some("user") {
        return Turn::Other;
    }
    let results: Vec<String> = last["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"].as_str() == Some("tool_result"))
                .map(|b| text_of(&b["content"]))
                .collect()
        })
        .unwrap_or_default();
    if results.is_empty() {
        Turn::User
    } else {
        Turn::ToolResult(results.join(" "))
    }
}

fn responses_turn(body: &Value) -> Turn {
    match &body["input"] {
        Value::String(_) => Turn::User,
        Value::Array(items) => match items.last() {
            Some(item) if item["type"].as_str() == Some("function_call_output") => {
                Turn::ToolResult(text_of(&item["output"]))
            }
            Some(item) if item["role"].as_str() == Some("user") => Turn::User,
            _ => Turn::Other,
        },
        _ => Turn::Other,
    }
}

/// The first function tool of an OpenAI chat or Ollama request: name and parameters.
fn openai_tool(body: &Value) -> Option<(String, Option<&Value>)> {
    body["tools"].as_array()?.iter().find_map(|t| {
        let f = &t["function"];
        f["name"]
            .as_str()
            .map(|name| (name.to_owned(), f.get("parameters")))
    })
}

/// The first function tool of a Responses request.
fn responses_tool(body: &Value) -> Option<(String, Option<&Value>)> {
    body["tools"].as_array()?.iter().find_map(|t| {
        if t["type"].as_str() != Some("function") {
            return None;
        }
        t["name"]
            .as_str()
            .map(|name| (name.to_owned(), t.get("parameters")))
    })
}

/// The first client tool of an Anthropic request (server tools have a `type` and no
/// `input_schema`).
fn anthropic_tool(body: &Value) -> Option<(String, Option<&Value>)> {
    body["tools"].as_array()?.iter().find_map(|t| {
        let custom =
            t.get("input_schema").is_some() || matches!(t["type"].as_str(), None | Some("custom"));
        match t["name"].as_str() {
            Some(name) if custom => Some((name.to_owned(), t.get("input_schema"))),
            _ => None,
        }
    })
}

/// Arguments that fill every property of `schema`.
fn tool_arguments(tool: &str, schema: Option<&Value>) -> Value {
    let mut out = Map::new();
    if let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    {
        for (prop, spec) in props {
            let value = if let Some(first) = spec["enum"].as_array().and_then(|e| e.first()) {
                first.clone()
            } else {
                match spec["type"].as_str() {
                    Some("integer") => json!(1),
                    Some("number") => json!(1.5),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => json!({}),
                    _ => json!(format!("{tool}-{prop}")),
                }
            };
            out.insert(prop.clone(), value);
        }
    }
    if out.is_empty() {
        out.insert("tool".to_owned(), json!(tool));
    }
    Value::Object(out)
}

/// The text in a content value: a string, or the `text` (or nested `content`) of its parts.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(text_of)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        Value::Object(o) => o
            .get("text")
            .or_else(|| o.get("content"))
            .map(text_of)
            .unwrap_or_default(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The words of the request's text, at least 1.
fn input_words(body: &Value) -> u64 {
    const TOP: [&str; 5] = ["messages", "system", "instructions", "prompt", "input"];
    const TEXT_KEYS: [&str; 5] = ["content", "text", "input", "output", "prompt"];
    fn count(v: &Value, text: bool) -> u64 {
        match v {
            Value::String(s) if text => words(s),
            Value::Array(items) => items.iter().map(|x| count(x, text)).sum(),
            Value::Object(m) => m
                .iter()
                .map(|(k, x)| count(x, TEXT_KEYS.contains(&k.as_str())))
                .sum(),
            _ => 0,
        }
    }
    TOP.iter()
        .map(|k| count(&body[*k], true))
        .sum::<u64>()
        .max(1)
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// `text` split into word deltas that concatenate to it.
fn word_deltas(text: &str) -> Vec<String> {
    text.split(' ')
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_owned()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

/// `text` split into fragments of at most 8 characters.
fn fragments(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(8).map(|c| c.iter().collect()).collect()
}

fn has_date_suffix(model: &str) -> bool {
    let b = model.as_bytes();
    if b.len() < 11 {
        return false;
    }
    let tail = &b[b.len() - 11..];
    tail.iter().enumerate().all(|(i, c)| match i {
        0 | 5 | 8 => *c == b'-',
        _ => c.is_ascii_digit(),
    })
}

// ---------------------------------------------------------------------------------------
// OpenAI chat completions

fn openai_usage(ctx: &Ctx, answer: &Answer) -> Value {
    let input = ctx.input_tokens;
    let output = answer.output_tokens() + REASONING_TOKENS;
    json!({
        "prompt_tokens": input,
        "completion_tokens": output,
        "total_tokens": input + output,
        "prompt_tokens_details": {"cached_tokens": input / 2, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": REASONING_TOKENS,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

fn tool_call_id(ctx: &Ctx) -> String {
    ctx.id("call_")
}

fn chat_json(ctx: &Ctx) -> Value {
    let answer = answer(ctx);
    let (message, finish) = match &answer {
        Answer::Text(text) => (
            json!({"role": "assistant", "content": text, "refusal": null, "annotations": []}),
            "stop",
        ),
        Answer::Tool {
            name, arguments, ..
        } => (
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": tool_call_id(ctx),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments.to_string()}
                }],
                "refusal": null,
                "annotations": []
            }),
            "tool_calls",
        ),
    };
    json!({
        "id": ctx.id("chatcmpl-"),
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.response_model(),
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish
        }],
        "usage": openai_usage(ctx, &answer),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT
    })
}

fn chat_chunk(ctx: &Ctx, delta: Value, finish: Option<&str>) -> Value {
    let mut chunk = json!({
        "id": ctx.id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": ctx.created,
        "model": ctx.response_model(),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    });
    if ctx.include_usage()
        && let Some(o) = chunk.as_object_mut()
    {
        o.insert("usage".to_owned(), Value::Null);
    }
    chunk
}

fn chat_stream(ctx: &Ctx) -> Vec<Frame> {
    let answer = answer(ctx);
    let mut frames = Vec::new();
    let finish = match &answer {
        Answer::Text(text) => {
            frames.push(Frame::other(sse_data(&chat_chunk(
                ctx,
                json!({"role": "assistant", "content": "", "refusal": null}),
                None,
            ))));
            for w in word_deltas(text) {
                frames.push(Frame::delta(sse_data(&chat_chunk(
                    ctx,
                    json!({"content": w}),
                    None,
                ))));
            }
            "stop"
        }
        Answer::Tool { name, .. } => {
            frames.push(Frame::other(sse_data(&chat_chunk(
                ctx,
                json!({"role": "assistant", "content": null, "refusal": null}),
                None,
            ))));
            frames.push(Frame::delta(sse_data(&chat_chunk(
                ctx,
                json!({"tool_calls": [{
                    "index": 0,
                    "id": tool_call_id(ctx),
                    "type": "function",
                    "function": {"name": name, "arguments": ""}
                }]}),
                None,
            ))));
            for f in fragments(&answer.arguments_string()) {
                frames.push(Frame::delta(sse_data(&chat_chunk(
                    ctx,
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}),
                    None,
                ))));
            }
            "tool_calls"
        }
    };
    frames.push(Frame::other(sse_data(&chat_chunk(
        ctx,
        json!({}),
        Some(finish),
    ))));
    if ctx.include_usage() {
        frames.push(Frame::other(sse_data(&json!({
            "id": ctx.id("chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.response_model(),
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [],
            "usage": openai_usage(ctx, &answer)
        }))));
    }
    frames.push(Frame::other(Bytes::from_static(b"data: [DONE]\n\n")));
    frames
}

// ---------------------------------------------------------------------------------------
// OpenAI legacy completions

fn completions_usage(ctx: &Ctx, answer: &Answer) -> Value {
    let output = answer.output_tokens();
    json!({
        "prompt_tokens": ctx.input_tokens,
        "completion_tokens": output,
        "total_tokens": ctx.input_tokens + output
    })
}

fn completions_json(ctx: &Ctx) -> Value {
    let answer = answer(ctx);
    json!({
        "id": ctx.id("cmpl-"),
        "object": "text_completion",
        "created": ctx.created,
        "model": ctx.response_model(),
        "choices": [{"text": answer.text(), "index": 0, "logprobs": null, "finish_reason": "stop"}],
        "usage": completions_usage(ctx, &answer)
    })
}

fn completion_chunk(ctx: &Ctx, text: &str, finish: Option<&str>) -> Value {
    let mut chunk = json!({
        "id": ctx.id("cmpl-"),
        "object": "text_completion",
        "created": ctx.created,
        "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": finish}],
        "model": ctx.response_model()
    });
    if ctx.include_usage()
        && let Some(o) = chunk.as_object_mut()
    {
        o.insert("usage".to_owned(), Value::Null);
    }
    chunk
}

fn completions_stream(ctx: &Ctx) -> Vec<Frame> {
    let answer = answer(ctx);
    let mut frames: Vec<Frame> = word_deltas(answer.text())
        .iter()
        .map(|w| Frame::delta(sse_data(&completion_chunk(ctx, w, None))))
        .collect();
    frames.push(Frame::other(sse_data(&completion_chunk(
        ctx,
        "",
        Some("stop"),
    ))));
    if ctx.include_usage() {
        frames.push(Frame::other(sse_data(&json!({
            "id": ctx.id("cmpl-"),
            "object": "text_completion",
            "created": ctx.created,
            "choices": [],
            "model": ctx.response_model(),
            "usage": completions_usage(ctx, &answer)
        }))));
    }
    frames.push(Frame::other(Bytes::from_static(b"data: [DONE]\n\n")));
    frames
}

// ---------------------------------------------------------------------------------------
// Embeddings

/// The inputs of an embeddings request: one per string or token array.
fn embedding_inputs(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) if items.iter().all(Value::is_number) && !items.is_empty() => {
            vec![v.to_string()]
        }
        Value::Array(items) => items.iter().map(text_of).collect(),
        Value::Null => Vec::new(),
        other => vec![text_of(other)],
    }
}

/// A deterministic unit vector for `text`.
fn embedding(text: &str) -> Vec<f32> {
    let mut v: Vec<f32> = (0..EMBEDDING_DIMS)
        .map(|dim| {
            // FNV-1a of the dimension and the text.
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in [dim as u8].iter().chain(text.as_bytes()) {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            ((h % 2001) as f32 / 1000.0) - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn embeddings_json(ctx: &Ctx) -> Value {
    let base64 = ctx.body["encoding_format"].as_str() == Some("base64");
    let data: Vec<Value> = embedding_inputs(&ctx.body["input"])
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = embedding(text);
            let encoded = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64_encode(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": encoded})
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": ctx.response_model(),
        "usage": {"prompt_tokens": ctx.input_tokens, "total_tokens": ctx.input_tokens}
    })
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// OpenAI Responses

fn responses_usage(ctx: &Ctx, answer: &Answer) -> Value {
    let input = ctx.input_tokens;
    let output = answer.output_tokens() + REASONING_TOKENS;
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": input / 2},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": REASONING_TOKENS},
        "total_tokens": input + output
    })
}

/// The output item of an answer, `done` or in progress (empty).
fn responses_item(ctx: &Ctx, answer: &Answer, done: bool) -> Value {
    let status = if done { "completed" } else { "in_progress" };
    match answer {
        Answer::Text(text) => {
            let content = if done {
                json!([{"type": "output_text", "text": text, "annotations": [], "logprobs": []}])
            } else {
                json!([])
            };
            json!({
                "id": ctx.id("msg_"),
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": content
            })
        }
        Answer::Tool {
            name, arguments, ..
        } => json!({
            "id": ctx.id("fc_"),
            "type": "function_call",
            "status": status,
            "arguments": if done { arguments.to_string() } else { String::new() },
            "call_id": tool_call_id(ctx),
            "name": name
        }),
    }
}

/// The response object; `done` adds the output and usage.
fn response_object(ctx: &Ctx, answer: &Answer, done: bool) -> Value {
    let body = &ctx.body;
    json!({
        "id": ctx.id("resp_"),
        "object": "response",
        "created_at": ctx.created,
        "status": if done { "completed" } else { "in_progress" },
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": body.get("instructions").cloned().unwrap_or(Value::Null),
        "max_output_tokens": body.get("max_output_tokens").cloned().unwrap_or(Value::Null),
        "model": ctx.response_model(),
        "output": if done { json!([responses_item(ctx, answer, true)]) } else { json!([]) },
        "parallel_tool_calls": true,
        "previous_response_id": body.get("previous_response_id").cloned().unwrap_or(Value::Null),
        "reasoning": {"effort": null, "summary": null},
        "service_tier": "default",
        "store": true,
        "temperature": body.get("temperature").cloned().unwrap_or(json!(1.0)),
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools").cloned().unwrap_or(json!([])),
        "top_p": body.get("top_p").cloned().unwrap_or(json!(1.0)),
        "truncation": "disabled",
        "usage": if done { responses_usage(ctx, answer) } else { Value::Null },
        "user": null,
        "metadata": {}
    })
}

fn responses_json(ctx: &Ctx) -> Value {
    response_object(ctx, &answer(ctx), true)
}

fn responses_stream(ctx: &Ctx) -> Vec<Frame> {
    let answer = answer(ctx);
    let mut seq = 0u64;
    let mut event = |name: &str, mut data: Value| {
        if let Some(o) = data.as_object_mut() {
            o.insert("type".to_owned(), json!(name));
            o.insert("sequence_number".to_owned(), json!(seq));
        }
        seq += 1;
        sse_event(name, &data)
    };
    let mut frames = vec![
        Frame::other(event(
            "response.created",
            json!({"response": response_object(ctx, &answer, false)}),
        )),
        Frame::other(event(
            "response.in_progress",
            json!({"response": response_object(ctx, &answer, false)}),
        )),
        Frame::other(event(
            "response.output_item.added",
            json!({"output_index": 0, "item": responses_item(ctx, &answer, false)}),
        )),
    ];
    match &answer {
        Answer::Text(text) => {
            let item_id = ctx.id("msg_");
            let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []});
            frames.push(Frame::other(event(
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part("")}),
            )));
            for w in word_deltas(text) {
                frames.push(Frame::delta(event(
                    "response.output_text.delta",
                    json!({"item_id": item_id, "output_index": 0, "content_index": 0, "delta": w, "logprobs": []}),
                )));
            }
            frames.push(Frame::other(event(
                "response.output_text.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
            )));
            frames.push(Frame::other(event(
                "response.content_part.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part(text)}),
            )));
        }
        Answer::Tool { .. } => {
            let item_id = ctx.id("fc_");
            let arguments = answer.arguments_string();
            for f in fragments(&arguments) {
                frames.push(Frame::delta(event(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": 0, "delta": f}),
                )));
            }
            frames.push(Frame::other(event(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": 0, "arguments": arguments}),
            )));
        }
    }
    frames.push(Frame::other(event(
        "response.output_item.done",
        json!({"output_index": 0, "item": responses_item(ctx, &answer, true)}),
    )));
    frames.push(Frame::other(event(
        "response.completed",
        json!({"response": response_object(ctx, &answer, true)}),
    )));
    frames
}

// ---------------------------------------------------------------------------------------
// Anthropic messages

fn anthropic_usage(ctx: &Ctx, output_tokens: u64) -> Value {
    json!({
        "input_tokens": ctx.input_tokens,
        "cache_creation_input_tokens": CACHE_CREATION_TOKENS,
        "cache_read_input_tokens": ctx.input_tokens / 2,
        "output_tokens": output_tokens,
        "service_tier": "standard"
    })
}

fn stop_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text(_) => "end_turn",
        Answer::Tool { .. } => "tool_use",
    }
}

fn tool_use_id(ctx: &Ctx) -> String {
    ctx.id("toolu_")
}

fn messages_json(ctx: &Ctx) -> Value {
    let answer = answer(ctx);
    let content = match &answer {
        Answer::Text(text) => json!([{"type": "text", "text": text}]),
        Answer::Tool {
            preamble,
            name,
            arguments,
        } => json!([
            {"type": "text", "text": preamble},
            {"type": "tool_use", "id": tool_use_id(ctx), "name": name, "input": arguments}
        ]),
    };
    json!({
        "id": ctx.id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": ctx.response_model(),
        "content": content,
        "stop_reason": stop_reason(&answer),
        "stop_sequence": null,
        "usage": anthropic_usage(ctx, answer.output_tokens())
    })
}

fn messages_stream(ctx: &Ctx) -> Vec<Frame> {
    let answer = answer(ctx);
    let mut frames = vec![
        Frame::other(sse_event(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": ctx.id("msg_"),
                "type": "message",
                "role": "assistant",
                "model": ctx.response_model(),
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": anthropic_usage(ctx, 1)
            }}),
        )),
        Frame::other(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        )),
        Frame::other(sse_event("ping", &json!({"type": "ping"}))),
    ];
    for w in word_deltas(answer.text()) {
        frames.push(Frame::delta(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}),
        )));
    }
    frames.push(Frame::other(sse_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    )));
    if let Answer::Tool { name, .. } = &answer {
        frames.push(Frame::other(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 1, "content_block": {
                "type": "tool_use", "id": tool_use_id(ctx), "name": name, "input": {}
            }}),
        )));
        let mut parts = vec![String::new()];
        parts.extend(fragments(&answer.arguments_string()));
        for f in parts {
            frames.push(Frame::delta(sse_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": f}}),
            )));
        }
        frames.push(Frame::other(sse_event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 1}),
        )));
    }
    frames.push(Frame::other(sse_event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(&answer), "stop_sequence": null},
            "usage": {"output_tokens": answer.output_tokens()}
        }),
    )));
    frames.push(Frame::other(sse_event(
        "message_stop",
        &json!({"type": "message_stop"}),
    )));
    frames
}

// ---------------------------------------------------------------------------------------
// Ollama

/// The fields of Ollama's final object.
fn ollama_done(ctx: &Ctx, answer: &Answer) -> Map<String, Value> {
    let eval = answer.output_tokens();
    let mut m = Map::new();
    m.insert("done".to_owned(), json!(true));
    m.insert("done_reason".to_owned(), json!("stop"));
    m.insert("total_duration".to_owned(), json!(412_345_678u64));
    m.insert("load_duration".to_owned(), json!(12_345_678u64));
    m.insert("prompt_eval_count".to_owned(), json!(ctx.input_tokens));
    m.insert("prompt_eval_duration".to_owned(), json!(100_000_000u64));
    m.insert("eval_count".to_owned(), json!(eval));
    m.insert("eval_duration".to_owned(), json!(300_000_000u64));
    m
}

fn ollama_tool_calls(answer: &Answer) -> Value {
    match answer {
        Answer::Tool {
            name, arguments, ..
        } => json!([{"function": {"name": name, "arguments": arguments}}]),
        Answer::Text(_) => Value::Null,
    }
}

fn ollama_head(ctx: &Ctx) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("model".to_owned(), json!(ctx.response_model()));
    m.insert("created_at".to_owned(), json!(rfc3339_now()));
    m
}

fn ollama_chat_json(ctx: &Ctx) -> Value {
    let answer = answer(ctx);
    let mut m = ollama_head(ctx);
    let mut message = json!({"role": "assistant", "content": answer.text()});
    if let (Some(o), Answer::Tool { .. }) = (message.as_object_mut(), &answer) {
        o.insert("tool_calls".to_owned(), ollama_tool_calls(&answer));
    }
    m.insert("message".to_owned(), message);
    m.extend(ollama_done(ctx, &answer));
    Value::Object(m)
}

fn ollama_generate_json(ctx: &Ctx) -> Value {
    let answer = answer(ctx);
    let mut m = ollama_head(ctx);
    m.insert("response".to_owned(), json!(answer.text()));
    m.extend(ollama_done(ctx, &answer));
    m.insert("context".to_owned(), json!([1, 2, 3]));
    Value::Object(m)
}

fn ollama_embed_json(ctx: &Ctx) -> Value {
    let mut m = Map::new();
    m.insert("model".to_owned(), json!(ctx.response_model()));
    if ctx.route == Route::OllamaEmbeddings {
        m.insert(
            "embedding".to_owned(),
            json!(embedding(&text_of(&ctx.body["prompt"]))),
        );
        return Value::Object(m);
    }
    let vectors: Vec<Vec<f32>> = embedding_inputs(&ctx.body["input"])
        .iter()
        .map(|t| embedding(t))
        .collect();
    m.insert("embeddings".to_owned(), json!(vectors));
    m.insert("total_duration".to_owned(), json!(14_143_917u64));
    m.insert("load_duration".to_owned(), json!(1_019_500u64));
    m.insert("prompt_eval_count".to_owned(), json!(ctx.input_tokens));
    Value::Object(m)
}

fn ollama_stream(ctx: &Ctx) -> Vec<Frame> {
    let answer = answer(ctx);
    let chat = ctx.route == Route::OllamaChat;
    let piece = |text: &str, tool_calls: Option<Value>| {
        let mut m = ollama_head(ctx);
        if chat {
            let mut message = json!({"role": "assistant", "content": text});
            if let (Some(o), Some(calls)) = (message.as_object_mut(), tool_calls) {
                o.insert("tool_calls".to_owned(), calls);
            }
            m.insert("message".to_owned(), message);
        } else {
            m.insert("response".to_owned(), json!(text));
        }
        m
    };
    let mut frames = Vec::new();
    match &answer {
        Answer::Text(text) => {
            for w in word_deltas(text) {
                let mut m = piece(&w, None);
                m.insert("done".to_owned(), json!(false));
                frames.push(Frame::delta(ndjson(&Value::Object(m))));
            }
        }
        Answer::Tool { .. } => {
            let mut m = piece("", Some(ollama_tool_calls(&answer)));
            m.insert("done".to_owned(), json!(false));
            frames.push(Frame::delta(ndjson(&Value::Object(m))));
        }
    }
    let mut last = piece("", None);
    last.extend(ollama_done(ctx, &answer));
    if !chat {
        last.insert("context".to_owned(), json!([1, 2, 3]));
    }
    frames.push(Frame::other(ndjson(&Value::Object(last))));
    frames
}

// ---------------------------------------------------------------------------------------
// Streaming bodies

/// One event (SSE) or line (NDJSON) of a stream.
struct Frame {
    bytes: Bytes,
    /// Carries content (text, tool-call arguments): faults cut after such frames and
    /// [`SLOW_STREAM`] delays them.
    delta: bool,
}

impl Frame {
    fn delta(bytes: Bytes) -> Frame {
        Frame { bytes, delta: true }
    }

    fn other(bytes: Bytes) -> Frame {
        Frame {
            bytes,
            delta: false,
        }
    }
}

fn sse_data(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

fn sse_event(name: &str, v: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {v}\n\n"))
}

fn ndjson(v: &Value) -> Bytes {
    Bytes::from(format!("{v}\n"))
}

/// The provider's in-stream error for [`ERROR_EVENT`], after `sent` events.
fn stream_error(ctx: &Ctx, sent: usize) -> Bytes {
    match ctx.route {
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

/// What the body stream does next.
enum Step {
    /// Waits, then sends.
    Send(Bytes, Duration),
    /// Waits [`ABORT_DELAY`], then fails (hyper aborts the connection).
    Abort,
}

fn stream_body(frames: Vec<Frame>, fault: Fault, error: impl FnOnce(usize) -> Bytes) -> Body {
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
    let steps = match fault {
        Fault::FailMidway => {
            let mut steps = cut(frames);
            steps.push(Step::Abort);
            steps
        }
        Fault::ErrorEvent => {
            let mut steps = cut(frames);
            steps.push(Step::Send(error(steps.len()), Duration::ZERO));
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

// ---------------------------------------------------------------------------------------
// Responses and errors

fn json_content_type(provider: Provider) -> &'static str {
    match provider {
        Provider::Ollama => "application/json; charset=utf-8",
        Provider::OpenAi | Provider::Anthropic => "application/json",
    }
}

fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), v);
    }
}

/// A response with the provider's usual headers.
fn respond(
    status: StatusCode,
    provider: Provider,
    n: u64,
    content_type: &str,
    body: Body,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    set_header(&mut response, "content-type", content_type);
    let request_id = format!("req_stub{n:06}");
    match provider {
        Provider::OpenAi => {
            set_header(&mut response, "x-request-id", &request_id);
            set_header(&mut response, "openai-processing-ms", "1");
            set_header(&mut response, "openai-version", "2020-10-01");
        }
        Provider::Anthropic => set_header(&mut response, "request-id", &request_id),
        Provider::Ollama => {}
    }
    response
}

fn error_json(status: StatusCode, provider: Provider, n: u64, body: Value) -> Response {
    respond(
        status,
        provider,
        n,
        json_content_type(provider),
        Body::from(body.to_string()),
    )
}

fn anthropic_error(n: u64, kind: &str, message: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": format!("req_stub{n:06}")
    })
}

fn invalid_request(provider: Provider, n: u64, message: &str) -> Response {
    let body = match provider {
        Provider::OpenAi => json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null, "code": null
        }}),
        Provider::Anthropic => anthropic_error(n, "invalid_request_error", message),
        Provider::Ollama => json!({"error": message}),
    };
    error_json(StatusCode::BAD_REQUEST, provider, n, body)
}

fn rate_limited(provider: Provider, n: u64, model: &str) -> Response {
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
    };
    let mut response = error_json(StatusCode::TOO_MANY_REQUESTS, provider, n, body);
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
        Provider::Ollama => {}
    }
    response
}

fn server_error(provider: Provider, n: u64) -> Response {
    let body = match provider {
        Provider::OpenAi => json!({"error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": null,
            "code": null
        }}),
        Provider::Anthropic => anthropic_error(n, "api_error", "Internal server error"),
        Provider::Ollama => json!({"error": "llama runner process has terminated: exit status 2"}),
    };
    error_json(StatusCode::INTERNAL_SERVER_ERROR, provider, n, body)
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    set_header(&mut response, "content-type", "text/plain; charset=utf-8");
    response
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Time

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Now as RFC 3339 UTC with nanoseconds, as Ollama writes `created_at`.
fn rfc3339_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Year, month, day of the `days`-th day after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn date_suffix() {
        assert!(has_date_suffix("gpt-4o-mini-2024-07-18"));
        assert!(!has_date_suffix("gpt-4o-mini"));
        assert!(!has_date_suffix("x"));
    }

    #[test]
    fn word_deltas_concatenate() {
        assert_eq!(word_deltas(REPLY).concat(), REPLY);
        assert_eq!(word_deltas(REPLY).len(), 7);
    }
}

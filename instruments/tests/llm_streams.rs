//! Streams through the real `LlmMiddleware` (issue 9, item 8): a response is a stream when the
//! request asked for one, whatever its content type (none, or `application/json` as some
//! OpenAI-compatible servers send); chunks reach the caller as they are sent; pathological
//! streams (200k choice indices, a 12 MB line without a newline, 12 MB of text) are passed
//! through untouched while what the span keeps stays bounded, and the span says a cap was hit.
//!
//! The servers here are small raw HTTP/1.1 servers on 127.0.0.1 (the shared stub always sends
//! the right content type and well-behaved streams); each serves one connection and stops.
//! Memory is measured in a child process (this test binary, re-run on one test) as its peak
//! resident set (`VmHWM`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use llmetry::task;
use llmetry_testkit::{attr, attr_str, harness};
use opentelemetry::Value;
use opentelemetry::trace::Status;
use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Hang guard: generous, never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build()
}

/// Reads one HTTP/1.1 request (head and `content-length` body) and returns its body.
async fn read_request(conn: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let n = conn.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut tmp).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            return buf[end + 4..].to_vec();
        }
    }
}

/// A server for one streamed answer: the response head (with `content_type`, if any, and no
/// length: the body ends when the connection closes), then `parts` in order. Before each part
/// after the first it waits until `gate` is notified (the client saw the previous one).
async fn serve_once(
    content_type: Option<&'static str>,
    parts: Vec<Vec<u8>>,
    gate: Option<Arc<Notify>>,
) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let handle = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.expect("accept");
        let request = read_request(&mut conn).await;
        let mut head = "HTTP/1.1 200 OK\r\nconnection: close\r\n".to_owned();
        if let Some(ct) = content_type {
            head.push_str(&format!("content-type: {ct}\r\n"));
        }
        head.push_str("\r\n");
        conn.write_all(head.as_bytes()).await.expect("write head");
        for (i, part) in parts.iter().enumerate() {
            if i > 0
                && let Some(gate) = &gate
            {
                gate.notified().await;
            }
            conn.write_all(part).await.expect("write part");
            conn.flush().await.expect("flush");
        }
        let _ = conn.shutdown().await;
        request
    });
    (format!("http://{addr}/v1/chat/completions"), handle)
}

fn chat_chunk(delta: Json, finish: Option<&str>) -> String {
    let chunk = json!({"id": "chatcmpl-s1", "object": "chat.completion.chunk", "model": "gpt-4o-mini-2024-07-18",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {chunk}\n\n")
}

/// A streamed chat answer in two parts: the first word, then the rest with usage and `[DONE]`.
fn two_parts() -> Vec<Vec<u8>> {
    let first = chat_chunk(json!({"role": "assistant", "content": "Disk"}), None);
    let rest = chat_chunk(json!({"content": " full."}), None)
        + &chat_chunk(json!({}), Some("stop"))
        + &format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-s1", "model": "gpt-4o-mini-2024-07-18", "choices": [],
                   "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}})
        )
        + "data: [DONE]\n\n";
    vec![first.into_bytes(), rest.into_bytes()]
}

fn request(model: &str) -> Json {
    json!({"model": model, "stream": true, "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": "Why is db-1 down?"}]})
}

/// Sends a stream request; reads the first chunk, lets the server go on, reads the rest.
#[task(name = "unlabelled_stream", skip(gate))]
async fn unlabelled_stream(url: String, model: String, gate: Arc<Notify>) -> String {
    let resp = client()
        .post(url)
        .json(&request(&model))
        .send()
        .await
        .expect("stream request");
    let mut body = resp.bytes_stream();
    let first = body.next().await.expect("a first chunk").expect("chunk");
    let mut text = String::from_utf8_lossy(&first).into_owned();
    assert!(
        text.contains("Disk"),
        "the first chunk reached the caller alone: {text:?}"
    );
    // Only now does the server send the rest: a buffering middleware would wait forever.
    gate.notify_one();
    while let Some(chunk) = body.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
    }
    text
}

async fn stream_reaches_the_caller_chunk_by_chunk(content_type: Option<&'static str>) {
    let h = harness();
    let gate = Arc::new(Notify::new());
    let (url, server) = serve_once(content_type, two_parts(), Some(Arc::clone(&gate))).await;
    let model = format!("gpt-4o-mini-{}", content_type.unwrap_or("none"));
    let text = tokio::time::timeout(
        HANG_GUARD,
        unlabelled_stream(url, model.clone(), Arc::clone(&gate)),
    )
    .await
    .expect("the middleware held back the first chunk until the whole body arrived");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text:?}");
    let sent = server.await.expect("server");
    assert!(String::from_utf8_lossy(&sent).contains(&model));

    let spans = h.named("openai.chat");
    let s = spans
        .iter()
        .find(|s| attr_str(s, "gen_ai.request.model").as_deref() == Some(model.as_str()))
        .expect("the LLM span of this call");
    assert_eq!(attr(s, "gen_ai.is_streaming"), Some(Value::Bool(true)));
    assert_eq!(s.status, Status::Ok);
    assert!(attr(s, "gen_ai.server.time_to_first_token").is_some());
    assert_eq!(attr(s, "gen_ai.usage.input_tokens"), Some(Value::I64(9)));
    assert_eq!(attr(s, "gen_ai.usage.output_tokens"), Some(Value::I64(2)));
    assert_eq!(
        attr_str(s, "gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    let out: Json = serde_json::from_str(&attr_str(s, "gen_ai.output.messages").expect("output"))
        .expect("output messages JSON");
    assert_eq!(out[0]["parts"][0]["content"], "Disk full.");
    assert_eq!(out[0]["finish_reason"], "stop");
    assert_eq!(attr(s, "llmetry.capture.truncated"), None);
}

#[tokio::test]
async fn stream_without_content_type_is_not_buffered() {
    stream_reaches_the_caller_chunk_by_chunk(None).await;
}

#[tokio::test]
async fn stream_labelled_application_json_is_not_buffered() {
    stream_reaches_the_caller_chunk_by_chunk(Some("application/json")).await;
}

#[tokio::test]
async fn stream_request_answered_with_one_json_document_is_recorded() {
    let h = harness();
    // A server that ignored `"stream": true` and answered with a plain chat completion.
    let body = json!({"id": "chatcmpl-j1", "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Plain."}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}});
    let (url, server) = serve_once(
        Some("application/json"),
        vec![body.to_string().into_bytes()],
        None,
    )
    .await;
    let got: Json = tokio::time::timeout(HANG_GUARD, async {
        client()
            .post(url)
            .json(&request("json-document-model"))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a JSON body")
    })
    .await
    .expect("hang guard");
    assert_eq!(got, body, "the caller got the body intact");
    server.await.expect("server");
    let spans = h.named("openai.chat");
    let s = spans
        .iter()
        .find(|s| attr_str(s, "gen_ai.request.model").as_deref() == Some("json-document-model"))
        .expect("the LLM span");
    assert_eq!(
        attr_str(s, "gen_ai.response.id").as_deref(),
        Some("chatcmpl-j1")
    );
    assert_eq!(attr(s, "gen_ai.usage.total_tokens"), Some(Value::I64(6)));
    assert_eq!(s.status, Status::Ok);
}

// ------------------------------------------------------------ pathological streams

/// The environment variable that makes a test run one scenario as the measured child.
const CHILD: &str = "LLMETRY_STREAMS_CHILD";
/// The peak resident set a 12 MB pathological stream may cost the whole test process.
const PEAK_BOUND_KB: u64 = 64 * 1024;
const TOTAL: usize = 12 << 20;

/// 12 MB of chat chunks, each with a new `choices[].index` (about 200k of them).
fn many_choice_indices() -> Vec<Vec<u8>> {
    let mut parts = Vec::new();
    let mut part = Vec::with_capacity(1 << 16);
    let mut total = 0;
    let mut index = 0u64;
    while total < TOTAL {
        let line = format!(
            "data: {{\"id\":\"c\",\"model\":\"m\",\"choices\":[{{\"index\":{index},\"delta\":{{\"content\":\"x\"}}}}]}}\n\n"
        );
        total += line.len();
        part.extend_from_slice(line.as_bytes());
        index += 1;
        if part.len() >= 1 << 16 {
            parts.push(std::mem::take(&mut part));
        }
    }
    parts.push(part);
    parts.push(b"data: [DONE]\n\n".to_vec());
    parts
}

/// One 12 MB `data:` line that never ends.
fn huge_line() -> Vec<Vec<u8>> {
    let mut parts =
        vec![b"data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"".to_vec()];
    for _ in 0..TOTAL / (1 << 16) {
        parts.push(vec![b'y'; 1 << 16]);
    }
    parts
}

/// 12 MB of text in one choice, 4 KiB per chunk.
fn huge_text() -> Vec<Vec<u8>> {
    let word = "z".repeat(4096);
    let one = chat_chunk(json!({"content": word}), None).into_bytes();
    let mut parts: Vec<Vec<u8>> = (0..TOTAL / 4096).map(|_| one.clone()).collect();
    parts.push(chat_chunk(json!({}), Some("length")).into_bytes());
    parts.push(b"data: [DONE]\n\n".to_vec());
    parts
}

#[task(name = "pathological_stream")]
async fn pathological_stream(url: String, model: String) -> usize {
    let resp = client()
        .post(url)
        .json(&request(&model))
        .send()
        .await
        .expect("stream request");
    let mut body = resp.bytes_stream();
    let mut n = 0;
    while let Some(chunk) = body.next().await {
        n += chunk.expect("chunk").len();
    }
    n
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: streams one pathological body through the middleware, checks the caller got
/// every byte and the span says which cap was hit, prints its peak resident set.
async fn run_child(scenario: &str) {
    let h = harness();
    let (parts, cap) = match scenario {
        "choices" => (many_choice_indices(), "choices"),
        "line" => (huge_line(), "line"),
        "text" => (huge_text(), "text"),
        other => panic!("unknown scenario {other}"),
    };
    let sent: usize = parts.iter().map(Vec::len).sum();
    // Without a content type: the request alone says it is a stream.
    let (url, server) = serve_once(None, parts, None).await;
    let model = format!("pathological-{scenario}");
    let got = tokio::time::timeout(HANG_GUARD, pathological_stream(url, model.clone()))
        .await
        .expect("hang guard");
    server.await.expect("server");
    assert_eq!(got, sent, "the caller got every byte");
    let spans = h.named("openai.chat");
    let s = spans
        .iter()
        .find(|s| attr_str(s, "gen_ai.request.model").as_deref() == Some(model.as_str()))
        .expect("the LLM span");
    assert_eq!(
        attr(s, "llmetry.capture.truncated"),
        Some(Value::Bool(true))
    );
    let caps = attr(s, "llmetry.capture.truncated_caps").map(|v| v.to_string());
    assert!(
        caps.as_deref().is_some_and(|c| c.contains(cap)),
        "{caps:?} names {cap}"
    );
    if scenario == "choices" {
        let out: Json =
            serde_json::from_str(&attr_str(s, "gen_ai.output.messages").unwrap_or_default())
                .unwrap_or(Json::Null);
        // 128 kept choices (cut to the attribute length limit, so parse may fail: then the
        // attribute's size is what is bounded).
        assert!(out.as_array().is_none_or(|a| a.len() <= 128));
    }
    println!("VmHWM_KB={}", peak_rss_kb());
}

/// Runs `scenario` in a child process and returns its peak resident set in kB.
fn child_peak_kb(test: &str, scenario: &str) -> u64 {
    let exe = std::env::current_exe().expect("current exe");
    let out = std::process::Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, scenario)
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child {scenario} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // libtest prints the test's name on the same line: look for the marker anywhere.
    let peak = stdout
        .split("VmHWM_KB=")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())
        .expect("the child printed its peak");
    eprintln!("{scenario}: peak resident set {peak} kB");
    peak
}

macro_rules! pathological {
    ($name:ident, $scenario:literal) => {
        #[test]
        fn $name() {
            if let Ok(scenario) = std::env::var(CHILD) {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(run_child(&scenario));
                return;
            }
            let peak = child_peak_kb(stringify!($name), $scenario);
            assert!(
                peak > 0 && peak < PEAK_BOUND_KB,
                "peak resident set {peak} kB for a 12 MB stream (bound {PEAK_BOUND_KB} kB)"
            );
        }
    };
}

pathological!(stream_with_200k_choice_indices_stays_bounded, "choices");
pathological!(
    stream_with_a_12mb_line_without_newline_stays_bounded,
    "line"
);
pathological!(stream_with_12mb_of_text_stays_bounded, "text");

//! Gemini end to end: rig 0.43's Gemini provider (key in `?key=`) and raw reqwest (key in
//! `x-goog-api-key`), both through `LlmMiddleware`, against the local stub speaking Gemini's
//! JSON, its SSE stream (`alt=sse`) and its JSON-array stream; streams to completion, failing
//! midway, with an error chunk, dropped early; 429 and 500 with Google's error bodies;
//! embeddings; content off; and the API key nowhere in what is exported or returned.

#![allow(clippy::expect_used, clippy::unwrap_used)] // the helpers and tasks below are test code: a failure shows its cause

use futures::StreamExt as _;
use llmetry::{task, workflow};
use llmetry_integrations::gemini;
use llmetry_testkit::llm_stub::{self, LlmStub};
use llmetry_testkit::{attr, attr_str, harness, int_attr, json_attr};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use rig_core::completion::{AssistantContent, CompletionRequest};
use rig_core::streaming::{Item, StreamEvent};
use serde_json::{Value, json};

const MODEL: &str = "gemini-2.5-flash";
/// The API key every call sends: it must never be exported or shown.
const KEY: &str = "AIzaLLMETRY-SECRET-KEY-0123456789";
const SCOPE: &str = "opentelemetry.instrumentation.google_generativeai";

fn span_name() -> String {
    format!("generate_content {MODEL}")
}

/// The LLM spans of the trace of the (unique) span `root`.
fn llm_spans(root: &str) -> Vec<SpanData> {
    harness()
        .trace_of(root)
        .spans
        .into_iter()
        .filter(|s| s.instrumentation_scope.name() == SCOPE)
        .collect()
}

fn only_llm_span(root: &str) -> SpanData {
    let spans = llm_spans(root);
    assert_eq!(
        spans.len(),
        1,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    spans.into_iter().next().expect("one span")
}

/// Waits (hang guard) until the trace of `root` has an LLM span, for spans a stream ends.
async fn eventually_llm_span(root: &str) -> SpanData {
    let deadline = std::time::Instant::now() + llmetry_testkit::HANG_GUARD;
    loop {
        let spans = llm_spans(root);
        if let [s] = &spans[..] {
            return s.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no single LLM span under {root}: {:?}",
            harness().trace_of(root).names()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn has_event(span: &SpanData, name: &str) -> bool {
    span.events.iter().any(|e| e.name == name)
}

/// The stub saw the key (so it did travel), in the query or the header.
fn assert_stub_saw_key(stub: &LlmStub) {
    let reqs = stub.requests();
    assert!(!reqs.is_empty());
    for r in reqs {
        let in_query = r.query.as_deref().is_some_and(|q| q.contains(KEY));
        let in_header = r.header("x-goog-api-key") == Some(KEY);
        assert!(in_query || in_header, "{r:?}");
    }
}

// ------------------------------------------------------------------ rig, generateContent

#[task(name = "ask_gemini")]
async fn ask_gemini(base: String) -> String {
    let model = gemini::rig(KEY, &base).completion(MODEL);
    let r = match model
        .call(CompletionRequest::new("Why is db-1 down?"))
        .await
    {
        Ok(r) => r,
        Err(e) => panic!("rig call failed: {e}"),
    };
    r.choice
        .iter()
        .filter_map(|c| match c {
            AssistantContent::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

#[workflow(name = "gemini_wf")]
async fn gemini_wf(base: String) -> String {
    ask_gemini(base).await
}

#[tokio::test]
async fn rig_generate_content_is_one_client_span_under_the_task() {
    let h = harness();
    let stub = LlmStub::start();
    assert_eq!(gemini_wf(stub.base_url()).await, llm_stub::REPLY);
    assert_stub_saw_key(&stub);
    let reqs = stub.requests();
    assert_eq!(
        reqs[0].path,
        format!("/v1beta/models/{MODEL}:generateContent")
    );

    let t = h.trace_of("gemini_wf.workflow");
    let s = only_llm_span("gemini_wf.workflow");
    assert_eq!(s.name, span_name());
    assert_eq!(s.span_kind, SpanKind::Client);
    // Under rig's own span (rig names it after the operation), under our task.
    let rig = t.span("generate_content");
    assert_eq!(t.parent_name(&s).as_deref(), Some("generate_content"));
    assert_eq!(t.parent_name(rig).as_deref(), Some("ask_gemini.task"));
    let a = |k: &str| attr_str(&s, k);
    assert_eq!(a("gen_ai.provider.name").as_deref(), Some("gcp.gen_ai"));
    assert_eq!(
        a("gen_ai.operation.name").as_deref(),
        Some("generate_content")
    );
    assert_eq!(a("gen_ai.request.model").as_deref(), Some(MODEL));
    assert_eq!(a("gen_ai.response.model").as_deref(), Some(MODEL));
    assert!(a("gen_ai.response.id").is_some_and(|id| id.starts_with("gemini-stub")));
    assert_eq!(a("traceloop.workflow.name").as_deref(), Some("gemini_wf"));
    assert_eq!(a("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(false.into()));
    let input = int_attr(&s, "gen_ai.usage.input_tokens").expect("input tokens");
    let output = int_attr(&s, "gen_ai.usage.output_tokens").expect("output tokens");
    let reasoning = int_attr(&s, "gen_ai.usage.reasoning_tokens");
    assert_eq!(reasoning, Some(llm_stub::REASONING_TOKENS as i64));
    assert_eq!(
        int_attr(&s, "gen_ai.usage.total_tokens"),
        Some(input + output + llm_stub::REASONING_TOKENS as i64)
    );
    assert_eq!(
        int_attr(&s, "gen_ai.usage.cache_read.input_tokens"),
        Some(input / 2)
    );
    // Priced from llmetry's table (gemini-2.5-flash is in it): cost rides along.
    assert!(
        matches!(attr(&s, "gen_ai.usage.cost"), Some(opentelemetry::Value::F64(c)) if c > 0.0),
        "cost: {:?}",
        attr(&s, "gen_ai.usage.cost")
    );
    assert_eq!(
        attr(&s, "gen_ai.response.finish_reasons").map(|v| v.to_string()),
        Some("[\"stop\"]".to_owned())
    );
    let messages = json_attr(&s, "gen_ai.input.messages");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["parts"][0]["content"], "Why is db-1 down?");
    let out = json_attr(&s, "gen_ai.output.messages");
    assert_eq!(out[0]["parts"][0]["content"], llm_stub::REPLY);
    assert_eq!(out[0]["finish_reason"], "stop");
    assert_eq!(s.status, Status::Ok); // as Python's google_generativeai sets it
    assert_no_key_anywhere();
}

// ------------------------------------------------------------------ rig, SSE stream

#[task(name = "stream_gemini")]
async fn stream_gemini(base: String) -> String {
    let model = gemini::rig(KEY, &base).completion(MODEL);
    let mut stream = match model.stream(CompletionRequest::new("Stream a greeting")) {
        Ok(s) => s,
        Err(e) => panic!("rig stream failed: {e}"),
    };
    let mut text = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(Item::Event(StreamEvent::Text { text: t, .. })) => text.push_str(&t),
            Ok(_) => {}
            Err(e) => panic!("rig stream item failed: {e}"),
        }
    }
    text
}

#[tokio::test]
async fn rig_sse_stream_is_accumulated_and_completes() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    assert_eq!(stream_gemini(stub.base_url()).await, llm_stub::REPLY);
    assert_stub_saw_key(&stub);
    assert!(
        stub.requests()[0]
            .query
            .as_deref()
            .is_some_and(|q| q.contains("alt=sse"))
    );
    let s = eventually_llm_span("stream_gemini.task").await;
    assert_eq!(s.name, span_name());
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(true.into()));
    assert_eq!(s.status, Status::Ok);
    assert!(attr(&s, "gen_ai.server.time_to_first_token").is_some());
    let out = json_attr(&s, "gen_ai.output.messages");
    assert_eq!(out[0]["parts"][0]["content"], llm_stub::REPLY);
    assert!(int_attr(&s, "gen_ai.usage.output_tokens").is_some_and(|n| n > 0));
    assert_no_key_anywhere();
}

// ------------------------------------------------------------------ raw reqwest, JSON array

fn stream_url(base: &str, model: &str) -> String {
    format!("{base}/v1beta/models/{model}:streamGenerateContent")
}

async fn post_stream(base: &str, model: &str) -> reqwest::Response {
    let client = gemini::http_client();
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "Tell me about db-1"}]}]});
    match client
        .post(stream_url(base, model))
        .header("x-goog-api-key", KEY)
        .json(&body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => panic!("request failed: {e}"),
    }
}

#[task(name = "json_array_stream")]
async fn json_array_stream(base: String) -> Vec<u8> {
    let resp = post_stream(&base, MODEL).await;
    assert_eq!(resp.status(), 200);
    let mut body = Vec::new();
    let mut chunks = resp.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk.expect("chunk"));
    }
    body
}

#[tokio::test]
async fn raw_json_array_stream_passes_through_untouched_and_is_recorded() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    let body = json_array_stream(stub.base_url()).await;
    assert_stub_saw_key(&stub);
    // The caller's bytes: one JSON array of whole responses.
    let chunks: Vec<Value> = serde_json::from_slice(&body).expect("a JSON array");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .collect();
    assert_eq!(text, llm_stub::REPLY);

    let s = eventually_llm_span("json_array_stream.task").await;
    assert_eq!(s.name, span_name());
    assert_eq!(s.status, Status::Ok);
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(true.into()));
    let out = json_attr(&s, "gen_ai.output.messages");
    assert_eq!(out[0]["parts"][0]["content"], llm_stub::REPLY);
    assert_eq!(
        attr(&s, "gen_ai.response.finish_reasons").map(|v| v.to_string()),
        Some("[\"stop\"]".to_owned())
    );
    assert!(attr(&s, "gen_ai.server.time_to_first_token").is_some());
}

#[task(name = "dropped_gemini")]
async fn dropped_gemini(base: String) {
    let resp = post_stream(&base, llm_stub::SLOW_STREAM).await;
    let mut chunks = resp.bytes_stream();
    let first = chunks.next().await;
    assert!(first.is_some_and(|c| c.is_ok()));
    drop(chunks);
}

#[tokio::test]
async fn a_json_array_stream_dropped_early_ends_its_span_as_dropped() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    dropped_gemini(stub.base_url()).await;
    let s = eventually_llm_span("dropped_gemini.task").await;
    assert!(has_event(&s, "gen_ai.stream.dropped"), "{:?}", s.events);
    assert_eq!(s.status, Status::Unset);
    assert_eq!(attr(&s, "error.type"), None);
}

#[task(name = "midway_gemini")]
async fn midway_gemini(base: String) -> bool {
    let resp = post_stream(&base, llm_stub::FAIL_MIDWAY).await;
    let mut chunks = resp.bytes_stream();
    let mut failed = false;
    while let Some(c) = chunks.next().await {
        failed |= c.is_err();
    }
    failed
}

#[tokio::test]
async fn a_json_array_stream_cut_midway_fails_its_span() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    assert!(midway_gemini(stub.base_url()).await, "the body broke");
    let s = eventually_llm_span("midway_gemini.task").await;
    assert_eq!(attr_str(&s, "error.type").as_deref(), Some("stream_error"));
    assert!(matches!(s.status, Status::Error { .. }));
    // What came before the cut is kept.
    let out = json_attr(&s, "gen_ai.output.messages");
    assert!(
        out[0]["parts"][0]["content"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
}

#[task(name = "error_chunk_gemini")]
async fn error_chunk_gemini(base: String, sse: bool) -> Vec<u8> {
    let client = gemini::http_client();
    let url = format!(
        "{}?{}key={KEY}",
        stream_url(&base, llm_stub::ERROR_EVENT),
        if sse { "alt=sse&" } else { "" }
    );
    let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
    let resp = client.post(url).json(&body).send().await.expect("sent");
    resp.bytes().await.expect("body").to_vec()
}

#[tokio::test]
async fn an_error_chunk_fails_the_span_with_googles_status_in_both_stream_forms() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    for sse in [true, false] {
        let body = error_chunk_gemini(stub.base_url(), sse).await;
        assert!(String::from_utf8_lossy(&body).contains("INTERNAL"));
    }
    let spans = harness().named(&format!("generate_content {}", llm_stub::ERROR_EVENT));
    assert_eq!(spans.len(), 2);
    for s in spans {
        assert_eq!(attr_str(&s, "error.type").as_deref(), Some("INTERNAL"));
        assert!(matches!(s.status, Status::Error { .. }));
        assert!(has_event(&s, "exception"));
    }
    assert_no_key_anywhere();
}

// ------------------------------------------------------------------ HTTP errors

#[task(name = "http_error_gemini")]
async fn http_error_gemini(base: String, model: String) -> (u16, String) {
    let client = gemini::http_client();
    let url = format!("{base}/v1beta/models/{model}:generateContent?key={KEY}");
    let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
    let resp = client.post(url).json(&body).send().await.expect("sent");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

#[tokio::test]
async fn http_errors_fail_the_span_with_googles_status_and_hand_back_the_body() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    for (model, status, kind) in [
        (llm_stub::RATE_LIMITED, 429, "RESOURCE_EXHAUSTED"),
        (llm_stub::SERVER_ERROR, 500, "INTERNAL"),
    ] {
        let (got, body) = http_error_gemini(stub.base_url(), model.to_owned()).await;
        assert_eq!(got, status);
        assert!(body.contains(kind), "{body}");
        let s = harness()
            .named(&format!("generate_content {model}"))
            .pop()
            .expect("span");
        assert_eq!(attr_str(&s, "error.type").as_deref(), Some(kind));
        match &s.status {
            Status::Error { description } => assert!(!description.is_empty()),
            other => panic!("{other:?}"),
        }
    }
    assert_no_key_anywhere();
}

// ------------------------------------------------------------------ embeddings

#[task(name = "embed_gemini")]
async fn embed_gemini(base: String) -> usize {
    let model = gemini::rig(KEY, &base).embedding("gemini-embedding-001", Some(8));
    let rig = model
        .embed_text("db-1 disk full")
        .await
        .expect("rig embedding")
        .vec
        .len();
    let client = gemini::http_client();
    let url = format!("{base}/v1beta/models/text-embedding-004:embedContent");
    let body = json!({"content": {"parts": [{"text": "db-1 disk full"}]}});
    let resp = client
        .post(url)
        .header("x-goog-api-key", KEY)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["embedding"]["values"].as_array().map(Vec::len), Some(rig));
    rig
}

#[tokio::test]
async fn embeddings_are_embeddings_spans() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    assert_eq!(
        embed_gemini(stub.base_url()).await,
        llm_stub::EMBEDDING_DIMS
    );
    assert_stub_saw_key(&stub);
    let spans = llm_spans("embed_gemini.task");
    let mut names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "embeddings gemini-embedding-001",
            "embeddings text-embedding-004"
        ]
    );
    for s in &spans {
        assert_eq!(
            attr_str(s, "gen_ai.operation.name").as_deref(),
            Some("embeddings")
        );
        assert_eq!(
            int_attr(s, "gen_ai.embeddings.dimension.count"),
            Some(llm_stub::EMBEDDING_DIMS as i64)
        );
        assert_eq!(
            attr(s, "gen_ai.usage.input_tokens"),
            None,
            "Gemini reports none"
        );
    }
}

// ------------------------------------------------------------------ content off

#[tokio::test]
async fn content_off_records_no_prompt_or_completion() {
    harness(); // installed before the first span
    let stub = LlmStub::start();
    #[task(name = "secret_gemini")]
    async fn secret_gemini(base: String) -> String {
        ask_gemini(base).await
    }
    let reply = llmetry::with_trace_content(false, secret_gemini(stub.base_url())).await;
    assert_eq!(reply, llm_stub::REPLY);
    let s = only_llm_span("secret_gemini.task");
    for key in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.definitions",
    ] {
        assert_eq!(attr(&s, key), None, "{key}");
    }
    for kv in &s.attributes {
        let v = kv.value.as_str();
        assert!(!v.contains("db-1") && !v.contains("llmetry stub"), "{kv:?}");
    }
    assert!(int_attr(&s, "gen_ai.usage.input_tokens").is_some());
}

// ------------------------------------------------------------------ the key never shows

#[task(name = "refused_gemini")]
async fn refused_gemini(base: String) -> (String, String) {
    // raw reqwest: the middleware's own error.
    let client = gemini::http_client();
    let url = format!("{base}/v1beta/models/{MODEL}:generateContent?key={KEY}");
    let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
    let raw = match client.post(url).json(&body).send().await {
        Ok(r) => panic!("a refused port answered {}", r.status()),
        Err(e) => format!("{e} / {e:?}"),
    };
    // rig, on the same middleware.
    let model = gemini::rig(KEY, &base).completion(MODEL);
    let rig = match model.call(CompletionRequest::new("hi")).await {
        Ok(_) => panic!("a refused port answered"),
        Err(e) => format!("{e} / {e:?}"),
    };
    (raw, rig)
}

#[tokio::test]
async fn the_api_key_is_in_no_span_event_log_or_returned_error() {
    harness(); // installed before the first span
    let refused = llmetry_testkit::otlp::refusing_endpoint();
    let (raw, rig) = refused_gemini(refused.trim_end_matches('/').to_owned()).await;
    assert!(
        !raw.contains(KEY),
        "the middleware's error shows the key: {raw}"
    );
    assert!(!rig.contains(KEY), "rig's error shows the key: {rig}");
    let spans = llm_spans("refused_gemini.task");
    assert_eq!(spans.len(), 2, "both calls are spans");
    for s in &spans {
        assert_eq!(
            attr_str(s, "error.type").as_deref(),
            Some("connection_error")
        );
        assert!(matches!(s.status, Status::Error { .. }));
    }
    // And a successful call of each kind, in this same process.
    let stub = LlmStub::start();
    gemini_wf(stub.base_url()).await;
    json_array_stream(stub.base_url()).await;
    assert_no_key_anywhere();
}

/// The key appears in no exported span (name, attributes, events, status, links) and no
/// log record of this test binary.
fn assert_no_key_anywhere() {
    let h = harness();
    for s in h.spans() {
        let mut texts = vec![s.name.to_string(), format!("{:?}", s.status)];
        texts.extend(s.attributes.iter().map(|kv| kv.value.to_string()));
        for e in s.events.iter() {
            texts.push(e.name.to_string());
            texts.extend(e.attributes.iter().map(|kv| kv.value.to_string()));
        }
        for l in s.links.iter() {
            texts.extend(l.attributes.iter().map(|kv| kv.value.to_string()));
        }
        for t in texts {
            assert!(!t.contains(KEY), "span {:?} shows the key: {t}", s.name);
        }
    }
    for l in h.logs() {
        let text = format!("{:?}", l.record);
        assert!(!text.contains(KEY), "a log record shows the key: {text}");
    }
}

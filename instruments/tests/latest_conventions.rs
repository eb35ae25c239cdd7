//! The opt-in to the latest experimental GenAI conventions (semantic conventions v1.41.1,
//! `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`): the Python reference
//! scenario's three calls (chat, streamed chat, embeddings, `support/fake_openai.rs`) produce
//! spans named `{gen_ai.operation.name} {gen_ai.request.model}`, the current attribute keys
//! instead of the deprecated ones, every `traceloop.*` attribute still, and the conventions'
//! client metrics with their advised buckets.
//!
//! The switch is process-wide: this test binary holds only this test.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failure shows its cause

#[path = "support/fake_openai.rs"]
mod fake_openai;

use futures::StreamExt as _;
use llmetry_testkit::{attr, attr_str, harness_with};
use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::{Value as Json, json};

use fake_openai::FakeOpenAi;

#[llmetry::task(name = "ask_llm", skip(client, base))]
async fn ask_llm(client: &ClientWithMiddleware, base: &str) -> Json {
    let body = json!({"model": "gpt-4o-mini", "max_tokens": 64, "temperature": 0.2,
                      "messages": [{"role": "user", "content": "Why did db-1 go down?"}]});
    let resp = client
        .post(format!("{base}chat/completions"))
        .json(&body)
        .send()
        .await
        .expect("request");
    resp.json().await.expect("JSON")
}

#[llmetry::task(name = "ask_llm_stream", skip(client, base))]
async fn ask_llm_stream(client: &ClientWithMiddleware, base: &str) -> usize {
    let body = json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "Why did db-1 go down?"}]});
    let resp = client
        .post(format!("{base}chat/completions"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let mut s = resp.bytes_stream();
    let mut n = 0;
    while let Some(c) = s.next().await {
        n += c.expect("chunk").len();
    }
    n
}

#[llmetry::task(name = "embed", skip(client, base))]
async fn embed(client: &ClientWithMiddleware, base: &str) -> Json {
    let body = json!({"model": "text-embedding-3-small", "input": ["db-1 disk full"]});
    let resp = client
        .post(format!("{base}embeddings"))
        .json(&body)
        .send()
        .await
        .expect("request");
    resp.json().await.expect("JSON")
}

#[llmetry::workflow(name = "llm_rca", skip(client, base))]
async fn run(client: &ClientWithMiddleware, base: &str) {
    ask_llm(client, base).await;
    ask_llm_stream(client, base).await;
    embed(client, base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_stream_and_embeddings_follow_the_current_conventions() {
    // The builder switch (what OTEL_SEMCONV_STABILITY_OPT_IN does from the environment).
    let h = harness_with(|b| b.gen_ai_latest_conventions(true));
    assert!(llmetry::gen_ai_latest_conventions());
    let server = FakeOpenAi::start().await;
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build();
    run(&client, &server.base_url()).await;

    // The workflow span itself follows the conventions too (`invoke_workflow {name}`).
    let trace = h.trace_of("invoke_workflow llm_rca");
    let chats = trace.all("chat gpt-4o-mini");
    assert_eq!(chats.len(), 2, "spans: {:?}", trace.names());
    let embeddings = trace.span("embeddings text-embedding-3-small");
    for s in chats.iter().copied().chain([embeddings]) {
        assert_eq!(s.span_kind, SpanKind::Client);
        assert_eq!(
            s.instrumentation_scope.name(),
            "opentelemetry.instrumentation.openai.v1"
        );
        // Traceloop's attributes stay.
        assert_eq!(
            attr_str(s, "traceloop.workflow.name").as_deref(),
            Some("llm_rca")
        );
        assert!(attr_str(s, "traceloop.entity.path").is_some());
        assert!(attr(s, "gen_ai.openai.api_base").is_some());
        // The conventions' required and recommended keys.
        assert!(attr(s, "gen_ai.operation.name").is_some());
        assert_eq!(
            attr_str(s, "gen_ai.provider.name").as_deref(),
            Some("openai")
        );
        assert_eq!(attr_str(s, "server.address").as_deref(), Some("127.0.0.1"));
        assert!(attr(s, "server.port").is_some());
        // No deprecated or Traceloop-only stream keys.
        for gone in [
            "gen_ai.openai.response.system_fingerprint",
            "gen_ai.usage.reasoning_tokens",
            "gen_ai.server.time_to_first_token",
            "gen_ai.system",
        ] {
            assert_eq!(attr(s, gone), None, "{}: {gone}", s.name);
        }
        assert!(
            s.events
                .iter()
                .all(|e| e.name != "gen_ai.content.completion.chunk"),
            "no Traceloop chunk events"
        );
    }
    let plain = chats
        .iter()
        .find(|s| trace.parent_name(s).as_deref() == Some("ask_llm.task"))
        .unwrap();
    let streamed = chats
        .iter()
        .find(|s| trace.parent_name(s).as_deref() == Some("ask_llm_stream.task"))
        .unwrap();
    assert_eq!(
        attr_str(plain, "openai.response.system_fingerprint").as_deref(),
        Some("fp_fake123")
    );
    assert_eq!(
        attr_str(plain, "openai.response.service_tier").as_deref(),
        Some("default")
    );
    assert_eq!(
        attr(plain, "gen_ai.usage.reasoning.output_tokens"),
        Some(Value::I64(0))
    );
    assert_eq!(
        attr(plain, "gen_ai.request.stream"),
        None,
        "set only when streaming"
    );
    assert_eq!(
        attr(streamed, "gen_ai.request.stream"),
        Some(Value::Bool(true))
    );
    assert!(matches!(
        attr(streamed, "gen_ai.response.time_to_first_chunk"),
        Some(Value::F64(t)) if t >= 0.0
    ));

    // Metrics: the conventions' client metrics only, with their units and advised buckets.
    let points = h.metric_points();
    let names: std::collections::BTreeSet<&str> = points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "gen_ai.client.operation.duration",
            "gen_ai.client.operation.time_per_output_chunk",
            "gen_ai.client.operation.time_to_first_chunk",
            "gen_ai.client.token.usage",
            // llmetry's cost histogram (OpenLIT's name), in both modes: the model has a price.
            "gen_ai.usage.cost",
        ]
        .into_iter()
        .collect(),
        "no Traceloop-only metric (choices, time to generate, vector size, time to first token)"
    );
    for p in &points {
        let (unit, bounds): (&str, &[f64]) = if p.name == "gen_ai.client.token.usage" {
            ("{token}", &llmetry::TOKEN_USAGE_BOUNDARIES)
        } else if p.name == "gen_ai.usage.cost" {
            ("USD", &llmetry::cost::COST_BOUNDARIES)
        } else {
            ("s", &llmetry::DURATION_BOUNDARIES)
        };
        assert_eq!(
            (p.unit.as_str(), p.bounds.as_slice()),
            (unit, bounds),
            "{}",
            p.name
        );
        assert_eq!(p.attr("stream"), None, "{}: no Traceloop `stream`", p.name);
        assert_eq!(p.attr("gen_ai.provider.name"), Some("openai"));
        assert!(p.attr("gen_ai.operation.name").is_some());
        assert!(p.attr("gen_ai.request.model").is_some());
        assert_eq!(p.attr("server.address"), Some("127.0.0.1"));
        assert!(p.attr("server.port").is_some());
    }
    let one = |name: &str| {
        let found: Vec<_> = points.iter().filter(|p| p.name == name).collect();
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        found[0].clone()
    };
    assert_eq!(one("gen_ai.client.operation.time_to_first_chunk").count, 1);
    // The stream has 7 chunks (role, 4 pieces of text, finish, usage): 6 gaps.
    assert_eq!(
        one("gen_ai.client.operation.time_per_output_chunk").count,
        6
    );
    let durations: u64 = points
        .iter()
        .filter(|p| p.name == "gen_ai.client.operation.duration")
        .map(|p| p.count)
        .sum();
    assert_eq!(durations, 3);
}

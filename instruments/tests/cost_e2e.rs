//! `gen_ai.usage.cost` end to end: LLM calls through the reqwest-middleware adapter against
//! the local LLM stub (OpenAI chat and Anthropic messages wire formats), exported over
//! OTLP/HTTP to the in-process receiver. Prices from the built-in table, from a price file
//! named by `LLMETRY_PRICES_FILE`, and from the builder; an unknown model gets no cost; the
//! `gen_ai.usage.cost` histogram (unit USD) adds up to the spans' costs; the console tree
//! shows each call's cost and the trace's total.

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use llmetry::cost::ModelPrice;
use llmetry::{ConsoleExporter, SharedBuffer, task, workflow};
use llmetry_testkit::llm_stub::LlmStub;
use llmetry_testkit::otlp::{OtlpReceiver, SpanView};
use opentelemetry_sdk::trace::SimpleSpanProcessor;
use serde_json::{Value as Json, json};

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build()
}

async fn post(base: &str, path: &str, body: Json) -> Json {
    let resp = client()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert!(
        resp.status().is_success(),
        "stub answered {}",
        resp.status()
    );
    resp.json().await.expect("JSON body")
}

fn chat(model: &str) -> Json {
    json!({"model": model, "messages": [{"role": "user", "content": "What do the logs say?"}]})
}

#[task(name = "priced_calls")]
async fn priced_calls(base: String) {
    // Built-in price; the stub answers with the dated snapshot gpt-4o-mini-2024-07-18.
    post(&base, "/v1/chat/completions", chat("gpt-4o-mini")).await;
    // Priced by the file (overrides the built-in claude-haiku-4-5).
    post(
        &base,
        "/v1/messages",
        json!({"model": "claude-haiku-4-5", "max_tokens": 64,
               "messages": [{"role": "user", "content": "What do the logs say?"}]}),
    )
    .await;
    // Priced by the builder only; answered as house-model-2024-07-18.
    post(&base, "/v1/chat/completions", chat("house-model")).await;
    // No price anywhere.
    post(&base, "/v1/chat/completions", chat("unknown-model-x")).await;
}

#[workflow(name = "cost_wf")]
async fn cost_wf(base: String) {
    priced_calls(base).await;
}

fn num(s: &SpanView, key: &str) -> f64 {
    s.attr(key)
        .unwrap_or_else(|| panic!("{} has no {key}: {:?}", s.name, s.attributes))
        .parse()
        .expect("a number")
}

/// The cost of a span's recorded usage at the given prices (USD per million), counted the
/// way the span records it: cached tokens inside the input.
fn expected(s: &SpanView, input: f64, output: f64, cache_read: f64, cache_write: f64) -> f64 {
    let inp = num(s, "gen_ai.usage.input_tokens");
    let out = num(s, "gen_ai.usage.output_tokens");
    let read = s
        .attr("gen_ai.usage.cache_read.input_tokens")
        .map_or(0.0, |v| v.parse().expect("count"));
    let write = s
        .attr("gen_ai.usage.cache_creation.input_tokens")
        .map_or(0.0, |v| v.parse().expect("count"));
    ((inp - read - write) * input + read * cache_read + write * cache_write + out * output) / 1e6
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 + b.abs() * 1e-9
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_spans_carry_their_cost_and_the_metric_adds_up() {
    let rx = OtlpReceiver::start();
    let dir = std::env::temp_dir().join(format!("llmetry-cost-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("prices.json");
    std::fs::write(
        &file,
        r#"{"models": [{"provider": "anthropic", "model": "claude-haiku-4-5",
              "input": 2.0, "output": 10.0, "cache_read": 0.2, "cache_write": 2.5}]}"#,
    )
    .expect("price file");
    let console = SharedBuffer::new();
    let telemetry = llmetry::init()
        .app_name("cost_e2e")
        .api_endpoint(rx.http_endpoint())
        .disable_batch(true)
        .silence_init_message(true)
        .processor(SimpleSpanProcessor::new(ConsoleExporter::to_writer(
            console.clone(),
        )))
        .prices([ModelPrice::new("openai", "house-model", 3.0, 7.0).cache_read(1.0)])
        .env_source(llmetry::EnvSource::from_pairs([(
            "LLMETRY_PRICES_FILE",
            file.display().to_string(),
        )]))
        .install()
        .expect("install");
    let stub = LlmStub::start();
    cost_wf(stub.base_url()).await;
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .expect("join")
        .expect("shutdown");

    // No host is allowed to receive llmetry's context: the provider got none.
    let requests = stub.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.header("baggage").is_none()));
    assert!(requests.iter().all(|r| r.header("traceparent").is_some()));

    let spans = rx.span_views();
    let llm: Vec<&SpanView> = spans
        .iter()
        .filter(|s| s.attr("gen_ai.request.model").is_some())
        .collect();
    assert_eq!(llm.len(), 4, "four LLM spans: {spans:#?}");
    let by_model = |m: &str| {
        *llm.iter()
            .find(|s| s.attr("gen_ai.request.model") == Some(m))
            .unwrap_or_else(|| panic!("no span for {m}"))
    };

    let mini = by_model("gpt-4o-mini");
    assert_eq!(
        mini.attr("gen_ai.response.model"),
        Some("gpt-4o-mini-2024-07-18")
    );
    // The stub reports cached tokens for OpenAI chat: the cache-read price is used.
    assert!(mini.attr("gen_ai.usage.cache_read.input_tokens").is_some());
    let mini_cost = num(mini, "gen_ai.usage.cost");
    assert!(
        close(mini_cost, expected(mini, 0.15, 0.6, 0.075, 0.15)),
        "{mini_cost} {:?}",
        mini.attributes
    );

    let haiku = by_model("claude-haiku-4-5");
    assert!(
        haiku
            .attr("gen_ai.usage.cache_creation.input_tokens")
            .is_some()
    );
    let haiku_cost = num(haiku, "gen_ai.usage.cost");
    assert!(
        close(haiku_cost, expected(haiku, 2.0, 10.0, 0.2, 2.5)),
        "file price: {haiku_cost} {:?}",
        haiku.attributes
    );

    let house = by_model("house-model");
    let house_cost = num(house, "gen_ai.usage.cost");
    assert!(
        close(house_cost, expected(house, 3.0, 7.0, 1.0, 3.0)),
        "builder price: {house_cost} {:?}",
        house.attributes
    );

    let unknown = by_model("unknown-model-x");
    assert!(unknown.attr("gen_ai.usage.input_tokens").is_some());
    assert_eq!(
        unknown.attr("gen_ai.usage.cost"),
        None,
        "no price, no guess"
    );

    // The histogram: one point per priced call, summing to the spans' costs.
    let metrics = rx.metric_views();
    let cost_metrics: Vec<Json> = metrics
        .iter()
        .filter(|m| m.name == "gen_ai.usage.cost")
        .map(|m| serde_json::to_value(&m.metric).expect("metric JSON"))
        .collect();
    assert!(!cost_metrics.is_empty(), "no gen_ai.usage.cost metric");
    let (mut count, mut sum) = (0u64, 0.0f64);
    for m in &cost_metrics {
        assert_eq!(m["unit"], "USD", "{m}");
        let points = m["histogram"]["dataPoints"]
            .as_array()
            .unwrap_or_else(|| panic!("a histogram: {m}"));
        for p in points {
            count += p["count"]
                .as_u64()
                .or_else(|| p["count"].as_str().and_then(|c| c.parse().ok()))
                .expect("count");
            sum += p["sum"].as_f64().expect("sum");
            let bounds = p["explicitBounds"].as_array().expect("bounds");
            assert_eq!(bounds.first().and_then(Json::as_f64), Some(0.000001));
        }
    }
    assert_eq!(count, 3, "three priced calls: {cost_metrics:#?}");
    let total = mini_cost + haiku_cost + house_cost;
    assert!(close(sum, total), "{sum} != {total}");

    // The console tree: each priced call's cost, and the trace's total on its first line.
    let text = console.text();
    let fmt = |usd: f64| format!("cost=${usd:.6}");
    let header = text
        .lines()
        .find(|l| l.starts_with("── trace "))
        .expect("a trace");
    assert!(
        header.ends_with(&format!("{} (3 priced LLM calls)", fmt(total))),
        "{text}"
    );
    for (model, usd) in [
        ("gpt-4o-mini", mini_cost),
        ("claude-haiku-4-5", haiku_cost),
        ("house-model", house_cost),
    ] {
        let line = text
            .lines()
            .find(|l| {
                l.contains(&format!("model={model} ")) || l.ends_with(&format!("model={model}"))
            })
            .unwrap_or_else(|| panic!("no line for {model}: {text}"));
        assert!(line.contains(&fmt(usd)), "{line}");
    }
    let unknown_line = text
        .lines()
        .find(|l| l.contains("model=unknown-model-x"))
        .expect("unknown model line");
    assert!(!unknown_line.contains("cost="), "{unknown_line}");
    std::fs::remove_dir_all(&dir).ok();
}

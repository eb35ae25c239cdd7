//! `block_instruments` switches an integration off, `inject_traceparent(false)` keeps the
//! W3C header out of requests, and the manual API records any other client's calls.

use llmetry::{Instrument, task};
use llmetry_instruments::model::{Api, LlmRequest, LlmResponse, Message, Provider, Usage};
use llmetry_instruments::{LlmMiddleware, LlmSpan};
use llmetry_testkit::llm_stub::LlmStub;
use llmetry_testkit::{attr, attr_str, harness_with};
use opentelemetry::Value;
use serde_json::json;

fn h() -> &'static llmetry_testkit::Harness {
    harness_with(|b| b.block_instruments([Instrument::OpenAi]))
}

#[task(name = "blocked_task")]
async fn blocked_task(base: String, middleware: LlmMiddleware) {
    let c = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build();
    let _ = c
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await;
    let _ = c
        .post(format!("{base}/v1/messages"))
        .json(&json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await;
}

#[tokio::test]
async fn blocked_instruments_record_nothing_and_traceparent_can_be_off() {
    let h = h();
    let stub = LlmStub::start();
    blocked_task(
        stub.base_url(),
        LlmMiddleware::default().inject_traceparent(false),
    )
    .await;
    let t = h.trace_of("blocked_task.task");
    assert_eq!(t.all("openai.chat").len(), 0, "OpenAI is blocked");
    assert_eq!(t.all("anthropic.chat").len(), 1, "Anthropic is not");
    for r in stub.requests() {
        assert_eq!(r.header("traceparent"), None, "{}", r.path);
    }
}

/// A client we cannot hook: the manual API.
#[task(name = "manual_task")]
fn manual_task() -> String {
    let mut span = LlmSpan::start(
        Api::OpenAiChat,
        Provider::Other("my-llm".into()),
        Some(("llm.internal", 9000)),
    );
    // The model types are `#[non_exhaustive]`: filled field by field from their default.
    let mut request = LlmRequest::default();
    request.model = Some("house-model-7b".into());
    request.temperature = Some(0.5);
    request.input_messages = vec![Message {
        role: "user".into(),
        parts: vec![json!({"type": "text", "content": "ping"})],
        finish_reason: None,
    }];
    span.record_request(&request);
    {
        // What the client does inside the call nests under the LLM span.
        let _g = span.context().clone().attach();
        let _s = tracing::info_span!("client_internals").entered();
    }
    let mut response = LlmResponse::default();
    response.id = Some("r-1".into());
    response.model = Some("house-model-7b".into());
    response.finish_reasons = vec!["stop".into()];
    response.output_messages = vec![Message {
        role: "assistant".into(),
        parts: vec![json!({"type": "text", "content": "pong"})],
        finish_reason: Some("stop".into()),
    }];
    response.choice_count = 1;
    response.usage.input_tokens = Some(4);
    response.usage.output_tokens = Some(1);
    response.usage.total_tokens = Some(5);
    span.record_response(&response);
    span.finish();
    "pong".into()
}

#[test]
fn manual_api_records_a_full_llm_span() {
    let h = h();
    assert_eq!(manual_task(), "pong");
    let t = h.trace_of("manual_task.task");
    let s = t.span("openai.chat");
    assert_eq!(t.parent_name(s).as_deref(), Some("manual_task.task"));
    assert_eq!(
        t.parent_name(t.span("client_internals")).as_deref(),
        Some("openai.chat")
    );
    assert_eq!(
        attr_str(s, "gen_ai.provider.name").as_deref(),
        Some("my-llm")
    );
    assert_eq!(
        attr_str(s, "server.address").as_deref(),
        Some("llm.internal")
    );
    assert_eq!(attr(s, "server.port"), Some(Value::I64(9000)));
    assert_eq!(
        attr_str(s, "gen_ai.request.model").as_deref(),
        Some("house-model-7b")
    );
    assert_eq!(attr(s, "gen_ai.usage.total_tokens"), Some(Value::I64(5)));
    // The JSON text Python writes (issue 10: `json.dumps` separators and key order; was
    // compact with sorted keys).
    assert_eq!(
        attr_str(s, "gen_ai.output.messages").as_deref(),
        Some(
            r#"[{"role": "assistant", "parts": [{"content": "pong", "type": "text"}], "finish_reason": "stop"}]"#
        )
    );
    assert_eq!(
        attr_str(s, "traceloop.entity.path").as_deref(),
        Some("manual_task")
    );
}

#[task(name = "assoc_metrics_task")]
fn assoc_metrics_task() {
    let mut span = LlmSpan::start(Api::AnthropicMessages, Provider::Anthropic, None);
    let mut request = LlmRequest::default();
    request.model = Some("assoc-model".into());
    span.record_request(&request);
    let mut usage = Usage::default();
    usage.input_tokens = Some(3);
    usage.output_tokens = Some(2);
    span.record_usage(usage);
    span.finish();
}

#[test]
fn association_properties_reach_metrics_only_when_opted_in() {
    let h = h();
    llmetry_instruments::set_association_properties_on_metrics(true);
    llmetry::with_association_properties([("tenant", "acme")], assoc_metrics_task);
    llmetry_instruments::set_association_properties_on_metrics(false);
    let points: Vec<_> = h
        .metric_points()
        .into_iter()
        .filter(|p| {
            p.name == "gen_ai.client.token.usage"
                && p.attr("gen_ai.request.model") == Some("assoc-model")
        })
        .collect();
    assert_eq!(points.len(), 2, "{points:?}");
    for p in points {
        assert_eq!(
            p.attr("traceloop.association.properties.tenant"),
            Some("acme")
        );
    }
}

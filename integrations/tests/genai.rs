//! The `genai` crate (0.7.2) end to end: it takes only a plain `reqwest::Client`
//! (`ClientBuilder::with_reqwest`), so `LlmMiddleware` cannot sit in its path; what does work
//! without forking it is its own `otel` feature: `gen_ai.*` `tracing` spans, which llmetry's
//! tracing layer exports like any span, nested under the workflow and task and enriched with
//! their names. These tests drive the real crate against the local stub (OpenAI wire, reached
//! through genai's `ServiceTargetResolver`, the base-URL route) and check what arrives, and
//! what does not (no Traceloop attributes, no span in our LLM scopes).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failure shows its cause

use futures::StreamExt as _;
use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatRequest, ChatStreamEvent};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use llmetry::{task, workflow};
use llmetry_testkit::llm_stub::{self, LlmStub};
use llmetry_testkit::{attr_str, harness, int_attr};
use opentelemetry::trace::SpanKind;

const MODEL: &str = "gpt-4o-mini";

/// A genai client whose every model goes to the stub's OpenAI-compatible API.
fn client(base: &str) -> Client {
    let endpoint = format!("{base}/v1/");
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |t: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(endpoint.clone()),
                auth: AuthData::from_single("sk-stub"),
                model: ModelIden::new(AdapterKind::OpenAI, t.model.model_name),
            })
        },
    );
    Client::builder()
        .with_reqwest(reqwest::Client::new())
        .with_service_target_resolver(resolver)
        .build()
        .expect("genai client")
}

fn question() -> ChatRequest {
    ChatRequest::new(vec![
        ChatMessage::system("Answer in one sentence."),
        ChatMessage::user("Why is db-1 down?"),
    ])
}

#[task(name = "ask_genai")]
async fn ask_genai(base: String) -> String {
    let r = client(&base)
        .exec_chat(MODEL, question(), None)
        .await
        .expect("genai call");
    r.first_text().unwrap_or_default().to_owned()
}

#[workflow(name = "genai_wf")]
async fn genai_wf(base: String) -> String {
    ask_genai(base).await
}

#[tokio::test]
async fn genai_chat_span_is_exported_under_the_task_with_the_workflow_name() {
    let h = harness();
    let stub = LlmStub::start();
    assert_eq!(genai_wf(stub.base_url()).await, llm_stub::REPLY);
    assert_eq!(stub.requests()[0].path, "/v1/chat/completions");

    let t = h.trace_of("genai_wf.workflow");
    let name = format!("chat {MODEL}");
    let s = t.span(&name);
    assert_eq!(s.span_kind, SpanKind::Client);
    assert_eq!(t.parent_name(s).as_deref(), Some("ask_genai.task"));
    let a = |k: &str| attr_str(s, k);
    assert_eq!(a("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(a("gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(a("gen_ai.request.model").as_deref(), Some(MODEL));
    assert!(int_attr(s, "gen_ai.usage.input_tokens").is_some_and(|n| n > 0));
    assert!(int_attr(s, "gen_ai.usage.output_tokens").is_some_and(|n| n > 0));
    // Enriched like any span of the workflow.
    assert_eq!(a("traceloop.workflow.name").as_deref(), Some("genai_wf"));
    // genai's own span, not ours: no Traceloop LLM scope, and content off by default
    // (genai's switch is OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, not ours).
    assert!(
        !llmetry_instruments::span::SCOPES.contains(&s.instrumentation_scope.name()),
        "{:?}",
        s.instrumentation_scope
    );
    assert!(a("gen_ai.input.messages").is_none());
    assert!(
        t.spans
            .iter()
            .all(|x| !llmetry_instruments::span::SCOPES.contains(&x.instrumentation_scope.name())),
        "no adapter saw the call: genai's reqwest client has no middleware"
    );
}

#[task(name = "stream_genai")]
async fn stream_genai(base: String) -> String {
    let mut stream = client(&base)
        .exec_chat_stream(MODEL, question(), None)
        .await
        .expect("genai stream")
        .stream;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        if let ChatStreamEvent::Chunk(c) = event.expect("stream event") {
            text.push_str(&c.content);
        }
    }
    text
}

#[workflow(name = "genai_stream_wf")]
async fn genai_stream_wf(base: String) -> String {
    stream_genai(base).await
}

#[tokio::test]
async fn genai_stream_span_ends_with_the_stream() {
    let h = harness();
    let stub = LlmStub::start();
    assert_eq!(genai_stream_wf(stub.base_url()).await, llm_stub::REPLY);

    let t = h.trace_of("genai_stream_wf.workflow");
    let s = t.span(&format!("chat {MODEL}"));
    assert_eq!(t.parent_name(s).as_deref(), Some("stream_genai.task"));
    assert_eq!(
        attr_str(s, "gen_ai.request.stream").as_deref(),
        Some("true")
    );
    assert!(s.end_time >= s.start_time);
}

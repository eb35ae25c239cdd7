//! Without `llmetry::init()`, LLM spans go to the global tracer provider the application set
//! itself (an app with its own OpenTelemetry pipeline); after `install()` they go to the
//! provider llmetry built, as entity spans do (covered by every other LLM test).

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use llmetry_instruments::LlmSpan;
use llmetry_instruments::model::{Api, Provider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

#[test]
fn llm_spans_go_to_the_apps_global_provider_before_install() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    assert!(llmetry::__private::installed_tracer_provider().is_none());

    let span = LlmSpan::start(
        Api::OpenAiChat,
        Provider::OpenAi,
        Some(("api.openai.com", 443)),
    );
    span.finish();
    provider.force_flush().expect("flush");

    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(
        spans[0].instrumentation_scope.name(),
        Api::OpenAiChat.scope_name()
    );
    let system = spans[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "gen_ai.provider.name")
        .map(|kv| kv.value.to_string());
    assert_eq!(system.as_deref(), Some("openai"));
}

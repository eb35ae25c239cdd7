//! A workflow across two services (two axum servers in one test): service A's workflow
//! calls service B over HTTP with `llmetry::propagate::inject`; B's router has
//! `ContextLayer`, so B's spans join A's trace and carry A's workflow name, entity path,
//! association properties and conversation id. A third-party host, not allowed, gets the
//! trace context only: no baggage.

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use llmetry::propagate::ContextLayer;
use llmetry::{task, workflow};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

fn headers_of(h: &HeaderMap) -> HashMap<String, String> {
    h.iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

/// Serves `router` on 127.0.0.1 (an ephemeral port) until the test ends.
async fn serve(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    port
}

#[task(name = "b_task")]
async fn b_task() -> String {
    llmetry::current_workflow_name()
        .unwrap_or("none")
        .to_owned()
}

/// GET `url` with the trace context, and llmetry's context when the host is allowed.
async fn call(url: String) -> String {
    let mut headers: HashMap<String, String> = HashMap::new();
    llmetry::propagate::inject(&Context::current(), &url, &mut headers);
    let mut req = reqwest::Client::new().get(&url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

#[task(name = "call_b")]
async fn call_b(url: String) -> String {
    call(url).await
}

#[task(name = "call_vendor")]
async fn call_vendor(url: String) -> String {
    call(url).await
}

#[workflow(name = "refunds")]
async fn refunds(b_url: String, vendor_url: String) -> (String, String) {
    llmetry::set_association_properties([("user_id", "u-7"), ("tenant", "acme 100%")]);
    llmetry::set_conversation_id("conv-42");
    let b = call_b(b_url).await;
    let v = call_vendor(vendor_url).await;
    (b, v)
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_crosses_to_an_allowed_service_and_not_to_a_third_party() {
    let exporter = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .silence_init_message(true)
        .exporter(exporter.clone())
        .env_source(llmetry::EnvSource::from_pairs([(
            "LLMETRY_BAGGAGE_HOSTS",
            "localhost",
        )]))
        .install()
        .expect("install");

    let b_seen: Seen = Arc::default();
    let b_seen_in = Arc::clone(&b_seen);
    let service_b = Router::new()
        .route(
            "/work",
            get(move |h: HeaderMap| {
                b_seen_in.lock().expect("lock").push(headers_of(&h));
                b_task()
            }),
        )
        .layer(ContextLayer);
    let vendor_seen: Seen = Arc::default();
    let vendor_seen_in = Arc::clone(&vendor_seen);
    let vendor = Router::new().route(
        "/api",
        get(move |h: HeaderMap| {
            vendor_seen_in.lock().expect("lock").push(headers_of(&h));
            async { "ok".to_owned() }
        }),
    );
    let b_port = serve(service_b).await;
    let vendor_port = serve(vendor).await;

    // B is reached as `localhost` (allowed); the vendor as `127.0.0.1` (not allowed).
    let (b_answer, vendor_answer) = refunds(
        format!("http://localhost:{b_port}/work"),
        format!("http://127.0.0.1:{vendor_port}/api"),
    )
    .await;
    assert_eq!(b_answer, "refunds", "B's handler ran inside A's workflow");
    assert_eq!(vendor_answer, "ok");

    let b_headers = b_seen.lock().expect("lock")[0].clone();
    let baggage = b_headers.get("baggage").expect("B got baggage");
    for part in [
        "traceloop.workflow.name=refunds",
        "traceloop.entity.path=call_b",
        "traceloop.association.properties.user_id=u-7",
        "gen_ai.conversation.id=conv-42",
    ] {
        assert!(baggage.contains(part), "{part} in {baggage}");
    }
    assert!(b_headers.contains_key("traceparent"));
    let vendor_headers = vendor_seen.lock().expect("lock")[0].clone();
    assert!(
        vendor_headers.contains_key("traceparent"),
        "{vendor_headers:?}"
    );
    assert!(
        !vendor_headers.contains_key("baggage"),
        "a third party gets no baggage: {vendor_headers:?}"
    );

    telemetry.flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} in {spans:#?}"))
    };
    let wf = find("refunds.workflow");
    let caller = find("call_b.task");
    let b = find("b_task.task");
    assert_eq!(
        b.span_context.trace_id(),
        wf.span_context.trace_id(),
        "one trace"
    );
    assert_eq!(b.parent_span_id, caller.span_context.span_id());
    assert_eq!(
        attr(b, "traceloop.workflow.name").as_deref(),
        Some("refunds")
    );
    assert_eq!(attr(b, "traceloop.entity.path").as_deref(), Some("call_b"));
    assert_eq!(
        attr(b, "traceloop.association.properties.user_id").as_deref(),
        Some("u-7")
    );
    // A value with `%` and a space comes back as it was sent.
    assert_eq!(
        attr(b, "traceloop.association.properties.tenant").as_deref(),
        Some("acme 100%")
    );
    assert_eq!(
        attr(b, "gen_ai.conversation.id").as_deref(),
        Some("conv-42")
    );
    telemetry.shutdown().expect("shutdown");
}

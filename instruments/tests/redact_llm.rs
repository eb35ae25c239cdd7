//! Redaction on LLM content, through the reqwest-middleware adapter against the local LLM
//! stub: the hook sees each message part with its role (text, tool calls, tool results,
//! system instructions, output), rewrites tool-call arguments and drops tool results; the
//! built-in redactors clean prompts and completions; a provider's error body is kept (and
//! redacted) with content on and reduced to the error's type with content off.

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use std::sync::{Arc, Mutex};

use llmetry::redact::{Content, Field, Redactor, Verdict};
use llmetry_testkit::llm_stub::{self, Answers, LlmStub};
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use serde_json::{Value as Json, json};

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build()
}

async fn post(base: &str, body: Json) -> u16 {
    let resp = client()
        .post(format!("{base}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let _ = resp.bytes().await;
    status
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn exception_message(span: &SpanData) -> Option<String> {
    span.events
        .iter()
        .find(|e| e.name == "exception")?
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.message")
        .map(|kv| kv.value.to_string())
}

/// Every attribute and event attribute of a span, as one text.
fn everything(span: &SpanData) -> String {
    let mut out = String::new();
    for kv in &span.attributes {
        out.push_str(&kv.value.to_string());
        out.push('\n');
    }
    for e in span.events.iter() {
        for kv in &e.attributes {
            out.push_str(&kv.value.to_string());
            out.push('\n');
        }
    }
    if let Status::Error { description } = &span.status {
        out.push_str(description);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_and_the_redactors_see_every_llm_content_path() {
    type Seen = Vec<(Field, Option<String>, String)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let seen_by_hook = Arc::clone(&seen);
    let exporter = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .silence_init_message(true)
        .exporter(exporter.clone())
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .redactors([Redactor::Email, Redactor::Card])
        .redact_hook(move |c: &mut Content<'_>| {
            let kind = c.value_ref()["type"]
                .as_str()
                .unwrap_or("string")
                .to_owned();
            seen_by_hook.lock().expect("lock").push((
                c.field(),
                c.role().map(str::to_owned),
                kind.clone(),
            ));
            match kind.as_str() {
                // Tool results never leave.
                "tool_call_response" => Verdict::Drop,
                // Tool-call arguments: structured, one field rewritten.
                "tool_call" => {
                    if let Some(args) = c.value()["arguments"].as_object_mut() {
                        args.insert("password".into(), json!("***"));
                    }
                    Verdict::Keep
                }
                _ => Verdict::Keep,
            }
        })
        .install()
        .expect("install");

    // A conversation with a system prompt, a user turn with a card, an assistant tool call
    // carrying a password, and a tool result.
    let canned = LlmStub::start();
    let status = post(
        &canned.base_url(),
        json!({"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": "Escalate to admin@corp.example.com."},
            {"role": "user", "content": "Refund card 4111 1111 1111 1111 please"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "refund", "arguments": "{\"card\": \"4111111111111111\", \"password\": \"hunter2\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "internal ledger row 99"}
        ]}),
    )
    .await;
    assert_eq!(status, 200);

    // A reply that repeats the user's e-mail address (the demo stub's haiku is about the
    // prompt's last word).
    let demo = LlmStub::builder().answers(Answers::Demo).start();
    let status = post(
        &demo.base_url(),
        json!({"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "Write a haiku for jane@example.com"}
        ]}),
    )
    .await;
    assert_eq!(status, 200);

    // Provider errors: content on (kept, redacted) and content off (the type only).
    assert_eq!(
        post(&canned.base_url(), json!({"model": llm_stub::RATE_LIMITED, "messages": [{"role": "user", "content": "hi"}]})).await,
        429
    );
    let off = llmetry::with_trace_content(
        false,
        post(&canned.base_url(), json!({"model": llm_stub::RATE_LIMITED, "messages": [{"role": "user", "content": "hi"}]})),
    )
    .await;
    assert_eq!(off, 429);

    telemetry.flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let llm: Vec<&SpanData> = spans.iter().filter(|s| s.name == "openai.chat").collect();
    assert_eq!(llm.len(), 4, "{spans:#?}");

    // The conversation.
    let conv = llm[0];
    let input = attr(conv, "gen_ai.input.messages").expect("input messages");
    assert!(input.contains("[REDACTED:card]"), "{input}");
    assert!(input.contains("***"), "{input}");
    assert!(!input.contains("hunter2"), "{input}");
    assert!(
        !input.contains("internal ledger"),
        "the tool result was dropped: {input}"
    );
    let all = everything(conv);
    // (The canned reply quotes the tool result: that is the model's output, not the
    // dropped part, so it is not in this list.)
    for raw in [
        "admin@corp.example.com",
        "4111 1111 1111 1111",
        "4111111111111111",
        "hunter2",
    ] {
        assert!(!all.contains(raw), "{raw} leaked: {all}");
    }
    assert!(
        all.contains("[REDACTED:email]"),
        "the system prompt was redacted: {all}"
    );

    // The reply.
    let demo_span = llm[1];
    let output = attr(demo_span, "gen_ai.output.messages").expect("output messages");
    assert!(output.contains("[REDACTED:email]"), "{output}");
    assert!(!everything(demo_span).contains("jane@example.com"));

    // Error with content on: the provider's message, kept.
    let on_err = llm[2];
    assert!(
        exception_message(on_err).is_some_and(|m| m.starts_with("Rate limit reached")),
        "{:?}",
        on_err.events
    );
    // Error with content off: the error's type only, in the event and the status.
    let off_err = llm[3];
    assert_eq!(
        exception_message(off_err).as_deref(),
        Some("rate_limit_exceeded")
    );
    assert_eq!(off_err.status, Status::error("rate_limit_exceeded"));
    assert!(!everything(off_err).contains("Rate limit reached"));

    // The hook saw each kind of part, with roles.
    let seen = seen.lock().expect("lock").clone();
    let saw = |field: Field, role: &str, kind: &str| {
        seen.iter()
            .any(|(f, r, k)| *f == field && r.as_deref() == Some(role) && k == kind)
    };
    assert!(saw(Field::LlmInput, "user", "text"), "{seen:?}");
    assert!(saw(Field::LlmInput, "assistant", "tool_call"), "{seen:?}");
    assert!(
        saw(Field::LlmInput, "tool", "tool_call_response"),
        "{seen:?}"
    );
    assert!(saw(Field::LlmOutput, "assistant", "text"), "{seen:?}");
    assert!(
        seen.iter().any(|(f, _, _)| *f == Field::ErrorMessage),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|(f, _, _)| matches!(f, Field::LlmSystem))
            || saw(Field::LlmInput, "system", "text"),
        "{seen:?}"
    );
    telemetry.shutdown().expect("shutdown");
}

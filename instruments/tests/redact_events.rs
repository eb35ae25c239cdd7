//! Redaction on the content events (`use_attributes(false)`): the prompt and completion log
//! events carry what the hook and the built-in redactors left, like the attributes do.

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use llmetry::redact::{Content, Field, Redactor, Verdict};
use llmetry::task;
use llmetry_testkit::harness_with;
use llmetry_testkit::llm_stub::{Answers, LlmStub};
use serde_json::json;

#[task(name = "events_task")]
async fn events_task(base: String) {
    let c = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build();
    let _ = c
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "gpt-4o", "messages": [
            {"role": "system", "content": "The operator is ops@corp.example.com"},
            {"role": "user", "content": "Write a haiku for jane@example.com"}
        ]}))
        .send()
        .await
        .expect("request");
}

#[tokio::test]
async fn prompt_and_completion_events_are_redacted() {
    let h = harness_with(|b| {
        b.use_attributes(false)
            .redactors([Redactor::Email])
            .redact_hook(|c: &mut Content<'_>| {
                // The system prompt's text part is dropped from its message.
                if c.role() == Some("system") && c.field() != Field::EntityInput {
                    Verdict::Drop
                } else {
                    Verdict::Keep
                }
            })
    });
    let stub = LlmStub::builder().answers(Answers::Demo).start();
    events_task(stub.base_url()).await;
    let t = h.trace_of("events_task.task");
    let chat = t.span("openai.chat");
    let logs = h.logs();
    let bodies: Vec<(String, String)> = logs
        .iter()
        .filter(|l| {
            l.record.trace_context().map(|c| c.trace_id) == Some(chat.span_context.trace_id())
        })
        .filter_map(|l| {
            let name = l.record.event_name()?.to_owned();
            name.starts_with("gen_ai.")
                .then(|| (name, format!("{:?}", l.record.body())))
        })
        .collect();
    let body = |name: &str| {
        bodies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("no {name} event in {bodies:?}"))
    };
    let user = body("gen_ai.user.message");
    assert!(
        user.contains("[REDACTED:email]") && !user.contains("jane@example.com"),
        "{user}"
    );
    let choice = body("gen_ai.choice");
    assert!(
        choice.contains("[REDACTED:email]") && !choice.contains("jane@example.com"),
        "{choice}"
    );
    for (_, b) in &bodies {
        assert!(
            !b.contains("ops@corp.example.com") && !b.contains("The operator"),
            "{b}"
        );
    }
}

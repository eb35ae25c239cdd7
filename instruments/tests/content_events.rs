//! `use_attributes(false)`: prompts and completions become `gen_ai.*` log events correlated
//! with the LLM span, not span attributes; with content off the events carry no content.

use llmetry::task;
use llmetry_testkit::llm_stub::{self, LlmStub};
use llmetry_testkit::{attr, harness_with};
use serde_json::json;

#[task(name = "events_task")]
async fn events_task(base: String) {
    let c = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build();
    let _ = c
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "gpt-4o", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "the secret word is marmalade"}
        ]}))
        .send()
        .await;
}

#[tokio::test]
async fn prompts_and_completions_as_log_events() {
    let h = harness_with(|b| b.use_attributes(false));
    let stub = LlmStub::start();
    events_task(stub.base_url()).await;
    let t = h.trace_of("events_task.task");
    let chat = t.span("openai.chat");
    assert_eq!(
        attr(chat, "gen_ai.input.messages"),
        None,
        "no content attributes in event mode"
    );
    assert_eq!(attr(chat, "gen_ai.output.messages"), None);
    for s in &t.spans {
        assert!(
            s.events.iter().all(|e| !e.name.starts_with("gen_ai.")),
            "events are logs, not span events"
        );
    }
    let logs = h.logs();
    let mine: Vec<_> = logs
        .iter()
        .filter(|l| {
            l.record.trace_context().map(|c| c.trace_id) == Some(chat.span_context.trace_id())
        })
        .collect();
    let named = |n: &str| {
        mine.iter()
            .filter(|l| l.record.event_name() == Some(n))
            .count()
    };
    assert_eq!(named("gen_ai.system.message"), 1);
    assert_eq!(named("gen_ai.user.message"), 1);
    assert_eq!(named("gen_ai.choice"), 1);
    for l in &mine {
        assert_eq!(
            l.record.trace_context().map(|c| c.span_id),
            Some(chat.span_context.span_id())
        );
    }
    let user = mine
        .iter()
        .find(|l| l.record.event_name() == Some("gen_ai.user.message"));
    assert!(format!("{:?}", user.map(|l| l.record.body())).contains("marmalade"));
    let choice = mine
        .iter()
        .find(|l| l.record.event_name() == Some("gen_ai.choice"));
    let body = format!("{:?}", choice.map(|l| l.record.body()));
    assert!(
        body.contains(llm_stub::REPLY) && body.contains("finish_reason"),
        "{body}"
    );

    // content off: still emitted, without content
    let before = h.logs().len();
    llmetry::with_trace_content(false, events_task(stub.base_url())).await;
    let logs = h.logs();
    let new: Vec<_> = logs[before..]
        .iter()
        .filter(|l| {
            l.record
                .event_name()
                .is_some_and(|n| n.starts_with("gen_ai."))
        })
        .collect();
    assert_eq!(new.len(), 3, "{new:?}");
    for l in new {
        let b = format!("{:?}", l.record.body());
        assert!(
            !b.contains("marmalade") && !b.contains(llm_stub::REPLY) && !b.contains("Be brief"),
            "{b}"
        );
    }
}

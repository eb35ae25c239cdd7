//! rig emits its own `gen_ai.*` spans through `tracing` (target `rig::completions`, span
//! `chat`, fields declared `Empty` and recorded later). Such spans nest under our entities
//! and get the enrichment with no user code. This test reproduces rig's span shape; it does
//! not depend on rig itself.

use llmetry::{agent, workflow};
use llmetry_testkit::{attr, attr_str, harness};
use opentelemetry::Value;

fn rig_like_chat(model: &str) {
    let span = tracing::info_span!(
        target: "rig::completions",
        "chat",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "openai",
        gen_ai.request.model = model,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
    );
    let _e = span.enter();
    span.record("gen_ai.response.model", "gpt-4o-2024-08-06");
    span.record("gen_ai.usage.input_tokens", 12_i64);
    span.record("gen_ai.usage.output_tokens", 7_i64);
}

#[agent(name = "rig_agent")]
fn rig_agent() {
    rig_like_chat("gpt-4o");
}

#[workflow(name = "rig_wf")]
fn rig_wf() {
    llmetry::set_association_properties([("session_id", "s-9")]);
    rig_agent();
}

#[test]
fn rig_gen_ai_spans_nest_and_are_enriched() {
    let h = harness();
    rig_wf();
    let t = h.trace_of("rig_wf.workflow");
    let chat = t.span("chat");
    assert_eq!(t.parent_name(chat).as_deref(), Some("rig_agent.agent"));
    assert_eq!(
        attr_str(chat, "traceloop.workflow.name").as_deref(),
        Some("rig_wf")
    );
    assert_eq!(
        attr_str(chat, "gen_ai.agent.name").as_deref(),
        Some("rig_agent")
    );
    assert_eq!(
        attr_str(chat, "traceloop.association.properties.session_id").as_deref(),
        Some("s-9")
    );
    assert_eq!(
        attr_str(chat, "gen_ai.operation.name").as_deref(),
        Some("chat")
    );
    assert_eq!(
        attr_str(chat, "gen_ai.response.model").as_deref(),
        Some("gpt-4o-2024-08-06")
    );
    assert_eq!(
        attr(chat, "gen_ai.usage.input_tokens"),
        Some(Value::I64(12))
    );
}

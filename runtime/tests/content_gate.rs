//! The content gate: `TRACELOOP_TRACE_CONTENT=false` removes inputs and outputs, a scoped
//! override re-enables them for one block, and values are truncated at a UTF-8 boundary
//! to `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`.

use llmetry::{task, workflow};
use llmetry_testkit::{attr, attr_str, harness_with};

fn h() -> &'static llmetry_testkit::Harness {
    harness_with(|b| {
        b.env_source(llmetry::EnvSource::from_pairs([
            ("TRACELOOP_TRACE_CONTENT", "false"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "24"),
        ]))
    })
}

#[task(name = "secret_task")]
fn secret_task(prompt: &str) -> String {
    format!("answer to {prompt}")
}

#[workflow(name = "gate_off_wf")]
fn gate_off_wf() -> String {
    secret_task("the launch codes")
}

#[test]
fn content_off_from_the_environment_removes_inputs_and_outputs() {
    let h = h();
    gate_off_wf();
    let t = h.trace_of("gate_off_wf.workflow");
    for s in &t.spans {
        assert_eq!(attr(s, "traceloop.entity.input"), None, "{}", s.name);
        assert_eq!(attr(s, "traceloop.entity.output"), None, "{}", s.name);
        for kv in &s.attributes {
            assert!(
                !kv.value.as_str().contains("launch codes"),
                "{} {}",
                s.name,
                kv.key
            );
        }
    }
    // structure is still there
    assert_eq!(
        attr_str(t.span("secret_task.task"), "traceloop.span.kind").as_deref(),
        Some("task")
    );
}

#[workflow(name = "gate_override_wf")]
fn gate_override_wf() -> String {
    llmetry::with_trace_content(true, || secret_task("ok to show"))
}

#[test]
fn scoped_override_enables_content_for_one_block_and_truncates() {
    let h = h();
    gate_override_wf();
    let t = h.trace_of("gate_override_wf.workflow");
    assert_eq!(
        attr(
            t.span("gate_override_wf.workflow"),
            "traceloop.entity.input"
        ),
        None
    );
    let s = t.span("secret_task.task");
    // {"args": [], "kwargs": {"prompt": "ok to show"}} cut to 24 bytes
    assert_eq!(
        attr_str(s, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"#)
    );
    assert_eq!(
        attr_str(s, "traceloop.entity.output").as_deref(),
        Some(r#""answer to ok to show""#)
    );
}

#[task(name = "unicode_task")]
fn unicode_task(s: &str) -> usize {
    s.len()
}

#[test]
fn truncation_never_splits_a_character() {
    let h = h();
    let _root = tracing::info_span!("unicode_root").entered();
    // The input JSON is `{"args": [], "kwargs": {"s": "é…` : byte 24 falls inside 'é'.
    llmetry::with_trace_content(true, || unicode_task("éééé"));
    drop(_root);
    let t = h.trace_of("unicode_root");
    let input = attr_str(t.span("unicode_task.task"), "traceloop.entity.input")
        .expect("traceloop.entity.input");
    assert!(input.len() <= 24, "{input}");
    assert!(input.starts_with(r#"{"args": [], "kwargs": {"#), "{input}");
}

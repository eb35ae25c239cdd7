//! Context values are scoped to the entity, reach every span started beneath it (whoever
//! starts it), and can be carried into spawned tasks and threads.

#![allow(clippy::expect_used)] // the workflows below are test code: a failure shows its cause

use llmetry::{task, workflow};
use llmetry_testkit::{attr, attr_str, harness};
use opentelemetry::Value;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};

const WF: &str = "traceloop.workflow.name";
const USER: &str = "traceloop.association.properties.user_id";
const INCIDENT: &str = "traceloop.association.properties.incident_id";

#[task(name = "scoped_task")]
fn scoped_task() {
    llmetry::set_association_properties([("incident_id", "INC-7")]);
}

#[workflow(name = "leaky_wf")]
fn leaky_wf() {
    let _before = tracing::info_span!("before_props").entered();
    drop(_before);
    llmetry::set_association_properties([("user_id", Value::I64(42))]);
    let _s = tracing::info_span!("after_props").entered();
    drop(_s);
    scoped_task();
    let _s = tracing::info_span!("after_task").entered();
}

#[test]
fn nothing_leaks_to_the_caller_after_the_workflow_returns() {
    let h = harness();
    {
        let _handler = tracing::info_span!("scoping_handler").entered();
        leaky_wf();
        let _after = tracing::info_span!("scoping_after_return").entered();
        let tracer = opentelemetry::global::tracer("raw");
        tracer.in_span("scoping_raw_after_return", |_cx| {});
    }
    let t = h.trace_of("scoping_handler");
    let wf = t.span("leaky_wf.workflow");
    assert_eq!(
        t.parent_name(wf).as_deref(),
        Some("scoping_handler"),
        "entity nests under the app span"
    );
    for n in [
        "scoping_after_return",
        "scoping_raw_after_return",
        "scoping_handler",
    ] {
        let s = t.span(n);
        assert_eq!(attr(s, WF), None, "{n} must not see the workflow name");
        assert_eq!(
            attr(s, USER),
            None,
            "{n} must not see association properties"
        );
        assert_eq!(attr(s, INCIDENT), None, "{n}");
    }
    assert_eq!(
        attr(t.span("before_props"), USER),
        None,
        "spans before the call are not rewritten"
    );
    assert_eq!(
        attr(t.span("after_props"), USER),
        Some(Value::I64(42)),
        "ints stay ints"
    );
    assert_eq!(
        attr(wf, USER),
        Some(Value::I64(42)),
        "the workflow span is stamped"
    );
    assert_eq!(
        attr_str(wf, INCIDENT).as_deref(),
        Some("INC-7"),
        "set inside a task: stamps the workflow"
    );
    assert_eq!(
        attr_str(t.span("scoped_task.task"), INCIDENT).as_deref(),
        Some("INC-7"),
        "and the current span"
    );
    assert_eq!(
        attr_str(t.span("after_task"), INCIDENT).as_deref(),
        Some("INC-7")
    );
    assert_eq!(attr(t.span("after_task"), USER), Some(Value::I64(42)));
}

#[tracing::instrument]
fn instrumented_helper(x: u32) -> u32 {
    x + 1
}

#[task(name = "foreign_spans_task")]
fn foreign_spans_task() {
    let _a = tracing::info_span!("info_span_child").entered();
    instrumented_helper(1);
    let tracer = opentelemetry::global::tracer("some-library");
    tracer.in_span("otel_api_child", |cx| {
        cx.span()
            .set_attribute(opentelemetry::KeyValue::new("lib.attr", 1));
    });
}

#[workflow(name = "foreign_wf")]
fn foreign_wf() {
    llmetry::set_association_properties([("user_id", "u-1")]);
    llmetry::set_conversation_id("conv-9");
    foreign_spans_task();
}

#[test]
fn spans_started_by_anyone_beneath_an_entity_nest_and_inherit() {
    let h = harness();
    foreign_wf();
    let t = h.trace_of("foreign_wf.workflow");
    assert_eq!(
        t.parent_name(t.span("info_span_child")).as_deref(),
        Some("foreign_spans_task.task")
    );
    assert_eq!(
        t.parent_name(t.span("instrumented_helper")).as_deref(),
        Some("info_span_child")
    );
    assert_eq!(
        t.parent_name(t.span("otel_api_child")).as_deref(),
        Some("info_span_child")
    );
    for n in [
        "info_span_child",
        "instrumented_helper",
        "otel_api_child",
        "foreign_spans_task.task",
    ] {
        let s = t.span(n);
        assert_eq!(attr_str(s, WF).as_deref(), Some("foreign_wf"), "{n}");
        assert_eq!(attr_str(s, USER).as_deref(), Some("u-1"), "{n}");
        assert_eq!(
            attr_str(s, "gen_ai.conversation.id").as_deref(),
            Some("conv-9"),
            "{n}"
        );
    }
    for n in ["info_span_child", "instrumented_helper", "otel_api_child"] {
        assert_eq!(
            attr_str(t.span(n), "traceloop.entity.path").as_deref(),
            Some("foreign_spans_task"),
            "{n}"
        );
    }
    let wf = t.span("foreign_wf.workflow");
    assert_eq!(
        attr_str(wf, "gen_ai.conversation.id").as_deref(),
        Some("conv-9")
    );
}

#[task(name = "awaiting_task")]
async fn awaiting_task() -> u32 {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let _s = tracing::info_span!("after_await").entered();
    1
}

#[task(name = "spawned_task")]
async fn spawned_task() {
    tokio::task::yield_now().await;
}

#[workflow(name = "spawn_wf")]
async fn spawn_wf() {
    llmetry::set_association_properties([("user_id", "u-spawn")]);
    awaiting_task().await;
    let joined = tokio::spawn(llmetry::propagate(async {
        spawned_task().await;
        let _s = tracing::info_span!("in_spawned_future").entered();
    }))
    .await;
    joined.expect("the propagated task");
    // Without propagation a spawned task starts from an empty context (documented).
    let _ = tokio::spawn(async {
        let _s = tracing::info_span!("unpropagated_spawn").entered();
    })
    .await;
    let thread = std::thread::spawn(llmetry::propagate_fn(|| {
        let _s = tracing::info_span!("in_thread").entered();
    }));
    thread.join().expect("the propagated thread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_crosses_await_spawn_and_threads_when_propagated() {
    let h = harness();
    spawn_wf().await;
    let t = h.trace_of("spawn_wf.workflow");
    for n in [
        "after_await",
        "spawned_task.task",
        "in_spawned_future",
        "in_thread",
    ] {
        let s = t.span(n);
        assert_eq!(attr_str(s, WF).as_deref(), Some("spawn_wf"), "{n}");
        assert_eq!(attr_str(s, USER).as_deref(), Some("u-spawn"), "{n}");
    }
    assert_eq!(
        t.parent_name(t.span("after_await")).as_deref(),
        Some("awaiting_task.task")
    );
    assert_eq!(
        t.parent_name(t.span("spawned_task.task")).as_deref(),
        Some("spawn_wf.workflow")
    );
    assert_eq!(
        t.parent_name(t.span("in_thread")).as_deref(),
        Some("spawn_wf.workflow")
    );
    let lone = h.trace_of("unpropagated_spawn");
    assert_eq!(lone.spans.len(), 1);
    assert_eq!(attr(&lone.spans[0], WF), None);
}

#[task(name = "scoped_props_task")]
fn scoped_props_task() {}

#[task(name = "scoped_props_async")]
async fn scoped_props_async() {}

#[test]
fn with_association_properties_and_conversation_id_scope_a_block() {
    let h = harness();
    let _root = tracing::info_span!("with_props_root").entered();
    let n = llmetry::with_association_properties([("user_id", "u-scoped")], || {
        llmetry::with_conversation_id("conv-scoped", scoped_props_task);
        7
    });
    assert_eq!(n, 7);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(llmetry::with_association_properties(
        [("session_id", "s-1")],
        scoped_props_async(),
    ));
    let _after = tracing::info_span!("with_props_after").entered();
    drop(_after);
    drop(_root);
    let t = h.trace_of("with_props_root");
    let s = t.span("scoped_props_task.task");
    assert_eq!(attr_str(s, USER).as_deref(), Some("u-scoped"));
    assert_eq!(
        attr_str(s, "gen_ai.conversation.id").as_deref(),
        Some("conv-scoped")
    );
    let a = t.span("scoped_props_async.task");
    assert_eq!(
        attr_str(a, "traceloop.association.properties.session_id").as_deref(),
        Some("s-1")
    );
    assert_eq!(attr(a, USER), None);
    let after = t.span("with_props_after");
    assert_eq!(attr(after, USER), None);
    assert_eq!(
        attr(after, "traceloop.association.properties.session_id"),
        None
    );
}

#[test]
fn set_association_properties_outside_any_entity_is_ignored() {
    let h = harness();
    llmetry::set_association_properties([("user_id", "nobody")]);
    let _s = tracing::info_span!("outside_props_span").entered();
    drop(_s);
    let t = h.trace_of("outside_props_span");
    assert_eq!(attr(&t.spans[0], USER), None);
}

//! Entity spans through the real pipeline: names, kinds, attributes, nesting, errors,
//! panics, every supported function shape, and input/output capture.

use std::fmt;

use futures::StreamExt as _;
use llmetry::{agent, task, tool, workflow};
use llmetry_testkit::{attr, attr_keys, attr_str, harness};
use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};

// ---------------------------------------------------------------- names and attributes

#[workflow]
fn default_named_workflow() -> u32 {
    1
}

#[task(name = "versioned", version = 3)]
fn versioned_task() {}

#[tool(name = "zero_version_tool", version = 0)]
fn zero_version_tool() {}

#[workflow(name = "names_wf")]
fn names_wf() {
    versioned_task();
    zero_version_tool();
}

#[test]
fn default_name_is_the_function_name() {
    let h = harness();
    assert_eq!(default_named_workflow(), 1);
    let t = h.trace_of("default_named_workflow.workflow");
    let s = t.span("default_named_workflow.workflow");
    assert_eq!(s.span_kind, SpanKind::Internal);
    assert_eq!(
        attr_str(s, "traceloop.entity.name").as_deref(),
        Some("default_named_workflow")
    );
    assert_eq!(
        attr_str(s, "traceloop.span.kind").as_deref(),
        Some("workflow")
    );
    assert_eq!(
        attr_str(s, "traceloop.workflow.name").as_deref(),
        Some("default_named_workflow")
    );
    assert_eq!(attr_str(s, "traceloop.entity.output").as_deref(), Some("1"));
}

#[test]
fn version_is_an_int_and_zero_is_not_written() {
    let h = harness();
    names_wf();
    let t = h.trace_of("names_wf.workflow");
    let v = t.span("versioned.task");
    assert_eq!(attr(v, "traceloop.entity.version"), Some(Value::I64(3)));
    let z = t.span("zero_version_tool.tool");
    assert_eq!(attr(z, "traceloop.entity.version"), None);
    assert_eq!(
        attr_str(z, "gen_ai.tool.name").as_deref(),
        Some("zero_version_tool")
    );
    // a unit return is recorded as JSON null, like Python's None
    assert_eq!(
        attr_str(v, "traceloop.entity.output").as_deref(),
        Some("null")
    );
}

// ---------------------------------------------------------------- entity path and agents

#[task]
fn inner_inner_task() {
    let _s = tracing::info_span!("leaf_span").entered();
}
#[task]
fn inner_task() {
    inner_inner_task();
}
#[task]
fn outer_task() {
    inner_task();
}
#[workflow(name = "path_wf")]
fn path_wf() {
    outer_task();
}

#[test]
fn entity_path_follows_the_python_rule() {
    let h = harness();
    path_wf();
    let t = h.trace_of("path_wf.workflow");
    let path = |n: &str| attr_str(t.span(n), "traceloop.entity.path");
    assert_eq!(path("path_wf.workflow"), None);
    assert_eq!(path("outer_task.task"), None);
    assert_eq!(path("inner_task.task").as_deref(), Some("outer_task"));
    assert_eq!(
        path("inner_inner_task.task").as_deref(),
        Some("outer_task.inner_task")
    );
    assert_eq!(
        path("leaf_span").as_deref(),
        Some("outer_task.inner_task.inner_inner_task")
    );
    assert_eq!(
        t.parent_name(t.span("leaf_span")).as_deref(),
        Some("inner_inner_task.task")
    );
}

#[tool(name = "agent_tool")]
fn agent_tool() {}

#[agent(name = "planner")]
fn planner() {
    agent_tool();
}

#[agent(name = "bare_agent")]
fn bare_agent() {
    agent_tool();
}

#[workflow(name = "agent_wf")]
fn agent_wf() {
    planner();
}

#[test]
fn agent_names_its_subtree_without_renaming_the_workflow() {
    let h = harness();
    agent_wf();
    let t = h.trace_of("agent_wf.workflow");
    for n in ["planner.agent", "agent_tool.tool"] {
        let s = t.span(n);
        assert_eq!(
            attr_str(s, "gen_ai.agent.name").as_deref(),
            Some("planner"),
            "{n}"
        );
        assert_eq!(
            attr_str(s, "traceloop.workflow.name").as_deref(),
            Some("agent_wf"),
            "{n}"
        );
    }
    assert_eq!(
        attr_str(t.span("agent_wf.workflow"), "gen_ai.agent.name"),
        None
    );

    bare_agent();
    let t = h.trace_of("bare_agent.agent");
    assert_eq!(
        attr_str(t.span("bare_agent.agent"), "traceloop.workflow.name"),
        None
    );
    assert_eq!(
        attr_str(t.span("agent_tool.tool"), "gen_ai.agent.name").as_deref(),
        Some("bare_agent")
    );
}

#[workflow(name = "nested_inner_wf")]
fn nested_inner_wf() {
    let _s = tracing::info_span!("in_inner").entered();
}

#[workflow(name = "nested_outer_wf")]
fn nested_outer_wf() {
    nested_inner_wf();
    let _s = tracing::info_span!("after_inner").entered();
}

#[test]
fn nested_workflow_restores_the_outer_name() {
    let h = harness();
    nested_outer_wf();
    let t = h.trace_of("nested_outer_wf.workflow");
    let wf = |n: &str| attr_str(t.span(n), "traceloop.workflow.name");
    assert_eq!(
        wf("nested_inner_wf.workflow").as_deref(),
        Some("nested_inner_wf")
    );
    assert_eq!(wf("in_inner").as_deref(), Some("nested_inner_wf"));
    assert_eq!(wf("after_inner").as_deref(), Some("nested_outer_wf"));
}

// ---------------------------------------------------------------- errors, panics, returns

#[derive(Debug)]
struct DiskFull {
    host: &'static str,
}
impl fmt::Display for DiskFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "disk full on {}", self.host)
    }
}
impl std::error::Error for DiskFull {}

#[task(name = "may_fail")]
fn may_fail(fail: bool) -> Result<u32, DiskFull> {
    if fail {
        return Err(DiskFull { host: "db-1" });
    }
    Ok(7)
}

#[task(name = "uses_question_mark")]
fn uses_question_mark(s: &str) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let n: i64 = s.parse()?;
    Ok(n * 2)
}

#[workflow(name = "errors_wf")]
fn errors_wf() {
    let _ = may_fail(true);
    let _ = may_fail(false);
    let _ = uses_question_mark("21");
    let _ = uses_question_mark("x");
}

#[test]
fn err_sets_error_status_event_and_error_type_ok_leaves_status_unset() {
    let h = harness();
    errors_wf();
    let t = h.trace_of("errors_wf.workflow");
    let runs = t.all("may_fail.task");
    assert_eq!(runs.len(), 2);
    let failed = runs.iter().find(|s| s.status != Status::Unset).copied();
    let ok = runs.iter().find(|s| s.status == Status::Unset).copied();
    let (Some(failed), Some(ok)) = (failed, ok) else {
        panic!("expected one failed and one ok run: {runs:?}")
    };
    assert_eq!(failed.status, Status::error("disk full on db-1"));
    assert_eq!(
        attr_str(failed, "error.type").as_deref(),
        Some("entity_spans::DiskFull")
    );
    assert_eq!(attr(failed, "traceloop.entity.output"), None);
    let ev = &failed.events.events[0];
    assert_eq!(ev.name, "exception");
    assert!(ev.attributes.iter().any(
        |kv| kv.key.as_str() == "exception.message" && kv.value.as_str() == "disk full on db-1"
    ));
    assert!(
        ev.attributes
            .iter()
            .any(|kv| kv.key.as_str() == "exception.type"
                && kv.value.as_str() == "entity_spans::DiskFull")
    );
    assert_eq!(
        attr_str(ok, "traceloop.entity.output").as_deref(),
        Some("7")
    );
    assert!(ok.events.events.is_empty());

    let q = t.all("uses_question_mark.task");
    let outputs: Vec<_> = q
        .iter()
        .filter_map(|s| attr_str(s, "traceloop.entity.output"))
        .collect();
    assert_eq!(outputs, ["42"]);
    let errs: Vec<_> = q
        .iter()
        .filter(|s| matches!(s.status, Status::Error { .. }))
        .collect();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].status,
        Status::error("invalid digit found in string")
    );
    // the workflow itself swallowed the errors: its status stays unset
    assert_eq!(t.span("errors_wf.workflow").status, Status::Unset);
}

#[task(name = "panicking_task")]
fn panicking_task() -> u8 {
    panic!("kaboom")
}

#[workflow(name = "panic_wf")]
fn panic_wf() -> u8 {
    panicking_task()
}

#[test]
fn panic_ends_the_span_with_error_and_keeps_unwinding() {
    let h = harness();
    let r = std::panic::catch_unwind(panic_wf);
    assert!(r.is_err(), "the panic must continue");
    let t = h.trace_of("panic_wf.workflow");
    for n in ["panicking_task.task", "panic_wf.workflow"] {
        let s = t.span(n);
        assert_eq!(s.status, Status::error("panicked"), "{n}");
        assert_eq!(attr_str(s, "error.type").as_deref(), Some("panic"));
    }
}

#[task(name = "async_panicking")]
async fn async_panicking() {
    tokio::task::yield_now().await;
    panic!("async kaboom")
}

#[tokio::test]
async fn panic_in_async_entity_is_recorded() {
    let h = harness();
    let r = tokio::spawn(async_panicking()).await;
    assert!(r.is_err());
    let spans = h.named("async_panicking.task");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status, Status::error("panicked"));
}

// ------------------------------------------ async bodies that never await, and ones that do

// A body without `.await` runs as a sync one (in the span for the future's one poll); the
// same body with an await keeps the `async` shape. Both must give the same spans, outputs
// and errors, through `return`, `?` and a `static` in the body.

#[task(name = "await_free")]
async fn await_free(s: &str) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if s.is_empty() {
        return Err("empty".into());
    }
    let n: i64 = s.parse()?;
    Ok(n * 2)
}

#[task(name = "awaiting")]
async fn awaiting(s: &str) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tokio::task::yield_now().await;
    if s.is_empty() {
        return Err("empty".into());
    }
    let n: i64 = s.parse()?;
    Ok(n * 2)
}

#[task(name = "await_free_panicking")]
async fn await_free_panicking() {
    panic!("await-free kaboom")
}

// Awaits that the macro sees only as macro calls: `join!` awaits in its expansion, and
// `format!`'s input holds an `.await`. Both keep the `async` shape (else: no compile).
#[task(name = "joins")]
async fn joins() -> u32 {
    let (a, b) = tokio::join!(async { 1 }, async { 2 });
    a + b
}

#[task(name = "awaits_in_format")]
async fn awaits_in_format() -> String {
    format!("{}", async { 3 }.await)
}

#[workflow(name = "await_shapes_wf")]
async fn await_shapes_wf() -> Vec<String> {
    let mut results = Vec::new();
    for s in ["21", "", "x"] {
        results.push(format!(
            "{:?}",
            await_free(s).await.map_err(|e| e.to_string())
        ));
        results.push(format!(
            "{:?}",
            awaiting(s).await.map_err(|e| e.to_string())
        ));
    }
    results.push(joins().await.to_string());
    results.push(awaits_in_format().await);
    results
}

#[tokio::test]
async fn async_bodies_with_and_without_await_record_the_same() {
    let h = harness();
    let results = await_shapes_wf().await;
    assert_eq!(
        results,
        [
            "Ok(42)",
            "Ok(42)",
            "Err(\"empty\")",
            "Err(\"empty\")",
            "Err(\"invalid digit found in string\")",
            "Err(\"invalid digit found in string\")",
            "3",
            "3",
        ]
    );
    let t = h.trace_of("await_shapes_wf.workflow");
    let describe = |name: &str| {
        let mut runs: Vec<_> = t
            .all(name)
            .iter()
            .map(|s| {
                assert_eq!(
                    t.parent_name(s).as_deref(),
                    Some("await_shapes_wf.workflow")
                );
                (
                    attr_str(s, "traceloop.entity.input"),
                    attr_str(s, "traceloop.entity.output"),
                    s.status.clone(),
                )
            })
            .collect();
        runs.sort_by_key(|r| format!("{r:?}"));
        runs
    };
    let free = describe("await_free.task");
    assert_eq!(free.len(), 3);
    assert_eq!(free, describe("awaiting.task"));
    assert!(
        free.contains(&(
            Some(r#"{"args": [], "kwargs": {"s": "21"}}"#.to_owned()),
            Some("42".to_owned()),
            Status::Unset
        )),
        "{free:?}"
    );
    assert!(
        free.contains(&(
            Some(r#"{"args": [], "kwargs": {"s": "x"}}"#.to_owned()),
            None,
            Status::error("invalid digit found in string")
        )),
        "{free:?}"
    );

    for (name, output) in [("joins.task", "3"), ("awaits_in_format.task", "\"3\"")] {
        let s = t.span(name);
        assert_eq!(
            attr_str(s, "traceloop.entity.output").as_deref(),
            Some(output),
            "{name}"
        );
    }

    let r = tokio::spawn(await_free_panicking()).await;
    assert!(r.is_err());
    let spans = h.named("await_free_panicking.task");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status, Status::error("panicked"));
}

// ---------------------------------------------------------------- shapes

struct Agent {
    calls: u32,
}

impl Agent {
    #[task(name = "by_ref")]
    fn by_ref(&self, q: &str) -> usize {
        q.len() + self.calls as usize
    }
    #[task(name = "by_mut")]
    fn by_mut(&mut self) -> u32 {
        self.calls += 1;
        self.calls
    }
    #[task(name = "by_value")]
    fn by_value(self) -> u32 {
        self.calls
    }
    #[task(name = "async_by_ref")]
    async fn async_by_ref(&self, n: u32) -> u32 {
        tokio::task::yield_now().await;
        n + self.calls
    }
}

#[task(name = "generic_where")]
fn generic_where<T, U>(t: T, u: U) -> String
where
    T: fmt::Display,
    U: Into<String>,
{
    format!("{t}-{}", u.into())
}

#[task(name = "impl_display")]
fn impl_display(n: u8) -> impl fmt::Display {
    n * 2
}

trait Summarizer {
    async fn summarize(&self, text: &str) -> String;
}

struct Short;

impl Summarizer for Short {
    #[task(name = "trait_async")]
    async fn summarize(&self, text: &str) -> String {
        text.chars().take(3).collect()
    }
}

#[async_trait::async_trait]
trait Fetcher {
    async fn fetch(&self, key: &str) -> Result<String, DiskFull>;
}

struct Cache;

#[async_trait::async_trait]
impl Fetcher for Cache {
    #[task(name = "async_trait_fetch")]
    async fn fetch(&self, key: &str) -> Result<String, DiskFull> {
        tokio::task::yield_now().await;
        let _child = tracing::info_span!("inside_async_trait").entered();
        if key == "bad" {
            return Err(DiskFull { host: "cache" });
        }
        Ok(key.to_uppercase())
    }
}

#[task(name = "returns_future")]
fn returns_future(n: u32) -> impl std::future::Future<Output = u32> {
    async move {
        tokio::task::yield_now().await;
        let _c = tracing::info_span!("inside_returned_future").entered();
        n + 1
    }
}

#[workflow(name = "shapes_wf")]
async fn shapes_wf() -> u32 {
    let mut a = Agent { calls: 0 };
    let _ = a.by_ref("abc");
    let _ = a.by_mut();
    let _ = a.async_by_ref(5).await;
    let _ = a.by_value();
    let _ = generic_where(1, "x");
    let _ = impl_display(4).to_string();
    let _ = Short.summarize("abcdef").await;
    let _ = Cache.fetch("k").await;
    let _ = Cache.fetch("bad").await;
    returns_future(41).await
}

#[tokio::test]
async fn methods_generics_traits_async_trait_and_returned_futures() {
    let h = harness();
    assert_eq!(shapes_wf().await, 42);
    let t = h.trace_of("shapes_wf.workflow");
    let input = |n: &str| attr_str(t.span(n), "traceloop.entity.input");
    let output = |n: &str| attr_str(t.span(n), "traceloop.entity.output");
    assert_eq!(
        input("by_ref.task").as_deref(),
        Some(r#"{"args": [], "kwargs": {"q": "abc"}}"#)
    );
    assert_eq!(output("by_ref.task").as_deref(), Some("3"));
    assert_eq!(output("by_mut.task").as_deref(), Some("1"));
    assert_eq!(output("by_value.task").as_deref(), Some("1"));
    assert_eq!(
        input("async_by_ref.task").as_deref(),
        Some(r#"{"args": [], "kwargs": {"n": 5}}"#)
    );
    assert_eq!(output("async_by_ref.task").as_deref(), Some("6"));
    // generic parameters without Serialize/Debug bounds fall back to the type name
    assert_eq!(
        input("generic_where.task").as_deref(),
        Some(r#"{"args": [], "kwargs": {"t": "i32", "u": "&str"}}"#)
    );
    assert_eq!(output("generic_where.task").as_deref(), Some(r#""1-x""#));
    assert!(output("impl_display.task").is_some());
    assert_eq!(output("trait_async.task").as_deref(), Some(r#""abc""#));
    let fetches = t.all("async_trait_fetch.task");
    assert_eq!(fetches.len(), 2);
    assert!(
        fetches
            .iter()
            .any(|s| attr_str(s, "traceloop.entity.output").as_deref() == Some(r#""K""#))
    );
    assert!(
        fetches
            .iter()
            .any(|s| s.status == Status::error("disk full on cache"))
    );
    for c in t.all("inside_async_trait") {
        assert_eq!(t.parent_name(c).as_deref(), Some("async_trait_fetch.task"));
        assert_eq!(
            attr_str(c, "traceloop.entity.path").as_deref(),
            Some("async_trait_fetch")
        );
    }
    assert_eq!(output("returns_future.task").as_deref(), Some("42"));
    let inside = t.span("inside_returned_future");
    assert_eq!(
        t.parent_name(inside).as_deref(),
        Some("returns_future.task")
    );
    for s in &t.spans {
        if s.name != "shapes_wf.workflow" && !s.name.starts_with("inside_") {
            assert_eq!(
                t.parent_name(s).as_deref(),
                Some("shapes_wf.workflow"),
                "{}",
                s.name
            );
        }
    }
}

// ---------------------------------------------------------------- streams and iterators

#[task(name = "stream_task")]
fn stream_task(n: u32) -> impl futures::Stream<Item = u32> {
    futures::stream::iter(0..n).then(|i| async move {
        let _s = tracing::info_span!("chunk").entered();
        i
    })
}

#[task(name = "async_stream_task")]
async fn async_stream_task(n: u32) -> impl futures::Stream<Item = u32> + Unpin {
    tokio::task::yield_now().await;
    futures::stream::iter(0..n)
}

#[task(name = "iter_task")]
fn iter_task(n: u32) -> impl Iterator<Item = u32> {
    (0..n).inspect(|_| {
        let _s = tracing::info_span!("item").entered();
    })
}

#[workflow(name = "stream_wf")]
async fn stream_wf() -> (u32, u32, u32) {
    let s: u32 = stream_task(3).collect::<Vec<_>>().await.iter().sum();
    let mut partial = async_stream_task(10).await;
    let first = partial.next().await.unwrap_or(0);
    drop(partial);
    let _s = tracing::info_span!("after_stream").entered();
    let i: u32 = iter_task(4).sum();
    (s, first, i)
}

#[tokio::test]
async fn stream_and_iterator_spans_live_until_exhausted_or_dropped() {
    let h = harness();
    assert_eq!(stream_wf().await, (3, 0, 6));
    let t = h.trace_of("stream_wf.workflow");
    let st = t.span("stream_task.task");
    let chunks = t.all("chunk");
    assert_eq!(chunks.len(), 3);
    for c in &chunks {
        assert_eq!(t.parent_name(c).as_deref(), Some("stream_task.task"));
        assert!(
            st.end_time >= c.end_time,
            "the stream span ends after its last chunk"
        );
    }
    let after = t.span("after_stream");
    let early = t.span("async_stream_task.task");
    assert!(
        early.end_time <= after.start_time,
        "dropping the stream ends its span"
    );
    assert_eq!(early.status, Status::Unset);
    let items = t.all("item");
    assert_eq!(items.len(), 4);
    let it = t.span("iter_task.task");
    for c in &items {
        assert_eq!(t.parent_name(c).as_deref(), Some("iter_task.task"));
        assert!(it.end_time >= c.end_time);
    }
    assert_eq!(
        attr(st, "traceloop.entity.output"),
        None,
        "streams record no output"
    );
}

// ---------------------------------------------------------------- capture options

#[derive(Debug)]
struct DebugOnly {
    #[allow(dead_code)]
    id: u8,
}
struct Opaque;

#[task(name = "fallbacks")]
fn fallbacks(d: DebugOnly, o: Opaque, tags: Vec<&str>) -> DebugOnly {
    let _ = o;
    let _ = tags;
    d
}

#[task(name = "skipping", skip(secret))]
fn skipping(user: &str, secret: &str) -> usize {
    user.len() + secret.len()
}

#[task(name = "skipping_all", skip_all)]
fn skipping_all(secret: &str) -> usize {
    secret.len()
}

#[task(name = "no_input", capture_input = false)]
fn no_input(prompt: &str) -> String {
    prompt.to_owned()
}

#[task(name = "no_output", capture_output = false)]
fn no_output(prompt: &str) -> String {
    prompt.to_owned()
}

#[task(name = "patterns")]
fn patterns((a, b): (u8, u8), r#type: &str) -> u8 {
    let _ = r#type;
    a + b
}

#[workflow(name = "capture_wf")]
fn capture_wf() {
    let _ = fallbacks(DebugOnly { id: 9 }, Opaque, vec!["a"]);
    let _ = skipping("ann", "hunter2");
    let _ = skipping_all("hunter2");
    let _ = no_input("p1");
    let _ = no_output("p2");
    let _ = patterns((1, 2), "x");
}

#[test]
fn non_serializable_values_fall_back_and_skip_options_hide_values() {
    let h = harness();
    capture_wf();
    let t = h.trace_of("capture_wf.workflow");
    let input = |n: &str| attr_str(t.span(n), "traceloop.entity.input");
    let output = |n: &str| attr_str(t.span(n), "traceloop.entity.output");
    assert_eq!(
        input("fallbacks.task").as_deref(),
        Some(
            r#"{"args": [], "kwargs": {"d": "DebugOnly { id: 9 }", "o": "entity_spans::Opaque", "tags": ["a"]}}"#
        )
    );
    assert_eq!(
        output("fallbacks.task").as_deref(),
        Some(r#""DebugOnly { id: 9 }""#)
    );
    assert_eq!(
        input("skipping.task").as_deref(),
        Some(r#"{"args": [], "kwargs": {"user": "ann"}}"#)
    );
    assert_eq!(
        input("skipping_all.task").as_deref(),
        Some(r#"{"args": [], "kwargs": {}}"#)
    );
    for s in &t.spans {
        for kv in &s.attributes {
            assert!(
                !kv.value.as_str().contains("hunter2"),
                "secret leaked in {} {}",
                s.name,
                kv.key
            );
        }
    }
    assert_eq!(input("no_input.task"), None);
    assert_eq!(output("no_input.task").as_deref(), Some(r#""p1""#));
    assert_eq!(
        input("no_output.task").as_deref(),
        Some(r#"{"args": [], "kwargs": {"prompt": "p2"}}"#)
    );
    assert_eq!(output("no_output.task"), None);
    assert_eq!(
        input("patterns.task").as_deref(),
        Some(r#"{"args": [], "kwargs": {"a": 1, "b": 2, "type": "x"}}"#)
    );
    assert!(attr_keys(t.span("patterns.task")).contains(&"traceloop.entity.output".to_owned()));
}

// ---------------------------------------------------------------- new_trace

#[workflow(name = "fresh_root", new_trace)]
fn fresh_root() {}

#[workflow(name = "new_trace_outer")]
fn new_trace_outer() {
    fresh_root();
}

#[test]
fn new_trace_starts_a_new_trace() {
    let h = harness();
    new_trace_outer();
    let outer = h.trace_of("new_trace_outer.workflow");
    let fresh = h.trace_of("fresh_root.workflow");
    assert_ne!(outer.trace_id, fresh.trace_id);
    assert_eq!(fresh.parent_name(fresh.span("fresh_root.workflow")), None);
    assert_eq!(outer.spans.len(), 1);
}

// ---------------------------------------------------------------- default truncation

#[task(name = "huge_input")]
fn huge_input(text: String) -> usize {
    text.len()
}

#[test]
fn values_are_truncated_to_the_default_limit() {
    let h = harness();
    let _root = tracing::info_span!("huge_root").entered();
    huge_input("é".repeat(100_000));
    drop(_root);
    let t = h.trace_of("huge_root");
    let input = attr_str(t.span("huge_input.task"), "traceloop.entity.input")
        .expect("traceloop.entity.input");
    assert!(input.len() <= llmetry::DEFAULT_VALUE_LENGTH_LIMIT);
    assert!(
        input.len() > llmetry::DEFAULT_VALUE_LENGTH_LIMIT - 4,
        "{}",
        input.len()
    );
}

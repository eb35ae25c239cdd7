//! Where an entity's input, output and error land: on the entity's own span, written while
//! it is entered (a thread-local read) or, when it never is, through the span itself.

use llmetry::{task, workflow};
use llmetry_testkit::{attr_str, harness};

const INPUT: &str = "traceloop.entity.input";
const OUTPUT: &str = "traceloop.entity.output";

/// A function returning a future it builds: the entity opens when it is called, and the
/// span is entered only when the future is polled.
#[task(name = "never_polled")]
fn never_polled(host: &str) -> impl std::future::Future<Output = usize> + '_ {
    async move { host.len() }
}

#[test]
fn a_future_dropped_before_its_first_poll_still_records_its_input() {
    let h = harness();
    {
        let _app = tracing::info_span!("drop_before_poll_app").entered();
        let fut = never_polled("db-1");
        drop(fut);
    }
    let t = h.trace_of("drop_before_poll_app");
    let span = t.span("never_polled.task");
    assert_eq!(
        attr_str(span, INPUT).as_deref(),
        Some(r#"{"args": [], "kwargs": {"host": "db-1"}}"#)
    );
    assert_eq!(attr_str(span, OUTPUT), None, "it never ran");
    assert_eq!(t.parent_name(span).as_deref(), Some("drop_before_poll_app"));
}

#[task(name = "inner_step")]
fn inner_step(n: u32) -> u32 {
    n + 1
}

#[task(name = "outer_step")]
fn outer_step(n: u32) -> Result<u32, String> {
    let _plain = tracing::info_span!("plain_inside").entered();
    let m = inner_step(n);
    if m > 100 {
        Err(format!("{m} is too big"))
    } else {
        Ok(m * 2)
    }
}

#[workflow(name = "recording_wf")]
fn recording_wf() -> u32 {
    let ok = outer_step(1).unwrap_or(0);
    let err = outer_step(200).unwrap_or(0);
    ok + err
}

#[test]
fn outputs_and_errors_land_on_their_own_span_not_on_a_parent_or_child() {
    let h = harness();
    assert_eq!(recording_wf(), 4);
    let t = h.trace_of("recording_wf.workflow");
    let outers = t.all("outer_step.task");
    assert_eq!(outers.len(), 2);
    let (ok, err) = if attr_str(outers[0], OUTPUT).is_some() {
        (outers[0], outers[1])
    } else {
        (outers[1], outers[0])
    };
    assert_eq!(attr_str(ok, OUTPUT).as_deref(), Some("4"));
    assert_eq!(
        attr_str(ok, INPUT).as_deref(),
        Some(r#"{"args": [], "kwargs": {"n": 1}}"#)
    );
    assert_eq!(ok.status, opentelemetry::trace::Status::Unset);
    assert_eq!(attr_str(err, OUTPUT), None, "an Err records no output");
    assert_eq!(
        err.status,
        opentelemetry::trace::Status::error("201 is too big")
    );
    assert_eq!(
        attr_str(err, "error.type").as_deref(),
        Some("alloc::string::String")
    );
    for inner in t.all("inner_step.task") {
        assert!(
            matches!(attr_str(inner, OUTPUT).as_deref(), Some("2" | "201")),
            "{:?}",
            attr_str(inner, OUTPUT)
        );
        assert_eq!(
            attr_str(inner, "error.type"),
            None,
            "the error is the outer's"
        );
    }
    for plain in t.all("plain_inside") {
        assert_eq!(attr_str(plain, OUTPUT), None);
        assert_eq!(attr_str(plain, INPUT), None);
    }
    let wf = t.span("recording_wf.workflow");
    assert_eq!(attr_str(wf, OUTPUT).as_deref(), Some("4"));
}

/// Neither `Serialize` nor `Display`: recorded through the capture ladder's `Debug` step.
#[derive(Debug)]
struct OnlyDebug(#[allow(dead_code)] u8);

#[task(name = "debug_only_async")]
async fn debug_only_async(n: u8) -> OnlyDebug {
    OnlyDebug(n)
}

#[task(name = "debug_only_returned")]
fn debug_only_returned(n: u8) -> impl std::future::Future<Output = Result<u8, OnlyDebug>> {
    async move { if n > 1 { Ok(n) } else { Err(OnlyDebug(n)) } }
}

#[test]
fn async_outputs_of_any_type_go_through_the_capture_ladder() {
    let h = harness();
    let rt = tokio::runtime::Builder::new_current_thread().build();
    let Ok(rt) = rt else { panic!("runtime") };
    {
        let _app = tracing::info_span!("ladder_app").entered();
        rt.block_on(async {
            debug_only_async(7).await;
            let _ = debug_only_returned(1).await;
        });
    }
    let t = h.trace_of("ladder_app");
    assert_eq!(
        attr_str(t.span("debug_only_async.task"), OUTPUT).as_deref(),
        Some(r#""OnlyDebug(7)""#)
    );
    let returned = t.span("debug_only_returned.task");
    assert_eq!(
        returned.status,
        opentelemetry::trace::Status::error("OnlyDebug(1)")
    );
}

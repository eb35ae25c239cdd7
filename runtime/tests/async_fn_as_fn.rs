//! An annotated `async fn` whose body awaits is written by the macros as
//! `fn … -> impl Future` (one state machine, the body's). It must still behave as the
//! `async fn` the user wrote: nothing happens before the first poll (the span opens there,
//! under the context current there), and every parameter, used or not, lives until the body
//! completes, dropping in the same order as the plain `async fn`'s.

// A failing step should say why: `expect` prints the error.
#![allow(clippy::expect_used)]

use std::sync::{Arc, Mutex};

use llmetry::task;
use llmetry_testkit::{attr_str, harness};

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, line: impl Into<String>) {
    log.lock().expect("log lock").push(line.into());
}

/// Says in the log when it drops.
struct Noisy(&'static str, Log);

impl Drop for Noisy {
    fn drop(&mut self) {
        push(&self.1, format!("drop {}", self.0));
    }
}

/// Pending once, then ready: makes a body await for real.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

async fn plain_holds(_first: Noisy, mut n: u32, used: Noisy, _last: Noisy, log: Log) -> u32 {
    push(&log, "body starts");
    YieldOnce(false).await;
    n += 1;
    push(&log, format!("body ends, used {}", used.0));
    n
}

#[task(name = "holds")]
async fn task_holds(_first: Noisy, mut n: u32, used: Noisy, _last: Noisy, log: Log) -> u32 {
    push(&log, "body starts");
    YieldOnce(false).await;
    n += 1;
    push(&log, format!("body ends, used {}", used.0));
    n
}

#[test]
fn parameters_live_until_the_body_completes_and_drop_as_the_plain_async_fns_do() {
    let _h = harness();
    let run = |annotated: bool| {
        let log = Log::default();
        let noisy = |name| Noisy(name, log.clone());
        let n = if annotated {
            futures::executor::block_on(task_holds(
                noisy("first"),
                1,
                noisy("used"),
                noisy("last"),
                log.clone(),
            ))
        } else {
            futures::executor::block_on(plain_holds(
                noisy("first"),
                1,
                noisy("used"),
                noisy("last"),
                log.clone(),
            ))
        };
        assert_eq!(n, 2);
        log.lock().expect("log lock").clone()
    };
    let plain = run(false);
    assert_eq!(plain.first().map(String::as_str), Some("body starts"));
    assert!(
        plain.iter().position(|l| l == "drop first")
            > plain.iter().position(|l| l.starts_with("body ends")),
        "the plain async fn keeps its unused parameters to the end: {plain:?}"
    );
    assert_eq!(run(true), plain);
}

#[task(name = "lazy_start")]
async fn lazy_start(host: &str) -> usize {
    YieldOnce(false).await;
    host.len()
}

#[test]
fn the_span_opens_at_the_first_poll_under_the_context_current_there() {
    let h = harness();
    let host = String::from("db-7");
    // Called outside any span, polled inside one: the span's parent is where it runs.
    let fut = lazy_start(&host);
    let n = {
        let _app = tracing::info_span!("lazy_start_app").entered();
        futures::executor::block_on(fut)
    };
    assert_eq!(n, 4);
    let t = h.trace_of("lazy_start_app");
    let span = t.span("lazy_start.task");
    assert_eq!(t.parent_name(span).as_deref(), Some("lazy_start_app"));
    assert_eq!(
        attr_str(span, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"host": "db-7"}}"#)
    );
    assert_eq!(
        attr_str(span, "traceloop.entity.output").as_deref(),
        Some("4")
    );
}

#[task(name = "never_started")]
async fn never_started(host: &str) -> usize {
    YieldOnce(false).await;
    host.len()
}

#[test]
fn a_future_dropped_before_its_first_poll_opens_no_span() {
    let h = harness();
    {
        let _app = tracing::info_span!("never_started_app").entered();
        drop(never_started("db-1"));
    }
    let t = h.trace_of("never_started_app");
    assert!(
        !t.names().iter().any(|n| n == "never_started.task"),
        "an async fn does nothing before it is polled: {:?}",
        t.names()
    );
}

/// Owns a `Noisy`: shows when `self` drops.
struct Holder {
    _owned: Noisy,
}

impl Holder {
    async fn plain_consume(self, _arg: Noisy, log: Log) {
        YieldOnce(false).await;
        push(&log, "body ends");
    }

    #[task(name = "consume")]
    async fn task_consume(self, _arg: Noisy, log: Log) {
        YieldOnce(false).await;
        push(&log, "body ends");
    }
}

#[test]
fn an_unused_self_lives_until_the_body_completes_and_drops_last() {
    let _h = harness();
    let run = |annotated: bool| {
        let log = Log::default();
        let holder = Holder {
            _owned: Noisy("self", log.clone()),
        };
        let arg = Noisy("arg", log.clone());
        if annotated {
            futures::executor::block_on(holder.task_consume(arg, log.clone()));
        } else {
            futures::executor::block_on(holder.plain_consume(arg, log.clone()));
        }
        log.lock().expect("log lock").clone()
    };
    let plain = run(false);
    assert_eq!(plain, ["body ends", "drop arg", "drop self"]);
    assert_eq!(run(true), plain);
}

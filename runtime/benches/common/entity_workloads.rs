//! The workloads both entity benches run (`entity.rs` with criterion, `entity_icount.rs`
//! under callgrind): the same functions, the same `String` argument, the same discarding
//! exporter, so the two harnesses measure the same code. Included by `#[path]`; not a bench
//! target of its own.

use std::hint::black_box;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

#[inline(never)]
pub(crate) fn plain(prompt: String) -> usize {
    black_box(prompt.len())
}

#[llmetry::task(name = "bench_on")]
#[inline(never)]
pub(crate) fn task_capture_on(prompt: String) -> usize {
    black_box(prompt.len())
}

#[llmetry::task(name = "bench_off", capture_input = false, capture_output = false)]
#[inline(never)]
pub(crate) fn task_capture_off(prompt: String) -> usize {
    black_box(prompt.len())
}

#[llmetry::task(name = "bench_async_on")]
pub(crate) async fn async_task_capture_on(prompt: String) -> usize {
    black_box(prompt.len())
}

#[llmetry::task(
    name = "bench_async_off",
    capture_input = false,
    capture_output = false
)]
pub(crate) async fn async_task_capture_off(prompt: String) -> usize {
    black_box(prompt.len())
}

/// The nested case: a task called inside a workflow (its context derives from the
/// workflow's: workflow name, path, association scope).
#[llmetry::workflow(name = "bench_workflow", capture_input = false, capture_output = false)]
#[inline(never)]
pub(crate) fn workflow_with_task_off(prompt: String) -> usize {
    task_capture_off(prompt)
}

/// `workflow_with_task_off` in plain `tracing`: a span with no fields around an
/// instrumented function.
#[tracing::instrument(skip_all)]
#[inline(never)]
pub(crate) fn instrumented_nested(prompt: String) -> usize {
    instrumented(prompt)
}

#[tracing::instrument]
#[inline(never)]
pub(crate) fn instrumented(prompt: String) -> usize {
    black_box(prompt.len())
}

#[tracing::instrument(skip_all)]
#[inline(never)]
pub(crate) fn instrumented_skip_all(prompt: String) -> usize {
    black_box(prompt.len())
}

#[tracing::instrument]
pub(crate) async fn async_instrumented(prompt: String) -> usize {
    black_box(prompt.len())
}

#[tracing::instrument(skip_all)]
pub(crate) async fn async_instrumented_skip_all(prompt: String) -> usize {
    black_box(prompt.len())
}

#[inline(never)]
pub(crate) async fn async_plain(prompt: String) -> usize {
    black_box(prompt.len())
}

/// Pending once, then ready: an await that suspends, as one on I/O does (a body that
/// never awaits is expanded as a sync one; these measure the other shape).
pub(crate) struct YieldOnce(bool);

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

#[inline(never)]
pub(crate) async fn async_plain_awaiting(prompt: String) -> usize {
    YieldOnce(false).await;
    black_box(prompt.len())
}

#[llmetry::task(name = "bench_async_awaiting")]
pub(crate) async fn async_task_awaiting(prompt: String) -> usize {
    YieldOnce(false).await;
    black_box(prompt.len())
}

/// Drops every span: we count the caller's cost, not the network's.
#[derive(Debug)]
pub(crate) struct DiscardExporter;

impl SpanExporter for DiscardExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

pub(crate) fn prompt() -> String {
    "a haiku about OpenTelemetry".to_owned()
}

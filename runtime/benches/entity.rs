//! Per-call cost of entity spans next to a plain call, `#[tracing::instrument]` with the
//! same tracing-opentelemetry setup, and a raw OpenTelemetry SDK span; and the cost of an
//! annotated call before `init()`.
//!
//! `cargo bench -p llmetry --bench entity`. The `before_init` group must run first (it
//! measures the process before `install()`); criterion runs groups in the order listed.
//! Each group holds the functions compared side by side, so the ratios of one run hold on a
//! noisy machine; `runtime/benches/criterion_ratios.sh` prints them. `entity_icount.rs` runs
//! the same workloads for instruction counts.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{Span as _, Tracer as _};

#[path = "common/entity_workloads.rs"]
mod workloads;
use workloads::*;

fn before_init(c: &mut Criterion) {
    // Print the one-time warning before measuring.
    let _ = task_capture_on(prompt());
    let mut g = c.benchmark_group("before_init");
    g.bench_function("plain", |b| b.iter(|| plain(black_box(prompt()))));
    g.bench_function("task", |b| b.iter(|| task_capture_on(black_box(prompt()))));
    g.bench_function("async_plain", |b| {
        b.iter(|| futures::executor::block_on(async_plain(black_box(prompt()))))
    });
    g.bench_function("async_task", |b| {
        b.iter(|| futures::executor::block_on(async_task_capture_on(black_box(prompt()))))
    });
    g.bench_function("async_plain_awaiting", |b| {
        b.iter(|| futures::executor::block_on(async_plain_awaiting(black_box(prompt()))))
    });
    g.bench_function("async_task_awaiting", |b| {
        b.iter(|| futures::executor::block_on(async_task_awaiting(black_box(prompt()))))
    });
    g.finish();
}

fn after_init(c: &mut Criterion) {
    let telemetry = llmetry::init()
        .app_name("bench")
        .exporter(DiscardExporter)
        .silence_init_message(true)
        .install();
    let Ok(telemetry) = telemetry else {
        panic!("install failed")
    };
    let tracer = opentelemetry::global::tracer("raw");

    let mut g = c.benchmark_group("sync");
    g.bench_function("plain", |b| b.iter(|| plain(black_box(prompt()))));
    g.bench_function("task_capture_on", |b| {
        b.iter(|| task_capture_on(black_box(prompt())))
    });
    g.bench_function("task_capture_off", |b| {
        b.iter(|| task_capture_off(black_box(prompt())))
    });
    g.bench_function("tracing_instrument", |b| {
        b.iter(|| instrumented(black_box(prompt())))
    });
    g.bench_function("tracing_instrument_skip_all", |b| {
        b.iter(|| instrumented_skip_all(black_box(prompt())))
    });
    g.bench_function("workflow_with_task_off", |b| {
        b.iter(|| workflow_with_task_off(black_box(prompt())))
    });
    g.bench_function("tracing_instrument_nested", |b| {
        b.iter(|| instrumented_nested(black_box(prompt())))
    });
    g.bench_function("raw_otel_span", |b| {
        b.iter(|| {
            let mut span = tracer.start("raw");
            let n = plain(black_box(prompt()));
            span.end();
            n
        })
    });
    g.finish();

    let mut g = c.benchmark_group("async");
    g.bench_function("plain", |b| {
        b.iter(|| futures::executor::block_on(async_plain(black_box(prompt()))))
    });
    g.bench_function("task_capture_on", |b| {
        b.iter(|| futures::executor::block_on(async_task_capture_on(black_box(prompt()))))
    });
    g.bench_function("task_capture_off", |b| {
        b.iter(|| futures::executor::block_on(async_task_capture_off(black_box(prompt()))))
    });
    g.bench_function("task_awaiting", |b| {
        b.iter(|| futures::executor::block_on(async_task_awaiting(black_box(prompt()))))
    });
    g.bench_function("tracing_instrument", |b| {
        b.iter(|| futures::executor::block_on(async_instrumented(black_box(prompt()))))
    });
    g.bench_function("tracing_instrument_skip_all", |b| {
        b.iter(|| futures::executor::block_on(async_instrumented_skip_all(black_box(prompt()))))
    });
    g.finish();
    let _ = telemetry.shutdown();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(60)
}

criterion_group! { name = pre; config = config(); targets = before_init }
criterion_group! { name = post; config = config(); targets = after_init }
criterion_main!(pre, post);

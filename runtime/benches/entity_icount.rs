//! Fixed workloads for instruction counting (`.ci/icount` runs them under
//! `valgrind --tool=callgrind`): `entity_icount <workload> <iterations>` warms up, then runs
//! the workload `<iterations>` times inside `measured`, the one function callgrind collects
//! (`--toggle-collect`), so instructions per call = collected instructions / iterations.
//!
//! The workloads are the ones `benches/entity.rs` times with criterion: the same functions,
//! the same `String` argument, the same pipeline (enrichment, tracing-opentelemetry with
//! context activation, batch span processor, an exporter that discards). Workloads named
//! `*_before_init` run without `install()`.
//!
//! Protocol shared with the other `*_icount` targets: `harness = false`, arguments
//! `<workload> <iterations>`, an unknown workload exits with status 2 and the list.

use std::hint::black_box;

use opentelemetry::trace::{Span as _, Tracer as _};

#[path = "common/entity_workloads.rs"]
mod workloads;
use workloads::*;

/// A future that is ready at once, polled without a runtime (as `futures::executor::block_on`
/// would, minus its thread-local parking).
fn run_ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// (name, needs `install()`, one call).
type Workload = (&'static str, bool, fn() -> usize);

const WORKLOADS: &[Workload] = &[
    ("plain_before_init", false, || plain(black_box(prompt()))),
    ("task_before_init", false, || {
        task_capture_on(black_box(prompt()))
    }),
    ("async_plain_before_init", false, || {
        run_ready(async_plain(black_box(prompt())))
    }),
    ("async_task_before_init", false, || {
        run_ready(async_task_capture_on(black_box(prompt())))
    }),
    ("async_plain_awaiting_before_init", false, || {
        run_ready(async_plain_awaiting(black_box(prompt())))
    }),
    ("async_task_awaiting_before_init", false, || {
        run_ready(async_task_awaiting(black_box(prompt())))
    }),
    ("plain", true, || plain(black_box(prompt()))),
    ("task_off", true, || task_capture_off(black_box(prompt()))),
    ("task_on", true, || task_capture_on(black_box(prompt()))),
    ("instrument", true, || instrumented(black_box(prompt()))),
    ("instrument_skip_all", true, || {
        instrumented_skip_all(black_box(prompt()))
    }),
    ("workflow_with_task_off", true, || {
        workflow_with_task_off(black_box(prompt()))
    }),
    ("instrument_nested", true, || {
        instrumented_nested(black_box(prompt()))
    }),
    ("raw_otel_span", true, || {
        let tracer = opentelemetry::global::tracer("raw");
        let mut span = tracer.start("raw");
        let n = plain(black_box(prompt()));
        span.end();
        n
    }),
    ("async_plain", true, || {
        run_ready(async_plain(black_box(prompt())))
    }),
    ("async_task_off", true, || {
        run_ready(async_task_capture_off(black_box(prompt())))
    }),
    ("async_task_on", true, || {
        run_ready(async_task_capture_on(black_box(prompt())))
    }),
    ("async_task_awaiting_on", true, || {
        run_ready(async_task_awaiting(black_box(prompt())))
    }),
    ("async_instrument", true, || {
        run_ready(async_instrumented(black_box(prompt())))
    }),
    ("async_instrument_skip_all", true, || {
        run_ready(async_instrumented_skip_all(black_box(prompt())))
    }),
];

/// The only function callgrind collects: `iterations` calls of `call`.
#[inline(never)]
fn measured(call: fn() -> usize, iterations: u64) -> usize {
    let mut sum = 0usize;
    for _ in 0..iterations {
        sum = sum.wrapping_add(call());
    }
    sum
}

/// The warm-up: the calls `measured` makes, outside the collected function (its code differs
/// from `measured`'s so that the two are not merged into one symbol).
#[inline(never)]
fn warm_up(call: fn() -> usize, iterations: u64) -> usize {
    let mut sum = 0usize;
    for _ in 0..iterations {
        sum ^= black_box(call)();
    }
    sum
}

fn usage() -> ! {
    let names: Vec<&str> = WORKLOADS.iter().map(|w| w.0).collect();
    eprintln!(
        "usage: entity_icount <workload> <iterations>\nworkloads: {}",
        names.join(" ")
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` runs every bench target with `--bench`: nothing to do here.
    if args.first().map(String::as_str) == Some("--bench") {
        return;
    }
    let [name, iterations] = args.as_slice() else {
        usage()
    };
    let Ok(iterations) = iterations.parse::<u64>() else {
        usage()
    };
    let Some(&(_, install, call)) = WORKLOADS.iter().find(|w| w.0 == name) else {
        usage()
    };
    let telemetry = if install {
        let installed = llmetry::init()
            .app_name("icount")
            .exporter(DiscardExporter)
            .silence_init_message(true)
            .install();
        match installed {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("install failed: {e}");
                std::process::exit(1)
            }
        }
    } else {
        None
    };
    // Warm up: one-time work (thread locals, lazy statics, first allocations, the warning
    // printed before init) stays out of the count, and so do these calls (until 2026-11-30
    // the warm-up ran inside `measured`: counts per call were 10 % too high).
    black_box(warm_up(call, 200));
    if let Some(t) = &telemetry {
        let _ = t.flush();
    }
    let cpu_before = process_cpu_seconds();
    let sum = measured(call, iterations);
    if let Some(t) = &telemetry {
        let _ = t.flush();
    }
    let cpu_after = process_cpu_seconds();
    println!("{name} {iterations} {sum}");
    // CPU time of the calls and the export of their spans (all threads), for comparing
    // with other processes (runtime/benches/python/task_cpu.py); not used by .ci/icount.
    if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
        println!("cpu_seconds={:.6}", b - a);
    }
    if let Some(t) = telemetry {
        let _ = t.shutdown();
    }
}

/// User + system CPU time of this process (every thread), from `/proc/self/stat` (Linux;
/// clock ticks of 10 ms: measure a second or more).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

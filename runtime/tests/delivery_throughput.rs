//! Throughput of delivery to a real collector (rotel), per protocol: how many spans a
//! second llmetry delivers with zero loss. A measurement run by hand, not a test with a
//! timing goal (BENCHMARKS.md has the figures and how they were taken):
//!
//! ```sh
//! cargo test --release -p llmetry --test delivery_throughput -- --ignored --nocapture
//! ```
//!
//! The job (a child process): 100,000 `#[workflow]` → `#[task]` pairs (200,000 spans) made
//! as fast as two threads can, with a queue large enough to hold them all
//! (`OTEL_BSP_MAX_QUEUE_SIZE=262144`), then `shutdown()`; the rate is spans over the time
//! from the first span to the end of the shutdown, when the report says every span was
//! sent. A second run with the default settings says what they drop at that rate.
//!
//! `memory_bound_with_a_silent_collector` measures the memory a full queue holds: the same
//! job against a collector that never answers, the process's resident memory read before
//! and after (Linux `/proc/self/statm`).

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use std::time::Instant;

use llmetry::{task, workflow};
use llmetry_testkit::HANG_GUARD;
use llmetry_testkit::otlp::OtlpReceiver;
use llmetry_testkit::process::{command, run};
use llmetry_testkit::rotel::Rotel;

const CHILD: &str = "LLMETRY_THROUGHPUT_CHILD";
const PAIRS: u64 = 100_000;
const THREADS: u64 = 2;

#[task(name = "tp_task")]
fn tp_task(i: u64) -> u64 {
    i
}

#[workflow(name = "tp_wf")]
fn tp_wf(i: u64) -> u64 {
    tp_task(i)
}

#[test]
fn child_throughput() {
    let Ok(endpoint) = std::env::var(CHILD) else {
        return; // only meaningful when re-executed by the measurement below
    };
    let protocol: llmetry::Protocol = std::env::var("TP_PROTOCOL")
        .expect("TP_PROTOCOL")
        .parse()
        .expect("a protocol");
    let queue = std::env::var("TP_QUEUE").expect("TP_QUEUE");
    let rss_before = rss_bytes();
    let mut env = vec![("OTEL_SERVICE_NAME".to_owned(), "throughput".to_owned())];
    if queue != "default" {
        env.push(("OTEL_BSP_MAX_QUEUE_SIZE".to_owned(), queue));
    }
    let telemetry = llmetry::init()
        .api_endpoint(endpoint)
        .protocol(protocol)
        .metrics_enabled(false)
        .env_source(llmetry::EnvSource::from_pairs(env))
        .install()
        .expect("install");
    let began = Instant::now();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                for i in 0..PAIRS / THREADS {
                    tp_wf(t * PAIRS + i);
                }
            });
        }
    });
    let made = began.elapsed();
    if std::env::var("TP_MEMORY").is_ok() {
        // Everything the job made is queued, in flight or dropped by now.
        let r = telemetry.report();
        let held = r.traces.pending;
        let grown = rss_bytes().saturating_sub(rss_before);
        println!(
            "MEMORY held={held} dropped={} rss_growth={grown} bytes_per_span={}",
            r.traces.dropped,
            grown / held.max(1)
        );
        std::process::exit(0);
    }
    let report = match telemetry.shutdown() {
        Ok(r) => r,
        Err(e) => e.report().cloned().expect("a report"),
    };
    let total = began.elapsed();
    let t = &report.traces;
    println!(
        "RESULT made={made:?} delivered_in={total:?} sent={} dropped={} failed={} pending={} rate={:.0}/s",
        t.sent,
        t.dropped,
        t.failed,
        t.pending,
        t.sent as f64 / total.as_secs_f64()
    );
}

/// The process's resident memory, in bytes (Linux).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

#[test]
#[ignore = "a measurement: run by hand with --release (see the file's doc)"]
fn memory_bound_with_a_silent_collector() {
    use llmetry_testkit::otlp::{RawAnswer, RawServer};
    let silent = RawServer::start(RawAnswer::Silent);
    for queue in ["default", "8192"] {
        let exe = std::env::current_exe().expect("current_exe");
        let endpoint = silent.http_endpoint();
        let mut cmd = command(
            exe,
            &["TRACELOOP_", "OTEL_", "LLMETRY_"],
            &[],
            &[
                (CHILD, endpoint.as_str()),
                ("TP_PROTOCOL", "http/protobuf"),
                ("TP_QUEUE", queue),
                ("TP_MEMORY", "1"),
            ],
        );
        cmd.args(["--exact", "child_throughput", "--nocapture", "--test-threads=1"]);
        let out = run(&format!("memory, queue={queue}"), cmd);
        let line = out
            .stdout
            .lines()
            .find_map(|l| l.find("MEMORY").map(|i| &l[i..]))
            .unwrap_or_default()
            .to_owned();
        eprintln!("MEMORY queue={queue}: {line}");
    }
}

fn measure(protocol: &str) {
    let Ok(_) = Rotel::binary() else {
        panic!("run .ci/install-rotel (or set LLMETRY_ROTEL_BIN)");
    };
    let rx = OtlpReceiver::start();
    let rotel = Rotel::start_forwarding_to(&rx.grpc_endpoint()).expect("rotel starts");
    let endpoint = if protocol == "grpc" {
        rotel.grpc_endpoint().replace("http://", "grpc://")
    } else {
        rotel.http_endpoint()
    };
    for queue in ["262144", "default"] {
        let exe = std::env::current_exe().expect("current_exe");
        let mut cmd = command(
            exe,
            &["TRACELOOP_", "OTEL_", "LLMETRY_"],
            &[],
            &[
                (CHILD, endpoint.as_str()),
                ("TP_PROTOCOL", protocol),
                ("TP_QUEUE", queue),
            ],
        );
        cmd.args(["--exact", "child_throughput", "--nocapture", "--test-threads=1"]);
        let out = run(&format!("throughput {protocol} queue={queue}"), cmd);
        assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
        let line = out
            .stdout
            .lines()
            .find_map(|l| l.find("RESULT").map(|i| &l[i..]))
            .unwrap_or_default()
            .to_owned();
        eprintln!("THROUGHPUT {protocol} queue={queue}: {line}");
    }
    // What rotel forwarded of the first run (a check on the count, bounded by the guard).
    let first = (2 * PAIRS) as usize;
    let got = rx.wait_for(|_| rx.spans().len() >= first, HANG_GUARD);
    drop(got);
    eprintln!(
        "THROUGHPUT {protocol}: rotel forwarded {} spans in all",
        rx.spans().len()
    );
}

#[test]
#[ignore = "a measurement: run by hand with --release (see the file's doc)"]
fn throughput_to_rotel_over_http_protobuf() {
    measure("http/protobuf");
}

#[test]
#[ignore = "a measurement: run by hand with --release (see the file's doc)"]
fn throughput_to_rotel_over_http_json() {
    measure("http/json");
}

#[test]
#[ignore = "a measurement: run by hand with --release (see the file's doc)"]
fn throughput_to_rotel_over_grpc() {
    measure("grpc");
}

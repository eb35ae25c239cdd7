//! Issue 9, items 2, 3, 5 and 6: every loss is counted, named and returned; `shutdown()`
//! tells the truth (and the README's `telemetry.shutdown()?` does not fail a job over a
//! backend that takes traces only); the builder's headers and compression are exactly what
//! gRPC sends, whatever the process environment holds.
//!
//! Each scenario installs telemetry, so each runs in a child process (this test binary
//! re-executed with `LLMETRY_REPORT_CHILD=<scenario>`); the parent reads its exit code, its
//! stdout (`REPORT …` lines) and its stderr (the warnings).

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use std::error::Error;
use std::time::Duration;

use llmetry::{DeliveryReport, EnvSource, LossCause, task, workflow};
use llmetry_testkit::otlp::{GRPC_LOGS_PATH, GRPC_METRICS_PATH, GRPC_TRACES_PATH, OtlpReceiver};
use llmetry_testkit::process::{Exited, command, run};

const CHILD: &str = "LLMETRY_REPORT_CHILD";
const ENDPOINT: &str = "REPORT_ENDPOINT";

#[task(name = "report_task")]
fn report_task(i: u32) -> u32 {
    tracing::info!(i, "a log record");
    opentelemetry::global::meter("report")
        .u64_counter("report.calls")
        .build()
        .add(1, &[]);
    i
}

#[workflow(name = "report_wf")]
fn report_wf(n: u32) -> u32 {
    (0..n).map(report_task).sum()
}

fn endpoint() -> String {
    std::env::var(ENDPOINT).expect(ENDPOINT)
}

/// The job of the README's quickstart: `install()?`, work, `shutdown()?`.
fn quickstart_job(builder: llmetry::TelemetryBuilder) -> Result<(), Box<dyn Error>> {
    let telemetry = builder.install()?;
    report_wf(3);
    telemetry.shutdown()?;
    Ok(())
}

/// Prints a report the parent can read.
fn print_report(label: &str, r: &DeliveryReport) {
    for (name, s) in r.signals() {
        println!(
            "REPORT {label} {name} sent={} dropped={} failed={} pending={} discarded={} off={}",
            s.sent,
            s.dropped,
            s.failed,
            s.pending,
            s.discarded,
            s.switched_off.is_some()
        );
    }
    println!("LINE {label} {r}");
}

/// The scenarios a child runs, by name.
#[test]
fn child_scenario() {
    let Ok(scenario) = std::env::var(CHILD) else {
        return; // only meaningful when re-executed by the tests below
    };
    let no_env = || EnvSource::from_pairs(Vec::<(String, String)>::new());
    match scenario.as_str() {
        // `main() -> Result<(), Box<dyn Error>>` with `shutdown()?`: the exit code follows.
        "quickstart" => {
            let builder = llmetry::init()
                .app_name("quickstart")
                .api_endpoint(endpoint())
                .disable_batch(true)
                .logging_enabled(true)
                .env_source(no_env());
            if let Err(e) = quickstart_job(builder) {
                // What `main` returning the error prints.
                eprintln!("Error: {e:?}");
                std::process::exit(1);
            }
        }
        // A job that keeps its exit code independent of telemetry, reading the report.
        "independent" => {
            let telemetry = llmetry::init()
                .app_name("independent")
                .api_endpoint(endpoint())
                .disable_batch(true)
                .env_source(no_env())
                .install()
                .expect("install");
            report_wf(3);
            let report = match telemetry.shutdown() {
                Ok(report) => report,
                Err(e) => {
                    eprintln!("telemetry: {e}");
                    e.report().cloned().expect("a report")
                }
            };
            print_report("shutdown", &report);
        }
        // A queue of 10 spans and a collector that takes 2 s per request: spans are dropped.
        "tiny_queue" => {
            let telemetry = llmetry::init()
                .app_name("tiny_queue")
                .api_endpoint(endpoint())
                .disable_batch(true)
                .metrics_enabled(false)
                .env_source(EnvSource::from_pairs([
                    ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
                    ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "1"),
                ]))
                .install()
                .expect("install");
            report_wf(100);
            let err = telemetry.shutdown().expect_err("spans were dropped");
            let report = err.report().expect("a report");
            print_report("shutdown", report);
            match report.traces.causes().first() {
                Some(LossCause::QueueFull { capacity: 10, knob }) => println!("KNOB {knob}"),
                other => panic!("expected a full queue, got {other:?}"),
            }
        }
        // A collector that never answers and a 1 s shutdown deadline: what is in flight at
        // the deadline is counted as lost, with the knob.
        "deadline" => {
            let telemetry = llmetry::init()
                .app_name("deadline")
                .api_endpoint(endpoint())
                .metrics_enabled(false)
                .shutdown_timeout(Duration::from_secs(1))
                .env_source(no_env())
                .install()
                .expect("install");
            report_wf(3);
            let err = telemetry
                .shutdown()
                .expect_err("the deadline cut the export");
            let report = err.report().expect("a report");
            print_report("shutdown", report);
            println!("ERROR {err}");
        }
        // flush() and report(): counts as they grow; a flush errs on new losses only.
        "flush" => {
            let telemetry = llmetry::init()
                .app_name("flush")
                .api_endpoint(endpoint())
                .metrics_enabled(false)
                .env_source(no_env())
                .install()
                .expect("install");
            report_wf(2);
            let first = telemetry.flush().expect("the collector takes traces");
            print_report("flush1", &first);
            report_wf(1);
            print_report("report", &telemetry.report());
            let second = telemetry.flush().expect("still fine");
            print_report("flush2", &second);
            let last = telemetry.shutdown().expect("nothing lost");
            print_report("shutdown", &last);
            let again = telemetry
                .shutdown()
                .expect("a second shutdown does nothing");
            assert_eq!(again, last);
        }
        // The process environment holds headers and compression; the builder's win.
        "grpc_env" => {
            let telemetry = llmetry::init()
                .app_name("grpc_env")
                .api_endpoint(endpoint())
                .headers([("x-tenant", "from-builder")])
                .logging_enabled(true)
                .metrics_enabled(false)
                .install() // reads the process environment: the variables below are set
                .expect("install");
            report_wf(1);
            print_report("shutdown", &telemetry.shutdown().expect("delivered"));
        }
        other => panic!("no scenario {other}"),
    }
}

/// Runs `scenario` in a child with `envs` (every `TRACELOOP_*`, `OTEL_*`, `LLMETRY_*`
/// variable of this process removed first).
fn child(scenario: &str, endpoint: &str, envs: &[(&str, &str)]) -> Exited {
    let exe = std::env::current_exe().expect("current_exe");
    let mut all = vec![(CHILD, scenario), (ENDPOINT, endpoint)];
    all.extend_from_slice(envs);
    let mut cmd = command(exe, &["TRACELOOP_", "OTEL_", "LLMETRY_"], &[], &all);
    cmd.args([
        "--exact",
        "child_scenario",
        "--nocapture",
        "--test-threads=1",
    ]);
    run(scenario, cmd)
}

/// The `REPORT <label> <signal> …` line of a child, from `sent=` on.
fn report_line<'a>(out: &'a Exited, label: &str, signal: &str) -> &'a str {
    let prefix = format!("REPORT {label} {signal} ");
    out.stdout
        .lines()
        .find_map(|l| l.find(&prefix).map(|i| &l[i + prefix.len()..]))
        .unwrap_or_else(|| panic!("no {prefix:?} in:\n{}\n{}", out.stdout, out.stderr))
}

fn warnings<'a>(out: &'a Exited, signal: &str) -> Vec<&'a str> {
    let needle = format!("llmetry: warning: {signal} ");
    out.stderr
        .lines()
        .filter(|l| l.starts_with(&needle))
        .collect()
}

#[test]
fn a_traces_only_backend_does_not_fail_the_quickstart() {
    // Arize Phoenix and MLflow answer 405 on /v1/metrics and /v1/logs.
    let rx = OtlpReceiver::builder()
        .respond_http("/v1/metrics", 405, vec![])
        .respond_http("/v1/logs", 405, vec![])
        .start();
    let out = child("quickstart", &rx.http_endpoint(), &[]);
    assert!(
        out.status.success(),
        "exit code {}:\n{}",
        out.status,
        out.stderr
    );
    for signal in ["metrics", "logs"] {
        let w = warnings(&out, signal);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("does not take") && w[0].contains("HTTP 405"),
            "{}",
            w[0]
        );
    }
    assert!(warnings(&out, "traces").is_empty(), "{}", out.stderr);
    assert!(!out.stderr.contains("lost"), "{}", out.stderr);
    assert_eq!(rx.spans().len(), 4, "3 tasks and their workflow");
}

#[test]
fn rejected_traces_fail_the_quickstart_with_the_backends_words() {
    let body = br#"{"detail":[{"type":"missing","loc":["header","x-mlflow-experiment-id"]}]}"#;
    let rx = OtlpReceiver::builder()
        .respond_http_with_body("/v1/traces", 422, "application/json", body)
        .start();
    let out = child("quickstart", &rx.http_endpoint(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or_else(|| panic!("no error line:\n{}", out.stderr));
    // `Debug` of the error is readable: it names the signal, the counts and the body.
    assert!(
        error.starts_with("Error: Export { operation: \"shutdown\""),
        "{error}"
    );
    for needle in [
        "traces to ",
        "4 failed",
        "HTTP 422 Unprocessable Entity",
        "x-mlflow-experiment-id",
    ] {
        assert!(error.contains(needle), "{needle:?} in {error}");
    }
    assert!(
        !error.contains("metrics to") && !error.contains("logs to"),
        "{error}"
    );
    assert_eq!(warnings(&out, "traces").len(), 1, "{}", out.stderr);
}

#[test]
fn a_job_can_keep_its_exit_code_and_read_the_report() {
    let rx = OtlpReceiver::builder()
        .respond_http_with_body("/v1/traces", 401, "text/plain", b"invalid token")
        .start();
    let out = child("independent", &rx.http_endpoint(), &[]);
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(
        report_line(&out, "shutdown", "traces"),
        "sent=0 dropped=0 failed=4 pending=0 discarded=0 off=false"
    );
    assert!(
        out.stderr
            .contains("telemetry: telemetry shutdown lost data: traces to "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("HTTP 401 Unauthorized: invalid token"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_full_queue_drops_counts_and_names_the_knob() {
    let rx = OtlpReceiver::builder().slow(Duration::from_secs(2)).start();
    let out = child("tiny_queue", &rx.http_endpoint(), &[]);
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("KNOB OTEL_BSP_MAX_QUEUE_SIZE"),
        "{}",
        out.stdout
    );
    let line = report_line(&out, "shutdown", "traces");
    let count = |key: &str| -> u64 {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} in {line}"))
    };
    // 101 spans: each sent or dropped, nothing failed or cut off.
    assert!(count("dropped") > 0, "{line}");
    assert_eq!(count("sent") + count("dropped"), 101, "{line}");
    assert_eq!((count("failed"), count("pending")), (0, 0), "{line}");
    // The span that arrived are exactly those sent.
    assert_eq!(rx.spans().len() as u64, count("sent"));
    let w = warnings(&out, "traces");
    assert_eq!(w.len(), 1, "one warning for the first loss: {w:?}");
    assert!(
        w[0].contains("queue full") && w[0].contains("OTEL_BSP_MAX_QUEUE_SIZE"),
        "{}",
        w[0]
    );
    let summary = out
        .stderr
        .lines()
        .find(|l| l.starts_with("llmetry: telemetry lost at shutdown: "))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        summary.contains("dropped (the queue was full at 10 items"),
        "{summary}"
    );
}

#[test]
fn what_the_shutdown_deadline_cuts_off_is_counted_with_the_knob() {
    let rx = OtlpReceiver::builder().hang().start();
    let out = child("deadline", &rx.http_endpoint(), &[]);
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        report_line(&out, "shutdown", "traces"),
        "sent=0 dropped=0 failed=0 pending=4 discarded=0 off=false"
    );
    let error = out
        .stdout
        .lines()
        .find(|l| l.starts_with("ERROR "))
        .unwrap_or_default();
    assert!(
        error.contains(
            "4 lost (still pending at the shutdown deadline of 1s; raise LLMETRY_SHUTDOWN_TIMEOUT"
        ),
        "{error}"
    );
    eprintln!("deadline scenario exited in {:?}", out.elapsed);
}

#[test]
fn flush_and_report_count_as_delivery_goes() {
    let rx = OtlpReceiver::start();
    let out = child("flush", &rx.http_endpoint(), &[]);
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        report_line(&out, "flush1", "traces"),
        "sent=3 dropped=0 failed=0 pending=0 discarded=0 off=false"
    );
    // Between the flushes the two new spans are queued (batched, 5 s schedule delay).
    assert_eq!(
        report_line(&out, "report", "traces"),
        "sent=3 dropped=0 failed=0 pending=2 discarded=0 off=false"
    );
    assert_eq!(
        report_line(&out, "flush2", "traces"),
        "sent=5 dropped=0 failed=0 pending=0 discarded=0 off=false"
    );
    assert_eq!(
        report_line(&out, "shutdown", "metrics"),
        "sent=0 dropped=0 failed=0 pending=0 discarded=0 off=false",
        "metrics are off: an empty report"
    );
    assert!(
        out.stdout
            .contains("LINE shutdown traces: 5 spans sent | metrics: off | logs: off"),
        "{}",
        out.stdout
    );
    assert_eq!(rx.spans().len(), 5);
}

#[test]
fn grpc_sends_exactly_the_builders_headers_and_compression() {
    let rx = OtlpReceiver::start();
    let url = rx.grpc_endpoint().replace("http://", "grpc://");
    // What opentelemetry-otlp merged into tonic metadata (or fell back to) before.
    let env = [
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-tenant=from-env,x-env-only=leaked",
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-traces-env=leaked"),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-logs-env=leaked"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
    ];
    // The builder leaves compression to the environment: gzip, from the variable above,
    // read through llmetry's resolution; the headers are the builder's.
    let out = child("grpc_env", &url, &env);
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("llmetry: note: headers(..) in code overrides OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
        "{}",
        out.stderr
    );
    let received = rx.received();
    for path in [GRPC_TRACES_PATH, GRPC_LOGS_PATH] {
        let r = received
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("nothing on {path}"));
        let user: Vec<(&str, &str)> = r
            .headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            user,
            [("x-tenant", "from-builder")],
            "{path}: {:?}",
            r.headers
        );
        assert_eq!(
            r.header("grpc-encoding"),
            Some("gzip"),
            "{path}: {:?}",
            r.headers
        );
    }
    assert!(!received.iter().any(|r| r.path == GRPC_METRICS_PATH));

    // No compression resolved for traces and logs (only metrics' variable says gzip): none
    // is sent, and no header of the environment either.
    let rx = OtlpReceiver::start();
    let url = rx.grpc_endpoint().replace("http://", "grpc://");
    let out = child(
        "grpc_env",
        &url,
        &[
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-env-only=leaked"),
        ],
    );
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    for r in rx.received() {
        assert_eq!(
            r.header("grpc-encoding"),
            None,
            "{}: {:?}",
            r.path,
            r.headers
        );
        assert_eq!(r.header("x-env-only"), None, "{}: {:?}", r.path, r.headers);
        assert_eq!(r.header("x-tenant"), Some("from-builder"), "{}", r.path);
    }
}

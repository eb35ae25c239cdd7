//! End to end: `lgtm_multitenant`, `axum_service` and `batch_job` run as child processes
//! (their embedded OpenAI stub answering, `OPENAI_*` removed) and export to in-process
//! OTLP receivers.
//!
//! Every `TRACELOOP_*` / `OTEL_*` / `OPENAI_*` variable of the test process is removed from
//! the child's environment; each test sets only what it needs. Every wait is bounded, and a
//! child still running when a test fails is killed (see [`Running`]).

use std::process::Command;
use std::time::Duration;

use llmetry_testkit::HANG_GUARD;
use llmetry_testkit::otlp::{
    LogView, OtlpReceiver, Received, SpanView, attribute, exactly_one, is_under,
};
use llmetry_testkit::process::{Exited, Running, command as clean_command, run};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as NumberValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

/// The first line of the stub's haiku.
const HAIKU: &str = "Spans drift like leaves,";

/// Exit 0, no panic, no export warning.
fn assert_clean(out: &Exited) {
    let l = &out.label;
    assert!(
        out.status.success(),
        "{l}: exited with {}; stdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert!(
        !out.stderr.contains("panicked"),
        "{l}: panicked; stderr:\n{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("llmetry: warning"),
        "{l}: warnings; stderr:\n{}",
        out.stderr
    );
}

/// `bin` with the test process's telemetry and OpenAI settings removed, then `envs`.
fn command(bin: &str, envs: &[(&str, &str)]) -> Command {
    clean_command(
        bin,
        &["TRACELOOP_", "OTEL_", "OPENAI_"],
        &[
            "TEMPO_ENDPOINT",
            "LOKI_ENDPOINT",
            "MIMIR_ENDPOINT",
            "TENANT",
            "PORT",
            "ITEMS",
            "FAIL_ITEM",
            "DEPLOYMENT_ENVIRONMENT",
        ],
        envs,
    )
}

/// Runs `bin` to completion (bounded by the hang guard).
fn run_to_exit(label: &str, bin: &str, envs: &[(&str, &str)]) -> Exited {
    run(label, command(bin, envs))
}

// ---------------------------------------------------------------------------------------
// What the receivers got, as plain data.

/// The integer points of the last export of the sum `name` of `service`, as
/// `(attribute value of key, value)`.
fn sum_points(rx: &OtlpReceiver, service: &str, name: &str, key: &str) -> Vec<(String, i64)> {
    let last = rx.metrics_of(service).into_iter().rfind(|m| m.name == name);
    let Some(last) = last else {
        return Vec::new();
    };
    let metric = last.metric;
    let Some(Data::Sum(sum)) = metric.data else {
        panic!("{name} is not a sum: {metric:#?}");
    };
    assert!(sum.is_monotonic, "{name} is a counter: {sum:#?}");
    sum.data_points
        .iter()
        .map(|p| {
            let v = match p.value {
                Some(NumberValue::AsInt(i)) => i,
                other => panic!("{name}: not an integer point: {other:?}"),
            };
            (attribute(&p.attributes, key).unwrap_or_default(), v)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// lgtm_multitenant

#[test]
fn lgtm_multitenant_sends_each_signal_to_its_backend_with_its_tenant_header() {
    let tempo = OtlpReceiver::start();
    let loki = OtlpReceiver::start();
    let mimir = OtlpReceiver::start();
    // The general endpoint of the environment: the builder's endpoints beat it.
    let decoy = OtlpReceiver::start();
    let (tempo_url, loki_url, mimir_url, decoy_url) = (
        tempo.http_endpoint(),
        loki.http_endpoint(),
        mimir.http_endpoint(),
        decoy.http_endpoint(),
    );
    let out = run_to_exit(
        "lgtm_multitenant",
        env!("CARGO_BIN_EXE_lgtm_multitenant"),
        &[
            ("TEMPO_ENDPOINT", &tempo_url),
            ("LOKI_ENDPOINT", &loki_url),
            ("MIMIR_ENDPOINT", &mimir_url),
            ("TENANT", "team-a"),
            ("TRACELOOP_BASE_URL", &decoy_url),
        ],
    );
    assert_clean(&out);
    assert!(out.stdout.contains(HAIKU), "{}", out.stdout);
    // The init line says where each signal goes.
    let init = out
        .stderr
        .lines()
        .find(|l| l.starts_with("llmetry: lgtm_multitenant"))
        .unwrap_or_default();
    for needle in [
        format!("traces -> {tempo_url}/v1/traces"),
        format!("metrics -> {mimir_url}/v1/metrics"),
        format!("logs -> {loki_url}/v1/logs"),
    ] {
        assert!(init.contains(&needle), "{needle:?} in {init:?}");
    }

    // Each backend got its signal only, with its tenant header only.
    let check =
        |backend: &str, rx: &OtlpReceiver, path: &str, tenant_header: &str, other_header: &str| {
            let received: Vec<Received> = rx.received();
            assert!(!received.is_empty(), "{backend} received nothing");
            for r in &received {
                assert_eq!(r.path, path, "{backend} got another signal");
                assert_eq!(
                    r.header(tenant_header),
                    Some("team-a"),
                    "{backend}: {tenant_header} in {:?}",
                    r.headers
                );
                assert_eq!(
                    r.header(other_header),
                    None,
                    "{backend}: no {other_header} in {:?}",
                    r.headers
                );
            }
        };
    check(
        "Tempo",
        &tempo,
        "/v1/traces",
        "x-scope-orgid",
        "thanos-tenant",
    );
    check("Loki", &loki, "/v1/logs", "x-scope-orgid", "thanos-tenant");
    check(
        "Mimir",
        &mimir,
        "/v1/metrics",
        "thanos-tenant",
        "x-scope-orgid",
    );
    assert!(
        decoy.received().is_empty(),
        "the environment's TRACELOOP_BASE_URL got {:?}",
        decoy.received()
    );

    // What they got: the job's trace, its logs (correlated with it), the GenAI metrics.
    let service = "lgtm_multitenant";
    let spans = tempo.spans_of(service);
    let workflow = exactly_one(&spans, "lgtm_job.workflow");
    let task = exactly_one(&spans, "openai_call.task");
    let chat = exactly_one(&spans, "openai.chat");
    assert_eq!(task.parent_span_id, workflow.span_id, "{spans:#?}");
    assert_eq!(chat.parent_span_id, task.span_id, "{spans:#?}");
    let logs = loki.logs_of(service);
    let received = logs
        .iter()
        .find(|l| l.body == "chat completion received")
        .unwrap_or_else(|| panic!("no 'chat completion received' in {logs:#?}"));
    assert_eq!(
        (&received.trace_id, &received.span_id),
        (&task.trace_id, &task.span_id),
        "the log is correlated with the task span"
    );
    assert!(
        logs.iter().any(|l| l.body == "lgtm_job finished"),
        "{logs:#?}"
    );
    let metric_names: Vec<String> = mimir.metric_names();
    assert!(
        metric_names
            .iter()
            .any(|n| n == "gen_ai.client.token.usage"),
        "{metric_names:?}"
    );
}

// ---------------------------------------------------------------------------------------
// axum_service

/// One `POST /ask` as the test sent it and what came back.
struct Asked {
    user: &'static str,
    session: Option<&'static str>,
    trace_id: String,
}

#[test]
fn axum_service_runs_one_workflow_per_request_under_the_server_span() {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let mut service = Running::spawn(
        "axum_service",
        command(
            env!("CARGO_BIN_EXE_axum_service"),
            &[("PORT", "0"), ("TRACELOOP_BASE_URL", &url)],
        ),
    );
    let line = service.line_starting_with("listening on http://127.0.0.1:", HANG_GUARD);
    let base = line.trim_start_matches("listening on ").trim().to_owned();

    let client = match reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
    {
        Ok(c) => c,
        Err(e) => panic!("reqwest client: {e}"),
    };
    let mut asked = Vec::new();
    for (user, session, question) in [
        ("u-alice", Some("s-1"), "what is a span?"),
        ("u-bob", None, "what is a trace?"),
    ] {
        let mut req = client
            .post(format!("{base}/ask"))
            .header("x-user-id", user)
            .header("content-type", "application/json")
            .body(serde_json::json!({ "question": question }).to_string());
        if let Some(s) = session {
            req = req.header("x-session-id", s);
        }
        let resp = match req.send() {
            Ok(r) => r,
            Err(e) => {
                let err = service.kill();
                panic!("POST /ask for {user}: {e}; stderr:\n{err}");
            }
        };
        let status = resp.status();
        let body: serde_json::Value = match resp.text().map(|t| serde_json::from_str(&t)) {
            Ok(Ok(v)) => v,
            other => {
                let err = service.kill();
                panic!("POST /ask for {user}: unreadable body {other:?}; stderr:\n{err}");
            }
        };
        assert_eq!(status.as_u16(), 200, "{body}");
        assert!(
            body["answer"].as_str().is_some_and(|a| a.contains(HAIKU)),
            "{body}"
        );
        let trace_id = body["trace_id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(trace_id.len(), 32, "{body}");
        asked.push(Asked {
            user,
            session,
            trace_id,
        });
    }
    match client.post(format!("{base}/shutdown")).send() {
        Ok(r) => assert_eq!(r.status().as_u16(), 202),
        Err(e) => {
            let err = service.kill();
            panic!("POST /shutdown: {e}; stderr:\n{err}");
        }
    }
    drop(client);
    let out = service.wait(HANG_GUARD);
    assert_clean(&out);
    assert!(
        out.stderr.contains("axum_service: POST /shutdown"),
        "{}",
        out.stderr
    );

    // No waiting: everything was delivered before the process exited.
    let spans = rx.spans_of("axum_service");
    let workflows: Vec<&SpanView> = spans.iter().filter(|s| s.name == "ask.workflow").collect();
    assert_eq!(workflows.len(), 2, "one workflow per request: {spans:#?}");
    assert_ne!(
        asked[0].trace_id, asked[1].trace_id,
        "one trace per request"
    );
    let logs = rx.logs_of("axum_service");
    for a in &asked {
        let in_trace: Vec<SpanView> = spans
            .iter()
            .filter(|s| s.trace_id == a.trace_id)
            .cloned()
            .collect();
        let workflow = exactly_one(&in_trace, "ask.workflow");
        let request = exactly_one(&in_trace, "http.request");
        assert_eq!(
            workflow.parent_span_id, request.span_id,
            "{}: the workflow's parent is the request span: {in_trace:#?}",
            a.user
        );
        assert!(
            request.parent_span_id.chars().all(|c| c == '0'),
            "{}: the request span is the root: {request:#?}",
            a.user
        );
        assert_eq!(request.kind, SpanKind::Server as i32, "{request:#?}");
        assert_eq!(request.attr("http.route"), Some("/ask"), "{request:#?}");
        assert_eq!(
            request.attr("http.request.method"),
            Some("POST"),
            "{request:#?}"
        );
        assert_eq!(
            request.attr("http.response.status_code"),
            Some("200"),
            "{request:#?}"
        );
        let chat = exactly_one(&in_trace, "openai.chat");
        assert!(
            is_under(&in_trace, chat, workflow),
            "{}: openai.chat under ask.workflow: {in_trace:#?}",
            a.user
        );
        for s in [workflow, chat] {
            assert_eq!(
                s.attr("traceloop.association.properties.user_id"),
                Some(a.user),
                "{}: {s:#?}",
                a.user
            );
            assert_eq!(
                s.attr("traceloop.association.properties.session_id"),
                a.session,
                "{}: {s:#?}",
                a.user
            );
            assert_eq!(s.attr("traceloop.workflow.name"), Some("ask"), "{s:#?}");
        }
        assert!(
            logs.iter()
                .any(|l| l.body == "answered" && l.trace_id == a.trace_id),
            "{}: the workflow's log line: {logs:#?}",
            a.user
        );
    }
    // The /shutdown request was traced too, outside any workflow.
    assert!(
        spans
            .iter()
            .any(|s| s.name == "http.request" && s.attr("http.route") == Some("/shutdown")),
        "{spans:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// batch_job

/// Runs `batch_job` with `envs` and checks everything it delivered before exiting:
/// `items` task spans under the workflow, `failed` (1-based) the only one with status
/// ERROR, a log line per item from its task span, the counter by outcome.
fn check_batch(label: &str, envs: &[(&str, &str)], items: usize, failed: Option<usize>) {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let mut all_envs = vec![("TRACELOOP_BASE_URL", url.as_str())];
    all_envs.extend_from_slice(envs);
    let out = run_to_exit(label, env!("CARGO_BIN_EXE_batch_job"), &all_envs);
    // Exit 0 even when an item failed.
    assert_clean(&out);
    let failures = usize::from(failed.is_some());
    let summary = format!(
        "batch_job: {items} items: {} ok, {failures} failed{}",
        items - failures,
        failed.map(|i| format!(" (item {i})")).unwrap_or_default()
    );
    assert_eq!(out.stdout.trim(), summary, "{label}");

    // No waiting: the job returned only after everything was delivered.
    let spans = rx.spans_of("batch_job");
    let workflow = exactly_one(&spans, "batch_job.workflow");
    let tasks: Vec<&SpanView> = spans
        .iter()
        .filter(|s| s.name == "process_item.task")
        .collect();
    assert_eq!(tasks.len(), items, "{label}: {spans:#?}");
    for t in &tasks {
        assert_eq!(t.parent_span_id, workflow.span_id, "{label}: {t:#?}");
        assert_eq!(t.trace_id, workflow.trace_id, "{label}: {t:#?}");
    }
    let errors: Vec<&&SpanView> = tasks
        .iter()
        .filter(|t| t.status == StatusCode::Error as i32)
        .collect();
    assert_eq!(errors.len(), failures, "{label}: {tasks:#?}");
    if let Some(i) = failed {
        let input = errors[0].attr("traceloop.entity.input").unwrap_or_default();
        assert!(
            input.contains(&format!("\"index\": {i}")),
            "{label}: {input}"
        );
        assert_eq!(
            errors[0]
                .attr("error.type")
                .map(|t| t.ends_with("ItemError")),
            Some(true),
            "{label}: {:#?}",
            errors[0]
        );
    }
    assert_ne!(
        workflow.status,
        StatusCode::Error as i32,
        "{label}: the batch itself succeeded"
    );

    let logs = rx.logs_of("batch_job");
    let item_logs: Vec<&LogView> = logs
        .iter()
        .filter(|l| l.body == "item processed" || l.body.starts_with("item failed"))
        .collect();
    assert_eq!(item_logs.len(), items, "{label}: a log per item: {logs:#?}");
    for l in &item_logs {
        let task = tasks.iter().find(|t| t.span_id == l.span_id);
        assert!(task.is_some(), "{label}: log from a task span: {l:#?}");
        let is_error = task.is_some_and(|t| t.status == StatusCode::Error as i32);
        assert_eq!(
            l.body.starts_with("item failed"),
            is_error,
            "{label}: {l:#?}"
        );
    }
    assert!(
        logs.iter().any(|l| l.body == "batch finished"),
        "{label}: {logs:#?}"
    );

    let mut points = sum_points(&rx, "batch_job", "batch_job.items", "outcome");
    points.sort();
    let mut expected = vec![("ok".to_owned(), (items - failures) as i64)];
    if failures > 0 {
        expected.insert(0, ("error".to_owned(), failures as i64));
    }
    assert_eq!(points, expected, "{label}: batch_job.items by outcome");
}

#[test]
fn batch_job_delivers_every_item_and_the_failure_before_exiting_0() {
    check_batch("batch_job defaults", &[], 5, Some(3));
    check_batch(
        "batch_job ITEMS=7 FAIL_ITEM=7",
        &[("ITEMS", "7"), ("FAIL_ITEM", "7")],
        7,
        Some(7),
    );
    check_batch(
        "batch_job ITEMS=2 FAIL_ITEM=none",
        &[("ITEMS", "2"), ("FAIL_ITEM", "none")],
        2,
        None,
    );
}

//! End to end against real LLM-observability backends: Arize Phoenix and MLflow, installed
//! from PyPI by `.ci/install-backends` (pinned versions) and started fresh for every test on
//! free `127.0.0.1` ports (`llmetry_testkit::backends`; a server is stopped, with its whole
//! process group, when the test ends or fails). The examples `llm_job` (the main job) and
//! `agent_tools` export to them as child processes over every protocol the backend takes,
//! configured through the environment only, as docs/backends.md tells users to; the trace
//! is then read back through the backend's own API: the tree, the LLM span's kind, token
//! counts and model, the messages, the error status. The failure modes too: the protocol a
//! backend does not take, the header it requires, the signals it does not take.
//!
//! `LLMETRY_BACKEND_TESTS=0` skips these tests (and `.ci/install-backends`).

#![allow(clippy::expect_used)] // test helpers: a failed setup is the test's failure

use std::time::Duration;

use llmetry_testkit::backends::mlflow::{EXPERIMENT_HEADER, Mlflow, MlflowTrace};
use llmetry_testkit::backends::phoenix::{PROJECT_ATTRIBUTE, Phoenix};
use llmetry_testkit::backends::{BackendSpan, named, parent_of, poll, skipped};
use llmetry_testkit::llm_stub::SERVER_ERROR;
use llmetry_testkit::process::{Exited, Running, command};

/// A run of an example may wait for a slow backend (MLflow's first LLM span takes seconds)
/// and then for its shutdown deadline: a hang guard.
const RUN_GUARD: Duration = Duration::from_secs(120);
/// The first line of the embedded stub's haiku (`llm_job` prints it on success).
const HAIKU: &str = "Spans drift like leaves,";

/// Runs the example `exe` with only `envs` of the telemetry and model settings.
fn run_example(label: &str, exe: &str, envs: &[(&str, &str)]) -> Exited {
    let cmd = command(
        exe,
        &["TRACELOOP_", "OTEL_", "LLMETRY_"],
        &[
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "OPENAI_MODEL",
            "OPENAI_PROMPT",
            "DEPLOYMENT_ENVIRONMENT",
        ],
        envs,
    );
    // The runner prints the label, exit status, duration and stderr of every run.
    Running::spawn(label, cmd).wait(RUN_GUARD)
}

const LLM_JOB: &str = env!("CARGO_BIN_EXE_llm_job");
const AGENT: &str = env!("CARGO_BIN_EXE_agent_tools");

/// The `llmetry: warning: <signal> export` lines of a run.
fn warnings<'a>(out: &'a Exited, signal: &str) -> Vec<&'a str> {
    let needle = format!("llmetry: warning: {signal} export");
    out.stderr.lines().filter(|l| l.contains(&needle)).collect()
}

/// Exit 0, no panic, no export warning for traces, no shutdown loss.
fn assert_clean(out: &Exited) {
    let l = &out.label;
    assert!(
        out.status.success(),
        "{l}: exited with {}; stderr:\n{}",
        out.status,
        out.stderr
    );
    assert!(
        !out.stderr.contains("panicked"),
        "{l}: panicked:\n{}",
        out.stderr
    );
    assert!(
        warnings(out, "traces").is_empty(),
        "{l}: a traces warning:\n{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("lost data"),
        "{l}: shutdown lost data:\n{}",
        out.stderr
    );
}

fn dump(label: &str, spans: &[BackendSpan]) {
    for s in spans {
        eprintln!(
            "[{label}] {} kind={} status={} parent={:?} id={} attrs={}",
            s.name,
            s.kind,
            s.status,
            s.parent_id,
            s.span_id,
            serde_json::Value::Object(s.attributes.clone())
        );
    }
}

/// The one span named `name`.
fn one<'a>(label: &str, spans: &'a [BackendSpan], name: &str) -> &'a BackendSpan {
    let found = named(spans, name);
    assert_eq!(
        found.len(),
        1,
        "{label}: {} spans named {name}: {spans:#?}",
        found.len()
    );
    found[0]
}

/// `child`'s parent is the span named `parent` (same trace).
fn assert_parent(label: &str, spans: &[BackendSpan], child: &BackendSpan, parent: &str) {
    let p = parent_of(spans, child);
    assert_eq!(
        p.map(|p| p.name.as_str()),
        Some(parent),
        "{label}: the parent of {} should be {parent}: {spans:#?}",
        child.name
    );
}

/// The main job's tree: `llm_job.workflow` (root) → `openai_call.task` → `openai.chat`, one
/// trace; returns the LLM span.
fn assert_job_tree<'a>(label: &str, spans: &'a [BackendSpan]) -> &'a BackendSpan {
    let workflow = one(label, spans, "llm_job.workflow");
    let task = one(label, spans, "openai_call.task");
    let chat = one(label, spans, "openai.chat");
    assert_eq!(
        workflow.parent_id, None,
        "{label}: the workflow is the root: {spans:#?}"
    );
    assert_parent(label, spans, task, "llm_job.workflow");
    assert_parent(label, spans, chat, "openai_call.task");
    assert!(
        spans.iter().all(|s| s.trace_id == workflow.trace_id),
        "{label}: one trace: {spans:#?}"
    );
    chat
}

/// The agent's tree: `agent_tools.workflow` → `incident_agent.agent` → two `openai.chat`,
/// `grep_logs.tool` and `disk_usage.tool`; returns the LLM spans.
fn assert_agent_tree<'a>(label: &str, spans: &'a [BackendSpan]) -> Vec<&'a BackendSpan> {
    let workflow = one(label, spans, "agent_tools.workflow");
    assert_eq!(
        workflow.parent_id, None,
        "{label}: the workflow is the root: {spans:#?}"
    );
    let agent = one(label, spans, "incident_agent.agent");
    assert_parent(label, spans, agent, "agent_tools.workflow");
    for tool in ["grep_logs.tool", "disk_usage.tool"] {
        assert_parent(
            label,
            spans,
            one(label, spans, tool),
            "incident_agent.agent",
        );
    }
    let chats = named(spans, "openai.chat");
    assert_eq!(chats.len(), 2, "{label}: two model calls: {spans:#?}");
    for c in &chats {
        assert_parent(label, spans, c, "incident_agent.agent");
    }
    chats
}

// ---------------------------------------------------------------------------------------
// Phoenix

/// Phoenix's spans of `project` once at least `count` have arrived (or the query guard
/// passed: the assertions then say what is missing).
fn phoenix_spans(phoenix: &Phoenix, project: &str, count: usize) -> Vec<BackendSpan> {
    let spans = poll(|| phoenix.spans(project), |s: &Vec<_>| s.len() >= count);
    dump(project, &spans);
    spans
}

/// The environment of an example sending to Phoenix: traces only (the recipe), over
/// `protocol`, into `project`.
fn phoenix_env<'a>(
    endpoint: &'a str,
    protocol: &'a str,
    project: &'a str,
) -> Vec<(&'a str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            format!("{PROJECT_ATTRIBUTE}={project}"),
        ),
        ("TRACELOOP_METRICS_ENABLED", "false".to_owned()),
        ("TRACELOOP_LOGGING_ENABLED", "false".to_owned()),
    ]
}

fn borrowed<'a>(envs: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    envs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Phoenix's view of the main job's LLM span: kind `LLM`, the model, the token counts and
/// the messages, read from the OpenInference attributes Phoenix derives.
fn assert_phoenix_llm_span(label: &str, chat: &BackendSpan) {
    assert_eq!(chat.kind, "LLM", "{label}: {chat:#?}");
    // A successful call's status is left unset (as the Python SDK leaves it).
    assert_eq!(chat.status, "UNSET", "{label}: {chat:#?}");
    // Phoenix takes the model from `gen_ai.request.model`.
    assert_eq!(
        chat.attr("llm.model_name").as_deref(),
        Some("gpt-4o-mini"),
        "{label}: {chat:#?}"
    );
    for (key, value) in [
        ("llm.input_messages.0.message.role", "system"),
        (
            "llm.input_messages.0.message.content",
            "You are a concise poet.",
        ),
        ("llm.input_messages.1.message.role", "user"),
        (
            "llm.input_messages.1.message.content",
            "Write a haiku about OpenTelemetry",
        ),
        ("llm.output_messages.0.message.role", "assistant"),
    ] {
        assert_eq!(
            chat.attr(key).as_deref(),
            Some(value),
            "{label}: {key}: {chat:#?}"
        );
    }
    assert!(
        chat.attr("llm.output_messages.0.message.content")
            .is_some_and(|c| c.starts_with(HAIKU)),
        "{label}: {chat:#?}"
    );
    // The stub's demo answers count each message's words plus 4: the system prompt "You
    // are a concise poet." and the prompt "Write a haiku about OpenTelemetry" are 9 each;
    // the haiku is 13 words.
    assert_eq!(
        chat.int("llm.token_count.prompt"),
        Some(18),
        "{label}: {chat:#?}"
    );
    assert_eq!(
        chat.int("llm.token_count.completion"),
        Some(13),
        "{label}: {chat:#?}"
    );
    assert_eq!(
        chat.int("llm.token_count.total"),
        Some(31),
        "{label}: {chat:#?}"
    );
}

/// The warnings of a run sending the main job's metrics and logs to a backend that takes
/// traces only: one per signal, saying it was switched off and why (`status`), nothing lost.
fn assert_switched_off(out: &Exited, status: &str) {
    let l = &out.label;
    for signal in ["metrics", "logs"] {
        let w = warnings(out, signal);
        assert_eq!(w.len(), 1, "{l}: one {signal} warning:\n{}", out.stderr);
        assert!(
            w[0].contains(&format!("the endpoint does not take {signal}"))
                && w[0].contains(status)
                && w[0].contains("switched off"),
            "{l}: {}",
            w[0]
        );
    }
}

/// A run whose model call fails (the stub answers 500 to the model [`SERVER_ERROR`]): the
/// job exits 1 and its three spans end in error.
fn failing_job(label: &str, envs: &[(&str, String)]) -> Exited {
    let mut envs = borrowed(envs);
    envs.push(("OPENAI_MODEL", SERVER_ERROR));
    let out = run_example(label, LLM_JOB, &envs);
    assert!(
        !out.status.success(),
        "{label}: the job should fail:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("500"), "{label}: {}", out.stderr);
    assert!(!out.stderr.contains("lost data"), "{label}: {}", out.stderr);
    assert!(
        warnings(&out, "traces").is_empty(),
        "{label}: {}",
        out.stderr
    );
    out
}

fn assert_job_failed(label: &str, spans: &[BackendSpan]) {
    assert_job_tree(label, spans);
    for s in spans {
        assert_eq!(
            s.status, "ERROR",
            "{label}: {} should be in error: {spans:#?}",
            s.name
        );
    }
}

const SERVICE: &str = env!("CARGO_BIN_EXE_axum_service");
/// The user and session of the request [`ask_service`] sends.
const USER: &str = "u-ada";
const SESSION: &str = "s-2026-11-30";

/// Runs `axum_service` with `envs` and the association mapping for backends
/// (`LLMETRY_ASSOCIATION_MAPPING=openinference`), asks it one question as user [`USER`] in
/// session [`SESSION`] (`x-user-id`, `x-session-id`: association properties of the
/// request's workflow), stops it (`POST /shutdown`) and returns how it ended.
fn ask_service(label: &str, envs: &[(&str, String)]) -> Exited {
    let mut envs = borrowed(envs);
    envs.push(("PORT", "0"));
    envs.push(("LLMETRY_ASSOCIATION_MAPPING", "openinference"));
    let cmd = command(
        SERVICE,
        &["TRACELOOP_", "OTEL_", "LLMETRY_"],
        &["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"],
        &envs,
    );
    let mut service = Running::spawn(label, cmd);
    let line = service.line_starting_with("listening on http://127.0.0.1:", RUN_GUARD);
    let base = line.trim_start_matches("listening on ").trim().to_owned();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let answer = client
        .post(format!("{base}/ask"))
        .header("x-user-id", USER)
        .header("x-session-id", SESSION)
        .header("content-type", "application/json")
        .body(r#"{"question": "what is a span?"}"#)
        .send()
        .map(|r| r.status());
    let stopped = client
        .post(format!("{base}/shutdown"))
        .send()
        .map(|r| r.status());
    if !matches!(answer, Ok(s) if s.is_success()) || !matches!(stopped, Ok(s) if s.is_success()) {
        let err = service.kill();
        panic!("{label}: /ask answered {answer:?}, /shutdown {stopped:?}; stderr:\n{err}");
    }
    let out = service.wait(RUN_GUARD);
    assert_clean(&out);
    out
}

/// The spans of the request's `ask` workflow carry the user and session under
/// OpenInference's keys, beside Traceloop's.
fn assert_mapped(label: &str, spans: &[BackendSpan]) {
    let workflow = one(label, spans, "ask.workflow");
    let chat = one(label, spans, "openai.chat");
    assert_parent(label, spans, chat, "ask.workflow");
    for s in [workflow, chat] {
        for (key, value) in [
            ("user.id", USER),
            ("session.id", SESSION),
            ("traceloop.association.properties.user_id", USER),
            ("traceloop.association.properties.session_id", SESSION),
        ] {
            assert_eq!(
                s.attr(key).as_deref(),
                Some(value),
                "{label}: {key} of {}: {s:#?}",
                s.name
            );
        }
    }
}

#[test]
fn phoenix_shows_the_main_job_and_the_agent_over_http_protobuf_and_grpc() {
    if skipped("phoenix_shows_the_main_job_and_the_agent_over_http_protobuf_and_grpc") {
        return;
    }
    let phoenix = Phoenix::start().expect("phoenix starts");
    eprintln!("phoenix healthy after {:?}", phoenix.started_in());
    let http = phoenix.http_endpoint().to_owned();
    let grpc = phoenix.grpc_endpoint().to_owned();

    for (protocol, endpoint, refusal) in [
        ("http/protobuf", &http, "HTTP 405"),
        ("grpc", &grpc, "gRPC status UNIMPLEMENTED"),
    ] {
        let suffix = protocol.replace('/', "-");
        // The main job as a user first runs it: metrics and logs left on (the job turns
        // logs on in code). Phoenix takes traces only: both are switched off with one
        // warning each, and the traces arrive whole.
        let project = format!("job-{suffix}");
        let envs = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                format!("{PROJECT_ATTRIBUTE}={project}"),
            ),
        ];
        let out = run_example(&project, LLM_JOB, &borrowed(&envs));
        assert_clean(&out);
        assert!(out.stdout.contains(HAIKU), "{project}: {}", out.stdout);
        assert_switched_off(&out, refusal);
        let spans = phoenix_spans(&phoenix, &project, 3);
        let chat = assert_job_tree(&project, &spans);
        assert_phoenix_llm_span(&project, chat);

        // The agent, configured as docs/backends.md says (traces only).
        let project = format!("agent-{suffix}");
        let envs = phoenix_env(endpoint, protocol, &project);
        let out = run_example(&project, AGENT, &borrowed(&envs));
        assert_clean(&out);
        assert!(
            out.stderr.lines().all(|l| !l.contains("llmetry: warning")),
            "{project}: {}",
            out.stderr
        );
        let spans = phoenix_spans(&phoenix, &project, 6);
        for chat in assert_agent_tree(&project, &spans) {
            assert_eq!(chat.kind, "LLM", "{project}: {chat:#?}");
            assert_eq!(
                chat.attr("llm.model_name").as_deref(),
                Some("gpt-4o-mini"),
                "{project}: {chat:#?}"
            );
            assert!(
                chat.int("llm.token_count.prompt").is_some_and(|n| n > 0),
                "{project}: {chat:#?}"
            );
        }
        // The second model call carries the tool results Phoenix shows as tool messages.
        let second = named(&spans, "openai.chat").into_iter().find(|c| {
            c.attributes
                .keys()
                .any(|k| k.ends_with("message.role") && c.attr(k).as_deref() == Some("tool"))
        });
        assert!(
            second.is_some(),
            "{project}: no model call with tool messages: {spans:#?}"
        );
    }
}

#[test]
fn phoenix_refuses_http_json_and_shows_a_failed_job_in_error() {
    if skipped("phoenix_refuses_http_json_and_shows_a_failed_job_in_error") {
        return;
    }
    let phoenix = Phoenix::start().expect("phoenix starts");
    eprintln!("phoenix healthy after {:?}", phoenix.started_in());
    let http = phoenix.http_endpoint().to_owned();

    // http/json: Phoenix answers 415. One warning quoting the answer, the job still
    // succeeds, and its shutdown says what was lost.
    let project = "json";
    let envs = phoenix_env(&http, "http/json", project);
    let out = run_example(project, LLM_JOB, &borrowed(&envs));
    assert!(out.status.success(), "{project}: {}", out.stderr);
    let w = warnings(&out, "traces");
    assert_eq!(w.len(), 1, "{project}: one traces warning:\n{}", out.stderr);
    assert!(
        w[0].contains("415") && w[0].contains("Unsupported content type: application/json"),
        "{project}: {}",
        w[0]
    );
    let lost = out
        .stderr
        .lines()
        .find(|l| l.starts_with("llm_job: telemetry shutdown lost data"));
    assert!(
        lost.is_some_and(|l| l.contains("3 failed") && l.contains("415")),
        "{project}: the shutdown should name the 3 spans lost to the 415:\n{}",
        out.stderr
    );

    // A failed model call: the trace is there, every span in error.
    let project = "failed";
    let envs = phoenix_env(&http, "http/protobuf", project);
    failing_job(project, &envs);
    let spans = phoenix_spans(&phoenix, project, 3);
    assert_job_failed(project, &spans);

    // Nothing of the refused run arrived, anywhere.
    assert!(phoenix.spans("json").expect("spans").is_empty());

    // Users and sessions: with the OpenInference mapping, Phoenix lists the session.
    let project = "service";
    ask_service(project, &phoenix_env(&http, "http/protobuf", project));
    let spans = phoenix_spans(&phoenix, project, 4);
    assert_mapped(project, &spans);
    let sessions = poll(|| phoenix.sessions(project), |s: &Vec<_>| !s.is_empty());
    assert_eq!(
        sessions,
        vec![(SESSION.to_owned(), 1)],
        "{project}: Phoenix's sessions"
    );
}

// ---------------------------------------------------------------------------------------
// MLflow

/// The environment of an example sending to MLflow, as docs/backends.md says: traces only,
/// to `/v1/traces`, with the experiment header.
fn mlflow_env(mlflow: &Mlflow, protocol: &str, experiment: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            mlflow.traces_endpoint(),
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", protocol.to_owned()),
        (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            format!("{EXPERIMENT_HEADER}={experiment}"),
        ),
    ]
}

/// MLflow's traces of `experiment` once `spans` spans have arrived in all.
fn mlflow_traces(mlflow: &Mlflow, experiment: &str, spans: usize) -> Vec<MlflowTrace> {
    let traces = poll(
        || mlflow.traces(experiment),
        |t: &Vec<MlflowTrace>| t.iter().map(|t| t.spans.len()).sum::<usize>() >= spans,
    );
    for t in &traces {
        eprintln!(
            "[mlflow {experiment}] trace {} state={} meta={:?}",
            t.id, t.state, t.metadata
        );
        dump(&format!("mlflow {experiment}"), &t.spans);
    }
    traces
}

fn one_trace<'a>(label: &str, traces: &'a [MlflowTrace]) -> &'a MlflowTrace {
    assert_eq!(traces.len(), 1, "{label}: one trace: {traces:#?}");
    &traces[0]
}

#[test]
fn mlflow_shows_the_main_job_and_the_agent_over_http_protobuf_and_http_json() {
    if skipped("mlflow_shows_the_main_job_and_the_agent_over_http_protobuf_and_http_json") {
        return;
    }
    let mlflow = Mlflow::start().expect("mlflow starts");
    eprintln!("mlflow healthy after {:?}", mlflow.started_in());
    for protocol in ["http/protobuf", "http/json"] {
        let suffix = protocol.replace('/', "-");
        // The first run of the job against a fresh server: MLflow answers its first LLM
        // span only after loading its cost tables (seconds); nothing may be lost to that.
        let label = format!("job-{suffix}");
        let experiment = mlflow.create_experiment(&label).expect("experiment");
        let out = run_example(
            &label,
            LLM_JOB,
            &borrowed(&mlflow_env(&mlflow, protocol, &experiment)),
        );
        assert_clean(&out);
        assert!(out.stdout.contains(HAIKU), "{label}: {}", out.stdout);
        let traces = mlflow_traces(&mlflow, &experiment, 3);
        let trace = one_trace(&label, &traces);
        assert_eq!(trace.state, "OK", "{label}: {trace:#?}");
        let chat = assert_job_tree(&label, &trace.spans);
        assert_eq!(chat.kind, "CHAT_MODEL", "{label}: {chat:#?}");
        for (name, kind) in [
            ("llm_job.workflow", "WORKFLOW"),
            ("openai_call.task", "TASK"),
        ] {
            assert_eq!(
                one(&label, &trace.spans, name).kind,
                kind,
                "{label}: {trace:#?}"
            );
        }
        assert_eq!(
            chat.attr("mlflow.llm.model").as_deref(),
            Some("gpt-4o-mini-2024-07-18"),
            "{label}: {chat:#?}"
        );
        let usage = &chat.attributes["mlflow.chat.tokenUsage"];
        assert_eq!(
            (
                usage["input_tokens"].as_i64(),
                usage["output_tokens"].as_i64(),
                usage["total_tokens"].as_i64()
            ),
            (Some(18), Some(13), Some(31)),
            "{label}: {chat:#?}"
        );
        let trace_usage: serde_json::Value =
            serde_json::from_str(trace.meta("mlflow.trace.tokenUsage").unwrap_or("null"))
                .expect("json");
        assert_eq!(
            trace_usage["total_tokens"].as_i64(),
            Some(31),
            "{label}: {trace:#?}"
        );
        let inputs = chat.attributes["mlflow.spanInputs"].to_string();
        let outputs = chat.attributes["mlflow.spanOutputs"].to_string();
        assert!(
            inputs.contains("You are a concise poet.")
                && inputs.contains("Write a haiku about OpenTelemetry"),
            "{label}: {inputs}"
        );
        assert!(outputs.contains(HAIKU), "{label}: {outputs}");

        let label = format!("agent-{suffix}");
        let experiment = mlflow.create_experiment(&label).expect("experiment");
        let out = run_example(
            &label,
            AGENT,
            &borrowed(&mlflow_env(&mlflow, protocol, &experiment)),
        );
        assert_clean(&out);
        let traces = mlflow_traces(&mlflow, &experiment, 6);
        let trace = one_trace(&label, &traces);
        assert_eq!(trace.state, "OK", "{label}: {trace:#?}");
        for chat in assert_agent_tree(&label, &trace.spans) {
            assert_eq!(chat.kind, "CHAT_MODEL", "{label}: {chat:#?}");
        }
        for (name, kind) in [
            ("agent_tools.workflow", "WORKFLOW"),
            ("incident_agent.agent", "AGENT"),
            ("grep_logs.tool", "TOOL"),
            ("disk_usage.tool", "TOOL"),
        ] {
            assert_eq!(
                one(&label, &trace.spans, name).kind,
                kind,
                "{label}: {trace:#?}"
            );
        }
    }
}

#[test]
fn mlflow_refuses_a_run_without_experiment_header_and_shows_a_failed_job_in_error() {
    if skipped("mlflow_refuses_a_run_without_experiment_header_and_shows_a_failed_job_in_error") {
        return;
    }
    let mlflow = Mlflow::start().expect("mlflow starts");
    eprintln!("mlflow healthy after {:?}", mlflow.started_in());

    // No x-mlflow-experiment-id: MLflow answers 422 with a JSON body naming the header.
    let label = "no-header";
    let envs = [(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        mlflow.traces_endpoint(),
    )];
    let out = run_example(label, LLM_JOB, &borrowed(&envs));
    assert!(out.status.success(), "{label}: {}", out.stderr);
    let w = warnings(&out, "traces");
    assert_eq!(w.len(), 1, "{label}: one traces warning:\n{}", out.stderr);
    assert!(
        w[0].contains("422") && w[0].contains(EXPERIMENT_HEADER),
        "{label}: {}",
        w[0]
    );
    let lost = out
        .stderr
        .lines()
        .find(|l| l.starts_with("llm_job: telemetry shutdown lost data"));
    assert!(
        lost.is_some_and(|l| l.contains("3 failed") && l.contains("422")),
        "{label}: the shutdown should name the 3 spans lost to the 422:\n{}",
        out.stderr
    );
    // Nothing landed in the default experiment.
    assert!(mlflow.traces("0").expect("traces").is_empty());

    // The base URL and the header for every signal (metrics on by default, logs on in the
    // job's code): MLflow answers 404 to metrics and logs, which are switched off with one
    // warning each; the traces arrive and shutdown is Ok.
    let label = "all-signals";
    let experiment = mlflow.create_experiment(label).expect("experiment");
    let envs = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", mlflow.endpoint().to_owned()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("{EXPERIMENT_HEADER}={experiment}"),
        ),
    ];
    let out = run_example(label, LLM_JOB, &borrowed(&envs));
    assert_clean(&out);
    assert_switched_off(&out, "HTTP 404");
    let traces = mlflow_traces(&mlflow, &experiment, 3);
    assert_job_tree(label, &one_trace(label, &traces).spans);

    // A failed model call: the trace is there, in error, every span in error.
    let label = "failed";
    let experiment = mlflow.create_experiment(label).expect("experiment");
    failing_job(label, &mlflow_env(&mlflow, "http/protobuf", &experiment));
    let traces = mlflow_traces(&mlflow, &experiment, 3);
    let trace = one_trace(label, &traces);
    assert_eq!(trace.state, "ERROR", "{label}: {trace:#?}");
    assert_job_failed(label, &trace.spans);

    // Users and sessions: with the OpenInference mapping, MLflow files the trace under
    // the user and the session.
    let label = "service";
    let experiment = mlflow.create_experiment(label).expect("experiment");
    ask_service(label, &mlflow_env(&mlflow, "http/protobuf", &experiment));
    // Two traces: the request to /ask (server span, workflow, LLM call) and the one to
    // /shutdown.
    let traces = mlflow_traces(&mlflow, &experiment, 4);
    let asked: Vec<_> = traces
        .iter()
        .filter(|t| t.spans.iter().any(|s| s.name == "ask.workflow"))
        .collect();
    assert_eq!(asked.len(), 1, "{label}: one trace of /ask: {traces:#?}");
    let trace = asked[0];
    assert_mapped(label, &trace.spans);
    assert_eq!(
        trace.meta("mlflow.trace.user"),
        Some(USER),
        "{label}: {trace:#?}"
    );
    assert_eq!(
        trace.meta("mlflow.trace.session"),
        Some(SESSION),
        "{label}: {trace:#?}"
    );
}

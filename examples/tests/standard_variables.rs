//! End to end, issue 10's runtime side: the standard OpenTelemetry variables, log records and
//! `tracing` events, and the opt-in latest GenAI conventions, through the real example
//! binaries (`llm_job`, `agent_tools`) run as child processes (their embedded OpenAI stub
//! answering) into the in-process OTLP receiver.
//!
//! Every `TRACELOOP_*` / `OTEL_*` / `LLMETRY_*` / `OPENAI_*` variable of the test process is
//! removed from the child's environment; each test sets only what it needs.

use llmetry_testkit::otlp::{LogView, OtlpReceiver, SpanView, exactly_one, named};
use llmetry_testkit::process::{Exited, command, run};
use opentelemetry_proto::tonic::common::v1::any_value;

/// Runs the example `exe` with only `envs`, failing unless it exits 0 without a panic.
fn run_ok(label: &str, exe: &str, envs: &[(&str, &str)]) -> Exited {
    let out = run(
        label,
        command(
            exe,
            &["TRACELOOP_", "OTEL_", "LLMETRY_", "OPENAI_"],
            &[],
            envs,
        ),
    );
    assert!(
        out.status.success() && !out.stderr.contains("panicked"),
        "{label}: exited with {}; stdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    out
}

fn llm_job(label: &str, envs: &[(&str, &str)]) -> Exited {
    run_ok(label, env!("CARGO_BIN_EXE_llm_job"), envs)
}

/// The raw OTLP log record whose body is `message`, with the span it was in (if any).
fn raw_log(
    rx: &OtlpReceiver,
    message: &str,
) -> Vec<opentelemetry_proto::tonic::logs::v1::LogRecord> {
    rx.log_records()
        .into_iter()
        .map(|(_, l)| l)
        .filter(|l| {
            matches!(
                l.body.as_ref().and_then(|b| b.value.as_ref()),
                Some(any_value::Value::StringValue(s)) if s == message
            )
        })
        .collect()
}

/// The names of the span events of the span named `name`.
fn span_events(rx: &OtlpReceiver, name: &str) -> Vec<String> {
    let spans: Vec<_> = rx
        .spans()
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| s.name == name)
        .collect();
    assert_eq!(spans.len(), 1, "one {name} span");
    spans[0].events.iter().map(|e| e.name.clone()).collect()
}

fn has_log(logs: &[LogView], message: &str) -> bool {
    logs.iter().any(|l| l.says(message))
}

#[test]
fn log_records_carry_their_event_time_and_a_tracing_event_goes_to_one_place() {
    // Default: a `tracing` event inside the task is a log record (with its event time),
    // not a span event: the line is in the backend once.
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    llm_job("tracing events: default", &[("TRACELOOP_BASE_URL", &url)]);
    let spans = rx.span_views();
    let task = exactly_one(&spans, "openai_call.task");
    let records = raw_log(&rx, "chat completion received");
    assert_eq!(records.len(), 1, "{:#?}", rx.log_views());
    let r = &records[0];
    assert!(r.time_unix_nano > 0, "the event time is set: {r:#?}");
    assert!(
        r.time_unix_nano >= task.start && r.time_unix_nano <= task.end,
        "emitted while the task ran: {} not in [{}, {}]",
        r.time_unix_nano,
        task.start,
        task.end
    );
    assert!(
        r.observed_time_unix_nano >= r.time_unix_nano,
        "observed {} before the event {}",
        r.observed_time_unix_nano,
        r.time_unix_nano
    );
    assert_eq!(
        llmetry_testkit::otlp::hex(&r.span_id),
        task.span_id,
        "correlated with the task span"
    );
    assert!(
        span_events(&rx, "openai_call.task").is_empty(),
        "no span event for a log line by default"
    );
    // The event outside any span is a log record too.
    let finished = raw_log(&rx, "llm_job finished");
    assert_eq!(finished.len(), 1);
    assert!(finished[0].time_unix_nano > 0);

    // span_events: the event inside the task is the task span's event, and no log record;
    // an event outside any span can only be a log record.
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    llm_job(
        "tracing events: span_events",
        &[
            ("TRACELOOP_BASE_URL", &url),
            ("LLMETRY_TRACING_EVENTS", "span_events"),
        ],
    );
    assert_eq!(
        span_events(&rx, "openai_call.task"),
        ["chat completion received"]
    );
    let logs = rx.log_views();
    assert!(!has_log(&logs, "chat completion received"), "{logs:#?}");
    assert!(has_log(&logs, "llm_job finished"), "{logs:#?}");

    // both: what tracing-opentelemetry and the log bridge do side by side.
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    llm_job(
        "tracing events: both",
        &[
            ("TRACELOOP_BASE_URL", &url),
            ("LLMETRY_TRACING_EVENTS", "both"),
        ],
    );
    assert_eq!(
        span_events(&rx, "openai_call.task"),
        ["chat completion received"]
    );
    assert_eq!(raw_log(&rx, "chat completion received").len(), 1);
}

/// The content-bearing attributes of the job's spans that are present.
fn content_keys(spans: &[SpanView]) -> Vec<String> {
    let keys = [
        "traceloop.entity.input",
        "traceloop.entity.output",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
    ];
    spans
        .iter()
        .flat_map(|s| {
            keys.iter()
                .filter(|k| s.attr(k).is_some())
                .map(move |k| format!("{}: {k}", s.name))
        })
        .collect()
}

#[test]
fn otel_capture_message_content_feeds_the_content_gate() {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    llm_job("content: default", &[("TRACELOOP_BASE_URL", &url)]);
    let all = content_keys(&rx.span_views());
    for expected in [
        "openai_call.task: traceloop.entity.input",
        "openai_call.task: traceloop.entity.output",
        "openai.chat: gen_ai.input.messages",
        "openai.chat: gen_ai.output.messages",
    ] {
        assert!(all.iter().any(|k| k == expected), "{expected} in {all:?}");
    }

    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    llm_job(
        "content: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false",
        &[
            ("TRACELOOP_BASE_URL", &url),
            (
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
                "false",
            ),
        ],
    );
    let spans = rx.span_views();
    named(&spans, "openai.chat", 1);
    assert_eq!(content_keys(&spans), Vec::<String>::new());
    let prompt = "Write a haiku about OpenTelemetry";
    for s in &spans {
        for (k, v) in &s.attributes {
            assert!(!v.contains(prompt), "{}: {k} holds the prompt", s.name);
            assert!(
                !v.contains("Spans drift like leaves"),
                "{}: {k} holds the completion",
                s.name
            );
        }
    }

    // TRACELOOP_TRACE_CONTENT beats the OTel variable (and the install line says so).
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let out = llm_job(
        "content: both variables",
        &[
            ("TRACELOOP_BASE_URL", &url),
            ("TRACELOOP_TRACE_CONTENT", "true"),
            (
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
                "no_content",
            ),
        ],
    );
    assert!(
        content_keys(&rx.span_views()).contains(&"openai.chat: gen_ai.input.messages".to_owned())
    );
    assert!(
        out.stderr.contains(
            "TRACELOOP_TRACE_CONTENT=true overrides OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=no_content"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn otel_exporter_variables_route_each_signal() {
    // traces none, metrics console, logs otlp.
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let out = llm_job(
        "exporters: none/console/otlp",
        &[
            ("TRACELOOP_BASE_URL", &url),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "console"),
            ("OTEL_LOGS_EXPORTER", "otlp"),
        ],
    );
    assert!(rx.spans().is_empty(), "traces off: {:#?}", rx.span_views());
    assert!(rx.metrics().is_empty(), "metrics on the console only");
    assert!(has_log(&rx.log_views(), "chat completion received"));
    assert!(
        out.stderr.contains(
            "traces -> off by OTEL_TRACES_EXPORTER=none | metrics -> the console (stderr) |"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("── metrics\n"), "{}", out.stderr);
    let tokens = out
        .stderr
        .lines()
        .find(|l| l.starts_with("llm_job.tokens {token} sum  model=gpt-4o-mini  value="))
        .unwrap_or_else(|| panic!("the job's counter on stderr:\n{}", out.stderr));
    assert!(!tokens.ends_with("value=0"), "{tokens}");
    assert!(
        out.stderr.lines().any(
            |l| l.starts_with("gen_ai.client.token.usage {token} histogram  ")
                && l.contains("gen_ai.token.type=input")
        ),
        "{}",
        out.stderr
    );

    // traces console, metrics otlp, logs console.
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let out = llm_job(
        "exporters: console/otlp/console",
        &[
            ("TRACELOOP_BASE_URL", &url),
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_LOGS_EXPORTER", "console"),
        ],
    );
    assert!(rx.spans().is_empty() && rx.log_records().is_empty());
    assert!(rx.metric_names().contains(&"llm_job.tokens".to_owned()));
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("llm_job.workflow  ")),
        "the span tree on stderr:\n{}",
        out.stderr
    );
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains(" INFO  llm_job  chat completion received  "))
        .unwrap_or_else(|| panic!("the log line on stderr:\n{}", out.stderr));
    assert!(
        line.as_bytes().first().is_some_and(u8::is_ascii_digit) && line.contains("Z INFO"),
        "starts with its UTC event time: {line}"
    );
    assert!(
        line.contains("  trace=") && line.contains(" span="),
        "{line}"
    );

    // logs none beats the job's logging_enabled(true); the rest over OTLP.
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    llm_job(
        "exporters: otlp/otlp/none",
        &[
            ("TRACELOOP_BASE_URL", &url),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_METRICS_EXPORTER", "OTLP"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    );
    assert!(rx.log_records().is_empty());
    named(&rx.span_views(), "llm_job.workflow", 1);
    assert!(rx.metric_names().contains(&"llm_job.tokens".to_owned()));
}

#[test]
fn an_unknown_exporter_value_is_a_clear_error() {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    for (key, value) in [
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_METRICS_EXPORTER", "prometheus"),
        ("OTEL_LOGS_EXPORTER", "otlp,console"),
    ] {
        // The job runs on without telemetry (it says so), as it does on any InitError.
        let out = llm_job(
            &format!("unknown {key}"),
            &[("TRACELOOP_BASE_URL", &url), (key, value)],
        );
        let line = out
            .stderr
            .lines()
            .find(|l| l.starts_with("llm_job: running without telemetry: "))
            .unwrap_or_else(|| panic!("{key}: the error on stderr:\n{}", out.stderr));
        for needle in [key, &format!("{value:?}"), "otlp, console or none"] {
            assert!(line.contains(needle), "{line:?} should mention {needle:?}");
        }
    }
    assert!(rx.received().is_empty(), "nothing exported");
}

#[test]
fn opt_in_latest_conventions_on_a_whole_agent_workflow_with_tools() {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    run_ok(
        "agent_tools: gen_ai_latest_experimental",
        env!("CARGO_BIN_EXE_agent_tools"),
        &[
            ("TRACELOOP_BASE_URL", &url),
            (
                "OTEL_SEMCONV_STABILITY_OPT_IN",
                "http/dup,gen_ai_latest_experimental",
            ),
        ],
    );
    let spans = rx.span_views();
    for s in &spans {
        for suffix in [".workflow", ".agent", ".tool"] {
            assert!(!s.name.ends_with(suffix), "a Traceloop name left: {s:#?}");
        }
    }
    let workflow = exactly_one(&spans, "invoke_workflow agent_tools");
    let agent = exactly_one(&spans, "invoke_agent incident_agent");
    let grep = exactly_one(&spans, "execute_tool grep_logs");
    let disk = exactly_one(&spans, "execute_tool disk_usage");
    let chats = named(&spans, "chat gpt-4o-mini", 2);

    // The conventions' attributes.
    assert_eq!(
        workflow.attr("gen_ai.operation.name"),
        Some("invoke_workflow")
    );
    assert_eq!(workflow.attr("gen_ai.workflow.name"), Some("agent_tools"));
    assert_eq!(agent.attr("gen_ai.operation.name"), Some("invoke_agent"));
    assert_eq!(agent.attr("gen_ai.agent.name"), Some("incident_agent"));
    for (tool, name, arg) in [(grep, "grep_logs", "pattern"), (disk, "disk_usage", "host")] {
        assert_eq!(tool.attr("gen_ai.operation.name"), Some("execute_tool"));
        assert_eq!(tool.attr("gen_ai.tool.name"), Some(name));
        assert_eq!(tool.attr("gen_ai.tool.type"), Some("function"));
        let args: serde_json::Value = serde_json::from_str(
            tool.attr("gen_ai.tool.call.arguments")
                .unwrap_or_else(|| panic!("arguments on {tool:#?}")),
        )
        .expect("arguments are JSON");
        assert!(args[arg].is_string(), "{name}: {args}");
        let result = tool
            .attr("gen_ai.tool.call.result")
            .unwrap_or_else(|| panic!("result on {tool:#?}"));
        assert_eq!(Some(result), tool.attr("traceloop.entity.output"));
        assert!(
            serde_json::from_str::<serde_json::Value>(result).is_ok(),
            "{result}"
        );
        assert_eq!(tool.parent_span_id, agent.span_id, "{name} under the agent");
    }
    for chat in &chats {
        assert_eq!(chat.attr("gen_ai.operation.name"), Some("chat"));
        assert_eq!(chat.parent_span_id, agent.span_id);
    }
    assert_eq!(agent.parent_span_id, workflow.span_id);

    // Every traceloop.* attribute stays.
    for (s, kind, entity) in [
        (workflow, "workflow", "agent_tools"),
        (agent, "agent", "incident_agent"),
        (grep, "tool", "grep_logs"),
        (disk, "tool", "disk_usage"),
    ] {
        assert_eq!(s.attr("traceloop.span.kind"), Some(kind), "{s:#?}");
        assert_eq!(s.attr("traceloop.entity.name"), Some(entity), "{s:#?}");
        assert_eq!(
            s.attr("traceloop.workflow.name"),
            Some("agent_tools"),
            "{s:#?}"
        );
        assert!(s.attr("traceloop.entity.input").is_some(), "{s:#?}");
    }
    for chat in &chats {
        assert_eq!(chat.attr("traceloop.workflow.name"), Some("agent_tools"));
        assert_eq!(chat.attr("gen_ai.agent.name"), Some("incident_agent"));
    }

    // Content off: no tool arguments or results either.
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    run_ok(
        "agent_tools: latest conventions, no content",
        env!("CARGO_BIN_EXE_agent_tools"),
        &[
            ("TRACELOOP_BASE_URL", &url),
            (
                "OTEL_SEMCONV_STABILITY_OPT_IN",
                "gen_ai_latest_experimental",
            ),
            (
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
                "false",
            ),
        ],
    );
    let spans = rx.span_views();
    let grep = exactly_one(&spans, "execute_tool grep_logs");
    assert_eq!(grep.attr("gen_ai.tool.name"), Some("grep_logs"));
    for k in [
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "traceloop.entity.input",
        "traceloop.entity.output",
    ] {
        assert_eq!(grep.attr(k), None, "{k}: {grep:#?}");
    }
}

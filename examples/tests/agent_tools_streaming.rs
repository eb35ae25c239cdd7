//! End to end: the `agent_tools` and `streaming` binaries run as child processes (their
//! embedded OpenAI stub answering, `OPENAI_*` removed), exporting to an in-process OTLP
//! receiver, or with no telemetry configured (the span tree on stderr).
//!
//! Every `TRACELOOP_*` / `OTEL_*` / `OPENAI_*` variable of the test process is removed from
//! the child's environment; each test sets only what it needs.

use llmetry_testkit::otlp::{OtlpReceiver, SpanView, named};
use llmetry_testkit::process::{Exited, command, run};

/// The stub's haiku for the `streaming` example's default prompt.
const HAIKU: &str =
    "Spans drift like leaves,\nstreaming hums in the collector,\nroot span finally ends.";

/// Exit 0, no panic.
fn assert_success(out: &Exited, bin: &str) {
    assert!(
        out.status.success() && !out.stderr.contains("panicked"),
        "{bin} exited with {}; stdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
}

/// Runs the example `exe` with only `envs` of the telemetry and OpenAI settings, killing it
/// (and failing) when it runs longer than the hang guard.
fn run_example(exe: &str, envs: &[(&str, &str)]) -> Exited {
    run(
        exe,
        command(exe, &["TRACELOOP_", "OTEL_", "OPENAI_"], &[], envs),
    )
}

/// Every span `rx` received, sorted by start time.
fn spans(rx: &OtlpReceiver) -> Vec<SpanView> {
    let mut spans = rx.span_views();
    spans.sort_by_key(|s| s.start);
    spans
}

#[test]
fn agent_tools_traces_the_agent_its_llm_calls_and_its_tools() {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let out = run_example(
        env!("CARGO_BIN_EXE_agent_tools"),
        &[("TRACELOOP_BASE_URL", &url)],
    );
    assert_success(&out, "agent_tools");
    assert!(
        out.stdout.contains("From the tool results:")
            && out.stdout.contains("- grep_logs: [")
            && out.stdout.contains("- disk_usage: {"),
        "final answer on stdout: {}",
        out.stdout
    );

    let spans = spans(&rx);
    let workflow = named(&spans, "agent_tools.workflow", 1)[0];
    let agent = named(&spans, "incident_agent.agent", 1)[0];
    assert_eq!(
        agent.parent_span_id, workflow.span_id,
        "agent under workflow"
    );
    assert_eq!(agent.attr("gen_ai.agent.name"), Some("incident_agent"));
    let chats = named(&spans, "openai.chat", 2);
    let grep = named(&spans, "grep_logs.tool", 1)[0];
    let disk = named(&spans, "disk_usage.tool", 1)[0];
    for s in chats.iter().chain([&grep, &disk]) {
        assert_eq!(
            s.parent_span_id, agent.span_id,
            "{} under the agent",
            s.name
        );
        assert_eq!(
            s.attr("traceloop.workflow.name"),
            Some("agent_tools"),
            "{s:#?}"
        );
    }
    assert_eq!(grep.attr("gen_ai.tool.name"), Some("grep_logs"));
    assert_eq!(disk.attr("gen_ai.tool.name"), Some("disk_usage"));

    // The stub chose the arguments from the incident text; the tools got them.
    let input = |s: &SpanView| {
        s.attr("traceloop.entity.input")
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        input(grep).contains(r#""pattern": "OOMKilled""#),
        "{grep:#?}"
    );
    assert!(input(disk).contains(r#""host": "web-3""#), "{disk:#?}");

    // Model, tools, model: in that order.
    let (first, second) = (chats[0], chats[1]);
    for tool in [grep, disk] {
        assert!(
            first.end <= tool.start && tool.end <= second.start,
            "{spans:#?}"
        );
    }
    // OpenAI's "tool_calls", as the GenAI conventions spell it.
    assert_eq!(
        first.attr("gen_ai.response.finish_reasons"),
        Some("[tool_call]"),
        "{first:#?}"
    );
    let output = first.attr("gen_ai.output.messages").unwrap_or_default();
    assert!(
        output.contains("grep_logs") && output.contains("disk_usage"),
        "the first answer calls both tools: {first:#?}"
    );
    // The second call sends the tool results back.
    let messages = second.attr("gen_ai.input.messages").unwrap_or_default();
    for needle in ["tool_call_response", "exit code 137", "used_percent"] {
        assert!(messages.contains(needle), "{needle} in {second:#?}");
    }
}

#[test]
fn streaming_prints_the_deltas_and_ends_the_task_with_the_stream() {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let out = run_example(
        env!("CARGO_BIN_EXE_streaming"),
        &[("TRACELOOP_BASE_URL", &url)],
    );
    assert_success(&out, "streaming");
    assert_eq!(out.stdout, format!("{HAIKU}\n"), "stderr:\n{}", out.stderr);

    let spans = spans(&rx);
    let workflow = named(&spans, "streaming.workflow", 1)[0];
    let task = named(&spans, "stream_haiku.task", 1)[0];
    let chat = named(&spans, "openai.chat", 1)[0];
    assert_eq!(task.parent_span_id, workflow.span_id, "task under workflow");
    assert_eq!(
        chat.parent_span_id, task.span_id,
        "openai.chat under the task"
    );
    assert!(
        task.end >= chat.end,
        "the task's span ends with its stream: {spans:#?}"
    );
    assert_eq!(chat.status, 1, "a completed stream is OK: {chat:#?}");
    assert_eq!(chat.attr("gen_ai.is_streaming"), Some("true"), "{chat:#?}");
    assert!(
        chat.attr("gen_ai.server.time_to_first_token")
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|t| t > 0.0),
        "{chat:#?}"
    );
    assert!(
        chat.attr("gen_ai.usage.output_tokens")
            .is_some_and(|n| n != "0"),
        "include_usage: {chat:#?}"
    );
}

#[test]
fn with_nothing_configured_both_print_their_tree_on_stderr() {
    let cases: [(&str, &str, &[&str]); 2] = [
        (
            "agent_tools",
            env!("CARGO_BIN_EXE_agent_tools"),
            &[
                "\nagent_tools.workflow ",
                "\n└─ incident_agent.agent ",
                "\n   ├─ openai.chat ",
                "\n   ├─ grep_logs.tool ",
                "\n   ├─ disk_usage.tool ",
                "\n   └─ openai.chat ",
            ],
        ),
        (
            "streaming",
            env!("CARGO_BIN_EXE_streaming"),
            &[
                "\nstreaming.workflow ",
                "\n└─ stream_haiku.task ",
                "\n   └─ openai.chat ",
            ],
        ),
    ];
    for (bin, exe, tree) in cases {
        let out = run_example(exe, &[]);
        assert_success(&out, bin);
        assert!(
            out.stderr.contains("traces -> the console (stderr)")
                && out.stderr.contains("\n── trace "),
            "{bin}: stderr:\n{}",
            out.stderr
        );
        let mut rest = out.stderr.as_str();
        for line in tree {
            match rest.find(line) {
                Some(at) => rest = &rest[at + line.len()..],
                None => panic!("{bin}: {line:?} (in this order) on stderr:\n{}", out.stderr),
            }
        }
        assert!(!out.stdout.is_empty(), "{bin}: an answer on stdout");
    }
}

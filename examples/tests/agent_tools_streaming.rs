//! End to end: the `agent_tools` and `streaming` binaries run as child processes (their
//! embedded OpenAI stub answering, `OPENAI_*` removed), exporting to an in-process OTLP
//! receiver, or with no telemetry configured (the span tree on stderr).
//!
//! Every `TRACELOOP_*` / `OTEL_*` / `OPENAI_*` variable of the test process is removed from
//! the child's environment; each test sets only what it needs.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use llmetry_testkit::otlp::{OtlpReceiver, attributes, hex};

/// A child still running after this long is killed and the test fails.
const HANG_BOUND: Duration = Duration::from_secs(30);
/// The stub's haiku for the `streaming` example's default prompt.
const HAIKU: &str =
    "Spans drift like leaves,\nstreaming hums in the collector,\nroot span finally ends.";

/// What one run of an example did.
struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Exit 0, no panic.
    fn assert_success(&self, bin: &str) {
        assert!(
            self.status.success() && !self.stderr.contains("panicked"),
            "{bin} exited with {}; stdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }
}

fn read_all(stream: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut s) = stream {
            let _ = s.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs the example `exe` with only `envs` of the telemetry and OpenAI settings, killing it
/// (and failing) when it runs longer than [`HANG_BOUND`].
fn run(exe: &str, envs: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(exe);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("TRACELOOP_") || k.starts_with("OTEL_") || k.starts_with("OPENAI_") {
            cmd.env_remove(&key);
        }
    }
    cmd.envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let began = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot run {exe}: {e}"),
    };
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if began.elapsed() > HANG_BOUND => {
                let _ = child.kill();
                let _ = child.wait();
                let err = stderr.join().unwrap_or_default();
                panic!("{exe} still running after {HANG_BOUND:?}: killed; stderr:\n{err}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("{exe}: try_wait: {e}"),
        }
    };
    Outcome {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// A span as plain data.
#[derive(Debug)]
struct SpanInfo {
    name: String,
    span_id: String,
    parent_span_id: String,
    start: u64,
    end: u64,
    /// The OTLP status code: 0 unset, 1 OK, 2 error.
    status: i32,
    attributes: Vec<(String, String)>,
}

impl SpanInfo {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every span `rx` received, sorted by start time.
fn spans(rx: &OtlpReceiver) -> Vec<SpanInfo> {
    let mut spans: Vec<SpanInfo> = rx
        .spans()
        .into_iter()
        .map(|(_, s)| SpanInfo {
            name: s.name,
            span_id: hex(&s.span_id),
            parent_span_id: hex(&s.parent_span_id),
            start: s.start_time_unix_nano,
            end: s.end_time_unix_nano,
            status: s.status.map_or(0, |st| st.code),
            attributes: attributes(&s.attributes),
        })
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

/// The spans named `name`, asserting there are `n` of them.
fn named<'a>(spans: &'a [SpanInfo], name: &str, n: usize) -> Vec<&'a SpanInfo> {
    let found: Vec<&SpanInfo> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), n, "{n} {name} span(s) in {spans:#?}");
    found
}

#[test]
fn agent_tools_traces_the_agent_its_llm_calls_and_its_tools() {
    let rx = OtlpReceiver::start();
    let url = rx.http_endpoint();
    let out = run(
        env!("CARGO_BIN_EXE_agent_tools"),
        &[("TRACELOOP_BASE_URL", &url)],
    );
    out.assert_success("agent_tools");
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
    let input = |s: &SpanInfo| {
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
    let out = run(
        env!("CARGO_BIN_EXE_streaming"),
        &[("TRACELOOP_BASE_URL", &url)],
    );
    out.assert_success("streaming");
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
        let out = run(exe, &[]);
        out.assert_success(bin);
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

//! The example programs (`gemini`, `bedrock`, `mcp`) run as child processes with no
//! credentials (each answers from its embedded stub, or, for MCP, its own servers) and
//! export to an in-process OTLP receiver: each exits 0, prints its answers, and the receiver
//! holds the spans a user would see.

// Nothing to run when no example program is built (`--no-default-features --features genai`).
#![cfg(any(feature = "gemini", feature = "bedrock", feature = "mcp"))]

use llmetry_testkit::otlp::{OtlpReceiver, SpanView, exactly_one, is_under};
use llmetry_testkit::process::{Exited, command, run};

/// The variables a developer's shell may hold that would change what an example does.
const REMOVED: [&str; 7] = [
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "BEDROCK_MODEL",
];

/// Runs an example (hang guard), exporting to `rx`, and checks it succeeded.
fn run_example(name: &str, program: &str, rx: &OtlpReceiver) -> Exited {
    let url = rx.http_endpoint();
    let cmd = command(
        program,
        &["TRACELOOP_", "OTEL_"],
        &REMOVED,
        &[("TRACELOOP_BASE_URL", &url)],
    );
    let out = run(name, cmd);
    assert!(
        out.status.success(),
        "{name} exited with {}; stderr:\n{}",
        out.status,
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
    out
}

fn llm_spans<'a>(spans: &'a [SpanView], prefix: &str) -> Vec<&'a SpanView> {
    spans
        .iter()
        .filter(|s| s.name.starts_with(prefix))
        .collect()
}

#[cfg(feature = "gemini")]
#[test]
fn gemini_example_exports_its_calls_under_the_job() {
    let rx = OtlpReceiver::start();
    let out = run_example("gemini", env!("CARGO_BIN_EXE_gemini"), &rx);
    assert!(
        out.stdout.contains("Spans drift like leaves,"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("embedding: 8 dimensions"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("embedded stub Gemini server"),
        "{}",
        out.stderr
    );
    let spans = rx.spans_of("gemini_job");
    let job = exactly_one(&spans, "gemini_job.workflow");
    let calls = llm_spans(&spans, "generate_content gemini-2.5-flash");
    assert_eq!(calls.len(), 3, "call, SSE stream, JSON-array stream");
    let embed = exactly_one(&spans, "embeddings gemini-embedding-001");
    for s in calls.iter().copied().chain([embed]) {
        assert!(is_under(&spans, s, job), "{} under the job", s.name);
        assert_eq!(s.attr("gen_ai.provider.name"), Some("gcp.gen_ai"));
        assert_eq!(s.kind, 3, "OTLP SPAN_KIND_CLIENT");
        for (k, v) in &s.attributes {
            assert!(!v.contains("stub-key"), "{k}: the API key was recorded");
        }
    }
    let streamed = calls
        .iter()
        .filter(|s| s.attr("gen_ai.is_streaming") == Some("true"))
        .count();
    assert_eq!(streamed, 2);
    assert!(
        calls
            .iter()
            .all(|s| s.attr("gen_ai.usage.output_tokens").is_some())
    );
}

#[cfg(feature = "bedrock")]
#[test]
fn bedrock_example_exports_its_calls_under_the_job() {
    let rx = OtlpReceiver::start();
    let out = run_example("bedrock", env!("CARGO_BIN_EXE_bedrock"), &rx);
    assert!(
        out.stdout.contains("Spans drift like leaves,"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("embedded stub Bedrock server"),
        "{}",
        out.stderr
    );
    let spans = rx.spans_of("bedrock_job");
    let job = exactly_one(&spans, "bedrock_job.workflow");
    let calls = llm_spans(&spans, "chat claude-3-5-haiku-20241022-v1:0");
    assert_eq!(calls.len(), 2, "Converse and ConverseStream");
    for s in &calls {
        assert!(is_under(&spans, s, job));
        assert_eq!(s.attr("gen_ai.provider.name"), Some("aws.bedrock"));
        assert!(s.attr("gen_ai.usage.input_tokens").is_some());
        assert_eq!(s.attr("gen_ai.response.finish_reasons"), Some("[stop]"));
    }
    let stream = calls
        .iter()
        .find(|s| s.attr("gen_ai.is_streaming") == Some("true"))
        .expect("the ConverseStream span");
    // Completed: status unset (Python's Bedrock instrumentation sets no OK), no error.
    assert_eq!(stream.status, 0, "completed: unset");
    assert_eq!(stream.attr("error.type"), None);
}

#[cfg(feature = "mcp")]
#[test]
fn mcp_example_is_one_trace_across_agent_and_servers() {
    let rx = OtlpReceiver::start();
    let out = run_example("mcp", env!("CARGO_BIN_EXE_mcp"), &rx);
    for line in [
        "stdio server tools: 4",
        "http server tools: 4",
        "3 lines match OOMKilled",
        "db-1: / is 97% full",
        "refused: restart of postgres needs an approval",
    ] {
        assert!(out.stdout.contains(line), "{line}: {}", out.stdout);
    }
    let agent = rx.spans_of("mcp_agent");
    let server = rx.spans_of("mcp_ops_server");
    let workflow = exactly_one(&agent, "mcp_incident.workflow");
    // The stdio server is the child process: its span is the grep call's child.
    let grep_client = agent
        .iter()
        .find(|s| s.name == "tools/call grep_logs" && s.kind == 3)
        .expect("the client span of grep_logs");
    assert!(is_under(&agent, grep_client, workflow));
    let grep_server = exactly_one(&server, "tools/call grep_logs");
    assert_eq!(grep_server.kind, 2, "OTLP SPAN_KIND_SERVER");
    assert_eq!(grep_server.trace_id, workflow.trace_id);
    assert_eq!(grep_server.parent_span_id, grep_client.span_id);
    // The HTTP server runs in the agent's process.
    let restart: Vec<&SpanView> = agent
        .iter()
        .filter(|s| s.name == "tools/call restart")
        .collect();
    assert_eq!(restart.len(), 2, "client and server");
    for s in &restart {
        assert_eq!(s.trace_id, workflow.trace_id);
        assert_eq!(s.attr("error.type"), Some("tool_error"));
        assert_eq!(s.status, 2, "ERROR");
    }
}

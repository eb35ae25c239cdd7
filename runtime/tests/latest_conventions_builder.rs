//! The opt-in latest GenAI conventions switched on by the builder
//! (`gen_ai_latest_conventions(true)`, beating the environment): entity span names and
//! attributes, with every `traceloop.*` attribute kept. Its own test binary: the mode is
//! process-wide.

use llmetry::{EnvSource, agent, task, tool, workflow};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

#[tool(name = "grep_logs")]
fn grep_logs(pattern: &str, limit: u32) -> Vec<String> {
    vec![format!("{pattern} x{limit}")]
}

#[task(name = "summarize")]
fn summarize(lines: &[String]) -> usize {
    lines.len()
}

#[agent(name = "incident_agent")]
fn incident_agent(incident: &str) -> usize {
    let lines = grep_logs(incident, 2);
    let quiet = llmetry::with_trace_content(false, || grep_logs("quiet", 1));
    summarize(&lines) + quiet.len()
}

#[workflow(name = "rca")]
fn rca() -> usize {
    incident_agent("OOMKilled")
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[test]
fn builder_opt_in_renames_entity_spans_and_keeps_traceloop_attributes() {
    let exporter = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .exporter(exporter.clone())
        .disable_batch(true)
        .silence_init_message(true)
        .gen_ai_latest_conventions(true)
        .env_source(EnvSource::from_pairs([
            ("OTEL_SERVICE_NAME", "latest"),
            // The builder wins over the environment.
            ("OTEL_SEMCONV_STABILITY_OPT_IN", "http"),
        ]))
        .install()
        .expect("install");
    assert!(llmetry::gen_ai_latest_conventions());
    assert_eq!(rca(), 2);
    telemetry.flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    let one = |name: &str| -> &SpanData {
        let found: Vec<&SpanData> = spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(found.len(), 1, "one {name} in {names:?}");
        found[0]
    };
    let workflow = one("invoke_workflow rca");
    let agent = one("invoke_agent incident_agent");
    let task = one("summarize.task");
    let tools: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name == "execute_tool grep_logs")
        .collect();
    assert_eq!(tools.len(), 2, "{names:?}");

    assert_eq!(
        attr(workflow, "gen_ai.operation.name").as_deref(),
        Some("invoke_workflow")
    );
    assert_eq!(
        attr(workflow, "gen_ai.workflow.name").as_deref(),
        Some("rca")
    );
    assert_eq!(
        attr(agent, "gen_ai.operation.name").as_deref(),
        Some("invoke_agent")
    );
    assert_eq!(
        attr(agent, "gen_ai.agent.name").as_deref(),
        Some("incident_agent")
    );
    assert_eq!(
        attr(task, "gen_ai.operation.name"),
        None,
        "a task is no GenAI operation"
    );

    let (loud, quiet): (Vec<&SpanData>, Vec<&SpanData>) = tools
        .iter()
        .partition(|s| attr(s, "traceloop.entity.input").is_some());
    let (loud, quiet) = (loud[0], quiet[0]);
    for t in [loud, quiet] {
        assert_eq!(
            attr(t, "gen_ai.operation.name").as_deref(),
            Some("execute_tool")
        );
        assert_eq!(attr(t, "gen_ai.tool.name").as_deref(), Some("grep_logs"));
        assert_eq!(attr(t, "gen_ai.tool.type").as_deref(), Some("function"));
        assert_eq!(attr(t, "traceloop.span.kind").as_deref(), Some("tool"));
        assert_eq!(attr(t, "traceloop.workflow.name").as_deref(), Some("rca"));
        assert_eq!(
            attr(t, "gen_ai.agent.name").as_deref(),
            Some("incident_agent")
        );
    }
    assert_eq!(
        attr(loud, "gen_ai.tool.call.arguments").as_deref(),
        Some(r#"{"pattern": "OOMKilled", "limit": 2}"#)
    );
    assert_eq!(
        attr(loud, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"pattern": "OOMKilled", "limit": 2}}"#)
    );
    assert_eq!(
        attr(loud, "gen_ai.tool.call.result").as_deref(),
        Some(r#"["OOMKilled x2"]"#)
    );
    assert_eq!(attr(quiet, "gen_ai.tool.call.arguments"), None);
    assert_eq!(attr(quiet, "gen_ai.tool.call.result"), None);
    for (s, kind, name) in [
        (workflow, "workflow", "rca"),
        (agent, "agent", "incident_agent"),
        (task, "task", "summarize"),
    ] {
        assert_eq!(attr(s, "traceloop.span.kind").as_deref(), Some(kind));
        assert_eq!(attr(s, "traceloop.entity.name").as_deref(), Some(name));
        assert_eq!(attr(s, "traceloop.workflow.name").as_deref(), Some("rca"));
    }
    telemetry.shutdown().expect("shutdown");
}

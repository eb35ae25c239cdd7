//! Rust port of `shared/reference/traceloop-decorators-capture.py`: the same program must
//! produce the same span names, kinds, parentage, status, events, attribute keys and values
//! as the Python SDK did (inputs differ only by the `kwargs` form).

use llmetry::{agent, task, tool, workflow};
use llmetry_testkit::{attr_keys, attr_str, harness_with};
use opentelemetry::trace::{SpanKind, Status};

#[derive(serde::Serialize)]
struct Evidence {
    host: String,
    lines: Vec<String>,
}

#[derive(Debug)]
struct ValueError(&'static str);

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ValueError {}

#[tool(name = "grep_logs")]
fn grep_logs(pattern: &str) -> Vec<String> {
    vec![format!("03:12 db-1 {pattern}: no space left on device")]
}

#[task(name = "fetch_logs")]
fn fetch_logs(host: &str, since: &str) -> Evidence {
    let _ = since;
    Evidence {
        host: host.to_owned(),
        lines: grep_logs("ENOSPC"),
    }
}

#[agent(name = "triage_agent")]
fn triage(evidence: &Evidence) -> String {
    format!("disk full on {}", evidence.host)
}

#[task(name = "failing_step")]
fn failing_step() -> Result<(), ValueError> {
    Err(ValueError("boom: simulated failure"))
}

#[workflow(name = "rca_workflow")]
fn rca(incident_id: &str) -> String {
    llmetry::set_association_properties([
        ("incident_id", incident_id.to_owned()),
        ("user_id", "u-42".to_owned()),
    ]);
    let ev = fetch_logs("db-1", "2h");
    let verdict = triage(&ev);
    if failing_step().is_err() {
        // swallowed, as in the Python program
    }
    verdict
}

fn keys(extra: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

#[test]
fn same_spans_as_the_python_sdk() {
    let h = harness_with(|b| b.app_name("llm_job"));
    assert_eq!(rca("INC-1001"), "disk full on db-1");
    let t = h.trace_of("rca_workflow.workflow");
    assert_eq!(
        t.names(),
        [
            "grep_logs.tool",
            "fetch_logs.task",
            "triage_agent.agent",
            "failing_step.task",
            "rca_workflow.workflow"
        ],
        "export order = end order, as in the capture"
    );

    for s in &t.spans {
        assert_eq!(s.span_kind, SpanKind::Internal, "{}", s.name);
        assert_eq!(s.instrumentation_scope.name(), "traceloop.tracer");
    }

    let assoc = [
        "traceloop.association.properties.incident_id",
        "traceloop.association.properties.user_id",
    ];

    let tool = t.span("grep_logs.tool");
    assert_eq!(t.parent_name(tool).as_deref(), Some("fetch_logs.task"));
    assert_eq!(tool.status, Status::Unset);
    let mut expect = vec![
        "traceloop.workflow.name",
        "traceloop.entity.path",
        "traceloop.span.kind",
        "traceloop.entity.name",
        "gen_ai.tool.name",
        "traceloop.entity.input",
        "traceloop.entity.output",
    ];
    expect.extend(assoc);
    assert_eq!(attr_keys(tool), keys(&expect));
    assert_eq!(
        attr_str(tool, "traceloop.workflow.name").as_deref(),
        Some("rca_workflow")
    );
    assert_eq!(
        attr_str(tool, "traceloop.entity.path").as_deref(),
        Some("fetch_logs")
    );
    assert_eq!(
        attr_str(tool, "traceloop.span.kind").as_deref(),
        Some("tool")
    );
    assert_eq!(
        attr_str(tool, "traceloop.entity.name").as_deref(),
        Some("grep_logs")
    );
    assert_eq!(
        attr_str(tool, "gen_ai.tool.name").as_deref(),
        Some("grep_logs")
    );
    assert_eq!(
        attr_str(tool, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"pattern": "ENOSPC"}}"#)
    );
    assert_eq!(
        attr_str(tool, "traceloop.entity.output").as_deref(),
        Some(r#"["03:12 db-1 ENOSPC: no space left on device"]"#)
    );
    assert_eq!(attr_str(tool, assoc[0]).as_deref(), Some("INC-1001"));
    assert_eq!(attr_str(tool, assoc[1]).as_deref(), Some("u-42"));

    let fetch = t.span("fetch_logs.task");
    assert_eq!(
        t.parent_name(fetch).as_deref(),
        Some("rca_workflow.workflow")
    );
    let mut expect = vec![
        "traceloop.workflow.name",
        "traceloop.span.kind",
        "traceloop.entity.name",
        "traceloop.entity.input",
        "traceloop.entity.output",
    ];
    expect.extend(assoc);
    assert_eq!(attr_keys(fetch), keys(&expect));
    assert_eq!(
        attr_str(fetch, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"host": "db-1", "since": "2h"}}"#)
    );
    assert_eq!(
        attr_str(fetch, "traceloop.entity.output").as_deref(),
        Some(r#"{"host": "db-1", "lines": ["03:12 db-1 ENOSPC: no space left on device"]}"#)
    );

    let agent = t.span("triage_agent.agent");
    assert_eq!(
        t.parent_name(agent).as_deref(),
        Some("rca_workflow.workflow")
    );
    let mut expect = vec![
        "traceloop.workflow.name",
        "gen_ai.agent.name",
        "traceloop.span.kind",
        "traceloop.entity.name",
        "traceloop.entity.input",
        "traceloop.entity.output",
    ];
    expect.extend(assoc);
    assert_eq!(attr_keys(agent), keys(&expect));
    assert_eq!(
        attr_str(agent, "gen_ai.agent.name").as_deref(),
        Some("triage_agent")
    );
    assert_eq!(
        attr_str(agent, "traceloop.entity.input").as_deref(),
        Some(
            r#"{"args": [], "kwargs": {"evidence": {"host": "db-1", "lines": ["03:12 db-1 ENOSPC: no space left on device"]}}}"#
        )
    );
    assert_eq!(
        attr_str(agent, "traceloop.entity.output").as_deref(),
        Some(r#""disk full on db-1""#)
    );

    let failing = t.span("failing_step.task");
    assert_eq!(
        t.parent_name(failing).as_deref(),
        Some("rca_workflow.workflow")
    );
    assert_eq!(failing.status, Status::error("boom: simulated failure"));
    // Python writes no output for a raised exception; we add `error.type` (issue #2).
    let mut expect = vec![
        "traceloop.workflow.name",
        "traceloop.span.kind",
        "traceloop.entity.name",
        "traceloop.entity.input",
        "error.type",
    ];
    expect.extend(assoc);
    assert_eq!(attr_keys(failing), keys(&expect));
    assert_eq!(
        attr_str(failing, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {}}"#)
    );
    let events: Vec<_> = failing.events.iter().collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name, "exception");
    let ev_attr = |k: &str| {
        events[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.as_str().into_owned())
    };
    assert_eq!(
        ev_attr("exception.message").as_deref(),
        Some("boom: simulated failure")
    );
    // Python: the class name; Rust: the full type path of the error type.
    assert_eq!(
        ev_attr("exception.type").as_deref(),
        Some("python_parity::ValueError")
    );
    assert_eq!(
        attr_str(failing, "error.type").as_deref(),
        Some("python_parity::ValueError")
    );

    let wf = t.span("rca_workflow.workflow");
    assert_eq!(t.parent_name(wf), None);
    assert_eq!(wf.status, Status::Unset);
    let mut expect = vec![
        "traceloop.workflow.name",
        "traceloop.span.kind",
        "traceloop.entity.name",
        "traceloop.entity.input",
        "traceloop.entity.output",
    ];
    expect.extend(assoc);
    assert_eq!(attr_keys(wf), keys(&expect));
    assert_eq!(
        attr_str(wf, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"incident_id": "INC-1001"}}"#)
    );
    assert_eq!(
        attr_str(wf, "traceloop.entity.output").as_deref(),
        Some(r#""disk full on db-1""#)
    );
    assert_eq!(attr_str(wf, assoc[0]).as_deref(), Some("INC-1001"));
}

//! MCP end to end with rmcp 3.11 on both sides: `TracedPeer` calls, `TracedServer` answers,
//! over an in-process pipe, over streamable HTTP (axum on 127.0.0.1) and over stdio (the
//! `mcp` example binary as a child server exporting to an in-process OTLP receiver). The
//! client's CLIENT span and the server's SERVER span are one trace (context carried in
//! `params._meta`); tool errors, JSON-RPC errors, a call dropped before its answer (the
//! server sees the cancellation), a server that dies mid-call, and content off.

#![allow(clippy::expect_used, clippy::unwrap_used)] // the helpers and tasks below are test code: a failure shows its cause

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use llmetry::{agent, task, workflow};
use llmetry_instruments::mcp::{TracedPeer, TracedServer};
use llmetry_integrations::ops::Ops;
use llmetry_testkit::otlp::OtlpReceiver;
use llmetry_testkit::{HANG_GUARD, attr_str, harness};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{
    StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService,
};
use rmcp::{ServiceError, ServiceExt as _};

const SCOPE: &str = "opentelemetry.instrumentation.mcp.instrumentation";

fn args(key: &str, value: &str) -> JsonObject {
    let mut a = JsonObject::new();
    a.insert(key.to_owned(), value.into());
    a
}

fn tool(name: &'static str, key: &str, value: &str) -> CallToolRequestParams {
    CallToolRequestParams::new(name).with_arguments(args(key, value))
}

/// A client connected to the ops server over an in-process pipe; the server runs until
/// the client closes.
async fn pipe_client() -> RunningService<RoleClient, ()> {
    let (client_side, server_side) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let running = TracedServer::new(Ops)
            .serve(server_side)
            .await
            .expect("server");
        let _ = running.waiting().await;
    });
    let client = ().serve(client_side).await.expect("client");
    drop(server); // detached: it ends when the pipe closes
    client
}

/// The MCP spans of the trace of the (unique) span `root` named `name`, waiting (hang
/// guard) until there are `n`.
async fn mcp_spans(root: &str, name: &str, n: usize) -> Vec<SpanData> {
    let deadline = std::time::Instant::now() + HANG_GUARD;
    loop {
        let spans: Vec<SpanData> = harness()
            .trace_of(root)
            .spans
            .into_iter()
            .filter(|s| s.instrumentation_scope.name() == SCOPE && s.name == name)
            .collect();
        if spans.len() >= n || std::time::Instant::now() >= deadline {
            assert_eq!(spans.len(), n, "{name} spans under {root}");
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn by_kind(spans: &[SpanData], kind: SpanKind) -> &SpanData {
    let found: Vec<&SpanData> = spans.iter().filter(|s| s.span_kind == kind).collect();
    assert_eq!(found.len(), 1, "{kind:?}");
    found[0]
}

fn is_error(s: &SpanData) -> bool {
    matches!(s.status, Status::Error { .. })
}

// ------------------------------------------------------------------ one trace

#[task(name = "grep_task", skip(peer))]
async fn grep_task(peer: &TracedPeer) -> String {
    let r = peer
        .call_tool(tool("grep_logs", "pattern", "OOMKilled"))
        .await
        .expect("call");
    r.content[0].as_text().expect("text").text.clone()
}

#[agent(name = "mcp_agent", skip(peer))]
async fn mcp_agent(peer: &TracedPeer) -> String {
    grep_task(peer).await
}

#[workflow(name = "mcp_wf", skip(peer))]
async fn mcp_wf(peer: &TracedPeer) -> String {
    mcp_agent(peer).await
}

#[tokio::test]
async fn a_tool_call_and_its_handling_are_one_trace() {
    let h = harness();
    let client = pipe_client().await;
    let peer = TracedPeer::new(client.peer().clone()).network_transport("pipe");
    assert_eq!(mcp_wf(&peer).await, "3 lines match OOMKilled");

    let spans = mcp_spans("mcp_wf.workflow", "tools/call grep_logs", 2).await;
    let c = by_kind(&spans, SpanKind::Client);
    let s = by_kind(&spans, SpanKind::Server);
    let t = h.trace_of("mcp_wf.workflow");
    assert_eq!(t.parent_name(c).as_deref(), Some("grep_task.task"));
    assert_eq!(
        s.parent_span_id,
        c.span_context.span_id(),
        "the server's parent is the call"
    );
    for span in [c, s] {
        let a = |k: &str| attr_str(span, k);
        assert_eq!(a("mcp.method.name").as_deref(), Some("tools/call"));
        assert_eq!(a("gen_ai.tool.name").as_deref(), Some("grep_logs"));
        assert_eq!(a("gen_ai.operation.name").as_deref(), Some("execute_tool"));
        assert_eq!(a("network.transport").as_deref(), Some("pipe"));
        assert!(
            a("mcp.protocol.version").is_some_and(|v| v.starts_with("20")),
            "{:?}",
            span.name
        );
        assert!(a("gen_ai.tool.call.arguments").is_some_and(|v| v.contains("OOMKilled")));
        assert!(a("gen_ai.tool.call.result").is_some_and(|v| v.contains("3 lines match")));
        assert_eq!(a("error.type"), None);
        assert_eq!(span.status, Status::Unset);
    }
    assert_eq!(
        attr_str(c, "jsonrpc.request.id"),
        attr_str(s, "jsonrpc.request.id"),
        "one request"
    );
    assert!(attr_str(c, "jsonrpc.request.id").is_some());
    // The client span is enriched like any span of the workflow.
    assert_eq!(
        attr_str(c, "traceloop.workflow.name").as_deref(),
        Some("mcp_wf")
    );
    assert_eq!(
        attr_str(c, "gen_ai.agent.name").as_deref(),
        Some("mcp_agent")
    );
    let _ = client.cancel().await;
}

// ------------------------------------------------------------------ errors

#[task(name = "errors_task", skip(peer))]
async fn errors_task(peer: &TracedPeer) -> (bool, String) {
    let refused = peer
        .call_tool(tool("restart", "service", "postgres"))
        .await
        .expect("a tool error is a result");
    let unknown = match peer.call_tool(tool("nope", "x", "y")).await {
        Err(ServiceError::McpError(e)) => format!("{}: {}", e.code.0, e.message),
        other => panic!("{other:?}"),
    };
    (refused.is_error == Some(true), unknown)
}

#[tokio::test]
async fn tool_errors_and_json_rpc_errors_fail_both_spans() {
    harness();
    let client = pipe_client().await;
    let peer = TracedPeer::new(client.peer().clone());
    let (refused, unknown) = errors_task(&peer).await;
    assert!(refused);
    assert_eq!(unknown, "-32602: unknown tool: nope");

    let restart = mcp_spans("errors_task.task", "tools/call restart", 2).await;
    for s in &restart {
        assert_eq!(
            attr_str(s, "error.type").as_deref(),
            Some("tool_error"),
            "{:?}",
            s.span_kind
        );
        assert!(is_error(s));
        assert_eq!(attr_str(s, "rpc.response.status_code"), None);
    }
    let nope = mcp_spans("errors_task.task", "tools/call nope", 2).await;
    for s in &nope {
        assert_eq!(
            attr_str(s, "error.type").as_deref(),
            Some("-32602"),
            "{:?}",
            s.span_kind
        );
        assert_eq!(
            attr_str(s, "rpc.response.status_code").as_deref(),
            Some("-32602")
        );
        match &s.status {
            Status::Error { description } => assert_eq!(description, "unknown tool: nope"),
            other => panic!("{other:?}"),
        }
    }
    let _ = client.cancel().await;
}

// ------------------------------------------------------------------ tools/list, content off

#[tokio::test]
async fn list_tools_is_a_span_pair_too() {
    harness();
    let client = pipe_client().await;
    let peer = TracedPeer::new(client.peer().clone());
    #[task(name = "list_task", skip(peer))]
    async fn list_task(peer: &TracedPeer) -> usize {
        peer.list_tools(None).await.expect("tools").tools.len()
    }
    assert_eq!(list_task(&peer).await, 4);
    let spans = mcp_spans("list_task.task", "tools/list", 2).await;
    for s in &spans {
        assert_eq!(
            attr_str(s, "mcp.method.name").as_deref(),
            Some("tools/list")
        );
        assert_eq!(
            attr_str(s, "gen_ai.operation.name"),
            None,
            "only tools/call is execute_tool"
        );
    }
    let _ = client.cancel().await;
}

#[tokio::test]
async fn content_off_leaves_out_arguments_and_results_on_the_client() {
    harness();
    let client = pipe_client().await;
    let peer = TracedPeer::new(client.peer().clone());
    #[task(name = "secret_mcp_task", skip(peer))]
    async fn secret_mcp_task(peer: &TracedPeer) {
        peer.call_tool(tool("grep_logs", "pattern", "s3cr3t-pattern"))
            .await
            .expect("call");
        peer.call_tool(tool("restart", "service", "s3cr3t-service"))
            .await
            .expect("call");
    }
    llmetry::with_trace_content(false, secret_mcp_task(&peer)).await;
    for name in ["tools/call grep_logs", "tools/call restart"] {
        let spans = mcp_spans("secret_mcp_task.task", name, 2).await;
        let c = by_kind(&spans, SpanKind::Client);
        for kv in &c.attributes {
            assert!(!kv.value.as_str().contains("s3cr3t"), "{kv:?}");
        }
        assert_eq!(attr_str(c, "gen_ai.tool.call.arguments"), None);
        assert_eq!(attr_str(c, "gen_ai.tool.call.result"), None);
        if let Status::Error { description } = &c.status {
            assert_eq!(description, "tool_error", "the tool's text is content");
        }
    }
    let _ = client.cancel().await;
}

// ------------------------------------------------------------------ dropped early

#[tokio::test]
async fn a_call_dropped_before_its_answer_is_cancelled_on_the_server() {
    harness();
    let client = pipe_client().await;
    let peer = TracedPeer::new(client.peer().clone());
    #[task(name = "impatient_task", skip(peer))]
    async fn impatient_task(peer: &TracedPeer) -> bool {
        let call = peer.call_tool(tool("wait_for_approval", "ticket", "CHG-1"));
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err()
    }
    assert!(impatient_task(&peer).await, "the call was still waiting");
    let spans = mcp_spans("impatient_task.task", "tools/call wait_for_approval", 2).await;
    let c = by_kind(&spans, SpanKind::Client);
    assert_eq!(
        c.status,
        Status::Unset,
        "the caller gave up: no error of the call"
    );
    let s = by_kind(&spans, SpanKind::Server);
    assert_eq!(
        attr_str(s, "error.type").as_deref(),
        Some("-32800"),
        "cancelled"
    );
    let _ = client.cancel().await;
}

// ------------------------------------------------------------------ streamable HTTP

#[tokio::test]
async fn streamable_http_spans_say_tcp_http_and_the_session() {
    harness();
    let service = StreamableHttpService::new(
        || Ok(TracedServer::new(Ops)),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let app = axum::Router::new().nest_service("/mcp", service);
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    let transport = StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
    let client = ().serve(transport).await.expect("client");
    let peer = TracedPeer::new(client.peer().clone())
        .network_transport("tcp")
        .server(addr.ip().to_string(), addr.port());
    #[task(name = "http_task", skip(peer))]
    async fn http_task(peer: &TracedPeer) -> String {
        let r = peer
            .call_tool(tool("disk_usage", "host", "db-1"))
            .await
            .expect("call");
        r.content[0].as_text().expect("text").text.clone()
    }
    assert_eq!(http_task(&peer).await, "db-1: / is 97% full");
    let spans = mcp_spans("http_task.task", "tools/call disk_usage", 2).await;
    let c = by_kind(&spans, SpanKind::Client);
    let s = by_kind(&spans, SpanKind::Server);
    assert_eq!(s.parent_span_id, c.span_context.span_id());
    assert_eq!(attr_str(s, "network.transport").as_deref(), Some("tcp"));
    assert_eq!(
        attr_str(s, "network.protocol.name").as_deref(),
        Some("http")
    );
    assert_eq!(attr_str(c, "server.port"), Some(addr.port().to_string()));
    // rmcp 3.11's client negotiates 2025-11-25, which has sessions (2026-07-28 is
    // stateless, SEP-2567): the server span carries the `Mcp-Session-Id`.
    assert_eq!(
        attr_str(s, "mcp.protocol.version").as_deref(),
        Some("2025-11-25")
    );
    assert!(
        attr_str(s, "mcp.session.id").is_some_and(|id| !id.is_empty()),
        "{:?}",
        s.attributes
    );
    let _ = client.cancel().await;
    let _ = stop.send(());
    let _ = server.await;
}

// ------------------------------------------------------------------ stdio child

/// The `mcp` example binary as a stdio server child, exporting to `rx`.
fn stdio_server(rx: &OtlpReceiver, content: bool) -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TRACELOOP_") || key.starts_with("OTEL_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("serve")
        .env("TRACELOOP_BASE_URL", rx.http_endpoint())
        .env("OTEL_SERVICE_NAME", "mcp_ops_server")
        .env(
            "TRACELOOP_TRACE_CONTENT",
            if content { "true" } else { "false" },
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the mcp example")
}

#[tokio::test]
async fn stdio_child_server_spans_join_the_clients_trace() {
    harness();
    let rx = OtlpReceiver::start();
    let mut child = stdio_server(&rx, false);
    let (stdout, stdin) = (
        child.stdout.take().expect("stdout"),
        child.stdin.take().expect("stdin"),
    );
    let client = ().serve((stdout, stdin)).await.expect("client");
    let peer = TracedPeer::new(client.peer().clone()).network_transport("pipe");
    #[task(name = "stdio_task", skip(peer))]
    async fn stdio_task(peer: &TracedPeer) -> String {
        let r = peer
            .call_tool(tool("grep_logs", "pattern", "s3cr3t-pattern"))
            .await
            .expect("call");
        r.content[0].as_text().expect("text").text.clone()
    }
    assert_eq!(stdio_task(&peer).await, "3 lines match s3cr3t-pattern");
    // Closing the pipe ends the child, which exports its spans before exiting.
    let _ = client.cancel().await;
    let status = tokio::time::timeout(HANG_GUARD, child.wait())
        .await
        .expect("exit")
        .expect("status");
    assert!(status.success(), "{status}");

    let spans = mcp_spans("stdio_task.task", "tools/call grep_logs", 1).await;
    let c = by_kind(&spans, SpanKind::Client);
    assert!(
        attr_str(c, "gen_ai.tool.call.arguments").is_some(),
        "content on here"
    );
    let server = rx
        .spans_of("mcp_ops_server")
        .into_iter()
        .find(|s| s.name == "tools/call grep_logs")
        .expect("the server's span arrived");
    assert_eq!(server.trace_id, c.span_context.trace_id().to_string());
    assert_eq!(server.parent_span_id, c.span_context.span_id().to_string());
    assert_eq!(server.kind, 2, "OTLP SPAN_KIND_SERVER");
    assert_eq!(server.attr("network.transport"), Some("pipe"));
    // Content capture is off in the server process.
    assert_eq!(server.attr("gen_ai.tool.call.arguments"), None);
    assert_eq!(server.attr("gen_ai.tool.call.result"), None);
    assert!(server.attributes.iter().all(|(_, v)| !v.contains("s3cr3t")));
}

#[tokio::test]
async fn a_server_that_dies_mid_call_fails_the_client_span() {
    harness();
    let rx = OtlpReceiver::start();
    let mut child = stdio_server(&rx, true);
    let (stdout, stdin) = (
        child.stdout.take().expect("stdout"),
        child.stdin.take().expect("stdin"),
    );
    let client = ().serve((stdout, stdin)).await.expect("client");
    let peer = TracedPeer::new(client.peer().clone());
    #[task(name = "orphan_task", skip(peer, child))]
    async fn orphan_task(peer: &TracedPeer, child: &mut tokio::process::Child) -> String {
        let call = peer.call_tool(tool("wait_for_approval", "ticket", "CHG-2"));
        let kill = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            child.start_kill().expect("kill");
        };
        let (result, ()) = tokio::join!(call, kill);
        match result {
            Err(e) => e.to_string(),
            Ok(r) => panic!("a dead server answered {r:?}"),
        }
    }
    let error = orphan_task(&peer, &mut child).await;
    assert!(
        error.contains("closed") || error.contains("Transport"),
        "{error}"
    );
    let spans = mcp_spans("orphan_task.task", "tools/call wait_for_approval", 1).await;
    let c = by_kind(&spans, SpanKind::Client);
    assert!(is_error(c));
    assert!(
        matches!(
            attr_str(c, "error.type").as_deref(),
            Some("transport_closed" | "transport_error")
        ),
        "{:?}",
        attr_str(c, "error.type")
    );
}

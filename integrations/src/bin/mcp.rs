//! An agent calling the tools of an MCP server (rmcp 3.11), over stdio and over streamable
//! HTTP, with client and server spans in one trace.
//!
//! `cargo run -p llmetry-integrations --bin mcp` runs the agent: it serves the example
//! "ops" server ([`llmetry_integrations::ops`]) itself, on streamable HTTP at
//! `127.0.0.1:<free port>/mcp`, and starts a second copy of itself as a stdio server child
//! (`mcp serve`). The `#[workflow(name = "mcp_incident")]` asks both for tools
//! (`tools/list`), greps the logs over stdio, checks the disk over HTTP and tries a restart
//! that the server refuses (a tool error). Every call is a CLIENT span under the agent's
//! span and the server's handling of it a SERVER span beneath (the trace context travels in
//! `params._meta`), so one trace holds the agent, its calls and the two servers' work.
//!
//! `mcp serve` alone is the stdio server (what an MCP host starts): it reads requests on
//! stdin and writes answers on stdout, telemetry going where `TRACELOOP_*` / `OTEL_*` say
//! (the child inherits the agent's environment). Telemetry settings as in the README; with
//! none, the span trees are printed on stderr.

use std::process::{ExitCode, Stdio};
use std::sync::Arc;

use llmetry::{agent, task, workflow};
use llmetry_instruments::mcp::{TracedPeer, TracedServer};
use llmetry_integrations::ops::Ops;
use llmetry_integrations::{env_or, shutdown, telemetry_or_none};
use rmcp::ServiceExt as _;
use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{
    StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn args(key: &str, value: &str) -> JsonObject {
    let mut a = JsonObject::new();
    a.insert(key.to_owned(), value.into());
    a
}

/// One tool call; its text (a tool error's text too).
async fn call(
    peer: &TracedPeer,
    tool: &'static str,
    key: &str,
    value: &str,
) -> Result<String, Error> {
    let result = peer
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args(key, value)))
        .await?;
    let text: Vec<String> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    let text = text.join(" ");
    Ok(if result.is_error == Some(true) {
        format!("refused: {text}")
    } else {
        text
    })
}

#[task(name = "inspect", skip(stdio, http))]
async fn inspect(stdio: &TracedPeer, http: &TracedPeer, host: &str) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    let tools = stdio.list_tools(None).await?.tools;
    lines.push(format!("stdio server tools: {}", tools.len()));
    let tools = http.list_tools(None).await?.tools;
    lines.push(format!("http server tools: {}", tools.len()));
    lines.push(call(stdio, "grep_logs", "pattern", "OOMKilled").await?);
    lines.push(call(http, "disk_usage", "host", host).await?);
    Ok(lines)
}

#[agent(name = "ops_agent", skip(stdio, http))]
async fn ops_agent(
    stdio: &TracedPeer,
    http: &TracedPeer,
    host: &str,
) -> Result<Vec<String>, Error> {
    let mut lines = inspect(stdio, http, host).await?;
    lines.push(call(http, "restart", "service", "postgres").await?);
    Ok(lines)
}

#[workflow(name = "mcp_incident", skip(stdio, http))]
async fn incident(stdio: &TracedPeer, http: &TracedPeer, host: &str) -> Result<Vec<String>, Error> {
    ops_agent(stdio, http, host).await
}

/// `mcp serve`: the ops server on stdio, until the client closes it.
async fn serve_stdio() -> ExitCode {
    let telemetry = telemetry_or_none(
        "mcp serve",
        llmetry::init()
            .app_name(env_or("OTEL_SERVICE_NAME", "mcp_ops_server"))
            .disable_batch(true)
            .install(),
    );
    let code = match TracedServer::new(Ops).serve(rmcp::transport::stdio()).await {
        Ok(running) => match running.waiting().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mcp serve: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("mcp serve: {e}");
            ExitCode::FAILURE
        }
    };
    shutdown("mcp serve", telemetry);
    code
}

/// The ops server on streamable HTTP at `127.0.0.1:<port>/mcp`, until `stop` fires.
async fn serve_http(
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), Error> {
    let service = StreamableHttpService::new(
        || Ok(TracedServer::new(Ops)),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().nest_service("/mcp", service);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .await;
    });
    Ok((addr, task))
}

async fn run_agent() -> Result<Vec<String>, Error> {
    // The HTTP server, in this process.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let (addr, server) = serve_http(stop_rx).await?;
    let url = format!("http://{addr}/mcp");
    let http_client = ().serve(StreamableHttpClientTransport::from_uri(url)).await?;
    let http = TracedPeer::new(http_client.peer().clone())
        .network_transport("tcp")
        .server(addr.ip().to_string(), addr.port());

    // The stdio server: this program again, as `mcp serve`.
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
        return Err("the stdio server child has no pipes".into());
    };
    let stdio_client = ().serve((stdout, stdin)).await?;
    let stdio = TracedPeer::new(stdio_client.peer().clone()).network_transport("pipe");

    let result = incident(&stdio, &http, "db-1").await;

    // Closing stdin ends the child's serve loop: it exports its spans and exits.
    let _ = stdio_client.cancel().await;
    match tokio::time::timeout(std::time::Duration::from_secs(30), child.wait()).await {
        Ok(Ok(status)) if !status.success() => {
            eprintln!("mcp: the stdio server exited with {status}")
        }
        Ok(Err(e)) => eprintln!("mcp: waiting for the stdio server: {e}"),
        Err(_) => eprintln!("mcp: the stdio server did not exit within 30 s"),
        Ok(Ok(_)) => {}
    }
    let _ = http_client.cancel().await;
    let _ = stop_tx.send(());
    let _ = server.await;
    result
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("serve") {
        return serve_stdio().await;
    }
    let telemetry = telemetry_or_none(
        "mcp",
        llmetry::init()
            .app_name(env_or("OTEL_SERVICE_NAME", "mcp_agent"))
            .disable_batch(true)
            .install(),
    );
    let code = match run_agent().await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mcp: {e}");
            ExitCode::FAILURE
        }
    };
    shutdown("mcp", telemetry);
    code
}

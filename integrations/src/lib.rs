//! What the Gemini, Bedrock and MCP example programs (`src/bin/`) and the integration tests
//! (`tests/`) share: the environment and telemetry plumbing of the examples, and the client
//! and server set-ups that show the one line each integration asks of a user:
//!
//! | integration | module | the line |
//! |---|---|---|
//! | Gemini (rig 0.43, raw reqwest) | [`gemini`] | `.with(LlmMiddleware::default())` on the reqwest client |
//! | Bedrock (`aws-sdk-bedrockruntime`) | [`bedrock`] | `.interceptor(BedrockInterceptor::default())` on the client config |
//! | MCP (rmcp 3.11) | [`ops`] | `TracedServer::new(handler)` on the server, `TracedPeer::new(peer)` on the client |
//! | `genai` 0.7 (feature `genai`, not default) | `tests/genai.rs` | none: genai's own `otel` feature; llmetry's tracing layer exports its spans |
//!
//! Every example runs with no credentials and no network: each answers from a local stub
//! speaking the provider's wire format (the tests' `llmetry_testkit::llm_stub`), or, for
//! MCP, from its own server.

use llmetry::{InitError, Telemetry};

/// The value of the environment variable `key`, or `default` when it is unset or blank.
pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// The variable `key` when it is set and not blank.
pub fn env_opt(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// The telemetry handle of `installed`, or `None` after saying on stderr that `program`
/// runs without telemetry: telemetry must never stop a program.
pub fn telemetry_or_none(
    program: &str,
    installed: Result<Telemetry, InitError>,
) -> Option<Telemetry> {
    match installed {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("{program}: running without telemetry: {e}");
            None
        }
    }
}

/// Shuts `telemetry` down (delivering what is still buffered), reporting a failure on
/// stderr.
pub fn shutdown(program: &str, telemetry: Option<Telemetry>) {
    if let Some(t) = telemetry
        && let Err(e) = t.shutdown()
    {
        eprintln!("{program}: {e}");
    }
}

/// Gemini clients: raw reqwest and rig's Gemini provider, both through `LlmMiddleware`.
#[cfg(feature = "gemini")]
pub mod gemini {
    use llmetry_instruments::LlmMiddleware;
    use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
    use rig_core::providers::gemini::{Gemini, GeminiConfig};
    use rig_reqwest::ReqwestMiddlewareClient;

    /// A reqwest client whose LLM calls become spans: the one line is `.with(..)`.
    pub fn http_client() -> ClientWithMiddleware {
        ClientBuilder::new(reqwest::Client::new())
            .with(LlmMiddleware::default())
            .build()
    }

    /// rig's Gemini provider on `base_url` (its key travels as `?key=`), its HTTP through
    /// [`http_client`]. (rig's `Gemini::new(key)` uses a plain shared client: not captured.)
    pub fn rig(api_key: &str, base_url: &str) -> Gemini {
        GeminiConfig::new(api_key.to_owned())
            .with_base_url(base_url)
            .connect(ReqwestMiddlewareClient::from(http_client()))
    }
}

/// A Bedrock Runtime client with [`llmetry_instruments::BedrockInterceptor`].
#[cfg(feature = "bedrock")]
pub mod bedrock {
    use aws_sdk_bedrockruntime::config::retry::RetryConfig;
    use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

    /// The model the examples and tests ask for (a cross-region inference profile).
    pub const MODEL: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";

    /// A client for `region`, signing with `credentials`, sending to `endpoint` when given
    /// (a stub, a proxy) and else to Bedrock's regional endpoint. No `aws-config`: no
    /// credential chain, no instance metadata lookups. The HTTP client is hyper with rustls
    /// and ring. `retry` as the SDK's (`RetryConfig::standard()` is its default).
    pub fn client(
        region: &str,
        credentials: Credentials,
        endpoint: Option<&str>,
        retry: RetryConfig,
    ) -> aws_sdk_bedrockruntime::Client {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut config = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials)
            .http_client(http)
            .retry_config(retry)
            // The one line: every Converse / ConverseStream call becomes a span.
            .interceptor(llmetry_instruments::BedrockInterceptor::default());
        if let Some(url) = endpoint {
            config = config.endpoint_url(url);
        }
        aws_sdk_bedrockruntime::Client::from_conf(config.build())
    }

    /// Static credentials for a stub (it checks that a SigV4 signature is there, not it).
    pub fn stub_credentials() -> Credentials {
        Credentials::new("AKIDLLMETRYSTUB", "llmetry-stub-secret", None, None, "stub")
    }
}

/// The example MCP server ("ops"): three tools, written without rmcp's macros.
///
/// - `grep_logs {pattern}` → `"3 lines match <pattern>"`;
/// - `disk_usage {host}` → `"<host>: / is 97% full"`;
/// - `restart {service}` → a tool error (`isError: true`): `"restart of <service> needs an approval"`;
/// - `wait_for_approval {ticket}` → waits until the request is cancelled (then the JSON-RPC
///   error `-32800`) or [`ops::APPROVAL_WAIT`] passed (`"<ticket> approved"`);
/// - any other tool → the JSON-RPC error `-32602` (invalid params: unknown tool).
#[cfg(feature = "mcp")]
pub mod ops {
    use std::sync::Arc;

    use rmcp::model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode,
        JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
        Tool,
    };
    use rmcp::service::{RequestContext, RoleServer};
    use rmcp::{ErrorData, ServerHandler};
    use serde_json::json;

    /// The server's handler.
    #[derive(Debug, Clone, Default)]
    pub struct Ops;

    /// How long `wait_for_approval` waits when nobody cancels it.
    pub const APPROVAL_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

    fn schema(property: &str) -> Arc<JsonObject> {
        let v = json!({
            "type": "object",
            "properties": {property: {"type": "string"}},
            "required": [property],
        });
        Arc::new(match v {
            serde_json::Value::Object(o) => o,
            _ => JsonObject::new(),
        })
    }

    /// The tools, as `tools/list` gives them.
    pub fn tools() -> Vec<Tool> {
        vec![
            Tool::new(
                "grep_logs",
                "Search the logs for a pattern",
                schema("pattern"),
            ),
            Tool::new("disk_usage", "Disk usage of a host", schema("host")),
            Tool::new("restart", "Restart a service", schema("service")),
            Tool::new(
                "wait_for_approval",
                "Wait until a change ticket is approved",
                schema("ticket"),
            ),
        ]
    }

    fn arg<'a>(params: &'a CallToolRequestParams, name: &str) -> &'a str {
        params
            .arguments
            .as_ref()
            .and_then(|a| a.get(name))
            .and_then(|v| v.as_str())
            .unwrap_or("?")
    }

    impl ServerHandler for Ops {
        fn get_info(&self) -> ServerConfig {
            ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
        }

        async fn list_tools(
            &self,
            _request: Option<PaginatedRequestParams>,
            _context: RequestContext<RoleServer>,
        ) -> Result<ListToolsResult, ErrorData> {
            Ok(ListToolsResult::with_all_items(tools()))
        }

        async fn call_tool(
            &self,
            request: CallToolRequestParams,
            context: RequestContext<RoleServer>,
        ) -> Result<CallToolResponse, ErrorData> {
            let text = |s: String| vec![ContentBlock::text(s)];
            let result = match request.name.as_ref() {
                "grep_logs" => CallToolResult::success(text(format!(
                    "3 lines match {}",
                    arg(&request, "pattern")
                ))),
                "disk_usage" => CallToolResult::success(text(format!(
                    "{}: / is 97% full",
                    arg(&request, "host")
                ))),
                "restart" => CallToolResult::error(text(format!(
                    "restart of {} needs an approval",
                    arg(&request, "service")
                ))),
                "wait_for_approval" => {
                    tokio::select! {
                        () = context.ct.cancelled() => {
                            return Err(ErrorData::new(ErrorCode(-32800), "request cancelled", None));
                        }
                        () = tokio::time::sleep(APPROVAL_WAIT) => {
                            CallToolResult::success(text(format!("{} approved", arg(&request, "ticket"))))
                        }
                    }
                }
                other => {
                    return Err(ErrorData::invalid_params(
                        format!("unknown tool: {other}"),
                        None,
                    ));
                }
            };
            Ok(result.into())
        }
    }
}

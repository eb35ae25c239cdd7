//! The MCP adapter (feature `mcp`, rmcp 3.11): client and server spans per the OpenTelemetry
//! MCP conventions, and W3C trace context carried in `params._meta`, so that an agent's tool
//! call and the server's handling of it are one trace.
//!
//! - [`TracedServer`] wraps a `ServerHandler` and delegates every method; each request
//!   method opens a SERVER span whose parent is the `traceparent` / `tracestate` (and
//!   `baggage`) the request carries in `_meta` (linking the context the handler task runs
//!   in, if any). It is a `ServerHandler` itself, so it serves over stdio, any
//!   `AsyncRead + AsyncWrite` pair and the streamable HTTP service alike.
//! - [`TracedPeer`] wraps a client `Peer` at the call site: rmcp's client hands a request
//!   to its service loop through a channel, and the loop's transport sends it on another
//!   task, so only a wrapper around the caller's call sees the caller's context (and so the
//!   workflow and agent the call belongs to). It opens a CLIENT span under the current
//!   context, writes the span's context into the request's `_meta`, and records the answer.
//!
//! Span name `{mcp.method.name} {target}` (target: the tool of `tools/call`, the prompt of
//! `prompts/get`; none otherwise); attributes `mcp.method.name`, `jsonrpc.request.id`,
//! `mcp.protocol.version`, `mcp.session.id` (server, streamable HTTP), `network.transport`,
//! `gen_ai.tool.name`, `gen_ai.prompt.name`, `mcp.resource.uri`, `gen_ai.operation.name =
//! execute_tool` on `tools/call`; a JSON-RPC error gives `error.type` and
//! `rpc.response.status_code` (the code) and status ERROR with its message; a tool result with
//! `isError: true` gives `error.type = tool_error`. Tool arguments and results
//! (`gen_ai.tool.call.arguments` / `.result`) only when content capture allows
//! ([`llmetry::trace_content_enabled`]). Notifications get no spans.

use std::borrow::Cow;

use llmetry::semconv as k;
use opentelemetry::context::FutureExt as _;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{Link, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams,
    CancelledNotificationParam, ClientRequest, CompleteRequestParams, CompleteResult,
    CustomNotification, CustomRequest, CustomResult, DiscoverResult, GetPromptRequest,
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, GetSkillRequestParams,
    GetSkillResult, GetTaskParams, GetTaskResult, InitializeRequestParams, InitializeResult,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListSkillsResult,
    ListToolsRequest, ListToolsResult, MetaObject, PaginatedRequestParams, PingRequest,
    ProgressNotificationParam, ProtocolVersion, ReadResourceDirectoryRequestParams,
    ReadResourceDirectoryResult, ReadResourceRequest, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, RequestMetaObject, ServerConfig, ServerResult,
    SubscribeRequestParams, SubscriptionFilter, Tool, UnsubscribeRequestParams, UpdateTaskParams,
};
// Logging (`logging/setLevel`) is deprecated by SEP-2577; it is still delegated.
#[allow(deprecated)]
use rmcp::model::SetLevelRequestParams;
use rmcp::service::{
    NotificationContext, PeerRequestOptions, RequestContext, RoleClient, RoleServer,
    SubscriptionContext,
};
use rmcp::{ErrorData as McpError, Peer, ServerHandler, ServiceError};

/// What a request is, for its span.
struct Call<'a> {
    method: &'static str,
    /// The tool of `tools/call`.
    tool: Option<&'a str>,
    /// The prompt of `prompts/get`.
    prompt: Option<&'a str>,
    /// The resource of `resources/read`, `resources/subscribe`, `resources/unsubscribe`.
    resource: Option<&'a str>,
    /// Tool-call arguments (recorded only when content capture allows).
    arguments: Option<&'a rmcp::model::JsonObject>,
}

impl<'a> Call<'a> {
    fn method(method: &'static str) -> Self {
        Call {
            method,
            tool: None,
            prompt: None,
            resource: None,
            arguments: None,
        }
    }

    fn resource(method: &'static str, uri: &'a str) -> Self {
        Call {
            resource: Some(uri),
            ..Call::method(method)
        }
    }

    /// `{mcp.method.name} {target}`.
    fn span_name(&self) -> String {
        match self.tool.or(self.prompt) {
            Some(target) => format!("{} {target}", self.method),
            None => self.method.to_owned(),
        }
    }

    /// The attributes every span of this call has.
    fn attributes(&self, content: bool) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(8);
        attrs.push(KeyValue::new(k::MCP_METHOD_NAME, self.method));
        if let Some(tool) = self.tool {
            attrs.push(KeyValue::new(k::GEN_AI_TOOL_NAME, tool.to_owned()));
            attrs.push(KeyValue::new(
                k::GEN_AI_OPERATION_NAME,
                k::EXECUTE_TOOL_OPERATION,
            ));
        }
        if let Some(prompt) = self.prompt {
            attrs.push(KeyValue::new(k::GEN_AI_PROMPT_NAME, prompt.to_owned()));
        }
        if let Some(uri) = self.resource {
            attrs.push(KeyValue::new(k::MCP_RESOURCE_URI, uri.to_owned()));
        }
        if content && let Some(args) = self.arguments {
            attrs.push(KeyValue::new(
                k::GEN_AI_TOOL_CALL_ARGUMENTS,
                json_value(args),
            ));
        }
        attrs
    }
}

/// JSON of `v`, cut to the attribute value length limit.
fn json_value(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string(v).unwrap_or_default();
    llmetry::truncate_value(&mut s);
    s
}

struct MetaExtractor<'a>(&'a MetaObject);

impl Extractor for MetaExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.0.get(key).and_then(serde_json::Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.0.keys().map(String::as_str).collect()
    }
}

struct MetaInjector<'a>(&'a mut MetaObject);

impl Injector for MetaInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0
            .0
            .insert(key.to_owned(), serde_json::Value::String(value));
    }
}

/// An open MCP span and how it ends.
struct McpSpan {
    cx: Context,
    content: bool,
}

impl McpSpan {
    fn record_error(&self, e: &McpError) {
        let code = e.code.0.to_string();
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(k::ERROR_TYPE, code.clone()));
        span.set_attribute(KeyValue::new(k::RPC_RESPONSE_STATUS_CODE, code));
        span.set_status(Status::error(e.message.to_string()));
    }

    /// A tool call's result: `tool_error` when it says `isError`, the result itself when
    /// content capture allows.
    fn record_tool_result(&self, result: &CallToolResult) {
        let span = self.cx.span();
        if self.content {
            let value = match &result.structured_content {
                Some(structured) => json_value(structured),
                None => json_value(&result.content),
            };
            span.set_attribute(KeyValue::new(k::GEN_AI_TOOL_CALL_RESULT, value));
        }
        if result.is_error == Some(true) {
            span.set_attribute(KeyValue::new(k::ERROR_TYPE, k::MCP_TOOL_ERROR_TYPE));
            // The tool's text is content: the description says only what kind of error.
            let description = if self.content {
                result
                    .content
                    .iter()
                    .find_map(|c| c.as_text().map(|t| t.text.clone()))
                    .unwrap_or_else(|| k::MCP_TOOL_ERROR_TYPE.to_owned())
            } else {
                k::MCP_TOOL_ERROR_TYPE.to_owned()
            };
            span.set_status(Status::error(description));
        }
    }

    fn end(self) {
        self.cx.span().end();
    }
}

// ------------------------------------------------------------------------------ server

/// A `ServerHandler` that opens a SERVER span for every request it handles, parented on the
/// trace context the client sent in `params._meta`, and delegates every method to the
/// handler it wraps.
///
/// ```
/// use rmcp::ServerHandler;
/// use rmcp::model::{ServerCapabilities, ServerConfig};
///
/// #[derive(Clone)]
/// struct Ops;
/// impl ServerHandler for Ops {
///     fn get_info(&self) -> ServerConfig {
///         ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
///     }
/// }
///
/// // stdio: `TracedServer::new(Ops).serve(rmcp::transport::stdio()).await?`; streamable
/// // HTTP: `StreamableHttpService::new(|| Ok(TracedServer::new(Ops)), …)`.
/// let server = llmetry_instruments::mcp::TracedServer::new(Ops);
/// assert!(server.get_info().capabilities.tools.is_some());
/// ```
///
/// Requests that rmcp rejects before it calls the handler (an unsupported protocol version,
/// malformed request `_meta`) get no span. The wrapper follows rmcp 3.11's `ServerHandler`;
/// a later rmcp adding a method with a default body would not reach the wrapped handler
/// until this wrapper delegates it too (the `mcp` feature pins rmcp `~3.11`).
#[derive(Debug, Clone)]
pub struct TracedServer<H> {
    inner: H,
    transport: Option<Cow<'static, str>>,
}

impl<H: ServerHandler> TracedServer<H> {
    /// Wraps `handler`.
    ///
    /// ```
    /// # #[derive(Clone)] struct Ops;
    /// # impl rmcp::ServerHandler for Ops {}
    /// let server = llmetry_instruments::mcp::TracedServer::new(Ops);
    /// # drop(server);
    /// ```
    pub fn new(handler: H) -> Self {
        Self {
            inner: handler,
            transport: None,
        }
    }

    /// `network.transport` of the spans when the request did not come over HTTP (where it
    /// is `tcp`). Default: `pipe` (stdio, a child process, an in-process pipe).
    ///
    /// ```
    /// # #[derive(Clone)] struct Ops;
    /// # impl rmcp::ServerHandler for Ops {}
    /// // A server serving a Unix socket:
    /// let server = llmetry_instruments::mcp::TracedServer::new(Ops).network_transport("unix");
    /// # drop(server);
    /// ```
    pub fn network_transport(mut self, transport: impl Into<Cow<'static, str>>) -> Self {
        self.transport = Some(transport.into());
        self
    }

    /// The wrapped handler.
    ///
    /// ```
    /// # #[derive(Clone, PartialEq, Debug)] struct Ops;
    /// # impl rmcp::ServerHandler for Ops {}
    /// let server = llmetry_instruments::mcp::TracedServer::new(Ops);
    /// assert_eq!(server.inner(), &Ops);
    /// ```
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// Opens the SERVER span of `call` for the request of `context`.
    fn open(&self, call: &Call<'_>, context: &RequestContext<RoleServer>) -> Option<McpSpan> {
        if !llmetry::instrument_enabled(llmetry::Instrument::Mcp) {
            return None;
        }
        let ambient = Context::current();
        let remote = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract_with_context(&ambient, &MetaExtractor(&context.meta))
        });
        let remote_span = remote.span().span_context().clone();
        let (parent, links) = if remote_span.is_valid() {
            // The MCP context is the parent; the transport's (ambient) one a link.
            let ambient_span = ambient.span().span_context().clone();
            let links = if ambient_span.is_valid() && ambient_span != remote_span {
                vec![Link::with_context(ambient_span)]
            } else {
                Vec::new()
            };
            (remote, links)
        } else {
            (ambient, Vec::new())
        };
        let content = llmetry::trace_content_enabled();
        let mut attrs = call.attributes(content);
        attrs.push(KeyValue::new(k::JSONRPC_REQUEST_ID, context.id.to_string()));
        if let Some(version) = context.protocol_version() {
            attrs.push(KeyValue::new(
                k::MCP_PROTOCOL_VERSION,
                version.as_str().to_owned(),
            ));
        }
        match context.extensions.get::<http::request::Parts>() {
            Some(parts) => {
                attrs.push(KeyValue::new(k::NETWORK_TRANSPORT, "tcp"));
                attrs.push(KeyValue::new(k::NETWORK_PROTOCOL_NAME, "http"));
                if let Some(session) = parts
                    .headers
                    .get("mcp-session-id")
                    .and_then(|v| v.to_str().ok())
                {
                    attrs.push(KeyValue::new(k::MCP_SESSION_ID, session.to_owned()));
                }
            }
            None => attrs.push(KeyValue::new(
                k::NETWORK_TRANSPORT,
                self.transport.clone().unwrap_or(Cow::Borrowed("pipe")),
            )),
        }
        let tracer = opentelemetry::global::tracer(k::MCP_SCOPE);
        let span = tracer
            .span_builder(call.span_name())
            .with_kind(SpanKind::Server)
            .with_attributes(attrs)
            .with_links(links)
            .start_with_context(&tracer, &parent);
        Some(McpSpan {
            cx: parent.with_span(span),
            content,
        })
    }

    /// Runs `fut` (the wrapped handler's answer to the request of `context`) under the span
    /// of `call`, and ends the span with its outcome.
    async fn traced<T>(
        &self,
        call: Call<'_>,
        context: RequestContext<RoleServer>,
        run: impl AsyncFnOnce(&H, RequestContext<RoleServer>) -> Result<T, McpError>,
        on_ok: impl FnOnce(&McpSpan, &T),
    ) -> Result<T, McpError> {
        let Some(span) = self.open(&call, &context) else {
            return run(&self.inner, context).await;
        };
        let result = run(&self.inner, context)
            .with_context(span.cx.clone())
            .await;
        match &result {
            Ok(value) => on_ok(&span, value),
            Err(e) => span.record_error(e),
        }
        span.end();
        result
    }
}

fn nothing<T>(_: &McpSpan, _: &T) {}

#[allow(deprecated)] // `subscribe` / `unsubscribe` are legacy, still delegated.
impl<H: ServerHandler> ServerHandler for TracedServer<H> {
    async fn ping(&self, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.traced(
            Call::method("ping"),
            context,
            async |h, c| h.ping(c).await,
            nothing,
        )
        .await
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        self.traced(
            Call::method("initialize"),
            context,
            async |h, c| h.initialize(request, c).await,
            |span, result: &InitializeResult| {
                span.cx.span().set_attribute(KeyValue::new(
                    k::MCP_PROTOCOL_VERSION,
                    result.protocol_version.as_str().to_owned(),
                ));
            },
        )
        .await
    }

    fn negotiate_initialize(
        &self,
        request: &InitializeRequestParams,
    ) -> Result<InitializeResult, McpError> {
        self.inner.negotiate_initialize(request)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, McpError> {
        self.traced(
            Call::method("server/discover"),
            context,
            async |h, c| h.discover(c).await,
            nothing,
        )
        .await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        self.traced(
            Call::method("completion/complete"),
            context,
            async |h, c| h.complete(request, c).await,
            nothing,
        )
        .await
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.traced(
            Call::method("logging/setLevel"),
            context,
            async |h, c| h.set_level(request, c).await,
            nothing,
        )
        .await
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let name = request.name.clone();
        let call = Call {
            prompt: Some(&name),
            ..Call::method("prompts/get")
        };
        self.traced(
            call,
            context,
            async |h, c| h.get_prompt(request, c).await,
            nothing,
        )
        .await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        self.traced(
            Call::method("prompts/list"),
            context,
            async |h, c| h.list_prompts(request, c).await,
            nothing,
        )
        .await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        self.traced(
            Call::method("resources/list"),
            context,
            async |h, c| h.list_resources(request, c).await,
            nothing,
        )
        .await
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        self.traced(
            Call::method("resources/templates/list"),
            context,
            async |h, c| h.list_resource_templates(request, c).await,
            nothing,
        )
        .await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.clone();
        self.traced(
            Call::resource("resources/read", &uri),
            context,
            async |h, c| h.read_resource(request, c).await,
            nothing,
        )
        .await
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        // A long-lived subscription, not a request/response: no span.
        self.inner.listen(context).await
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let uri = request.uri.clone();
        self.traced(
            Call::resource("resources/subscribe", &uri),
            context,
            async |h, c| h.subscribe(request, c).await,
            nothing,
        )
        .await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let uri = request.uri.clone();
        self.traced(
            Call::resource("resources/unsubscribe", &uri),
            context,
            async |h, c| h.unsubscribe(request, c).await,
            nothing,
        )
        .await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let (name, arguments) = (request.name.clone(), request.arguments.clone());
        let call = Call {
            tool: Some(&name),
            arguments: arguments.as_ref(),
            ..Call::method("tools/call")
        };
        self.traced(
            call,
            context,
            async |h, c| h.call_tool(request, c).await,
            |span, response: &CallToolResponse| {
                if let CallToolResponse::Complete(result) = response {
                    span.record_tool_result(result);
                }
            },
        )
        .await
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.traced(
            Call::method("tools/list"),
            context,
            async |h, c| h.list_tools(request, c).await,
            nothing,
        )
        .await
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name)
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        self.traced(
            Call::method("custom"),
            context,
            async |h, c| h.on_custom_request(request, c).await,
            nothing,
        )
        .await
    }

    async fn on_cancelled(
        &self,
        notification: CancelledNotificationParam,
        context: NotificationContext<RoleServer>,
    ) {
        self.inner.on_cancelled(notification, context).await
    }

    async fn on_progress(
        &self,
        notification: ProgressNotificationParam,
        context: NotificationContext<RoleServer>,
    ) {
        self.inner.on_progress(notification, context).await
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.inner.on_initialized(context).await
    }

    async fn on_roots_list_changed(&self, context: NotificationContext<RoleServer>) {
        self.inner.on_roots_list_changed(context).await
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) {
        self.inner
            .on_custom_notification(notification, context)
            .await
    }

    fn get_info(&self) -> ServerConfig {
        self.inner.get_info()
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        self.traced(
            Call::method("tasks/get"),
            context,
            async |h, c| h.get_task(request, c).await,
            nothing,
        )
        .await
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.traced(
            Call::method("tasks/update"),
            context,
            async |h, c| h.update_task(request, c).await,
            nothing,
        )
        .await
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.traced(
            Call::method("tasks/cancel"),
            context,
            async |h, c| h.cancel_task(request, c).await,
            nothing,
        )
        .await
    }

    async fn list_skills(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, McpError> {
        self.traced(
            Call::method("skills/list"),
            context,
            async |h, c| h.list_skills(request, c).await,
            nothing,
        )
        .await
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, McpError> {
        self.traced(
            Call::method("skills/get"),
            context,
            async |h, c| h.get_skill(request, c).await,
            nothing,
        )
        .await
    }

    async fn read_resource_directory(
        &self,
        request: ReadResourceDirectoryRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceDirectoryResult, McpError> {
        self.traced(
            Call::method("resources/directory/read"),
            context,
            async |h, c| h.read_resource_directory(request, c).await,
            nothing,
        )
        .await
    }
}

// ------------------------------------------------------------------------------ client

/// A client `Peer` whose requests open CLIENT spans under the caller's context and carry
/// that span's trace context (`traceparent`, `tracestate`, `baggage`) in `params._meta`.
///
/// ```
/// use llmetry_instruments::mcp::{TracedPeer, TracedServer};
/// use rmcp::ServiceExt as _;
/// use rmcp::model::{ServerCapabilities, ServerConfig};
///
/// #[derive(Clone)]
/// struct Ops; // a server with no tools
/// impl rmcp::ServerHandler for Ops {
///     fn get_info(&self) -> ServerConfig {
///         ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Any transport: stdio, a child process, streamable HTTP; here an in-process pipe.
/// let (client_io, server_io) = tokio::io::duplex(64 * 1024);
/// tokio::spawn(async move {
///     if let Ok(running) = TracedServer::new(Ops).serve(server_io).await {
///         let _ = running.waiting().await;
///     }
/// });
/// let client = ().serve(client_io).await?; // rmcp's RunningService
/// let traced = TracedPeer::new(client.peer().clone()).network_transport("pipe");
/// assert!(traced.list_tools(None).await?.tools.is_empty()); // a CLIENT span, and a SERVER one
/// # Ok(()) }
/// ```
///
/// Each method sends one request (no MRTR `input_required` rounds, no response cache: an
/// `input_required` or task answer is `ServiceError::UnexpectedResponse`, as with rmcp's
/// `Peer::call_tool`); a call dropped before its answer sends `notifications/cancelled`, as
/// rmcp's own methods do. Anything else goes through [`TracedPeer::send_request`].
#[derive(Debug, Clone)]
pub struct TracedPeer {
    peer: Peer<RoleClient>,
    transport: Option<Cow<'static, str>>,
    server: Option<(String, u16)>,
}

/// Sends `notifications/cancelled` for a request whose caller stopped waiting.
struct CancelOnDrop {
    peer: Peer<RoleClient>,
    id: Option<rmcp::model::RequestId>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let peer = self.peer.clone();
            runtime.spawn(async move {
                let params = CancelledNotificationParam::new(
                    Some(id),
                    Some("request abandoned by the caller".to_owned()),
                );
                let _ = peer.notify_cancelled(params).await;
            });
        }
    }
}

/// A low-cardinality `error.type` for a client-side failure that is no JSON-RPC error.
fn service_error_type(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::McpError(_) => "mcp_error",
        ServiceError::TransportSend(_) => "transport_error",
        ServiceError::TransportClosed => "transport_closed",
        ServiceError::UnexpectedResponse => "unexpected_response",
        ServiceError::Cancelled { .. } => "cancelled",
        ServiceError::Timeout { .. } => "timeout",
        _ => "service_error",
    }
}

impl TracedPeer {
    /// Wraps a client peer (`running_service.peer().clone()`).
    ///
    /// ```no_run
    /// # async fn demo(client: rmcp::service::RunningService<rmcp::RoleClient, ()>) {
    /// let traced = llmetry_instruments::mcp::TracedPeer::new(client.peer().clone());
    /// # drop(traced); }
    /// ```
    pub fn new(peer: Peer<RoleClient>) -> Self {
        Self {
            peer,
            transport: None,
            server: None,
        }
    }

    /// `network.transport` of the spans: `pipe` for stdio, `tcp` for HTTP. Default: unset.
    ///
    /// ```no_run
    /// # fn demo(peer: rmcp::Peer<rmcp::RoleClient>) {
    /// use llmetry_instruments::mcp::TracedPeer;
    /// let traced = TracedPeer::new(peer).network_transport("tcp").server("127.0.0.1", 8080);
    /// # drop(traced); }
    /// ```
    pub fn network_transport(mut self, transport: impl Into<Cow<'static, str>>) -> Self {
        self.transport = Some(transport.into());
        self
    }

    /// `server.address` / `server.port` of the spans (an HTTP server's host and port).
    ///
    /// ```no_run
    /// # fn demo(peer: rmcp::Peer<rmcp::RoleClient>) {
    /// let traced = llmetry_instruments::mcp::TracedPeer::new(peer).server("mcp.internal", 443);
    /// # drop(traced); }
    /// ```
    pub fn server(mut self, host: impl Into<String>, port: u16) -> Self {
        self.server = Some((host.into(), port));
        self
    }

    /// The wrapped peer (for what this wrapper does not cover; its calls have no spans).
    ///
    /// ```no_run
    /// # async fn demo(traced: llmetry_instruments::mcp::TracedPeer) -> Result<(), Box<dyn std::error::Error>> {
    /// traced.peer().notify_roots_list_changed().await?;
    /// # Ok(()) }
    /// ```
    pub fn peer(&self) -> &Peer<RoleClient> {
        &self.peer
    }

    /// `tools/call`.
    ///
    /// ```no_run
    /// # async fn demo(traced: llmetry_instruments::mcp::TracedPeer) -> Result<(), Box<dyn std::error::Error>> {
    /// use rmcp::model::{CallToolRequestParams, JsonObject};
    /// let mut args = JsonObject::new();
    /// args.insert("pattern".into(), "OOMKilled".into());
    /// let result = traced.call_tool(CallToolRequestParams::new("grep_logs").with_arguments(args)).await?;
    /// # drop(result);
    /// # Ok(()) }
    /// ```
    pub async fn call_tool(
        &self,
        params: CallToolRequestParams,
    ) -> Result<CallToolResult, ServiceError> {
        let (name, arguments) = (params.name.clone(), params.arguments.clone());
        let call = Call {
            tool: Some(&name),
            arguments: arguments.as_ref(),
            ..Call::method("tools/call")
        };
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let result = self.traced(&call, request, |span, r| {
            if let ServerResult::CallToolResult(result) = r {
                span.record_tool_result(result);
            }
        });
        match result.await? {
            ServerResult::CallToolResult(result) => Ok(result),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `tools/list`.
    ///
    /// ```no_run
    /// # async fn demo(traced: llmetry_instruments::mcp::TracedPeer) -> Result<(), Box<dyn std::error::Error>> {
    /// let tools = traced.list_tools(None).await?.tools;
    /// # drop(tools);
    /// # Ok(()) }
    /// ```
    pub async fn list_tools(
        &self,
        params: Option<PaginatedRequestParams>,
    ) -> Result<ListToolsResult, ServiceError> {
        let request = ClientRequest::ListToolsRequest(ListToolsRequest {
            method: Default::default(),
            params,
            extensions: Default::default(),
        });
        match self
            .traced(&Call::method("tools/list"), request, nothing)
            .await?
        {
            ServerResult::ListToolsResult(result) => Ok(result),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `prompts/get`.
    ///
    /// ```no_run
    /// # async fn demo(traced: llmetry_instruments::mcp::TracedPeer) -> Result<(), Box<dyn std::error::Error>> {
    /// use rmcp::model::GetPromptRequestParams;
    /// let prompt = traced.get_prompt(GetPromptRequestParams::new("triage")).await?;
    /// # drop(prompt);
    /// # Ok(()) }
    /// ```
    pub async fn get_prompt(
        &self,
        params: GetPromptRequestParams,
    ) -> Result<GetPromptResult, ServiceError> {
        let name = params.name.clone();
        let call = Call {
            prompt: Some(&name),
            ..Call::method("prompts/get")
        };
        let request = ClientRequest::GetPromptRequest(GetPromptRequest::new(params));
        match self.traced(&call, request, nothing).await? {
            ServerResult::GetPromptResult(result) => Ok(result),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `resources/read`.
    ///
    /// ```no_run
    /// # async fn demo(traced: llmetry_instruments::mcp::TracedPeer) -> Result<(), Box<dyn std::error::Error>> {
    /// use rmcp::model::ReadResourceRequestParams;
    /// let runbook = traced.read_resource(ReadResourceRequestParams::new("file:///runbook.md")).await?;
    /// # drop(runbook);
    /// # Ok(()) }
    /// ```
    pub async fn read_resource(
        &self,
        params: ReadResourceRequestParams,
    ) -> Result<ReadResourceResult, ServiceError> {
        let uri = params.uri.clone();
        let request = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(params));
        match self
            .traced(&Call::resource("resources/read", &uri), request, nothing)
            .await?
        {
            ServerResult::ReadResourceResult(result) => Ok(result),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `ping`.
    ///
    /// ```no_run
    /// # async fn demo(traced: llmetry_instruments::mcp::TracedPeer) -> Result<(), Box<dyn std::error::Error>> {
    /// traced.ping().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<(), ServiceError> {
        let request = ClientRequest::PingRequest(PingRequest {
            method: Default::default(),
            extensions: Default::default(),
        });
        self.traced(&Call::method("ping"), request, nothing)
            .await
            .map(|_| ())
    }

    /// Any request, traced under its `method()` name.
    ///
    /// ```no_run
    /// # async fn demo(traced: llmetry_instruments::mcp::TracedPeer) -> Result<(), Box<dyn std::error::Error>> {
    /// use rmcp::model::ClientRequest;
    /// let answer = traced.send_request(ClientRequest::ListPromptsRequest(Default::default())).await?;
    /// # drop(answer);
    /// # Ok(()) }
    /// ```
    pub async fn send_request(&self, request: ClientRequest) -> Result<ServerResult, ServiceError> {
        let method = known_method(request.method());
        self.traced(&Call::method(method), request, nothing).await
    }

    /// Sends `request` under the CLIENT span of `call`.
    async fn traced(
        &self,
        call: &Call<'_>,
        request: ClientRequest,
        on_ok: impl FnOnce(&McpSpan, &ServerResult),
    ) -> Result<ServerResult, ServiceError> {
        if !llmetry::instrument_enabled(llmetry::Instrument::Mcp) {
            return self.peer.send_request(request).await;
        }
        let parent = Context::current();
        let content = llmetry::trace_content_enabled();
        let mut attrs = call.attributes(content);
        if let Some(transport) = &self.transport {
            attrs.push(KeyValue::new(k::NETWORK_TRANSPORT, transport.clone()));
        }
        if let Some((host, port)) = &self.server {
            attrs.push(KeyValue::new(k::SERVER_ADDRESS, host.clone()));
            attrs.push(KeyValue::new(k::SERVER_PORT, i64::from(*port)));
        }
        if let Some(info) = self.peer.peer_info() {
            attrs.push(KeyValue::new(
                k::MCP_PROTOCOL_VERSION,
                info.protocol_version.as_str().to_owned(),
            ));
        }
        let tracer = opentelemetry::global::tracer(k::MCP_SCOPE);
        let otel_span = tracer
            .span_builder(call.span_name())
            .with_kind(SpanKind::Client)
            .with_attributes(attrs)
            .start_with_context(&tracer, &parent);
        let span = McpSpan {
            cx: parent.with_span(otel_span),
            content,
        };
        let mut meta = RequestMetaObject::default();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&span.cx, &mut MetaInjector(&mut meta.0))
        });
        let options = PeerRequestOptions::no_options().with_meta(meta);
        let sent = self
            .peer
            .send_request_with_option(request, options)
            .with_context(span.cx.clone())
            .await;
        let handle = match sent {
            Ok(h) => h,
            Err(e) => {
                record_service_error(&span, &e);
                span.end();
                return Err(e);
            }
        };
        span.cx
            .span()
            .set_attribute(KeyValue::new(k::JSONRPC_REQUEST_ID, handle.id.to_string()));
        let mut guard = CancelOnDrop {
            peer: self.peer.clone(),
            id: Some(handle.id.clone()),
        };
        let result = handle.await_response().await;
        guard.id = None;
        match &result {
            Ok(r) => on_ok(&span, r),
            Err(e) => record_service_error(&span, e),
        }
        span.end();
        result
    }
}

fn record_service_error(span: &McpSpan, e: &ServiceError) {
    if let ServiceError::McpError(e) = e {
        span.record_error(e);
        return;
    }
    let s = span.cx.span();
    s.set_attribute(KeyValue::new(k::ERROR_TYPE, service_error_type(e)));
    s.set_status(Status::error(e.to_string()));
}

/// The well-known MCP method named `m`, as a `'static` name (`custom` for any other:
/// method names are span names, which must stay low-cardinality).
fn known_method(m: &str) -> &'static str {
    const KNOWN: [&str; 24] = [
        "completion/complete",
        "elicitation/create",
        "initialize",
        "logging/setLevel",
        "ping",
        "prompts/get",
        "prompts/list",
        "resources/list",
        "resources/read",
        "resources/subscribe",
        "resources/templates/list",
        "resources/unsubscribe",
        "roots/list",
        "sampling/createMessage",
        "tools/call",
        "tools/list",
        "server/discover",
        "subscriptions/listen",
        "tasks/get",
        "tasks/update",
        "tasks/cancel",
        "skills/list",
        "skills/get",
        "resources/directory/read",
    ];
    KNOWN.iter().copied().find(|k| *k == m).unwrap_or("custom")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_names_and_attributes() {
        let mut args = rmcp::model::JsonObject::new();
        args.insert("pattern".into(), "OOM".into());
        let call = Call {
            tool: Some("grep_logs"),
            arguments: Some(&args),
            ..Call::method("tools/call")
        };
        assert_eq!(call.span_name(), "tools/call grep_logs");
        let with = call.attributes(true);
        let without = call.attributes(false);
        let keys = |a: &[KeyValue]| a.iter().map(|kv| kv.key.to_string()).collect::<Vec<_>>();
        assert!(keys(&with).contains(&k::GEN_AI_TOOL_CALL_ARGUMENTS.to_owned()));
        assert!(!keys(&without).contains(&k::GEN_AI_TOOL_CALL_ARGUMENTS.to_owned()));
        assert!(keys(&without).contains(&k::GEN_AI_OPERATION_NAME.to_owned()));
        let prompt = Call {
            prompt: Some("triage"),
            ..Call::method("prompts/get")
        };
        assert_eq!(prompt.span_name(), "prompts/get triage");
        assert_eq!(Call::method("tools/list").span_name(), "tools/list");
        assert_eq!(known_method("tools/call"), "tools/call");
        assert_eq!(known_method("x/unbounded-123"), "custom");
    }
}

//! # llmetry
//!
//! Traceloop-compatible observability for Rust LLM applications: annotate functions with
//! [`workflow`], [`task`], [`agent`] and [`tool`], call [`init()`] once, and every call
//! becomes a span with Traceloop's conventions (`<name>.<kind>`, `traceloop.span.kind`,
//! `traceloop.entity.*`, `traceloop.workflow.name`, association properties, …), nested
//! under whatever span is current, exported through OpenTelemetry.
//!
//! ```rust,standalone_crate
//! use llmetry::{task, workflow};
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//!
//! #[task(name = "fetch_logs")]
//! fn fetch_logs(host: &str) -> Vec<String> {
//!     vec![format!("{host}: no space left on device")]
//! }
//!
//! #[workflow(name = "rca_workflow")]
//! fn rca(incident_id: &str) -> usize {
//!     llmetry::set_association_properties([("incident_id", incident_id.to_owned())]);
//!     fetch_logs("db-1").len()
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spans = InMemorySpanExporter::default();
//! let telemetry = llmetry::init()
//!     .app_name("llm_job")
//!     .exporter(spans.clone())
//!     .silence_init_message(true)
//!     .install()?;
//! assert_eq!(rca("INC-1001"), 1);
//! telemetry.flush()?;
//! let names: Vec<_> = spans.get_finished_spans()?.iter().map(|s| s.name.to_string()).collect();
//! assert_eq!(names, ["fetch_logs.task", "rca_workflow.workflow"]);
//! telemetry.shutdown()?;
//! # Ok(()) }
//! ```
//!
//! Context values are scoped: once an annotated function returns, its caller sees exactly
//! the workflow name, path and association properties it saw before. To carry them into a
//! spawned task or thread, wrap it: `tokio::spawn(llmetry::propagate(fut))`,
//! `std::thread::spawn(llmetry::propagate_fn(f))`.
//!
//! # Map of the crate
//!
//! | area | items | module |
//! |---|---|---|
//! | setting up | [`init()`] returns a [`TelemetryBuilder`]; [`TelemetryBuilder::install`] returns the [`Telemetry`] guard ([`Telemetry::flush`], [`Telemetry::shutdown`], [`Telemetry::report`], [`Telemetry::layer`]) or an [`InitError`] | `install` (the builder, one pipeline per signal), `guard` (the guard), `subscriber` (the `tracing` layers) |
//! | delivery | [`DeliveryReport`] with a [`SignalReport`] per signal (sent, dropped, failed, pending, and the [`LossCause`]) | `delivery` (the report), `export` (the counting) |
//! | errors | [`InitError`] with its causes [`EndpointError`], [`HeaderError`], [`ParseProtocolError`]; [`ShutdownError`] (carrying the report) | `error` |
//! | configuration values | [`EnvSource`] (where configuration reads the environment), [`Protocol`], [`Compression`], [`Instrument`]; [`DEFAULT_SHUTDOWN_TIMEOUT`], [`DEFAULT_EXPORT_TIMEOUT`], [`DEFAULT_METRIC_EXPORT_INTERVAL`], [`DEFAULT_VALUE_LENGTH_LIMIT`], [`TRACELOOP_DEFAULT_ENDPOINT`] | `config` (builder > environment > default; endpoints, headers, queues), `instrument` |
//! | annotations | [`workflow`], [`task`], [`agent`], [`tool`] (see [Annotations](#annotations) below); [`EntityKind`] | `entity`, `capture` |
//! | context | [`set_association_properties`], [`with_association_properties`], [`set_conversation_id`], [`with_conversation_id`], [`with_trace_content`], [`propagate()`], [`propagate_fn`]; [`InContext`] with its markers [`ClosureMarker`] and [`FutureMarker`] | `context` |
//! | for instrumentations | [`trace_content_enabled`], [`current_workflow_name`], [`current_association_properties`], [`truncate_value`], [`instrument_enabled`], [`use_attributes`], [`TOKEN_USAGE_BOUNDARIES`], [`DURATION_BOUNDARIES`] | `context`, `state`, `install::metrics` |
//! | export building blocks | [`ConsoleExporter`] (the default without a collector), [`SharedBuffer`], [`EnrichmentProcessor`] (for a tracer provider built by hand) | `export` (also the queues, the delivery accounting, our OTLP transport over HTTP and gRPC, TLS), `processor` |
//! | conventions | [`semconv`]: the attribute keys llmetry writes, and the GenAI events target | `semconv` |
//! | values | [`AttributeValue`], [`AttributeText`]: what the value-taking APIs accept (`&str` of any lifetime, `String`, `Cow<str>`, numbers, bools) | `value` |
//! | cost | [`cost`]: the dated price table, price files and overrides, `gen_ai.usage.cost` | `cost` |
//! | redaction | [`redact`]: the hook over captured content and the built-in redactors | `redact` |
//! | across services | [`mod@propagate`]: the workflow context as W3C baggage to allowed hosts, restored by `ContextLayer` (feature `tower`) | `propagate` |
//!
//! # Cargo features
//!
//! The OTLP transports are features, all on by default; a build without one still has the
//! console exporter and custom exporters, and an endpoint that needs a transport left out
//! is an [`InitError::MissingFeature`] naming the feature to enable.
//!
//! | feature | what it adds |
//! |---|---|
//! | `grpc` | OTLP/gRPC (`grpc://`, `grpcs://`, `host:port`, protocol `grpc`): tonic, on a small runtime of llmetry's own |
//! | `http-proto` | OTLP/HTTP with protobuf bodies (`http(s)://`, the default protocol), over a blocking reqwest client of llmetry's own |
//! | `http-json` | OTLP/HTTP with JSON bodies (protocol `http/json`) |
//! | `tls` | `https://` and `grpcs://`: rustls with the ring backend for both transports; [`TelemetryBuilder::install`] makes ring the process's default rustls provider unless the app installed one |
//!
//! gzip compression comes with each transport. The attribute macros come from
//! `llmetry-macros` and are re-exported here (depend on `llmetry` only); LLM calls
//! (OpenAI-compatible, Anthropic, Ollama) are captured by the companion crate
//! `llmetry-instruments`.
//!
//! # Annotations
//!
//! `#[workflow]`, `#[task]`, `#[agent]` and `#[tool]` wrap a function so that every call
//! runs inside an entity span named `<name>.<kind>`. Before [`init()`] has installed
//! telemetry (or with `enabled(false)`), annotated functions just run, untraced; before
//! `init()`, the process prints one warning (`TRACELOOP_SUPPRESS_WARNINGS=true` hides it).
//!
//! ## Supported function shapes
//!
//! Sync and `async fn`; methods taking `&self`, `&mut self` or `self`; generic functions
//! with `where` clauses; `impl Trait` returns; `async fn` in traits and impls; methods under
//! `#[async_trait]` and functions returning `impl Future` built by an `async move` block (the
//! span covers the future's execution, not its creation); `Result` returns, with `?` and
//! early `return`; `impl Iterator` and `impl Stream` returns (the span lives until the
//! iterator or stream is exhausted or dropped). `const fn`, bodiless trait methods and
//! non-function items are compile errors.
//!
//! ```
//! use futures::{Stream, StreamExt as _};
//! use llmetry::{agent, task, tool, workflow};
//!
//! #[task]
//! fn parse(line: &str) -> Result<u32, std::num::ParseIntError> {
//!     let n: u32 = line.trim().parse()?;
//!     Ok(n * 2)
//! }
//!
//! #[tool(name = "grep_logs")]
//! fn grep<'a, I>(lines: I, pattern: &'a str) -> impl Iterator<Item = &'a str> + 'a
//! where
//!     I: IntoIterator<Item = &'a str> + 'a,
//! {
//!     lines.into_iter().filter(move |l| l.contains(pattern))
//! }
//!
//! #[task]
//! fn tokens(text: &'static str) -> impl Stream<Item = &'static str> {
//!     futures::stream::iter(text.split(' '))
//! }
//!
//! struct Agent {
//!     model: String,
//! }
//!
//! impl Agent {
//!     #[agent(name = "triage")]
//!     async fn run(&self, question: &str) -> String {
//!         format!("{}: {question}", self.model)
//!     }
//!
//!     #[task]
//!     fn rename(&mut self, model: &str) {
//!         self.model = model.to_owned();
//!     }
//! }
//!
//! trait Notifier {
//!     async fn notify(&self, text: &str) -> usize;
//! }
//!
//! struct Slack;
//!
//! impl Notifier for Slack {
//!     #[tool]
//!     async fn notify(&self, text: &str) -> usize {
//!         text.len()
//!     }
//! }
//!
//! #[async_trait::async_trait]
//! trait Store {
//!     async fn save(&self, key: &str) -> bool;
//! }
//!
//! #[async_trait::async_trait]
//! impl Store for Slack {
//!     #[task]
//!     async fn save(&self, key: &str) -> bool {
//!         !key.is_empty()
//!     }
//! }
//!
//! #[task]
//! fn later(n: u32) -> impl std::future::Future<Output = u32> {
//!     async move { n + 1 }
//! }
//!
//! #[workflow(name = "shapes")]
//! async fn shapes() -> Result<(), Box<dyn std::error::Error>> {
//!     assert_eq!(parse(" 21 ")?, 42);
//!     assert!(parse("x").is_err()); // the task span gets status ERROR
//!     assert_eq!(grep(["ok", "disk full", "ok"], "full").count(), 1);
//!     assert_eq!(tokens("a b c").count().await, 3);
//!     let mut agent = Agent { model: "gpt-4o-mini".into() };
//!     agent.rename("gpt-4o");
//!     assert_eq!(agent.run("why?").await, "gpt-4o: why?");
//!     assert_eq!(Slack.notify("done").await, 4);
//!     assert!(Slack.save("k").await);
//!     assert_eq!(later(1).await, 2);
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! shapes().await?;
//! # Ok(()) }
//! ```
//!
//! ## Arguments
//!
//! All four attributes take the same optional, comma-separated arguments:
//!
//! | argument | effect |
//! |---|---|
//! | `name = "…"` | entity name (default: the function's name): `traceloop.entity.name`, and the span name `<name>.<kind>` |
//! | `version = N` | `traceloop.entity.version` (an integer; not written for 0, as in Python) |
//! | `skip(a, b)` | leave these parameters out of `traceloop.entity.input` (e.g. secrets, clients) |
//! | `skip_all` | record no parameter: the input is `{"args": [], "kwargs": {}}` |
//! | `capture_input = false` | no `traceloop.entity.input` on this entity |
//! | `capture_output = false` | no `traceloop.entity.output` on this entity |
//! | `new_trace` (or `new_trace = true`) | start a new trace instead of nesting under the current span |
//!
//! Misspelt, duplicated or malformed arguments, `skip` naming no parameter, and `skip` with
//! `skip_all` are compile errors that point at the argument.
//!
//! ```rust,standalone_crate
//! use llmetry::{task, tool, workflow};
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
//!
//! #[task(name = "fetch_logs", version = 2, skip(api_key))]
//! fn fetch(host: &str, api_key: &str) -> usize {
//!     host.len() + api_key.len()
//! }
//!
//! #[task(skip_all)]
//! fn summarize(text: &str) -> &'static str {
//!     if text.is_empty() { "empty" } else { "short" }
//! }
//!
//! #[tool(capture_input = false, capture_output = false)]
//! fn lookup_secret(name: &str) -> String {
//!     format!("secret-of-{name}")
//! }
//!
//! #[workflow(new_trace)]
//! fn audit() {}
//!
//! #[workflow(name = "rca_workflow")]
//! fn rca() {
//!     fetch("db-1", "sk-123");
//!     summarize("disk full");
//!     lookup_secret("db");
//!     audit();
//! }
//!
//! fn attr(span: &SpanData, key: &str) -> Option<String> {
//!     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = InMemorySpanExporter::default();
//! let telemetry = llmetry::init()
//!     .exporter(exporter.clone())
//!     .silence_init_message(true)
//! #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
//!     .install()?;
//! rca();
//! telemetry.flush()?;
//! let spans = exporter.get_finished_spans()?;
//! let span = |name: &str| spans.iter().find(|s| s.name == name).ok_or(format!("no {name}"));
//!
//! let fetch = span("fetch_logs.task")?;
//! assert_eq!(attr(fetch, "traceloop.entity.name").as_deref(), Some("fetch_logs"));
//! assert_eq!(attr(fetch, "traceloop.entity.version").as_deref(), Some("2"));
//! assert_eq!(
//!     attr(fetch, "traceloop.entity.input").as_deref(),
//!     Some(r#"{"args": [], "kwargs": {"host": "db-1"}}"#) // no api_key
//! );
//! assert_eq!(attr(fetch, "traceloop.entity.output").as_deref(), Some("10"));
//!
//! let summarize = span("summarize.task")?;
//! assert_eq!(attr(summarize, "traceloop.entity.input").as_deref(), Some(r#"{"args": [], "kwargs": {}}"#));
//! assert_eq!(attr(summarize, "traceloop.entity.output").as_deref(), Some(r#""short""#));
//!
//! let lookup = span("lookup_secret.tool")?;
//! assert_eq!(attr(lookup, "traceloop.entity.input"), None);
//! assert_eq!(attr(lookup, "traceloop.entity.output"), None);
//!
//! let (rca, audit) = (span("rca_workflow.workflow")?, span("audit.workflow")?);
//! assert_eq!(fetch.span_context.trace_id(), rca.span_context.trace_id());
//! assert_ne!(audit.span_context.trace_id(), rca.span_context.trace_id()); // new_trace
//! telemetry.shutdown()?;
//! # Ok(()) }
//! ```
//!
//! ## What the span gets
//!
//! - `traceloop.span.kind` (`workflow`, `task`, `agent`, `tool`), `traceloop.entity.name`,
//!   span kind INTERNAL, instrumentation scope `traceloop.tracer`; `gen_ai.tool.name` on
//!   tools.
//! - `traceloop.workflow.name` on the workflow span and on every span started beneath it
//!   (by the macros, `tracing`, the OpenTelemetry API or LLM instruments);
//!   `gen_ai.agent.name` on the agent span and beneath it; `traceloop.entity.path`, the
//!   dotted path of the enclosing tasks and tools; the association properties and
//!   conversation id in effect (see [`set_association_properties`]).
//! - `traceloop.entity.input` = `{"args": [], "kwargs": {"<param>": <value>, …}}`
//!   (receivers left out) and `traceloop.entity.output` = the JSON of the return value (the
//!   `Ok` value of a `Result`; nothing for streams and iterators), when content capture
//!   allows ([`with_trace_content`], `trace_content(..)`). Values are serialised with
//!   `serde::Serialize` when the type implements it, else as the JSON string of their
//!   `Debug` form, else as their type name; values are cut to the length limit
//!   ([`DEFAULT_VALUE_LENGTH_LIMIT`]).
//! - An `Err(e)`: status ERROR with `e`'s `Display`, `error.type` and an `exception` event
//!   (`exception.type` = the error's Rust type, `exception.message`). A panic: status ERROR
//!   (`panicked`), and the panic goes on. Success leaves the status unset.
//!
//! ```rust,standalone_crate
//! use llmetry::{agent, task, tool, workflow};
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
//!
//! #[tool(name = "disk_usage")]
//! fn disk_usage(host: &str) -> Result<u8, String> {
//!     if host == "db-1" { Err(format!("{host}: no space left")) } else { Ok(42) }
//! }
//!
//! #[task(name = "diagnose")]
//! fn diagnose(host: &str) -> Option<u8> {
//!     let _inner = tracing::info_span!("plain_tracing_span").entered();
//!     disk_usage(host).ok()
//! }
//!
//! #[agent(name = "sre_agent")]
//! fn sre_agent() {
//!     diagnose("db-1");
//! }
//!
//! #[workflow(name = "rca_workflow")]
//! fn rca() {
//!     llmetry::set_association_properties([("incident_id", "INC-7")]);
//!     sre_agent();
//! }
//!
//! fn attr(span: &SpanData, key: &str) -> Option<String> {
//!     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = InMemorySpanExporter::default();
//! let telemetry = llmetry::init()
//!     .exporter(exporter.clone())
//!     .silence_init_message(true)
//! #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
//!     .install()?;
//! rca();
//! telemetry.flush()?;
//! let spans = exporter.get_finished_spans()?;
//! let span = |name: &str| spans.iter().find(|s| s.name == name).ok_or(format!("no {name}"));
//!
//! let tool = span("disk_usage.tool")?;
//! assert_eq!(attr(tool, "traceloop.span.kind").as_deref(), Some("tool"));
//! assert_eq!(attr(tool, "gen_ai.tool.name").as_deref(), Some("disk_usage"));
//! assert_eq!(attr(tool, "traceloop.workflow.name").as_deref(), Some("rca_workflow"));
//! assert_eq!(attr(tool, "gen_ai.agent.name").as_deref(), Some("sre_agent"));
//! assert_eq!(attr(tool, "traceloop.entity.path").as_deref(), Some("diagnose"));
//! assert_eq!(attr(tool, "traceloop.association.properties.incident_id").as_deref(), Some("INC-7"));
//! assert_eq!(attr(tool, "error.type").as_deref(), Some("alloc::string::String"));
//! assert_eq!(tool.status, opentelemetry::trace::Status::error("db-1: no space left"));
//! assert_eq!(tool.events.events[0].name, "exception");
//!
//! // Spans started by anyone beneath an entity are enriched too.
//! let inner = span("plain_tracing_span")?;
//! assert_eq!(attr(inner, "traceloop.workflow.name").as_deref(), Some("rca_workflow"));
//! assert_eq!(attr(inner, "traceloop.entity.path").as_deref(), Some("diagnose"));
//! assert_eq!(inner.instrumentation_scope.name(), "traceloop.tracer");
//! telemetry.shutdown()?;
//! # Ok(()) }
//! ```

mod capture;
mod config;
mod context;
pub mod cost;
mod delivery;
mod entity;
mod error;
mod export;
mod guard;
mod install;
mod instrument;
mod meta;
mod processor;
pub mod propagate;
pub mod redact;
pub mod semconv;
mod state;
mod subscriber;
mod value;

pub use config::env::EnvSource;
pub use config::{
    Compression, DEFAULT_EXPORT_TIMEOUT, DEFAULT_METRIC_EXPORT_INTERVAL, ExportTo, Protocol,
    TRACELOOP_DEFAULT_ENDPOINT, TracingEvents,
};
pub use context::{
    AssociationMapping, ClosureMarker, FutureMarker, InContext, ParseAssociationMappingError,
    current_association_properties, current_workflow_name, propagate, propagate_fn,
    set_association_properties, set_conversation_id, trace_content_enabled, truncate_value,
    with_association_properties, with_conversation_id, with_trace_content,
};
pub use delivery::{DeliveryReport, LossCause, SignalReport};
pub use error::{EndpointError, HeaderError, InitError, ParseProtocolError, ShutdownError};
pub use export::console::{ConsoleExporter, SharedBuffer};
pub use guard::{DEFAULT_SHUTDOWN_TIMEOUT, Telemetry};
pub use install::metrics::{DURATION_BOUNDARIES, TOKEN_USAGE_BOUNDARIES};
pub use install::{TelemetryBuilder, init};
pub use instrument::Instrument;
pub use llmetry_macros::{agent, task, tool, workflow};
pub use meta::EntityKind;
pub use processor::EnrichmentProcessor;
pub use state::{
    __set_gen_ai_latest_conventions, DEFAULT_VALUE_LENGTH_LIMIT, gen_ai_latest_conventions,
    instrument_enabled, use_attributes,
};
pub use value::{AttributeText, AttributeValue};

/// Not public API: what the macros' generated code names. May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::capture::{
        Capture, CaptureDebug, CaptureSerialize, CaptureTypeName, DescribeDebug, DescribeDisplay,
        DescribeTypeName, InputJson,
    };
    pub use crate::entity::{
        EntityFuture, EntityIter, EntityScope, EntityStream, LazyEntityFuture, ScopedEntityFuture,
    };
    pub use crate::meta::{EntityKind, EntityMeta};
    pub use ::core;
    pub use ::tracing;

    /// `true` once telemetry is installed; warns once (and returns `false`) before that.
    #[inline(always)]
    pub fn is_active() -> bool {
        crate::state::is_active()
    }

    /// The tracer provider `install()` built, `None` before `install()`: what
    /// `llmetry-instruments` starts LLM spans from (the provider entity spans go to; the
    /// global one hands out boxed tracers and spans, two allocations per span).
    pub fn installed_tracer_provider() -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
        crate::state::tracer_provider()
    }

    /// The type name of a value (for `error.type`).
    #[inline]
    pub fn type_name_of<T: ?Sized>(_: &T) -> &'static str {
        ::core::any::type_name::<T>()
    }
}

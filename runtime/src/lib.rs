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

mod capture;
mod config;
mod console;
mod context;
mod endpoint;
mod entity;
mod env;
mod headers;
mod init;
mod pipeline;
mod processor;
pub mod semconv;
mod state;

pub use config::{
    Compression, DEFAULT_EXPORT_TIMEOUT, Instrument, Protocol, TRACELOOP_DEFAULT_ENDPOINT,
};
pub use console::{ConsoleExporter, SharedBuffer};
pub use context::{
    ClosureMarker, FutureMarker, InContext, current_association_properties, current_workflow_name,
    propagate, propagate_fn, set_association_properties, set_conversation_id,
    trace_content_enabled, truncate_value, with_association_properties, with_conversation_id,
    with_trace_content,
};
pub use entity::EntityKind;
pub use env::EnvSource;
pub use init::{
    DEFAULT_METRIC_EXPORT_INTERVAL, InitError, SHUTDOWN_TIMEOUT, ShutdownError, Telemetry,
    TelemetryBuilder, init,
};
pub use llmetry_macros::{agent, task, tool, workflow};
pub use pipeline::{DURATION_BOUNDARIES, TOKEN_USAGE_BOUNDARIES};
pub use processor::EnrichmentProcessor;
pub use state::{DEFAULT_VALUE_LENGTH_LIMIT, instrument_enabled, use_attributes};

/// Not public API: what the macros' generated code names. May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::capture::{
        Capture, CaptureDebug, CaptureSerialize, CaptureTypeName, DescribeDebug, DescribeDisplay,
        DescribeTypeName, InputJson,
    };
    pub use crate::entity::{
        EntityFuture, EntityIter, EntityKind, EntityMeta, EntityScope, EntityStream,
    };
    pub use ::core;
    pub use ::tracing;

    /// `true` once telemetry is installed; warns once (and returns `false`) before that.
    #[inline(always)]
    pub fn is_active() -> bool {
        crate::state::is_active()
    }

    /// The type name of a value (for `error.type`).
    #[inline]
    pub fn type_name_of<T: ?Sized>(_: &T) -> &'static str {
        ::core::any::type_name::<T>()
    }
}

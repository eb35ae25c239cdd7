//! # llmetry-instruments
//!
//! Automatic GenAI capture of LLM calls for [llmetry](https://docs.rs/llmetry): model,
//! tokens, latency, prompts and completions (when content capture allows), streaming, and the
//! `gen_ai.client.*` metrics, with the OpenTelemetry GenAI conventions the Python
//! OpenLLMetry SDK writes.
//!
//! The core reads the providers' wire formats (request JSON, response JSON, SSE and NDJSON
//! streams), not any client crate's types, so it works for every client: see
//! [`providers`] and [`model`].

pub mod events;
mod metrics;
#[cfg(any(feature = "reqwest-middleware", feature = "async-openai"))]
mod middleware;
pub mod model;
pub mod providers;
pub mod span;
#[cfg(feature = "async-openai")]
mod tower;

#[cfg(feature = "async-openai")]
pub use self::tower::{LlmLayer, LlmService};
#[cfg(feature = "reqwest-middleware")]
pub use middleware::LlmMiddleware;

pub use span::{LlmSpan, StreamEnd};

use std::sync::atomic::{AtomicBool, Ordering};

static ASSOCIATIONS_ON_METRICS: AtomicBool = AtomicBool::new(false);

/// Put association properties (`traceloop.association.properties.*`) on the GenAI metrics
/// too. Off by default: user and session ids make metric cardinality explode.
///
/// ```
/// llmetry_instruments::set_association_properties_on_metrics(true);
/// # llmetry_instruments::set_association_properties_on_metrics(false);
/// ```
pub fn set_association_properties_on_metrics(on: bool) {
    ASSOCIATIONS_ON_METRICS.store(on, Ordering::Relaxed);
}

pub(crate) fn association_properties_on_metrics() -> bool {
    ASSOCIATIONS_ON_METRICS.load(Ordering::Relaxed)
}

//! Dev-only helpers shared by llmetry's tests (and, for the LLM stub, its examples). Each
//! part is a cargo feature, all on by default:
//!
//! | module / item | feature | what |
//! |---|---|---|
//! | [`llm_stub`] | `llm-stub` | a stub LLM server speaking OpenAI, Anthropic and Ollama wire formats (light: axum, tokio, serde_json) |
//! | [`otlp`] | `otlp` | an in-process OTLP/HTTP + gRPC receiver, and plain views of what it received |
//! | [`rotel`] | `rotel` | the rotel OTLP collector as a child process |
//! | [`Harness`], [`attr`], … | `harness` | one installed in-memory pipeline per test binary, span and metric look-ups |
//! | [`backends`] | `backends` | Arize Phoenix and MLflow (installed by `.ci/install-backends`) as child processes, and their query APIs |
//! | [`scenario`] | `scenario` | the pipeline tests' unit of work and its checks at a receiver |
//! | [`process`] | (always) | running a child process (an example, a re-executed test) with a hang guard |
//!
//! Test code: failures here are the test's failures, so setup errors panic with their cause.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is the test's failure

use std::time::Duration;

#[cfg(feature = "backends")]
pub mod backends;
#[cfg(feature = "harness")]
mod harness;
#[cfg(feature = "llm-stub")]
pub mod llm_stub;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod process;
#[cfg(feature = "rotel")]
pub mod rotel;
#[cfg(feature = "scenario")]
pub mod scenario;

#[cfg(feature = "harness")]
pub use harness::{
    Harness, MetricPoint, Trace, attr, attr_keys, attr_str, harness, harness_with, int_attr,
    json_attr,
};

/// How long a test waits for something that should happen (a child to exit, a span to
/// end, data to arrive) before it fails: long enough that only a hang reaches it on a
/// loaded machine, never a timing goal.
pub const HANG_GUARD: Duration = Duration::from_secs(30);

//! The small runtime llmetry owns for its OTLP exports (HTTP and gRPC alike): one worker
//! thread, whatever runtime the app has, or none. The app's runtime never runs an export,
//! so flush and shutdown cannot deadlock it, on any flavour.

use crate::error::InitError;

/// An owned one-worker runtime for the exports.
#[derive(Debug)]
pub(crate) struct ExportRuntime(tokio::runtime::Runtime);

impl ExportRuntime {
    pub(crate) fn start() -> Result<Self, InitError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("llmetry-export")
            .on_thread_start(|| {
                // What the HTTP and gRPC stacks log must never become telemetry.
                std::mem::forget(opentelemetry::Context::enter_telemetry_suppressed_scope());
            })
            .enable_all()
            .build()
            .map(Self)
            .map_err(|source| InitError::ExportRuntime { source })
    }

    /// Spawns exports from any thread.
    pub(crate) fn handle(&self) -> tokio::runtime::Handle {
        self.0.handle().clone()
    }

    /// Enters the runtime (tonic builds channels inside the current runtime).
    #[cfg(feature = "grpc")]
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.0.enter()
    }

    /// Stops the runtime without blocking, even inside another async runtime: exports
    /// still in flight are abandoned (shutdown counted them as pending).
    pub(crate) fn shutdown_background(self) {
        self.0.shutdown_background();
    }
}

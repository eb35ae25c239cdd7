//! The wrappers every exporter runs inside: the span postprocess callback, and one
//! warning per signal when exports fail ([`Reporter`]). This is where delivery
//! accounting (sent / dropped / failed per signal) belongs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Prints the first export failure of a signal, then stays quiet.
#[derive(Debug)]
pub(crate) struct Reporter {
    signal: &'static str,
    target: String,
    warned: AtomicBool,
    closing: AtomicBool,
}

impl Reporter {
    pub(crate) fn new(signal: &'static str, target: String) -> Arc<Self> {
        Arc::new(Self {
            signal,
            target,
            warned: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        })
    }

    pub(crate) fn signal(&self) -> &'static str {
        self.signal
    }

    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Whether a failure of this signal was already printed.
    pub(crate) fn warned(&self) -> bool {
        self.warned.load(Ordering::Relaxed)
    }

    /// Shutdown gave up on this signal: what fails after this is our doing, not the
    /// collector's, and is not reported.
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
    }

    fn report(&self, result: &OTelSdkResult) {
        if let Err(e) = result
            && !self.closing.load(Ordering::Relaxed)
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            eprintln!(
                "llmetry: warning: {} export to {} failed: {e} (the app goes on; later {} export failures are not reported)",
                self.signal, self.target, self.signal
            );
        }
    }
}

/// A callback that may change or redact a span before export.
pub(crate) type Postprocess = Arc<dyn Fn(&mut SpanData) + Send + Sync>;

/// Wraps a span exporter: postprocess callback, then one-time failure reporting.
pub(crate) struct ReportingSpanExporter<E> {
    pub(crate) inner: E,
    pub(crate) reporter: Arc<Reporter>,
    pub(crate) postprocess: Option<Postprocess>,
}

impl<E: std::fmt::Debug> std::fmt::Debug for ReportingSpanExporter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportingSpanExporter")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<E: SpanExporter> SpanExporter for ReportingSpanExporter<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(cb) = &self.postprocess {
            for span in &mut batch {
                cb(span);
            }
        }
        let r = self.inner.export(batch).await;
        self.reporter.report(&r);
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Wraps a metric exporter with one-time failure reporting.
pub(crate) struct ReportingMetricExporter<E> {
    pub(crate) inner: E,
    pub(crate) reporter: Arc<Reporter>,
}

impl<E: PushMetricExporter> PushMetricExporter for ReportingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let r = self.inner.export(metrics).await;
        self.reporter.report(&r);
        r
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

/// Wraps a log exporter with one-time failure reporting.
#[derive(Debug)]
pub(crate) struct ReportingLogExporter<E> {
    pub(crate) inner: E,
    pub(crate) reporter: Arc<Reporter>,
}

impl<E: LogExporter> LogExporter for ReportingLogExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let r = self.inner.export(batch).await;
        self.reporter.report(&r);
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

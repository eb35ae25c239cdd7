//! The traces pipeline's one registered span processor, [`DeliveryProcessor`]: it enriches
//! each span in `on_start` (the Traceloop context values, as [`EnrichmentProcessor`] does)
//! and queues it in `on_end`. One processor, so the SDK hands it each ended span without
//! cloning it (with several processors it clones the span for each).
//!
//! Its queue's dispatcher sends to a sink: [`ExporterSink`] (an exporter given to the
//! builder, or the console: one export at a time) or [`OtlpSpanSink`] (our OTLP
//! transport: encoded on the dispatcher, several exports in flight).
//!
//! [`EnrichmentProcessor`]: crate::EnrichmentProcessor

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::ledger::Ledger;
use super::queue::{Delivery, QueueConfig, Sink, block_on};
use crate::config::endpoint::Signal;
use crate::delivery::LossCause;

/// A callback that may change or redact a span before export.
pub(crate) type Postprocess = Arc<dyn Fn(&mut SpanData) + Send + Sync>;

/// Enriches spans when they start, queues them when they end.
#[derive(Debug)]
pub(crate) struct DeliveryProcessor {
    delivery: Delivery<SpanData>,
}

impl DeliveryProcessor {
    /// The processor of a queue sending to `sink`, counted in `ledger`.
    pub(crate) fn start<S: Sink<SpanData>>(
        config: QueueConfig,
        sink: S,
        ledger: Arc<Ledger>,
        flush_timeout: Duration,
    ) -> std::io::Result<Self> {
        Delivery::start("llmetry-traces", config, sink, ledger, flush_timeout)
            .map(|delivery| Self { delivery })
    }

    /// The traces ledger.
    pub(crate) fn ledger(&self) -> &Arc<Ledger> {
        self.delivery.ledger()
    }
}

impl SpanProcessor for DeliveryProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        crate::processor::enrich(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        self.delivery.offer(|| span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.delivery.flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.delivery.shutdown(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.delivery.set_resource(resource);
    }
}

/// Sends batches to an exporter given to the builder (or the console exporter), one at a
/// time on the dispatcher thread: the OpenTelemetry specification says an exporter's
/// `export` is never called concurrently.
pub(crate) struct ExporterSink<E> {
    pub(crate) exporter: E,
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) postprocess: Option<Postprocess>,
}

impl<E: std::fmt::Debug> std::fmt::Debug for ExporterSink<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExporterSink")
            .field("exporter", &self.exporter)
            .finish_non_exhaustive()
    }
}

impl<E: SpanExporter + 'static> Sink<SpanData> for ExporterSink<E> {
    fn send(&mut self, mut batch: Vec<SpanData>) {
        if let Some(cb) = &self.postprocess {
            batch.iter_mut().for_each(|s| cb(s));
        }
        let n = batch.len() as u64;
        self.ledger.begin(n);
        match block_on(self.exporter.export(batch)) {
            Ok(()) => self.ledger.sent(n),
            Err(e) => self.ledger.failed(
                n,
                LossCause::Exporter {
                    detail: e.to_string(),
                },
            ),
        }
    }

    fn wait_idle(&mut self) {}

    fn flushed(&mut self) {
        let _ = self.exporter.force_flush();
    }

    fn shut_down(&mut self, timeout: Duration) {
        let _ = self.exporter.shutdown_with_timeout(timeout);
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}

/// Sends batches over our OTLP transport: encoded on the dispatcher thread, several in
/// flight.
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
pub(crate) struct OtlpSpanSink {
    pub(crate) sender: Arc<super::sender::Sender>,
    pub(crate) encoder: super::encode::Encoder,
    pub(crate) postprocess: Option<Postprocess>,
}

#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
impl Sink<SpanData> for OtlpSpanSink {
    fn send(&mut self, mut batch: Vec<SpanData>) {
        if let Some(cb) = &self.postprocess {
            batch.iter_mut().for_each(|s| cb(s));
        }
        let n = batch.len() as u64;
        self.sender.dispatch_encoded(self.encoder.traces(batch), n);
    }

    fn wait_idle(&mut self) {
        self.sender.wait_idle();
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.encoder.set_resource(resource);
    }
}

/// The ledger of a traces pipeline going to `destination`.
pub(crate) fn ledger(destination: String, config: &QueueConfig) -> Arc<Ledger> {
    Arc::new(Ledger::new(
        Signal::Traces,
        destination,
        Some((config.max_queue_size, "OTEL_BSP_MAX_QUEUE_SIZE")),
    ))
}

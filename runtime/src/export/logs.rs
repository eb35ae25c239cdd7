//! The logs pipeline's processor, [`DeliveryLogProcessor`]: each emitted record (with its
//! scope) is queued without waiting, and the queue's dispatcher sends to an exporter given
//! to the builder ([`LogExporterSink`], one export at a time) or over our OTLP transport
//! ([`OtlpLogSink`], several in flight), counted in the logs ledger.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};

use super::ledger::Ledger;
use super::queue::{Delivery, QueueConfig, Sink, block_on};
use crate::config::endpoint::Signal;
use crate::delivery::LossCause;

/// A queued log record with its instrumentation scope (boxed: records are large, and the
/// queue moves them).
pub(crate) type Queued = Box<(SdkLogRecord, InstrumentationScope)>;

/// Queues log records; a dispatcher exports them.
#[derive(Debug)]
pub(crate) struct DeliveryLogProcessor {
    delivery: Delivery<Queued>,
}

impl DeliveryLogProcessor {
    /// The processor of a queue sending to `sink`, counted in `ledger`.
    pub(crate) fn start<S: Sink<Queued>>(
        config: QueueConfig,
        sink: S,
        ledger: Arc<Ledger>,
        flush_timeout: Duration,
    ) -> std::io::Result<Self> {
        Delivery::start("llmetry-logs", config, sink, ledger, flush_timeout)
            .map(|delivery| Self { delivery })
    }

    /// The logs ledger.
    pub(crate) fn ledger(&self) -> &Arc<Ledger> {
        self.delivery.ledger()
    }
}

impl LogProcessor for DeliveryLogProcessor {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.delivery
            .offer(|| Box::new((record.clone(), scope.clone())));
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

/// The records of a batch as the exporters take them.
fn refs(batch: &[Queued]) -> Vec<(&SdkLogRecord, &InstrumentationScope)> {
    batch.iter().map(|b| (&b.0, &b.1)).collect()
}

/// Sends batches to a log exporter given to the builder, one at a time.
#[derive(Debug)]
pub(crate) struct LogExporterSink<E> {
    pub(crate) exporter: E,
    pub(crate) ledger: Arc<Ledger>,
}

impl<E: LogExporter + 'static> Sink<Queued> for LogExporterSink<E> {
    fn send(&mut self, batch: Vec<Queued>) {
        let n = batch.len() as u64;
        self.ledger.begin(n);
        let refs = refs(&batch);
        match block_on(self.exporter.export(LogBatch::new(&refs))) {
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

    fn shut_down(&mut self, timeout: Duration) {
        let _ = self.exporter.shutdown_with_timeout(timeout);
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}

/// Sends batches over our OTLP transport.
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
#[derive(Debug)]
pub(crate) struct OtlpLogSink {
    pub(crate) sender: Arc<super::sender::Sender>,
    pub(crate) encoder: super::encode::Encoder,
}

#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
impl Sink<Queued> for OtlpLogSink {
    fn send(&mut self, batch: Vec<Queued>) {
        let n = batch.len() as u64;
        let refs = refs(&batch);
        self.sender
            .dispatch_encoded(self.encoder.logs(&LogBatch::new(&refs)), n);
    }

    fn wait_idle(&mut self) {
        self.sender.wait_idle();
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.encoder.set_resource(resource);
    }
}

/// The ledger of a logs pipeline going to `destination`.
pub(crate) fn ledger(destination: String, config: &QueueConfig) -> Arc<Ledger> {
    Arc::new(Ledger::new(
        Signal::Logs,
        destination,
        Some((config.max_queue_size, "OTEL_BLRP_MAX_QUEUE_SIZE")),
    ))
}

//! Metric exporters run by the SDK's periodic reader (one export at a time, on its
//! thread): [`OtlpMetricExporter`] over our OTLP transport, and [`CountedMetricExporter`]
//! around an exporter given to the builder; both count each export in the metrics ledger.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use super::ledger::Ledger;
use crate::config::endpoint::Signal;
use crate::delivery::LossCause;

/// The ledger of metrics going to `destination` (counted in exports; no queue).
pub(crate) fn ledger(destination: String) -> Arc<Ledger> {
    Arc::new(Ledger::new(Signal::Metrics, destination, None))
}

/// Exports metrics over our OTLP transport.
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
#[derive(Debug)]
pub(crate) struct OtlpMetricExporter {
    pub(crate) sender: Arc<super::sender::Sender>,
    pub(crate) encoder: super::encode::Encoder,
    pub(crate) temporality: Temporality,
}

#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
impl PushMetricExporter for OtlpMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let ledger = self.sender.ledger();
        if ledger.is_off() {
            ledger.discard(1);
            return Ok(());
        }
        let body = match self.encoder.metrics(metrics) {
            Ok(body) => body,
            Err(detail) => {
                ledger.unencodable(1, detail.clone());
                return Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
                    detail,
                ));
            }
        };
        // The periodic reader calls this on its own thread: waiting here blocks nobody
        // else, and the export itself runs on llmetry's runtime.
        self.sender
            .export_blocking(body, 1)
            .map_err(opentelemetry_sdk::error::OTelSdkError::InternalFailure)
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        self.temporality
    }
}

/// A metric exporter given to the builder, its exports counted.
pub(crate) struct CountedMetricExporter<E> {
    pub(crate) inner: E,
    pub(crate) ledger: Arc<Ledger>,
}

impl<E: PushMetricExporter> PushMetricExporter for CountedMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.ledger.begin(1);
        let result = self.inner.export(metrics).await;
        match &result {
            Ok(()) => self.ledger.sent(1),
            Err(e) => self.ledger.failed(
                1,
                LossCause::Exporter {
                    detail: e.to_string(),
                },
            ),
        }
        result
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

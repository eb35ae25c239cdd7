//! The logs pipeline: a resolved [`Route`] (carrying the builder's log exporter when that
//! is where logs go) becomes the logger provider the `tracing` log bridge writes to (with
//! our queueing processor, [`DeliveryLogProcessor`]), the line of the install summary that
//! says where logs go, and the logs ledger.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{LogExporter, SdkLoggerProvider};

use super::Built;
use crate::config::Route;
use crate::config::delivery::QueueConfig;
use crate::error::InitError;
use crate::export::ledger::Ledger;
use crate::export::logs::{self, DeliveryLogProcessor, LogExporterSink};
use crate::export::otlp::Transports;

/// What a log exporter's processor is built with.
pub(super) struct LogWrap {
    config: QueueConfig,
    ledger: Arc<Ledger>,
    flush_timeout: Duration,
}

/// The log exporter given to the builder.
pub(super) struct LogPlug(Box<dyn FnOnce(LogWrap) -> std::io::Result<DeliveryLogProcessor> + Send>);

impl LogPlug {
    pub(super) fn new<E: LogExporter + 'static>(exporter: E) -> Self {
        Self(Box::new(move |w: LogWrap| {
            let sink = LogExporterSink {
                exporter,
                ledger: Arc::clone(&w.ledger),
            };
            DeliveryLogProcessor::start(w.config, sink, w.ledger, w.flush_timeout)
        }))
    }
}

/// The logger provider for `route` (`None` when logs are off), the summary line (where
/// logs go) and the logs ledger.
pub(super) fn provider(
    route: Route<LogPlug>,
    resource: Resource,
    queue: QueueConfig,
    flush_timeout: Duration,
    transports: &mut Transports,
) -> Result<Built<Option<SdkLoggerProvider>>, InitError> {
    let thread_failed = |destination: &str| {
        let destination = destination.to_owned();
        move |e: std::io::Error| InitError::Exporter {
            signal: "logs",
            destination,
            source: Box::new(e),
        }
    };
    let wrap = |line: &str| LogWrap {
        config: queue,
        ledger: logs::ledger(line.to_owned(), &queue),
        flush_timeout,
    };
    let (processor, line) = match route {
        Route::Off(why) => {
            return Ok(Built {
                provider: None,
                line: why,
                ledger: None,
            });
        }
        Route::Exporter(LogPlug(start)) => {
            let line = "custom exporter".to_owned();
            let p = start(wrap(&line)).map_err(thread_failed(&line))?;
            (p, line)
        }
        Route::Otlp(route) => {
            let line = route.describe();
            let p = otlp_processor(&route, wrap(&line), transports, &resource)
                .and_then(|p| p.map_err(thread_failed(&line)))?;
            (p, line)
        }
    };
    let ledger = Arc::clone(processor.ledger());
    let provider = SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_log_processor(processor)
        .build();
    Ok(Built {
        provider: Some(provider),
        line,
        ledger: Some(ledger),
    })
}

/// Our processor sending to `route` over our OTLP transport.
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
fn otlp_processor(
    route: &crate::config::OtlpRoute,
    w: LogWrap,
    transports: &mut Transports,
    resource: &Resource,
) -> Result<std::io::Result<DeliveryLogProcessor>, InitError> {
    let parts = crate::export::otlp::otlp(
        route,
        transports,
        Arc::clone(&w.ledger),
        w.config.export_timeout,
        w.config.max_concurrent_exports,
        resource,
    )?;
    let sink = logs::OtlpLogSink {
        sender: parts.sender,
        encoder: parts.encoder,
    };
    Ok(DeliveryLogProcessor::start(
        w.config,
        sink,
        w.ledger,
        w.flush_timeout,
    ))
}

/// Without a transport, an OTLP route is refused, naming the feature to enable.
#[cfg(not(any(feature = "grpc", feature = "http-proto", feature = "http-json")))]
fn otlp_processor(
    route: &crate::config::OtlpRoute,
    _w: LogWrap,
    _transports: &mut Transports,
    _resource: &Resource,
) -> Result<std::io::Result<DeliveryLogProcessor>, InitError> {
    Err(crate::export::otlp::missing(route))
}

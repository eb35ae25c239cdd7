//! The traces pipeline: a resolved [`TracesRoute`] (carrying the builder's span exporter
//! when that is where traces go) becomes the tracer provider, with one registered
//! processor of ours that enriches and queues ([`DeliveryProcessor`]: a single processor,
//! so the SDK does not clone each ended span), the builder's processors after it, the
//! line of the install summary that says where traces go, and the traces ledger.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    SdkTracerProvider, ShouldSample, SpanExporter, SpanProcessor, TracerProviderBuilder,
};

use super::Built;
use crate::config::TracesRoute;
use crate::config::delivery::QueueConfig;
use crate::error::InitError;
use crate::export::console::ConsoleExporter;
use crate::export::ledger::Ledger;
use crate::export::otlp::Transports;
use crate::export::spans::{self, DeliveryProcessor, ExporterSink, Postprocess};
use crate::processor::EnrichmentProcessor;

/// What a span exporter's processor is built with.
pub(super) struct SpanWrap {
    config: QueueConfig,
    ledger: Arc<Ledger>,
    postprocess: Option<Postprocess>,
    flush_timeout: Duration,
}

/// The span exporter given to the builder, with its type's name (for the summary line).
pub(super) struct SpanPlug {
    start: Box<dyn FnOnce(SpanWrap) -> std::io::Result<DeliveryProcessor> + Send>,
    name: &'static str,
}

impl SpanPlug {
    pub(super) fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        Self {
            start: Box::new(move |wrap: SpanWrap| {
                let sink = ExporterSink {
                    exporter,
                    ledger: Arc::clone(&wrap.ledger),
                    postprocess: wrap.postprocess,
                };
                DeliveryProcessor::start(wrap.config, sink, wrap.ledger, wrap.flush_timeout)
            }),
            name: std::any::type_name::<E>(),
        }
    }

    /// The exporter's type name.
    pub(super) fn name(&self) -> &'static str {
        self.name
    }
}

/// A span processor given to the builder, added after ours.
pub(super) struct ProcessorPlug(
    Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder + Send>,
);

impl ProcessorPlug {
    pub(super) fn new<P: SpanProcessor + 'static>(processor: P) -> Self {
        Self(Box::new(move |b| b.with_span_processor(processor)))
    }
}

/// Everything the builder gave for traces besides the route.
pub(super) struct TracesOptions {
    pub(super) sampler: Option<Box<dyn ShouldSample>>,
    pub(super) processors: Vec<ProcessorPlug>,
    pub(super) postprocess: Option<Postprocess>,
    pub(super) queue: QueueConfig,
    /// How long a flush waits (the shutdown deadline).
    pub(super) flush_timeout: Duration,
}

/// The tracer provider for `route`, the summary line (where traces go) and the traces
/// ledger (none when traces go only to the builder's processors).
pub(super) fn provider(
    route: TracesRoute<SpanPlug>,
    options: TracesOptions,
    resource: Resource,
    transports: &mut Transports,
) -> Result<Built<SdkTracerProvider>, InitError> {
    let TracesOptions {
        sampler,
        processors,
        postprocess,
        queue,
        flush_timeout,
    } = options;
    let thread_failed = |destination: &str| {
        let destination = destination.to_owned();
        move |e: std::io::Error| InitError::Exporter {
            signal: "traces",
            destination,
            source: Box::new(e),
        }
    };
    let wrap = |line: &str| SpanWrap {
        config: queue,
        ledger: spans::ledger(line.to_owned(), &queue),
        postprocess: postprocess.clone(),
        flush_timeout,
    };
    let (delivery, line) = match route {
        TracesRoute::Exporter(plug) => {
            let line = format!("custom exporter {}", plug.name);
            let processor = (plug.start)(wrap(&line)).map_err(thread_failed(&line))?;
            (Some(processor), line)
        }
        TracesRoute::Processors => (None, "custom span processor".to_owned()),
        TracesRoute::Console => {
            let line = "the console (stderr)".to_owned();
            let w = wrap(&line);
            let sink = ExporterSink {
                exporter: ConsoleExporter::default(),
                ledger: Arc::clone(&w.ledger),
                postprocess: w.postprocess,
            };
            let processor = DeliveryProcessor::start(w.config, sink, w.ledger, flush_timeout)
                .map_err(thread_failed(&line))?;
            (Some(processor), line)
        }
        TracesRoute::Otlp(route) => {
            let line = route.describe();
            let processor = otlp_processor(&route, wrap(&line), transports, &resource)
                .and_then(|p| p.map_err(thread_failed(&line)))?;
            (Some(processor), line)
        }
    };
    let ledger = delivery.as_ref().map(|p| Arc::clone(p.ledger()));
    let mut b = SdkTracerProvider::builder().with_resource(resource);
    // Ours first: spans are enriched before the builder's processors see them.
    b = match delivery {
        Some(p) => b.with_span_processor(p),
        None => b.with_span_processor(EnrichmentProcessor::default()),
    };
    if let Some(s) = sampler {
        b = b.with_sampler(s);
    }
    for ProcessorPlug(add) in processors {
        b = add(b);
    }
    Ok(Built {
        provider: b.build(),
        line,
        ledger,
    })
}

/// Our processor sending to `route` over our OTLP transport.
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
fn otlp_processor(
    route: &crate::config::OtlpRoute,
    wrap: SpanWrap,
    transports: &mut Transports,
    resource: &Resource,
) -> Result<std::io::Result<DeliveryProcessor>, InitError> {
    let parts = crate::export::otlp::otlp(
        route,
        transports,
        Arc::clone(&wrap.ledger),
        wrap.config.export_timeout,
        wrap.config.max_concurrent_exports,
        resource,
    )?;
    let sink = spans::OtlpSpanSink {
        sender: parts.sender,
        encoder: parts.encoder,
        postprocess: wrap.postprocess,
    };
    Ok(DeliveryProcessor::start(
        wrap.config,
        sink,
        wrap.ledger,
        wrap.flush_timeout,
    ))
}

/// Without a transport, an OTLP route is refused, naming the feature to enable.
#[cfg(not(any(feature = "grpc", feature = "http-proto", feature = "http-json")))]
fn otlp_processor(
    route: &crate::config::OtlpRoute,
    _wrap: SpanWrap,
    _transports: &mut Transports,
    _resource: &Resource,
) -> Result<std::io::Result<DeliveryProcessor>, InitError> {
    Err(crate::export::otlp::missing(route))
}

//! The traces pipeline: a resolved [`TracesRoute`] (carrying the builder's span exporter
//! when that is where traces go) becomes the tracer provider, with our enrichment first,
//! and the line of the install summary that says where traces go.

use std::sync::Arc;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, ShouldSample, SpanExporter,
    SpanProcessor, TracerProviderBuilder,
};

use crate::config::TracesRoute;
use crate::error::InitError;
use crate::export::console::ConsoleExporter;
use crate::export::otlp::{self, Transports};
use crate::export::report::{Postprocess, Reporter, ReportingSpanExporter};
use crate::processor::EnrichmentProcessor;

/// What every span exporter is wrapped with.
struct SpanWrap {
    reporter: Arc<Reporter>,
    postprocess: Option<Postprocess>,
    disable_batch: bool,
}

/// The span exporter given to the builder, with its type's name (for the summary line).
pub(super) struct SpanPlug {
    add: Box<dyn FnOnce(TracerProviderBuilder, SpanWrap) -> TracerProviderBuilder + Send>,
    name: &'static str,
}

impl SpanPlug {
    pub(super) fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        Self {
            add: Box::new(move |b, wrap| b.with_span_processor(batch_processor(exporter, wrap))),
            name: std::any::type_name::<E>(),
        }
    }

    /// The exporter's type name.
    pub(super) fn name(&self) -> &'static str {
        self.name
    }
}

/// A span processor given to the builder, added beside ours.
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
    pub(super) disable_batch: bool,
}

/// The tracer provider for `route` and the summary line (where traces go). A reporter is
/// added to `reporters` for the exporter, if there is one.
pub(super) fn provider(
    route: TracesRoute<SpanPlug>,
    options: TracesOptions,
    resource: Resource,
    transports: &mut Transports,
    reporters: &mut Vec<Arc<Reporter>>,
) -> Result<(SdkTracerProvider, String), InitError> {
    let TracesOptions {
        sampler,
        processors,
        postprocess,
        disable_batch,
    } = options;
    let mut b = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_span_processor(EnrichmentProcessor::default());
    if let Some(s) = sampler {
        b = b.with_sampler(s);
    }
    for ProcessorPlug(add) in processors {
        b = add(b);
    }
    let mut wrap = |target: String| {
        let reporter = Reporter::new("traces", target);
        reporters.push(Arc::clone(&reporter));
        SpanWrap {
            reporter,
            postprocess: postprocess.clone(),
            disable_batch,
        }
    };
    let line = match route {
        TracesRoute::Exporter(plug) => {
            let line = format!("custom exporter {}", plug.name);
            b = (plug.add)(b, wrap(line.clone()));
            line
        }
        TracesRoute::Processors => "custom span processor".to_owned(),
        TracesRoute::Console => {
            b = b.with_span_processor(batch_processor(
                ConsoleExporter::default(),
                wrap("the console".to_owned()),
            ));
            "the console (stderr); set TRACELOOP_BASE_URL or OTEL_EXPORTER_OTLP_ENDPOINT to send OTLP to a collector"
                .to_owned()
        }
        TracesRoute::Otlp(route) => {
            let exporter = otlp::span_exporter(&route, transports)?;
            b = b.with_span_processor(batch_processor(exporter, wrap(route.describe())));
            route.describe()
        }
    };
    Ok((b.build(), line))
}

/// Never a `SimpleSpanProcessor`: export runs on the processor's thread, not the caller's.
/// With `disable_batch`, each span is exported as soon as it ends.
fn batch_processor<E: SpanExporter + 'static>(exporter: E, wrap: SpanWrap) -> BatchSpanProcessor {
    let mut config = BatchConfigBuilder::default();
    if wrap.disable_batch {
        config = config.with_max_export_batch_size(1);
    }
    let exporter = ReportingSpanExporter {
        inner: exporter,
        reporter: wrap.reporter,
        postprocess: wrap.postprocess,
    };
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(config.build())
        .build()
}

//! The `tracing` side: llmetry's layers (an OpenTelemetry span layer, and when logs are
//! on a log bridge), each with its own filter, and the targets they never take (the
//! exporters' own dependencies, so telemetry never feeds on itself).
//!
//! Used by `install` (the global subscriber) and by the guard (`Telemetry::layer`, for an
//! app that owns its subscriber).

use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracer;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;

use crate::semconv;

/// Targets whose spans and events never reach our layers: the exporters' own
/// dependencies, so telemetry never feeds on itself.
const SELF_TARGETS: &[&str] = &[
    "opentelemetry",
    "hyper",
    "h2",
    "tonic",
    "reqwest",
    "tower",
    "rustls",
    "tracing_log",
];

fn targets() -> Targets {
    let mut targets = Targets::new()
        .with_default(tracing::Level::INFO)
        .with_target("llmetry", tracing::Level::TRACE);
    for t in SELF_TARGETS {
        targets = targets.with_target(*t, LevelFilter::OFF);
    }
    targets
}

/// One of our layers, boxed so that the span layer and the log bridge fit in one `Vec`.
pub(crate) type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// Our layers: an OTel span layer and (when logs are on) a log bridge, each with its own
/// filter. (A `Vec` rather than `Option` + `and_then`: a `None` layer reports a max level of
/// OFF and would switch the other layer off too.)
pub(crate) fn layers<S>(tracer: SdkTracer, logs: Option<&SdkLoggerProvider>) -> Vec<BoxedLayer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    let not_suppressed = || {
        tracing_subscriber::filter::filter_fn(|_| {
            !opentelemetry::Context::is_current_telemetry_suppressed()
        })
    };
    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false)
        .with_level(false)
        .with_filter(
            targets()
                .with_target(semconv::GENAI_EVENTS_TARGET, LevelFilter::OFF)
                .and(not_suppressed()),
        );
    let mut layers: Vec<BoxedLayer<S>> = vec![Box::new(spans)];
    if let Some(lp) = logs {
        layers.push(Box::new(
            opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(lp)
                .with_filter(targets().and(not_suppressed())),
        ));
    }
    layers
}

//! The `tracing` side: llmetry's layers (an OpenTelemetry span layer, and when logs are
//! on a log bridge), each with its own filter, and the targets they never take (the
//! exporters' own dependencies, so telemetry never feeds on itself). Where an event inside
//! a span goes ([`TracingEvents`]) is decided by those filters: the span layer takes no
//! event in `Logs` mode, the log bridge no event inside a span in `SpanEvents` mode.
//!
//! Used by `install` (the global subscriber) and by the guard (`Telemetry::layer`, for an
//! app that owns its subscriber).

use std::sync::atomic::{AtomicU8, Ordering};

use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracer;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use crate::config::TracingEvents;
use crate::semconv;

/// The installed [`TracingEvents`], read when the layers are built (by `install` and by
/// `Telemetry::layer`).
static TRACING_EVENTS: AtomicU8 = AtomicU8::new(0);

pub(crate) fn set_tracing_events(to: TracingEvents) {
    let v = match to {
        TracingEvents::Logs => 0,
        TracingEvents::SpanEvents => 1,
        TracingEvents::Both => 2,
    };
    TRACING_EVENTS.store(v, Ordering::Relaxed);
}

fn tracing_events() -> TracingEvents {
    match TRACING_EVENTS.load(Ordering::Relaxed) {
        1 => TracingEvents::SpanEvents,
        2 => TracingEvents::Both,
        _ => TracingEvents::Logs,
    }
}

/// The span layer's event filter: spans only (`Logs` mode), decided once per callsite.
struct SpansOnly;

impl<S> Filter<S> for SpansOnly {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        !meta.is_event()
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_event() {
            Interest::never()
        } else {
            Interest::always()
        }
    }
}

/// The log bridge's filter in `SpanEvents` mode: an event inside a span is that span's
/// event, not a log record; events outside any span, and the GenAI content events (log
/// records by design), still are.
struct OutsideSpans;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Filter<S> for OutsideSpans {
    fn enabled(&self, _meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        if event.metadata().target() == semconv::GENAI_EVENTS_TARGET {
            return true;
        }
        let in_span =
            event.parent().is_some() || (event.is_contextual() && cx.lookup_current().is_some());
        !in_span
    }
}

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
    let events = tracing_events();
    let span_filter = targets()
        .with_target(semconv::GENAI_EVENTS_TARGET, LevelFilter::OFF)
        .and(not_suppressed());
    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false)
        .with_level(false);
    let mut layers: Vec<BoxedLayer<S>> = vec![match events {
        TracingEvents::Logs => Box::new(spans.with_filter(span_filter.and(SpansOnly))),
        TracingEvents::SpanEvents | TracingEvents::Both => Box::new(spans.with_filter(span_filter)),
    }];
    if let Some(lp) = logs {
        let bridge = opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(lp);
        let log_filter = targets().and(not_suppressed());
        layers.push(match events {
            TracingEvents::SpanEvents => Box::new(bridge.with_filter(log_filter.and(OutsideSpans))),
            TracingEvents::Logs | TracingEvents::Both => Box::new(bridge.with_filter(log_filter)),
        });
    }
    layers
}

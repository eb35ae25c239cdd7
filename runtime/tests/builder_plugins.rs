//! The builder's plug-ins through the real pipeline: custom span, metric and log exporters,
//! an extra processor beside ours, a sampler, a propagator, the span postprocess callback,
//! and `instruments` / `block_instruments`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use llmetry::{Instrument, task, workflow};
use opentelemetry::trace::{SpanKind, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::{InMemorySpanExporter, Span, SpanData, SpanProcessor};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult};

/// Counts the spans it sees end.
#[derive(Debug, Clone, Default)]
struct Counting(Arc<AtomicUsize>);

impl SpanProcessor for Counting {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}
    fn on_end(&self, _span: SpanData) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _t: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

/// Drops spans named `sampled_out.task`.
#[derive(Debug, Clone)]
struct DropByName;

impl opentelemetry_sdk::trace::ShouldSample for DropByName {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: TraceId,
        name: &str,
        _kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        let decision = if name == "sampled_out.task" {
            SamplingDecision::Drop
        } else {
            SamplingDecision::RecordAndSample
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: TraceState::default(),
        }
    }
}

#[task(name = "sampled_out")]
fn sampled_out() {}

#[task(name = "secret_input")]
fn secret_input(password: &str) -> usize {
    tracing::info!(chars = password.len() as u64, "checked a password");
    password.len()
}

#[workflow(name = "plugins_wf")]
fn plugins_wf() {
    sampled_out();
    secret_input("hunter2");
    opentelemetry::global::meter("plugins")
        .u64_counter("plugins.calls")
        .build()
        .add(2, &[]);
}

#[test]
fn every_plug_in_takes_part() {
    let spans = InMemorySpanExporter::default();
    let metrics = InMemoryMetricExporter::default();
    let logs = InMemoryLogExporter::default();
    let counting = Counting::default();
    let telemetry = llmetry::init()
        .app_name("plugins")
        .exporter(spans.clone())
        .metrics_exporter(metrics.clone())
        .logging_exporter(logs.clone())
        .logging_enabled(true)
        .processor(counting.clone())
        .sampler(DropByName)
        .propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new())
        .span_postprocess_callback(|span: &mut SpanData| {
            for kv in span.attributes.iter_mut() {
                if kv.key.as_str() == "traceloop.entity.input" {
                    kv.value = "REDACTED".into();
                }
            }
        })
        .instruments([Instrument::OpenAi, Instrument::Anthropic])
        .block_instruments([Instrument::Anthropic])
        .disable_batch(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");

    plugins_wf();

    // The propagator: W3C trace context only (no baggage header).
    let mut carrier = std::collections::HashMap::new();
    let tracer = opentelemetry::global::tracer("plugins-test");
    opentelemetry::trace::Tracer::in_span(&tracer, "inject", |cx| {
        let cx = opentelemetry::baggage::BaggageExt::with_baggage(&cx, [KeyValue::new("k", "v")]);
        opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    });
    assert!(carrier.contains_key("traceparent"), "{carrier:?}");
    assert!(
        !carrier.contains_key("baggage"),
        "custom propagator replaced the default: {carrier:?}"
    );

    telemetry.flush().expect("flush");
    let names: Vec<String> = spans
        .get_finished_spans()
        .expect("in-memory span exporter")
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(
        names,
        ["secret_input.task", "plugins_wf.workflow", "inject"],
        "the sampler dropped one"
    );
    let exported = spans.get_finished_spans().expect("in-memory span exporter");
    let input = exported[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "traceloop.entity.input")
        .map(|kv| kv.value.as_str().into_owned());
    assert_eq!(
        input.as_deref(),
        Some("REDACTED"),
        "postprocess callback ran before export"
    );
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        3,
        "the extra processor saw every sampled span"
    );

    let emitted = logs.get_emitted_logs().expect("in-memory log exporter");
    assert!(
        emitted
            .iter()
            .any(|l| format!("{:?}", l.record.body()).contains("checked a password")),
        "custom log exporter got the event"
    );

    telemetry.shutdown().expect("shutdown");
    let finished = metrics
        .get_finished_metrics()
        .expect("in-memory metric exporter");
    let names: Vec<String> = finished
        .iter()
        .flat_map(|rm| {
            rm.scope_metrics()
                .flat_map(|sm| sm.metrics().map(|m| m.name().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(names.contains(&"plugins.calls".to_owned()), "{names:?}");

    assert!(llmetry::instrument_enabled(Instrument::OpenAi));
    assert!(!llmetry::instrument_enabled(Instrument::Anthropic));
    assert!(!llmetry::instrument_enabled(Instrument::Ollama));
}

//! Dev-only helpers shared by llmetry's tests: one real pipeline per test binary that
//! exports into `opentelemetry_sdk`'s in-memory exporter, and span look-ups.

pub mod llm_stub;
pub mod otlp;
pub mod rotel;
pub mod scenario;

use std::sync::OnceLock;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

/// The installed pipeline of this test binary.
pub struct Harness {
    exporter: InMemorySpanExporter,
    metrics: opentelemetry_sdk::metrics::InMemoryMetricExporter,
    logs: opentelemetry_sdk::logs::InMemoryLogExporter,
    telemetry: llmetry::Telemetry,
}

static HARNESS: OnceLock<Harness> = OnceLock::new();

/// Installs llmetry once for this test binary (immediate export into memory) and returns it.
pub fn harness() -> &'static Harness {
    harness_with(|b| b)
}

/// Like [`harness`], letting the first caller adjust the builder.
pub fn harness_with(
    configure: impl FnOnce(llmetry::TelemetryBuilder) -> llmetry::TelemetryBuilder,
) -> &'static Harness {
    HARNESS.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
        let logs = opentelemetry_sdk::logs::InMemoryLogExporter::default();
        let builder = llmetry::init()
            .app_name("llmetry-tests")
            .disable_batch(true)
            .silence_init_message(true)
            .env_source(llmetry::EnvSource::from_pairs(
                Vec::<(String, String)>::new(),
            ))
            .exporter(exporter.clone())
            .metrics_exporter(metrics.clone())
            .logging_exporter(logs.clone())
            .logging_enabled(true);
        let telemetry = match configure(builder).install() {
            Ok(t) => t,
            Err(e) => panic!("test harness install failed: {e}"),
        };
        Harness {
            exporter,
            metrics,
            logs,
            telemetry,
        }
    })
}

impl Harness {
    /// Delivers every ended span to the in-memory exporter.
    pub fn flush(&self) {
        if let Err(e) = self.telemetry.flush() {
            panic!("flush failed: {e}");
        }
    }

    /// Every span exported so far (after a flush).
    pub fn spans(&self) -> Vec<SpanData> {
        self.flush();
        match self.exporter.get_finished_spans() {
            Ok(s) => s,
            Err(e) => panic!("in-memory exporter: {e}"),
        }
    }

    /// The spans of the trace that contains the (unique) span named `name`.
    pub fn trace_of(&self, name: &str) -> Trace {
        let all = self.spans();
        let matching: Vec<&SpanData> = all.iter().filter(|s| s.name == name).collect();
        assert_eq!(
            matching.len(),
            1,
            "expected exactly one span named {name:?}, found {}",
            matching.len()
        );
        let trace_id = matching[0].span_context.trace_id();
        Trace {
            spans: all
                .into_iter()
                .filter(|s| s.span_context.trace_id() == trace_id)
                .collect(),
            trace_id,
        }
    }

    /// The spans with exactly this name.
    pub fn named(&self, name: &str) -> Vec<SpanData> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// Every metric collected so far (after a flush), as `(name, data points)` summaries.
    pub fn metrics(&self) -> Vec<opentelemetry_sdk::metrics::data::ResourceMetrics> {
        self.flush();
        match self.metrics.get_finished_metrics() {
            Ok(m) => m,
            Err(e) => panic!("in-memory metric exporter: {e}"),
        }
    }

    /// Every log record emitted so far (after a flush).
    pub fn logs(&self) -> Vec<opentelemetry_sdk::logs::in_memory_exporter::LogDataWithResource> {
        self.flush();
        match self.logs.get_emitted_logs() {
            Ok(l) => l,
            Err(e) => panic!("in-memory log exporter: {e}"),
        }
    }

    /// The telemetry guard.
    pub fn telemetry(&self) -> &llmetry::Telemetry {
        &self.telemetry
    }
}

/// The spans of one trace.
pub struct Trace {
    /// Its spans, in export (end) order.
    pub spans: Vec<SpanData>,
    /// Its trace id.
    pub trace_id: TraceId,
}

impl Trace {
    /// The unique span called `name`.
    pub fn span(&self, name: &str) -> &SpanData {
        let found: Vec<_> = self.spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(
            found.len(),
            1,
            "expected one span {name:?} in trace, names: {:?}",
            self.names()
        );
        found[0]
    }

    /// Every span called `name`.
    pub fn all(&self, name: &str) -> Vec<&SpanData> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    /// Span names in export order.
    pub fn names(&self) -> Vec<String> {
        self.spans.iter().map(|s| s.name.to_string()).collect()
    }

    /// The name of `span`'s parent within this trace (`None` for the root).
    pub fn parent_name(&self, span: &SpanData) -> Option<String> {
        if span.parent_span_id == SpanId::INVALID {
            return None;
        }
        self.spans
            .iter()
            .find(|s| s.span_context.span_id() == span.parent_span_id)
            .map(|s| s.name.to_string())
    }
}

/// The value of attribute `key` on `span`.
pub fn attr(span: &SpanData, key: &str) -> Option<Value> {
    let key = Key::from(key.to_owned());
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.clone())
}

/// The string value of attribute `key` on `span`.
pub fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

/// Attribute keys of `span`, sorted.
pub fn attr_keys(span: &SpanData) -> Vec<String> {
    let mut keys: Vec<String> = span
        .attributes
        .iter()
        .map(|kv| kv.key.to_string())
        .collect();
    keys.sort();
    keys
}

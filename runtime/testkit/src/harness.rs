//! One real pipeline per test binary that exports into `opentelemetry_sdk`'s in-memory
//! exporters ([`harness`]), and look-ups on the spans and metric points it collected.

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

    /// The unique span `name` in the trace of the (unique) span `root`, and the name of its
    /// parent (`None` for a root).
    pub fn span_with_parent(&self, root: &str, name: &str) -> (SpanData, Option<String>) {
        let t = self.trace_of(root);
        let s = t.span(name).clone();
        let parent = t.parent_name(&s);
        (s, parent)
    }

    /// Like [`Harness::span_with_parent`], for a span that may end a little after the call
    /// that made it returned (a stream's span, ended by a task of the HTTP client): polls
    /// until there is exactly one, failing only after [`HANG_GUARD`](crate::HANG_GUARD).
    pub async fn span_with_parent_eventually(
        &self,
        root: &str,
        name: &str,
    ) -> (SpanData, Option<String>) {
        let deadline = std::time::Instant::now() + crate::HANG_GUARD;
        loop {
            let t = self.trace_of(root);
            if let [s] = t.all(name)[..] {
                let parent = t.parent_name(s);
                return (s.clone(), parent);
            }
            if std::time::Instant::now() >= deadline {
                panic!(
                    "no single {name:?} span in the trace of {root:?} after {:?}: {:?}",
                    crate::HANG_GUARD,
                    t.names()
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
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

/// The integer value of attribute `key` on `span` (`None` when absent or not an integer).
pub fn int_attr(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key) {
        Some(Value::I64(v)) => Some(v),
        _ => None,
    }
}

/// The string attribute `key` on `span` parsed as JSON (`Null` when absent or not JSON).
pub fn json_attr(span: &SpanData, key: &str) -> serde_json::Value {
    attr_str(span, key)
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or(serde_json::Value::Null)
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

/// One data point of a metric, flattened for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// Metric name.
    pub name: String,
    /// Metric unit.
    pub unit: String,
    /// `histogram`, `sum` or `gauge`.
    pub kind: &'static str,
    /// Attributes as strings.
    pub attrs: Vec<(String, String)>,
    /// Histogram: count; sum/gauge: 1.
    pub count: u64,
    /// Histogram: sum; sum/gauge: the value.
    pub value: f64,
    /// Histogram bucket boundaries.
    pub bounds: Vec<f64>,
}

impl MetricPoint {
    /// The attribute `key` as a string.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Metric values as `f64` for assertions (token counts fit easily).
trait AsF64: Copy {
    fn as_f64(self) -> f64;
}
impl AsF64 for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}
impl AsF64 for u64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}
impl AsF64 for i64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

fn points_of<T: AsF64>(
    name: &str,
    unit: &str,
    data: &opentelemetry_sdk::metrics::data::MetricData<T>,
    out: &mut Vec<MetricPoint>,
) {
    use opentelemetry_sdk::metrics::data::MetricData;
    let attrs = |it: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| -> Vec<(String, String)> {
        it.map(|kv| (kv.key.to_string(), kv.value.as_str().into_owned()))
            .collect()
    };
    let point = |kind, attrs, count, value: T, bounds| MetricPoint {
        name: name.to_owned(),
        unit: unit.to_owned(),
        kind,
        attrs,
        count,
        value: value.as_f64(),
        bounds,
    };
    match data {
        MetricData::Histogram(h) => out.extend(h.data_points().map(|p| {
            point(
                "histogram",
                attrs(&mut p.attributes()),
                p.count(),
                p.sum(),
                p.bounds().collect(),
            )
        })),
        MetricData::Sum(s) => out.extend(
            s.data_points()
                .map(|p| point("sum", attrs(&mut p.attributes()), 1, p.value(), Vec::new())),
        ),
        MetricData::Gauge(g) => out.extend(g.data_points().map(|p| {
            point(
                "gauge",
                attrs(&mut p.attributes()),
                1,
                p.value(),
                Vec::new(),
            )
        })),
        MetricData::ExponentialHistogram(_) => {}
    }
}

impl Harness {
    /// The data points of the latest (cumulative) metric export.
    pub fn metric_points(&self) -> Vec<MetricPoint> {
        use opentelemetry_sdk::metrics::data::AggregatedMetrics;
        let all = self.metrics();
        let mut out = Vec::new();
        if let Some(last) = all.last() {
            for sm in last.scope_metrics() {
                for m in sm.metrics() {
                    match m.data() {
                        AggregatedMetrics::F64(d) => points_of(m.name(), m.unit(), d, &mut out),
                        AggregatedMetrics::U64(d) => points_of(m.name(), m.unit(), d, &mut out),
                        AggregatedMetrics::I64(d) => points_of(m.name(), m.unit(), d, &mut out),
                    }
                }
            }
        }
        out
    }
}

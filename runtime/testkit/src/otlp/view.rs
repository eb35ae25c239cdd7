//! What an [`OtlpReceiver`] received, as plain data for assertions: spans, log records and
//! metrics with their resource attributes, ids in hex and attributes as strings (see
//! [`attributes`]), and look-ups over a list of spans.

use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as NumberValue;

use super::{OtlpReceiver, attributes, hex};

/// A received span.
#[derive(Debug, Clone)]
pub struct SpanView {
    /// Its name.
    pub name: String,
    /// Trace id, hex.
    pub trace_id: String,
    /// Span id, hex.
    pub span_id: String,
    /// Parent span id, hex (empty for a root).
    pub parent_span_id: String,
    /// The OTLP span kind number (`SpanKind::Server as i32`, …).
    pub kind: i32,
    /// The OTLP status code: 0 unset, 1 OK, 2 error.
    pub status: i32,
    /// Start, Unix nanoseconds.
    pub start: u64,
    /// End, Unix nanoseconds.
    pub end: u64,
    /// Its attributes.
    pub attributes: Vec<(String, String)>,
    /// Its resource's attributes.
    pub resource: Vec<(String, String)>,
}

/// A received log record.
#[derive(Debug, Clone)]
pub struct LogView {
    /// The body: a string body verbatim, any other body in its `Debug` form.
    pub body: String,
    /// Trace id, hex (empty when not correlated).
    pub trace_id: String,
    /// Span id, hex (empty when not correlated).
    pub span_id: String,
    /// Its attributes.
    pub attributes: Vec<(String, String)>,
    /// Its resource's attributes.
    pub resource: Vec<(String, String)>,
}

/// A received metric.
#[derive(Debug, Clone)]
pub struct MetricView {
    /// Its name.
    pub name: String,
    /// The metric as received.
    pub metric: Metric,
    /// Its resource's attributes.
    pub resource: Vec<(String, String)>,
}

/// `(key, value)` look-up in attribute lists.
fn find<'a>(list: &'a [(String, String)], key: &str) -> Option<&'a str> {
    list.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

impl SpanView {
    /// The attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        find(&self.attributes, key)
    }

    /// The resource's `service.name`.
    pub fn service(&self) -> Option<&str> {
        find(&self.resource, "service.name")
    }
}

impl LogView {
    /// Whether the body is the string `message`.
    pub fn says(&self, message: &str) -> bool {
        self.body == message
    }

    /// The resource's `service.name`.
    pub fn service(&self) -> Option<&str> {
        find(&self.resource, "service.name")
    }
}

impl MetricView {
    /// The integer value of the first data point of a sum or gauge, if it is one.
    pub fn first_int(&self) -> Option<i64> {
        let points = match self.metric.data.as_ref()? {
            Data::Sum(s) => &s.data_points,
            Data::Gauge(g) => &g.data_points,
            _ => return None,
        };
        match points.first()?.value {
            Some(NumberValue::AsInt(i)) => Some(i),
            _ => None,
        }
    }

    /// The resource's `service.name`.
    pub fn service(&self) -> Option<&str> {
        find(&self.resource, "service.name")
    }
}

impl OtlpReceiver {
    /// Every span received so far, in arrival order.
    pub fn span_views(&self) -> Vec<SpanView> {
        self.spans()
            .into_iter()
            .map(|(resource, s)| SpanView {
                trace_id: hex(&s.trace_id),
                span_id: hex(&s.span_id),
                parent_span_id: hex(&s.parent_span_id),
                kind: s.kind,
                status: s.status.as_ref().map_or(0, |st| st.code),
                start: s.start_time_unix_nano,
                end: s.end_time_unix_nano,
                attributes: attributes(&s.attributes),
                name: s.name,
                resource,
            })
            .collect()
    }

    /// Every log record received so far, in arrival order.
    pub fn log_views(&self) -> Vec<LogView> {
        self.log_records()
            .into_iter()
            .map(|(resource, l)| LogView {
                body: match l.body.as_ref().and_then(|b| b.value.as_ref()) {
                    Some(any_value::Value::StringValue(s)) => s.clone(),
                    other => format!("{other:?}"),
                },
                trace_id: hex(&l.trace_id),
                span_id: hex(&l.span_id),
                attributes: attributes(&l.attributes),
                resource,
            })
            .collect()
    }

    /// Every metric received so far, in arrival order (a metric exported twice appears
    /// twice).
    pub fn metric_views(&self) -> Vec<MetricView> {
        self.metrics()
            .into_iter()
            .map(|(resource, m)| MetricView {
                name: m.name.clone(),
                metric: m,
                resource,
            })
            .collect()
    }

    /// The spans of the service `service`.
    pub fn spans_of(&self, service: &str) -> Vec<SpanView> {
        let mut spans = self.span_views();
        spans.retain(|s| s.service() == Some(service));
        spans
    }

    /// The log records of the service `service`.
    pub fn logs_of(&self, service: &str) -> Vec<LogView> {
        let mut logs = self.log_views();
        logs.retain(|l| l.service() == Some(service));
        logs
    }

    /// The metrics of the service `service`.
    pub fn metrics_of(&self, service: &str) -> Vec<MetricView> {
        let mut metrics = self.metric_views();
        metrics.retain(|m| m.service() == Some(service));
        metrics
    }
}

/// The spans named `name`, asserting there are `n` of them.
pub fn named<'a>(spans: &'a [SpanView], name: &str, n: usize) -> Vec<&'a SpanView> {
    let found: Vec<&SpanView> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), n, "{n} {name} span(s) in {spans:#?}");
    found
}

/// The one span named `name`, asserting there is exactly one.
pub fn exactly_one<'a>(spans: &'a [SpanView], name: &str) -> &'a SpanView {
    named(spans, name, 1)[0]
}

/// Whether `span` is below `ancestor` (following parent ids within `spans`).
pub fn is_under(spans: &[SpanView], span: &SpanView, ancestor: &SpanView) -> bool {
    let mut current = span;
    for _ in 0..spans.len() {
        if current.parent_span_id == ancestor.span_id && current.trace_id == ancestor.trace_id {
            return true;
        }
        match spans
            .iter()
            .find(|s| s.span_id == current.parent_span_id && s.trace_id == current.trace_id)
        {
            Some(parent) => current = parent,
            None => return false,
        }
    }
    false
}

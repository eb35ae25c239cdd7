//! The console exporters: a readable span tree on stderr (the default for development when
//! no collector is configured), metric points and log lines (`OTEL_METRICS_EXPORTER=console`,
//! `OTEL_LOGS_EXPORTER=console`); and [`SharedBuffer`], a writer to capture them.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::AnyValue;
use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::semconv;

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// Prints each finished trace as a tree: name, duration, key attributes, errors.
///
/// Spans of a trace are held until its root span ends (or until flush/shutdown), then the
/// whole tree is printed at once.
///
/// ```
/// let out = llmetry::SharedBuffer::new();
/// let exporter = llmetry::ConsoleExporter::to_writer(out.clone());
/// # drop(exporter);
/// ```
pub struct ConsoleExporter {
    sink: Sink,
    pending: Mutex<HashMap<TraceId, Vec<SpanData>>>,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleExporter")
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::to_writer(std::io::stderr())
    }
}

/// A cloneable in-memory writer (for capturing console output in tests and examples).
/// Clones share one buffer.
///
/// ```
/// use std::io::Write as _;
/// let buf = llmetry::SharedBuffer::new();
/// let mut writer = buf.clone();
/// writer.write_all(b"hello")?;
/// assert_eq!(buf.contents(), b"hello");
/// assert_eq!(buf.text(), "hello");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// An empty buffer.
    ///
    /// ```
    /// let buf = llmetry::SharedBuffer::new();
    /// assert!(buf.contents().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything written so far, by any clone.
    ///
    /// ```
    /// use std::io::Write as _;
    /// let buf = llmetry::SharedBuffer::new();
    /// buf.clone().write_all(&[0xff, b'!'])?;
    /// assert_eq!(buf.contents(), [0xff, b'!']);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Everything written so far as text (invalid UTF-8 shown as `�`).
    ///
    /// ```
    /// use std::io::Write as _;
    /// let buf = llmetry::SharedBuffer::new();
    /// write!(buf.clone(), "── trace {}", 42)?;
    /// assert_eq!(buf.text(), "── trace 42");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.contents()).into_owned()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ConsoleExporter {
    /// Prints to `w` instead of stderr.
    ///
    /// ```rust,standalone_crate
    /// use llmetry::{ConsoleExporter, SharedBuffer};
    ///
    /// #[llmetry::task(name = "fetch_logs")]
    /// fn fetch_logs() -> Result<(), String> {
    ///     Err("no space left".into())
    /// }
    ///
    /// #[llmetry::workflow(name = "rca")]
    /// fn rca() {
    ///     let _ = fetch_logs();
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let buf = SharedBuffer::default();
    /// let telemetry = llmetry::init()
    ///     .exporter(ConsoleExporter::to_writer(buf.clone()))
    ///     .silence_init_message(true)
    /// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
    ///     .install()?;
    /// rca();
    /// telemetry.flush()?;
    /// let text = buf.text();
    /// // ── trace 4bf92f3577b34da6a3ce929d0e0e4736
    /// // rca.workflow  1.2ms
    /// // └─ fetch_logs.task  35µs  ERROR: no space left
    /// let lines: Vec<&str> = text.lines().collect();
    /// assert!(lines[0].starts_with("── trace "));
    /// assert!(lines[1].starts_with("rca.workflow  "));
    /// assert!(lines[2].starts_with("└─ fetch_logs.task  ") && lines[2].ends_with("ERROR: no space left"));
    /// # Ok(()) }
    /// ```
    pub fn to_writer(w: impl Write + Send + 'static) -> Self {
        Self {
            sink: Arc::new(Mutex::new(Box::new(w))),
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn print(&self, spans: Vec<SpanData>) {
        let text = render_trace(spans);
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let _ = sink.write_all(text.as_bytes());
        let _ = sink.flush();
    }

    fn drain_all(&self) {
        let all: Vec<Vec<SpanData>> = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.drain().map(|(_, v)| v).collect()
        };
        for spans in all {
            self.print(spans);
        }
    }
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut ready = Vec::new();
        {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            for span in batch {
                let trace_id = span.span_context.trace_id();
                let is_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
                p.entry(trace_id).or_default().push(span);
                if is_root && let Some(spans) = p.remove(&trace_id) {
                    ready.push(spans);
                }
            }
        }
        for spans in ready {
            self.print(spans);
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.drain_all();
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.drain_all();
        Ok(())
    }
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a opentelemetry::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

fn describe(span: &SpanData) -> String {
    let mut line = String::new();
    let dur = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let _ = write!(line, "{}  {}", span.name, fmt_duration(dur));
    for (key, label) in [
        (semconv::GEN_AI_PROVIDER_NAME, "provider"),
        ("gen_ai.request.model", "model"),
        ("gen_ai.usage.input_tokens", "in_tokens"),
        ("gen_ai.usage.output_tokens", "out_tokens"),
        (semconv::TRACELOOP_ENTITY_INPUT, "input"),
        (semconv::TRACELOOP_ENTITY_OUTPUT, "output"),
    ] {
        if let Some(v) = attr(span, key) {
            let _ = write!(line, "  {label}={}", short(&v.as_str(), 60));
        }
    }
    if let Some(usd) = cost(span) {
        let _ = write!(line, "  cost={}", fmt_usd(usd));
    }
    for kv in &span.attributes {
        if let Some(k) = kv
            .key
            .as_str()
            .strip_prefix("traceloop.association.properties.")
        {
            let _ = write!(line, "  {k}={}", short(&kv.value.as_str(), 40));
        }
    }
    if let Status::Error { description } = &span.status {
        let _ = write!(line, "  ERROR: {description}");
    }
    line
}

/// The span's `gen_ai.usage.cost` (USD), if it has one.
fn cost(span: &SpanData) -> Option<f64> {
    match attr(span, semconv::GEN_AI_USAGE_COST)? {
        opentelemetry::Value::F64(usd) => Some(*usd),
        _ => None,
    }
}

/// `$0.000123`: six decimals (a millionth of a dollar is the smallest per-call cost worth
/// telling apart), more when the cost is smaller still but not zero.
fn fmt_usd(usd: f64) -> String {
    if usd != 0.0 && usd.abs() < 0.000_001 {
        format!("${usd:.9}")
    } else {
        format!("${usd:.6}")
    }
}

fn fmt_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1_000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// Renders the spans of one trace as an indented tree, children in start order.
fn render_trace(mut spans: Vec<SpanData>) -> String {
    spans.sort_by_key(|s| s.start_time);
    let ids: std::collections::HashSet<SpanId> =
        spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        if s.parent_span_id != SpanId::INVALID && ids.contains(&s.parent_span_id) {
            children.entry(s.parent_span_id).or_default().push(i);
        } else {
            roots.push(i);
        }
    }
    let mut out = String::new();
    let trace_id = spans
        .first()
        .map(|s| s.span_context.trace_id())
        .unwrap_or(TraceId::INVALID);
    // The trace's total: the sum of its LLM calls' costs (said only when one has a cost).
    let costs: Vec<f64> = spans.iter().filter_map(cost).collect();
    if costs.is_empty() {
        let _ = writeln!(out, "── trace {trace_id}");
    } else {
        let total: f64 = costs.iter().sum();
        let _ = writeln!(
            out,
            "── trace {trace_id}  cost={} ({} priced LLM call{})",
            fmt_usd(total),
            costs.len(),
            if costs.len() == 1 { "" } else { "s" }
        );
    }
    fn walk(
        i: usize,
        prefix: &str,
        last: bool,
        top: bool,
        spans: &[SpanData],
        children: &HashMap<SpanId, Vec<usize>>,
        out: &mut String,
    ) {
        let (branch, next_prefix) = if top {
            ("", String::new())
        } else if last {
            ("└─ ", format!("{prefix}   "))
        } else {
            ("├─ ", format!("{prefix}│  "))
        };
        let _ = writeln!(out, "{prefix}{branch}{}", describe(&spans[i]));
        if let Some(kids) = children.get(&spans[i].span_context.span_id()) {
            for (n, k) in kids.iter().enumerate() {
                walk(
                    *k,
                    &next_prefix,
                    n + 1 == kids.len(),
                    false,
                    spans,
                    children,
                    out,
                );
            }
        }
    }
    for r in roots {
        walk(r, "", true, true, &spans, &children, &mut out);
    }
    out
}

fn write_to(sink: &Sink, text: &str) {
    let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
    let _ = sink.write_all(text.as_bytes());
    let _ = sink.flush();
}

fn stderr_sink() -> Sink {
    Arc::new(Mutex::new(Box::new(std::io::stderr())))
}

/// Prints each metrics export on stderr: a `── metrics` header, then one line per data
/// point: name, unit, kind, attributes, value (count, sum, min and max for a histogram).
///
/// ```text
/// ── metrics
/// gen_ai.client.token.usage {token} histogram  gen_ai.token.type=input  count=1 sum=12 min=12 max=12
/// llm_job.tokens {token} sum  model=gpt-4o-mini  value=42
/// ```
pub(crate) struct ConsoleMetricExporter {
    sink: Sink,
}

impl Default for ConsoleMetricExporter {
    fn default() -> Self {
        Self {
            sink: stderr_sink(),
        }
    }
}

impl ConsoleMetricExporter {
    #[cfg(test)]
    fn to_writer(w: impl Write + Send + 'static) -> Self {
        Self {
            sink: Arc::new(Mutex::new(Box::new(w))),
        }
    }
}

fn attrs_text<'a>(attrs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> String {
    let mut out = String::new();
    for kv in attrs {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{}={}", kv.key, short(&kv.value.as_str(), 60));
    }
    out
}

fn render_metrics(metrics: &ResourceMetrics) -> String {
    let mut out = String::from("── metrics\n");
    for scope in metrics.scope_metrics() {
        for m in scope.metrics() {
            let head = if m.unit().is_empty() {
                m.name().to_owned()
            } else {
                format!("{} {{{}}}", m.name(), m.unit().trim_matches(['{', '}']))
            };
            match m.data() {
                AggregatedMetrics::F64(d) => points(&mut out, &head, d),
                AggregatedMetrics::U64(d) => points(&mut out, &head, d),
                AggregatedMetrics::I64(d) => points(&mut out, &head, d),
            }
        }
    }
    out
}

fn points<T: fmt::Display + Copy>(out: &mut String, head: &str, data: &MetricData<T>) {
    match data {
        MetricData::Gauge(g) => {
            for p in g.data_points() {
                let _ = writeln!(
                    out,
                    "{head} gauge  {}  value={}",
                    attrs_text(p.attributes()),
                    p.value()
                );
            }
        }
        MetricData::Sum(sum) => {
            for p in sum.data_points() {
                let _ = writeln!(
                    out,
                    "{head} sum  {}  value={}",
                    attrs_text(p.attributes()),
                    p.value()
                );
            }
        }
        MetricData::Histogram(h) => {
            for p in h.data_points() {
                let _ = write!(
                    out,
                    "{head} histogram  {}  count={} sum={}",
                    attrs_text(p.attributes()),
                    p.count(),
                    p.sum()
                );
                if let (Some(min), Some(max)) = (p.min(), p.max()) {
                    let _ = write!(out, " min={min} max={max}");
                }
                out.push('\n');
            }
        }
        MetricData::ExponentialHistogram(h) => {
            for p in h.data_points() {
                let _ = writeln!(
                    out,
                    "{head} exponential_histogram  {}  count={} sum={}",
                    attrs_text(p.attributes()),
                    p.count(),
                    p.sum()
                );
            }
        }
    }
}

impl PushMetricExporter for ConsoleMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        write_to(&self.sink, &render_metrics(metrics));
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// Prints each log record on stderr as one line: event time (UTC), severity, target,
/// body, attributes, and the trace and span it belongs to.
///
/// ```text
/// 2026-11-30T17:04:57.123Z INFO  llm_job  chat completion received  model=gpt-4o-mini  trace=4bf9… span=00f0…
/// ```
pub(crate) struct ConsoleLogExporter {
    sink: Sink,
}

impl fmt::Debug for ConsoleLogExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsoleLogExporter")
    }
}

impl Default for ConsoleLogExporter {
    fn default() -> Self {
        Self {
            sink: stderr_sink(),
        }
    }
}

impl ConsoleLogExporter {
    #[cfg(test)]
    fn to_writer(w: impl Write + Send + 'static) -> Self {
        Self {
            sink: Arc::new(Mutex::new(Box::new(w))),
        }
    }
}

fn any_value_text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.to_string(),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) => d.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// `2026-11-30T17:04:57.123Z`: UTC, milliseconds (civil date from days since the epoch,
/// after Howard Hinnant's algorithm).
fn utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

fn render_logs(batch: &LogBatch<'_>) -> String {
    let mut out = String::new();
    for (record, _scope) in batch.iter() {
        let time = record
            .timestamp()
            .or_else(|| record.observed_timestamp())
            .map(utc)
            .unwrap_or_default();
        let _ = write!(
            out,
            "{time} {:<5} {}  {}",
            record.severity_text().unwrap_or(""),
            record.target().map(|t| t.as_ref()).unwrap_or(""),
            record.body().map(any_value_text).unwrap_or_default()
        );
        let mut first = true;
        for (k, v) in record.attributes_iter() {
            out.push_str(if first { "  " } else { " " });
            first = false;
            let _ = write!(out, "{k}={}", short(&any_value_text(v), 60));
        }
        if let Some(tc) = record.trace_context() {
            let _ = write!(out, "  trace={} span={}", tc.trace_id, tc.span_id);
        }
        out.push('\n');
    }
    out
}

impl LogExporter for ConsoleLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        write_to(&self.sink, &render_logs(&batch));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
    use opentelemetry::metrics::MeterProvider as _;

    #[test]
    fn utc_formats_the_civil_date() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_261_294_567);
        assert_eq!(utc(t), "2026-11-21T11:41:34.567Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(utc(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn metrics_are_printed_one_line_per_point() {
        let buf = SharedBuffer::new();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(
                opentelemetry_sdk::metrics::PeriodicReader::builder(
                    ConsoleMetricExporter::to_writer(buf.clone()),
                )
                .build(),
            )
            .build();
        let meter = provider.meter("t");
        meter
            .u64_counter("llm_job.tokens")
            .with_unit("token")
            .build()
            .add(42, &[opentelemetry::KeyValue::new("model", "gpt-4o-mini")]);
        meter
            .f64_histogram("gen_ai.client.operation.duration")
            .with_unit("s")
            .build()
            .record(0.5, &[]);
        provider.shutdown().unwrap();
        let text = buf.text();
        assert!(text.starts_with("── metrics\n"), "{text}");
        assert!(
            text.contains("llm_job.tokens {token} sum  model=gpt-4o-mini  value=42\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "gen_ai.client.operation.duration {s} histogram    count=1 sum=0.5 min=0.5 max=0.5\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn log_records_are_printed_one_line_each() {
        let buf = SharedBuffer::new();
        let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
            .with_simple_exporter(ConsoleLogExporter::to_writer(buf.clone()))
            .build();
        let logger = provider.logger("t");
        let mut r = logger.create_log_record();
        r.set_timestamp(UNIX_EPOCH + Duration::from_millis(1_795_261_294_567));
        r.set_severity_text("INFO");
        r.set_severity_number(Severity::Info);
        r.set_target("llm_job");
        r.set_body("chat completion received".into());
        r.add_attribute("model", "gpt-4o-mini");
        logger.emit(r);
        provider.shutdown().unwrap();
        assert_eq!(
            buf.text(),
            "2026-11-21T11:41:34.567Z INFO  llm_job  chat completion received  model=gpt-4o-mini\n"
        );
    }
}

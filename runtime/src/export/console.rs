//! The console exporter: a readable span tree on stderr, the default for development when
//! no collector is configured; and [`SharedBuffer`], a writer to capture it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
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

//! An in-process OTLP receiver for tests that assert on exact export content and headers.
//!
//! [`OtlpReceiver::start`] binds two ephemeral ports on `127.0.0.1`: an OTLP/HTTP server
//! (`/v1/traces`, `/v1/metrics`, `/v1/logs`; protobuf or JSON bodies, optionally gzip'ed)
//! and an OTLP/gRPC server (trace, metrics and logs services). Every request is recorded as
//! a [`Received`]. The servers run on a private tokio runtime, so the API is blocking and
//! usable from plain `#[test]` functions; dropping the receiver stops them.
//!
//! Faults can be injected with [`OtlpReceiver::builder`]: fixed HTTP answers per path (a
//! status, headers and a body), gRPC error codes per method, slow answers, or a receiver
//! that never answers. [`refusing_endpoint`] gives an address nobody listens on;
//! [`RawServer`] a port that answers garbage, plaintext HTTP (for a TLS client) or nothing.
//!
//! [`OtlpReceiver::span_views`], [`OtlpReceiver::logs_of`] and friends give what was
//! received as plain data ([`SpanView`], [`LogView`], [`MetricView`]).

use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tonic::codec::CompressionEncoding;

mod view;

pub use view::{LogView, MetricView, SpanView, exactly_one, is_under, named};

/// The gRPC method path of the OTLP trace export.
pub const GRPC_TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// The gRPC method path of the OTLP metrics export.
pub const GRPC_METRICS_PATH: &str =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
/// The gRPC method path of the OTLP logs export.
pub const GRPC_LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// Largest request body accepted (decompressed), on both transports.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How a request reached the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/HTTP (protobuf or JSON).
    Http,
    /// OTLP/gRPC.
    Grpc,
}

/// A decoded request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A trace export.
    Traces(ExportTraceServiceRequest),
    /// A metrics export.
    Metrics(ExportMetricsServiceRequest),
    /// A logs export.
    Logs(ExportLogsServiceRequest),
    /// Anything that was not decoded: an unknown path, an unsupported content type or an
    /// undecodable body (after gzip decompression when that succeeded).
    Other(Vec<u8>),
}

/// One request as the receiver saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// HTTP or gRPC.
    pub transport: Transport,
    /// The request path: `/v1/traces`, or the gRPC method path such as [`GRPC_TRACES_PATH`].
    pub path: String,
    /// Every request header (gRPC: every HTTP/2 header, i.e. the metadata plus
    /// `content-type`, `te`, ...), names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The `content-type` header, if any.
    pub content_type: Option<String>,
    /// The decoded body.
    pub body: Payload,
}

impl Received {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A fixed HTTP answer.
#[derive(Debug, Clone)]
struct HttpFault {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A fixed gRPC answer.
#[derive(Debug, Clone)]
struct GrpcFault {
    code: i32,
    message: String,
}

/// State shared by the servers and the handle.
#[derive(Debug)]
struct Shared {
    received: Mutex<Vec<Received>>,
    http_faults: HashMap<String, HttpFault>,
    grpc_faults: HashMap<String, GrpcFault>,
    hang: bool,
    delay: Option<Duration>,
}

impl Shared {
    fn record(&self, received: Received) {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(received);
    }

    fn snapshot(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Configures an [`OtlpReceiver`] with injected faults.
#[derive(Debug, Default)]
pub struct OtlpReceiverBuilder {
    http_faults: HashMap<String, HttpFault>,
    grpc_faults: HashMap<String, GrpcFault>,
    hang: bool,
    delay: Option<Duration>,
}

impl OtlpReceiverBuilder {
    /// Answers every HTTP request to `path` (e.g. `/v1/metrics`) with `status` and `headers`
    /// and an empty body. The request is still recorded (and decoded when possible).
    pub fn respond_http(mut self, path: &str, status: u16, headers: Vec<(String, String)>) -> Self {
        self.http_faults.insert(
            path.to_owned(),
            HttpFault {
                status,
                headers,
                body: Vec::new(),
            },
        );
        self
    }

    /// Answers every HTTP request to `path` with `status`, a `content-type` and `body`
    /// (what a backend's 4xx usually carries: the reason). The request is still recorded.
    pub fn respond_http_with_body(
        mut self,
        path: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Self {
        self.http_faults.insert(
            path.to_owned(),
            HttpFault {
                status,
                headers: vec![("content-type".to_owned(), content_type.to_owned())],
                body: body.to_vec(),
            },
        );
        self
    }

    /// Answers every request (both transports) only after `delay`: a slow collector.
    pub fn slow(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Answers every gRPC call to `method_path` (e.g. [`GRPC_METRICS_PATH`]) with the gRPC
    /// status `code` (a `tonic::Code` number: 14 is `UNAVAILABLE`) and `message`. The request
    /// is still recorded.
    pub fn respond_grpc(mut self, method_path: &str, code: i32, message: &str) -> Self {
        self.grpc_faults.insert(
            method_path.to_owned(),
            GrpcFault {
                code,
                message: message.to_owned(),
            },
        );
        self
    }

    /// Accepts connections and reads requests (which are recorded) but never answers, on
    /// both transports.
    pub fn hang(mut self) -> Self {
        self.hang = true;
        self
    }

    /// Binds the ports and starts serving.
    pub fn start(self) -> OtlpReceiver {
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            http_faults: self.http_faults,
            grpc_faults: self.grpc_faults,
            hang: self.hang,
            delay: self.delay,
        });
        OtlpReceiver::launch(shared)
    }
}

/// An OTLP/HTTP and OTLP/gRPC receiver on `127.0.0.1` that records every request.
///
/// Stops serving (and closes its ports) when dropped.
#[derive(Debug)]
pub struct OtlpReceiver {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
    shutdown: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl OtlpReceiver {
    /// Starts a receiver that accepts everything.
    pub fn start() -> OtlpReceiver {
        OtlpReceiver::builder().start()
    }

    /// A builder for a receiver with injected faults.
    pub fn builder() -> OtlpReceiverBuilder {
        OtlpReceiverBuilder::default()
    }

    fn launch(shared: Arc<Shared>) -> OtlpReceiver {
        let http_std = bind_local();
        let grpc_std = bind_local();
        let (http_addr, grpc_addr) = match (http_std.local_addr(), grpc_std.local_addr()) {
            (Ok(h), Ok(g)) => (h, g),
            (Err(e), _) | (_, Err(e)) => panic!("otlp receiver: local_addr: {e}"),
        };

        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("otlp-receiver")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("otlp receiver: cannot build tokio runtime: {e}"),
        };

        {
            let _guard = runtime.enter();
            let http_listener = to_tokio(http_std);
            let grpc_listener = to_tokio(grpc_std);

            let http_app = axum::Router::new()
                .fallback(http_handler)
                .with_state(Arc::clone(&shared));
            runtime.spawn(async move {
                // Errors end the server; the test then sees connection failures.
                let _ = axum::serve(http_listener, http_app).await;
            });

            let grpc_app = grpc_router(Arc::clone(&shared));
            runtime.spawn(async move {
                let _ = axum::serve(grpc_listener, grpc_app).await;
            });
        }

        let (shutdown, stop) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("otlp-receiver-owner".to_owned())
            .spawn(move || {
                // Returns on a message or when the sender is dropped.
                let _ = stop.recv();
                runtime.shutdown_timeout(Duration::from_secs(2));
            });
        let thread = match thread {
            Ok(t) => t,
            Err(e) => panic!("otlp receiver: cannot spawn thread: {e}"),
        };

        OtlpReceiver {
            shared,
            http_addr,
            grpc_addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The OTLP/HTTP base URL, `http://127.0.0.1:PORT` (append `/v1/traces` etc.).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The OTLP/gRPC URL, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// Every request received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.snapshot()
    }

    /// Polls until `pred` holds for the received requests or `timeout` passes, then returns
    /// them (whether or not `pred` held).
    pub fn wait_for(&self, pred: impl Fn(&[Received]) -> bool, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = self.shared.snapshot();
            if pred(&now) || Instant::now() >= deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every span of every trace request received so far, with its resource's attributes
    /// (see [`attributes`]).
    pub fn spans(&self) -> Vec<(Vec<(String, String)>, Span)> {
        let mut out = Vec::new();
        for r in self.shared.snapshot() {
            if let Payload::Traces(req) = r.body {
                for rs in req.resource_spans {
                    let res = resource_attributes(rs.resource.as_ref());
                    for ss in rs.scope_spans {
                        out.extend(ss.spans.into_iter().map(|s| (res.clone(), s)));
                    }
                }
            }
        }
        out
    }

    /// Every log record of every logs request received so far, with its resource's
    /// attributes.
    pub fn log_records(&self) -> Vec<(Vec<(String, String)>, LogRecord)> {
        let mut out = Vec::new();
        for r in self.shared.snapshot() {
            if let Payload::Logs(req) = r.body {
                for rl in req.resource_logs {
                    let res = resource_attributes(rl.resource.as_ref());
                    for sl in rl.scope_logs {
                        out.extend(sl.log_records.into_iter().map(|l| (res.clone(), l)));
                    }
                }
            }
        }
        out
    }

    /// Every metric of every metrics request received so far, with its resource's
    /// attributes.
    pub fn metrics(&self) -> Vec<(Vec<(String, String)>, Metric)> {
        let mut out = Vec::new();
        for r in self.shared.snapshot() {
            if let Payload::Metrics(req) = r.body {
                for rm in req.resource_metrics {
                    let res = resource_attributes(rm.resource.as_ref());
                    for sm in rm.scope_metrics {
                        out.extend(sm.metrics.into_iter().map(|m| (res.clone(), m)));
                    }
                }
            }
        }
        out
    }

    /// The names of every metric received so far, in arrival order (a metric exported
    /// twice appears twice).
    pub fn metric_names(&self) -> Vec<String> {
        self.metrics().into_iter().map(|(_, m)| m.name).collect()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        drop(self.shutdown.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `http://127.0.0.1:PORT` for a port that was bound and then closed, so connecting to it is
/// refused.
pub fn refusing_endpoint() -> String {
    let listener = bind_local();
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("refusing_endpoint: local_addr: {e}"),
    };
    drop(listener);
    format!("http://{addr}")
}

/// What a [`RawServer`] does with each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawAnswer {
    /// Reads the request, writes these bytes, closes: an answer that is not HTTP (or, to
    /// a gRPC client, not HTTP/2).
    Garbage(Vec<u8>),
    /// Reads what comes (a TLS client's handshake too) and answers `HTTP/1.1 400` in
    /// plaintext: a plaintext-only port for TLS-mismatch tests.
    PlaintextHttp,
    /// Accepts and reads, never answers, keeps the connection open.
    Silent,
}

/// A TCP server on `127.0.0.1` answering every connection the same raw way
/// ([`RawAnswer`]); it records the first bytes of each connection and stops when dropped
/// (or after twice [`HANG_GUARD`](crate::HANG_GUARD)).
#[derive(Debug)]
pub struct RawServer {
    addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    first_bytes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl RawServer {
    /// Starts serving `answer`.
    pub fn start(answer: RawAnswer) -> RawServer {
        use std::io::Write as _;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = bind_local();
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("raw server: local_addr: {e}"),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let first_bytes: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let (stop2, seen) = (Arc::clone(&stop), Arc::clone(&first_bytes));
        let spawned = std::thread::Builder::new()
            .name("raw-server".to_owned())
            .spawn(move || {
                let deadline = Instant::now() + crate::HANG_GUARD * 2;
                while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let mut conn = match listener.accept() {
                        Ok((conn, _)) => conn,
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    };
                    let (answer, stop3, seen) =
                        (answer.clone(), Arc::clone(&stop2), Arc::clone(&seen));
                    let _ = std::thread::Builder::new().spawn(move || {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut buf = vec![0u8; 64 * 1024];
                        let n = conn.read(&mut buf).unwrap_or(0);
                        seen.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(buf[..n.min(64)].to_vec());
                        match answer {
                            RawAnswer::Garbage(bytes) => {
                                let _ = conn.write_all(&bytes);
                            }
                            RawAnswer::PlaintextHttp => {
                                let _ = conn.write_all(
                                    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                                );
                            }
                            RawAnswer::Silent => {
                                while !stop3.load(Ordering::Relaxed) {
                                    let _ = conn.read(&mut buf);
                                    std::thread::sleep(Duration::from_millis(20));
                                }
                            }
                        }
                    });
                }
            });
        if let Err(e) = spawned {
            panic!("raw server: cannot spawn thread: {e}");
        }
        RawServer {
            addr,
            stop,
            first_bytes,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first bytes (up to 64) each connection sent so far.
    pub fn first_bytes(&self) -> Vec<Vec<u8>> {
        self.first_bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Attributes as `(key, value)` strings: strings verbatim, numbers and booleans via
/// `Display`, bytes as lower-case hex, arrays as `[a, b]`, maps as `{k=v, ..}`.
pub fn attributes(kvs: &[KeyValue]) -> Vec<(String, String)> {
    kvs.iter()
        .map(|kv| {
            let v = kv.value.as_ref().map(any_value_string).unwrap_or_default();
            (kv.key.clone(), v)
        })
        .collect()
}

/// The value of attribute `key` in `kvs`, formatted as by [`attributes`].
pub fn attribute(kvs: &[KeyValue], key: &str) -> Option<String> {
    kvs.iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_ref().map(any_value_string).unwrap_or_default())
}

fn resource_attributes(resource: Option<&Resource>) -> Vec<(String, String)> {
    resource
        .map(|r| attributes(&r.attributes))
        .unwrap_or_default()
}

fn any_value_string(v: &AnyValue) -> String {
    match &v.value {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => hex(b),
        Some(any_value::Value::StringValueStrindex(i)) => format!("strindex:{i}"),
        Some(any_value::Value::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(any_value_string).collect();
            format!("[{}]", items.join(", "))
        }
        Some(any_value::Value::KvlistValue(l)) => {
            let items: Vec<String> = attributes(&l.values)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// Lower-case hex of `bytes` (trace and span ids).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bind_local() -> StdTcpListener {
    let listener = match StdTcpListener::bind(("127.0.0.1", 0)) {
        Ok(l) => l,
        Err(e) => panic!("otlp receiver: cannot bind 127.0.0.1:0: {e}"),
    };
    if let Err(e) = listener.set_nonblocking(true) {
        panic!("otlp receiver: set_nonblocking: {e}");
    }
    listener
}

fn to_tokio(listener: StdTcpListener) -> tokio::net::TcpListener {
    match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => panic!("otlp receiver: cannot register listener: {e}"),
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), header_string(v)))
        .collect()
}

fn header_string(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

// ---------------------------------------------------------------------------------------
// OTLP/HTTP

/// The signal an OTLP/HTTP path carries.
#[derive(Clone, Copy)]
enum Signal {
    Traces,
    Metrics,
    Logs,
}

/// How a body is encoded.
#[derive(Clone, Copy)]
enum Format {
    Protobuf,
    Json,
}

/// What the receiver makes of an OTLP/HTTP request.
enum Outcome {
    /// Decoded: answer success in the same format.
    Accepted(Signal, Format),
    /// Not decoded: answer this status and message.
    Rejected(StatusCode, String),
}

async fn http_handler(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let content_type = parts.headers.get(CONTENT_TYPE).map(header_string);
    let encoding = parts.headers.get(CONTENT_ENCODING).map(header_string);

    let (payload, outcome) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(raw) => classify(
            &parts.method,
            &path,
            content_type.as_deref(),
            encoding.as_deref(),
            &raw,
        ),
        Err(e) => (
            Payload::Other(Vec::new()),
            Outcome::Rejected(StatusCode::BAD_REQUEST, format!("cannot read body: {e}")),
        ),
    };
    shared.record(Received {
        transport: Transport::Http,
        path: path.clone(),
        headers: header_pairs(&parts.headers),
        content_type,
        body: payload,
    });

    if shared.hang {
        return std::future::pending::<Response>().await;
    }
    if let Some(delay) = shared.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = shared.http_faults.get(&path) {
        return fault_response(fault);
    }
    match outcome {
        Outcome::Accepted(signal, format) => success_response(signal, format),
        Outcome::Rejected(status, message) => (status, message).into_response(),
    }
}

/// Decompresses and decodes a request body.
fn classify(
    method: &Method,
    path: &str,
    content_type: Option<&str>,
    encoding: Option<&str>,
    raw: &Bytes,
) -> (Payload, Outcome) {
    let plain = match decompress(encoding, raw) {
        Ok(p) => p,
        Err(e) => {
            return (
                Payload::Other(raw.to_vec()),
                Outcome::Rejected(StatusCode::BAD_REQUEST, e),
            );
        }
    };
    let signal = match path {
        "/v1/traces" => Signal::Traces,
        "/v1/metrics" => Signal::Metrics,
        "/v1/logs" => Signal::Logs,
        _ => {
            return (
                Payload::Other(plain),
                Outcome::Rejected(StatusCode::NOT_FOUND, format!("no OTLP path {path:?}")),
            );
        }
    };
    if *method != Method::POST {
        return (
            Payload::Other(plain),
            Outcome::Rejected(StatusCode::METHOD_NOT_ALLOWED, "use POST".to_owned()),
        );
    }
    let Some(format) = content_type.and_then(format_of) else {
        return (
            Payload::Other(plain),
            Outcome::Rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported content type {content_type:?}"),
            ),
        );
    };
    match decode(signal, format, &plain) {
        Ok(payload) => (payload, Outcome::Accepted(signal, format)),
        Err(e) => (
            Payload::Other(plain),
            Outcome::Rejected(StatusCode::BAD_REQUEST, e),
        ),
    }
}

fn format_of(content_type: &str) -> Option<Format> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-protobuf" | "application/protobuf" => Some(Format::Protobuf),
        "application/json" => Some(Format::Json),
        _ => None,
    }
}

fn decompress(encoding: Option<&str>, raw: &Bytes) -> Result<Vec<u8>, String> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("identity") => Ok(raw.to_vec()),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .take(MAX_BODY as u64)
                .read_to_end(&mut out)
                .map_err(|e| format!("bad gzip body: {e}"))?;
            Ok(out)
        }
        Some(other) => Err(format!("unsupported content-encoding {other:?}")),
    }
}

fn decode(signal: Signal, format: Format, body: &[u8]) -> Result<Payload, String> {
    match (signal, format) {
        (Signal::Traces, Format::Protobuf) => ExportTraceServiceRequest::decode(body)
            .map(Payload::Traces)
            .map_err(|e| e.to_string()),
        (Signal::Metrics, Format::Protobuf) => ExportMetricsServiceRequest::decode(body)
            .map(Payload::Metrics)
            .map_err(|e| e.to_string()),
        (Signal::Logs, Format::Protobuf) => ExportLogsServiceRequest::decode(body)
            .map(Payload::Logs)
            .map_err(|e| e.to_string()),
        (Signal::Traces, Format::Json) => serde_json::from_slice(body)
            .map(Payload::Traces)
            .map_err(|e| e.to_string()),
        (Signal::Metrics, Format::Json) => serde_json::from_slice(body)
            .map(Payload::Metrics)
            .map_err(|e| e.to_string()),
        (Signal::Logs, Format::Json) => serde_json::from_slice(body)
            .map(Payload::Logs)
            .map_err(|e| e.to_string()),
    }
}

fn success_response(signal: Signal, format: Format) -> Response {
    let (body, content_type): (Vec<u8>, &'static str) = match format {
        Format::Protobuf => {
            let bytes = match signal {
                Signal::Traces => ExportTraceServiceResponse::default().encode_to_vec(),
                Signal::Metrics => ExportMetricsServiceResponse::default().encode_to_vec(),
                Signal::Logs => ExportLogsServiceResponse::default().encode_to_vec(),
            };
            (bytes, "application/x-protobuf")
        }
        Format::Json => (b"{}".to_vec(), "application/json"),
    };
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn fault_response(fault: &HttpFault) -> Response {
    let mut response = Response::new(Body::from(fault.body.clone()));
    *response.status_mut() =
        StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in &fault.headers {
        match (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            (Ok(k), Ok(v)) => {
                response.headers_mut().append(k, v);
            }
            _ => panic!("respond_http: invalid header {k:?}: {v:?}"),
        }
    }
    response
}

// ---------------------------------------------------------------------------------------
// OTLP/gRPC

/// The HTTP/2 request line and headers of a gRPC call, captured before tonic strips the
/// reserved headers from the metadata.
#[derive(Clone)]
struct GrpcCall {
    path: String,
    headers: Vec<(String, String)>,
    content_type: Option<String>,
}

fn grpc_router(shared: Arc<Shared>) -> axum::Router {
    let sink = GrpcSink {
        shared: Arc::clone(&shared),
    };
    let routes = tonic::service::Routes::new(
        TraceServiceServer::new(sink.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_BODY),
    )
    .add_service(
        MetricsServiceServer::new(sink.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_BODY),
    )
    .add_service(
        LogsServiceServer::new(sink)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_BODY),
    );
    routes
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(shared, grpc_capture))
}

/// Attaches a [`GrpcCall`] to every request; records calls to unknown methods (tonic answers
/// them `UNIMPLEMENTED`).
async fn grpc_capture(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let call = GrpcCall {
        path: request.uri().path().to_owned(),
        headers: header_pairs(request.headers()),
        content_type: request.headers().get(CONTENT_TYPE).map(header_string),
    };
    let known = [GRPC_TRACES_PATH, GRPC_METRICS_PATH, GRPC_LOGS_PATH].contains(&call.path.as_str());
    if known {
        request.extensions_mut().insert(call);
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    shared.record(Received {
        transport: Transport::Grpc,
        path: call.path,
        headers: call.headers,
        content_type: call.content_type,
        body: Payload::Other(body),
    });
    if shared.hang {
        return std::future::pending::<Response>().await;
    }
    next.run(Request::from_parts(parts, Body::empty())).await
}

/// The gRPC service implementations.
#[derive(Clone)]
struct GrpcSink {
    shared: Arc<Shared>,
}

impl GrpcSink {
    /// Records the call; then hangs, fails, or lets the caller answer.
    async fn handle<T>(
        &self,
        default_path: &str,
        request: tonic::Request<T>,
        wrap: impl FnOnce(T) -> Payload,
    ) -> Result<(), tonic::Status> {
        let call = request.extensions().get::<GrpcCall>().cloned();
        let (path, headers, content_type) = match call {
            Some(c) => (c.path, c.headers, c.content_type),
            None => (
                default_path.to_owned(),
                header_pairs(&request.metadata().clone().into_headers()),
                None,
            ),
        };
        let fault = self.shared.grpc_faults.get(&path).cloned();
        self.shared.record(Received {
            transport: Transport::Grpc,
            path,
            headers,
            content_type,
            body: wrap(request.into_inner()),
        });
        if self.shared.hang {
            return std::future::pending().await;
        }
        if let Some(delay) = self.shared.delay {
            tokio::time::sleep(delay).await;
        }
        match fault {
            Some(f) => Err(tonic::Status::new(tonic::Code::from_i32(f.code), f.message)),
            None => Ok(()),
        }
    }
}

#[tonic::async_trait]
impl TraceService for GrpcSink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.handle(GRPC_TRACES_PATH, request, Payload::Traces)
            .await?;
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for GrpcSink {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.handle(GRPC_METRICS_PATH, request, Payload::Metrics)
            .await?;
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for GrpcSink {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.handle(GRPC_LOGS_PATH, request, Payload::Logs).await?;
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

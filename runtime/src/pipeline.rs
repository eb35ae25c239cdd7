//! Building the three pipelines (traces, metrics, logs) from a resolved configuration.
//!
//! HTTP exporters get an explicit blocking reqwest client (built off any async runtime, with
//! its own timeout) so cargo feature unification cannot swap it; gRPC exporters are built
//! inside a small runtime we own. Every exporter is wrapped so that a failing collector
//! costs one warning per signal on stderr, not one per batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument as MetricInstrument, InstrumentKind, Stream, Temporality,
};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::config::{Compression, OtlpRoute, Protocol};
use crate::endpoint::Destination;
use crate::init::InitError;

/// Bucket boundaries of `gen_ai.client.token.usage` (OTel GenAI semantic conventions).
/// [`crate::init`] applies them; use them for a meter provider built by hand.
///
/// ```
/// use opentelemetry_sdk::metrics::{Aggregation, Instrument, SdkMeterProvider, Stream};
///
/// let provider = SdkMeterProvider::builder()
///     .with_view(|i: &Instrument| {
///         if i.name() != "gen_ai.client.token.usage" {
///             return None;
///         }
///         Stream::builder()
///             .with_aggregation(Aggregation::ExplicitBucketHistogram {
///                 boundaries: llmetry::TOKEN_USAGE_BOUNDARIES.to_vec(),
///                 record_min_max: true,
///             })
///             .build()
///             .ok()
///     })
///     .build();
/// assert_eq!(llmetry::TOKEN_USAGE_BOUNDARIES[..3], [1.0, 4.0, 16.0]); // powers of 4
/// # drop(provider);
/// ```
pub const TOKEN_USAGE_BOUNDARIES: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// Bucket boundaries of second-valued GenAI duration histograms
/// (`gen_ai.client.operation.duration`, `gen_ai.server.time_to_first_token`): 10 ms
/// doubling up to about 82 s.
///
/// ```
/// use opentelemetry::metrics::MeterProvider as _;
/// use opentelemetry_sdk::metrics::SdkMeterProvider;
///
/// let provider = SdkMeterProvider::builder().build();
/// let latency = provider
///     .meter("my_llm_client")
///     .f64_histogram("gen_ai.client.operation.duration")
///     .with_unit("s")
///     .with_boundaries(llmetry::DURATION_BOUNDARIES.to_vec())
///     .build();
/// latency.record(0.42, &[]);
/// assert!(llmetry::DURATION_BOUNDARIES.windows(2).all(|w| w[1] == 2.0 * w[0]));
/// ```
pub const DURATION_BOUNDARIES: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// The metric views: semconv buckets for token usage and for every histogram in seconds.
pub(crate) fn genai_view(i: &MetricInstrument) -> Option<Stream> {
    if i.kind() != InstrumentKind::Histogram {
        return None;
    }
    let boundaries = if i.name() == "gen_ai.client.token.usage" {
        TOKEN_USAGE_BOUNDARIES.to_vec()
    } else if i.unit() == "s" && i.name().starts_with("gen_ai.") {
        DURATION_BOUNDARIES.to_vec()
    } else {
        return None;
    };
    Stream::builder()
        .with_aggregation(Aggregation::ExplicitBucketHistogram {
            boundaries,
            record_min_max: true,
        })
        .build()
        .ok()
}

/// Prints the first export failure of a signal, then stays quiet.
#[derive(Debug)]
pub(crate) struct Reporter {
    signal: &'static str,
    target: String,
    warned: AtomicBool,
    closing: AtomicBool,
}

impl Reporter {
    pub(crate) fn new(signal: &'static str, target: String) -> Arc<Self> {
        Arc::new(Self {
            signal,
            target,
            warned: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        })
    }

    pub(crate) fn signal(&self) -> &'static str {
        self.signal
    }

    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Whether a failure of this signal was already printed.
    pub(crate) fn warned(&self) -> bool {
        self.warned.load(Ordering::Relaxed)
    }

    /// Shutdown gave up on this signal: what fails after this is our doing, not the
    /// collector's, and is not reported.
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
    }

    fn report(&self, result: &OTelSdkResult) {
        if let Err(e) = result
            && !self.closing.load(Ordering::Relaxed)
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            eprintln!(
                "llmetry: warning: {} export to {} failed: {e} (the app goes on; later {} export failures are not reported)",
                self.signal, self.target, self.signal
            );
        }
    }
}

/// A callback that may change or redact a span before export.
pub(crate) type Postprocess = Arc<dyn Fn(&mut SpanData) + Send + Sync>;

/// Wraps a span exporter: postprocess callback, then one-time failure reporting.
pub(crate) struct ReportingSpanExporter<E> {
    pub(crate) inner: E,
    pub(crate) reporter: Arc<Reporter>,
    pub(crate) postprocess: Option<Postprocess>,
}

impl<E: std::fmt::Debug> std::fmt::Debug for ReportingSpanExporter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportingSpanExporter")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<E: SpanExporter> SpanExporter for ReportingSpanExporter<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(cb) = &self.postprocess {
            for span in &mut batch {
                cb(span);
            }
        }
        let r = self.inner.export(batch).await;
        self.reporter.report(&r);
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Wraps a metric exporter with one-time failure reporting.
pub(crate) struct ReportingMetricExporter<E> {
    pub(crate) inner: E,
    pub(crate) reporter: Arc<Reporter>,
}

impl<E: PushMetricExporter> PushMetricExporter for ReportingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let r = self.inner.export(metrics).await;
        self.reporter.report(&r);
        r
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

/// Wraps a log exporter with one-time failure reporting.
#[derive(Debug)]
pub(crate) struct ReportingLogExporter<E> {
    pub(crate) inner: E,
    pub(crate) reporter: Arc<Reporter>,
}

impl<E: LogExporter> LogExporter for ReportingLogExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let r = self.inner.export(batch).await;
        self.reporter.report(&r);
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// A blocking reqwest client that sends exactly the resolved headers: the OTLP exporter
/// also merges `OTEL_EXPORTER_OTLP_*HEADERS` from the process environment, which would
/// break "builder > environment"; this client puts our resolved set back.
#[derive(Debug, Clone)]
pub(crate) struct PinnedHeadersClient {
    inner: reqwest::blocking::Client,
    headers: reqwest::header::HeaderMap,
}

const TRANSPORT_HEADERS: [&str; 5] = [
    "content-type",
    "content-encoding",
    "content-length",
    "user-agent",
    "accept-encoding",
];

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for PinnedHeadersClient {
    async fn send_bytes(
        &self,
        mut request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let h = request.headers_mut();
        let foreign: Vec<_> = h
            .keys()
            .filter(|k| !TRANSPORT_HEADERS.contains(&k.as_str()) && !self.headers.contains_key(*k))
            .cloned()
            .collect();
        for k in foreign {
            h.remove(&k);
        }
        for (k, v) in &self.headers {
            h.insert(k.clone(), v.clone());
        }
        self.inner.send_bytes(request).await
    }
}

fn header_map(route: &OtlpRoute) -> Result<reqwest::header::HeaderMap, InitError> {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in &route.headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
            InitError::InvalidValue {
                key: format!("{} headers", route.signal),
                value: k.clone(),
                expected: "an HTTP header name",
            }
        })?;
        let value =
            reqwest::header::HeaderValue::from_str(v).map_err(|_| InitError::InvalidValue {
                key: format!("{} headers", route.signal),
                value: format!("{k}=***"),
                expected: "a header value without control characters",
            })?;
        map.insert(name, value);
    }
    Ok(map)
}

/// Builds the blocking client on a helper thread: building (or dropping) one inside an
/// async runtime panics.
fn http_client(route: &OtlpRoute) -> Result<PinnedHeadersClient, InitError> {
    let timeout = route.timeout;
    let built = std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
    })
    .join();
    let inner = match built {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            return Err(InitError::Exporter {
                signal: route.signal.as_str(),
                message: e.to_string(),
            });
        }
        Err(_) => {
            return Err(InitError::Exporter {
                signal: route.signal.as_str(),
                message: "building the HTTP client panicked".to_owned(),
            });
        }
    };
    Ok(PinnedHeadersClient {
        inner,
        headers: header_map(route)?,
    })
}

fn otlp_compression(c: Option<Compression>) -> Option<opentelemetry_otlp::Compression> {
    c.map(|Compression::Gzip| opentelemetry_otlp::Compression::Gzip)
}

fn otlp_protocol(p: Protocol) -> opentelemetry_otlp::Protocol {
    match p {
        Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
        Protocol::Grpc => opentelemetry_otlp::Protocol::Grpc,
        Protocol::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
    }
}

fn metadata(
    route: &OtlpRoute,
) -> Result<opentelemetry_otlp::tonic_types::metadata::MetadataMap, InitError> {
    Ok(opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(header_map(route)?))
}

fn tls(route: &OtlpRoute) -> Option<opentelemetry_otlp::tonic_types::transport::ClientTlsConfig> {
    match &route.destination {
        Destination::Grpc { tls: true, .. } => Some(
            opentelemetry_otlp::tonic_types::transport::ClientTlsConfig::new().with_enabled_roots(),
        ),
        _ => None,
    }
}

fn build_err(
    route: &OtlpRoute,
) -> impl Fn(opentelemetry_otlp::ExporterBuildError) -> InitError + '_ {
    move |e| InitError::Exporter {
        signal: route.signal.as_str(),
        message: format!("{} ({e})", route.describe()),
    }
}

/// An owned runtime for tonic channels (gRPC exporters need one at build time and for the
/// channel's background task).
pub(crate) fn grpc_runtime() -> Result<tokio::runtime::Runtime, InitError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("llmetry-grpc")
        .enable_all()
        .build()
        .map_err(|e| InitError::Exporter {
            signal: "grpc",
            message: format!("could not start the gRPC runtime: {e}"),
        })
}

fn configure_tonic<B>(b: B, route: &OtlpRoute) -> Result<B, InitError>
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithTonicConfig,
{
    let url = route.destination.url().to_string();
    let mut b = b
        .with_endpoint(url.trim_end_matches('/'))
        .with_timeout(route.timeout)
        .with_metadata(metadata(route)?);
    if let Some(t) = tls(route) {
        b = b.with_tls_config(t);
    }
    if let Some(c) = otlp_compression(route.compression) {
        b = b.with_compression(c);
    }
    Ok(b)
}

fn configure_http<B>(b: B, route: &OtlpRoute) -> Result<B, InitError>
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithHttpConfig,
{
    let mut b = b
        .with_protocol(otlp_protocol(route.protocol))
        .with_endpoint(route.destination.url().to_string())
        .with_timeout(route.timeout)
        .with_headers(route.headers.iter().cloned().collect::<HashMap<_, _>>())
        .with_http_client(http_client(route)?);
    if let Some(c) = otlp_compression(route.compression) {
        b = b.with_compression(c);
    }
    Ok(b)
}

/// Defines a function building the OTLP exporter of one signal for a route: gRPC ones
/// inside the owned runtime, HTTP ones with the pinned-headers blocking client. (The three
/// exporter builders share traits for configuration but not for `build`.)
macro_rules! otlp_exporter {
    ($(#[$doc:meta])* $name:ident, $exporter:ty) => {
        $(#[$doc])*
        pub(crate) fn $name(route: &OtlpRoute, rt: Option<&tokio::runtime::Runtime>) -> Result<$exporter, InitError> {
            let b = <$exporter>::builder();
            match (&route.destination, rt) {
                (Destination::Grpc { .. }, Some(rt)) => {
                    let _enter = rt.enter();
                    configure_tonic(b.with_tonic(), route)?.build().map_err(build_err(route))
                }
                _ => configure_http(b.with_http(), route)?.build().map_err(build_err(route)),
            }
        }
    };
}

otlp_exporter!(
    /// The OTLP span exporter for `route`.
    otlp_span_exporter,
    opentelemetry_otlp::SpanExporter
);
otlp_exporter!(
    /// The OTLP metric exporter for `route`.
    otlp_metric_exporter,
    opentelemetry_otlp::MetricExporter
);
otlp_exporter!(
    /// The OTLP log exporter for `route`.
    otlp_log_exporter,
    opentelemetry_otlp::LogExporter
);

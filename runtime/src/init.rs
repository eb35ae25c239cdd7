//! `llmetry::init()`: the builder, modelled on Python's `Traceloop.init`, and the
//! [`Telemetry`] guard it returns.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{LogExporter, LoggerProviderBuilder, SdkLoggerProvider};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, ShouldSample, SpanData,
    SpanExporter, SpanProcessor, TracerProviderBuilder,
};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;

use crate::config::{
    self, Compression, Instrument, Plugged, PropagatorKind, Protocol, ResolvedConfig, Route,
    Settings,
};
use crate::env::EnvSource;
use crate::pipeline::{
    self, Postprocess, Reporter, ReportingLogExporter, ReportingMetricExporter,
    ReportingSpanExporter,
};
use crate::processor::EnrichmentProcessor;
use crate::semconv;
use crate::state;

/// How long [`Telemetry::flush`] and [`Telemetry::shutdown`] (and `Drop`) wait at most for
/// the exporters, even when the collector never answers.
///
/// ```
/// use std::time::Duration;
/// // Leave room for telemetry's last flush in a deployment's grace period.
/// let grace = Duration::from_secs(30);
/// let app_budget = grace - llmetry::SHUTDOWN_TIMEOUT;
/// assert_eq!(app_budget, Duration::from_secs(25));
/// ```
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Default interval of the periodic metric export (`OTEL_METRIC_EXPORT_INTERVAL`, ms).
///
/// ```
/// use llmetry::{DEFAULT_METRIC_EXPORT_INTERVAL, EnvSource};
/// assert_eq!(DEFAULT_METRIC_EXPORT_INTERVAL.as_millis(), 60_000);
/// // Export every 10 s instead:
/// let env = EnvSource::from_pairs([("OTEL_METRIC_EXPORT_INTERVAL", "10000")]);
/// let builder = llmetry::init().env_source(env);
/// ```
pub const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(60);

/// Starts configuring telemetry. Call [`TelemetryBuilder::install`] once, early in `main`.
///
/// ```rust,standalone_crate
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
///
/// let exporter = InMemorySpanExporter::default();
/// let telemetry = llmetry::init()
///     .app_name("llm_job")
///     .disable_batch(true)
///     .exporter(exporter.clone())
///     .silence_init_message(true)
/// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///     .install()?;
/// telemetry.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn init() -> TelemetryBuilder {
    TelemetryBuilder::default()
}

type SpanSink = Box<dyn FnOnce(TracerProviderBuilder, SpanWrap) -> TracerProviderBuilder + Send>;
type MetricSink =
    Box<dyn FnOnce(MeterProviderBuilder, Arc<Reporter>, Duration) -> MeterProviderBuilder + Send>;
type LogSink =
    Box<dyn FnOnce(LoggerProviderBuilder, Arc<Reporter>, bool) -> LoggerProviderBuilder + Send>;
type ProcessorAdder = Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder + Send>;

/// What every span exporter gets wrapped with.
struct SpanWrap {
    reporter: Arc<Reporter>,
    postprocess: Option<Postprocess>,
    disable_batch: bool,
}

/// The `init()` builder. Every method mirrors a `Traceloop.init` parameter in snake_case;
/// a value set here wins over the environment, which wins over the default (see the
/// README's configuration table).
///
/// Nothing happens until [`TelemetryBuilder::install`]: a builder can be made, passed
/// around and dropped freely.
///
/// ```
/// use std::time::Duration;
/// use llmetry::{Compression, Protocol};
///
/// let builder = llmetry::init()
///     .app_name("rca-service")
///     .api_endpoint("http://otel-collector:4317")
///     .protocol(Protocol::Grpc)
///     .compression(Compression::Gzip)
///     .timeout(Duration::from_secs(5))
///     .headers([("X-Scope-OrgID", "rca")])
///     .resource_attributes([("deployment.environment", "staging")])
///     .metrics_endpoint("http://mimir:9009/otlp")
///     .logging_enabled(true)
///     .trace_content(false);
/// println!("{builder:?}"); // header values and API keys are never printed
/// ```
#[must_use = "call .install() to start exporting"]
#[derive(Default)]
pub struct TelemetryBuilder {
    settings: Settings,
    span_exporter: Option<(SpanSink, &'static str)>,
    processors: Vec<ProcessorAdder>,
    metrics_exporter: Option<MetricSink>,
    logging_exporter: Option<LogSink>,
    sampler: Option<Box<dyn ShouldSample>>,
    propagator: Option<Box<dyn FnOnce() + Send>>,
    postprocess: Option<Postprocess>,
    env: EnvSource,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("settings", &self.settings)
            .field("exporter", &self.span_exporter.as_ref().map(|e| e.1))
            .field("processors", &self.processors.len())
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// Why [`TelemetryBuilder::install`] refused the configuration.
///
/// Its `Display` names the setting, the value and what was expected; secrets are shown as
/// `***`.
///
/// ```rust,standalone_crate
/// use llmetry::{EnvSource, InitError};
///
/// let env = EnvSource::from_pairs([
///     ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector:4318"),
///     ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"),
/// ]);
/// match llmetry::init().env_source(env).install() {
///     Err(InitError::InvalidValue { key, value, expected }) => {
///         assert_eq!(key, "OTEL_EXPORTER_OTLP_PROTOCOL");
///         assert_eq!(value, "thrift");
///         assert_eq!(expected, "http/protobuf, http/json or grpc");
///     }
///     Err(other) => panic!("another configuration error: {other}"),
///     Ok(_) => panic!("thrift is no OTLP protocol"),
/// }
///
/// let env = EnvSource::from_pairs([("TRACELOOP_BASE_URL", "htp://collector:4318")]);
/// let err = llmetry::init().env_source(env).install().err();
/// assert!(matches!(err, Some(InitError::Endpoint { ref key, .. }) if key == "TRACELOOP_BASE_URL"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A configuration value could not be understood.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    InvalidValue {
        /// The builder method or environment variable.
        key: String,
        /// The value that was given (secrets shown as `***`).
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// An endpoint could not be used.
    #[error("{key}: {message}")]
    Endpoint {
        /// The builder method or environment variable.
        key: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A header string could not be parsed.
    #[error("{key}: {message}")]
    Header {
        /// The builder method or environment variable.
        key: String,
        /// What is wrong and what was expected (values shown as `***`).
        message: String,
    },
    /// The destination is Traceloop's platform and no API key (or `Authorization` header)
    /// was given.
    #[error(
        "missing Traceloop API key for {endpoint}: set TRACELOOP_API_KEY or .api_key(..) \
         (create one at https://app.traceloop.com/settings/api-keys), or point api_endpoint / TRACELOOP_BASE_URL at your own collector"
    )]
    MissingApiKey {
        /// The Traceloop endpoint.
        endpoint: String,
    },
    /// An exporter could not be built.
    #[error("could not build the {signal} exporter: {message}")]
    Exporter {
        /// `traces`, `metrics`, `logs` or `grpc`.
        signal: &'static str,
        /// The underlying error.
        message: String,
    },
    /// `install()` already ran in this process and its telemetry is still live.
    #[error(
        "llmetry is already installed in this process: install() works once per process (the global tracing subscriber and providers cannot be replaced)"
    )]
    AlreadyInstalled,
}

/// Why [`Telemetry::flush`] or [`Telemetry::shutdown`] did not complete cleanly.
///
/// Neither is fatal: the app can log it and go on. Here an exporter fails every export (a
/// collector that is down would do the same):
///
/// ```rust,standalone_crate
/// use llmetry::ShutdownError;
/// use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
/// use opentelemetry_sdk::trace::{SpanData, SpanExporter};
///
/// #[derive(Debug)]
/// struct Unreachable;
///
/// impl SpanExporter for Unreachable {
///     async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
///         Err(OTelSdkError::InternalFailure("connection refused".into()))
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry = llmetry::init()
///     .exporter(Unreachable)
///     .silence_init_message(true)
/// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///     .install()?;
/// tracing::info_span!("step").in_scope(|| {});
/// match telemetry.flush() {
///     Err(ShutdownError::Export { operation, message }) => {
///         assert_eq!(operation, "flush");
///         eprintln!("some telemetry was lost: {message}");
///     }
///     Err(ShutdownError::Timeout { pending, .. }) => eprintln!("still waiting for {pending}"),
///     Err(other) => eprintln!("{other}"),
///     Ok(()) => panic!("the exporter always fails"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// Some signals' exporters did not finish within the bound.
    #[error(
        "telemetry {operation} did not finish within {timeout:?} for {pending}; data still buffered for them was dropped"
    )]
    Timeout {
        /// `flush` or `shutdown`.
        operation: &'static str,
        /// The bound that was hit.
        timeout: Duration,
        /// The unfinished signals and their destinations.
        pending: String,
    },
    /// Some exports failed.
    #[error("telemetry {operation} incomplete: {message}")]
    Export {
        /// `flush` or `shutdown`.
        operation: &'static str,
        /// Per signal, what failed.
        message: String,
    },
}

fn pairs<I, K, V>(it: I) -> Vec<(String, String)>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    it.into_iter().map(|(k, v)| (k.into(), v.into())).collect()
}

impl TelemetryBuilder {
    /// `service.name` of every signal. Env: `OTEL_SERVICE_NAME`. Default: the binary's name.
    ///
    /// ```
    /// let builder = llmetry::init().app_name("rca-service");
    /// ```
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.settings.app_name = Some(name.into());
        self
    }

    /// Base URL of the collector for every signal: `http(s)://host:port` (OTLP/HTTP,
    /// `/v1/<signal>` appended unless present), `grpc://host:port` (gRPC plaintext),
    /// `grpcs://host:port` (gRPC TLS) or `host:port` (gRPC plaintext).
    /// Env: `TRACELOOP_BASE_URL`, then `OTEL_EXPORTER_OTLP_ENDPOINT`.
    ///
    /// ```
    /// let builder = llmetry::init().api_endpoint("http://otel-collector:4318");
    /// let grpc = llmetry::init().api_endpoint("grpc://otel-collector:4317");
    /// ```
    pub fn api_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.api_endpoint = Some(url.into());
        self
    }

    /// Traceloop API key, sent as `Authorization: Bearer …` unless headers are given.
    /// Env: `TRACELOOP_API_KEY`. Never printed.
    ///
    /// ```
    /// # let read_secret = || String::from("tl-xxxx");
    /// let builder = llmetry::init().api_key(read_secret()); // exports to api.traceloop.com
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.api_key = Some(key.into());
        self
    }

    /// Export headers for every signal (metrics and logs fall back to these), e.g.
    /// `.headers([("X-Scope-OrgID", "rca")])`. Env: `TRACELOOP_HEADERS`,
    /// `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, percent-decoded). Values are never printed.
    ///
    /// ```
    /// let builder = llmetry::init().headers([("X-Scope-OrgID", "rca")]);
    /// ```
    pub fn headers<I, K, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.settings.headers = Some(pairs(headers));
        self
    }

    /// `false` turns llmetry off: annotated functions run untraced, nothing is exported.
    /// Env: `TRACELOOP_TRACING_ENABLED`, and `OTEL_SDK_DISABLED=true`. Default: on.
    ///
    /// ```
    /// let builder = llmetry::init().enabled(std::env::var_os("NO_TELEMETRY").is_none());
    /// ```
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.settings.enabled = Some(enabled);
        self
    }

    /// Export every span and log record at once (on the exporter's own thread, never the
    /// caller's) instead of in batches: for short-lived jobs. Env: `TRACELOOP_DISABLE_BATCH`.
    /// Default: batched.
    ///
    /// ```
    /// let builder = llmetry::init().disable_batch(true); // a short-lived batch job
    /// ```
    pub fn disable_batch(mut self, disable: bool) -> Self {
        self.settings.disable_batch = Some(disable);
        self
    }

    /// Whether entity inputs/outputs (and LLM prompts/completions) are recorded.
    /// Env: `TRACELOOP_TRACE_CONTENT`. Default: on. See [`crate::with_trace_content`] for a
    /// scoped override.
    ///
    /// ```
    /// let builder = llmetry::init().trace_content(false); // no prompts, inputs or outputs
    /// ```
    pub fn trace_content(mut self, enabled: bool) -> Self {
        self.settings.trace_content = Some(enabled);
        self
    }

    /// Do not print the one-line summary on stderr at install.
    /// Env: `TRACELOOP_SILENCE_INIT_MESSAGE`.
    ///
    /// ```
    /// let builder = llmetry::init().silence_init_message(true);
    /// ```
    pub fn silence_init_message(mut self, silence: bool) -> Self {
        self.settings.silence_init_message = Some(silence);
        self
    }

    /// `false`: do not install a global `tracing` subscriber; the app composes
    /// [`Telemetry::layer`] into its own registry and installs that. Default: install one
    /// when none is set.
    ///
    /// ```rust,standalone_crate
    /// use tracing_subscriber::layer::SubscriberExt as _;
    /// let telemetry = llmetry::init()
    ///     .global_subscriber(false)
    ///     .silence_init_message(true)
    ///     .env_source(llmetry::EnvSource::from_pairs(Vec::<(String, String)>::new()))
    ///     .install()?;
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
    ///     .with(telemetry.layer());
    /// tracing::subscriber::set_global_default(subscriber)?;
    /// # telemetry.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn global_subscriber(mut self, install: bool) -> Self {
        self.settings.global_subscriber = Some(install);
        self
    }

    /// Extra resource attributes, e.g. `[("deployment.environment", "development")]`;
    /// merged over `OTEL_RESOURCE_ATTRIBUTES`.
    ///
    /// ```
    /// let builder = llmetry::init().resource_attributes([("deployment.environment", "staging")]);
    /// ```
    pub fn resource_attributes<I, K, V>(mut self, attrs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<opentelemetry::Value>,
    {
        self.settings
            .resource_attributes
            .extend(attrs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Send spans to this exporter instead of OTLP. Our enrichment still runs; metrics and
    /// logs stay off unless they have their own exporter or endpoint.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// let builder = llmetry::init().exporter(InMemorySpanExporter::default());
    /// ```
    pub fn exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        let sink: SpanSink =
            Box::new(move |b, wrap| b.with_span_processor(batch_processor(exporter, wrap)));
        self.span_exporter = Some((sink, std::any::type_name::<E>()));
        self
    }

    /// Add a span processor beside ours (our enrichment always runs first).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};
    /// let builder = llmetry::init().processor(SimpleSpanProcessor::new(InMemorySpanExporter::default()));
    /// ```
    pub fn processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.processors
            .push(Box::new(move |b| b.with_span_processor(processor)));
        self
    }

    /// The sampler. Env: `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`.
    /// Default: parent-based always-on.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::Sampler;
    /// let builder = llmetry::init().sampler(Sampler::TraceIdRatioBased(0.25));
    /// ```
    pub fn sampler<S: ShouldSample + 'static>(mut self, sampler: S) -> Self {
        self.sampler = Some(Box::new(sampler));
        self
    }

    /// The global text-map propagator. Env: `OTEL_PROPAGATORS` (`tracecontext`, `baggage`,
    /// `none`). Default: W3C trace context + baggage.
    ///
    /// ```
    /// use opentelemetry_sdk::propagation::TraceContextPropagator;
    /// let builder = llmetry::init().propagator(TraceContextPropagator::new()); // no baggage
    /// ```
    pub fn propagator<P>(mut self, propagator: P) -> Self
    where
        P: opentelemetry::propagation::TextMapPropagator + Send + Sync + 'static,
    {
        self.propagator = Some(Box::new(move || {
            opentelemetry::global::set_text_map_propagator(propagator)
        }));
        self
    }

    /// Called on every span before export (OTLP, console or custom exporter); may change or
    /// redact it.
    ///
    /// ```
    /// use opentelemetry::KeyValue;
    /// let builder = llmetry::init().span_postprocess_callback(|span| {
    ///     for kv in &mut span.attributes {
    ///         if kv.key.as_str() == "traceloop.entity.input" {
    ///             *kv = KeyValue::new(kv.key.clone(), "<redacted>");
    ///         }
    ///     }
    /// });
    /// ```
    pub fn span_postprocess_callback<F>(mut self, callback: F) -> Self
    where
        F: Fn(&mut SpanData) + Send + Sync + 'static,
    {
        self.postprocess = Some(Arc::new(callback));
        self
    }

    /// Only these LLM integrations are active. Env: `TRACELOOP_INSTRUMENTS`. Default: all.
    ///
    /// ```
    /// use llmetry::Instrument;
    /// let builder = llmetry::init().instruments([Instrument::OpenAi, Instrument::Ollama]);
    /// ```
    pub fn instruments(mut self, instruments: impl IntoIterator<Item = Instrument>) -> Self {
        self.settings.instruments = Some(instruments.into_iter().collect());
        self
    }

    /// These LLM integrations are off. Env: `TRACELOOP_BLOCK_INSTRUMENTS`.
    ///
    /// ```
    /// let builder = llmetry::init().block_instruments([llmetry::Instrument::Rig]);
    /// ```
    pub fn block_instruments(mut self, instruments: impl IntoIterator<Item = Instrument>) -> Self {
        self.settings.block_instruments.extend(instruments);
        self
    }

    /// `false`: prompts and completions are emitted as log events instead of span
    /// attributes. Env: `TRACELOOP_USE_ATTRIBUTES`. Default: attributes.
    ///
    /// ```
    /// let builder = llmetry::init().use_attributes(false).logging_enabled(true);
    /// ```
    pub fn use_attributes(mut self, use_attributes: bool) -> Self {
        self.settings.use_attributes = Some(use_attributes);
        self
    }

    /// Export metrics. Env: `TRACELOOP_METRICS_ENABLED`. Default: on when a collector is
    /// configured.
    ///
    /// ```
    /// let builder = llmetry::init().metrics_enabled(false);
    /// ```
    pub fn metrics_enabled(mut self, enabled: bool) -> Self {
        self.settings.metrics_enabled = Some(enabled);
        self
    }

    /// Base URL for metrics only (same forms as [`Self::api_endpoint`]).
    /// Env: `TRACELOOP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (full URL).
    ///
    /// ```
    /// let builder = llmetry::init().metrics_endpoint("http://mimir:9009/otlp");
    /// ```
    pub fn metrics_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.metrics_endpoint = Some(url.into());
        self
    }

    /// Headers for metrics only, e.g. `[("THANOS-TENANT", "team-a")]`.
    /// Env: `TRACELOOP_METRICS_HEADERS`, `OTEL_EXPORTER_OTLP_METRICS_HEADERS`.
    ///
    /// ```
    /// let builder = llmetry::init().metrics_headers([("THANOS-TENANT", "team-a")]);
    /// ```
    pub fn metrics_headers<I, K, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.settings.metrics_headers = Some(pairs(headers));
        self
    }

    /// Send metrics to this exporter instead of OTLP.
    ///
    /// ```
    /// use opentelemetry_sdk::metrics::InMemoryMetricExporter;
    /// let builder = llmetry::init().metrics_exporter(InMemoryMetricExporter::default());
    /// ```
    pub fn metrics_exporter<E: PushMetricExporter>(mut self, exporter: E) -> Self {
        self.metrics_exporter = Some(Box::new(move |b, reporter, interval| {
            b.with_reader(
                PeriodicReader::builder(ReportingMetricExporter {
                    inner: exporter,
                    reporter,
                })
                .with_interval(interval)
                .build(),
            )
        }));
        self
    }

    /// Export `tracing` events (and `log` records) as OTel logs.
    /// Env: `TRACELOOP_LOGGING_ENABLED`. Default: off, as in Python.
    ///
    /// ```
    /// let builder = llmetry::init().logging_enabled(true);
    /// ```
    pub fn logging_enabled(mut self, enabled: bool) -> Self {
        self.settings.logging_enabled = Some(enabled);
        self
    }

    /// Base URL for logs only. Env: `TRACELOOP_LOGGING_ENDPOINT`,
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` (full URL).
    ///
    /// ```
    /// let builder = llmetry::init().logging_endpoint("http://loki:3100/otlp");
    /// ```
    pub fn logging_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.logging_endpoint = Some(url.into());
        self
    }

    /// Headers for logs only. Env: `TRACELOOP_LOGGING_HEADERS`, `OTEL_EXPORTER_OTLP_LOGS_HEADERS`.
    ///
    /// ```
    /// let builder = llmetry::init().logging_headers([("X-Scope-OrgID", "rca")]);
    /// ```
    pub fn logging_headers<I, K, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.settings.logging_headers = Some(pairs(headers));
        self
    }

    /// Send logs to this exporter instead of OTLP.
    ///
    /// ```
    /// use opentelemetry_sdk::logs::InMemoryLogExporter;
    /// let builder = llmetry::init().logging_enabled(true).logging_exporter(InMemoryLogExporter::default());
    /// ```
    pub fn logging_exporter<E: LogExporter + 'static>(mut self, exporter: E) -> Self {
        self.logging_exporter = Some(Box::new(move |b, reporter, disable_batch| {
            b.with_log_processor(log_processor(
                ReportingLogExporter {
                    inner: exporter,
                    reporter,
                },
                disable_batch,
            ))
        }));
        self
    }

    /// OTLP protocol: http/protobuf (default), http/json or grpc.
    /// Env: `OTEL_EXPORTER_OTLP_[TRACES_|METRICS_|LOGS_]PROTOCOL`.
    ///
    /// ```
    /// let builder = llmetry::init().protocol(llmetry::Protocol::HttpJson);
    /// ```
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.settings.protocol = Some(protocol);
        self
    }

    /// Timeout of one export request. Env: `OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT` (ms).
    /// Default: 10 s.
    ///
    /// ```
    /// let builder = llmetry::init().timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// Compress export requests. Env: `OTEL_EXPORTER_OTLP_[SIGNAL_]COMPRESSION`
    /// (`gzip` / `none`). Default: none.
    ///
    /// ```
    /// let builder = llmetry::init().compression(llmetry::Compression::Gzip);
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        self.settings.compression = Some(Some(compression));
        self
    }

    /// Read environment variables from `env` instead of the process environment.
    ///
    /// ```
    /// use llmetry::EnvSource;
    /// let env = EnvSource::from_pairs([("OTEL_SERVICE_NAME", "from-env"), ("TRACELOOP_TRACE_CONTENT", "false")]);
    /// let builder = llmetry::init().env_source(env);
    /// ```
    pub fn env_source(mut self, env: EnvSource) -> Self {
        self.env = env;
        self
    }

    fn plugged(&self) -> Plugged {
        Plugged {
            span_exporter: self.span_exporter.is_some(),
            span_processor: !self.processors.is_empty(),
            metrics_exporter: self.metrics_exporter.is_some(),
            logging_exporter: self.logging_exporter.is_some(),
        }
    }

    pub(crate) fn resolve(&self) -> Result<ResolvedConfig, InitError> {
        config::resolve(&self.settings, self.plugged(), &self.env)
    }

    /// Builds the pipelines, installs the global `tracing` subscriber (when none is set),
    /// the global tracer and meter providers and propagator, and returns the guard that
    /// flushes and shuts everything down. Prints one line on stderr saying where each
    /// signal goes (unless silenced).
    ///
    /// On `Err`, nothing was installed: annotated functions keep running untraced, so an
    /// app can log the error and go on (see the README). Install once per process: a second
    /// `install()` (even after the first was shut down) is [`InitError::AlreadyInstalled`].
    ///
    /// ```rust,standalone_crate
    /// use llmetry::EnvSource;
    ///
    /// // No collector configured: traces are printed on stderr as a tree.
    /// let env = EnvSource::from_pairs([("OTEL_SERVICE_NAME", "llm_job")]);
    /// let telemetry = match llmetry::init().env_source(env).install() {
    ///     Ok(telemetry) => Some(telemetry),
    ///     Err(e) => {
    ///         eprintln!("telemetry is off: {e}");
    ///         None
    ///     }
    /// };
    /// assert!(telemetry.is_some());
    /// ```
    pub fn install(self) -> Result<Telemetry, InitError> {
        let cfg = self.resolve()?;
        for w in &cfg.warnings {
            eprintln!("llmetry: warning: {w}");
        }
        if !cfg.enabled {
            state::silence();
            if !cfg.silence_init_message {
                eprintln!(
                    "llmetry: telemetry disabled (enabled(false), TRACELOOP_TRACING_ENABLED or OTEL_SDK_DISABLED)"
                );
            }
            return Ok(Telemetry { inner: None });
        }
        if INSTALLED.swap(true, Ordering::AcqRel) {
            return Err(InitError::AlreadyInstalled);
        }
        match self.build(&cfg) {
            Ok(t) => Ok(t),
            Err(e) => {
                INSTALLED.store(false, Ordering::Release);
                Err(e)
            }
        }
    }

    fn build(self, cfg: &ResolvedConfig) -> Result<Telemetry, InitError> {
        let TelemetryBuilder {
            settings,
            span_exporter,
            processors,
            metrics_exporter,
            logging_exporter,
            sampler,
            propagator,
            postprocess,
            env: _,
        } = self;

        let needs_grpc = [&cfg.traces, &cfg.metrics, &cfg.logs]
            .iter()
            .any(|r| matches!(r, Route::Otlp(o) if o.destination.is_grpc()));
        let rt = if needs_grpc {
            Some(pipeline::grpc_runtime()?)
        } else {
            None
        };

        // Resource: OTEL_RESOURCE_ATTRIBUTES, then the builder's, then service.name.
        let mut attrs: Vec<KeyValue> = cfg
            .env_resource
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        attrs.extend(
            settings
                .resource_attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        );
        let resource = Resource::builder_empty()
            .with_detector(Box::new(
                opentelemetry_sdk::resource::TelemetryResourceDetector,
            ))
            .with_attributes(attrs)
            .with_service_name(cfg.app_name.clone())
            .build();

        // Traces.
        let mut tb = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(EnrichmentProcessor::default());
        if let Some(s) = sampler {
            tb = tb.with_sampler(s);
        } else if let Some(s) = cfg.sampler.clone() {
            tb = tb.with_sampler(s);
        }
        for add in processors {
            tb = add(tb);
        }
        let mut reporters: Vec<Arc<Reporter>> = Vec::new();
        let mut reporter = |signal: &'static str, target: String| {
            let r = Reporter::new(signal, target);
            reporters.push(Arc::clone(&r));
            r
        };
        let wrap = |reporter: Arc<Reporter>| SpanWrap {
            reporter,
            postprocess: postprocess.clone(),
            disable_batch: cfg.disable_batch,
        };
        let traces_line = match &cfg.traces {
            Route::Custom => match span_exporter {
                Some((sink, name)) => {
                    tb = sink(
                        tb,
                        wrap(reporter("traces", format!("custom exporter {name}"))),
                    );
                    format!("custom exporter {name}")
                }
                None => "custom span processor".to_owned(),
            },
            Route::Console => {
                tb = tb.with_span_processor(batch_processor(
                    crate::ConsoleExporter::default(),
                    wrap(reporter("traces", "the console".into())),
                ));
                "the console (stderr); set TRACELOOP_BASE_URL or OTEL_EXPORTER_OTLP_ENDPOINT to send OTLP to a collector"
                    .to_owned()
            }
            Route::Otlp(route) => {
                let exporter = pipeline::otlp_span_exporter(route, rt.as_ref())?;
                tb = tb.with_span_processor(batch_processor(
                    exporter,
                    wrap(reporter("traces", route.describe())),
                ));
                route.describe()
            }
            Route::Off(why) => format!("off ({why})"),
        };
        let tracer_provider = tb.build();
        let tracer = tracer_provider
            .tracer_with_scope(InstrumentationScope::builder(semconv::TRACER_NAME).build());

        // Metrics.
        let interval = cfg.metric_export_interval;
        let mb = SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_view(pipeline::genai_view);
        let (meter_provider, metrics_line) = match &cfg.metrics {
            Route::Custom => match metrics_exporter {
                Some(sink) => {
                    let mp =
                        sink(mb, reporter("metrics", "custom exporter".into()), interval).build();
                    (Some(mp), "custom exporter".to_owned())
                }
                None => (None, "off".to_owned()),
            },
            Route::Otlp(route) => {
                let exporter = pipeline::otlp_metric_exporter(route, rt.as_ref())?;
                let reader = PeriodicReader::builder(ReportingMetricExporter {
                    inner: exporter,
                    reporter: reporter("metrics", route.describe()),
                })
                .with_interval(interval)
                .build();
                (Some(mb.with_reader(reader).build()), route.describe())
            }
            Route::Off(why) => (None, format!("off ({why})")),
            Route::Console => (None, "off".to_owned()),
        };

        // Logs.
        let lb = SdkLoggerProvider::builder().with_resource(resource);
        let (logger_provider, logs_line) = match &cfg.logs {
            Route::Custom => match logging_exporter {
                Some(sink) => {
                    let lp = sink(
                        lb,
                        reporter("logs", "custom exporter".into()),
                        cfg.disable_batch,
                    )
                    .build();
                    (Some(lp), "custom exporter".to_owned())
                }
                None => (None, "off".to_owned()),
            },
            Route::Otlp(route) => {
                let exporter = pipeline::otlp_log_exporter(route, rt.as_ref())?;
                let lp = lb
                    .with_log_processor(log_processor(
                        ReportingLogExporter {
                            inner: exporter,
                            reporter: reporter("logs", route.describe()),
                        },
                        cfg.disable_batch,
                    ))
                    .build();
                (Some(lp), route.describe())
            }
            Route::Off(why) => (None, format!("off ({why})")),
            Route::Console => (None, "off".to_owned()),
        };

        // Globals.
        opentelemetry::global::set_tracer_provider(tracer_provider.clone());
        if let Some(mp) = &meter_provider {
            opentelemetry::global::set_meter_provider(mp.clone());
        }
        match propagator {
            Some(set) => set(),
            None => {
                let mut props: Vec<
                    Box<dyn opentelemetry::propagation::TextMapPropagator + Send + Sync>,
                > = Vec::new();
                for p in &cfg.propagators {
                    match p {
                        PropagatorKind::TraceContext => {
                            props.push(Box::new(TraceContextPropagator::new()))
                        }
                        PropagatorKind::Baggage => props.push(Box::new(BaggagePropagator::new())),
                    }
                }
                opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(
                    props,
                ));
            }
        }
        state::set_instruments(&cfg.instruments, cfg.use_attributes);

        let wants_global = settings.global_subscriber.unwrap_or(true);
        let own_subscriber = wants_global && {
            let layer = telemetry_layer(tracer.clone(), logger_provider.as_ref());
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
                .is_ok()
        };
        if own_subscriber {
            // `log` records become `tracing` events (and so OTel logs); ignored if the app
            // already set a logger.
            let _ = tracing_log::LogTracer::init();
        }
        state::activate(cfg.trace_content, cfg.value_length_limit);

        if !cfg.silence_init_message {
            let mode = if cfg.disable_batch {
                "immediate export"
            } else {
                "batched"
            };
            let sub = if own_subscriber {
                ""
            } else if !wants_global {
                "; tracing subscriber left to the app: add Telemetry::layer() to it"
            } else {
                "; note: the app already set a tracing subscriber: build it with \
                 global_subscriber(false) and Telemetry::layer() instead"
            };
            eprintln!(
                "llmetry: {} ({mode}): traces -> {traces_line} | metrics -> {metrics_line} | logs -> {logs_line}{sub}",
                cfg.app_name
            );
        }
        Ok(Telemetry {
            inner: Some(Arc::new(Inner {
                tracer_provider,
                meter_provider,
                logger_provider,
                tracer,
                grpc_runtime: std::sync::Mutex::new(rt),
                reporters,
                shut_down: AtomicBool::new(false),
            })),
        })
    }
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

fn batch_processor<E: SpanExporter + 'static>(exporter: E, wrap: SpanWrap) -> BatchSpanProcessor {
    let mut config = BatchConfigBuilder::default();
    if wrap.disable_batch {
        config = config.with_max_export_batch_size(1);
    }
    let exporter = ReportingSpanExporter {
        inner: exporter,
        reporter: wrap.reporter,
        postprocess: wrap.postprocess,
    };
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(config.build())
        .build()
}

fn log_processor<E: LogExporter + 'static>(
    exporter: E,
    disable_batch: bool,
) -> opentelemetry_sdk::logs::BatchLogProcessor {
    let mut config = opentelemetry_sdk::logs::BatchConfigBuilder::default();
    if disable_batch {
        config = config.with_max_export_batch_size(1);
    }
    opentelemetry_sdk::logs::BatchLogProcessor::builder(exporter)
        .with_batch_config(config.build())
        .build()
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

/// Target of the GenAI content events: log records only, never span events.
const GENAI_EVENTS_TARGET: &str = "llmetry::genai";

fn targets() -> tracing_subscriber::filter::Targets {
    let mut targets = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::INFO)
        .with_target("llmetry", tracing::Level::TRACE);
    for t in SELF_TARGETS {
        targets = targets.with_target(*t, tracing_subscriber::filter::LevelFilter::OFF);
    }
    targets
}

/// Our layers: an OTel span layer and (when logs are on) a log bridge, each with its own
/// filter. (A `Vec` rather than `Option` + `and_then`: a `None` layer reports a max level of
/// OFF and would switch the other layer off too.)
type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

fn telemetry_layer<S>(tracer: SdkTracer, logs: Option<&SdkLoggerProvider>) -> Vec<BoxedLayer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::filter::FilterExt as _;
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
                .with_target(
                    GENAI_EVENTS_TARGET,
                    tracing_subscriber::filter::LevelFilter::OFF,
                )
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

struct Inner {
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    logger_provider: Option<SdkLoggerProvider>,
    tracer: SdkTracer,
    grpc_runtime: std::sync::Mutex<Option<tokio::runtime::Runtime>>,
    reporters: Vec<Arc<Reporter>>,
    shut_down: AtomicBool,
}

/// The installed telemetry. Keep it alive for the life of the program: dropping it (or
/// calling [`Telemetry::shutdown`]) delivers everything still buffered, waiting at most
/// [`SHUTDOWN_TIMEOUT`].
///
/// ```rust,standalone_crate
/// #[llmetry::workflow(name = "nightly_job")]
/// fn run_job() -> usize {
///     42
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let _telemetry = llmetry::init()
///         .app_name("nightly")
///         .silence_init_message(true)
/// #       .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///         .install()?; // not `let _ = …`: that would shut telemetry down at once
///     run_job();
///     Ok(())
/// } // `_telemetry` is dropped here: the job's spans are delivered before the process exits
/// ```
#[must_use = "dropping Telemetry shuts telemetry down; keep it until the end of main"]
pub struct Telemetry {
    inner: Option<Arc<Inner>>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("enabled", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// A `tracing` layer sending spans (and, when logs are on, events) into this telemetry,
    /// for an app that already has its own subscriber. `None` when telemetry is disabled.
    ///
    /// [`TelemetryBuilder::install`] sets the global subscriber only when none is set yet.
    /// When the app set one before, spans do not reach llmetry until its layer is part of a
    /// subscriber in use; since a global default can be set only once, compose it into a
    /// scoped one (`tracing::subscriber::with_default` / `set_default`):
    ///
    /// ```rust,standalone_crate
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::layer::SubscriberExt as _;
    ///
    /// #[llmetry::task(name = "step")]
    /// fn step() {}
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The app's own global subscriber, set first.
    /// tracing::subscriber::set_global_default(
    ///     tracing_subscriber::registry().with(tracing_subscriber::fmt::layer()),
    /// )?;
    /// let exporter = InMemorySpanExporter::default();
    /// let telemetry = llmetry::init()
    ///     .exporter(exporter.clone())
    /// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
    ///     .install()?; // its line on stderr says the app already set a subscriber
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(tracing_subscriber::fmt::layer())
    ///     .with(telemetry.layer());
    /// tracing::subscriber::with_default(subscriber, step);
    /// telemetry.flush()?;
    /// assert_eq!(exporter.get_finished_spans()?[0].name, "step.task");
    /// # Ok(()) }
    /// ```
    pub fn layer<S>(&self) -> Option<impl Layer<S> + use<S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
    {
        self.inner
            .as_ref()
            .map(|i| telemetry_layer(i.tracer.clone(), i.logger_provider.as_ref()))
    }

    /// Exports everything buffered now (spans, metrics, logs), waiting at most
    /// [`SHUTDOWN_TIMEOUT`]. Safe to call from async code on any runtime flavour.
    ///
    /// ```rust,standalone_crate
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    ///
    /// #[llmetry::task]
    /// fn checkpoint() {}
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let exporter = InMemorySpanExporter::default();
    /// let telemetry = llmetry::init()
    ///     .exporter(exporter.clone())
    ///     .silence_init_message(true)
    /// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
    ///     .install()?;
    /// checkpoint();
    /// telemetry.flush()?; // the batch is exported now, not when the batch timer fires
    /// assert_eq!(exporter.get_finished_spans()?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn flush(&self) -> Result<(), ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let ops = inner.signal_ops(
            |p| p.force_flush(),
            |p| p.force_flush(),
            |p| p.force_flush(),
        );
        bounded("flush", ops)
    }

    /// Flushes and stops every pipeline, waiting at most [`SHUTDOWN_TIMEOUT`] even when the
    /// collector never answers (the three signals shut down side by side, so a slow one
    /// does not starve the others). Later calls (and `Drop`) do nothing. Safe to call from
    /// async code on any runtime flavour: the work runs on helper threads.
    ///
    /// After a shutdown, annotated functions run untraced (and silently).
    ///
    /// ```rust,standalone_crate
    /// #[llmetry::workflow]
    /// async fn handle_request() {}
    ///
    /// # async fn wait_for_ctrl_c() {}
    /// #[tokio::main]
    /// async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let telemetry = llmetry::init()
    ///         .silence_init_message(true)
    /// #       .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
    ///         .install()?;
    ///     handle_request().await;
    ///     wait_for_ctrl_c().await;
    ///     if let Err(e) = telemetry.shutdown() {
    ///         eprintln!("telemetry: {e}");
    ///     }
    ///     telemetry.shutdown()?; // later calls do nothing
    ///     Ok(())
    /// }
    /// ```
    pub fn shutdown(&self) -> Result<(), ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        if inner.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        state::silence();
        let ops = inner.signal_ops(
            |p| p.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
            |p| p.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
            |p| p.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
        );
        let result = bounded("shutdown", ops);
        // Whatever fails from here on is our own teardown, not the collector.
        for r in &inner.reporters {
            r.close();
        }
        // Never blocks, even inside an async runtime.
        if let Some(rt) = inner
            .grpc_runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            rt.shutdown_background();
        }
        result
    }
}

type SignalOp = (
    Arc<Reporter>,
    Box<dyn FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send>,
);

impl Inner {
    /// One operation per installed provider, paired with its signal's reporter.
    fn signal_ops(
        &self,
        traces: impl FnOnce(SdkTracerProvider) -> opentelemetry_sdk::error::OTelSdkResult
        + Send
        + 'static,
        logs: impl FnOnce(SdkLoggerProvider) -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
        metrics: impl FnOnce(SdkMeterProvider) -> opentelemetry_sdk::error::OTelSdkResult
        + Send
        + 'static,
    ) -> Vec<SignalOp> {
        let reporter = |signal: &str| {
            self.reporters
                .iter()
                .find(|r| r.signal() == signal)
                .cloned()
        };
        let mut ops: Vec<SignalOp> = Vec::new();
        let tp = self.tracer_provider.clone();
        ops.push((
            reporter("traces")
                .unwrap_or_else(|| Reporter::new("traces", "the span processors".into())),
            Box::new(move || traces(tp)),
        ));
        if let (Some(lp), Some(r)) = (self.logger_provider.clone(), reporter("logs")) {
            ops.push((r, Box::new(move || logs(lp))));
        }
        if let (Some(mp), Some(r)) = (self.meter_provider.clone(), reporter("metrics")) {
            ops.push((r, Box::new(move || metrics(mp))));
        }
        ops
    }
}

/// Runs each signal's operation on its own helper thread and waits at most
/// [`SHUTDOWN_TIMEOUT`] (plus a small grace) for all of them together.
fn bounded(operation: &'static str, ops: Vec<SignalOp>) -> Result<(), ShutdownError> {
    let (tx, rx) = std::sync::mpsc::channel::<(usize, opentelemetry_sdk::error::OTelSdkResult)>();
    let mut reporters = Vec::new();
    let mut results: Vec<Option<opentelemetry_sdk::error::OTelSdkResult>> = Vec::new();
    for (i, (reporter, op)) in ops.into_iter().enumerate() {
        let tx = tx.clone();
        let name = format!("llmetry-{operation}-{}", reporter.signal());
        reporters.push(reporter);
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let _ = tx.send((i, op()));
        });
        results.push(match spawned {
            Ok(_) => None,
            Err(e) => Some(Err(
                opentelemetry_sdk::error::OTelSdkError::InternalFailure(format!(
                    "could not start a helper thread: {e}"
                )),
            )),
        });
    }
    drop(tx);
    let timeout = SHUTDOWN_TIMEOUT + Duration::from_millis(500);
    let deadline = std::time::Instant::now() + timeout;
    while results.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, r)) => results[i] = Some(r),
            Err(_) => break,
        }
    }
    let pending: Vec<String> = reporters
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_none())
        .map(|(rep, _)| format!("{} ({})", rep.signal(), rep.target()))
        .collect();
    if !pending.is_empty() {
        return Err(ShutdownError::Timeout {
            operation,
            timeout,
            pending: pending.join(", "),
        });
    }
    let failures: Vec<String> = reporters
        .iter()
        .zip(results)
        .filter_map(|(rep, r)| match r {
            Some(Err(_)) if rep.warned() => Some(format!(
                "{}: not everything reached {} (the export failure is reported above)",
                rep.signal(),
                rep.target()
            )),
            Some(Err(e)) => Some(format!("{}: {e}", rep.signal())),
            _ => None,
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(ShutdownError::Export {
            operation,
            message: failures.join("; "),
        })
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            eprintln!("llmetry: {e}");
        }
    }
}

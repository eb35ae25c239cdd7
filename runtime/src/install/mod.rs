//! `llmetry::init()`: the [`TelemetryBuilder`], modelled on Python's `Traceloop.init`, and
//! [`TelemetryBuilder::install`], which resolves the configuration (`config`), builds one
//! pipeline per signal ([`traces`], [`metrics`], [`logs`]: a route carrying its exporter in,
//! a provider and its summary line out), sets the globals and the `tracing` subscriber
//! (`subscriber`) and returns the guard (`guard`).

mod logs;
pub(crate) mod metrics;
mod traces;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::LogExporter;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{ShouldSample, SpanData, SpanExporter, SpanProcessor};
use tracing_subscriber::layer::SubscriberExt as _;

use crate::config::env::EnvSource;
use crate::config::{
    self, Compression, ExportTo, Plugged, PropagatorKind, Protocol, ResolvedConfig, Route,
    Settings, TracesRoute, TracingEvents,
};
use crate::context::AssociationMapping;
use crate::error::InitError;
use crate::export::spans::Postprocess;
use crate::export::{self, otlp::Transports};
use crate::guard::{Installed, Telemetry};
use crate::instrument::Instrument;
use crate::{semconv, state, subscriber};
use logs::LogPlug;
use metrics::MetricPlug;
use traces::{ProcessorPlug, SpanPlug, TracesOptions};

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
    span_exporter: Option<SpanPlug>,
    processors: Vec<ProcessorPlug>,
    metrics_exporter: Option<MetricPlug>,
    logging_exporter: Option<LogPlug>,
    sampler: Option<Box<dyn ShouldSample>>,
    propagator: Option<Box<dyn FnOnce() + Send>>,
    postprocess: Option<Postprocess>,
    prices: crate::cost::PriceOptions,
    redaction: crate::redact::RedactOptions,
    baggage_hosts: Option<Vec<String>>,
    env: EnvSource,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("settings", &self.settings)
            .field("exporter", &self.span_exporter.as_ref().map(SpanPlug::name))
            .field("processors", &self.processors.len())
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
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
    /// Env: `TRACELOOP_TRACE_CONTENT`, then `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`
    /// (`true`/`span_only`/`span_and_event` on, `false`/`no_content` off, `event_only` on only
    /// with `use_attributes(false)`). Default: on, as in Python. See
    /// [`crate::with_trace_content`] for a scoped override.
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
    /// merged over `OTEL_RESOURCE_ATTRIBUTES`. Values are anything [`crate::AttributeValue`]
    /// takes: borrowed or owned text, integers, floats, bools.
    ///
    /// ```
    /// fn builder(environment: &str, replicas: u32) -> llmetry::TelemetryBuilder {
    ///     llmetry::init()
    ///         .resource_attributes([("deployment.environment", environment)])
    ///         .resource_attributes([("service.replicas", replicas)])
    /// }
    /// let env = String::from("staging");
    /// let builder = builder(&env, 3);
    /// ```
    pub fn resource_attributes<I, K, V>(mut self, attrs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: crate::AttributeValue,
    {
        self.settings.resource_attributes.extend(
            attrs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into_attribute_value())),
        );
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
        self.span_exporter = Some(SpanPlug::new(exporter));
        self
    }

    /// Add a span processor beside ours (our enrichment always runs first).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};
    /// let builder = llmetry::init().processor(SimpleSpanProcessor::new(InMemorySpanExporter::default()));
    /// ```
    pub fn processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.processors.push(ProcessorPlug::new(processor));
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

    /// Where traces go: [`ExportTo::Otlp`] (the configured collector, or
    /// `http://localhost:4318` when none is), [`ExportTo::Console`] (a span tree on stderr)
    /// or [`ExportTo::None`] (spans are still made, for the builder's processors, but not
    /// exported). Env: `OTEL_TRACES_EXPORTER` (`otlp`, `console`, `none`; anything else is an
    /// error). Default: OTLP when a collector is configured, else the console. Beats a span
    /// exporter given to [`Self::exporter`].
    ///
    /// ```
    /// let builder = llmetry::init().traces_to(llmetry::ExportTo::Console);
    /// ```
    pub fn traces_to(mut self, to: ExportTo) -> Self {
        self.settings.traces_to = Some(to);
        self
    }

    /// Where metrics go: [`ExportTo::Otlp`], [`ExportTo::Console`] (one line per point on
    /// stderr at each export) or [`ExportTo::None`]. Env: `OTEL_METRICS_EXPORTER`. Default:
    /// OTLP when a collector is configured, else off. `metrics_enabled(false)` still wins.
    ///
    /// ```
    /// let builder = llmetry::init().metrics_to(llmetry::ExportTo::None);
    /// ```
    pub fn metrics_to(mut self, to: ExportTo) -> Self {
        self.settings.metrics_to = Some(to);
        self
    }

    /// Where logs go: [`ExportTo::Otlp`], [`ExportTo::Console`] (one line per record on
    /// stderr) or [`ExportTo::None`]. Env: `OTEL_LOGS_EXPORTER`. Choosing `Otlp` or `Console`
    /// turns logs on unless `logging_enabled(false)` / `TRACELOOP_LOGGING_ENABLED=false`
    /// says otherwise; `None` turns them off. Default: off, as in Python.
    ///
    /// ```
    /// let builder = llmetry::init().logs_to(llmetry::ExportTo::Console);
    /// ```
    pub fn logs_to(mut self, to: ExportTo) -> Self {
        self.settings.logs_to = Some(to);
        self
    }

    /// Where a `tracing` event inside a span goes: a log record ([`TracingEvents::Logs`],
    /// the default, as a Python `logging` call), a span event, or both. Env:
    /// `LLMETRY_TRACING_EVENTS` (`logs`, `span_events`, `both`).
    ///
    /// ```
    /// // Traces-only backend: keep log lines on the spans.
    /// let builder = llmetry::init().tracing_events(llmetry::TracingEvents::SpanEvents);
    /// ```
    pub fn tracing_events(mut self, to: TracingEvents) -> Self {
        self.settings.tracing_events = Some(to);
        self
    }

    /// `true`: write the latest experimental OpenTelemetry GenAI conventions (semantic
    /// conventions v1.41.1) instead of the Traceloop forms the Python SDK writes: LLM spans
    /// `chat gpt-4o-mini`, entity spans `invoke_workflow {name}`, `invoke_agent {name}`,
    /// `execute_tool {name}`, the conventions' metrics; every `traceloop.*` attribute stays.
    /// Env: `OTEL_SEMCONV_STABILITY_OPT_IN` containing `gen_ai_latest_experimental` (a comma
    /// list; other tokens are ignored). Default: off. See [`crate::gen_ai_latest_conventions`].
    ///
    /// ```
    /// let builder = llmetry::init().gen_ai_latest_conventions(true);
    /// ```
    pub fn gen_ai_latest_conventions(mut self, on: bool) -> Self {
        self.settings.gen_ai_latest_conventions = Some(on);
        self
    }

    /// Send metrics to this exporter instead of OTLP.
    ///
    /// ```
    /// use opentelemetry_sdk::metrics::InMemoryMetricExporter;
    /// let builder = llmetry::init().metrics_exporter(InMemoryMetricExporter::default());
    /// ```
    pub fn metrics_exporter<E: PushMetricExporter>(mut self, exporter: E) -> Self {
        self.metrics_exporter = Some(MetricPlug::new(exporter));
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
        self.logging_exporter = Some(LogPlug::new(exporter));
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

    /// How long [`Telemetry::flush`] and [`Telemetry::shutdown`] (and dropping the guard)
    /// wait at most for the exports, however the collector behaves; what is still pending
    /// then is counted as lost and said. Env: `LLMETRY_SHUTDOWN_TIMEOUT` (ms). Default:
    /// the export timeout plus 1 s ([`DEFAULT_SHUTDOWN_TIMEOUT`](crate::DEFAULT_SHUTDOWN_TIMEOUT)
    /// with the default 10 s export timeout), so a backend that accepted the request gets
    /// the whole export timeout to answer, and a silent one costs at most that plus 1 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// // A deployment's 30 s grace period: leave the app 20 s.
    /// let builder = llmetry::init().shutdown_timeout(Duration::from_secs(10));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.settings.shutdown_timeout = Some(timeout);
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

    /// Also writes the association properties `user_id` and `session_id` under the keys
    /// a backend reads users and sessions from (see [`AssociationMapping`]); call again to
    /// add another. Traceloop's `traceloop.association.properties.*` stay as they are.
    /// Env: `LLMETRY_ASSOCIATION_MAPPING` (`openinference`, `phoenix`, `mlflow`,
    /// `langfuse`, `langsmith`, comma-separated). Default: none.
    ///
    /// ```
    /// use llmetry::AssociationMapping;
    ///
    /// // Phoenix shows sessions and users, MLflow fills mlflow.trace.session / .user.
    /// let builder = llmetry::init().association_mapping(AssociationMapping::OpenInference);
    /// ```
    pub fn association_mapping(mut self, mapping: AssociationMapping) -> Self {
        let all = self
            .settings
            .association_mapping
            .get_or_insert_with(Vec::new);
        if !all.contains(&mapping) {
            all.push(mapping);
        }
        self
    }

    /// Adds or replaces model prices for `gen_ai.usage.cost` (applied after the built-in
    /// table and the price file; see [`crate::cost`]). A bad entry is an
    /// [`InitError::Price`] at `install()`.
    ///
    /// ```
    /// use llmetry::cost::ModelPrice;
    /// let builder = llmetry::init().prices([
    ///     ModelPrice::new("openai", "gpt-4o", 2.0, 8.0), // a negotiated price
    ///     ModelPrice::new("acme", "acme-large", 1.0, 3.0).cache_read(0.1),
    /// ]);
    /// ```
    pub fn prices(mut self, entries: impl IntoIterator<Item = crate::cost::ModelPrice>) -> Self {
        self.prices.entries.extend(entries);
        self
    }

    /// A JSON price file extending or overriding the built-in table (format at
    /// [`crate::cost::PriceTable::with_file`]). Env: `LLMETRY_PRICES_FILE` (the builder's file wins). A
    /// file that cannot be read or used is an [`InitError::PriceFile`] naming it.
    ///
    /// ```
    /// let builder = llmetry::init().price_file("/etc/llm/prices.json");
    /// ```
    pub fn price_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.prices.file = Some(path.into());
        self
    }

    /// Built-in redactors run over captured content (see [`crate::redact`]). Env:
    /// `LLMETRY_REDACT` (a comma list: `email,phone,card,iban,secret`, or `all`; the
    /// builder's list wins). Default: none.
    ///
    /// ```
    /// use llmetry::redact::Redactor;
    /// let builder = llmetry::init().redactors([Redactor::Email, Redactor::Card, Redactor::Secret]);
    /// ```
    pub fn redactors(
        mut self,
        redactors: impl IntoIterator<Item = crate::redact::Redactor>,
    ) -> Self {
        self.redaction.redactors = Some(redactors.into_iter().collect());
        self
    }

    /// A hook that sees each piece of captured content (entity inputs and outputs, LLM
    /// message parts, error messages) as structured JSON before it is serialised, and may
    /// rewrite or drop it (see [`crate::redact`]). Runs before the built-in redactors.
    ///
    /// ```
    /// use llmetry::redact::{Content, Field, Verdict};
    /// let builder = llmetry::init().redact_hook(|c: &mut Content<'_>| {
    ///     if c.field() == Field::LlmSystem { Verdict::Drop } else { Verdict::Keep }
    /// });
    /// ```
    pub fn redact_hook(mut self, hook: impl crate::redact::RedactHook) -> Self {
        self.redaction.hook = Some(std::sync::Arc::new(hook));
        self
    }

    /// The hosts that may receive the workflow name, entity path, association properties
    /// and conversation id as W3C baggage (see [`mod@crate::propagate`]): `billing.internal`,
    /// or `*.svc.cluster.local` for every subdomain. Env: `LLMETRY_BAGGAGE_HOSTS` (a comma
    /// list; the builder's list wins). Default: none — an empty list is the opt-out.
    ///
    /// ```
    /// let builder = llmetry::init().baggage_hosts(["billing.internal", "*.svc.cluster.local"]);
    /// ```
    pub fn baggage_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.baggage_hosts = Some(hosts.into_iter().map(Into::into).collect());
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

    /// Builds the pipelines, installs the global `tracing` subscriber (when none is set),
    /// the global tracer and meter providers and propagator, and returns the guard that
    /// flushes and shuts everything down. Prints one line on stderr saying where each
    /// signal goes (unless silenced).
    ///
    /// On `Err`, nothing was installed: annotated functions keep running untraced, so an
    /// app can log the error and go on (see the README). Install once per process: a second
    /// `install()` (even after the first was shut down) is [`InitError::AlreadyInstalled`].
    ///
    /// With the `tls` feature (on by default), `install()` first makes rustls' ring backend
    /// the process's default crypto provider, unless the app installed one before: reqwest
    /// 0.13 built without its aws-lc default needs one to build any client (llmetry's and
    /// the app's; see the README on reqwest).
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
        export::ensure_crypto_provider();
        let TelemetryBuilder {
            settings,
            span_exporter,
            processors,
            metrics_exporter,
            logging_exporter,
            sampler,
            propagator,
            postprocess,
            prices,
            redaction,
            baggage_hosts,
            env,
        } = self;
        let plugged = Plugged {
            span_exporter,
            span_processor: !processors.is_empty(),
            metrics_exporter,
            logging_exporter,
        };
        let mut cfg = config::resolve(&settings, plugged, &env)?;
        let prices = resolve_prices(prices, &env)?;
        let redaction = crate::redact::resolve(redaction, &env)?;
        let baggage_hosts = crate::propagate::resolve_hosts(baggage_hosts, &env);
        for w in &cfg.warnings {
            eprintln!("llmetry: warning: {w}");
        }
        if sampler.is_some() && env.get("OTEL_TRACES_SAMPLER").is_some() {
            cfg.notes.push(
                "sampler(..) in code overrides OTEL_TRACES_SAMPLER from the environment (not used)"
                    .to_owned(),
            );
        }
        if propagator.is_some() && env.get("OTEL_PROPAGATORS").is_some() {
            cfg.notes.push(
                "propagator(..) in code overrides OTEL_PROPAGATORS from the environment (not used)"
                    .to_owned(),
            );
        }
        let Some(routes) = cfg.routes.take() else {
            state::silence();
            if !cfg.silence_init_message {
                eprintln!(
                    "llmetry: telemetry disabled (enabled(false), TRACELOOP_TRACING_ENABLED or OTEL_SDK_DISABLED)"
                );
            }
            return Ok(Telemetry::disabled());
        };
        if INSTALLED.swap(true, Ordering::AcqRel) {
            return Err(InitError::AlreadyInstalled);
        }
        crate::cost::install_table(prices);
        redaction.install();
        crate::propagate::install_hosts(baggage_hosts);
        let plugs = Plugs {
            sampler,
            processors,
            propagator,
            postprocess,
            global_subscriber: settings.global_subscriber.unwrap_or(true),
        };
        let resource = resource(&cfg, &settings);
        build(cfg, routes, plugs, resource).inspect_err(|_| {
            INSTALLED.store(false, Ordering::Release);
        })
    }
}

/// What a signal's pipeline function builds: its provider, the install line's words for
/// where the signal goes, and its ledger (`None`: not counted, or off).
struct Built<P> {
    provider: P,
    line: String,
    ledger: Option<Arc<crate::export::ledger::Ledger>>,
}

/// `install()` works once per process: the global subscriber and providers cannot be
/// replaced.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// What the builder was given besides settings and exporters.
struct Plugs {
    sampler: Option<Box<dyn ShouldSample>>,
    processors: Vec<ProcessorPlug>,
    propagator: Option<Box<dyn FnOnce() + Send>>,
    postprocess: Option<Postprocess>,
    global_subscriber: bool,
}

/// The resource of every signal: `OTEL_RESOURCE_ATTRIBUTES`, then the builder's
/// attributes, then `service.name`.
fn resource(cfg: &ResolvedConfig<SpanPlug, MetricPlug, LogPlug>, settings: &Settings) -> Resource {
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
    Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(attrs)
        .with_service_name(cfg.app_name.clone())
        .build()
}

/// The shutdown deadline when neither the builder nor `LLMETRY_SHUTDOWN_TIMEOUT` sets
/// one: the longest time one export may take (retries included) among the signals that
/// export, plus 1 s.
fn default_shutdown_timeout<S, M, L>(
    cfg: &ResolvedConfig<S, M, L>,
    routes: &config::Routes<S, M, L>,
) -> Duration {
    let mut longest = cfg.traces_queue.export_timeout;
    if !matches!(routes.logs, Route::Off(_)) {
        longest = longest.max(cfg.logs_queue.export_timeout);
    }
    if let Route::Otlp(m) = &routes.metrics {
        longest = longest.max(m.timeout);
    }
    longest + Duration::from_secs(1)
}

/// Builds the three pipelines, sets the globals and the subscriber, prints the summary.
fn build(
    cfg: ResolvedConfig<SpanPlug, MetricPlug, LogPlug>,
    routes: config::Routes<SpanPlug, MetricPlug, LogPlug>,
    plugs: Plugs,
    resource: Resource,
) -> Result<Telemetry, InitError> {
    let Plugs {
        sampler,
        processors,
        propagator,
        postprocess,
        global_subscriber,
    } = plugs;
    let shutdown_timeout = cfg
        .shutdown_timeout
        .unwrap_or_else(|| default_shutdown_timeout(&cfg, &routes));
    let no_collector = routes.no_collector;
    // Traces switched off are reported like metrics or logs that are off, not as uncounted.
    let traces_off = matches!(routes.traces, TracesRoute::Off(_));
    let mut transports = Transports::default();
    let traces_options = TracesOptions {
        sampler: sampler.or_else(|| {
            cfg.sampler
                .clone()
                .map(|s| Box::new(s) as Box<dyn ShouldSample>)
        }),
        processors,
        postprocess,
        queue: cfg.traces_queue,
        flush_timeout: shutdown_timeout,
    };
    // On an error below, `transports` is dropped, which stops a started runtime without
    // blocking.
    let Built {
        provider: tracer_provider,
        line: traces_line,
        ledger: traces_ledger,
    } = traces::provider(
        routes.traces,
        traces_options,
        resource.clone(),
        &mut transports,
    )?;
    let Built {
        provider: meter_provider,
        line: metrics_line,
        ledger: metrics_ledger,
    } = metrics::provider(
        routes.metrics,
        resource.clone(),
        cfg.metric_export_interval,
        cfg.temporality,
        &mut transports,
    )?;
    let Built {
        provider: logger_provider,
        line: logs_line,
        ledger: logs_ledger,
    } = logs::provider(
        routes.logs,
        resource,
        cfg.logs_queue,
        shutdown_timeout,
        &mut transports,
    )?;
    let tracer = tracer_provider
        .tracer_with_scope(InstrumentationScope::builder(semconv::TRACER_NAME).build());

    // Globals.
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    state::set_tracer_provider(tracer_provider.clone());
    if let Some(mp) = &meter_provider {
        opentelemetry::global::set_meter_provider(mp.clone());
    }
    match propagator {
        Some(set) => set(),
        None => {
            let props: Vec<Box<dyn TextMapPropagator + Send + Sync>> = cfg
                .propagators
                .iter()
                .map(|p| -> Box<dyn TextMapPropagator + Send + Sync> {
                    match p {
                        PropagatorKind::TraceContext => Box::new(TraceContextPropagator::new()),
                        PropagatorKind::Baggage => Box::new(BaggagePropagator::new()),
                    }
                })
                .collect();
            opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(props));
        }
    }
    state::set_instruments(&cfg.instruments, cfg.use_attributes);
    state::set_gen_ai_latest_conventions(cfg.gen_ai_latest_conventions);
    subscriber::set_tracing_events(cfg.tracing_events);

    let own_subscriber = global_subscriber && {
        let layers = subscriber::layers(tracer.clone(), logger_provider.as_ref());
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layers)).is_ok()
    };
    if own_subscriber {
        // `log` records become `tracing` events (and so OTel logs); ignored if the app
        // already set a logger.
        let _ = tracing_log::LogTracer::init();
    }
    crate::context::set_association_mappings(&cfg.association_mapping);
    state::activate(cfg.trace_content, cfg.value_length_limit);

    if !cfg.silence_init_message {
        let mode = if cfg.disable_batch {
            "immediate export"
        } else {
            "batched"
        };
        let fix = if no_collector {
            format!(" | {}", config::NO_COLLECTOR_FIX)
        } else {
            String::new()
        };
        let sub = if own_subscriber {
            ""
        } else if !global_subscriber {
            "; tracing subscriber left to the app: add Telemetry::layer() to it"
        } else {
            "; the app already set a tracing subscriber: build it with \
             global_subscriber(false) and Telemetry::layer() instead"
        };
        let strip = |line: &str| {
            // The fix is said once, at the end of the line.
            line.replace(&format!("; {}", config::NO_COLLECTOR_FIX), "")
        };
        eprintln!(
            "llmetry: {}, {mode}: traces -> {} | metrics -> {} | logs -> {}{fix}{sub}",
            cfg.app_name,
            strip(&traces_line),
            strip(&metrics_line),
            strip(&logs_line),
        );
        for note in &cfg.notes {
            eprintln!("llmetry: note: {note}");
        }
    }
    Ok(Telemetry::new(Installed {
        tracer_provider,
        meter_provider,
        logger_provider,
        tracer,
        transports,
        uncounted_traces: (traces_ledger.is_none() && !traces_off).then(|| traces_line.clone()),
        ledgers: [traces_ledger, metrics_ledger, logs_ledger],
        shutdown_timeout,
    }))
}

/// The table `install()` puts in place: the built-in one, then the price file (the
/// builder's, else [`crate::cost::PRICES_FILE_ENV`]'s), then the builder's entries.
fn resolve_prices(
    options: crate::cost::PriceOptions,
    env: &EnvSource,
) -> Result<crate::cost::PriceTable, InitError> {
    let mut table = crate::cost::PriceTable::builtin();
    let (key, file) = match options.file {
        Some(f) => ("price_file(..)".to_owned(), Some(f)),
        None => (
            crate::cost::PRICES_FILE_ENV.to_owned(),
            env.get(crate::cost::PRICES_FILE_ENV)
                .map(std::path::PathBuf::from),
        ),
    };
    if let Some(file) = file {
        table = table
            .with_file(&file)
            .map_err(|source| InitError::PriceFile { key, source })?;
    }
    if !options.entries.is_empty() {
        table = table
            .with_entries(options.entries)
            .map_err(|source| InitError::Price { source })?;
    }
    Ok(table)
}

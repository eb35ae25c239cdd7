//! `llmetry::init()`: the builder, modelled on Python's `Traceloop.init`, and the
//! [`Telemetry`] guard it returns.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanExporter,
    SpanProcessor, TracerProviderBuilder,
};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;

use crate::env::EnvSource;
use crate::processor::EnrichmentProcessor;
use crate::semconv;
use crate::state;

/// How long [`Telemetry::flush`] and [`Telemetry::shutdown`] (and `Drop`) wait at most for
/// the exporters, even when the collector never answers.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

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
///     .install()?;
/// telemetry.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn init() -> TelemetryBuilder {
    TelemetryBuilder::default()
}

type ProcessorAdder =
    Box<dyn FnOnce(TracerProviderBuilder, &ResolvedConfig) -> TracerProviderBuilder + Send>;

/// The `init()` builder. Every method mirrors a `Traceloop.init` parameter in snake_case;
/// a value set here wins over the environment, which wins over the default.
#[must_use = "call .install() to start exporting"]
#[derive(Default)]
pub struct TelemetryBuilder {
    app_name: Option<String>,
    enabled: Option<bool>,
    disable_batch: Option<bool>,
    trace_content: Option<bool>,
    silence_init_message: Option<bool>,
    resource_attributes: Vec<KeyValue>,
    exporter: Option<ProcessorAdder>,
    exporter_name: Option<&'static str>,
    processors: Vec<ProcessorAdder>,
    env: EnvSource,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("app_name", &self.app_name)
            .field("enabled", &self.enabled)
            .field("disable_batch", &self.disable_batch)
            .field("trace_content", &self.trace_content)
            .field("exporter", &self.exporter_name)
            .field("processors", &self.processors.len())
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// Configuration after precedence (builder > environment > default) was applied.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedConfig {
    pub(crate) app_name: String,
    pub(crate) enabled: bool,
    pub(crate) disable_batch: bool,
    pub(crate) trace_content: bool,
    pub(crate) value_length_limit: usize,
    pub(crate) silence_init_message: bool,
}

/// Why [`TelemetryBuilder::install`] refused the configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A configuration value could not be understood.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    InvalidValue {
        /// The builder method or environment variable.
        key: String,
        /// The value that was given.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// `install()` already ran in this process and its telemetry is still live.
    #[error(
        "llmetry is already installed in this process; call install() once (shut the first one down to re-install)"
    )]
    AlreadyInstalled,
}

/// Why [`Telemetry::flush`] or [`Telemetry::shutdown`] did not complete cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// The exporters did not finish within the bound.
    #[error(
        "telemetry {operation} did not finish within {timeout:?}; some data may not have been delivered"
    )]
    Timeout {
        /// `flush` or `shutdown`.
        operation: &'static str,
        /// The bound that was hit.
        timeout: Duration,
    },
    /// An exporter reported an error.
    #[error("telemetry {operation} failed: {message}")]
    Export {
        /// `flush` or `shutdown`.
        operation: &'static str,
        /// The exporter's message.
        message: String,
    },
}

pub(crate) fn parse_bool(key: &str, raw: &str) -> Result<bool, InitError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(InitError::InvalidValue {
            key: key.to_owned(),
            value: raw.to_owned(),
            expected: "true or false",
        }),
    }
}

fn env_bool(env: &EnvSource, key: &str) -> Result<Option<bool>, InitError> {
    env.get(key).map(|v| parse_bool(key, &v)).transpose()
}

fn env_usize(env: &EnvSource, key: &str) -> Result<Option<usize>, InitError> {
    env.get(key)
        .map(|v| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| InitError::InvalidValue {
                    key: key.to_owned(),
                    value: v.clone(),
                    expected: "a non-negative whole number",
                })
        })
        .transpose()
}

fn default_app_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

impl TelemetryBuilder {
    /// `service.name` of every signal. Default: the binary's name.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// `false` turns llmetry off: annotated functions run untraced, nothing is exported.
    /// Environment: `TRACELOOP_TRACING_ENABLED`, and `OTEL_SDK_DISABLED=true`. Default: on.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Export every span at once (on the exporter's own thread, never the caller's) instead
    /// of in batches: for short-lived jobs. Default: batched.
    pub fn disable_batch(mut self, disable: bool) -> Self {
        self.disable_batch = Some(disable);
        self
    }

    /// Whether entity inputs/outputs (and LLM prompts/completions) are recorded.
    /// Environment: `TRACELOOP_TRACE_CONTENT`. Default: on. See also
    /// [`crate::with_trace_content`] for a scoped override.
    pub fn trace_content(mut self, enabled: bool) -> Self {
        self.trace_content = Some(enabled);
        self
    }

    /// Do not print the one-line summary on stderr at install.
    pub fn silence_init_message(mut self, silence: bool) -> Self {
        self.silence_init_message = Some(silence);
        self
    }

    /// Extra resource attributes, e.g. `[("deployment.environment", "development")]`.
    pub fn resource_attributes<I, K, V>(mut self, attrs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<opentelemetry::Key>,
        V: Into<opentelemetry::Value>,
    {
        self.resource_attributes
            .extend(attrs.into_iter().map(|(k, v)| KeyValue::new(k, v)));
        self
    }

    /// Send spans to this exporter (instead of OTLP). Our enrichment still runs.
    pub fn exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.exporter_name = Some(std::any::type_name::<E>());
        self.exporter = Some(Box::new(move |b, cfg| {
            b.with_span_processor(batch_processor(exporter, cfg))
        }));
        self
    }

    /// Add a span processor beside ours (our enrichment always runs first).
    pub fn processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.processors
            .push(Box::new(move |b, _| b.with_span_processor(processor)));
        self
    }

    /// Read environment variables from `env` instead of the process environment.
    pub fn env_source(mut self, env: EnvSource) -> Self {
        self.env = env;
        self
    }

    pub(crate) fn resolve(&self) -> Result<ResolvedConfig, InitError> {
        let env = &self.env;
        let sdk_disabled = env_bool(env, "OTEL_SDK_DISABLED")?.unwrap_or(false);
        let enabled = match self.enabled {
            Some(v) => v,
            None => env_bool(env, "TRACELOOP_TRACING_ENABLED")?.unwrap_or(true) && !sdk_disabled,
        };
        let trace_content = match self.trace_content {
            Some(v) => v,
            None => env_bool(env, "TRACELOOP_TRACE_CONTENT")?.unwrap_or(true),
        };
        let value_length_limit = match env_usize(env, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")? {
            Some(v) => v,
            None => env_usize(env, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")?
                .unwrap_or(state::DEFAULT_VALUE_LENGTH_LIMIT),
        };
        Ok(ResolvedConfig {
            app_name: self.app_name.clone().unwrap_or_else(default_app_name),
            enabled,
            disable_batch: self.disable_batch.unwrap_or(false),
            trace_content,
            value_length_limit,
            silence_init_message: self.silence_init_message.unwrap_or(false),
        })
    }

    /// Builds the pipelines, installs the global `tracing` subscriber (when none is set)
    /// and the global OpenTelemetry tracer provider, and returns the guard that flushes
    /// and shuts everything down.
    pub fn install(self) -> Result<Telemetry, InitError> {
        let cfg = self.resolve()?;
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

        let resource = Resource::builder()
            .with_service_name(cfg.app_name.clone())
            .with_attributes(self.resource_attributes)
            .build();
        let mut builder = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_span_processor(EnrichmentProcessor::default());
        for add in self.processors {
            builder = add(builder, &cfg);
        }
        let destination = match self.exporter {
            Some(add) => {
                builder = add(builder, &cfg);
                format!("custom exporter {}", self.exporter_name.unwrap_or("?"))
            }
            None => {
                builder = builder
                    .with_span_processor(batch_processor(crate::ConsoleExporter::default(), &cfg));
                "the console (stderr); set TRACELOOP_BASE_URL or OTEL_EXPORTER_OTLP_ENDPOINT to send OTLP to a collector"
                    .to_owned()
            }
        };
        let provider = builder.build();
        let tracer =
            provider.tracer_with_scope(InstrumentationScope::builder(semconv::TRACER_NAME).build());
        opentelemetry::global::set_tracer_provider(provider.clone());

        let subscriber = tracing_subscriber::registry().with(otel_layer(tracer.clone()));
        let own_subscriber = tracing::subscriber::set_global_default(subscriber).is_ok();

        state::activate(cfg.trace_content, cfg.value_length_limit);
        if !cfg.silence_init_message {
            let mode = if cfg.disable_batch {
                "immediate export"
            } else {
                "batched"
            };
            let sub = if own_subscriber {
                ""
            } else {
                "; an app tracing subscriber is already set: add Telemetry::layer() to it"
            };
            eprintln!(
                "llmetry: {} traces -> {destination} ({mode}){sub}",
                cfg.app_name
            );
        }
        Ok(Telemetry {
            inner: Some(Arc::new(Inner {
                provider,
                tracer,
                shut_down: AtomicBool::new(false),
            })),
        })
    }
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

fn batch_processor<E: SpanExporter + 'static>(
    exporter: E,
    cfg: &ResolvedConfig,
) -> BatchSpanProcessor {
    let mut config = BatchConfigBuilder::default();
    if cfg.disable_batch {
        config = config.with_max_export_batch_size(1);
    }
    BatchSpanProcessor::builder(exporter)
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
];

fn otel_layer<S>(tracer: SdkTracer) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut targets = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::INFO)
        .with_target("llmetry", tracing::Level::TRACE);
    for t in SELF_TARGETS {
        targets = targets.with_target(*t, tracing_subscriber::filter::LevelFilter::OFF);
    }
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false)
        .with_level(false)
        .with_filter(targets)
}

struct Inner {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    shut_down: AtomicBool,
}

/// The installed telemetry. Keep it alive for the life of the program: dropping it (or
/// calling [`Telemetry::shutdown`]) delivers everything still buffered, waiting at most
/// [`SHUTDOWN_TIMEOUT`].
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
    /// A `tracing` layer sending spans into this telemetry, for an app that already has
    /// its own subscriber:
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt as _;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let telemetry = llmetry::init().install()?; // says the app's subscriber is already set
    /// let subscriber = tracing_subscriber::registry().with(telemetry.layer());
    /// tracing::subscriber::set_global_default(subscriber)?;
    /// # Ok(()) }
    /// ```
    pub fn layer<S>(&self) -> Option<impl Layer<S> + use<S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.inner.as_ref().map(|i| otel_layer(i.tracer.clone()))
    }

    /// Exports everything buffered now, waiting at most [`SHUTDOWN_TIMEOUT`].
    pub fn flush(&self) -> Result<(), ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let provider = inner.provider.clone();
        bounded("flush", move || provider.force_flush())
    }

    /// Flushes and stops every pipeline, waiting at most [`SHUTDOWN_TIMEOUT`]. Later
    /// calls (and `Drop`) do nothing. Safe to call from async code on any runtime flavour:
    /// the work runs on a helper thread.
    pub fn shutdown(&self) -> Result<(), ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        if inner.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        state::silence();
        let provider = inner.provider.clone();
        let result = bounded("shutdown", move || {
            provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
        });
        INSTALLED.store(false, Ordering::Release);
        result
    }
}

/// Runs `op` on a helper thread, waiting at most [`SHUTDOWN_TIMEOUT`] (plus a small grace).
fn bounded<F>(operation: &'static str, op: F) -> Result<(), ShutdownError>
where
    F: FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("llmetry-{operation}"))
        .spawn(move || {
            let _ = tx.send(op());
        });
    if spawned.is_err() {
        return Err(ShutdownError::Export {
            operation,
            message: "could not start a helper thread".to_owned(),
        });
    }
    let timeout = SHUTDOWN_TIMEOUT + Duration::from_millis(500);
    match rx.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ShutdownError::Export {
            operation,
            message: e.to_string(),
        }),
        Err(_) => Err(ShutdownError::Timeout { operation, timeout }),
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(inner) = &self.inner
            && Arc::strong_count(inner) == 1
            && let Err(e) = self.shutdown()
        {
            eprintln!("llmetry: {e}");
        }
    }
}

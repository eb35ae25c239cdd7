//! Configuration resolution: builder value > environment > default ([`pick`]), per signal,
//! into a [`ResolvedConfig`] whose [`Routes`] say where each signal goes and carry what the
//! builder plugged in for it.
//!
//! Pure: strings in, typed configuration out. Every environment read goes through one
//! [`EnvSource`] (`env`), so tests never mutate the process environment; endpoint strings
//! are resolved by `endpoint`, header strings parsed by `headers`. Nothing here opens a
//! connection or builds an exporter (that is `install` and `export`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub(crate) mod delivery;
pub(crate) mod endpoint;
pub(crate) mod env;
pub(crate) mod headers;

use crate::error::{
    EndpointError, EndpointProblem, InitError, PROTOCOLS, ParseProtocolError, shorten,
};
use crate::instrument::Instrument;
use delivery::{QueueConfig, TemporalityPreference};
use endpoint::{Destination, Signal};
use env::EnvSource;
use headers::Redacted;

/// Traceloop's hosted endpoint, used when an API key is given and no endpoint is.
///
/// ```
/// // The same destination, spelled out:
/// let builder = llmetry::init()
///     .api_key("tl-xxxx")
///     .api_endpoint(llmetry::TRACELOOP_DEFAULT_ENDPOINT);
/// assert_eq!(llmetry::TRACELOOP_DEFAULT_ENDPOINT, "https://api.traceloop.com");
/// ```
pub const TRACELOOP_DEFAULT_ENDPOINT: &str = "https://api.traceloop.com";

/// Default timeout of one export request.
///
/// ```
/// use llmetry::DEFAULT_EXPORT_TIMEOUT;
/// assert_eq!(DEFAULT_EXPORT_TIMEOUT.as_secs(), 10);
/// // A slow collector across the ocean:
/// let builder = llmetry::init().timeout(DEFAULT_EXPORT_TIMEOUT * 3);
/// ```
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// OTLP wire protocol. The endpoint's scheme still decides between HTTP and gRPC:
/// `grpc://`, `grpcs://` and scheme-less `host:port` endpoints are always gRPC.
///
/// Not `#[non_exhaustive]`: the OTLP specification defines exactly these three, so a
/// `match` on it may stay exhaustive. Each needs its transport compiled in (the `grpc`,
/// `http-proto` and `http-json` cargo features, all on by default).
///
/// ```
/// use llmetry::Protocol;
/// assert_eq!("http/json".parse::<Protocol>().ok(), Some(Protocol::HttpJson));
/// assert!("thrift".parse::<Protocol>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (the default).
    HttpProtobuf,
    /// `http/json`.
    HttpJson,
    /// `grpc`.
    Grpc,
}

impl FromStr for Protocol {
    type Err = ParseProtocolError;
    fn from_str(s: &str) -> Result<Self, ParseProtocolError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            "grpc" => Ok(Protocol::Grpc),
            _ => Err(ParseProtocolError::new(s)),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
            Protocol::Grpc => "grpc",
        })
    }
}

/// Compression of export requests. `#[non_exhaustive]`: OTLP exporters also know zstd.
///
/// ```
/// let _ = llmetry::init().compression(llmetry::Compression::Gzip);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// gzip.
    Gzip,
}

/// Plain-data builder values (everything but plug-in objects).
#[derive(Clone, Default)]
pub(crate) struct Settings {
    pub(crate) app_name: Option<String>,
    pub(crate) api_endpoint: Option<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) headers: Option<Vec<(String, String)>>,
    pub(crate) enabled: Option<bool>,
    pub(crate) disable_batch: Option<bool>,
    pub(crate) trace_content: Option<bool>,
    pub(crate) silence_init_message: Option<bool>,
    pub(crate) resource_attributes: Vec<(String, opentelemetry::Value)>,
    pub(crate) metrics_enabled: Option<bool>,
    pub(crate) metrics_endpoint: Option<String>,
    pub(crate) metrics_headers: Option<Vec<(String, String)>>,
    pub(crate) logging_enabled: Option<bool>,
    pub(crate) logging_endpoint: Option<String>,
    pub(crate) logging_headers: Option<Vec<(String, String)>>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) compression: Option<Option<Compression>>,
    pub(crate) instruments: Option<Vec<Instrument>>,
    pub(crate) block_instruments: Vec<Instrument>,
    pub(crate) use_attributes: Option<bool>,
    pub(crate) global_subscriber: Option<bool>,
    pub(crate) shutdown_timeout: Option<Duration>,
}

impl fmt::Debug for Settings {
    // The API key and header values are secrets: never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted =
            |h: &Option<Vec<(String, String)>>| h.as_ref().map(|h| Redacted(h).to_string());
        f.debug_struct("Settings")
            .field("app_name", &self.app_name)
            .field("api_endpoint", &self.api_endpoint)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("headers", &redacted(&self.headers))
            .field("enabled", &self.enabled)
            .field("disable_batch", &self.disable_batch)
            .field("trace_content", &self.trace_content)
            .field("metrics_enabled", &self.metrics_enabled)
            .field("metrics_endpoint", &self.metrics_endpoint)
            .field("metrics_headers", &redacted(&self.metrics_headers))
            .field("logging_enabled", &self.logging_enabled)
            .field("logging_endpoint", &self.logging_endpoint)
            .field("logging_headers", &redacted(&self.logging_headers))
            .field("protocol", &self.protocol)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

/// What the builder was given instead of OTLP: the span exporter `S`, span processors,
/// the metric exporter `M` and the log exporter `L`. They decide some routes, and the
/// routes they decide carry them, so a route and its exporter cannot disagree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plugged<S, M, L> {
    pub(crate) span_exporter: Option<S>,
    pub(crate) span_processor: bool,
    pub(crate) metrics_exporter: Option<M>,
    pub(crate) logging_exporter: Option<L>,
}

impl<S, M, L> Default for Plugged<S, M, L> {
    fn default() -> Self {
        Self {
            span_exporter: None,
            span_processor: false,
            metrics_exporter: None,
            logging_exporter: None,
        }
    }
}

/// How one OTLP signal is sent.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OtlpRoute {
    pub(crate) signal: Signal,
    pub(crate) destination: Destination,
    pub(crate) protocol: Protocol,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) compression: Option<Compression>,
}

impl fmt::Debug for OtlpRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpRoute")
            .field("signal", &self.signal)
            .field("destination", &self.destination.describe())
            .field("protocol", &self.protocol)
            .field("headers", &Redacted(&self.headers))
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .finish()
    }
}

impl OtlpRoute {
    /// `http://h:4318/v1/traces (http/protobuf)` / `grpc://h:4317 (plaintext)`.
    pub(crate) fn describe(&self) -> String {
        match &self.destination {
            Destination::Http { .. } => {
                format!("{} ({})", self.destination.describe(), self.protocol)
            }
            Destination::Grpc { .. } => self.destination.describe(),
        }
    }
}

/// Where traces go, carrying the builder's span exporter `S` when that is where. There is
/// no "off": telemetry that is on always sends traces somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TracesRoute<S> {
    /// Printed on stderr as a tree: no collector and no exporter is configured.
    Console,
    /// To the span exporter given to the builder.
    Exporter(S),
    /// Only to the span processors given to the builder.
    Processors,
    /// To an OTLP collector.
    Otlp(OtlpRoute),
}

/// Where metrics or logs go, carrying the builder's exporter `E` when that is where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route<E> {
    /// Not exported, and why: a phrase starting with "off" (it is the install line's).
    Off(String),
    /// To the exporter given to the builder.
    Exporter(E),
    /// To an OTLP collector.
    Otlp(OtlpRoute),
}

/// Where each signal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Routes<S, M, L> {
    pub(crate) traces: TracesRoute<S>,
    pub(crate) metrics: Route<M>,
    pub(crate) logs: Route<L>,
}

/// Configuration after precedence was applied.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedConfig<S, M, L> {
    pub(crate) app_name: String,
    pub(crate) disable_batch: bool,
    pub(crate) trace_content: bool,
    pub(crate) value_length_limit: usize,
    pub(crate) silence_init_message: bool,
    pub(crate) use_attributes: bool,
    pub(crate) metric_export_interval: Duration,
    /// Where each signal goes; `None` when telemetry is disabled.
    pub(crate) routes: Option<Routes<S, M, L>>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, to be overridden by builder attributes.
    pub(crate) env_resource: Vec<(String, String)>,
    pub(crate) sampler: Option<opentelemetry_sdk::trace::Sampler>,
    pub(crate) propagators: Vec<PropagatorKind>,
    pub(crate) instruments: Vec<Instrument>,
    /// How spans are queued and delivered (`OTEL_BSP_*`).
    pub(crate) traces_queue: QueueConfig,
    /// How log records are queued and delivered (`OTEL_BLRP_*`).
    pub(crate) logs_queue: QueueConfig,
    /// The shutdown deadline set by the builder or `LLMETRY_SHUTDOWN_TIMEOUT`; `None`:
    /// derived from the export timeouts at install.
    pub(crate) shutdown_timeout: Option<Duration>,
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`.
    pub(crate) temporality: TemporalityPreference,
    /// Accepted-but-suspicious input, printed once at install.
    pub(crate) warnings: Vec<String>,
    /// Where a builder value overrode an environment value, printed with the install line.
    pub(crate) notes: Vec<String>,
}

/// A propagator named in `OTEL_PROPAGATORS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PropagatorKind {
    TraceContext,
    Baggage,
}

/// How to send OTLP to a collector, for the install line of a signal that has none.
pub(crate) const NO_COLLECTOR_FIX: &str =
    "to send OTLP to a collector, set TRACELOOP_BASE_URL or OTEL_EXPORTER_OTLP_ENDPOINT";

/// The precedence rule, written once: `first` (the builder's value, or a more specific
/// source) wins; otherwise `then` is read, and only then, so a bad environment value that
/// the builder overrides is no error; otherwise `default`.
fn pick<T>(
    first: Option<T>,
    then: impl FnOnce() -> Result<Option<T>, InitError>,
    default: T,
) -> Result<T, InitError> {
    match first {
        Some(v) => Ok(v),
        None => Ok(then()?.unwrap_or(default)),
    }
}

pub(crate) fn invalid(key: &str, value: &str, expected: &'static str) -> InitError {
    InitError::InvalidValue {
        key: key.to_owned(),
        value: shorten(value),
        expected,
    }
}

fn parse_bool(key: &str, raw: &str) -> Result<bool, InitError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(invalid(key, raw, "true or false")),
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
                .map_err(|_| invalid(key, &v, "a non-negative whole number"))
        })
        .transpose()
}

/// A duration in milliseconds from the first of `keys` that is set.
fn env_millis(
    env: &EnvSource,
    keys: &[String],
    expected: &'static str,
) -> Result<Option<Duration>, InitError> {
    first_env(env, keys)
        .map(|(k, v)| {
            v.trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| invalid(&k, &v, expected))
        })
        .transpose()
}

fn signal_key(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "TRACES",
        Signal::Metrics => "METRICS",
        Signal::Logs => "LOGS",
    }
}

/// The Traceloop name of a signal's env vars (`TRACELOOP_METRICS_*`, `TRACELOOP_LOGGING_*`).
fn traceloop_key(signal: Signal) -> Option<&'static str> {
    match signal {
        Signal::Traces => None,
        Signal::Metrics => Some("METRICS"),
        Signal::Logs => Some("LOGGING"),
    }
}

/// First value among `keys` that is set, with its key.
fn first_env(env: &EnvSource, keys: &[String]) -> Option<(String, String)> {
    keys.iter().find_map(|k| env.get(k).map(|v| (k.clone(), v)))
}

/// The signal-specific then the general variable: `OTEL_EXPORTER_OTLP_<SIGNAL>_<what>`,
/// `OTEL_EXPORTER_OTLP_<what>`.
fn otlp_keys(signal: Signal, what: &str) -> [String; 2] {
    [
        format!("OTEL_EXPORTER_OTLP_{}_{what}", signal_key(signal)),
        format!("OTEL_EXPORTER_OTLP_{what}"),
    ]
}

fn validate_header_pairs(key: &str, pairs: &[(String, String)]) -> Result<(), InitError> {
    for (name, value) in pairs {
        if http::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(InitError::InvalidValue {
                key: key.to_owned(),
                value: name.clone(),
                expected: "an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
            });
        }
        if http::header::HeaderValue::from_str(value).is_err() {
            return Err(InitError::InvalidValue {
                key: key.to_owned(),
                value: format!("{name}=***"),
                expected: "a header value without control characters",
            });
        }
        if !headers::is_visible_ascii(value) {
            return Err(InitError::InvalidValue {
                key: key.to_owned(),
                value: format!("{name}=***"),
                expected: headers::VISIBLE_ASCII,
            });
        }
    }
    Ok(())
}

/// Applies builder > environment > default to everything, and moves each plugged-in
/// exporter into the route it decides.
pub(crate) fn resolve<S, M, L>(
    s: &Settings,
    plugged: Plugged<S, M, L>,
    env: &EnvSource,
) -> Result<ResolvedConfig<S, M, L>, InitError> {
    let mut warnings = Vec::new();
    let sdk_disabled = env_bool(env, "OTEL_SDK_DISABLED")?.unwrap_or(false);
    let enabled = pick(
        s.enabled,
        || Ok(env_bool(env, "TRACELOOP_TRACING_ENABLED")?.map(|on| on && !sdk_disabled)),
        !sdk_disabled,
    )?;
    let trace_content = pick(
        s.trace_content,
        || env_bool(env, "TRACELOOP_TRACE_CONTENT"),
        true,
    )?;
    let disable_batch = pick(
        s.disable_batch,
        || env_bool(env, "TRACELOOP_DISABLE_BATCH"),
        false,
    )?;
    let silence_init_message = pick(
        s.silence_init_message,
        || env_bool(env, "TRACELOOP_SILENCE_INIT_MESSAGE"),
        false,
    )?;
    let value_length_limit = pick(
        env_usize(env, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")?,
        || env_usize(env, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
        crate::state::DEFAULT_VALUE_LENGTH_LIMIT,
    )?;

    let env_resource = match env.get("OTEL_RESOURCE_ATTRIBUTES") {
        Some(raw) => parse_kv_list("OTEL_RESOURCE_ATTRIBUTES", &raw)?,
        None => Vec::new(),
    };
    let app_name = s
        .app_name
        .clone()
        .or_else(|| env.get("OTEL_SERVICE_NAME"))
        .or_else(|| {
            env_resource
                .iter()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(env::program_name);

    let sampler = sampler_from_env(env)?;
    let propagators = propagators_from_env(env)?;
    let instruments = pick(
        s.instruments.clone(),
        || {
            env.get("TRACELOOP_INSTRUMENTS")
                .map(|raw| parse_instruments("TRACELOOP_INSTRUMENTS", &raw))
                .transpose()
        },
        Instrument::ALL.to_vec(),
    )?;
    let mut blocked = s.block_instruments.clone();
    if let Some(raw) = env.get("TRACELOOP_BLOCK_INSTRUMENTS") {
        blocked.extend(parse_instruments("TRACELOOP_BLOCK_INSTRUMENTS", &raw)?);
    }
    let instruments = instruments
        .into_iter()
        .filter(|i| !blocked.contains(i))
        .collect();
    let metric_export_interval = env_millis(
        env,
        &["OTEL_METRIC_EXPORT_INTERVAL".to_owned()],
        "an interval in milliseconds",
    )?
    .unwrap_or(DEFAULT_METRIC_EXPORT_INTERVAL);
    let use_attributes = pick(
        s.use_attributes,
        || env_bool(env, "TRACELOOP_USE_ATTRIBUTES"),
        true,
    )?;

    // Protocol variables are validated even when no endpoint uses them, so a typo is an
    // error whatever else is configured.
    for k in [
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    ] {
        if let Some(v) = env.get(k) {
            v.parse::<Protocol>()
                .map_err(|_| invalid(k, &v, PROTOCOLS))?;
        }
    }

    let api_key = s.api_key.clone().or_else(|| env.get("TRACELOOP_API_KEY"));
    if let Some(h) = &s.headers {
        validate_header_pairs("headers", h)?;
    }
    if let Some(h) = &s.metrics_headers {
        validate_header_pairs("metrics_headers", h)?;
    }
    if let Some(h) = &s.logging_headers {
        validate_header_pairs("logging_headers", h)?;
    }

    let routes = if enabled {
        let mut otlp =
            |signal: Signal| otlp_route(signal, s, env, api_key.as_deref(), &mut warnings);
        Some(routes(s, plugged, env, &mut otlp)?)
    } else {
        None
    };

    // Queues: a batch may take the signal's OTLP export timeout by default.
    let otlp_timeout =
        |route: Option<&OtlpRoute>| route.map_or(DEFAULT_EXPORT_TIMEOUT, |r| r.timeout);
    let (traces_timeout, logs_timeout) = match &routes {
        Some(r) => (
            otlp_timeout(match &r.traces {
                TracesRoute::Otlp(o) => Some(o),
                _ => None,
            }),
            otlp_timeout(match &r.logs {
                Route::Otlp(o) => Some(o),
                _ => None,
            }),
        ),
        None => (DEFAULT_EXPORT_TIMEOUT, DEFAULT_EXPORT_TIMEOUT),
    };
    let traces_queue = delivery::queue_config(
        env,
        "OTEL_BSP",
        delivery::DEFAULT_SPAN_SCHEDULE_DELAY,
        traces_timeout,
        disable_batch,
        &mut warnings,
    )?;
    let logs_queue = delivery::queue_config(
        env,
        "OTEL_BLRP",
        delivery::DEFAULT_LOG_SCHEDULE_DELAY,
        logs_timeout,
        disable_batch,
        &mut warnings,
    )?;
    let shutdown_timeout = pick(
        s.shutdown_timeout.map(Some),
        || Ok(delivery::millis(env, "LLMETRY_SHUTDOWN_TIMEOUT", true)?.map(Some)),
        None,
    )?;
    let temporality = delivery::temporality(env)?;
    let notes = overrides(s, env);

    Ok(ResolvedConfig {
        app_name,
        disable_batch,
        trace_content,
        value_length_limit,
        silence_init_message,
        use_attributes,
        metric_export_interval,
        routes,
        env_resource,
        sampler,
        propagators,
        instruments,
        traces_queue,
        logs_queue,
        shutdown_timeout,
        temporality,
        warnings,
        notes,
    })
}

/// One note per setting where a value given to the builder overrode one set in the
/// environment (which is then not used): a user who set `TRACELOOP_HEADERS` beside
/// `.headers(..)` in code should know which one is sent.
fn overrides(s: &Settings, env: &EnvSource) -> Vec<String> {
    let mut notes = Vec::new();
    // `given`: the builder's value as the environment would spell it (`None`: not given,
    // `Some(None)`: given, not comparable); a variable holding the same value is no
    // override (an app passing an environment variable through, for example).
    let mut note = |method: &str, given: Option<Option<String>>, keys: &[&str]| {
        let Some(value) = given else {
            return;
        };
        let set: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| {
                env.get(k)
                    .is_some_and(|v| value.as_deref() != Some(v.trim()))
            })
            .collect();
        if !set.is_empty() {
            notes.push(format!(
                "{method} in code overrides {} from the environment (not used)",
                set.join(", ")
            ));
        }
    };
    let text = |v: &Option<String>| v.as_ref().map(|v| Some(v.trim().to_owned()));
    let flag = |v: Option<bool>| v.map(|b| Some(b.to_string()));
    let given = |set: bool| set.then_some(None);
    note("app_name(..)", text(&s.app_name), &["OTEL_SERVICE_NAME"]);
    note(
        "api_endpoint(..)",
        text(&s.api_endpoint),
        &[
            "TRACELOOP_BASE_URL",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ],
    );
    note("api_key(..)", text(&s.api_key), &["TRACELOOP_API_KEY"]);
    note(
        "headers(..)",
        given(s.headers.is_some()),
        &[
            "TRACELOOP_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ],
    );
    note(
        "enabled(..)",
        given(s.enabled.is_some()),
        &["TRACELOOP_TRACING_ENABLED", "OTEL_SDK_DISABLED"],
    );
    note(
        "disable_batch(..)",
        flag(s.disable_batch),
        &["TRACELOOP_DISABLE_BATCH"],
    );
    note(
        "trace_content(..)",
        flag(s.trace_content),
        &["TRACELOOP_TRACE_CONTENT"],
    );
    note(
        "metrics_enabled(..)",
        flag(s.metrics_enabled),
        &["TRACELOOP_METRICS_ENABLED"],
    );
    note(
        "metrics_endpoint(..)",
        text(&s.metrics_endpoint),
        &[
            "TRACELOOP_METRICS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        ],
    );
    note(
        "metrics_headers(..)",
        given(s.metrics_headers.is_some()),
        &[
            "TRACELOOP_METRICS_HEADERS",
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        ],
    );
    note(
        "logging_enabled(..)",
        flag(s.logging_enabled),
        &["TRACELOOP_LOGGING_ENABLED"],
    );
    note(
        "logging_endpoint(..)",
        text(&s.logging_endpoint),
        &[
            "TRACELOOP_LOGGING_ENDPOINT",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        ],
    );
    note(
        "logging_headers(..)",
        given(s.logging_headers.is_some()),
        &[
            "TRACELOOP_LOGGING_HEADERS",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        ],
    );
    note(
        "protocol(..)",
        s.protocol.map(|p| Some(p.to_string())),
        &[
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        ],
    );
    note(
        "timeout(..)",
        s.timeout.map(|t| Some(t.as_millis().to_string())),
        &[
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        ],
    );
    note(
        "compression(..)",
        s.compression
            .map(|c| Some(if c.is_some() { "gzip" } else { "none" }.to_owned())),
        &[
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
        ],
    );
    note(
        "instruments(..)",
        given(s.instruments.is_some()),
        &["TRACELOOP_INSTRUMENTS"],
    );
    note(
        "use_attributes(..)",
        flag(s.use_attributes),
        &["TRACELOOP_USE_ATTRIBUTES"],
    );
    note(
        "shutdown_timeout(..)",
        s.shutdown_timeout.map(|t| Some(t.as_millis().to_string())),
        &["LLMETRY_SHUTDOWN_TIMEOUT"],
    );
    if let Some(raw) = env.get("OTEL_RESOURCE_ATTRIBUTES") {
        let env_keys: Vec<String> = parse_kv_list("OTEL_RESOURCE_ATTRIBUTES", &raw)
            .map(|kv| kv.into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        let mut overridden: Vec<&str> = s
            .resource_attributes
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| env_keys.iter().any(|e| e == k))
            .collect();
        overridden.dedup();
        if !overridden.is_empty() {
            notes.push(format!(
                "resource_attributes(..) in code overrides {} of OTEL_RESOURCE_ATTRIBUTES (not used)",
                overridden.join(", ")
            ));
        }
    }
    notes
}

/// Where each signal goes: a signal that is off stays off; an exporter given to the
/// builder wins over an endpoint; then the endpoint (`otlp`); then the default.
fn routes<S, M, L>(
    s: &Settings,
    plugged: Plugged<S, M, L>,
    env: &EnvSource,
    otlp: &mut dyn FnMut(Signal) -> Result<Option<OtlpRoute>, InitError>,
) -> Result<Routes<S, M, L>, InitError> {
    let Plugged {
        span_exporter,
        span_processor,
        metrics_exporter,
        logging_exporter,
    } = plugged;
    let traces_custom = span_exporter.is_some() || span_processor;
    let traces = match span_exporter {
        Some(exporter) => TracesRoute::Exporter(exporter),
        None => match otlp(Signal::Traces)? {
            Some(route) => TracesRoute::Otlp(route),
            None if span_processor => TracesRoute::Processors,
            None => TracesRoute::Console,
        },
    };
    let metrics_on = pick(
        s.metrics_enabled,
        || env_bool(env, "TRACELOOP_METRICS_ENABLED"),
        true,
    )?;
    let metrics = signal_route(
        Signal::Metrics,
        metrics_on.then_some(metrics_exporter),
        "off by metrics_enabled(false) or TRACELOOP_METRICS_ENABLED=false",
        traces_custom,
        otlp,
    )?;
    let logs_on = pick(
        s.logging_enabled,
        || env_bool(env, "TRACELOOP_LOGGING_ENABLED"),
        false,
    )?;
    let logs = signal_route(
        Signal::Logs,
        logs_on.then_some(logging_exporter),
        "off by default; logging_enabled(true) or TRACELOOP_LOGGING_ENABLED=true turns logs on",
        traces_custom,
        otlp,
    )?;
    Ok(Routes {
        traces,
        metrics,
        logs,
    })
}

/// The route of metrics or logs: `switched_on` is `None` when the signal is switched off
/// (`off_why`), else the exporter given to the builder, if any. Like traces, but with no
/// console: without an exporter or endpoint the signal is off, and the reason says why.
fn signal_route<E>(
    signal: Signal,
    switched_on: Option<Option<E>>,
    off_why: &str,
    traces_custom: bool,
    otlp: &mut dyn FnMut(Signal) -> Result<Option<OtlpRoute>, InitError>,
) -> Result<Route<E>, InitError> {
    let Some(exporter) = switched_on else {
        return Ok(Route::Off(off_why.to_owned()));
    };
    if let Some(exporter) = exporter {
        return Ok(Route::Exporter(exporter));
    }
    Ok(match otlp(signal)? {
        Some(route) => Route::Otlp(route),
        None if traces_custom => Route::Off(format!(
            "off: traces go to a custom exporter and no {} exporter or endpoint is set",
            signal.as_str()
        )),
        None => Route::Off(format!("off: no collector configured; {NO_COLLECTOR_FIX}")),
    })
}

/// The OTLP route of `signal`: the first endpoint that is set (builder, then
/// environment; `None` if none is), with its protocol, headers, timeout and compression.
fn otlp_route(
    signal: Signal,
    s: &Settings,
    env: &EnvSource,
    api_key: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Option<OtlpRoute>, InitError> {
    let tk = traceloop_key(signal);

    // Endpoint: (value, where it came from, whether it is a full signal URL).
    let builder_signal = match signal {
        Signal::Traces => None,
        Signal::Metrics => s
            .metrics_endpoint
            .clone()
            .map(|v| (v, "metrics_endpoint".to_owned(), false)),
        Signal::Logs => s
            .logging_endpoint
            .clone()
            .map(|v| (v, "logging_endpoint".to_owned(), false)),
    };
    let mut candidates: Vec<Option<(String, String, bool)>> = vec![
        builder_signal,
        s.api_endpoint
            .clone()
            .map(|v| (v, "api_endpoint".to_owned(), false)),
    ];
    if let Some(tk) = tk {
        let k = format!("TRACELOOP_{tk}_ENDPOINT");
        candidates.push(env.get(&k).map(|v| (v, k, false)));
    }
    let [k, _] = otlp_keys(signal, "ENDPOINT");
    candidates.push(env.get(&k).map(|v| (v, k, true)));
    candidates.push(
        env.get("TRACELOOP_BASE_URL")
            .map(|v| (v, "TRACELOOP_BASE_URL".to_owned(), false)),
    );
    candidates.push(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            .map(|v| (v, "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), false)),
    );
    if api_key.is_some() {
        candidates.push(Some((
            TRACELOOP_DEFAULT_ENDPOINT.to_owned(),
            "default (API key given)".to_owned(),
            false,
        )));
    }
    let Some((raw, source, specific)) = candidates.into_iter().flatten().next() else {
        return Ok(None);
    };
    let destination =
        endpoint::resolve(&raw, signal, specific).map_err(|e| InitError::Endpoint {
            key: source.clone(),
            source: e,
        })?;

    // Protocol.
    let protocol = pick(
        s.protocol,
        || {
            first_env(env, &otlp_keys(signal, "PROTOCOL"))
                .map(|(k, v)| {
                    v.parse::<Protocol>()
                        .map_err(|_| invalid(&k, &v, PROTOCOLS))
                })
                .transpose()
        },
        Protocol::HttpProtobuf,
    )?;
    let (destination, protocol) = match destination {
        Destination::Grpc { url, tls } => (Destination::Grpc { url, tls }, Protocol::Grpc),
        Destination::Http { url } if protocol == Protocol::Grpc => {
            // `http(s)://host:port` with protocol grpc: a gRPC channel to that origin.
            let tls = url.scheme() == "https";
            let origin = format!(
                "{}://{}:{}",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port_or_known_default()
                    .unwrap_or(if tls { 443 } else { 4317 })
            );
            let url = url::Url::parse(&origin).map_err(|e| InitError::Endpoint {
                key: source.clone(),
                source: EndpointError {
                    value: raw.clone(),
                    problem: EndpointProblem::Malformed(e),
                },
            })?;
            (Destination::Grpc { url, tls }, Protocol::Grpc)
        }
        d => (d, protocol),
    };

    // Headers: the first non-empty source wins (no merging across sources).
    let builder_signal_headers = match signal {
        Signal::Traces => None,
        Signal::Metrics => s.metrics_headers.clone(),
        Signal::Logs => s.logging_headers.clone(),
    };
    let mut header_sources: Vec<String> = Vec::new();
    if let Some(tk) = tk {
        header_sources.push(format!("TRACELOOP_{tk}_HEADERS"));
    }
    let [signal_headers, _] = otlp_keys(signal, "HEADERS");
    header_sources.push(signal_headers);
    header_sources.push("TRACELOOP_HEADERS".to_owned());
    header_sources.push("OTEL_EXPORTER_OTLP_HEADERS".to_owned());
    let from_env = || -> Result<Option<Vec<(String, String)>>, InitError> {
        let Some((k, raw)) = first_env(env, &header_sources) else {
            return Ok(None);
        };
        let parsed = headers::parse_headers(&raw).map_err(|e| InitError::Header {
            key: k.clone(),
            source: e,
        })?;
        for w in parsed.warnings {
            // Metrics and logs may fall back to the same variable: say it once.
            let w = format!("{k}: {w}");
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        Ok(Some(parsed.headers))
    };
    let mut hdrs = pick(
        builder_signal_headers.or_else(|| s.headers.clone()),
        from_env,
        Vec::new(),
    )?;
    if hdrs.is_empty()
        && let Some(key) = api_key
    {
        hdrs.push(("Authorization".to_owned(), format!("Bearer {key}")));
    }
    let to_traceloop = destination
        .url()
        .host_str()
        .is_some_and(|h| h == "traceloop.com" || h.ends_with(".traceloop.com"));
    let has_auth = hdrs
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    if to_traceloop && !has_auth {
        return Err(InitError::MissingApiKey {
            endpoint: destination.describe(),
        });
    }
    if destination.is_grpc() {
        for h in &mut hdrs {
            h.0 = headers::grpc_metadata_key(&h.0);
        }
    }

    // Timeout (0 would fail every export) and compression.
    if s.timeout == Some(Duration::ZERO) {
        return Err(invalid("timeout", "0s", "a timeout greater than 0"));
    }
    let timeout = pick(
        s.timeout,
        || match first_env(env, &otlp_keys(signal, "TIMEOUT")) {
            Some((k, _)) => delivery::millis(env, &k, false),
            None => Ok(None),
        },
        DEFAULT_EXPORT_TIMEOUT,
    )?;
    let compression = pick(
        s.compression,
        || {
            first_env(env, &otlp_keys(signal, "COMPRESSION"))
                .map(|(k, v)| match v.trim().to_ascii_lowercase().as_str() {
                    "gzip" => Ok(Some(Compression::Gzip)),
                    "none" => Ok(None),
                    _ => Err(invalid(&k, &v, "gzip or none")),
                })
                .transpose()
        },
        None,
    )?;
    Ok(Some(OtlpRoute {
        signal,
        destination,
        protocol,
        headers: hdrs,
        timeout,
        compression,
    }))
}

/// `k=v,k2=v2` (percent-decoded), as `OTEL_RESOURCE_ATTRIBUTES` is written. An empty key,
/// or a `%` not followed by two hex digits, or escapes that do not decode to UTF-8, are
/// errors naming the item (the OTel specification says to discard such a value; an error
/// says why).
fn parse_kv_list(key: &str, raw: &str) -> Result<Vec<(String, String)>, InitError> {
    let mut out = Vec::new();
    for item in raw.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((k, v)) = item.split_once('=') else {
            return Err(invalid(key, item, "key=value pairs separated by commas"));
        };
        let k = strict_decode(k.trim()).ok_or_else(|| {
            invalid(
                key,
                item,
                "percent-encoding as %XX with two hex digits, decoding to UTF-8",
            )
        })?;
        if k.is_empty() {
            return Err(invalid(key, item, "a non-empty key before `=`"));
        }
        let v = strict_decode(v.trim()).ok_or_else(|| {
            invalid(
                key,
                item,
                "percent-encoding as %XX with two hex digits, decoding to UTF-8",
            )
        })?;
        out.push((k, v));
    }
    Ok(out)
}

/// Percent-decodes `s`; `None` when a `%` is not followed by two hex digits or the result
/// is not UTF-8.
fn strict_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(p) = bytes[i..].iter().position(|&b| b == b'%') {
        let at = i + p;
        let hex = bytes.get(at + 1..at + 3)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        i = at + 3;
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

fn parse_instruments(key: &str, raw: &str) -> Result<Vec<Instrument>, InitError> {
    raw.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Instrument::parse(s).ok_or_else(|| {
                invalid(
                    key,
                    s,
                    "a comma-separated list of openai, anthropic, ollama, rig",
                )
            })
        })
        .collect()
}

fn sampler_from_env(
    env: &EnvSource,
) -> Result<Option<opentelemetry_sdk::trace::Sampler>, InitError> {
    use opentelemetry_sdk::trace::Sampler;
    let Some(name) = env.get("OTEL_TRACES_SAMPLER") else {
        return Ok(None);
    };
    let ratio = || -> Result<f64, InitError> {
        match env.get("OTEL_TRACES_SAMPLER_ARG") {
            None => Ok(1.0),
            Some(a) => match a.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(invalid(
                    "OTEL_TRACES_SAMPLER_ARG",
                    &a,
                    "a ratio between 0 and 1",
                )),
            },
        }
    };
    let s = match name.trim().to_ascii_lowercase().as_str() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
        _ => {
            return Err(invalid(
                "OTEL_TRACES_SAMPLER",
                &name,
                "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
            ));
        }
    };
    Ok(Some(s))
}

fn propagators_from_env(env: &EnvSource) -> Result<Vec<PropagatorKind>, InitError> {
    let Some(raw) = env.get("OTEL_PROPAGATORS") else {
        return Ok(vec![PropagatorKind::TraceContext, PropagatorKind::Baggage]);
    };
    let mut out = Vec::new();
    for p in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match p.to_ascii_lowercase().as_str() {
            "tracecontext" => out.push(PropagatorKind::TraceContext),
            "baggage" => out.push(PropagatorKind::Baggage),
            "none" => {}
            _ => {
                return Err(invalid(
                    "OTEL_PROPAGATORS",
                    p,
                    "tracecontext, baggage or none",
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvSource {
        EnvSource::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    /// Configuration resolved with stand-ins (`()`) for the builder's exporters.
    type Config = ResolvedConfig<(), (), ()>;

    fn resolve_with(
        s: Settings,
        plugged: Plugged<(), (), ()>,
        pairs: &[(&str, &str)],
    ) -> Result<Config, InitError> {
        resolve(&s, plugged, &env(pairs))
    }

    /// The routes of a configuration that is on.
    fn on(c: &Config) -> &Routes<(), (), ()> {
        c.routes.as_ref().expect("telemetry is on")
    }

    /// A traces, metrics or logs route, for [`otlp`] and [`url`].
    trait AnyRoute: fmt::Debug {
        fn otlp(&self) -> Option<&OtlpRoute>;
    }

    impl AnyRoute for TracesRoute<()> {
        fn otlp(&self) -> Option<&OtlpRoute> {
            match self {
                TracesRoute::Otlp(route) => Some(route),
                _ => None,
            }
        }
    }

    impl AnyRoute for Route<()> {
        fn otlp(&self) -> Option<&OtlpRoute> {
            match self {
                Route::Otlp(route) => Some(route),
                _ => None,
            }
        }
    }

    fn otlp<R: AnyRoute + ?Sized>(r: &R) -> &OtlpRoute {
        match r.otlp() {
            Some(o) => o,
            None => panic!("expected an OTLP route, got {r:?}"),
        }
    }

    fn url<R: AnyRoute + ?Sized>(r: &R) -> String {
        otlp(r).destination.url().to_string()
    }

    #[test]
    fn nothing_configured_prints_traces_and_turns_metrics_and_logs_off() {
        let c = resolve_with(Settings::default(), Plugged::default(), &[]).unwrap();
        assert_eq!(on(&c).traces, TracesRoute::Console);
        assert!(matches!(&on(&c).metrics, Route::Off(why) if why.contains("no collector")));
        assert!(matches!(&on(&c).logs, Route::Off(why) if why.contains("off by default")));
        assert!(c.trace_content);
        assert!(!c.disable_batch);
        assert_eq!(
            c.value_length_limit,
            crate::state::DEFAULT_VALUE_LENGTH_LIMIT
        );
    }

    #[test]
    fn endpoint_precedence_table() {
        // (builder api_endpoint, builder metrics_endpoint, env, expected traces URL, expected metrics URL)
        type Row<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Vec<(&'a str, &'a str)>,
            &'a str,
            &'a str,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                None,
                None,
                vec![("TRACELOOP_BASE_URL", "http://tl:4318")],
                "http://tl:4318/v1/traces",
                "http://tl:4318/v1/metrics",
            ),
            (
                None,
                None,
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318")],
                "http://otel:4318/v1/traces",
                "http://otel:4318/v1/metrics",
            ),
            (
                None,
                None,
                vec![
                    ("TRACELOOP_BASE_URL", "http://tl:4318"),
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318"),
                ],
                "http://tl:4318/v1/traces",
                "http://tl:4318/v1/metrics",
            ),
            (
                Some("http://code:4318"),
                None,
                vec![
                    ("TRACELOOP_BASE_URL", "http://tl:4318"),
                    ("TRACELOOP_METRICS_ENDPOINT", "http://m:9090"),
                ],
                "http://code:4318/v1/traces",
                "http://code:4318/v1/metrics",
            ),
            (
                None,
                None,
                vec![
                    ("TRACELOOP_BASE_URL", "http://tl:4318"),
                    ("TRACELOOP_METRICS_ENDPOINT", "http://mimir:9009/otlp"),
                ],
                "http://tl:4318/v1/traces",
                "http://mimir:9009/otlp/v1/metrics",
            ),
            (
                None,
                None,
                vec![
                    ("TRACELOOP_BASE_URL", "http://tl:4318"),
                    (
                        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                        "http://m:4318/custom/path",
                    ),
                ],
                "http://tl:4318/v1/traces",
                "http://m:4318/custom/path",
            ),
            (
                Some("http://code:4318"),
                Some("http://thanos:10908"),
                vec![],
                "http://code:4318/v1/traces",
                "http://thanos:10908/v1/metrics",
            ),
            (
                Some("http://h:4318/v1/traces"),
                None,
                vec![],
                "http://h:4318/v1/traces",
                "http://h:4318/v1/traces/v1/metrics",
            ),
        ];
        for (i, (api, metrics, e, traces_url, metrics_url)) in rows.into_iter().enumerate() {
            let s = Settings {
                api_endpoint: api.map(str::to_owned),
                metrics_endpoint: metrics.map(str::to_owned),
                ..Settings::default()
            };
            let c = resolve_with(s, Plugged::default(), &e).unwrap();
            assert_eq!(url(&on(&c).traces), traces_url, "row {i} traces");
            assert_eq!(url(&on(&c).metrics), metrics_url, "row {i} metrics");
        }
    }

    #[test]
    fn scheme_decides_transport_and_protocol_picks_the_encoding() {
        let cases: Vec<(&str, Option<Protocol>, Vec<(&str, &str)>, Protocol, &str)> = vec![
            (
                "http://h:4318",
                None,
                vec![],
                Protocol::HttpProtobuf,
                "http://h:4318/v1/traces",
            ),
            (
                "http://h:4318",
                Some(Protocol::HttpJson),
                vec![],
                Protocol::HttpJson,
                "http://h:4318/v1/traces",
            ),
            (
                "http://h:4318",
                None,
                vec![("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
                Protocol::HttpJson,
                "http://h:4318/v1/traces",
            ),
            (
                "http://h:4318",
                None,
                vec![
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                    ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
                ],
                Protocol::HttpProtobuf,
                "http://h:4318/v1/traces",
            ),
            (
                "http://h:4317",
                Some(Protocol::Grpc),
                vec![],
                Protocol::Grpc,
                "http://h:4317/",
            ),
            (
                "grpc://h:4317",
                None,
                vec![],
                Protocol::Grpc,
                "http://h:4317/",
            ),
            (
                "grpcs://h:4317",
                Some(Protocol::HttpJson),
                vec![],
                Protocol::Grpc,
                "https://h:4317/",
            ),
            ("h:4317", None, vec![], Protocol::Grpc, "http://h:4317/"),
        ];
        for (endpoint, protocol, e, want_protocol, want_url) in cases {
            let s = Settings {
                api_endpoint: Some(endpoint.into()),
                protocol,
                ..Settings::default()
            };
            let c = resolve_with(s, Plugged::default(), &e).unwrap();
            assert_eq!(otlp(&on(&c).traces).protocol, want_protocol, "{endpoint}");
            assert_eq!(url(&on(&c).traces), want_url, "{endpoint}");
        }
    }

    #[test]
    fn header_precedence_and_api_key() {
        let s = Settings {
            api_endpoint: Some("http://h:4318".into()),
            headers: Some(vec![("X-Scope-OrgID".into(), "rca".into())]),
            metrics_headers: Some(vec![("THANOS-TENANT".into(), "team-a".into())]),
            ..Settings::default()
        };
        let c = resolve_with(
            s,
            Plugged::default(),
            &[
                ("TRACELOOP_HEADERS", "X-Scope-OrgID=env"),
                ("TRACELOOP_API_KEY", "k"),
            ],
        )
        .unwrap();
        assert_eq!(
            otlp(&on(&c).traces).headers,
            vec![("X-Scope-OrgID".to_owned(), "rca".to_owned())]
        );
        assert_eq!(
            otlp(&on(&c).metrics).headers,
            vec![("THANOS-TENANT".to_owned(), "team-a".to_owned())]
        );

        // env only: signal-specific env beats the generic one; logs fall back to the generic
        let s = Settings {
            api_endpoint: Some("http://h:4318".into()),
            logging_enabled: Some(true),
            ..Settings::default()
        };
        let c = resolve_with(
            s,
            Plugged::default(),
            &[
                ("TRACELOOP_HEADERS", "X-Scope-OrgID=tl"),
                ("TRACELOOP_METRICS_HEADERS", "THANOS-TENANT=t%20x"),
            ],
        )
        .unwrap();
        assert_eq!(
            otlp(&on(&c).traces).headers,
            vec![("X-Scope-OrgID".to_owned(), "tl".to_owned())]
        );
        assert_eq!(
            otlp(&on(&c).metrics).headers,
            vec![("THANOS-TENANT".to_owned(), "t x".to_owned())]
        );
        assert_eq!(
            otlp(&on(&c).logs).headers,
            vec![("X-Scope-OrgID".to_owned(), "tl".to_owned())]
        );

        // API key becomes a bearer token only when no headers are given
        let s = Settings {
            api_endpoint: Some("http://h:4318".into()),
            ..Settings::default()
        };
        let c = resolve_with(s, Plugged::default(), &[("TRACELOOP_API_KEY", "sk-1")]).unwrap();
        assert_eq!(
            otlp(&on(&c).traces).headers,
            vec![("Authorization".to_owned(), "Bearer sk-1".to_owned())]
        );

        // an API key and no endpoint: Traceloop's platform
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("TRACELOOP_API_KEY", "sk-1")],
        )
        .unwrap();
        assert_eq!(url(&on(&c).traces), "https://api.traceloop.com/v1/traces");

        // gRPC metadata keys are lower-cased for the user
        let s = Settings {
            api_endpoint: Some("grpc://h:4317".into()),
            headers: Some(vec![("X-Scope-OrgID".into(), "rca".into())]),
            ..Settings::default()
        };
        let c = resolve_with(s, Plugged::default(), &[]).unwrap();
        assert_eq!(
            otlp(&on(&c).traces).headers,
            vec![("x-scope-orgid".to_owned(), "rca".to_owned())]
        );
    }

    #[test]
    fn a_bare_space_in_a_header_value_is_accepted_with_a_warning() {
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[
                ("TRACELOOP_BASE_URL", "http://h:4318"),
                ("TRACELOOP_HEADERS", "Authorization=Bearer abc"),
            ],
        )
        .unwrap();
        assert_eq!(
            otlp(&on(&c).traces).headers,
            vec![("Authorization".to_owned(), "Bearer abc".to_owned())]
        );
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("TRACELOOP_HEADERS") && c.warnings[0].contains("space"));
        assert!(!c.warnings[0].contains("abc"), "values are never printed");
    }

    #[test]
    fn missing_api_key_for_traceloop_is_an_error() {
        let s = Settings {
            api_endpoint: Some("https://api.traceloop.com".into()),
            ..Settings::default()
        };
        let e = resolve_with(s, Plugged::default(), &[]).unwrap_err();
        assert!(matches!(e, InitError::MissingApiKey { .. }));
        assert!(e.to_string().contains("TRACELOOP_API_KEY"), "{e}");
    }

    #[test]
    fn custom_exporter_keeps_metrics_and_logs_off_unless_configured() {
        let plugged = Plugged {
            span_exporter: Some(()),
            ..Plugged::default()
        };
        let c = resolve_with(Settings::default(), plugged, &[]).unwrap();
        assert_eq!(on(&c).traces, TracesRoute::Exporter(()));
        assert!(matches!(&on(&c).metrics, Route::Off(why) if why.contains("custom exporter")));
        let c = resolve_with(
            Settings::default(),
            plugged,
            &[("TRACELOOP_BASE_URL", "http://h:4318")],
        )
        .unwrap();
        assert_eq!(on(&c).traces, TracesRoute::Exporter(()));
        assert_eq!(url(&on(&c).metrics), "http://h:4318/v1/metrics");
    }

    #[test]
    fn switches_follow_builder_then_env_then_default() {
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("TRACELOOP_TRACE_CONTENT", "false")],
        )
        .unwrap();
        assert!(!c.trace_content);
        let s = Settings {
            trace_content: Some(true),
            ..Settings::default()
        };
        let c = resolve_with(
            s,
            Plugged::default(),
            &[("TRACELOOP_TRACE_CONTENT", "false")],
        )
        .unwrap();
        assert!(c.trace_content);
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("OTEL_SDK_DISABLED", "true")],
        )
        .unwrap();
        assert!(c.routes.is_none());
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("TRACELOOP_TRACING_ENABLED", "false")],
        )
        .unwrap();
        assert!(c.routes.is_none());
        let s = Settings {
            enabled: Some(true),
            ..Settings::default()
        };
        let c = resolve_with(
            s,
            Plugged::default(),
            &[("TRACELOOP_TRACING_ENABLED", "false")],
        )
        .unwrap();
        assert!(c.routes.is_some());
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[
                ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
                ("TRACELOOP_DISABLE_BATCH", "true"),
            ],
        )
        .unwrap();
        assert_eq!(c.value_length_limit, 100);
        assert!(c.disable_batch);
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[
                ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
                ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "7"),
            ],
        )
        .unwrap();
        assert_eq!(c.value_length_limit, 7);
        let s = Settings {
            app_name: Some("code".into()),
            ..Settings::default()
        };
        let c = resolve_with(s, Plugged::default(), &[("OTEL_SERVICE_NAME", "env")]).unwrap();
        assert_eq!(c.app_name, "code");
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("OTEL_SERVICE_NAME", "env")],
        )
        .unwrap();
        assert_eq!(c.app_name, "env");
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[
                ("TRACELOOP_BASE_URL", "http://h:4318"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ],
        )
        .unwrap();
        assert_eq!(otlp(&on(&c).traces).timeout, Duration::from_millis(2500));
        assert_eq!(otlp(&on(&c).traces).compression, Some(Compression::Gzip));
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[
                ("TRACELOOP_BASE_URL", "http://h:4318"),
                ("TRACELOOP_METRICS_ENABLED", "false"),
                ("TRACELOOP_LOGGING_ENABLED", "true"),
            ],
        )
        .unwrap();
        assert!(matches!(on(&c).metrics, Route::Off(_)));
        assert_eq!(url(&on(&c).logs), "http://h:4318/v1/logs");
        let c = resolve_with(
            Settings {
                block_instruments: vec![Instrument::Rig],
                ..Settings::default()
            },
            Plugged::default(),
            &[("TRACELOOP_INSTRUMENTS", "openai,rig")],
        )
        .unwrap();
        assert_eq!(c.instruments, vec![Instrument::OpenAi]);
    }

    #[test]
    fn per_signal_builder_rows_and_logging_headers() {
        let s = Settings {
            api_endpoint: Some("http://h:4318".into()),
            logging_enabled: Some(true),
            logging_headers: Some(vec![("X-Scope-OrgID".into(), "loki-tenant".into())]),
            timeout: Some(Duration::from_millis(750)),
            compression: Some(Some(Compression::Gzip)),
            ..Settings::default()
        };
        let c = resolve_with(
            s,
            Plugged::default(),
            &[
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "9000"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ],
        )
        .unwrap();
        assert_eq!(
            otlp(&on(&c).logs).headers,
            vec![("X-Scope-OrgID".to_owned(), "loki-tenant".to_owned())]
        );
        assert!(
            otlp(&on(&c).traces).headers.is_empty(),
            "logging_headers are for logs only"
        );
        for r in [
            &on(&c).traces as &dyn AnyRoute,
            &on(&c).metrics,
            &on(&c).logs,
        ] {
            assert_eq!(
                otlp(r).timeout,
                Duration::from_millis(750),
                "builder timeout beats env"
            );
            assert_eq!(
                otlp(r).compression,
                Some(Compression::Gzip),
                "builder compression beats env"
            );
        }
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[
                ("TRACELOOP_BASE_URL", "http://h:4318"),
                ("TRACELOOP_LOGGING_ENABLED", "true"),
                ("TRACELOOP_LOGGING_HEADERS", "X-Scope-OrgID=loki"),
                ("TRACELOOP_LOGGING_ENDPOINT", "http://loki:3100/otlp"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1200"),
            ],
        )
        .unwrap();
        assert_eq!(
            otlp(&on(&c).logs).headers,
            vec![("X-Scope-OrgID".to_owned(), "loki".to_owned())]
        );
        assert_eq!(url(&on(&c).logs), "http://loki:3100/otlp/v1/logs");
        assert_eq!(otlp(&on(&c).traces).timeout, Duration::from_millis(1200));
        assert_eq!(otlp(&on(&c).metrics).timeout, DEFAULT_EXPORT_TIMEOUT);
    }

    #[test]
    fn remaining_environment_rows() {
        use opentelemetry_sdk::trace::Sampler;
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
                ("OTEL_PROPAGATORS", "baggage"),
                ("TRACELOOP_USE_ATTRIBUTES", "false"),
                ("TRACELOOP_SILENCE_INIT_MESSAGE", "true"),
                ("OTEL_METRIC_EXPORT_INTERVAL", "1500"),
            ],
        )
        .unwrap();
        assert!(
            matches!(&c.sampler, Some(Sampler::ParentBased(inner)) if format!("{inner:?}").contains("0.25")),
            "{:?}",
            c.sampler
        );
        assert_eq!(c.propagators, vec![PropagatorKind::Baggage]);
        assert!(!c.use_attributes);
        assert!(c.silence_init_message);
        assert_eq!(c.metric_export_interval, Duration::from_millis(1500));
        let c = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("OTEL_PROPAGATORS", "none")],
        )
        .unwrap();
        assert!(c.propagators.is_empty());
        let c = resolve_with(Settings::default(), Plugged::default(), &[]).unwrap();
        assert_eq!(
            c.propagators,
            vec![PropagatorKind::TraceContext, PropagatorKind::Baggage]
        );
        assert_eq!(c.sampler.map(|s| format!("{s:?}")), None);
        assert_eq!(c.metric_export_interval, DEFAULT_METRIC_EXPORT_INTERVAL);
        assert!(c.use_attributes);
        let s = Settings {
            use_attributes: Some(true),
            ..Settings::default()
        };
        let c = resolve_with(
            s,
            Plugged::default(),
            &[("TRACELOOP_USE_ATTRIBUTES", "false")],
        )
        .unwrap();
        assert!(c.use_attributes, "builder beats env");
    }

    #[test]
    fn bad_values_name_the_value_and_what_was_expected() {
        let cases: Vec<(Settings, Vec<(&str, &str)>, &[&str])> = vec![
            (
                Settings::default(),
                vec![("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")],
                &["\"thrift\"", "OTEL_EXPORTER_OTLP_PROTOCOL"],
            ),
            (
                Settings::default(),
                vec![("TRACELOOP_TRACE_CONTENT", "maybe")],
                &["\"maybe\"", "TRACELOOP_TRACE_CONTENT", "true or false"],
            ),
            (
                Settings::default(),
                vec![
                    ("TRACELOOP_BASE_URL", "http://h:4318"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"),
                ],
                &[
                    "\"thrift\"",
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    "http/protobuf, http/json or grpc",
                ],
            ),
            (
                Settings::default(),
                vec![("TRACELOOP_BASE_URL", "htp://h:4318")],
                &["TRACELOOP_BASE_URL", "htp", "expected"],
            ),
            (
                Settings::default(),
                vec![("TRACELOOP_BASE_URL", "http://h:99999")],
                &["TRACELOOP_BASE_URL", "99999"],
            ),
            (
                Settings::default(),
                vec![
                    ("TRACELOOP_BASE_URL", "http://h:4318"),
                    ("TRACELOOP_HEADERS", "X-Scope-OrgID rca"),
                ],
                &["TRACELOOP_HEADERS", "X-Scope-OrgID", "key=value"],
            ),
            (
                Settings::default(),
                vec![
                    ("TRACELOOP_BASE_URL", "http://h:4318"),
                    ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
                ],
                &["\"10s\"", "milliseconds"],
            ),
            (
                Settings::default(),
                vec![
                    ("TRACELOOP_BASE_URL", "http://h:4318"),
                    ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
                ],
                &["\"brotli\"", "gzip or none"],
            ),
            (
                Settings::default(),
                vec![("OTEL_TRACES_SAMPLER", "sometimes")],
                &["\"sometimes\"", "always_on"],
            ),
            (
                Settings::default(),
                vec![("OTEL_METRIC_EXPORT_INTERVAL", "1m")],
                &["\"1m\"", "milliseconds"],
            ),
            (
                Settings::default(),
                vec![("OTEL_PROPAGATORS", "b3")],
                &["\"b3\"", "tracecontext"],
            ),
            (
                Settings {
                    headers: Some(vec![("bad header".into(), "v".into())]),
                    ..Settings::default()
                },
                vec![],
                &["\"bad header\"", "headers", "HTTP header name"],
            ),
            (
                Settings {
                    api_endpoint: Some("".into()),
                    ..Settings::default()
                },
                vec![],
                &["api_endpoint", "empty"],
            ),
            // Issue 9: values accepted without a word before.
            (
                Settings {
                    timeout: Some(Duration::ZERO),
                    api_endpoint: Some("http://h:4318".into()),
                    ..Settings::default()
                },
                vec![],
                &["timeout", "greater than 0"],
            ),
            (
                Settings::default(),
                vec![
                    ("TRACELOOP_BASE_URL", "http://h:4318"),
                    ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
                ],
                &["OTEL_EXPORTER_OTLP_TIMEOUT", "\"0\"", "greater than 0"],
            ),
            (
                Settings::default(),
                vec![("OTEL_RESOURCE_ATTRIBUTES", "a=1,=v")],
                &["OTEL_RESOURCE_ATTRIBUTES", "\"=v\"", "non-empty key"],
            ),
            (
                Settings::default(),
                vec![("OTEL_RESOURCE_ATTRIBUTES", "k=%ZZ")],
                &["OTEL_RESOURCE_ATTRIBUTES", "%ZZ", "two hex digits"],
            ),
            (
                Settings::default(),
                vec![("OTEL_RESOURCE_ATTRIBUTES", "k=%FF")],
                &["OTEL_RESOURCE_ATTRIBUTES", "%FF", "UTF-8"],
            ),
            (
                Settings {
                    headers: Some(vec![("x-user".into(), "caf\u{e9}".into())]),
                    ..Settings::default()
                },
                vec![],
                &["headers", "x-user=***", "visible ASCII"],
            ),
            (
                Settings::default(),
                vec![
                    ("TRACELOOP_BASE_URL", "http://h:4318"),
                    ("TRACELOOP_HEADERS", "x-user=caf%C3%A9"),
                ],
                &["TRACELOOP_HEADERS", "x-user", "non-ASCII"],
            ),
            (
                Settings::default(),
                vec![("TRACELOOP_BASE_URL", "http://h:4318/v1/traces?x=1#frag")],
                &["TRACELOOP_BASE_URL", "?x=1#frag", "query or fragment"],
            ),
            (
                Settings::default(),
                vec![("LLMETRY_SHUTDOWN_TIMEOUT", "5s")],
                &["LLMETRY_SHUTDOWN_TIMEOUT", "\"5s\"", "milliseconds"],
            ),
            (
                Settings::default(),
                vec![("OTEL_BLRP_MAX_QUEUE_SIZE", "0")],
                &["OTEL_BLRP_MAX_QUEUE_SIZE", "greater than 0"],
            ),
            (
                Settings::default(),
                vec![(
                    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                    "sometimes",
                )],
                &["\"sometimes\"", "cumulative, delta or lowmemory"],
            ),
        ];
        for (s, e, needles) in cases {
            let err = resolve_with(s, Plugged::default(), &e)
                .unwrap_err()
                .to_string();
            for n in needles {
                assert!(err.contains(n), "{err:?} should mention {n:?}");
            }
        }
    }

    #[test]
    fn a_long_bad_value_is_printed_shortened_once() {
        // Issue 9: a 70 KB bad URL was printed twice.
        let long = format!("grpc://h:4317/{}", "x".repeat(70_000));
        let err = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("TRACELOOP_BASE_URL", long.as_str())],
        )
        .unwrap_err()
        .to_string();
        assert!(err.len() < 700, "{} bytes: {err}", err.len());
        assert_eq!(
            err.matches("bytes]").count(),
            2,
            "the value and the path, each cut: {err}"
        );
        assert!(
            err.contains("TRACELOOP_BASE_URL") && err.contains("takes no path"),
            "{err}"
        );
        let long = format!("thrift{}", "y".repeat(70_000));
        let err = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", long.as_str())],
        )
        .unwrap_err()
        .to_string();
        assert!(err.len() < 400, "{err}");
        assert_eq!(err.matches("bytes]").count(), 1, "{err}");
    }

    #[test]
    fn a_builder_value_over_an_environment_value_is_noted() {
        let s = Settings {
            headers: Some(vec![("Authorization".into(), "Bearer x".into())]),
            app_name: Some("svc".into()),
            timeout: Some(Duration::from_secs(3)),
            resource_attributes: vec![("team".into(), "a".into())],
            ..Settings::default()
        };
        let c = resolve_with(
            s,
            Plugged::default(),
            &[
                ("TRACELOOP_BASE_URL", "http://h:4318"),
                ("TRACELOOP_HEADERS", "x-mlflow-experiment-id=0"),
                ("OTEL_SERVICE_NAME", "svc"), // the same value: no note
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "9000"),
                ("OTEL_RESOURCE_ATTRIBUTES", "team=b,env=prod"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.notes,
            [
                "headers(..) in code overrides TRACELOOP_HEADERS from the environment (not used)",
                "timeout(..) in code overrides OTEL_EXPORTER_OTLP_TIMEOUT from the environment (not used)",
                "resource_attributes(..) in code overrides team of OTEL_RESOURCE_ATTRIBUTES (not used)",
            ]
        );
        let plain = resolve_with(
            Settings::default(),
            Plugged::default(),
            &[("TRACELOOP_HEADERS", "a=1")],
        )
        .unwrap();
        assert!(plain.notes.is_empty(), "{:?}", plain.notes);
    }

    #[test]
    fn queues_and_the_shutdown_deadline_come_from_the_environment() {
        let c = resolve_with(
            Settings {
                disable_batch: Some(true),
                ..Settings::default()
            },
            Plugged::default(),
            &[
                ("TRACELOOP_BASE_URL", "http://h:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "3000"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "1000"),
                ("OTEL_BLRP_SCHEDULE_DELAY", "250"),
                ("LLMETRY_SHUTDOWN_TIMEOUT", "0"),
            ],
        )
        .unwrap();
        assert_eq!(c.traces_queue.max_queue_size, 1000);
        assert_eq!(c.traces_queue.max_export_batch_size, 512);
        assert!(c.traces_queue.immediate && c.logs_queue.immediate);
        // A batch may take the signal's export timeout by default.
        assert_eq!(c.traces_queue.export_timeout, Duration::from_secs(3));
        assert_eq!(c.logs_queue.export_timeout, DEFAULT_EXPORT_TIMEOUT);
        assert_eq!(c.logs_queue.schedule_delay, Duration::from_millis(250));
        assert_eq!(c.logs_queue.max_queue_size, 32_768);
        assert_eq!(c.shutdown_timeout, Some(Duration::ZERO));
        let builder = resolve_with(
            Settings {
                shutdown_timeout: Some(Duration::from_secs(2)),
                ..Settings::default()
            },
            Plugged::default(),
            &[("LLMETRY_SHUTDOWN_TIMEOUT", "oops")], // not read: the builder wins
        )
        .unwrap();
        assert_eq!(builder.shutdown_timeout, Some(Duration::from_secs(2)));
        let none = resolve_with(Settings::default(), Plugged::default(), &[]).unwrap();
        assert_eq!(none.shutdown_timeout, None, "derived at install");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let s = Settings {
            api_key: Some("sk-secret".into()),
            headers: Some(vec![("Authorization".into(), "Bearer sk-secret".into())]),
            metrics_headers: Some(vec![("THANOS-TENANT".into(), "tenant-secret".into())]),
            ..Settings::default()
        };
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("secret"), "{dbg}");
        assert!(dbg.contains("Authorization") && dbg.contains("THANOS-TENANT"));
        let c = resolve_with(
            s,
            Plugged::default(),
            &[("TRACELOOP_BASE_URL", "http://h:4318")],
        )
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("secret"), "{dbg}");
    }
}

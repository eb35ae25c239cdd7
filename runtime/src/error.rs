//! Every error type of the crate: [`InitError`] (why `install()` refused), the typed causes
//! it carries ([`EndpointError`], [`HeaderError`], [`ParseProtocolError`]), and
//! [`ShutdownError`] (why `flush()` / `shutdown()` did not complete cleanly).
//!
//! This module depends only on `delivery` (the report a [`ShutdownError`] carries), which
//! depends on nothing, so every other module can return these errors without importing a
//! module that imports it back.

use std::time::Duration;

use crate::delivery::DeliveryReport;

/// Why [`TelemetryBuilder::install`](crate::TelemetryBuilder::install) refused the
/// configuration.
///
/// Its `Display` names the setting, the value and what was expected; secrets are shown as
/// `***`. Where a lower-level error is the cause (an endpoint or header string that does
/// not parse, an exporter that could not be built), it is also the error's
/// [`source`](std::error::Error::source), and its text is repeated in `Display` so that
/// printing the error alone tells the whole story.
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
    #[error("{key}: {source}")]
    Endpoint {
        /// The builder method or environment variable.
        key: String,
        /// What is wrong with the endpoint and what was expected.
        source: EndpointError,
    },
    /// A header string could not be parsed.
    #[error("{key}: {source}")]
    Header {
        /// The environment variable.
        key: String,
        /// What is wrong and what was expected (values shown as `***`).
        source: HeaderError,
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
    /// An OTLP exporter, or what it is built on (its HTTP client or gRPC channel), could
    /// not be built.
    #[error("could not build the {signal} exporter for {destination}: {source}")]
    Exporter {
        /// `traces`, `metrics` or `logs`.
        signal: &'static str,
        /// Where the exporter was to send (`http://h:4318/v1/traces (http/protobuf)`).
        destination: String,
        /// The cause: a `reqwest::Error` (the HTTP client), a `tonic::transport::Error`
        /// (the gRPC channel) or an `std::io::Error` (a thread that could not start);
        /// downcast to inspect it. (Boxed because each transport is an optional cargo
        /// feature.)
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The small runtime the OTLP exports run on could not be started.
    #[error("could not start the OTLP exports' runtime: {source}")]
    ExportRuntime {
        /// Why the runtime's thread could not be started.
        source: std::io::Error,
    },
    /// The configuration needs a transport that this build of llmetry leaves out.
    #[error(
        "{signal} to {destination} needs the `{feature}` cargo feature of llmetry, which this \
         build leaves out: enable it (llmetry = {{ …, features = [\"{feature}\"] }}) or choose \
         another endpoint or protocol"
    )]
    MissingFeature {
        /// `traces`, `metrics` or `logs`.
        signal: &'static str,
        /// Where the signal was to be sent.
        destination: String,
        /// The cargo feature to enable: `grpc`, `http-proto`, `http-json` or `tls`.
        feature: &'static str,
    },
    /// The price file (named by `price_file(..)` or `LLMETRY_PRICES_FILE`) cannot be read
    /// or used; the error names the file, the entry and what was expected.
    #[error("{key}: {source}")]
    PriceFile {
        /// `price_file(..)` or `LLMETRY_PRICES_FILE`.
        key: String,
        /// What is wrong: the file, the entry (`models[3] (openai/gpt-x)`), what was expected.
        source: crate::cost::PriceFileError,
    },
    /// A price given to `prices(..)` is not usable.
    #[error("prices(..): {source}")]
    Price {
        /// The entry and what was expected.
        source: crate::cost::PriceError,
    },
    /// `install()` already ran in this process and its telemetry is still live.
    #[error(
        "llmetry is already installed in this process: install() works once per process (the global tracing subscriber and providers cannot be replaced)"
    )]
    AlreadyInstalled,
}

/// Values longer than this are shortened in messages ([`shorten`]).
const LONG_VALUE: usize = 200;

/// `value` as messages show it: whole when short, else its start and end around the
/// number of bytes left out, so a 70 KB bad URL costs one line, once.
pub(crate) fn shorten(value: &str) -> String {
    if value.chars().count() <= LONG_VALUE {
        return value.to_owned();
    }
    let head: String = value.chars().take(120).collect();
    let tail_rev: String = value.chars().rev().take(40).collect();
    let tail: String = tail_rev.chars().rev().collect();
    let omitted = value.len() - head.len() - tail.len();
    format!("{head}…[{omitted} bytes]…{tail}")
}

/// What an endpoint may look like, for error messages.
const EXPECTED_ENDPOINT: &str = "http://, https://, grpc://, grpcs:// or host:port";
/// What a gRPC endpoint may look like, for error messages.
const EXPECTED_GRPC_ENDPOINT: &str = "grpc://host:port, grpcs://host:port or host:port (use http:// or https:// for a URL with a path)";

/// An endpoint string that cannot be used: the cause of [`InitError::Endpoint`].
///
/// Displays as e.g. `invalid endpoint "htp://x": unknown scheme "htp"; expected http://,
/// https://, grpc://, grpcs:// or host:port`. Credentials in the value are shown as `***`.
///
/// ```
/// use llmetry::{EnvSource, InitError};
///
/// let env = EnvSource::from_pairs([("TRACELOOP_BASE_URL", "grpc://collector:4317/v1/traces")]);
/// let Err(InitError::Endpoint { key, source }) = llmetry::init().env_source(env).install() else {
///     panic!("a gRPC endpoint takes no path");
/// };
/// assert_eq!(key, "TRACELOOP_BASE_URL");
/// assert_eq!(source.value(), "grpc://collector:4317/v1/traces");
/// assert!(source.to_string().contains("takes no path"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid endpoint {value:?}: {problem}; expected {}", .problem.expected())]
pub struct EndpointError {
    /// The value as given (untrimmed), with any `user:password@` replaced by `***@`.
    pub(crate) value: String,
    /// What is wrong with it.
    pub(crate) problem: EndpointProblem,
}

impl EndpointError {
    /// The endpoint as given, with any `user:password@` shown as `***@`.
    ///
    /// ```
    /// # use llmetry::{EnvSource, InitError};
    /// let env = EnvSource::from_pairs([("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:pw@h:0")]);
    /// let Err(InitError::Endpoint { source, .. }) = llmetry::init().env_source(env).install() else {
    ///     panic!("port 0 cannot be connected to");
    /// };
    /// assert_eq!(source.value(), "http://***@h:0"); // credentials are never shown
    /// ```
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// What is wrong with an endpoint string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EndpointProblem {
    /// Empty or all whitespace.
    #[error("it is empty")]
    Empty,
    /// Whitespace or a control character inside the (trimmed) value.
    #[error("it contains whitespace or a control character")]
    Whitespace,
    /// A scheme other than http, https, grpc or grpcs.
    #[error("unknown scheme {0:?}")]
    UnknownScheme(String),
    /// `http:/host`, `https:host` and the like.
    #[error("the scheme {0:?} must be followed by \"://\"")]
    MissingSlashes(String),
    /// `host:` with nothing after the colon.
    #[error("the port after \":\" is empty")]
    EmptyPort,
    /// Port 0.
    #[error("port 0 cannot be connected to")]
    PortZero,
    /// The URL parser rejected it (empty host, invalid port number, invalid IPv6 address, …).
    #[error("{0}")]
    Malformed(url::ParseError),
    /// A gRPC endpoint (`grpc://`, `grpcs://`, no scheme) with a path, query or fragment.
    #[error("a gRPC endpoint takes no path, query or fragment (got {0:?})")]
    GrpcPath(String),
    /// An OTLP/HTTP base URL with a query or fragment (a signal's own URL may keep its
    /// query).
    #[error(
        "a base URL takes no query or fragment (got {0:?}): a full per-signal URL with a query goes in OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT"
    )]
    QueryOrFragment(String),
    /// A gRPC endpoint with `user:password@`.
    #[error("a gRPC endpoint takes no user name or password (send credentials as headers)")]
    GrpcCredentials,
}

impl EndpointProblem {
    fn expected(&self) -> &'static str {
        match self {
            EndpointProblem::GrpcPath(_) | EndpointProblem::GrpcCredentials => {
                EXPECTED_GRPC_ENDPOINT
            }
            _ => EXPECTED_ENDPOINT,
        }
    }
}

/// What a header name may consist of, for error messages.
pub(crate) const TOKEN_CHARS: &str = "letters, digits and !#$%&'*+-.^_`|~";

/// A header string (`OTEL_EXPORTER_OTLP_HEADERS`, `TRACELOOP_HEADERS`, …) that cannot be
/// parsed: the cause of [`InitError::Header`]. Its message shows header names and the
/// input with every value replaced by `***`.
///
/// ```
/// use llmetry::{EnvSource, InitError};
///
/// let env = EnvSource::from_pairs([
///     ("TRACELOOP_BASE_URL", "http://collector:4318"),
///     ("TRACELOOP_HEADERS", "Authorization: Bearer sk-123"),
/// ]);
/// let Err(InitError::Header { key, source }) = llmetry::init().env_source(env).install() else {
///     panic!("`:` is no `=`");
/// };
/// assert_eq!(key, "TRACELOOP_HEADERS");
/// assert_eq!(
///     source.to_string(),
///     r#"invalid header "Authorization: ***" in "Authorization: ***": expected key=value"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct HeaderError(pub(crate) HeaderProblem);

impl From<HeaderProblem> for HeaderError {
    fn from(problem: HeaderProblem) -> Self {
        Self(problem)
    }
}

/// What is wrong with a header string (values never shown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeaderProblem {
    /// An item without `=`, e.g. `X-Scope-OrgID rca` or `Authorization: Bearer …`.
    #[error("invalid header {item:?} in {input:?}: expected key=value")]
    MissingEquals {
        /// The item, anything after its leading name shown as `***`.
        item: String,
        /// The whole input, values shown as `***`.
        input: String,
    },
    /// A name that is empty or not an HTTP token after percent-decoding.
    #[error(
        "invalid header name {name:?} in {input:?}: expected a non-empty name of {TOKEN_CHARS}"
    )]
    InvalidName {
        /// The name as written (before percent-decoding).
        name: String,
        /// The whole input, values shown as `***`.
        input: String,
    },
    /// A value that is not a valid HTTP header value after percent-decoding.
    #[error(
        "invalid header value for {name:?} in {input:?}: {problem}; expected printable characters (percent-encoded as needed)"
    )]
    InvalidValue {
        /// The header name.
        name: String,
        /// The whole input, values shown as `***`.
        input: String,
        /// What is wrong with the value (never the value itself).
        problem: String,
    },
}

/// A string that names no OTLP protocol: the `Err` of
/// [`Protocol::from_str`](crate::Protocol).
///
/// ```
/// let err = "thrift".parse::<llmetry::Protocol>().unwrap_err();
/// assert_eq!(err.to_string(), r#"unknown OTLP protocol "thrift": expected http/protobuf, http/json or grpc"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown OTLP protocol {value:?}: expected {PROTOCOLS}")]
pub struct ParseProtocolError {
    value: String,
}

/// The OTLP protocol names, for error messages.
pub(crate) const PROTOCOLS: &str = "http/protobuf, http/json or grpc";

impl ParseProtocolError {
    pub(crate) fn new(value: &str) -> Self {
        Self {
            value: value.to_owned(),
        }
    }
}

/// Why [`Telemetry::flush`](crate::Telemetry::flush) or
/// [`Telemetry::shutdown`](crate::Telemetry::shutdown) did not complete cleanly.
///
/// Neither is fatal: the app can log it and go on (see the README on keeping a job's exit
/// code independent of telemetry). An endpoint that does not take a signal (HTTP 404/405,
/// gRPC `UNIMPLEMENTED`) is no error: that signal is switched off with one warning. Here
/// an exporter fails every export (a collector that is down would do the same):
///
/// ```rust,standalone_crate
/// use llmetry::{LossCause, ShutdownError};
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
///     Err(ShutdownError::Export { operation, report, .. }) => {
///         assert_eq!(operation, "flush");
///         assert_eq!(report.traces.failed, 1);
///         assert!(matches!(report.traces.cause, Some(LossCause::Exporter { .. })));
///         eprintln!("some telemetry was lost: {}", report.losses());
///     }
///     Err(ShutdownError::Timeout { pending, .. }) => eprintln!("still waiting for {pending}"),
///     Err(other) => eprintln!("{other}"),
///     Ok(report) => panic!("the exporter always fails, yet: {report}"),
/// }
/// # Ok(()) }
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// `flush()` only: some signals were still being delivered when its deadline came.
    /// Nothing is lost yet: the export goes on.
    #[error(
        "telemetry {operation} did not finish within {timeout:?} for {pending}; the export goes on"
    )]
    Timeout {
        /// `flush`.
        operation: &'static str,
        /// The bound that was hit.
        timeout: Duration,
        /// The unfinished signals and their destinations.
        pending: String,
    },
    /// Telemetry was lost: dropped (queue full), failed (after retries), or, at shutdown,
    /// still pending at the deadline. `message` names each signal that lost something,
    /// with its destination, its counts and their causes; `report` has the numbers.
    #[error("telemetry {operation} lost data: {message}")]
    Export {
        /// `flush` or `shutdown`.
        operation: &'static str,
        /// Per signal that lost something: destination, counts, causes
        /// ([`DeliveryReport::losses`]).
        message: String,
        /// What became of every signal's telemetry.
        report: Box<DeliveryReport>,
    },
}

impl std::fmt::Debug for ShutdownError {
    /// Readable as is: `fn main() -> Result<(), Box<dyn Error>>` prints an error it
    /// returns with `Debug` (`Error: Export { operation: "shutdown", message: "traces to
    /// …: 0 spans sent, 3 failed (HTTP 422 …)" }`). The report's numbers are in the message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShutdownError::Timeout {
                operation,
                timeout,
                pending,
            } => f
                .debug_struct("Timeout")
                .field("operation", operation)
                .field("timeout", timeout)
                .field("pending", pending)
                .finish(),
            ShutdownError::Export {
                operation, message, ..
            } => f
                .debug_struct("Export")
                .field("operation", operation)
                .field("message", message)
                .finish_non_exhaustive(),
        }
    }
}

impl ShutdownError {
    /// The delivery report, when the error carries one (it does when data was lost).
    ///
    /// ```
    /// fn lost(e: &llmetry::ShutdownError) -> u64 {
    ///     e.report().map_or(0, |r| r.signals().map(|(_, s)| s.lost()).sum())
    /// }
    /// ```
    pub fn report(&self) -> Option<&DeliveryReport> {
        match self {
            ShutdownError::Export { report, .. } => Some(report),
            ShutdownError::Timeout { .. } => None,
        }
    }
}

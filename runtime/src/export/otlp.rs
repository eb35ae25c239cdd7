//! The OTLP exporter of each signal for a resolved [`OtlpRoute`]: gRPC ones with their own
//! channel on the owned runtime (`grpc`), HTTP ones with the pinned-headers
//! client (`http`).
//!
//! Each transport is a cargo feature (`grpc`, `http-proto`, `http-json`, and `tls` for
//! `https://` and `grpcs://`). [`Transport::of`] is the one place that knows which are
//! compiled in: a route needing one that is not is an [`InitError::MissingFeature`]. With
//! no transport at all, the exporter types are uninhabited (`NoTransport`).

use crate::config::OtlpRoute;
use crate::config::endpoint::Destination;
use crate::error::InitError;

/// What the exporters of one installation share: the gRPC runtime, started when the first
/// gRPC exporter is built and stopped by [`Transports::shut_down`] (or when dropped).
#[derive(Debug, Default)]
pub(crate) struct Transports {
    #[cfg(feature = "grpc")]
    grpc: Option<super::grpc::GrpcRuntime>,
}

impl Transports {
    /// The gRPC runtime, started on first use.
    #[cfg(feature = "grpc")]
    fn grpc(&mut self) -> Result<&super::grpc::GrpcRuntime, InitError> {
        match &mut self.grpc {
            Some(runtime) => Ok(runtime),
            slot => Ok(slot.insert(super::grpc::GrpcRuntime::start()?)),
        }
    }

    /// Stops what was started, without blocking (even inside an async runtime).
    pub(crate) fn shut_down(&mut self) {
        #[cfg(feature = "grpc")]
        if let Some(runtime) = self.grpc.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Transports {
    /// Dropping a tokio runtime inside an async context panics; this never does.
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// How a route is sent, among the transports compiled in.
enum Transport {
    #[cfg(feature = "grpc")]
    Grpc,
    #[cfg(feature = "http-proto")]
    HttpProto,
    #[cfg(feature = "http-json")]
    HttpJson,
}

impl Transport {
    /// The transport `route` needs, or which cargo feature to enable for it.
    fn of(route: &OtlpRoute) -> Result<Self, InitError> {
        use crate::config::Protocol;
        let missing = |feature: &'static str| InitError::MissingFeature {
            signal: route.signal.as_str(),
            destination: route.describe(),
            feature,
        };
        let tls = match &route.destination {
            Destination::Grpc { tls, .. } => *tls,
            Destination::Http { url } => url.scheme() == "https",
        };
        if tls && !cfg!(feature = "tls") {
            return Err(missing("tls"));
        }
        // Configuration makes the protocol grpc exactly for gRPC destinations.
        match route.protocol {
            #[cfg(feature = "grpc")]
            Protocol::Grpc => Ok(Transport::Grpc),
            #[cfg(not(feature = "grpc"))]
            Protocol::Grpc => Err(missing("grpc")),
            #[cfg(feature = "http-proto")]
            Protocol::HttpProtobuf => Ok(Transport::HttpProto),
            #[cfg(not(feature = "http-proto"))]
            Protocol::HttpProtobuf => Err(missing("http-proto")),
            #[cfg(feature = "http-json")]
            Protocol::HttpJson => Ok(Transport::HttpJson),
            #[cfg(not(feature = "http-json"))]
            Protocol::HttpJson => Err(missing("http-json")),
        }
    }
}

#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
pub(crate) use opentelemetry_otlp::{LogExporter, MetricExporter, SpanExporter};

#[cfg(not(any(feature = "grpc", feature = "http-proto", feature = "http-json")))]
pub(crate) use self::no_transport::{
    NoTransport as LogExporter, NoTransport as MetricExporter, NoTransport as SpanExporter,
};

#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
fn build_err(route: &OtlpRoute) -> impl Fn(opentelemetry_otlp::ExporterBuildError) -> InitError {
    let (signal, destination) = (route.signal.as_str(), route.describe());
    move |e| InitError::Exporter {
        signal,
        destination: destination.clone(),
        source: Box::new(e),
    }
}

#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
fn compression(route: &OtlpRoute) -> Option<opentelemetry_otlp::Compression> {
    route
        .compression
        .map(|crate::config::Compression::Gzip| opentelemetry_otlp::Compression::Gzip)
}

#[cfg(feature = "grpc")]
fn configure_tonic<B>(b: B, route: &OtlpRoute, transports: &mut Transports) -> Result<B, InitError>
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithTonicConfig,
{
    let channel = super::grpc::channel(route, transports.grpc()?)?;
    let mut b = b
        .with_channel(channel)
        .with_timeout(route.timeout)
        .with_metadata(super::grpc::metadata(route)?);
    if let Some(c) = compression(route) {
        b = b.with_compression(c);
    }
    Ok(b)
}

#[cfg(any(feature = "http-proto", feature = "http-json"))]
fn configure_http<B>(
    b: B,
    route: &OtlpRoute,
    protocol: opentelemetry_otlp::Protocol,
) -> Result<B, InitError>
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithHttpConfig,
{
    let mut b = b
        .with_protocol(protocol)
        .with_endpoint(route.destination.url().to_string())
        .with_timeout(route.timeout)
        .with_headers(route.headers.iter().cloned().collect())
        .with_http_client(super::http::client(route)?);
    if let Some(c) = compression(route) {
        b = b.with_compression(c);
    }
    Ok(b)
}

/// Defines the function building one signal's OTLP exporter for a route. (The three
/// exporter builders share traits for configuration but not for `build`.)
macro_rules! otlp_exporter {
    ($(#[$doc:meta])* $name:ident, $exporter:ident) => {
        $(#[$doc])*
        #[cfg_attr(not(feature = "grpc"), allow(unused_variables))]
        pub(crate) fn $name(
            route: &OtlpRoute,
            transports: &mut Transports,
        ) -> Result<$exporter, InitError> {
            match Transport::of(route)? {
                #[cfg(feature = "grpc")]
                Transport::Grpc => {
                    let b = configure_tonic($exporter::builder().with_tonic(), route, transports)?;
                    let _enter = transports.grpc()?.enter();
                    b.build().map_err(build_err(route))
                }
                #[cfg(feature = "http-proto")]
                Transport::HttpProto => configure_http(
                    $exporter::builder().with_http(),
                    route,
                    opentelemetry_otlp::Protocol::HttpBinary,
                )?
                .build()
                .map_err(build_err(route)),
                #[cfg(feature = "http-json")]
                Transport::HttpJson => configure_http(
                    $exporter::builder().with_http(),
                    route,
                    opentelemetry_otlp::Protocol::HttpJson,
                )?
                .build()
                .map_err(build_err(route)),
            }
        }
    };
}

otlp_exporter!(
    /// The OTLP span exporter for `route`.
    span_exporter,
    SpanExporter
);
otlp_exporter!(
    /// The OTLP metric exporter for `route`.
    metric_exporter,
    MetricExporter
);
otlp_exporter!(
    /// The OTLP log exporter for `route`.
    log_exporter,
    LogExporter
);

/// The exporter types of a build without any OTLP transport: no value exists, since
/// [`Transport::of`] refuses every OTLP route.
#[cfg(not(any(feature = "grpc", feature = "http-proto", feature = "http-json")))]
mod no_transport {
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::logs::{LogBatch, LogExporter};
    use opentelemetry_sdk::metrics::Temporality;
    use opentelemetry_sdk::metrics::data::ResourceMetrics;
    use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};

    /// An exporter that cannot exist.
    #[derive(Debug)]
    pub(crate) enum NoTransport {}

    impl SpanExporter for NoTransport {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            match *self {}
        }
    }

    impl PushMetricExporter for NoTransport {
        async fn export(&self, _metrics: &ResourceMetrics) -> OTelSdkResult {
            match *self {}
        }
        fn force_flush(&self) -> OTelSdkResult {
            match *self {}
        }
        fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
            match *self {}
        }
        fn temporality(&self) -> Temporality {
            match *self {}
        }
    }

    impl LogExporter for NoTransport {
        async fn export(&self, _batch: LogBatch<'_>) -> OTelSdkResult {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::endpoint::{self, Signal};
    use crate::config::{DEFAULT_EXPORT_TIMEOUT, Protocol};

    fn route(endpoint: &str, protocol: Protocol) -> OtlpRoute {
        let destination = match endpoint::resolve(endpoint, Signal::Traces, false) {
            Ok(d) => d,
            Err(e) => panic!("{endpoint}: {e}"),
        };
        OtlpRoute {
            signal: Signal::Traces,
            destination,
            protocol,
            headers: Vec::new(),
            timeout: DEFAULT_EXPORT_TIMEOUT,
            compression: None,
        }
    }

    /// Passes in every feature combination: a route is accepted exactly when the features
    /// it needs are compiled in, and otherwise refused naming one that is not.
    #[test]
    fn each_route_needs_the_features_of_its_transport() {
        let on = |feature: &str| match feature {
            "grpc" => cfg!(feature = "grpc"),
            "http-proto" => cfg!(feature = "http-proto"),
            "http-json" => cfg!(feature = "http-json"),
            "tls" => cfg!(feature = "tls"),
            other => panic!("no feature {other}"),
        };
        let cases: [(&str, Protocol, &[&str]); 6] = [
            ("http://h:4318", Protocol::HttpProtobuf, &["http-proto"]),
            ("http://h:4318", Protocol::HttpJson, &["http-json"]),
            ("https://h", Protocol::HttpProtobuf, &["http-proto", "tls"]),
            ("https://h", Protocol::HttpJson, &["http-json", "tls"]),
            ("grpc://h:4317", Protocol::Grpc, &["grpc"]),
            ("grpcs://h", Protocol::Grpc, &["grpc", "tls"]),
        ];
        for (endpoint, protocol, needs) in cases {
            let compiled_in = needs.iter().all(|f| on(f));
            match Transport::of(&route(endpoint, protocol)) {
                Ok(_) => assert!(compiled_in, "{endpoint} {protocol} needs {needs:?}"),
                Err(e @ InitError::MissingFeature { feature, .. }) => {
                    assert!(!compiled_in, "{endpoint} {protocol}: {e}");
                    assert!(needs.contains(&feature) && !on(feature), "{e}");
                    assert!(
                        e.to_string()
                            .contains(&format!("`{feature}` cargo feature")),
                        "{e}"
                    );
                }
                Err(e) => panic!("{endpoint} {protocol}: {e}"),
            }
        }
    }
}

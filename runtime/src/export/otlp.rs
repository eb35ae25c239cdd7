//! Our OTLP transport for a resolved [`OtlpRoute`]: which transport the route needs among
//! those compiled in ([`Transport::of`]), and the [`Otlp`] parts of a signal's pipeline (a
//! [`Sender`](super::sender::Sender) over HTTP or gRPC, and the matching encoder), all on
//! the one export runtime an installation owns ([`Transports`]).
//!
//! Each transport is a cargo feature (`grpc`, `http-proto`, `http-json`, and `tls` for
//! `https://` and `grpcs://`): a route needing one that is not compiled in is an
//! [`InitError::MissingFeature`].

use crate::config::OtlpRoute;
use crate::config::endpoint::Destination;
use crate::error::InitError;

/// What the exporters of one installation share: the export runtime, started when the
/// first OTLP route is built and stopped by [`Transports::shut_down`] (or when dropped).
#[derive(Debug, Default)]
pub(crate) struct Transports {
    #[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
    runtime: Option<super::runtime::ExportRuntime>,
}

impl Transports {
    /// The export runtime, started on first use.
    #[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
    fn runtime(&mut self) -> Result<&super::runtime::ExportRuntime, InitError> {
        match &mut self.runtime {
            Some(runtime) => Ok(runtime),
            slot => Ok(slot.insert(super::runtime::ExportRuntime::start()?)),
        }
    }

    /// Stops what was started, without blocking (even inside an async runtime).
    pub(crate) fn shut_down(&mut self) {
        #[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
        if let Some(runtime) = self.runtime.take() {
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

/// Why `route` cannot be sent by a build without any OTLP transport: the feature to
/// enable.
#[cfg(not(any(feature = "grpc", feature = "http-proto", feature = "http-json")))]
pub(crate) fn missing(route: &OtlpRoute) -> InitError {
    match Transport::of(route) {
        Err(e) => e,
        Ok(transport) => match transport {},
    }
}

/// The OTLP parts of one signal's pipeline.
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
#[derive(Debug)]
pub(crate) struct Otlp {
    pub(crate) sender: std::sync::Arc<super::sender::Sender>,
    pub(crate) encoder: super::encode::Encoder,
}

/// The sender and encoder of `route`, counted in `ledger`: `budget` is one batch's time
/// (retries included), `concurrency` how many exports may be in flight.
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
pub(crate) fn otlp(
    route: &OtlpRoute,
    transports: &mut Transports,
    ledger: std::sync::Arc<super::ledger::Ledger>,
    budget: std::time::Duration,
    concurrency: usize,
    resource: &opentelemetry_sdk::Resource,
) -> Result<Otlp, InitError> {
    use super::encode::{Encoder, Format};
    use super::wire::Wire;
    let runtime = transports.runtime()?;
    let (wire, encoder) = match Transport::of(route)? {
        #[cfg(feature = "grpc")]
        Transport::Grpc => (
            Wire::Grpc(super::grpc::GrpcWire::new(route, runtime)?),
            // tonic compresses the message itself.
            Encoder::new(Format::Protobuf, false, resource),
        ),
        #[cfg(feature = "http-proto")]
        Transport::HttpProto => (
            Wire::Http(super::http::HttpWire::new(
                route,
                Format::Protobuf,
                concurrency,
            )?),
            Encoder::new(Format::Protobuf, route.compression.is_some(), resource),
        ),
        #[cfg(feature = "http-json")]
        Transport::HttpJson => (
            Wire::Http(super::http::HttpWire::new(
                route,
                Format::Json,
                concurrency,
            )?),
            Encoder::new(Format::Json, route.compression.is_some(), resource),
        ),
    };
    let sender = super::sender::Sender::new(
        wire,
        ledger,
        runtime.handle(),
        route.timeout,
        budget,
        concurrency,
    );
    Ok(Otlp { sender, encoder })
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

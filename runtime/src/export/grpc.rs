//! gRPC: the small runtime the tonic exporters are built in and run on (they need one for
//! the channel's background task, whatever runtime the app has, or none), and the channel
//! of a route: plaintext, or TLS for `grpcs://`.

use opentelemetry_otlp::tonic_types::metadata::MetadataMap;

use super::headers::header_map;
use crate::config::OtlpRoute;
use crate::error::InitError;

/// An owned one-thread runtime for the tonic channels.
#[derive(Debug)]
pub(crate) struct GrpcRuntime(tokio::runtime::Runtime);

impl GrpcRuntime {
    pub(crate) fn start() -> Result<Self, InitError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("llmetry-grpc")
            .enable_all()
            .build()
            .map(Self)
            .map_err(|source| InitError::GrpcRuntime { source })
    }

    /// Enters the runtime (tonic builds channels inside the current runtime).
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.0.enter()
    }

    /// Stops the runtime without blocking, even inside another async runtime.
    pub(crate) fn shutdown_background(self) {
        self.0.shutdown_background();
    }
}

/// The resolved headers of `route` as gRPC metadata (keys already lower-cased).
pub(crate) fn metadata(route: &OtlpRoute) -> Result<MetadataMap, InitError> {
    Ok(MetadataMap::from_headers(header_map(route)?))
}

/// The lazily connecting channel to `route`'s destination (TLS for `grpcs://`, with the
/// webpki roots), built as opentelemetry-otlp builds its own, inside `runtime`. Building it
/// here keeps TLS a feature of our own (`tls` turns on tonic's ring backend), rather than
/// of opentelemetry-otlp, whose TLS features would pull tonic into HTTP-only builds.
pub(crate) fn channel(
    route: &OtlpRoute,
    runtime: &GrpcRuntime,
) -> Result<tonic::transport::Channel, InitError> {
    let failed = |e: tonic::transport::Error| InitError::Exporter {
        signal: route.signal.as_str(),
        destination: route.describe(),
        source: Box::new(e),
    };
    let url = route.destination.url().to_string();
    let endpoint = tonic::transport::Endpoint::from_shared(url.trim_end_matches('/').to_owned())
        .map_err(failed)?;
    let endpoint = with_tls(endpoint, route).map_err(failed)?;
    let _enter = runtime.enter();
    Ok(endpoint.timeout(route.timeout).connect_lazy())
}

#[cfg(feature = "tls")]
fn with_tls(
    endpoint: tonic::transport::Endpoint,
    route: &OtlpRoute,
) -> Result<tonic::transport::Endpoint, tonic::transport::Error> {
    use crate::config::endpoint::Destination;
    match &route.destination {
        Destination::Grpc { tls: true, .. } => {
            endpoint.tls_config(tonic::transport::ClientTlsConfig::new().with_enabled_roots())
        }
        _ => Ok(endpoint),
    }
}

/// Without the `tls` feature a TLS route never gets here (`Transport::of` in `otlp`).
#[cfg(not(feature = "tls"))]
fn with_tls(
    endpoint: tonic::transport::Endpoint,
    _route: &OtlpRoute,
) -> Result<tonic::transport::Endpoint, tonic::transport::Error> {
    Ok(endpoint)
}

//! What sits between the SDK and the wire, and where every loss is counted.
//!
//! | module | holds |
//! |---|---|
//! | `spans`, `logs`, `metrics` | each signal's pipeline: the traces processor that enriches and queues (one processor, so the SDK does not clone spans), the logs processor, the metric exporters; the sinks their queues send to (an exporter given to the builder, or our OTLP transport) |
//! | `queue` | the bounded queue of a signal and its dispatcher thread (batches, `disable_batch`, flush, shutdown) |
//! | `ledger` | delivery accounting per signal: sent, dropped, failed, discarded; the first loss said once |
//! | `otlp` | which transport a route needs; a signal's sender and encoder |
//! | `sender` | several exports in flight, retries, no retry storm against a closed port |
//! | `wire`, `http`, `grpc` | one export request over OTLP/HTTP (reqwest) or OTLP/gRPC (tonic), with exactly the resolved headers |
//! | `encode` | OTLP protobuf / JSON bodies (opentelemetry-proto's transforms), gzip |
//! | `cause` | naming a failure's cause (refused, DNS, TLS, timeout, status and body, the bytes of a wrong port) |
//! | `runtime` | the one small runtime an installation owns for its exports |
//! | `headers` | the resolved headers as a header map |
//! | `console` | [`ConsoleExporter`](crate::ConsoleExporter), the default without a collector |
//!
//! Which transports exist is decided by cargo features (`grpc`, `http-proto`,
//! `http-json`, `tls`); this module is the only place that looks at them.

#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
mod cause;
pub(crate) mod console;
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
mod encode;
#[cfg(feature = "grpc")]
mod grpc;
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
mod headers;
#[cfg(any(feature = "http-proto", feature = "http-json"))]
mod http;
pub(crate) mod ledger;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod otlp;
pub(crate) mod queue;
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
mod runtime;
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
mod sender;
pub(crate) mod spans;
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
mod wire;

/// Makes rustls' ring backend the process's default TLS crypto provider, unless the app
/// installed one first.
///
/// llmetry builds rustls with ring only (tonic's `tls-ring`, reqwest's
/// `rustls-no-provider`), so that aws-lc-rs and its C build are not compiled; reqwest 0.13
/// then needs a process default to build any client, ours or the app's. Installing it
/// here, at the start of `install()`, makes `reqwest::Client::new()` work afterwards too.
#[cfg(feature = "tls")]
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only if another thread installed one meanwhile: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Without TLS there is no crypto provider to choose.
#[cfg(not(feature = "tls"))]
pub(crate) fn ensure_crypto_provider() {}

#[cfg(all(test, feature = "tls"))]
mod tests {
    #[test]
    fn a_crypto_provider_is_installed_for_reqwest_and_tonic() {
        super::ensure_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        super::ensure_crypto_provider(); // a second call keeps the first one
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}

//! What sits between the SDK and the wire: the OTLP exporters of each signal
//! ([`otlp`]) and what they are built on (the pinned-headers HTTP client in `http`, the
//! gRPC runtime and channel in `grpc`, the headers of both in `headers`, the TLS backend), the wrappers every exporter runs
//! inside ([`report`]: one warning per signal on failure), and the console exporter
//! ([`console`]).
//!
//! Which transports exist is decided by cargo features (`grpc`, `http-proto`,
//! `http-json`, `tls`); this module is the only place that looks at them.

pub(crate) mod console;
#[cfg(feature = "grpc")]
pub(crate) mod grpc;
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
pub(crate) mod headers;
#[cfg(any(feature = "http-proto", feature = "http-json"))]
pub(crate) mod http;
pub(crate) mod otlp;
pub(crate) mod report;

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

//! The HTTP client of the OTLP/HTTP exporters: a blocking reqwest client, built off any
//! async runtime with its own timeout (so cargo feature unification cannot swap it), that
//! sends exactly the resolved headers.

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use reqwest::header::HeaderMap;

use super::headers::header_map;
use crate::config::OtlpRoute;
use crate::error::InitError;

/// A blocking reqwest client that sends exactly the resolved headers: the OTLP exporter
/// also merges `OTEL_EXPORTER_OTLP_*HEADERS` from the process environment, which would
/// break "builder > environment"; this client puts our resolved set back.
#[derive(Debug, Clone)]
pub(crate) struct PinnedHeadersClient {
    inner: reqwest::blocking::Client,
    headers: HeaderMap,
}

/// Headers the exporter itself sets for the request; kept as they are.
const TRANSPORT_HEADERS: [&str; 5] = [
    "content-type",
    "content-encoding",
    "content-length",
    "user-agent",
    "accept-encoding",
];

#[async_trait::async_trait]
impl HttpClient for PinnedHeadersClient {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let h = request.headers_mut();
        let foreign: Vec<_> = h
            .keys()
            .filter(|k| !TRANSPORT_HEADERS.contains(&k.as_str()) && !self.headers.contains_key(*k))
            .cloned()
            .collect();
        for k in foreign {
            h.remove(&k);
        }
        for (k, v) in &self.headers {
            h.insert(k.clone(), v.clone());
        }
        self.inner.send_bytes(request).await
    }
}

/// The client of `route`'s exporter. Built on a helper thread: building (or dropping) a
/// blocking client inside an async runtime panics.
pub(crate) fn client(route: &OtlpRoute) -> Result<PinnedHeadersClient, InitError> {
    let timeout = route.timeout;
    let built = std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
    })
    .join();
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| InitError::Exporter {
        signal: route.signal.as_str(),
        destination: route.describe(),
        source,
    };
    let inner = match built {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(failed(Box::new(e))),
        Err(_) => return Err(failed("building the HTTP client panicked".into())),
    };
    Ok(PinnedHeadersClient {
        inner,
        headers: header_map(route)?,
    })
}

//! Our OTLP transport, seen from the sender: a [`Wire`] (OTLP/HTTP or OTLP/gRPC, as the
//! cargo features allow) sends one encoded request and says whether it was [`Accepted`]
//! (and how much of it the collector rejected) or why it failed.

use std::time::Duration;

use bytes::Bytes;

use super::cause::Failure;
use super::encode::Format;
use crate::config::endpoint::Signal;

/// A request the collector took; `rejected` of its items it refused anyway (an OTLP
/// partial success), saying `message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub(crate) rejected: u64,
    pub(crate) message: String,
}

/// The partial success in a success answer's `body` (nothing when the body is empty or
/// not an OTLP answer: the request was taken).
pub(crate) fn partial_success(signal: Signal, body: &[u8], format: Format) -> Accepted {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    use prost::Message as _;
    if body.is_empty() {
        return Accepted::default();
    }
    let decoded: Option<(i64, String)> = match (signal, format) {
        (Signal::Traces, Format::Protobuf) => ExportTraceServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| (p.rejected_spans, p.error_message)),
        (Signal::Logs, Format::Protobuf) => ExportLogsServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| (p.rejected_log_records, p.error_message)),
        (Signal::Metrics, Format::Protobuf) => ExportMetricsServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| (p.rejected_data_points, p.error_message)),
        #[cfg(feature = "http-json")]
        (Signal::Traces, Format::Json) => {
            serde_json::from_slice::<ExportTraceServiceResponse>(body)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| (p.rejected_spans, p.error_message))
        }
        #[cfg(feature = "http-json")]
        (Signal::Logs, Format::Json) => serde_json::from_slice::<ExportLogsServiceResponse>(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| (p.rejected_log_records, p.error_message)),
        #[cfg(feature = "http-json")]
        (Signal::Metrics, Format::Json) => {
            serde_json::from_slice::<ExportMetricsServiceResponse>(body)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| (p.rejected_data_points, p.error_message))
        }
    };
    match decoded {
        Some((rejected, message)) => Accepted {
            rejected: u64::try_from(rejected).unwrap_or(0),
            message: super::cause::snippet(message.as_bytes(), super::cause::BODY_SNIPPET),
        },
        None => Accepted::default(),
    }
}

/// How one route's requests travel.
#[derive(Debug)]
pub(crate) enum Wire {
    #[cfg(any(feature = "http-proto", feature = "http-json"))]
    Http(super::http::HttpWire),
    #[cfg(feature = "grpc")]
    Grpc(super::grpc::GrpcWire),
}

impl Wire {
    /// One attempt to send `body`, waiting at most `timeout`.
    pub(crate) async fn send(&self, body: Bytes, timeout: Duration) -> Result<Accepted, Failure> {
        match self {
            #[cfg(any(feature = "http-proto", feature = "http-json"))]
            Wire::Http(w) => w.send(body, timeout).await,
            #[cfg(feature = "grpc")]
            Wire::Grpc(w) => w.send(body, timeout).await,
        }
    }
}

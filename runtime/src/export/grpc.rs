//! OTLP/gRPC: the channel of a route (plaintext, or TLS for `grpcs://`, connecting lazily
//! on llmetry's export runtime), and one unary export call of an already encoded request
//! with exactly the resolved metadata and compression (nothing from the process
//! environment), with what its status means ([`Failure`]: `UNIMPLEMENTED` means the
//! endpoint does not take the signal; connection failures name their cause).

use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes};
use http::uri::PathAndQuery;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::{Code, Status};

use super::cause::{self, Failure, Retry};
use super::encode::Format;
use super::headers::header_map;
use super::runtime::ExportRuntime;
use super::wire::{Accepted, partial_success};
use crate::config::OtlpRoute;
use crate::config::endpoint::{Destination, Signal};
use crate::delivery::LossCause;
use crate::error::InitError;

/// The gRPC method of each signal's export.
fn method(signal: Signal) -> PathAndQuery {
    PathAndQuery::from_static(match signal {
        Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    })
}

/// The OTLP/gRPC sender of one route.
pub(crate) struct GrpcWire {
    channel: tonic::transport::Channel,
    metadata: MetadataMap,
    method: PathAndQuery,
    signal: Signal,
    gzip: bool,
    tls: bool,
    host: String,
    port: u16,
    described: String,
    probe: cause::ProbeMemo,
}

impl std::fmt::Debug for GrpcWire {
    // Metadata values are secrets: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcWire")
            .field("destination", &self.described)
            .finish_non_exhaustive()
    }
}

impl GrpcWire {
    /// The sender of `route`; its channel is built inside `runtime` and connects lazily.
    pub(crate) fn new(route: &OtlpRoute, runtime: &ExportRuntime) -> Result<Self, InitError> {
        let failed = |e: tonic::transport::Error| InitError::Exporter {
            signal: route.signal.as_str(),
            destination: route.describe(),
            source: Box::new(e),
        };
        let url = route.destination.url();
        let endpoint =
            tonic::transport::Endpoint::from_shared(url.as_str().trim_end_matches('/').to_owned())
                .map_err(failed)?;
        let tls = matches!(route.destination, Destination::Grpc { tls: true, .. });
        let endpoint = with_tls(endpoint, tls).map_err(failed)?;
        let channel = {
            let _enter = runtime.enter();
            endpoint
                .connect_timeout(route.timeout)
                .timeout(route.timeout)
                .connect_lazy()
        };
        Ok(Self {
            channel,
            metadata: MetadataMap::from_headers(header_map(route)?),
            method: method(route.signal),
            signal: route.signal,
            gzip: route.compression.is_some(),
            tls,
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port_or_known_default().unwrap_or(4317),
            described: route.describe(),
            probe: cause::ProbeMemo::default(),
        })
    }

    /// One attempt: the export call with `body` (an encoded protobuf request), waiting
    /// at most `timeout`.
    pub(crate) async fn send(&self, body: Bytes, timeout: Duration) -> Result<Accepted, Failure> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        if self.gzip {
            grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        if let Err(e) = grpc.ready().await {
            return Err(self.transport_failure(&e, timeout).await);
        }
        let mut request = tonic::Request::new(body);
        *request.metadata_mut() = self.metadata.clone();
        request.set_timeout(timeout);
        match grpc.unary(request, self.method.clone(), RawCodec).await {
            Ok(response) => Ok(partial_success(
                self.signal,
                &response.into_inner(),
                Format::Protobuf,
            )),
            Err(status) => Err(self.status_failure(&status, timeout).await),
        }
    }

    /// What a gRPC status means.
    async fn status_failure(&self, status: &Status, timeout: Duration) -> Failure {
        let message = cause::snippet(status.message().as_bytes(), cause::BODY_SNIPPET);
        let code_name = code_name(status.code());
        let grpc = |retry| {
            Failure::new(
                LossCause::GrpcStatus {
                    code: code_name.to_owned(),
                    message: message.clone(),
                },
                retry,
            )
        };
        match status.code() {
            Code::Unimplemented => Failure {
                not_accepted: Some(format!("gRPC status UNIMPLEMENTED from {}", self.described)),
                ..grpc(Retry::No)
            },
            Code::DeadlineExceeded => Failure::timeout(timeout),
            Code::Cancelled if message.to_ascii_lowercase().contains("timeout") => {
                Failure::timeout(timeout)
            }
            Code::Unavailable | Code::Unknown | Code::Internal | Code::Cancelled
                if std::error::Error::source(status).is_some() =>
            {
                // The call never got a gRPC answer: the connection's error says why.
                self.transport_failure(status, timeout).await
            }
            Code::Unavailable | Code::Aborted | Code::OutOfRange | Code::DataLoss => {
                grpc(Retry::Backoff)
            }
            _ => grpc(Retry::No),
        }
    }

    /// The cause of a call that got no gRPC answer.
    async fn transport_failure(
        &self,
        e: &(dyn std::error::Error + Send + Sync + 'static),
        timeout: Duration,
    ) -> Failure {
        let mut failure = cause::from_error_chain(e, self.tls);
        if let LossCause::Timeout { after } = &mut failure.cause {
            *after = timeout;
        }
        if !self.tls {
            self.probe
                .explain(&mut failure, &self.host, self.port, HTTP2_PREFACE, true)
                .await;
        }
        failure
    }
}

/// The first bytes an HTTP/2 client sends.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The upper-case name of a gRPC code, as the gRPC specification writes it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A codec that sends already encoded protobuf bytes and returns the answer's bytes: the
/// request is encoded once, on the dispatcher thread, and a retry costs no re-encoding.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[cfg(feature = "tls")]
fn with_tls(
    endpoint: tonic::transport::Endpoint,
    tls: bool,
) -> Result<tonic::transport::Endpoint, tonic::transport::Error> {
    if tls {
        endpoint.tls_config(tonic::transport::ClientTlsConfig::new().with_enabled_roots())
    } else {
        Ok(endpoint)
    }
}

/// Without the `tls` feature a TLS route never gets here (`Transport::of` in `otlp`).
#[cfg(not(feature = "tls"))]
fn with_tls(
    endpoint: tonic::transport::Endpoint,
    _tls: bool,
) -> Result<tonic::transport::Endpoint, tonic::transport::Error> {
    Ok(endpoint)
}

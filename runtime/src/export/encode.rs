//! OTLP encoding: a batch of spans, log records or a metrics collection becomes the bytes
//! of an export request (protobuf, or JSON for `http/json`, as opentelemetry-otlp writes
//! them with opentelemetry-proto's transforms and serde), gzip'ed when asked for HTTP
//! (tonic compresses gRPC messages itself). Runs on the dispatcher thread, so the export
//! runtime only moves bytes.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::trace::SpanData;

/// The body format of an export request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Protobuf (`http/protobuf` and gRPC).
    #[cfg_attr(not(any(feature = "grpc", feature = "http-proto")), allow(dead_code))]
    Protobuf,
    /// OTLP JSON (`http/json`).
    #[cfg(feature = "http-json")]
    Json,
}

/// Encodes requests for one route.
#[derive(Debug)]
pub(crate) struct Encoder {
    format: Format,
    gzip: bool,
    resource: ResourceAttributesWithSchema,
}

impl Encoder {
    pub(crate) fn new(format: Format, gzip: bool, resource: &Resource) -> Self {
        Self {
            format,
            gzip,
            resource: resource.into(),
        }
    }

    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }

    /// A trace export request holding `spans`.
    pub(crate) fn traces(&self, spans: Vec<SpanData>) -> Result<Bytes, String> {
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(spans, &self.resource),
        };
        self.finish(&request)
    }

    /// A logs export request holding `batch`.
    pub(crate) fn logs(&self, batch: &LogBatch<'_>) -> Result<Bytes, String> {
        let request = ExportLogsServiceRequest {
            resource_logs: group_logs_by_resource_and_scope(batch, &self.resource),
        };
        self.finish(&request)
    }

    /// A metrics export request holding `metrics` (their resource is the meter
    /// provider's).
    pub(crate) fn metrics(&self, metrics: &ResourceMetrics) -> Result<Bytes, String> {
        self.finish(&ExportMetricsServiceRequest::from(metrics))
    }

    fn finish<M: prost::Message + Serialize>(&self, request: &M) -> Result<Bytes, String> {
        let body = match self.format {
            Format::Protobuf => request.encode_to_vec(),
            #[cfg(feature = "http-json")]
            Format::Json => serde_json::to_vec(request)
                .map_err(|e| format!("could not encode OTLP/JSON: {e}"))?,
        };
        if !self.gzip {
            return Ok(Bytes::from(body));
        }
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::default(),
        );
        gz.write_all(&body)
            .and_then(|()| gz.finish())
            .map(Bytes::from)
            .map_err(|e| format!("could not gzip the request: {e}"))
    }
}

/// What [`Encoder::finish`] needs of a request for JSON (nothing without `http-json`).
#[cfg(feature = "http-json")]
pub(crate) trait Serialize: serde::Serialize {}
#[cfg(feature = "http-json")]
impl<T: serde::Serialize> Serialize for T {}
#[cfg(not(feature = "http-json"))]
pub(crate) trait Serialize {}
#[cfg(not(feature = "http-json"))]
impl<T> Serialize for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{
        SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message as _;
    use std::time::SystemTime;

    fn span(name: &'static str) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(1u128),
                SpanId::from(2u64),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.into(),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    #[test]
    fn traces_encode_to_a_request_that_decodes_back() {
        let resource = Resource::builder_empty().with_service_name("enc").build();
        let plain = Encoder::new(Format::Protobuf, false, &resource);
        let body = plain.traces(vec![span("a"), span("b")]).unwrap();
        let req = ExportTraceServiceRequest::decode(body).unwrap();
        assert_eq!(req.resource_spans[0].scope_spans[0].spans.len(), 2);

        let gz = Encoder::new(Format::Protobuf, true, &resource);
        let body = gz.traces(vec![span("a")]).unwrap();
        assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
    }

    #[cfg(feature = "http-json")]
    #[test]
    fn json_is_otlp_json() {
        let resource = Resource::builder_empty().with_service_name("enc").build();
        let json = Encoder::new(Format::Json, false, &resource);
        let body = json.traces(vec![span("a")]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"],
            "a"
        );
    }
}

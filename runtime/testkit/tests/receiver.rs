//! Exports real data with `opentelemetry-otlp` into the in-process OTLP receiver.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use llmetry_testkit::otlp::{
    GRPC_LOGS_PATH, GRPC_METRICS_PATH, GRPC_TRACES_PATH, OtlpReceiver, Payload, RawAnswer,
    RawServer, Received, Transport, attribute, hex, refusing_endpoint,
};
use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{
    Compression, LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig,
    WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

const WAIT: Duration = llmetry_testkit::HANG_GUARD;

fn org_header() -> HashMap<String, String> {
    HashMap::from([("X-Scope-OrgID".to_owned(), "rca".to_owned())])
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name("receiver-test")
        .build()
}

fn http_span_exporter(endpoint: &str, protocol: Protocol) -> SpanExporter {
    match SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_headers(org_header())
        .build()
    {
        Ok(e) => e,
        Err(e) => panic!("span exporter: {e}"),
    }
}

/// Ends one span named `name` through `exporter` and returns its (trace id, span id) bytes.
fn export_one_span(exporter: SpanExporter, name: &'static str) -> (Vec<u8>, Vec<u8>) {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(resource())
        .build();
    let tracer = provider.tracer("receiver-test");
    let ids = tracer.in_span(name, |cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new("answer", 42_i64));
        let sc = span.span_context().clone();
        (
            sc.trace_id().to_bytes().to_vec(),
            sc.span_id().to_bytes().to_vec(),
        )
    });
    if let Err(e) = provider.force_flush() {
        panic!("force_flush: {e}");
    }
    if let Err(e) = provider.shutdown() {
        panic!("shutdown: {e}");
    }
    ids
}

fn only_one(received: Vec<Received>) -> Received {
    assert_eq!(received.len(), 1, "expected one request: {received:#?}");
    match received.into_iter().next() {
        Some(r) => r,
        None => unreachable!(),
    }
}

fn assert_span_arrived(rx: &OtlpReceiver, name: &str, ids: &(Vec<u8>, Vec<u8>)) {
    let spans = rx.spans();
    assert_eq!(spans.len(), 1, "spans: {spans:#?}");
    let (res, span) = &spans[0];
    assert_eq!(span.name, name);
    assert_eq!(span.trace_id, ids.0, "trace id {}", hex(&span.trace_id));
    assert_eq!(span.span_id, ids.1, "span id {}", hex(&span.span_id));
    assert_eq!(attribute(&span.attributes, "answer").as_deref(), Some("42"));
    assert!(
        res.contains(&("service.name".to_owned(), "receiver-test".to_owned())),
        "resource: {res:?}"
    );
}

#[test]
fn span_over_http_protobuf() {
    let rx = OtlpReceiver::start();
    let ids = export_one_span(
        http_span_exporter(&rx.http_endpoint(), Protocol::HttpBinary),
        "proto-span",
    );
    let r = only_one(rx.wait_for(|r| !r.is_empty(), WAIT));
    assert_eq!(r.transport, Transport::Http);
    assert_eq!(r.path, "/v1/traces");
    assert_eq!(r.content_type.as_deref(), Some("application/x-protobuf"));
    assert_eq!(r.header("x-scope-orgid"), Some("rca"));
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k == "x-scope-orgid" && v == "rca")
    );
    assert!(matches!(r.body, Payload::Traces(_)));
    assert_span_arrived(&rx, "proto-span", &ids);
}

#[test]
fn span_over_http_json() {
    let rx = OtlpReceiver::start();
    let ids = export_one_span(
        http_span_exporter(&rx.http_endpoint(), Protocol::HttpJson),
        "json-span",
    );
    let r = only_one(rx.wait_for(|r| !r.is_empty(), WAIT));
    assert_eq!(r.transport, Transport::Http);
    assert_eq!(r.path, "/v1/traces");
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(r.header("X-Scope-OrgID"), Some("rca"));
    assert!(matches!(r.body, Payload::Traces(_)), "body: {:?}", r.body);
    assert_span_arrived(&rx, "json-span", &ids);
}

#[test]
fn span_over_grpc() {
    let rx = OtlpReceiver::start();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let ids = {
        let _guard = runtime.enter();
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert(
            "x-scope-orgid",
            tonic::metadata::MetadataValue::from_static("rca"),
        );
        let exporter = match SpanExporter::builder()
            .with_tonic()
            .with_endpoint(rx.grpc_endpoint())
            .with_metadata(metadata)
            .build()
        {
            Ok(e) => e,
            Err(e) => panic!("tonic exporter: {e}"),
        };
        export_one_span(exporter, "grpc-span")
    };
    let r = only_one(rx.wait_for(|r| !r.is_empty(), WAIT));
    assert_eq!(r.transport, Transport::Grpc);
    assert_eq!(r.path, GRPC_TRACES_PATH);
    assert_eq!(r.content_type.as_deref(), Some("application/grpc"));
    assert_eq!(r.header("x-scope-orgid"), Some("rca"));
    assert_span_arrived(&rx, "grpc-span", &ids);
}

#[test]
fn gzip_over_http_and_grpc() {
    let rx = OtlpReceiver::start();
    let exporter = match SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", rx.http_endpoint()))
        .with_compression(Compression::Gzip)
        .build()
    {
        Ok(e) => e,
        Err(e) => panic!("span exporter: {e}"),
    };
    export_one_span(exporter, "gzip-span");
    let r = only_one(rx.wait_for(|r| !r.is_empty(), WAIT));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert!(matches!(r.body, Payload::Traces(_)), "body: {:?}", r.body);

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    {
        let _guard = runtime.enter();
        let exporter = match SpanExporter::builder()
            .with_tonic()
            .with_endpoint(rx.grpc_endpoint())
            .with_compression(Compression::Gzip)
            .build()
        {
            Ok(e) => e,
            Err(e) => panic!("tonic exporter: {e}"),
        };
        export_one_span(exporter, "gzip-grpc-span");
    }
    let all = rx.wait_for(|r| r.len() == 2, WAIT);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].header("grpc-encoding"), Some("gzip"));
    let names: Vec<String> = rx.spans().into_iter().map(|(_, s)| s.name).collect();
    assert_eq!(names, ["gzip-span", "gzip-grpc-span"]);
}

#[test]
fn logs_over_http_json_and_grpc() {
    let rx = OtlpReceiver::start();
    let emit = |exporter: LogExporter, body: &'static str| {
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(exporter)
            .with_resource(resource())
            .build();
        let logger = provider.logger("receiver-test");
        let mut record = logger.create_log_record();
        record.set_body(AnyValue::from(body));
        record.set_severity_number(Severity::Warn);
        logger.emit(record);
        if let Err(e) = provider.shutdown() {
            panic!("logger shutdown: {e}");
        }
    };
    let http = match LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{}/v1/logs", rx.http_endpoint()))
        .build()
    {
        Ok(e) => e,
        Err(e) => panic!("log exporter: {e}"),
    };
    emit(http, "hello over json");

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    {
        let _guard = runtime.enter();
        let grpc = match LogExporter::builder()
            .with_tonic()
            .with_endpoint(rx.grpc_endpoint())
            .build()
        {
            Ok(e) => e,
            Err(e) => panic!("log exporter: {e}"),
        };
        emit(grpc, "hello over grpc");
    }

    let all = rx.wait_for(|r| r.len() == 2, WAIT);
    let paths: Vec<&str> = all.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/v1/logs", GRPC_LOGS_PATH]);
    let bodies: Vec<Option<String>> = rx
        .log_records()
        .into_iter()
        .map(|(res, l)| {
            assert!(
                res.iter()
                    .any(|(k, v)| k == "service.name" && v == "receiver-test")
            );
            assert_eq!(l.severity_number, Severity::Warn as i32);
            l.body.and_then(|b| match b.value {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                    Some(s)
                }
                _ => None,
            })
        })
        .collect();
    assert_eq!(
        bodies,
        [
            Some("hello over json".to_owned()),
            Some("hello over grpc".to_owned())
        ]
    );
}

#[test]
fn metrics_404_fault_only_on_metrics_path() {
    let rx = OtlpReceiver::builder()
        .respond_http("/v1/metrics", 404, Vec::new())
        .start();
    let exporter = match MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/metrics", rx.http_endpoint()))
        .with_headers(org_header())
        .build()
    {
        Ok(e) => e,
        Err(e) => panic!("metric exporter: {e}"),
    };
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .with_resource(resource())
        .build();
    provider
        .meter("receiver-test")
        .u64_counter("requests")
        .build()
        .add(1, &[]);
    let flushed = provider.force_flush();
    assert!(flushed.is_err(), "a 404 must fail the export: {flushed:?}");
    let _ = provider.shutdown();

    let received = rx.wait_for(|r| !r.is_empty(), WAIT);
    assert!(!received.is_empty());
    assert!(received.iter().all(|r| r.path == "/v1/metrics"));
    assert_eq!(received[0].header("x-scope-orgid"), Some("rca"));
    // The faulted request is still decoded and recorded.
    assert!(rx.metric_names().iter().any(|n| n == "requests"));

    // Other paths are unaffected.
    let (status, _, _) = raw_post(
        &rx.http_endpoint(),
        "/v1/traces",
        "application/x-protobuf",
        &[],
    );
    assert_eq!(status, 200);
}

#[test]
fn grpc_fault() {
    let rx = OtlpReceiver::builder()
        .respond_grpc(GRPC_METRICS_PATH, 14, "try later")
        .start();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let _guard = runtime.enter();
    let exporter = match MetricExporter::builder()
        .with_tonic()
        .with_endpoint(rx.grpc_endpoint())
        .build()
    {
        Ok(e) => e,
        Err(e) => panic!("metric exporter: {e}"),
    };
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .build();
    provider
        .meter("receiver-test")
        .u64_counter("grpc.requests")
        .build()
        .add(1, &[]);
    let flushed = provider.force_flush();
    assert!(flushed.is_err(), "UNAVAILABLE must fail the export");
    let _ = provider.shutdown();
    assert_eq!(rx.received()[0].path, GRPC_METRICS_PATH);
    assert!(rx.metric_names().iter().any(|n| n == "grpc.requests"));
}

// ---------------------------------------------------------------------------------------
// Raw HTTP, for what the exporters do not do.

/// Status, lower-cased headers and body of a raw HTTP response.
type RawResponse = (u16, Vec<(String, String)>, Vec<u8>);

/// POSTs `body` over HTTP/1.1 and returns (status, lower-cased headers, body).
fn raw_post(endpoint: &str, path: &str, content_type: &str, body: &[u8]) -> RawResponse {
    match try_raw_post(endpoint, path, content_type, &[], body, WAIT) {
        Ok(r) => r,
        Err(e) => panic!("POST {endpoint}{path}: {e}"),
    }
}

fn try_raw_post(
    endpoint: &str,
    path: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<RawResponse> {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(timeout))?;
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, rest.as_bytes().to_vec()))
}

/// An OTLP/JSON body written by hand after the spec's example (upper-case hex ids, integers
/// as strings, enum as number), not by the Rust exporter.
const SPEC_JSON: &str = r#"{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "hand-made"}}]},
    "scopeSpans": [{
      "scope": {"name": "manual", "version": "1.0.0"},
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "",
        "name": "I'm a server span",
        "kind": 2,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        "attributes": [
          {"key": "my.int", "value": {"intValue": "123"}},
          {"key": "my.double", "value": {"doubleValue": 1.5}},
          {"key": "my.bool", "value": {"boolValue": true}},
          {"key": "my.list", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 2}]}}}
        ],
        "status": {}
      }]
    }]
  }]
}"#;

#[test]
fn hand_written_otlp_json_decodes() {
    let rx = OtlpReceiver::start();
    let (status, headers, _) = raw_post(
        &rx.http_endpoint(),
        "/v1/traces",
        "application/json",
        SPEC_JSON.as_bytes(),
    );
    assert_eq!(status, 200, "{:?}", rx.received());
    assert!(headers.contains(&("content-type".to_owned(), "application/json".to_owned())));
    let spans = rx.spans();
    assert_eq!(spans.len(), 1);
    let (res, span) = &spans[0];
    assert_eq!(res, &[("service.name".to_owned(), "hand-made".to_owned())]);
    assert_eq!(hex(&span.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(hex(&span.span_id), "eee19b7ec3c1b174");
    assert!(span.parent_span_id.is_empty());
    assert_eq!(span.kind, 2);
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(
        llmetry_testkit::otlp::attributes(&span.attributes),
        [
            ("my.int".to_owned(), "123".to_owned()),
            ("my.double".to_owned(), "1.5".to_owned()),
            ("my.bool".to_owned(), "true".to_owned()),
            ("my.list".to_owned(), "[a, 2]".to_owned()),
        ]
    );
}

#[test]
fn gzip_json_and_bad_bodies() {
    let rx = OtlpReceiver::start();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    if let Err(e) = gz.write_all(SPEC_JSON.as_bytes()) {
        panic!("gzip: {e}");
    }
    let gz = match gz.finish() {
        Ok(b) => b,
        Err(e) => panic!("gzip: {e}"),
    };
    let post = |ct: &str, extra: &[(&str, &str)], body: &[u8]| match try_raw_post(
        &rx.http_endpoint(),
        "/v1/traces",
        ct,
        extra,
        body,
        WAIT,
    ) {
        Ok((status, _, _)) => status,
        Err(e) => panic!("post: {e}"),
    };
    assert_eq!(
        post("application/json", &[("Content-Encoding", "gzip")], &gz),
        200
    );
    assert_eq!(post("application/json", &[], b"{not json"), 400);
    assert_eq!(post("text/plain", &[], b"hello"), 415);
    let r = rx.received();
    assert_eq!(r.len(), 3);
    assert!(matches!(r[0].body, Payload::Traces(_)));
    assert_eq!(r[1].body, Payload::Other(b"{not json".to_vec()));
    assert_eq!(r[2].content_type.as_deref(), Some("text/plain"));
}

#[test]
fn wrong_path_is_recorded_and_404() {
    let rx = OtlpReceiver::start();
    let (status, _, _) = raw_post(
        &rx.http_endpoint(),
        "/v1/trace",
        "application/x-protobuf",
        b"x",
    );
    assert_eq!(status, 404);
    let r = only_one(rx.received());
    assert_eq!(r.path, "/v1/trace");
    assert_eq!(r.body, Payload::Other(b"x".to_vec()));
}

#[test]
fn fixed_503_with_retry_after() {
    let rx = OtlpReceiver::builder()
        .respond_http(
            "/v1/traces",
            503,
            vec![("Retry-After".to_owned(), "1".to_owned())],
        )
        .start();
    let (status, headers, _) = raw_post(
        &rx.http_endpoint(),
        "/v1/traces",
        "application/x-protobuf",
        &[],
    );
    assert_eq!(status, 503);
    assert!(headers.contains(&("retry-after".to_owned(), "1".to_owned())));
    assert_eq!(rx.received().len(), 1);
}

#[test]
fn hang_never_answers() {
    let rx = OtlpReceiver::builder().hang().start();
    let result = try_raw_post(
        &rx.http_endpoint(),
        "/v1/traces",
        "application/x-protobuf",
        &[],
        &[],
        Duration::from_millis(300),
    );
    match result {
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{e:?}"
        ),
        Ok(r) => panic!("expected no answer, got {r:?}"),
    }
    // The request itself was read and recorded.
    assert_eq!(rx.wait_for(|r| !r.is_empty(), WAIT).len(), 1);
}

#[test]
fn refusing_endpoint_refuses_and_drop_stops_the_receiver() {
    let refused = refusing_endpoint();
    let err = TcpStream::connect(refused.trim_start_matches("http://"));
    assert!(
        matches!(&err, Err(e) if e.kind() == ErrorKind::ConnectionRefused),
        "{err:?}"
    );

    let rx = OtlpReceiver::start();
    let http = rx.http_endpoint();
    let grpc = rx.grpc_endpoint();
    TcpStream::connect(http.trim_start_matches("http://"))
        .expect("the receiver accepts connections");
    drop(rx);
    for ep in [http, grpc] {
        let err = TcpStream::connect(ep.trim_start_matches("http://"));
        assert!(
            matches!(&err, Err(e) if e.kind() == ErrorKind::ConnectionRefused),
            "{ep}: {err:?}"
        );
    }
}

#[test]
fn fixed_status_with_a_body() {
    let body = br#"{"detail":[{"type":"missing","loc":["header","x-mlflow-experiment-id"]}]}"#;
    let rx = OtlpReceiver::builder()
        .respond_http_with_body("/v1/traces", 422, "application/json", body)
        .start();
    let (status, headers, got) = raw_post(
        &rx.http_endpoint(),
        "/v1/traces",
        "application/x-protobuf",
        &[],
    );
    assert_eq!(status, 422);
    assert!(
        headers.contains(&("content-type".to_owned(), "application/json".to_owned())),
        "{headers:?}"
    );
    assert_eq!(got, body.to_vec());
    // Other paths are unaffected.
    let (status, _, _) = raw_post(
        &rx.http_endpoint(),
        "/v1/logs",
        "application/x-protobuf",
        &[],
    );
    assert_eq!(status, 200);
}

#[test]
fn slow_answers_come_after_the_delay() {
    let delay = Duration::from_millis(400);
    let rx = OtlpReceiver::builder().slow(delay).start();
    let began = std::time::Instant::now();
    let (status, _, _) = raw_post(
        &rx.http_endpoint(),
        "/v1/traces",
        "application/x-protobuf",
        &[],
    );
    assert_eq!(status, 200);
    assert!(
        began.elapsed() >= delay,
        "answered after {:?}",
        began.elapsed()
    );
    // Too short a wait sees no answer: the request is recorded before the delay.
    let early = try_raw_post(
        &rx.http_endpoint(),
        "/v1/logs",
        "application/x-protobuf",
        &[],
        &[],
        Duration::from_millis(50),
    );
    assert!(early.is_err(), "{early:?}");
    assert_eq!(rx.wait_for(|r| r.len() == 2, WAIT).len(), 2);
}

#[test]
fn raw_servers_answer_garbage_plaintext_or_nothing() {
    let exchange = |server: &RawServer, timeout: Duration| -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(server.addr())?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"\x16\x03\x01 a TLS hello, or any request")?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        Ok(answer)
    };
    let garbage = RawServer::start(RawAnswer::Garbage(b"\x00\x01not http".to_vec()));
    assert_eq!(
        exchange(&garbage, WAIT).expect("garbage"),
        b"\x00\x01not http"
    );
    assert_eq!(garbage.first_bytes()[0][0], 0x16);

    let plain = RawServer::start(RawAnswer::PlaintextHttp);
    let answer = exchange(&plain, WAIT).expect("plaintext");
    assert!(answer.starts_with(b"HTTP/1.1 400"), "{answer:?}");

    let silent = RawServer::start(RawAnswer::Silent);
    let err = exchange(&silent, Duration::from_millis(200)).expect_err("no answer");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err:?}"
    );
    assert!(silent.http_endpoint().starts_with("http://127.0.0.1:"));
}

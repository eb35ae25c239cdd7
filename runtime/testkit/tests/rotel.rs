//! End to end through a real, independently written collector: `opentelemetry-otlp`
//! exports into rotel (OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON), rotel forwards
//! to the in-process receiver, and the tests assert on what arrived there.
//!
//! Needs the rotel binary (`.ci/install-rotel`). Without it these tests fail, unless
//! `LLMETRY_SKIP_ROTEL=1`, which turns them into loud no-ops.

use std::time::{Duration, Instant};

use llmetry_testkit::otlp::{
    GRPC_LOGS_PATH, GRPC_METRICS_PATH, GRPC_TRACES_PATH, OtlpReceiver, Received, Transport,
    attribute,
};
use llmetry_testkit::rotel::{Forward, Rotel};
use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

const WAIT: Duration = llmetry_testkit::HANG_GUARD;
const SERVICE: &str = "rotel-e2e";

/// Starts rotel forwarding to `rx` with `protocol`; `None` only when it is not installed
/// and `LLMETRY_SKIP_ROTEL=1`.
fn rotel(rx: &OtlpReceiver, protocol: Forward) -> Option<Rotel> {
    if let Err(e) = Rotel::binary() {
        if std::env::var("LLMETRY_SKIP_ROTEL").as_deref() == Ok("1") {
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !! SKIPPED (LLMETRY_SKIP_ROTEL=1): no end-to-end test through rotel ran.\n\
                 !! {e}\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            return None;
        }
        panic!("{e}\n(set LLMETRY_SKIP_ROTEL=1 to skip the rotel end-to-end tests)");
    }
    let endpoint = match protocol {
        Forward::Grpc => rx.grpc_endpoint(),
        Forward::Http => rx.http_endpoint(),
    };
    match Rotel::start_forwarding(&endpoint, protocol) {
        Ok(r) => {
            eprintln!(
                "rotel {} (pid {}) ready in {:?}: grpc {}, http {}, forwarding over {protocol:?} to {endpoint}",
                r.binary_path().display(),
                r.pid(),
                r.started_in(),
                r.grpc_endpoint(),
                r.http_endpoint()
            );
            Some(r)
        }
        Err(e) => panic!("rotel did not start: {e}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    }
}

fn resource() -> Resource {
    Resource::builder_empty().with_service_name(SERVICE).build()
}

/// How an exporter reaches rotel.
#[derive(Debug, Clone, Copy)]
enum Via {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl Via {
    fn http_protocol(self) -> Protocol {
        match self {
            Via::HttpJson => Protocol::HttpJson,
            Via::HttpProtobuf | Via::Grpc => Protocol::HttpBinary,
        }
    }
}

/// Builds an exporter of any signal for `via` (gRPC needs an entered tokio runtime).
macro_rules! exporter {
    ($kind:ident, $rotel:expr, $via:expr, $path:literal) => {{
        let built = match $via {
            Via::Grpc => $kind::builder()
                .with_tonic()
                .with_endpoint($rotel.grpc_endpoint())
                .build(),
            via => $kind::builder()
                .with_http()
                .with_protocol(via.http_protocol())
                .with_endpoint(format!("{}{}", $rotel.http_endpoint(), $path))
                .build(),
        };
        match built {
            Ok(e) => e,
            Err(e) => panic!("{} over {:?}: {e}", stringify!($kind), $via),
        }
    }};
}

/// Ends one span named `name` through rotel over `via`; returns its trace and span ids.
fn export_span(rotel: &Rotel, via: Via, name: &'static str) -> (Vec<u8>, Vec<u8>) {
    let exporter = exporter!(SpanExporter, rotel, via, "/v1/traces");
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(resource())
        .build();
    let ids = provider.tracer("rotel-e2e").in_span(name, |cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new("via", format!("{via:?}")));
        let sc = span.span_context().clone();
        (
            sc.trace_id().to_bytes().to_vec(),
            sc.span_id().to_bytes().to_vec(),
        )
    });
    if let Err(e) = provider.shutdown() {
        panic!("span export over {via:?}: {e}");
    }
    ids
}

/// Emits one log record with body `body` through rotel over `via`.
fn export_log(rotel: &Rotel, via: Via, body: &'static str) {
    let exporter = exporter!(LogExporter, rotel, via, "/v1/logs");
    let provider = SdkLoggerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(resource())
        .build();
    let logger = provider.logger("rotel-e2e");
    let mut record = logger.create_log_record();
    record.set_body(AnyValue::from(body));
    record.set_severity_number(Severity::Warn);
    logger.emit(record);
    if let Err(e) = provider.shutdown() {
        panic!("log export over {via:?}: {e}");
    }
}

/// Lets `record` record on a meter and exports the result through rotel over `via`.
fn export_metrics(rotel: &Rotel, via: Via, record: impl FnOnce(&Meter, &[KeyValue])) {
    let exporter = exporter!(MetricExporter, rotel, via, "/v1/metrics");
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .with_resource(resource())
        .build();
    record(
        &provider.meter("rotel-e2e"),
        &[KeyValue::new("via", format!("{via:?}"))],
    );
    // Shutdown collects and exports once (a force_flush before it would export the
    // cumulative sums a second time).
    if let Err(e) = provider.shutdown() {
        panic!("metric export over {via:?}: {e}");
    }
}

/// The value of the first data point of sum `metric`, if it is a sum with one.
fn sum_value(metric: &Metric) -> Option<number_data_point::Value> {
    match &metric.data {
        Some(metric::Data::Sum(sum)) => sum.data_points.first().and_then(|p| p.value),
        _ => None,
    }
}

fn span_names(rx: &OtlpReceiver) -> Vec<String> {
    rx.spans().into_iter().map(|(_, s)| s.name).collect()
}

fn log_bodies(rx: &OtlpReceiver) -> Vec<String> {
    rx.log_records()
        .into_iter()
        .filter_map(|(_, l)| match l.body?.value? {
            any_value::Value::StringValue(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Waits until `pred` holds, else fails with what did arrive and rotel's output.
fn wait_for(
    rx: &OtlpReceiver,
    rotel: &Rotel,
    what: &str,
    pred: impl Fn(&OtlpReceiver) -> bool,
) -> Duration {
    let began = Instant::now();
    rx.wait_for(|_| pred(rx), WAIT);
    let took = began.elapsed();
    assert!(
        pred(rx),
        "{what} did not arrive through rotel within {WAIT:?}.\nspans: {:?}\nlogs: {:?}\nmetrics: {:?}\nrequests: {:#?}\nrotel output:\n{}",
        span_names(rx),
        log_bodies(rx),
        rx.metric_names(),
        rx.received()
            .iter()
            .map(|r| (r.transport, r.path.clone()))
            .collect::<Vec<_>>(),
        rotel.output()
    );
    eprintln!("{what}: arrived {took:?} after the export returned");
    took
}

fn assert_all_forwarded_as(received: &[Received], transport: Transport) {
    for r in received {
        assert_eq!(r.transport, transport, "{r:#?}");
    }
}

#[test]
fn spans_over_grpc_http_protobuf_and_http_json_reach_the_receiver_through_rotel() {
    let rx = OtlpReceiver::start();
    let Some(rotel) = rotel(&rx, Forward::Grpc) else {
        return;
    };
    let runtime = runtime();
    let _guard = runtime.enter();

    let sent = [
        (Via::Grpc, "span-via-grpc"),
        (Via::HttpProtobuf, "span-via-http-protobuf"),
        (Via::HttpJson, "span-via-http-json"),
    ];
    for (via, name) in sent {
        let ids = export_span(&rotel, via, name);
        wait_for(&rx, &rotel, name, |rx| {
            span_names(rx).iter().any(|n| n == name)
        });
        let spans = rx.spans();
        let (res, span) = match spans.iter().find(|(_, s)| s.name == name) {
            Some(found) => found,
            None => unreachable!(),
        };
        assert_eq!(span.trace_id, ids.0, "{name}: trace id");
        assert_eq!(span.span_id, ids.1, "{name}: span id");
        assert_eq!(
            attribute(&span.attributes, "via").as_deref(),
            Some(format!("{via:?}").as_str())
        );
        assert!(
            res.contains(&("service.name".to_owned(), SERVICE.to_owned())),
            "{name}: resource {res:?}"
        );
    }

    let mut names = span_names(&rx);
    names.sort();
    assert_eq!(
        names,
        [
            "span-via-grpc",
            "span-via-http-json",
            "span-via-http-protobuf"
        ],
        "each span exactly once"
    );
    let received = rx.received();
    assert_all_forwarded_as(&received, Transport::Grpc);
    assert!(received.iter().all(|r| r.path == GRPC_TRACES_PATH));
}

#[test]
fn logs_and_metrics_reach_the_receiver_through_rotel() {
    let rx = OtlpReceiver::start();
    let Some(rotel) = rotel(&rx, Forward::Grpc) else {
        return;
    };
    let runtime = runtime();
    let _guard = runtime.enter();

    export_log(&rotel, Via::Grpc, "log via grpc");
    export_log(&rotel, Via::HttpProtobuf, "log via http/protobuf");
    export_log(&rotel, Via::HttpJson, "log via http/json");
    export_metrics(&rotel, Via::Grpc, |m, attrs| {
        m.u64_counter("metric.via.grpc").build().add(3, attrs);
    });
    export_metrics(&rotel, Via::HttpProtobuf, |m, attrs| {
        m.u64_counter("metric.via.http_protobuf")
            .build()
            .add(4, attrs);
    });
    // A float: rotel loses integer values that arrive as OTLP/JSON (see
    // `rotel_drops_integer_metric_values_sent_as_otlp_json`).
    export_metrics(&rotel, Via::HttpJson, |m, attrs| {
        m.f64_counter("metric.via.http_json")
            .build()
            .add(5.5, attrs);
    });

    wait_for(&rx, &rotel, "3 log records and 3 metrics", |rx| {
        let names = rx.metric_names();
        log_bodies(rx).len() >= 3
            && [
                "metric.via.grpc",
                "metric.via.http_protobuf",
                "metric.via.http_json",
            ]
            .iter()
            .all(|m| names.iter().any(|n| n == m))
    });

    let mut bodies = log_bodies(&rx);
    bodies.sort();
    assert_eq!(
        bodies,
        ["log via grpc", "log via http/json", "log via http/protobuf"]
    );
    for (res, log) in rx.log_records() {
        assert_eq!(log.severity_number, Severity::Warn as i32);
        assert!(res.contains(&("service.name".to_owned(), SERVICE.to_owned())));
    }

    let mut names = rx.metric_names();
    names.sort();
    assert_eq!(
        names,
        [
            "metric.via.grpc",
            "metric.via.http_json",
            "metric.via.http_protobuf"
        ]
    );
    for (res, metric) in rx.metrics() {
        assert!(res.contains(&("service.name".to_owned(), SERVICE.to_owned())));
        let expected = match metric.name.as_str() {
            "metric.via.grpc" => number_data_point::Value::AsInt(3),
            "metric.via.http_protobuf" => number_data_point::Value::AsInt(4),
            _ => number_data_point::Value::AsDouble(5.5),
        };
        assert_eq!(sum_value(&metric), Some(expected), "{metric:#?}");
    }

    let received = rx.received();
    assert_all_forwarded_as(&received, Transport::Grpc);
    assert!(
        received
            .iter()
            .all(|r| r.path == GRPC_LOGS_PATH || r.path == GRPC_METRICS_PATH),
        "{received:#?}"
    );
}

#[test]
fn rotel_can_forward_over_otlp_http_too() {
    let rx = OtlpReceiver::start();
    let Some(rotel) = rotel(&rx, Forward::Http) else {
        return;
    };
    let runtime = runtime();
    let _guard = runtime.enter();

    export_span(&rotel, Via::Grpc, "span-forwarded-over-http");
    export_log(&rotel, Via::HttpJson, "log forwarded over http");
    export_metrics(&rotel, Via::HttpProtobuf, |m, attrs| {
        m.u64_counter("metric.forwarded.over.http")
            .build()
            .add(1, attrs);
    });
    wait_for(&rx, &rotel, "span, log and metric", |rx| {
        !rx.spans().is_empty() && !rx.log_records().is_empty() && !rx.metric_names().is_empty()
    });
    assert_eq!(span_names(&rx), ["span-forwarded-over-http"]);
    assert_eq!(log_bodies(&rx), ["log forwarded over http"]);
    assert_eq!(rx.metric_names(), ["metric.forwarded.over.http"]);
    let (_, metric) = &rx.metrics()[0];
    assert_eq!(sum_value(metric), Some(number_data_point::Value::AsInt(1)));
    let received = rx.received();
    assert_all_forwarded_as(&received, Transport::Http);
    let mut paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/v1/logs", "/v1/metrics", "/v1/traces"]);
}

/// Pins a limitation of the rotel version `.ci/install-rotel` installs: its OTLP/JSON
/// decoder does not accept 64-bit integers written as JSON strings (which is how the OTLP
/// JSON encoding, and so `opentelemetry-otlp`, writes them) in `asInt` and in a histogram's
/// `count`/`bucketCounts`. It answers 200 but forwards an integer sum without its value
/// and a histogram without any data. Timestamps and `intValue` attributes are fine, and so
/// is everything over OTLP/gRPC and OTLP/HTTP protobuf.
///
/// When this test fails after a rotel upgrade, the limitation is gone: export integer
/// metrics over http/json in the tests above and delete this one.
#[test]
fn rotel_drops_integer_metric_values_sent_as_otlp_json() {
    let rx = OtlpReceiver::start();
    let Some(rotel) = rotel(&rx, Forward::Grpc) else {
        return;
    };
    export_metrics(&rotel, Via::HttpJson, |m, attrs| {
        m.u64_counter("json.int.sum").build().add(7, attrs);
        m.f64_histogram("json.histogram").build().record(2.5, attrs);
    });
    wait_for(&rx, &rotel, "the two metrics", |rx| {
        rx.metric_names().len() >= 2
    });
    for (_, metric) in rx.metrics() {
        match metric.name.as_str() {
            "json.int.sum" => assert_eq!(
                sum_value(&metric),
                None,
                "rotel now keeps integer values sent as OTLP/JSON: {metric:#?}"
            ),
            "json.histogram" => assert_eq!(
                metric.data, None,
                "rotel now keeps histograms sent as OTLP/JSON: {metric:#?}"
            ),
            other => panic!("unexpected metric {other}"),
        }
    }
}

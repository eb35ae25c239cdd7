//! One instrumented unit of work producing all three signals, and the checks that each
//! arrived at an [`OtlpReceiver`] with the right shape, shared by the pipeline tests.

use llmetry::{task, workflow};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

use crate::otlp::{OtlpReceiver, Payload, Transport, attribute, hex};

/// Trace and span id (hex) of the task span, as seen from inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskIds {
    /// Trace id.
    pub trace_id: String,
    /// Span id of `pipeline_task.task`.
    pub span_id: String,
}

#[task(name = "pipeline_task")]
fn pipeline_task(prompt: &str) -> TaskIds {
    let cx = opentelemetry::Context::current();
    let sc = cx.span().span_context().clone();
    tracing::info!(prompt_chars = prompt.len() as u64, "pipeline task ran");
    log::warn!("a record from the log crate");
    // What an exporter's own HTTP stack logs must never become telemetry.
    tracing::info!(target: "hyper::client::pool", "exporter-internal noise");
    tracing::info!(target: "opentelemetry_sdk", "exporter-internal noise");
    let meter = opentelemetry::global::meter("llmetry-tests");
    meter
        .u64_histogram("gen_ai.client.token.usage")
        .with_unit("token")
        .build()
        .record(
            100,
            &[opentelemetry::KeyValue::new("gen_ai.token.type", "input")],
        );
    meter
        .f64_histogram("gen_ai.client.operation.duration")
        .with_unit("s")
        .build()
        .record(0.3, &[]);
    meter.u64_counter("pipeline.runs").build().add(1, &[]);
    TaskIds {
        trace_id: sc.trace_id().to_string(),
        span_id: sc.span_id().to_string(),
    }
}

#[workflow(name = "pipeline_wf")]
fn pipeline_wf() -> TaskIds {
    llmetry::set_association_properties([("user_id", "u-1")]);
    pipeline_task("hello")
}

/// Runs the workflow (two entity spans, one log event, three metric instruments).
pub fn run_work() -> TaskIds {
    pipeline_wf()
}

/// What a pipeline test expects at the receiver.
#[derive(Debug, Clone)]
pub struct Expect {
    /// `Http` or `Grpc`.
    pub transport: Transport,
    /// Content type of HTTP requests (`application/x-protobuf` / `application/json`).
    pub content_type: &'static str,
    /// Headers every trace and log request must carry (lower-case names).
    pub trace_and_log_headers: Vec<(&'static str, &'static str)>,
    /// Headers every metrics request must carry (lower-case names).
    pub metric_headers: Vec<(&'static str, &'static str)>,
    /// Resource attributes every signal must carry.
    pub resource: Vec<(&'static str, &'static str)>,
}

/// Waits (bounded) for all three signals and checks paths, content types, headers,
/// resource, span tree, log correlation and metric bucket boundaries.
pub fn assert_delivered(rx: &OtlpReceiver, ids: &TaskIds, expect: &Expect) {
    let got = rx.wait_for(
        |r| {
            let has = |f: fn(&Payload) -> bool| r.iter().any(|x| f(&x.body));
            has(|p| matches!(p, Payload::Traces(_)))
                && has(|p| matches!(p, Payload::Metrics(_)))
                && has(|p| matches!(p, Payload::Logs(_)))
        },
        crate::HANG_GUARD,
    );
    for r in &got {
        assert_eq!(r.transport, expect.transport, "{}", r.path);
        let (expected_path, headers) = match (&r.body, r.transport) {
            (Payload::Traces(_), Transport::Http) => ("/v1/traces", &expect.trace_and_log_headers),
            (Payload::Logs(_), Transport::Http) => ("/v1/logs", &expect.trace_and_log_headers),
            (Payload::Metrics(_), Transport::Http) => ("/v1/metrics", &expect.metric_headers),
            (Payload::Traces(_), Transport::Grpc) => {
                (crate::otlp::GRPC_TRACES_PATH, &expect.trace_and_log_headers)
            }
            (Payload::Logs(_), Transport::Grpc) => {
                (crate::otlp::GRPC_LOGS_PATH, &expect.trace_and_log_headers)
            }
            (Payload::Metrics(_), Transport::Grpc) => {
                (crate::otlp::GRPC_METRICS_PATH, &expect.metric_headers)
            }
            (Payload::Other(b), _) => {
                panic!("undecodable request to {}: {} bytes", r.path, b.len())
            }
        };
        assert_eq!(r.path, expected_path);
        if r.transport == Transport::Http {
            assert_eq!(
                r.content_type.as_deref(),
                Some(expect.content_type),
                "{}",
                r.path
            );
        }
        for (k, v) in headers {
            assert_eq!(r.header(k), Some(*v), "{} must carry {k}", r.path);
        }
        let others: Vec<&str> = expect
            .trace_and_log_headers
            .iter()
            .chain(&expect.metric_headers)
            .map(|(k, _)| *k)
            .filter(|k| !headers.iter().any(|(h, _)| h == k))
            .collect();
        for k in others {
            assert_eq!(r.header(k), None, "{} must not carry {k}", r.path);
        }
    }

    // Spans: the tree and the enrichment.
    let spans = rx.spans();
    let task = spans.iter().find(|(_, s)| s.name == "pipeline_task.task");
    let wf = spans.iter().find(|(_, s)| s.name == "pipeline_wf.workflow");
    let (Some((res, task)), Some((_, wf))) = (task, wf) else {
        panic!(
            "missing spans: {:?}",
            spans.iter().map(|(_, s)| &s.name).collect::<Vec<_>>()
        )
    };
    assert_eq!(hex(&task.trace_id), ids.trace_id);
    assert_eq!(hex(&task.span_id), ids.span_id);
    assert_eq!(task.parent_span_id, wf.span_id);
    assert_eq!(
        attribute(&task.attributes, "traceloop.workflow.name").as_deref(),
        Some("pipeline_wf")
    );
    assert_eq!(
        attribute(&task.attributes, "traceloop.association.properties.user_id").as_deref(),
        Some("u-1")
    );
    for (k, v) in &expect.resource {
        assert!(
            res.iter().any(|(rk, rv)| rk == k && rv == v),
            "span resource lacks {k}={v}: {res:?}"
        );
    }

    // Logs: correlated with the task span.
    let logs = rx.log_records();
    let log = logs.iter().find(|(_, l)| {
        l.body
            .as_ref()
            .and_then(|b| b.value.as_ref())
            .is_some_and(|v| format!("{v:?}").contains("pipeline task ran"))
    });
    let Some((log_res, log)) = log else {
        panic!("the task's log record did not arrive: {logs:?}")
    };
    assert_eq!(hex(&log.trace_id), ids.trace_id, "log carries the trace id");
    assert_eq!(
        hex(&log.span_id),
        ids.span_id,
        "log carries the span id of the span it was emitted in"
    );
    assert_eq!(
        attribute(&log.attributes, "prompt_chars").as_deref(),
        Some("5")
    );
    for (k, v) in &expect.resource {
        assert!(
            log_res.iter().any(|(rk, rv)| rk == k && rv == v),
            "log resource lacks {k}={v}"
        );
    }

    // Metrics: the GenAI views' bucket boundaries.
    let metrics = rx.metrics();
    let boundaries = |name: &str| -> Vec<f64> {
        metrics
            .iter()
            .find(|(_, m)| m.name == name)
            .and_then(|(_, m)| match &m.data {
                Some(Data::Histogram(h)) => {
                    h.data_points.first().map(|p| p.explicit_bounds.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("histogram {name} missing: {:?}", rx.metric_names()))
    };
    assert_eq!(
        boundaries("gen_ai.client.token.usage"),
        llmetry::TOKEN_USAGE_BOUNDARIES.to_vec()
    );
    // As Python 0.62.4 writes it: the only GenAI view is the token-usage one; the duration
    // histogram keeps the SDK's default buckets (issue 10).
    assert_eq!(
        boundaries("gen_ai.client.operation.duration"),
        vec![
            0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0,
            7500.0, 10000.0
        ]
    );
    assert!(rx.metric_names().contains(&"pipeline.runs".to_owned()));
    let (metric_res, _) = &metrics[0];
    for (k, v) in &expect.resource {
        assert!(
            metric_res.iter().any(|(rk, rv)| rk == k && rv == v),
            "metric resource lacks {k}={v}"
        );
    }
}

//! All three signals over OTLP http/json, installed inside a multi-thread tokio runtime,
//! configured from the (injected) environment only.

use llmetry_testkit::otlp::{OtlpReceiver, Transport};
use llmetry_testkit::scenario::{Expect, assert_delivered, run_work};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_from_the_environment() {
    let rx = OtlpReceiver::start();
    let env = llmetry::EnvSource::from_pairs([
        ("OTEL_SERVICE_NAME", "pipeline-json".to_owned()),
        ("TRACELOOP_BASE_URL", rx.http_endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".to_owned()),
        ("TRACELOOP_HEADERS", "X-Scope-OrgID=rca".to_owned()),
        (
            "TRACELOOP_METRICS_HEADERS",
            "THANOS-TENANT=team-a".to_owned(),
        ),
        ("TRACELOOP_LOGGING_ENABLED", "true".to_owned()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=staging,team=llm%20ops".to_owned(),
        ),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip".to_owned()),
    ]);
    let telemetry = llmetry::init().env_source(env).install().expect("install");
    let ids = tokio::task::spawn_blocking(run_work)
        .await
        .expect("the work ran");
    telemetry.flush().expect("flush");
    telemetry.shutdown().expect("shutdown");
    assert_delivered(
        &rx,
        &ids,
        &Expect {
            transport: Transport::Http,
            content_type: "application/json",
            trace_and_log_headers: vec![("x-scope-orgid", "rca")],
            metric_headers: vec![("thanos-tenant", "team-a")],
            resource: vec![
                ("service.name", "pipeline-json"),
                ("deployment.environment", "staging"),
                ("team", "llm ops"),
            ],
        },
    );
}

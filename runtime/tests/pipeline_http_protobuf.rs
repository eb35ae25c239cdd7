//! Traces, metrics and logs over OTLP http/protobuf to the in-process receiver, configured
//! from the builder, installed outside any async runtime.

use llmetry_testkit::otlp::{OtlpReceiver, Transport};
use llmetry_testkit::scenario::{Expect, assert_delivered, run_work};

#[test]
fn all_three_signals_with_per_signal_headers() {
    let rx = OtlpReceiver::start();
    let telemetry = llmetry::init()
        .app_name("pipeline-tests")
        .api_endpoint(rx.http_endpoint())
        .headers([("X-Scope-OrgID", "rca")])
        .metrics_headers([("THANOS-TENANT", "team-a")])
        .logging_enabled(true)
        .disable_batch(true)
        .resource_attributes([("deployment.environment", "test")])
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");
    let ids = run_work();
    telemetry.shutdown().expect("shutdown");
    assert_delivered(
        &rx,
        &ids,
        &Expect {
            transport: Transport::Http,
            content_type: "application/x-protobuf",
            trace_and_log_headers: vec![("x-scope-orgid", "rca")],
            metric_headers: vec![("thanos-tenant", "team-a")],
            resource: vec![
                ("service.name", "pipeline-tests"),
                ("deployment.environment", "test"),
            ],
        },
    );
}

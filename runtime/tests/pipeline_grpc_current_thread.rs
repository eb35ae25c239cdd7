//! All three signals over OTLP/gRPC (`grpc://`, plaintext), installed and shut down inside a
//! current-thread tokio runtime: the exporters run on llmetry's own runtime, so neither
//! export nor shutdown can deadlock the app's single thread.

use llmetry_testkit::otlp::{OtlpReceiver, Transport};
use llmetry_testkit::scenario::{Expect, assert_delivered, run_work};

#[tokio::test(flavor = "current_thread")]
async fn grpc_from_a_current_thread_runtime() {
    let rx = OtlpReceiver::start();
    let port = rx
        .grpc_endpoint()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();
    let telemetry = llmetry::init()
        .app_name("pipeline-grpc")
        .api_endpoint(format!("grpc://127.0.0.1:{port}"))
        .headers([("X-Scope-OrgID", "rca")])
        .metrics_headers([("THANOS-TENANT", "team-a")])
        .logging_enabled(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");
    let ids = run_work();
    tokio::task::yield_now().await;
    // Called from async code on the only runtime thread.
    telemetry.shutdown().expect("shutdown");
    assert_delivered(
        &rx,
        &ids,
        &Expect {
            transport: Transport::Grpc,
            content_type: "application/grpc",
            trace_and_log_headers: vec![("x-scope-orgid", "rca")],
            metric_headers: vec![("thanos-tenant", "team-a")],
            resource: vec![("service.name", "pipeline-grpc")],
        },
    );
}

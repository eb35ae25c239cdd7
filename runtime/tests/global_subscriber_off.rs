//! `global_subscriber(false)`: llmetry leaves the global `tracing` subscriber to the app,
//! which composes `Telemetry::layer()` into its own registry; and `install()` works once per
//! process.

use llmetry::task;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracing_subscriber::layer::SubscriberExt as _;

#[task(name = "app_owned_task")]
fn app_owned_task() -> u8 {
    tracing::info!("inside");
    1
}

#[test]
fn the_app_installs_its_own_global_subscriber_with_our_layer() {
    let spans = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .global_subscriber(false)
        .exporter(spans.clone())
        .disable_batch(true)
        .silence_init_message(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");
    assert!(
        !tracing::dispatcher::has_been_set(),
        "llmetry did not take the global subscriber"
    );

    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(telemetry.layer());
    tracing::subscriber::set_global_default(subscriber).expect("the app's own global subscriber");
    assert_eq!(app_owned_task(), 1);
    telemetry.flush().expect("flush");
    let names: Vec<String> = spans
        .get_finished_spans()
        .expect("in-memory exporter")
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["app_owned_task.task"]);

    // Once per process, even after shutdown: the global subscriber holds the first pipeline.
    telemetry.shutdown().expect("shutdown");
    let again = llmetry::init()
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install();
    let e = again.expect_err("a second install must be refused");
    assert!(matches!(e, llmetry::InitError::AlreadyInstalled));
    assert!(e.to_string().contains("once per process"), "{e}");
}

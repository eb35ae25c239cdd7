//! An app that already set its own global `tracing` subscriber: `install()` leaves it in
//! place and `Telemetry::layer()` composes llmetry into the app's own registry.

use llmetry::task;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracing_subscriber::layer::SubscriberExt as _;

#[task(name = "composed_task")]
fn composed_task() -> u8 {
    let _s = tracing::info_span!("composed_child").entered();
    3
}

#[test]
fn telemetry_layer_composes_into_the_apps_registry() {
    // The app's own subscriber, installed first.
    let app = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    tracing::subscriber::set_global_default(app).expect("the app's global subscriber");

    let spans = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .exporter(spans.clone())
        .disable_batch(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");

    // Without our layer in the app's subscriber nothing is recorded...
    assert_eq!(composed_task(), 3);
    telemetry.flush().expect("flush");
    let recorded = spans.get_finished_spans().expect("in-memory exporter");
    assert!(recorded.is_empty(), "{recorded:?}");

    // ...with it, the entity span and its children are.
    let layer = telemetry.layer().expect("telemetry is enabled: a layer");
    let composed = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(layer);
    tracing::subscriber::with_default(composed, || assert_eq!(composed_task(), 3));
    telemetry.flush().expect("flush");
    let names: Vec<String> = spans
        .get_finished_spans()
        .expect("in-memory exporter")
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["composed_child", "composed_task.task"]);
}

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
    assert!(tracing::subscriber::set_global_default(app).is_ok());

    let spans = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .exporter(spans.clone())
        .disable_batch(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install();
    let Ok(telemetry) = telemetry else {
        panic!("install failed")
    };

    // Without our layer in the app's subscriber nothing is recorded...
    assert_eq!(composed_task(), 3);
    assert!(telemetry.flush().is_ok());
    assert!(spans.get_finished_spans().unwrap_or_default().is_empty());

    // ...with it, the entity span and its children are.
    let Some(layer) = telemetry.layer() else {
        panic!("telemetry is enabled")
    };
    let composed = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(layer);
    tracing::subscriber::with_default(composed, || assert_eq!(composed_task(), 3));
    assert!(telemetry.flush().is_ok());
    let names: Vec<String> = spans
        .get_finished_spans()
        .unwrap_or_default()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["composed_child", "composed_task.task"]);
}

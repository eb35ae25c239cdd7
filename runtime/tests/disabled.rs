//! `enabled(false)`: nothing is installed, annotated functions run untraced and silently.

use llmetry::task;

#[task]
fn still_runs(x: u32) -> u32 {
    x + 1
}

#[test]
fn disabled_telemetry_is_a_silent_no_op() {
    let telemetry = llmetry::init()
        .enabled(false)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");
    assert!(telemetry.layer::<tracing_subscriber::Registry>().is_none());
    assert_eq!(still_runs(1), 2);
    // This thread sees the global default: still the no-op one (another test in this binary
    // sets a thread-scoped subscriber, so `has_been_set()` would not tell).
    let global_is_noop =
        tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>());
    assert!(global_is_noop, "no global subscriber was installed");
    telemetry.flush().expect("flush");
    telemetry.shutdown().expect("shutdown");
}

/// Counts the events it sees.
struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counting {
    fn on_event(&self, _e: &tracing::Event<'_>, _cx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_disabled_telemetry_layer_does_not_silence_the_apps_other_layers() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let telemetry = llmetry::init()
        .enabled(false)
        .silence_init_message(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry()
        .with(Counting(seen.clone()))
        .with(telemetry.layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("still logged"));
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
}

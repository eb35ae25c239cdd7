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
        .install();
    let Ok(telemetry) = telemetry else {
        panic!("install failed")
    };
    assert!(telemetry.layer::<tracing_subscriber::Registry>().is_none());
    assert_eq!(still_runs(1), 2);
    assert!(
        !tracing::dispatcher::has_been_set(),
        "no global subscriber was installed"
    );
    assert!(telemetry.flush().is_ok());
    assert!(telemetry.shutdown().is_ok());
}

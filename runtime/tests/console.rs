//! The console exporter prints one readable tree per trace.

use llmetry::{SharedBuffer, task, workflow};

#[task(name = "child_a")]
fn child_a() -> u8 {
    let _s = tracing::info_span!("leaf").entered();
    1
}

#[task(name = "child_b")]
fn child_b() -> Result<(), String> {
    Err("no space left".into())
}

#[workflow(name = "console_wf")]
fn console_wf() {
    llmetry::set_association_properties([("user_id", "u-42")]);
    child_a();
    let _ = child_b();
}

#[test]
fn prints_a_tree_with_durations_attributes_and_errors() {
    let buf = SharedBuffer::default();
    let telemetry = llmetry::init()
        .exporter(llmetry::ConsoleExporter::to_writer(buf.clone()))
        .disable_batch(true)
        .silence_init_message(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install()
        .expect("install");
    console_wf();
    telemetry.flush().expect("flush");
    let text = buf.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("── trace "), "{text}");
    assert!(lines[1].starts_with("console_wf.workflow  "), "{text}");
    assert!(lines[1].contains("user_id=u-42"), "{text}");
    assert!(lines[2].starts_with("├─ child_a.task  "), "{text}");
    assert!(lines[2].contains("output=1"), "{text}");
    assert!(lines[3].starts_with("│  └─ leaf  "), "{text}");
    assert!(lines[4].starts_with("└─ child_b.task  "), "{text}");
    assert!(lines[4].ends_with("ERROR: no space left"), "{text}");
    assert_eq!(lines.len(), 5, "{text}");
}

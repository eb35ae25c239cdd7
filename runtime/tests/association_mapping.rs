//! The opt-in association mapping (`LLMETRY_ASSOCIATION_MAPPING`,
//! `.association_mapping(..)`): the association properties `user_id` and `session_id` are
//! also written under the keys the chosen backends read, on every span that gets the
//! association properties; Traceloop's keys stay, other properties are not copied, and a
//! name that is no mapping is an install error naming it. (That Phoenix and MLflow then show
//! the users and sessions is checked against the real servers in
//! `examples/tests/backends.rs`.)

use llmetry::{EnvSource, InitError, task, workflow};
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

#[task(name = "lookup")]
fn lookup() -> Vec<KeyValue> {
    // A span nobody annotated gets them too.
    tracing::info_span!("plain.child").in_scope(|| {});
    llmetry::current_association_properties()
}

#[workflow(name = "mapped_wf")]
fn mapped_wf(user: &str, session: u32) -> Vec<KeyValue> {
    llmetry::set_association_properties([("user_id", user)]);
    // An integer session id: Traceloop's key keeps the integer, the backends get text.
    llmetry::set_association_properties([("session_id", session)]);
    llmetry::set_association_properties([("tenant", "acme")]);
    lookup()
}

fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == Key::from(key.to_owned()))
        .map(|kv| kv.value.clone())
}

#[test]
fn user_and_session_ids_are_also_written_under_the_backends_keys() {
    // A name that is no mapping: install fails, naming the variable and the value.
    let bad = llmetry::init()
        .silence_init_message(true)
        .env_source(EnvSource::from_pairs([
            ("OTEL_SERVICE_NAME", "mapping"),
            ("LLMETRY_ASSOCIATION_MAPPING", "phoenix,jaeger"),
        ]))
        .install();
    match bad {
        Err(e @ InitError::InvalidValue { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("LLMETRY_ASSOCIATION_MAPPING")
                    && text.contains("phoenix,jaeger")
                    && text.contains("langsmith"),
                "{text}"
            );
        }
        other => panic!("expected InvalidValue, got {:?}", other.map(|_| ())),
    }

    let exporter = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .disable_batch(true)
        .silence_init_message(true)
        .exporter(exporter.clone())
        .env_source(EnvSource::from_pairs([
            ("OTEL_SERVICE_NAME", "mapping"),
            ("LLMETRY_ASSOCIATION_MAPPING", " Phoenix , langsmith "),
        ]))
        .install()
        .expect("install");

    let user = String::from("u-42");
    let seen = mapped_wf(&user, 7);
    // The in-memory exporter forgets its spans at shutdown: read them after a flush.
    telemetry.flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    telemetry.shutdown().expect("shutdown");

    // What instruments put on metric points: Traceloop's keys only.
    let mut keys: Vec<String> = seen.iter().map(|kv| kv.key.to_string()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "traceloop.association.properties.session_id",
            "traceloop.association.properties.tenant",
            "traceloop.association.properties.user_id",
        ]
    );

    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    for name in ["mapped_wf.workflow", "lookup.task", "plain.child"] {
        let span = spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} in {names:?}"));
        for (key, value) in [
            ("user.id", Value::from("u-42")),
            ("session.id", Value::from("7")),
            ("langsmith.metadata.user_id", Value::from("u-42")),
            ("langsmith.metadata.session_id", Value::from("7")),
            (
                "traceloop.association.properties.user_id",
                Value::from("u-42"),
            ),
            ("traceloop.association.properties.session_id", Value::I64(7)),
            (
                "traceloop.association.properties.tenant",
                Value::from("acme"),
            ),
        ] {
            assert_eq!(attr(span, key), Some(value), "{name}: {key}: {span:#?}");
        }
        // Langfuse's keys were not asked for; other properties are not mapped.
        for key in [
            "langfuse.user.id",
            "langfuse.session.id",
            "tenant",
            "langsmith.metadata.tenant",
        ] {
            assert_eq!(attr(span, key), None, "{name}: {key}: {span:#?}");
        }
    }
}

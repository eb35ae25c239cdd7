//! Redaction on the entity paths, as installed: `LLMETRY_REDACT` (an unknown name fails the
//! install), the built-in redactors and the hook on inputs, outputs and error messages, a
//! hook that drops, `redact = false`, and errors with content capture off (reduced to the
//! error's type).

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use std::sync::{Arc, Mutex};

use llmetry::redact::{Content, Field, Verdict};
use llmetry::{EnvSource, InitError, task, tool, workflow};
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

#[derive(Debug)]
struct PaymentError(String);

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "card {} declined", self.0)
    }
}

#[task(name = "charge")]
fn charge(customer: &str, card: String, api_key: &str) -> Result<String, PaymentError> {
    let _ = api_key;
    if card.starts_with('5') {
        return Err(PaymentError(card));
    }
    Ok(format!("receipt sent to {customer}"))
}

#[tool(name = "raw_lookup", redact = false)]
fn raw_lookup(card: &str) -> String {
    format!("card {card}")
}

#[task(name = "secret_notes")]
fn secret_notes(note: &str) -> String {
    note.to_owned()
}

#[workflow(name = "billing")]
fn billing() {
    let _ = charge(
        "jane@example.com",
        "4111 1111 1111 1111".to_owned(),
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    );
    let _ = charge("bob@example.org", "5555555555554444".to_owned(), "k");
    let _ = raw_lookup("4111 1111 1111 1111");
    let _ = secret_notes("TOP SECRET");
}

#[workflow(name = "billing_content_off")]
fn billing_content_off() {
    let _ = charge("carol@example.net", "5555555555554444".to_owned(), "k");
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn exception_message(span: &SpanData) -> Option<String> {
    span.events
        .iter()
        .find(|e| e.name == "exception")?
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.message")
        .map(|kv| kv.value.to_string())
}

#[test]
fn redaction_runs_on_every_entity_path() {
    // An unknown redactor name fails the install, naming it; nothing is installed.
    let err = llmetry::init()
        .silence_init_message(true)
        .env_source(EnvSource::from_pairs([("LLMETRY_REDACT", "email,ssn")]))
        .install()
        .map(|_| ())
        .expect_err("an unknown redactor fails the install");
    match &err {
        InitError::InvalidValue { key, value, .. } => {
            assert_eq!(key, "LLMETRY_REDACT");
            assert!(value.contains("\"ssn\""), "{err}");
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    assert!(
        err.to_string().contains(
            "expected a comma list of redactor names: email, phone, card, iban, secret (or all)"
        ),
        "{err}"
    );

    let seen: Arc<Mutex<Vec<(Field, String)>>> = Arc::default();
    let seen_by_hook = Arc::clone(&seen);
    let exporter = InMemorySpanExporter::default();
    let telemetry = llmetry::init()
        .silence_init_message(true)
        .exporter(exporter.clone())
        .env_source(EnvSource::from_pairs([(
            "LLMETRY_REDACT",
            "email, card,secret",
        )]))
        .redact_hook(move |c: &mut Content<'_>| {
            seen_by_hook
                .lock()
                .expect("lock")
                .push((c.field(), c.source().to_owned()));
            match c.field() {
                // The hook sees the arguments as an object: drop one by name.
                Field::EntityInput => {
                    if let Some(args) = c.value().as_object_mut() {
                        args.remove("api_key");
                    }
                    Verdict::Keep
                }
                Field::EntityOutput if c.source() == "secret_notes" => Verdict::Drop,
                _ => Verdict::Keep,
            }
        })
        .install()
        .expect("install");
    billing();
    llmetry::with_trace_content(false, billing_content_off);
    telemetry.flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let charges: Vec<&SpanData> = spans.iter().filter(|s| s.name == "charge.task").collect();
    assert_eq!(charges.len(), 3);

    // Input: the hook removed api_key; the built-ins redacted e-mail and card.
    assert_eq!(
        attr(charges[0], "traceloop.entity.input").as_deref(),
        // (Keys sorted: the JSON is written again from serde_json's map.)
        Some(
            r#"{"args": [], "kwargs": {"card": "[REDACTED:card]", "customer": "[REDACTED:email]"}}"#
        )
    );
    assert_eq!(
        attr(charges[0], "traceloop.entity.output").as_deref(),
        Some(r#""receipt sent to [REDACTED:email]""#)
    );

    // Error with content on: the message, redacted, in the event and the status.
    assert_eq!(
        exception_message(charges[1]).as_deref(),
        Some("card [REDACTED:card] declined")
    );
    assert_eq!(
        charges[1].status,
        Status::error("card [REDACTED:card] declined")
    );
    assert_eq!(
        attr(charges[1], "error.type").as_deref(),
        Some("redact_entities::PaymentError")
    );

    // Error with content off: no input, and the message is the error's type.
    let off = charges[2];
    assert_eq!(attr(off, "traceloop.entity.input"), None);
    assert_eq!(
        exception_message(off).as_deref(),
        Some("redact_entities::PaymentError")
    );
    assert_eq!(off.status, Status::error("redact_entities::PaymentError"));

    // redact = false: untouched; the hook was not called for it.
    let raw = spans
        .iter()
        .find(|s| s.name == "raw_lookup.tool")
        .expect("raw_lookup span");
    assert_eq!(
        attr(raw, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"card": "4111 1111 1111 1111"}}"#)
    );
    assert_eq!(
        attr(raw, "traceloop.entity.output").as_deref(),
        Some(r#""card 4111 1111 1111 1111""#)
    );

    // A dropped output is not written; the input still is.
    let notes = spans
        .iter()
        .find(|s| s.name == "secret_notes.task")
        .expect("notes span");
    assert_eq!(attr(notes, "traceloop.entity.output"), None);
    assert_eq!(
        attr(notes, "traceloop.entity.input").as_deref(),
        Some(r#"{"args": [], "kwargs": {"note": "TOP SECRET"}}"#)
    );

    let seen = seen.lock().expect("lock").clone();
    assert!(
        seen.iter().all(|(_, source)| source != "raw_lookup"),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(Field::ErrorMessage, "charge".to_owned())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(Field::EntityInput, "billing".to_owned())),
        "{seen:?}"
    );
    telemetry.shutdown().expect("shutdown");
}

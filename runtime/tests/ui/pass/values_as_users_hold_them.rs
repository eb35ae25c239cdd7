//! Association properties and conversation ids from the values users hold: borrowed
//! parameters of any lifetime, `String`, `&String`, `Cow<str>`, numbers from variables, and
//! mixed value types through `association_properties!`. It compiling is the test (the calls
//! run untraced: telemetry is not installed).

use std::borrow::Cow;

use llmetry::{task, workflow};

#[task]
fn lookup(host: &str) -> usize {
    host.len()
}

#[workflow(name = "rca_workflow")]
fn rca(incident_id: &str, user: &String, tenant: String, region: Cow<'_, str>, attempt: u32) {
    // The issue's own line: a borrowed parameter beside a literal.
    llmetry::set_association_properties([("incident_id", incident_id), ("user_id", "u-42")]);
    llmetry::set_association_properties([("user_name", user)]);
    llmetry::set_association_properties([("region", &region)]);
    llmetry::set_association_properties([("region", region)]);
    llmetry::set_association_properties([("attempt", attempt), ("retries", 2)]);
    llmetry::set_association_properties([("score", 0.5), ("ratio", 1.0)]);
    llmetry::set_association_properties([("dry_run", false)]);
    let key = format!("tenant_{}", tenant.len());
    llmetry::set_association_properties([(key.as_str(), tenant.as_str())]);
    llmetry::set_association_properties([(key, tenant)]);
    llmetry::set_association_properties(llmetry::association_properties! {
        "incident_id" => incident_id,
        "user_name" => user,
        "attempt" => attempt,
        "dry_run" => true,
        "score" => 0.25f32,
    });
    llmetry::set_conversation_id(incident_id);
    llmetry::set_conversation_id(user);
    lookup(incident_id);
}

fn scoped(user_id: &str, session: &String, owned: String, attempt: u64) -> usize {
    llmetry::with_association_properties([("user_id", user_id)], || {
        llmetry::with_conversation_id(session, || lookup(user_id))
    }) + llmetry::with_association_properties(
        llmetry::association_properties! { "user_id" => user_id, "attempt" => attempt },
        || llmetry::with_conversation_id(owned, || lookup(user_id)),
    ) + llmetry::with_conversation_id(Cow::Borrowed(user_id), || 0)
}

async fn scoped_async(user_id: &str) -> usize {
    llmetry::with_association_properties([("user_id", user_id)], async { lookup(user_id) }).await
}

fn main() {
    let user = String::from("ada");
    let incident = String::from("INC-1");
    rca(&incident, &user, "acme".to_owned(), Cow::Owned("eu".to_owned()), 3);
    let session = String::from("s-1");
    assert_eq!(scoped(&user, &session, "conv".to_owned(), 7), 6);
    let fut = scoped_async(&user);
    drop(fut);
}

//! Code a user writes in their own project compiles and exports what it says: a crate
//! outside the workspace, depending on llmetry by path exactly as the README shows, passes
//! borrowed `&str` parameters, `String`s, `&String`, `Cow`s and numbers from variables to
//! the association-property and conversation-id API (issue 8: `&str` parameters failed
//! with E0521). The test builds it with `cargo build --offline` and runs it; the program
//! checks the exported attributes itself (in-memory exporter) and prints a last line.
//!
//! The crate is edition 2021, whose `-> impl Trait` captures fewer lifetimes than 2024's:
//! an awaiting `async fn` (which the macros write as `fn … -> impl Future`) taking `&self`,
//! a `&str` and a `Cow<str>` (its lifetime hidden) must still compile and trace.
//!
//! Its artifacts live in `<workspace target>/outside-crate`, so only the first run builds
//! llmetry's dependency tree there (a few minutes on a 2-core machine).

// A failing step should say why: `expect` prints the error.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const USER_MAIN: &str = r####"
use std::borrow::Cow;

use llmetry::{task, workflow};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

#[task(name = "lookup")]
fn lookup(host: &str) -> usize {
    host.len()
}

#[workflow(name = "rca")]
fn rca(incident_id: &str, user: &String, tenant: String, region: Cow<'_, str>, attempt: u32, score: f64, dry_run: bool) {
    llmetry::set_association_properties([("incident_id", incident_id), ("user_id", "u-42")]);
    llmetry::set_association_properties([("user_name", user)]);
    llmetry::set_association_properties([("tenant", tenant)]);
    llmetry::set_association_properties([("region", region)]);
    llmetry::set_association_properties([("attempt", attempt)]);
    llmetry::set_association_properties(llmetry::association_properties! {
        "score" => score,
        "dry_run" => dry_run,
        "host" => incident_id,
    });
    llmetry::set_conversation_id(incident_id);
    lookup("db-1");
}

fn scoped(user_id: &str, session: &String, attempt: i64) -> usize {
    llmetry::with_association_properties(
        llmetry::association_properties! { "user_id" => user_id, "attempt" => attempt },
        || llmetry::with_conversation_id(session, || lookup("db-2")),
    )
}

async fn scoped_async(user_id: &str, conversation: String) -> usize {
    llmetry::with_association_properties([("user_id", user_id)], async {
        llmetry::with_conversation_id(conversation, async { lookup("db-3") }).await
    })
    .await
}

/// Pending once, then ready: makes a body await for real.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

struct Store {
    prefix: String,
}

impl Store {
    // Every parameter borrows (`region`'s lifetime is not written): in edition 2021 a
    // `-> impl Future` that captured only the lifetimes it names would not compile.
    #[task(name = "fetch")]
    async fn fetch(&self, key: &str, region: Cow<str>, mut attempts: u32) -> String {
        YieldOnce(false).await;
        attempts += 1;
        format!("{}{key}@{region}#{attempts}", self.prefix)
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.clone())
}

fn prop(span: &SpanData, key: &str) -> Option<Value> {
    attr(span, &format!("traceloop.association.properties.{key}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spans = InMemorySpanExporter::default();
    // Builder values from variables, borrowed and owned (compiling is the check; the
    // pipeline tests assert resource attributes and headers at an OTLP receiver).
    let environment = String::from("staging");
    let tenant_header: &str = &environment;
    let telemetry = llmetry::init()
        .app_name("outside")
        .resource_attributes([("deployment.environment", environment.as_str())])
        .resource_attributes([("service.replicas", 3u32)])
        .headers([("X-Scope-OrgID", tenant_header)])
        .metrics_headers([(String::from("THANOS-TENANT"), &environment)])
        .exporter(spans.clone())
        .silence_init_message(true)
        .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "outside")]))
        .install()?;

    let incident = String::from("INC-7");
    let user = String::from("ada");
    let region = String::from("eu-west");
    let (attempt, score, dry_run) = (3u32, 0.75f64, true);
    rca(&incident, &user, "acme".to_owned(), Cow::Borrowed(region.as_str()), attempt, score, dry_run);
    let session = String::from("s-9");
    assert_eq!(scoped(&user, &session, 2), 4);
    assert_eq!(block_on(scoped_async(&user, "conv-async".to_owned())), 4);
    let store = Store { prefix: "kv:".to_owned() };
    let key = String::from("k1");
    let fetched = block_on(store.fetch(&key, Cow::Borrowed(region.as_str()), 1));
    assert_eq!(fetched, "kv:k1@eu-west#2");
    telemetry.flush()?;

    let finished = spans.get_finished_spans()?;
    let fetch = finished.iter().find(|s| s.name == "fetch.task").ok_or("no fetch.task span")?;
    let input = attr(fetch, "traceloop.entity.input").ok_or("no input on fetch.task")?.to_string();
    assert!(input.contains("\"key\": \"k1\"") && input.contains("eu-west"), "input: {input}");
    assert_eq!(attr(fetch, "traceloop.entity.output"), Some(Value::from("\"kv:k1@eu-west#2\"")));
    let lookups: Vec<&SpanData> = finished.iter().filter(|s| s.name == "lookup.task").collect();
    assert_eq!(lookups.len(), 3, "three lookup spans");
    let in_rca = lookups[0];
    assert_eq!(prop(in_rca, "incident_id"), Some(Value::from("INC-7")));
    assert_eq!(prop(in_rca, "user_id"), Some(Value::from("u-42")));
    assert_eq!(prop(in_rca, "user_name"), Some(Value::from("ada")));
    assert_eq!(prop(in_rca, "tenant"), Some(Value::from("acme")));
    assert_eq!(prop(in_rca, "region"), Some(Value::from("eu-west")));
    assert_eq!(prop(in_rca, "attempt"), Some(Value::I64(3)), "ints stay ints");
    assert_eq!(prop(in_rca, "score"), Some(Value::F64(0.75)));
    assert_eq!(prop(in_rca, "dry_run"), Some(Value::Bool(true)));
    assert_eq!(prop(in_rca, "host"), Some(Value::from("INC-7")));
    assert_eq!(attr(in_rca, "gen_ai.conversation.id"), Some(Value::from("INC-7")));
    let wf = finished.iter().find(|s| s.name == "rca.workflow").ok_or("no rca.workflow span")?;
    assert_eq!(prop(wf, "incident_id"), Some(Value::from("INC-7")), "the workflow span is stamped");
    assert_eq!(prop(wf, "attempt"), Some(Value::I64(3)));

    let in_scope = lookups[1];
    assert_eq!(prop(in_scope, "user_id"), Some(Value::from("ada")));
    assert_eq!(prop(in_scope, "attempt"), Some(Value::I64(2)));
    assert_eq!(attr(in_scope, "gen_ai.conversation.id"), Some(Value::from("s-9")));
    assert_eq!(prop(in_scope, "incident_id"), None, "nothing leaks out of the workflow");

    let in_async = lookups[2];
    assert_eq!(prop(in_async, "user_id"), Some(Value::from("ada")));
    assert_eq!(attr(in_async, "gen_ai.conversation.id"), Some(Value::from("conv-async")));

    telemetry.shutdown()?;
    println!("outside-crate: all checks passed");
    Ok(())
}
"####;

/// The workspace root (this file is `runtime/tests/outside_crate.rs`).
fn workspace_root() -> PathBuf {
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR"));
    runtime.parent().unwrap_or(runtime).to_path_buf()
}

/// Where cargo puts the workspace's artifacts (`CARGO_TARGET_DIR` or `<root>/target`).
fn workspace_target(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => root.join("target"),
    }
}

#[test]
fn a_crate_outside_the_workspace_passes_borrowed_values() {
    let root = workspace_root();
    let runtime = root.join("runtime");
    let dir = std::env::temp_dir().join(format!("llmetry-outside-crate-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src")).expect("create the crate's directory");
    // The README's form: `llmetry = { path = "…/runtime" }`. `[workspace]` keeps the crate
    // out of any workspace above the temp dir; the workspace's lock file pins the same
    // versions as the workspace, so `--offline` finds every crate already downloaded.
    let manifest = format!(
        r#"[package]
name = "llmetry-outside-user"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
llmetry = {{ path = "{runtime}" }}
opentelemetry = {{ version = "=0.33.1", default-features = false, features = ["trace"] }}
opentelemetry_sdk = {{ version = "=0.33.1", default-features = false, features = ["trace", "testing"] }}
"#,
        runtime = runtime.display()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::write(dir.join("src/main.rs"), USER_MAIN).expect("write src/main.rs");
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");

    let target = workspace_target(&root).join("outside-crate");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = Command::new(&cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        // A second copy of every dependency: without debug info or incremental state it
        // takes less than half the disk (0.96 → 0.43 GB; a CI machine once ran out of it here).
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        // The workspace's own settings (rustflags for this test run) are not the user's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo build");
    assert!(
        build.status.success(),
        "the outside crate does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let exe = target.join("debug").join("llmetry-outside-user");
    let run = Command::new(&exe)
        .env_remove("TRACELOOP_TRACE_CONTENT")
        .output()
        .expect("run the outside crate's binary");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the outside crate's checks failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        run.status
    );
    assert_eq!(
        stdout.lines().last(),
        Some("outside-crate: all checks passed"),
        "stderr:\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

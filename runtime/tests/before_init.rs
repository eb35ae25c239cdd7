//! Before `init()` has run, annotated functions just run, and the whole process prints at
//! most one warning. Each scenario runs in a child process (this test binary re-executed)
//! so its stderr can be counted.

#![allow(clippy::expect_used)] // `run_child` is test code: a failure shows its cause

use llmetry::{task, workflow};
use llmetry_testkit::process::{command, run};

#[task(name = "plain_task")]
fn plain_task(x: u32) -> Result<u32, String> {
    if x == 0 {
        Err("zero".into())
    } else {
        Ok(x * 2)
    }
}

#[workflow(name = "plain_wf")]
async fn plain_wf(x: u32) -> u32 {
    plain_task(x).unwrap_or(0)
}

/// An `async fn` body without `.await` (expanded as a sync body): `return`, `?` and its
/// `static` behave as written, untraced too.
#[task(name = "await_free")]
async fn await_free(s: &str) -> Result<u32, std::num::ParseIntError> {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let calls = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if s.is_empty() {
        return Ok(calls * 1000);
    }
    let n: u32 = s.parse()?;
    Ok(n)
}

const CHILD: &str = "LLMETRY_BEFORE_INIT_CHILD";

/// The child's work: many annotated calls, sync and async, never initialised.
#[test]
fn child_scenario() {
    if std::env::var(CHILD).is_err() {
        return; // only meaningful when re-executed by the tests below
    }
    let mut sum = 0;
    for i in 0..1000 {
        sum += plain_task(i).unwrap_or(0);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for i in 0..100 {
        sum += rt.block_on(plain_wf(i));
    }
    assert_eq!(sum, 999_000 + 9_900);
    assert_eq!(rt.block_on(await_free("7")), Ok(7));
    assert!(rt.block_on(await_free("x")).is_err());
    // The third call: one `static`, counted by every call.
    assert_eq!(rt.block_on(await_free("")), Ok(3000));
    println!("CHILD-DONE sum={sum}");
}

fn run_child(extra_env: &[(&str, &str)]) -> (String, String) {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = command(exe, &[], &["TRACELOOP_SUPPRESS_WARNINGS"], extra_env);
    cmd.args([
        "--exact",
        "child_scenario",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "1");
    let out = run("before_init child", cmd);
    let (stdout, stderr) = (out.stdout, out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("CHILD-DONE sum=1008900"), "{stdout}");
    (stdout, stderr)
}

#[test]
fn annotated_functions_run_untraced_with_one_warning() {
    let (stdout, stderr) = run_child(&[]);
    let all = format!("{stdout}{stderr}");
    let warnings = all.matches("llmetry: warning").count();
    assert_eq!(warnings, 1, "expected exactly one warning, got:\n{all}");
    assert!(all.contains("init()"), "the warning says what to do: {all}");
}

#[test]
fn the_warning_can_be_suppressed() {
    let (stdout, stderr) = run_child(&[("TRACELOOP_SUPPRESS_WARNINGS", "true")]);
    let all = format!("{stdout}{stderr}");
    assert_eq!(all.matches("llmetry: warning").count(), 0, "{all}");
}

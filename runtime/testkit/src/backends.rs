//! Real LLM-observability backends for end-to-end tests: Arize Phoenix ([`phoenix`]) and
//! MLflow ([`mlflow`]), installed from PyPI by `.ci/install-backends` into
//! `<workspace>/.venv-backends/<name>`, started here as child processes on free
//! `127.0.0.1` ports with a fresh working directory (their SQLite database in it), and
//! queried back through their own HTTP APIs as plain [`BackendSpan`]s.
//!
//! A [`Server`] runs in its own process group and is stopped (the whole group: MLflow forks
//! uvicorn workers) when it is dropped, also while a failing test unwinds. A server kept in
//! a `static` is never dropped, so every server also has a watchdog in its group that stops
//! the group within a second or two after the test process has gone.
//!
//! `LLMETRY_BACKEND_TESTS=0` skips the backend tests ([`skipped`]) and their install.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

pub mod mlflow;
pub mod phoenix;

/// Set to `0` to skip the backend tests (and `.ci/install-backends`).
pub const BACKEND_TESTS_ENV: &str = "LLMETRY_BACKEND_TESTS";

/// How long a backend may take to answer its health check after it was started: a hang
/// guard. Phoenix took 30–60 s and MLflow 25–50 s on a 2-core machine, and up to 190 s
/// and 115 s while other builds loaded it six times over.
pub const START_TIMEOUT: Duration = Duration::from_secs(600);

/// Held while a server starts: starting is Python importing hundreds of modules, and on
/// two cores several at once only make each slower (tests run in parallel).
static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for any other server of this process to finish starting.
fn one_start_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    STARTING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long a query waits for exported data to show up in a backend: a hang guard.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether the backend tests are switched off (`LLMETRY_BACKEND_TESTS=0`); says so on
/// stderr when they are, naming `test`.
///
/// ```no_run
/// if llmetry_testkit::backends::skipped("phoenix_shows_the_job") {
///     return;
/// }
/// ```
pub fn skipped(test: &str) -> bool {
    let off = std::env::var(BACKEND_TESTS_ENV).is_ok_and(|v| v.trim() == "0");
    if off {
        eprintln!("{test}: skipped ({BACKEND_TESTS_ENV}=0)");
    }
    off
}

/// One span as a backend stores it, in the backend's own words (`kind`: Phoenix's
/// `span_kind` such as `LLM`, MLflow's `span_type` such as `CHAT_MODEL`).
#[derive(Debug, Clone, PartialEq)]
pub struct BackendSpan {
    /// The span's name.
    pub name: String,
    /// The trace id, lowercase hex.
    pub trace_id: String,
    /// The span id, lowercase hex.
    pub span_id: String,
    /// The parent's span id (lowercase hex), `None` for a root.
    pub parent_id: Option<String>,
    /// The kind the backend gave the span.
    pub kind: String,
    /// `OK`, `ERROR` or `UNSET`.
    pub status: String,
    /// The attributes as the backend returns them (flattened keys, JSON values).
    pub attributes: Map<String, Value>,
}

impl BackendSpan {
    /// The attribute `key` as a string (a JSON string as is, anything else as JSON text).
    pub fn attr(&self, key: &str) -> Option<String> {
        self.attributes.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// The attribute `key` as a whole number (also from a string holding one).
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.attributes.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// The spans of `spans` named `name`.
pub fn named<'a>(spans: &'a [BackendSpan], name: &str) -> Vec<&'a BackendSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// The parent of `span` among `spans`.
pub fn parent_of<'a>(spans: &'a [BackendSpan], span: &BackendSpan) -> Option<&'a BackendSpan> {
    let parent = span.parent_id.as_deref()?;
    spans
        .iter()
        .find(|s| s.span_id == parent && s.trace_id == span.trace_id)
}

/// A backend process group with its working directory; stopped and removed on drop.
#[derive(Debug)]
pub struct Server {
    name: String,
    child: Child,
    dir: PathBuf,
    log: PathBuf,
    started_in: Duration,
    began: Instant,
}

impl Server {
    /// Runs `program` with `args` and `envs` in a new process group (plus the watchdog),
    /// with `dir` as its working directory and its stdout and stderr in `dir/server.log`.
    fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        envs: &[(String, String)],
        dir: PathBuf,
    ) -> Result<Server, String> {
        let log = dir.join("server.log");
        let out = File::create(&log).map_err(|e| format!("{name}: {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{name}: {}: {e}", log.display()))?;
        // The shell becomes the group leader, starts the watchdog and then turns into the
        // server (`exec`), so the server's pid is the group id. The watchdog polls this
        // test process and stops the group once it has gone.
        let script = r#"parent=$1; shift
( trap '' TERM
  while kill -0 "$parent" 2>/dev/null; do sleep 1; done
  kill -TERM -- -$$ 2>/dev/null; sleep 3; kill -KILL -- -$$ 2>/dev/null ) </dev/null >/dev/null 2>&1 &
exec "$@""#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg(format!("llmetry-{name}"))
            .arg(std::process::id().to_string())
            .arg(program)
            .args(args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // The caller's proxy, Python and OTel settings are not the server's business.
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("OTEL_")
                || k.starts_with("PYTHON")
                || k.to_ascii_lowercase().ends_with("_proxy")
            {
                cmd.env_remove(&key);
            }
        }
        cmd.envs(envs.iter().map(|(k, v)| (k, v)));
        let child = cmd
            .spawn()
            .map_err(|e| format!("{name}: cannot start {}: {e}", program.display()))?;
        Ok(Server {
            name: name.to_owned(),
            child,
            dir,
            log,
            started_in: Duration::ZERO,
            began: Instant::now(),
        })
    }

    /// Polls `ready` until it says yes, the server exits or [`START_TIMEOUT`] passes.
    fn wait_ready(&mut self, mut ready: impl FnMut() -> bool) -> Result<(), String> {
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited before it was ready ({status}); its log:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if ready() {
                self.started_in = self.began.elapsed();
                return Ok(());
            }
            if self.began.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "{} not ready within {START_TIMEOUT:?}; its log:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// From spawning to the first healthy answer.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Its working directory (database, log), removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last 8 KiB of what the server printed, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let from = text.len().saturating_sub(8 * 1024);
        String::from_utf8_lossy(&text[from..]).into_owned()
    }

    /// Whether any process of the group is left.
    fn group_alive(&self) -> bool {
        signal_group("-0", self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pgid = self.child.id();
        // TERM first (uvicorn and Phoenix stop cleanly within a second or two), then KILL
        // whatever is left of the group.
        signal_group("-TERM", pgid);
        let _ = self.child.try_wait();
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.group_alive() && Instant::now() < deadline {
            let _ = self.child.try_wait();
            std::thread::sleep(Duration::from_millis(50));
        }
        signal_group("-KILL", pgid);
        let _ = self.child.wait();
        if std::env::var_os("LLMETRY_KEEP_BACKEND_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `kill <signal> -- -<pgid>`; whether it succeeded (for `-0`: whether the group exists).
fn signal_group(signal: &str, pgid: u32) -> bool {
    Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `<workspace>/.venv-backends/<name>/bin/<program>`, or an error saying how to install it.
fn installed(name: &str, program: &str) -> Result<PathBuf, String> {
    let root = workspace_root();
    let bin = root
        .join(".venv-backends")
        .join(name)
        .join("bin")
        .join(program);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{name} is not installed ({} is missing): run `{}/.ci/install-backends`, \
             or set {BACKEND_TESTS_ENV}=0 to skip the backend tests",
            bin.display(),
            root.display()
        ))
    }
}

/// `<workspace>`: the testkit crate lives in `<workspace>/runtime/testkit`.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// A new empty directory for one server under the system's temporary directory.
fn fresh_dir(name: &str) -> Result<PathBuf, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("llmetry-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{name}: {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Distinct ports on `127.0.0.1` that were free a moment ago.
fn free_ports<const N: usize>() -> Result<[SocketAddr; N], String> {
    // Every listener stays open until all ports are known, so they differ.
    let mut held = Vec::with_capacity(N);
    for _ in 0..N {
        let l = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| format!("cannot pick a free port: {e}"))?;
        held.push(l);
    }
    let mut out = [SocketAddr::from(([127, 0, 0, 1], 0)); N];
    for (slot, l) in out.iter_mut().zip(&held) {
        *slot = l
            .local_addr()
            .map_err(|e| format!("cannot pick a free port: {e}"))?;
    }
    Ok(out)
}

/// The blocking HTTP client the API clients share: loopback only, no proxy.
fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a blocking reqwest client builds")
}

/// `GET url` answered 200.
fn answers_ok(client: &reqwest::blocking::Client, url: &str) -> bool {
    client
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .is_ok_and(|r| r.status().is_success())
}

/// The JSON body of the answer to a request that must succeed; the error names the URL, the status and
/// the start of the body.
fn json_of(
    what: &str,
    sent: Result<reqwest::blocking::Response, reqwest::Error>,
) -> Result<Value, String> {
    let response = sent.map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    let body = response.text().map_err(|e| format!("{what}: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "{what}: HTTP {status}: {}",
            body.chars().take(500).collect::<String>()
        ));
    }
    serde_json::from_str(&body).map_err(|e| {
        format!(
            "{what}: not JSON ({e}): {}",
            body.chars().take(500).collect::<String>()
        )
    })
}

/// Calls `query` until `done` accepts its result or [`QUERY_TIMEOUT`] passes; returns the
/// last result either way (the caller's assertions then say what is missing).
pub fn poll<T>(mut query: impl FnMut() -> Result<T, String>, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + QUERY_TIMEOUT;
    loop {
        let got = query();
        match got {
            Ok(v) if done(&v) || Instant::now() >= deadline => return v,
            Err(e) if Instant::now() >= deadline => panic!("{e}"),
            _ => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

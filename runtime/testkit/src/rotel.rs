//! A real, independently written OTLP collector for end-to-end tests: [rotel], a Rust
//! collector shipped as the PyPI package `rotel` (installed by `.ci/install-rotel`).
//!
//! [`Rotel::start_forwarding_to`] runs the collector as a child process in the foreground
//! with its OTLP/gRPC and OTLP/HTTP receivers on free `127.0.0.1` ports and its `otlp`
//! exporter forwarding every signal (traces, metrics, logs) to the given OTLP/gRPC endpoint,
//! typically an in-process [`OtlpReceiver`](crate::otlp::OtlpReceiver). Dropping the
//! [`Rotel`] kills the process (also while a failing test unwinds).
//!
//! The binary is `$LLMETRY_ROTEL_BIN` when set, else `<workspace>/.venv/bin/rotel` (the link
//! `.ci/install-rotel` makes), else the `rotel/rotel-agent` file of the wheel inside
//! `<workspace>/.venv/lib/python*/site-packages`.
//!
//! [rotel]: https://pypi.org/project/rotel/

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Names the binary to run instead of the one in `<workspace>/.venv`.
pub const ROTEL_BIN_ENV: &str = "LLMETRY_ROTEL_BIN";

/// How long [`Rotel::start_forwarding_to`] waits for both receiver ports to accept
/// connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long rotel holds received data before forwarding it (`--batch-timeout`).
const BATCH_TIMEOUT: &str = "20ms";

/// The collected output is cut to (about) its last this many bytes.
const MAX_OUTPUT: usize = 256 * 1024;

/// Start attempts: a port picked as free can be taken before rotel binds it.
const ATTEMPTS: usize = 3;

/// The protocol rotel's `otlp` exporter forwards with (`--otlp-exporter-protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// OTLP/gRPC to `http://host:port`.
    Grpc,
    /// OTLP/HTTP (protobuf) to `http://host:port`; rotel appends `/v1/traces` etc.
    Http,
}

impl Forward {
    fn flag(self) -> &'static str {
        match self {
            Forward::Grpc => "grpc",
            Forward::Http => "http",
        }
    }
}

/// A running rotel collector; killed on drop.
#[derive(Debug)]
pub struct Rotel {
    child: Child,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    output: Arc<Mutex<Vec<u8>>>,
    binary: PathBuf,
    started_in: Duration,
}

impl Rotel {
    /// Starts rotel forwarding everything it receives over OTLP/gRPC to `receiver_endpoint`
    /// (`http://127.0.0.1:PORT`, e.g. [`OtlpReceiver::grpc_endpoint`]) and returns once its
    /// receivers accept connections.
    ///
    /// Errors when the binary cannot be found (run `.ci/install-rotel`), when it exits early
    /// or when its ports are not open within [`START_TIMEOUT`]; the message then carries
    /// rotel's output.
    ///
    /// [`OtlpReceiver::grpc_endpoint`]: crate::otlp::OtlpReceiver::grpc_endpoint
    pub fn start_forwarding_to(receiver_endpoint: &str) -> Result<Rotel, String> {
        Rotel::start_forwarding(receiver_endpoint, Forward::Grpc)
    }

    /// Like [`Rotel::start_forwarding_to`] with the exporter protocol chosen: for
    /// [`Forward::Http`] pass an OTLP/HTTP base URL such as
    /// [`OtlpReceiver::http_endpoint`](crate::otlp::OtlpReceiver::http_endpoint).
    pub fn start_forwarding(receiver_endpoint: &str, protocol: Forward) -> Result<Rotel, String> {
        let binary = Rotel::binary()?;
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            match Rotel::try_start(&binary, receiver_endpoint, protocol) {
                Ok(rotel) => return Ok(rotel),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Exited(e)) => last = e,
            }
        }
        Err(last)
    }

    /// The rotel binary to run: `$LLMETRY_ROTEL_BIN`, else the one in `<workspace>/.venv`.
    pub fn binary() -> Result<PathBuf, String> {
        if let Some(bin) = std::env::var_os(ROTEL_BIN_ENV).filter(|v| !v.is_empty()) {
            let bin = PathBuf::from(bin);
            return if bin.is_file() {
                Ok(bin)
            } else {
                Err(format!(
                    "{ROTEL_BIN_ENV}={} is not a file; unset it to use <workspace>/.venv, \
                     which `.ci/install-rotel` fills",
                    bin.display()
                ))
            };
        }
        let root = workspace_root();
        let venv = root.join(".venv");
        let linked = venv.join("bin").join("rotel");
        if linked.is_file() {
            return Ok(linked);
        }
        if let Some(agent) = site_packages_agent(&venv) {
            return Ok(agent);
        }
        Err(format!(
            "the rotel OTLP collector is not installed: neither {} nor \
             {}/lib/python*/site-packages/rotel/rotel-agent exists; run `{}/.ci/install-rotel` \
             (or set {ROTEL_BIN_ENV})",
            linked.display(),
            venv.display(),
            root.display()
        ))
    }

    fn try_start(binary: &Path, endpoint: &str, protocol: Forward) -> Result<Rotel, Failure> {
        let (grpc_addr, http_addr) = free_ports().map_err(Failure::Fatal)?;
        let mut command = Command::new(binary);
        command
            .arg("start")
            .arg("--otlp-grpc-endpoint")
            .arg(grpc_addr.to_string())
            .arg("--otlp-http-endpoint")
            .arg(http_addr.to_string())
            .args(["--exporter", "otlp"])
            .arg("--otlp-exporter-endpoint")
            .arg(endpoint)
            .args(["--otlp-exporter-protocol", protocol.flag()])
            .args(["--batch-timeout", BATCH_TIMEOUT])
            .args(["--otlp-exporter-retry-initial-backoff", "100ms"])
            .args(["--otlp-exporter-retry-max-backoff", "1s"])
            .args(["--otlp-exporter-retry-max-elapsed-time", "20s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1");
        // Every flag has a ROTEL_* twin; keep the caller's environment out of it.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ROTEL_") {
                command.env_remove(key);
            }
        }
        let began = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| Failure::Fatal(format!("cannot run rotel ({}): {e}", binary.display())))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        // From here on, every early return drops (and so kills) the child.
        let mut rotel = Rotel {
            child,
            grpc_addr,
            http_addr,
            output: Arc::new(Mutex::new(Vec::new())),
            binary: binary.to_path_buf(),
            started_in: Duration::ZERO,
        };
        if let Some(out) = stdout {
            collect(out, Arc::clone(&rotel.output)).map_err(Failure::Fatal)?;
        }
        if let Some(err) = stderr {
            collect(err, Arc::clone(&rotel.output)).map_err(Failure::Fatal)?;
        }
        let deadline = began + START_TIMEOUT;
        loop {
            match rotel.child.try_wait() {
                Ok(None) => {}
                Ok(Some(status)) => {
                    // Let the readers drain the pipes.
                    std::thread::sleep(Duration::from_millis(50));
                    return Err(Failure::Exited(format!(
                        "rotel ({}) exited before listening ({status}); output:\n{}",
                        binary.display(),
                        rotel.output()
                    )));
                }
                Err(e) => return Err(Failure::Fatal(format!("rotel: try_wait: {e}"))),
            }
            if accepts(grpc_addr) && accepts(http_addr) {
                rotel.started_in = began.elapsed();
                return Ok(rotel);
            }
            if Instant::now() >= deadline {
                return Err(Failure::Fatal(format!(
                    "rotel ({}) did not open {grpc_addr} and {http_addr} within {:?}; output:\n{}",
                    binary.display(),
                    START_TIMEOUT,
                    rotel.output()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its OTLP/gRPC receiver, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// Its OTLP/HTTP receiver base URL, `http://127.0.0.1:PORT` (append `/v1/traces` etc.).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Everything rotel printed so far (stdout and stderr, interleaved; the tail only when
    /// long), for failure messages.
    pub fn output(&self) -> String {
        let bytes = self
            .output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The binary that runs.
    pub fn binary_path(&self) -> &Path {
        &self.binary
    }

    /// From spawning the process to both ports accepting connections.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        // SIGKILL: nothing of rotel's shutdown matters to a test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why one start attempt failed.
enum Failure {
    /// Worth another attempt with other ports.
    Exited(String),
    /// Not.
    Fatal(String),
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

/// `<venv>/lib/python*/site-packages/rotel/rotel-agent`, the binary inside the wheel.
fn site_packages_agent(venv: &Path) -> Option<PathBuf> {
    let mut libs: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
        })
        .collect();
    libs.sort();
    libs.into_iter()
        .rev()
        .map(|lib| lib.join("site-packages").join("rotel").join("rotel-agent"))
        .find(|agent| agent.is_file())
}

/// Two distinct ports on `127.0.0.1` that were free a moment ago.
fn free_ports() -> Result<(SocketAddr, SocketAddr), String> {
    let bind = || {
        TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr().map(|a| (l, a)))
            .map_err(|e| format!("cannot pick a free port: {e}"))
    };
    // Both listeners stay open until both ports are known, so they differ.
    let (_grpc, grpc) = bind()?;
    let (_http, http) = bind()?;
    Ok((grpc, http))
}

fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Appends everything `stream` yields to `sink` on a detached thread, keeping the tail.
/// (Without a reader the pipe fills up and rotel blocks on logging.)
fn collect(
    mut stream: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
) -> Result<(), String> {
    std::thread::Builder::new()
        .name("rotel-output".to_owned())
        .spawn(move || {
            let mut buf = [0_u8; 8192];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        let mut out = sink.lock().unwrap_or_else(PoisonError::into_inner);
                        out.extend_from_slice(&buf[..n]);
                        if out.len() > MAX_OUTPUT {
                            let cut = out.len() - MAX_OUTPUT / 2;
                            out.drain(..cut);
                        }
                    }
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("rotel: cannot spawn an output reader: {e}"))
}

//! Running a child process from a test (an example binary, or the test binary re-executed):
//! a clean environment ([`command`]), its stdout and stderr collected while it runs, its
//! stdout lines on a channel ([`Running::line_starting_with`]), and a hang guard: a child
//! still running after the bound is killed and the test fails with its stderr. A child is
//! also killed when its [`Running`] is dropped, so a failing test leaves no stray process.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `program` with every variable of this process whose name starts with one of
/// `remove_prefixes` or is one of `remove` taken out of its environment, then `envs` set.
///
/// ```no_run
/// use llmetry_testkit::process::{command, run};
///
/// let cmd = command("/path/to/llm_job", &["TRACELOOP_", "OTEL_"], &["OPENAI_API_KEY"], &[]);
/// let out = run("llm_job", cmd);
/// assert!(out.status.success(), "{}", out.stderr);
/// ```
pub fn command(
    program: impl AsRef<OsStr>,
    remove_prefixes: &[&str],
    remove: &[&str],
    envs: &[(&str, &str)],
) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if remove_prefixes.iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(&key);
        }
    }
    for key in remove {
        cmd.env_remove(key);
    }
    cmd.envs(envs.iter().copied());
    cmd
}

/// Runs `cmd` to its end, failing after [`HANG_GUARD`](crate::HANG_GUARD).
pub fn run(label: &str, cmd: Command) -> Exited {
    Running::spawn(label, cmd).wait(crate::HANG_GUARD)
}

/// How a child ended.
#[derive(Debug)]
pub struct Exited {
    /// The label it was started with, for messages.
    pub label: String,
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote on stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything it wrote on stderr (lossy UTF-8).
    pub stderr: String,
    /// From spawning to its exit.
    pub elapsed: Duration,
}

/// A running child; killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Running {
    label: String,
    child: Option<Child>,
    began: Instant,
    lines: mpsc::Receiver<String>,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `cmd` with stdin closed and stdout and stderr captured. Panics when it cannot
    /// be started.
    pub fn spawn(label: &str, mut cmd: Command) -> Running {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let began = Instant::now();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!("{label}: cannot start {:?}: {e}", cmd.get_program()),
        };
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take();
        let stdout = std::thread::spawn(move || {
            let mut all = Vec::new();
            if let Some(out) = out {
                let mut out = BufReader::new(out);
                let mut line = Vec::new();
                while matches!(out.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                    all.extend_from_slice(&line);
                    let text = String::from_utf8_lossy(&line);
                    let _ = tx.send(text.trim_end_matches(['\n', '\r']).to_owned());
                    line.clear();
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        });
        let err = child.stderr.take();
        let stderr = std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut s) = err {
                let _ = s.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        });
        Running {
            label: label.to_owned(),
            child: Some(child),
            began,
            lines,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Kills the child and returns its stderr so far (for a failure message).
    pub fn kill(&mut self) -> String {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }

    /// The first stdout line starting with `prefix`, waiting at most `bound`; kills the
    /// child and fails otherwise.
    pub fn line_starting_with(&mut self, prefix: &str, bound: Duration) -> String {
        let deadline = Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let err = self.kill();
                    panic!(
                        "{}: no stdout line {prefix:?} within {bound:?}: killed; stderr:\n{err}",
                        self.label
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let err = self.kill();
                    panic!(
                        "{}: stdout closed before a line {prefix:?}; stderr:\n{err}",
                        self.label
                    );
                }
            }
        }
    }

    /// Waits for the child to exit on its own, at most `bound`; kills it and fails
    /// otherwise. Prints the status, the duration and stderr on the test's stderr (shown
    /// with `--nocapture` or when the test fails).
    pub fn wait(mut self, bound: Duration) -> Exited {
        let status = loop {
            let polled = match self.child.as_mut() {
                Some(c) => c.try_wait(),
                None => panic!("{}: already reaped", self.label),
            };
            match polled {
                Ok(Some(status)) => break status,
                Ok(None) if self.began.elapsed() > bound => {
                    let err = self.kill();
                    panic!(
                        "{}: still running after {bound:?}: killed; stderr:\n{err}",
                        self.label
                    );
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => {
                    let err = self.kill();
                    panic!("{}: try_wait: {e}; stderr:\n{err}", self.label);
                }
            }
        };
        let elapsed = self.began.elapsed();
        self.child = None;
        let stdout = self
            .stdout
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        eprintln!(
            "[{}] exited with {status} in {elapsed:?}; stderr:\n{stderr}",
            self.label
        );
        Exited {
            label: self.label.clone(),
            status,
            stdout,
            stderr,
            elapsed,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

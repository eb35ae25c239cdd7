//! The stub's handle: [`LlmStub`] and its builder. Binds `127.0.0.1`, serves on a private
//! runtime ([`LlmStubBuilder::start`], for blocking tests) or on the caller's
//! ([`LlmStubBuilder::serve`], for the examples), and stops when dropped.

use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use super::dispatch::{Shared, handle};
use super::spec::{Answers, StubRequest};

/// A stub LLM server on `127.0.0.1`; see the [module docs](super).
///
/// Stops serving (and closes its port) when dropped.
///
/// ```no_run
/// let stub = llmetry_testkit::llm_stub::LlmStub::start();
/// let chat_url = format!("{}/v1/chat/completions", stub.base_url());
/// # let _ = chat_url;
/// assert!(stub.requests().is_empty());
/// ```
#[derive(Debug)]
pub struct LlmStub {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Stop,
}

/// How the server is stopped.
#[derive(Debug)]
enum Stop {
    /// A private runtime owned by a thread that shuts it down once the sender is dropped.
    OwnRuntime {
        shutdown: Option<mpsc::Sender<()>>,
        thread: Option<JoinHandle<()>>,
    },
    /// A task on the caller's runtime that ends gracefully on the signal.
    CallerRuntime(Option<oneshot::Sender<()>>),
}

/// Configures an [`LlmStub`]: which [`Answers`] it gives and whether it wants an API key.
///
/// ```no_run
/// use llmetry_testkit::llm_stub::{Answers, LlmStub};
///
/// let stub = LlmStub::builder().answers(Answers::Demo).require_api_key(true).start();
/// # drop(stub);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LlmStubBuilder {
    answers: Answers,
    require_api_key: bool,
}

impl LlmStubBuilder {
    /// Chooses what the stub says (default [`Answers::Canned`]).
    pub fn answers(mut self, answers: Answers) -> Self {
        self.answers = answers;
        self
    }

    /// When `true`, OpenAI routes answer `401` without `Authorization: Bearer <key>` and
    /// the Anthropic route without `x-api-key` (or a bearer token), Gemini routes `403`
    /// without `x-goog-api-key` or a `key=` query parameter, Bedrock `403` without a SigV4
    /// `Authorization`, each with the provider's error body; Ollama never asks. Default
    /// `false`.
    pub fn require_api_key(mut self, require: bool) -> Self {
        self.require_api_key = require;
        self
    }

    /// Binds a port and serves on a private tokio runtime, so the stub can be used from
    /// plain `#[test]` functions. Panics when the port or the runtime cannot be had.
    pub fn start(self) -> LlmStub {
        let std_listener = match bind_local() {
            Ok(l) => l,
            Err(e) => panic!("llm stub: cannot bind 127.0.0.1:0: {e}"),
        };
        let addr = match std_listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("llm stub: local_addr: {e}"),
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("llm-stub")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("llm stub: cannot build tokio runtime: {e}"),
        };

        let shared = self.shared();
        {
            let _guard = runtime.enter();
            let listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(e) => panic!("llm stub: cannot register listener: {e}"),
            };
            let app = router(&shared);
            runtime.spawn(async move {
                // Errors end the server; the test then sees connection failures.
                let _ = axum::serve(listener, app).await;
            });
        }

        let (shutdown, stop) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("llm-stub-owner".to_owned())
            .spawn(move || {
                // Returns on a message or when the sender is dropped.
                let _ = stop.recv();
                runtime.shutdown_timeout(Duration::from_secs(2));
            });
        let thread = match thread {
            Ok(t) => t,
            Err(e) => panic!("llm stub: cannot spawn thread: {e}"),
        };

        LlmStub {
            shared,
            addr,
            stop: Stop::OwnRuntime {
                shutdown: Some(shutdown),
                thread: Some(thread),
            },
        }
    }

    /// Binds a port and serves on the current tokio runtime (no extra threads), until the
    /// stub is dropped. For programs (the examples): failures are returned, not panics.
    pub async fn serve(self) -> io::Result<LlmStub> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = self.shared();
        let app = router(&shared);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(LlmStub {
            shared,
            addr,
            stop: Stop::CallerRuntime(Some(stop)),
        })
    }

    fn shared(&self) -> Arc<Shared> {
        Arc::new(Shared::new(self.answers, self.require_api_key))
    }
}

impl LlmStub {
    /// Binds a port and starts serving [`Answers::Canned`] on a private runtime; see
    /// [`LlmStubBuilder::start`].
    pub fn start() -> LlmStub {
        LlmStub::builder().start()
    }

    /// A builder for a stub with other [`Answers`] or an API key check.
    pub fn builder() -> LlmStubBuilder {
        LlmStubBuilder::default()
    }

    /// `http://127.0.0.1:PORT`: the Anthropic and Ollama base URL; append `/v1` for
    /// OpenAI clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.shared.snapshot()
    }
}

impl Drop for LlmStub {
    fn drop(&mut self) {
        match &mut self.stop {
            Stop::OwnRuntime { shutdown, thread } => {
                drop(shutdown.take());
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            Stop::CallerRuntime(stop) => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
            }
        }
    }
}

fn router(shared: &Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .fallback(handle)
        .with_state(Arc::clone(shared))
}

fn bind_local() -> io::Result<StdTcpListener> {
    let listener = StdTcpListener::bind(("127.0.0.1", 0))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

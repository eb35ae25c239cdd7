//! The plumbing every example shares, so an example file shows only what is specific to it
//! (its workflows, tasks, agents and tools, and its `llmetry::init()` builder chain):
//!
//! - [`env_or`]: an environment variable with a default;
//! - [`telemetry_or_none`] and [`shutdown`]: telemetry never stops an example; on a
//!   configuration error it says so and runs without it;
//! - [`OpenAi::from_env`]: the chat completions provider from `OPENAI_*`, or, when
//!   `OPENAI_API_KEY` is unset, the embedded stub server ([`LlmStub`], the one the tests
//!   use, answering as a model would in a demo: [`Answers::Demo`]), behind an HTTP client
//!   with the LLM middleware ([`llmetry_instruments::LlmMiddleware`]);
//! - [`chat_completion`] and [`start_stream`]: one OpenAI chat completion request, with its
//!   error type [`ChatError`].
//!
//! Every message written on stderr starts with the example's name (`program`).

use std::time::Duration;

use llmetry::{InitError, Telemetry};
use reqwest_middleware::ClientWithMiddleware;
use serde_json::Value;

use llmetry_testkit::llm_stub::{Answers, LlmStub};

/// The value of the environment variable `key`, or `default` when it is unset or blank.
pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// The telemetry handle of `installed` (the result of `llmetry::init()…install()`), or `None`
/// after saying on stderr that `program` runs without telemetry: telemetry must never stop
/// an example.
pub fn telemetry_or_none(
    program: &str,
    installed: Result<Telemetry, InitError>,
) -> Option<Telemetry> {
    match installed {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("{program}: running without telemetry: {e}");
            None
        }
    }
}

/// Shuts `telemetry` down (delivering everything still buffered), reporting a failure on
/// stderr.
pub fn shutdown(program: &str, telemetry: Option<Telemetry>) {
    if let Some(t) = telemetry
        && let Err(e) = t.shutdown()
    {
        eprintln!("{program}: {e}");
    }
}

/// The HTTP client settings of a request/response model call: an overall 60 s timeout.
pub fn http_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(Duration::from_secs(60))
}

/// An OpenAI-compatible chat completions provider, with the HTTP client to call it.
#[derive(Debug)]
pub struct OpenAi {
    /// The HTTP client, with the LLM middleware: it records an `openai.chat` span (model,
    /// tokens, messages) per call, under the current span, and the GenAI metrics.
    pub client: ClientWithMiddleware,
    /// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`), or the stub's URL.
    pub base_url: String,
    /// `OPENAI_API_KEY`, or `stub-key` for the stub.
    pub api_key: String,
    /// `OPENAI_MODEL` (default `gpt-4o-mini`).
    pub model: String,
    /// The embedded stub server, when it answers; it stops when this is dropped.
    _stub: Option<LlmStub>,
}

impl OpenAi {
    /// The provider from `OPENAI_BASE_URL`, `OPENAI_API_KEY` and `OPENAI_MODEL`. When
    /// `OPENAI_API_KEY` is unset, starts the embedded stub server on the current runtime
    /// ([`LlmStub`] with [`Answers::Demo`], wanting the `stub-key` API key as OpenAI wants
    /// one) and says so on stderr.
    /// The client is built from `http` (e.g. [`http_client`]) with the LLM middleware.
    ///
    /// On failure, says why on stderr (as `{program}: …`) and returns `None`: the example
    /// cannot run and should exit with a failure code.
    pub async fn from_env(program: &str, http: reqwest::ClientBuilder) -> Option<Self> {
        let mut stub = None;
        let (base_url, api_key) = match std::env::var("OPENAI_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
        {
            Some(key) => (env_or("OPENAI_BASE_URL", "https://api.openai.com/v1"), key),
            None => match embedded_stub().await {
                Ok(s) => {
                    let url = format!("{}/v1", s.base_url());
                    eprintln!(
                        "{program}: OPENAI_API_KEY is not set: answering from an embedded stub OpenAI server at {url}"
                    );
                    stub = Some(s);
                    (url, "stub-key".to_owned())
                }
                Err(e) => {
                    eprintln!("{program}: could not start the embedded stub server: {e}");
                    return None;
                }
            },
        };
        let client = match http.build() {
            Ok(c) => reqwest_middleware::ClientBuilder::new(c)
                .with(llmetry_instruments::LlmMiddleware::default())
                .build(),
            Err(e) => {
                eprintln!("{program}: could not build the HTTP client: {e}");
                return None;
            }
        };
        Some(Self {
            client,
            base_url,
            api_key,
            model: env_or("OPENAI_MODEL", "gpt-4o-mini"),
            _stub: stub,
        })
    }

    /// `(client, base_url, api_key, model)`, the way the examples' workflows and tasks take
    /// them: as separate arguments, so that their recorded input shows the base URL and the
    /// model while `skip(client, api_key)` leaves out the client and the key.
    pub fn parts(&self) -> (&ClientWithMiddleware, &str, &str, &str) {
        (&self.client, &self.base_url, &self.api_key, &self.model)
    }
}

/// The embedded OpenAI-compatible server: demo answers (a haiku about the prompt, every
/// offered tool called with arguments taken from the prompt, tool results quoted back),
/// and OpenAI's `401` without an API key.
async fn embedded_stub() -> std::io::Result<LlmStub> {
    LlmStub::builder()
        .answers(Answers::Demo)
        .require_api_key(true)
        .serve()
        .await
}

/// Why a chat completion failed.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The request could not be sent.
    #[error("request to {url} failed: {source}")]
    Http {
        /// The chat completions URL.
        url: String,
        /// What went wrong.
        source: reqwest_middleware::Error,
    },
    /// The response body could not be read.
    #[error("reading the response of {url} failed: {source}")]
    Body {
        /// The chat completions URL.
        url: String,
        /// What went wrong.
        source: reqwest::Error,
    },
    /// The provider answered with an error status.
    #[error("{url} answered {status}: {body}")]
    Status {
        /// The chat completions URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The response body.
        body: String,
    },
    /// The response is not a chat completion with the expected field.
    #[error("unexpected response from {url}: no {missing}")]
    Shape {
        /// The chat completions URL.
        url: String,
        /// The field that is missing, e.g. `choices[0].message.content`.
        missing: &'static str,
    },
}

/// A successful chat completion response.
#[derive(Debug)]
pub struct Completion {
    /// The chat completions URL that answered.
    pub url: String,
    /// The response body (`null` when it is not JSON).
    pub response: Value,
}

impl Completion {
    /// `choices[0].message.content`.
    pub fn content(&self) -> Result<&str, ChatError> {
        self.response["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| self.shape("choices[0].message.content"))
    }

    /// `choices[0].message`, e.g. to read its `tool_calls`.
    pub fn into_message(mut self) -> Result<Value, ChatError> {
        let message = self.response["choices"][0]["message"].take();
        if message.is_object() {
            Ok(message)
        } else {
            Err(self.shape("choices[0].message"))
        }
    }

    fn shape(&self, missing: &'static str) -> ChatError {
        ChatError::Shape {
            url: self.url.clone(),
            missing,
        }
    }
}

/// `{base_url}/chat/completions`.
fn chat_completions_url(base_url: &str) -> String {
    format!("{}/chat/completions", base_url.trim_end_matches('/'))
}

/// Sends `body` to the chat completions endpoint of `base_url`.
async fn send(
    client: &ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    body: &Value,
) -> Result<(String, reqwest::Response), ChatError> {
    let url = chat_completions_url(base_url);
    match client
        .post(&url)
        .bearer_auth(api_key)
        .json(body)
        .send()
        .await
    {
        Ok(resp) => Ok((url, resp)),
        Err(source) => Err(ChatError::Http { url, source }),
    }
}

/// One chat completion (`body` is the request: `model`, `messages`, …) on the provider at
/// `base_url`; an error status is an error.
pub async fn chat_completion(
    client: &ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    body: &Value,
) -> Result<Completion, ChatError> {
    let (url, resp) = send(client, base_url, api_key, body).await?;
    let status = resp.status();
    let text = match resp.text().await {
        Ok(t) => t,
        Err(source) => return Err(ChatError::Body { url, source }),
    };
    if !status.is_success() {
        return Err(ChatError::Status {
            url,
            status: status.as_u16(),
            body: text,
        });
    }
    let response = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Completion { url, response })
}

/// Starts a streamed chat completion (`body` has `"stream": true`): the URL and the
/// response, whose body is the server-sent events; an error status is an error.
pub async fn start_stream(
    client: &ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    body: &Value,
) -> Result<(String, reqwest::Response), ChatError> {
    let (url, resp) = send(client, base_url, api_key, body).await?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        let status = status.as_u16();
        return Err(ChatError::Status { url, status, body });
    }
    Ok((url, resp))
}

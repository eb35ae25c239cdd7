//! A streamed chat completion: a `#[task(name = "stream_haiku")]` returns an `impl Stream` of
//! text deltas parsed from the server-sent events of a `"stream": true` chat completion, and
//! the `#[workflow(name = "streaming")]` prints them on stdout as they arrive.
//!
//! The task's span lives until the stream ends (or is dropped), so it ends after the
//! `openai.chat` span of the LLM middleware, which gets status OK once the stream completed
//! and `gen_ai.server.time_to_first_token`.
//!
//! Environment: `OPENAI_BASE_URL` (default `https://api.openai.com/v1`), `OPENAI_API_KEY`
//! (when unset, an embedded stub server that speaks the OpenAI wire format streams the
//! answer), `OPENAI_MODEL` (default `gpt-4o-mini`), `OPENAI_PROMPT`. Telemetry destinations
//! come from `TRACELOOP_*` / `OTEL_*` (see the README); with none set, the span tree is
//! printed on stderr.
//!
//! `cargo run -p llmetry-examples --bin streaming`

use std::io::Write;
use std::pin::pin;
use std::process::ExitCode;

use futures::future::Either;
use futures::{Stream, StreamExt};
use llmetry::{task, workflow};
use llmetry_examples::support::{self, ChatError, OpenAi, env_or};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error("reading the stream of {url} failed: {source}")]
    Body { url: String, source: reqwest::Error },
    #[error("{url} sent an event that is not a chat.completion.chunk: {data}")]
    Event { url: String, data: String },
    #[error("{url} sent an error in the stream: {error}")]
    Provider { url: String, error: String },
    #[error("the stream of {url} ended before `data: [DONE]`")]
    Truncated { url: String },
}

/// Where the SSE parser is: the body still to read, the bytes of an incomplete line, and
/// whether `data: [DONE]` was seen.
struct Sse<B> {
    body: B,
    buf: Vec<u8>,
    done: bool,
    url: String,
}

/// The text deltas (`choices[0].delta.content`) of an OpenAI chat completion SSE body. The
/// body is read to its end (not only to `[DONE]`), so the middleware sees a completed stream.
fn text_deltas(
    body: impl Stream<Item = reqwest::Result<impl AsRef<[u8]>>> + Unpin,
    url: String,
) -> impl Stream<Item = Result<String, StreamError>> {
    let start = Sse {
        body,
        buf: Vec::new(),
        done: false,
        url,
    };
    futures::stream::unfold(Some(start), |state| async move {
        let mut s = state?;
        loop {
            // One complete line at a time; a line split across chunks waits for the rest.
            if let Some(end) = s.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = s.buf.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let Some(data) = line.trim_end().strip_prefix("data:").map(str::trim) else {
                    continue; // blank separator, `event:`, `: comment`
                };
                if data == "[DONE]" {
                    s.done = true;
                    continue;
                }
                let Ok(chunk) = serde_json::from_str::<Value>(data) else {
                    let err = StreamError::Event {
                        url: s.url.clone(),
                        data: data.to_owned(),
                    };
                    return Some((Err(err), None));
                };
                if !chunk["error"].is_null() {
                    let err = StreamError::Provider {
                        url: s.url.clone(),
                        error: chunk["error"].to_string(),
                    };
                    return Some((Err(err), None));
                }
                match chunk["choices"][0]["delta"]["content"].as_str() {
                    Some(text) if !text.is_empty() => return Some((Ok(text.to_owned()), Some(s))),
                    _ => continue, // the role chunk, the finish chunk, the usage chunk
                }
            }
            match s.body.next().await {
                Some(Ok(bytes)) => s.buf.extend_from_slice(bytes.as_ref()),
                Some(Err(source)) => {
                    let url = s.url.clone();
                    return Some((Err(StreamError::Body { url, source }), None));
                }
                None if s.done => return None,
                None => {
                    let url = s.url.clone();
                    return Some((Err(StreamError::Truncated { url }), None));
                }
            }
        }
    })
}

/// Asks for a streamed haiku; the deltas, or the one error that stopped them.
#[task(name = "stream_haiku", skip(client, api_key))]
async fn stream_haiku(
    client: &reqwest_middleware::ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    model: &str,
    prompt: &str,
) -> impl Stream<Item = Result<String, StreamError>> {
    let body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a concise poet."},
            {"role": "user", "content": prompt}
        ],
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    match support::start_stream(client, base_url, api_key, &body).await {
        Ok((url, resp)) => Either::Right(text_deltas(resp.bytes_stream().boxed(), url)),
        Err(e) => Either::Left(futures::stream::iter([Err(e.into())])),
    }
}

#[workflow(name = "streaming", skip(client, api_key))]
async fn run(
    client: &reqwest_middleware::ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    model: &str,
    prompt: &str,
) -> Result<String, StreamError> {
    let mut deltas = pin!(stream_haiku(client, base_url, api_key, model, prompt).await);
    let mut haiku = String::new();
    while let Some(delta) = deltas.next().await {
        let delta = delta?;
        print!("{delta}");
        let _ = std::io::stdout().flush();
        haiku.push_str(&delta);
    }
    println!();
    Ok(haiku)
}

#[tokio::main]
async fn main() -> ExitCode {
    // Telemetry must never stop the job: on a configuration error, say so and go on without it.
    let telemetry = support::telemetry_or_none(
        "streaming",
        llmetry::init()
            .app_name("streaming")
            .disable_batch(true)
            .install(),
    );

    let prompt = env_or("OPENAI_PROMPT", "Write a haiku about streaming");
    // No overall timeout (it would cut a long stream); connecting and each read are bounded.
    // The LLM middleware passes the stream through chunk by chunk and records an
    // `openai.chat` span under the `stream_haiku` task.
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(60));
    let Some(llm) = OpenAi::from_env("streaming", http).await else {
        return ExitCode::FAILURE;
    };

    let (client, base_url, api_key, model) = llm.parts();
    let streamed = run(client, base_url, api_key, model, &prompt).await;
    let code = match streamed {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streaming: {e}");
            ExitCode::FAILURE
        }
    };
    support::shutdown("streaming", telemetry);
    code
}

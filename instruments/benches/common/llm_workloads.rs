//! What both LLM benches share (`llm.rs` with criterion, `../icount/benches/llm_icount.rs` under callgrind): the
//! exporter that discards spans and the chat request body, so the two harnesses measure the
//! same calls. Included by `#[path]`; not a bench target of its own.

use std::hint::black_box;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::json;

/// Drops every span: we count the caller's cost, not the network's.
#[derive(Debug)]
pub(crate) struct DiscardExporter;

impl SpanExporter for DiscardExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// The chat completion request of every workload, streamed or not.
pub(crate) fn body(stream: bool) -> serde_json::Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "stream_options": {"include_usage": stream},
           "messages": [{"role": "user", "content": "a haiku about OpenTelemetry"}]})
}

/// One chat completion through `client`, its body read to the end; the body's length.
pub(crate) async fn call(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: &str,
    stream: bool,
) -> usize {
    use futures::StreamExt as _;
    let resp = match client.post(url).json(&body(stream)).send().await {
        Ok(r) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    if stream {
        let mut s = resp.bytes_stream();
        let mut n = 0;
        while let Some(Ok(b)) = s.next().await {
            n += b.len();
        }
        n
    } else {
        resp.bytes().await.map(|b| b.len()).unwrap_or(0)
    }
}

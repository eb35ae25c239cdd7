//! Fixed workloads of LLM capture for instruction counting under callgrind (issue 11), and
//! for `.ci/icount` (the instruction-count regression check).
//!
//! ```text
//! cargo bench -p llmetry-instruments-icount --bench llm_icount --no-run    # prints the binary's path
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null <binary> <workload> <iterations>
//! ```
//!
//! The binary runs `<iterations>` repetitions of one workload (after one warm-up call that is
//! not counted separately: subtract the count of a run with fewer iterations to get the
//! instructions per call), prints one line `workload=<name> iterations=<n> bytes=<checksum>`
//! and exits 0; an unknown workload prints the list and exits 2. Telemetry is installed as in
//! an application (batch span processor with a discarding exporter, a meter provider with an
//! in-memory exporter, content capture on). Nothing depends on the wall clock.
//!
//! | workload | what one iteration is |
//! |---|---|
//! | `chat` / `chat_plain` | a non-streamed chat completion to the in-process stub (`llmetry_testkit::llm_stub`, loopback HTTP) through a `reqwest-middleware` client with / without `LlmMiddleware` |
//! | `stream11` / `stream11_plain` | the same, streamed (`"stream": true`, 11 SSE events), read to the end |
//! | `chat_local` / `chat_local_plain` | a non-streamed chat completion answered by an in-process transport (a last middleware, no socket, no thread): the capture's own cost, deterministic |
//! | `stream11_local` / `stream11_local_plain` | the same, streamed: 11 SSE events in 11 chunks |
//! | `sse_chunk` | SSE decoding and accumulation of one `chat.completion.chunk` (the per-event cost) |
//!
//! The `*_local` and `sse_chunk` workloads run on one thread; they are the ones to pin in a
//! regression baseline. The loopback ones include the stub's server threads (the same work
//! with and without capture).

use std::hint::black_box;
use std::process::ExitCode;

use llmetry_instruments::LlmMiddleware;
use llmetry_instruments::decode::SseDecoder;
use llmetry_instruments::model::Api;
use llmetry_instruments::providers::Accumulator;
use llmetry_testkit::llm_stub::LlmStub;
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use serde_json::json;

const WORKLOADS: &[&str] = &[
    "chat",
    "chat_plain",
    "stream11",
    "stream11_plain",
    "chat_local",
    "chat_local_plain",
    "stream11_local",
    "stream11_local_plain",
    "sse_chunk",
];

#[path = "../../benches/common/llm_workloads.rs"]
mod workloads;
use workloads::{DiscardExporter, call};

/// A chat completion as OpenAI answers it.
const CHAT_RESPONSE: &str = r#"{"id":"chatcmpl-0001","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Spans drift like leaves, traces weave through quiet logs, metrics hum at dusk.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":19,"total_tokens":33,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_0001"}"#;

/// One streamed content chunk.
fn chunk(delta: &str, finish: Option<&str>) -> String {
    format!(
        "data: {}\n\n",
        json!({"id": "chatcmpl-0001", "object": "chat.completion.chunk", "created": 1700000000,
               "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0001",
               "choices": [{"index": 0, "delta": serde_json::from_str::<serde_json::Value>(delta).unwrap_or_default(),
                            "logprobs": null, "finish_reason": finish}],
               "usage": null})
    )
}

/// The 11 SSE events of a streamed answer: role, 7 words, finish, usage, `[DONE]`.
fn stream_events() -> Vec<String> {
    let mut events = vec![chunk(r#"{"role": "assistant", "content": ""}"#, None)];
    for word in [
        "Spans", " drift", " like", " leaves,", " traces", " weave", " through",
    ] {
        events.push(chunk(&json!({ "content": word }).to_string(), None));
    }
    events.push(chunk("{}", Some("stop")));
    events.push(format!(
        "data: {}\n\n",
        json!({"id": "chatcmpl-0001", "object": "chat.completion.chunk", "created": 1700000000,
               "model": "gpt-4o-mini-2024-07-18", "choices": [],
               "usage": {"prompt_tokens": 14, "completion_tokens": 7, "total_tokens": 21}})
    ));
    events.push("data: [DONE]\n\n".to_owned());
    events
}

/// The transport of the `*_local` workloads: answers every request in process.
struct LocalOpenAi {
    events: Vec<bytes::Bytes>,
}

#[async_trait::async_trait]
impl Middleware for LocalOpenAi {
    async fn handle(
        &self,
        req: reqwest::Request,
        _: &mut http::Extensions,
        _: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let stream = req.body().and_then(|b| b.as_bytes()).is_some_and(|b| {
            let needle = b"\"stream\":true";
            b.windows(needle.len()).any(|w| w == needle)
        });
        let resp = if stream {
            let chunks: Vec<reqwest::Result<bytes::Bytes>> =
                self.events.iter().cloned().map(Ok).collect();
            http::Response::builder()
                .header("content-type", "text/event-stream; charset=utf-8")
                .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        } else {
            http::Response::builder()
                .header("content-type", "application/json")
                .body(reqwest::Body::from(CHAT_RESPONSE))
        };
        resp.map(reqwest::Response::from)
            .map_err(reqwest_middleware::Error::middleware)
    }
}

/// `n` calls, one after the other, on `rt` (this thread); the sum of the body lengths.
fn calls(
    rt: &tokio::runtime::Runtime,
    client: &ClientWithMiddleware,
    url: &str,
    stream: bool,
    n: usize,
) -> usize {
    rt.block_on(async {
        let mut sum = 0usize;
        for _ in 0..n {
            sum = sum.wrapping_add(call(client, url, stream).await);
        }
        sum
    })
}

/// The counted calls: the only code `.ci/icount` collects (`--toggle-collect='*::measured'`).
#[inline(never)]
fn measured(
    rt: &tokio::runtime::Runtime,
    client: &ClientWithMiddleware,
    url: &str,
    stream: bool,
    n: usize,
) -> usize {
    calls(rt, client, url, stream, n)
}

/// `n` times: one SSE event decoded and folded into the accumulator.
fn push_chunks(decoder: &mut SseDecoder, acc: &mut Accumulator, event: &str, n: usize) {
    for _ in 0..n {
        for e in decoder.push(black_box(event.as_bytes())) {
            let _ = black_box(acc.push(e.event.as_deref(), &e.data));
        }
    }
}

mod sse {
    use super::{Accumulator, SseDecoder};

    /// The counted chunks (`sse_chunk`): the only code `.ci/icount` collects.
    #[inline(never)]
    pub(super) fn measured(decoder: &mut SseDecoder, acc: &mut Accumulator, event: &str, n: usize) {
        super::push_chunks(decoder, acc, event, n);
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_default();
    let iterations: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    if !WORKLOADS.contains(&workload.as_str()) {
        eprintln!("usage: llm_icount <workload> [iterations]; workloads: {WORKLOADS:?}");
        return ExitCode::from(2);
    }

    let telemetry = llmetry::init()
        .app_name("icount")
        .exporter(DiscardExporter)
        .metrics_exporter(InMemoryMetricExporter::default())
        .silence_init_message(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install();
    let telemetry = match telemetry {
        Ok(t) => t,
        Err(e) => panic!("install failed: {e}"),
    };

    let checksum = if workload == "sse_chunk" {
        let event = chunk(r#"{"content": " word"}"#, None);
        let mut decoder = SseDecoder::new();
        let mut acc = Accumulator::new(Api::OpenAiChat);
        push_chunks(&mut decoder, &mut acc, &event, 1); // warm-up
        sse::measured(&mut decoder, &mut acc, &event, iterations);
        acc.response().output_messages.len()
    } else {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("runtime: {e}"),
        };
        let local = workload.contains("local");
        let stream = workload.starts_with("stream");
        let plain = workload.ends_with("_plain");
        let stub = (!local).then(LlmStub::start);
        let url = match &stub {
            Some(s) => format!("{}/v1/chat/completions", s.base_url()),
            None => "https://api.openai.com/v1/chat/completions".to_owned(),
        };
        let mut builder = ClientBuilder::new(reqwest::Client::new());
        if !plain {
            builder = builder.with(LlmMiddleware::default());
        }
        if local {
            builder = builder.with(LocalOpenAi {
                events: stream_events()
                    .into_iter()
                    .map(bytes::Bytes::from)
                    .collect(),
            });
        }
        let client = builder.build();
        // One warm-up call (connection, lazily built state), then the counted ones.
        let warm_up = calls(&rt, &client, &url, stream, 1);
        let sum = warm_up.wrapping_add(measured(&rt, &client, &url, stream, iterations));
        drop(stub);
        sum
    };
    println!("workload={workload} iterations={iterations} bytes={checksum}");
    let _ = telemetry.shutdown();
    ExitCode::SUCCESS
}

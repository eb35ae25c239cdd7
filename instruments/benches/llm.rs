//! Added cost of LLM capture: an instrumented vs a plain call to the local stub
//! (non-streamed and streamed), and the per-chunk cost of decoding and accumulating a
//! streamed response.
//!
//! `cargo bench -p llmetry-instruments --bench llm`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use llmetry_instruments::decode::SseDecoder;
use llmetry_instruments::model::Api;
use llmetry_instruments::providers::Accumulator;
use llmetry_testkit::llm_stub::LlmStub;
use serde_json::json;

#[path = "common/llm_workloads.rs"]
mod workloads;
use workloads::{DiscardExporter, call};

fn calls(c: &mut Criterion) {
    let telemetry = llmetry::init()
        .app_name("bench")
        .exporter(DiscardExporter)
        .silence_init_message(true)
        .env_source(llmetry::EnvSource::from_pairs(
            Vec::<(String, String)>::new(),
        ))
        .install();
    let Ok(telemetry) = telemetry else {
        panic!("install failed")
    };
    let stub = LlmStub::start();
    let url = format!("{}/v1/chat/completions", stub.base_url());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let Ok(rt) = rt else { panic!("runtime") };
    let plain = reqwest_middleware::ClientBuilder::new(reqwest::Client::new()).build();
    let instrumented = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build();

    let call = |client: &reqwest_middleware::ClientWithMiddleware, stream: bool| {
        let client = client.clone();
        let url = url.clone();
        async move { call(&client, &url, stream).await }
    };

    let mut g = c.benchmark_group("chat_call");
    g.bench_function("plain", |b| b.iter(|| rt.block_on(call(&plain, false))));
    g.bench_function("instrumented", |b| {
        b.iter(|| rt.block_on(call(&instrumented, false)))
    });
    g.bench_function("plain_stream", |b| {
        b.iter(|| rt.block_on(call(&plain, true)))
    });
    g.bench_function("instrumented_stream", |b| {
        b.iter(|| rt.block_on(call(&instrumented, true)))
    });
    g.finish();

    // Per chunk: SSE decoding + accumulation of one `chat.completion.chunk`.
    let chunk = format!(
        "data: {}\n\n",
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
               "choices": [{"index": 0, "delta": {"content": " word"}, "finish_reason": null}]})
    );
    let mut g = c.benchmark_group("stream_chunk");
    g.bench_function("decode_and_accumulate", |b| {
        b.iter_batched(
            || (SseDecoder::default(), Accumulator::new(Api::OpenAiChat)),
            |(mut decoder, mut acc)| {
                for e in decoder.push(black_box(chunk.as_bytes())) {
                    let _ = black_box(acc.push(e.event.as_deref(), &e.data));
                }
                (decoder, acc)
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
    drop(stub);
    let _ = telemetry.shutdown();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(40)
}

criterion_group! { name = benches; config = config(); targets = calls }
criterion_main!(benches);

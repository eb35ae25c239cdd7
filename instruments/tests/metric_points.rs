//! The GenAI metrics of many calls, as an application makes them: the points of calls with
//! the same attributes add up in one data point, calls that differ (model, error) get their
//! own, and calls of more distinct attribute sets than llmetry keeps bound instruments for
//! (metrics.rs: `MAX_SHAPES`, 512) are all still counted.
//!
//! One test: the harness and the cumulative metric state are process-wide.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failure shows its cause

use llmetry_testkit::llm_stub::{LlmStub, RATE_LIMITED};
use llmetry_testkit::{MetricPoint, harness};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::json;

/// More distinct models than the cache of bound instruments holds.
const MANY_MODELS: usize = 520;

async fn chat(client: &ClientWithMiddleware, base: &str, model: &str) -> u16 {
    let body = json!({"model": model,
                      "messages": [{"role": "user", "content": "Why did db-1 go down?"}]});
    let resp = client
        .post(format!("{base}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    resp.bytes().await.expect("body");
    status
}

fn points<'a>(all: &'a [MetricPoint], name: &str, model: &str) -> Vec<&'a MetricPoint> {
    all.iter()
        .filter(|p| p.name == name && p.attr("gen_ai.request.model") == Some(model))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_add_up_per_attribute_set_and_every_call_is_counted() {
    let h = harness();
    let stub = LlmStub::builder().serve().await.expect("stub");
    let base = stub.base_url();
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build();

    // The model in a variable, as an application holds it.
    let usual = String::from("gpt-4o-mini");
    for _ in 0..3 {
        assert_eq!(chat(&client, &base, &usual).await, 200);
    }
    assert_eq!(chat(&client, &base, "gpt-4.1-nano").await, 200);
    for _ in 0..2 {
        assert_eq!(chat(&client, &base, RATE_LIMITED).await, 429);
    }
    for i in 0..MANY_MODELS {
        assert_eq!(chat(&client, &base, &format!("model-{i}")).await, 200);
    }
    // The usual shape again, after the cache filled up: still the same point.
    assert_eq!(chat(&client, &base, &usual).await, 200);
    h.flush();
    let all = h.metric_points();

    // Four calls of one shape: one point per token type, count 4, and the sum of their tokens.
    let tokens = points(&all, "gen_ai.client.token.usage", &usual);
    assert_eq!(tokens.len(), 2, "one point per token type: {tokens:?}");
    for p in &tokens {
        assert_eq!(p.count, 4, "{p:?}");
        assert_eq!(
            p.attr("gen_ai.response.model"),
            Some("gpt-4o-mini-2024-07-18")
        );
    }
    let input = tokens
        .iter()
        .find(|p| p.attr("gen_ai.token.type") == Some("input"))
        .expect("input tokens");
    // "Why did db-1 go down?": 5 words, 5 input tokens per call (the stub's count).
    assert_eq!(input.value, 20.0, "{input:?}");
    let duration = points(&all, "gen_ai.client.operation.duration", &usual);
    assert_eq!(duration.len(), 1, "{duration:?}");
    assert_eq!(duration[0].count, 4);
    // Choices as Python counts them: the choices (4), and 1 per choice with its reason.
    let choices = points(&all, "gen_ai.client.generation.choices", &usual);
    let without_reason = choices
        .iter()
        .find(|p| p.attr("gen_ai.response.finish_reason").is_none())
        .expect("the choices point");
    assert_eq!(without_reason.value, 4.0, "{choices:?}");
    let stop = choices
        .iter()
        .find(|p| p.attr("gen_ai.response.finish_reason") == Some("stop"))
        .expect("the stop point");
    assert_eq!(stop.value, 4.0, "{choices:?}");

    // Another model: points of its own.
    let nano = points(&all, "gen_ai.client.operation.duration", "gpt-4.1-nano");
    assert_eq!(nano.len(), 1, "{nano:?}");
    assert_eq!(nano[0].count, 1);

    // Failed calls: a duration with error.type and the exception counter, nothing else.
    let failed = points(&all, "gen_ai.client.operation.duration", RATE_LIMITED);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].count, 2);
    assert!(failed[0].attr("error.type").is_some(), "{failed:?}");
    let exceptions = points(&all, "llm.openai.chat_completions.exceptions", RATE_LIMITED);
    assert_eq!(exceptions.len(), 1, "{exceptions:?}");
    assert_eq!(exceptions[0].value, 2.0);
    assert!(points(&all, "gen_ai.client.token.usage", RATE_LIMITED).is_empty());

    // Every one of the many shapes is counted, past the cache's size.
    for i in 0..MANY_MODELS {
        let model = format!("model-{i}");
        let d = points(&all, "gen_ai.client.operation.duration", &model);
        assert_eq!(d.len(), 1, "{model}: {d:?}");
        assert_eq!(d[0].count, 1, "{model}");
        let t = points(&all, "gen_ai.client.token.usage", &model);
        assert_eq!(t.len(), 2, "{model}: {t:?}");
    }
    let all_durations: u64 = all
        .iter()
        .filter(|p| p.name == "gen_ai.client.operation.duration")
        .map(|p| p.count)
        .sum();
    assert_eq!(all_durations, (4 + 1 + 2 + MANY_MODELS) as u64);
}

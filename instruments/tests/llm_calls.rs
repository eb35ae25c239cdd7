//! LLM calls through the reqwest-middleware adapter against local stubs speaking each
//! provider's real wire format: spans, attributes, status, parentage under `#[task]`,
//! streaming end states, errors, metrics, and the content gate.

#![allow(clippy::expect_used)] // the helpers and tasks below are test code: a failure shows its cause

use futures::StreamExt as _;
use llmetry::{task, workflow};
use llmetry_testkit::llm_stub::{self, LlmStub};
use llmetry_testkit::{attr, attr_str, harness, int_attr, json_attr};
use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};
use serde_json::{Value as Json, json};

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(llmetry_instruments::LlmMiddleware::default())
        .build()
}

async fn post(
    c: &reqwest_middleware::ClientWithMiddleware,
    url: String,
    body: Json,
) -> (u16, Json) {
    let resp = c.post(url).json(&body).send().await;
    let resp = resp.expect("request");
    let status = resp.status().as_u16();
    let json = resp.json::<Json>().await.unwrap_or(Json::Null);
    (status, json)
}

/// Reads a streamed body to its end, returning the text and whether it ended with an error.
async fn drain(
    c: &reqwest_middleware::ClientWithMiddleware,
    url: String,
    body: Json,
) -> (String, bool) {
    let resp = c.post(url).json(&body).send().await;
    let resp = resp.expect("request");
    let mut s = resp.bytes_stream();
    let mut text = Vec::new();
    let mut failed = false;
    while let Some(chunk) = s.next().await {
        match chunk {
            Ok(b) => text.extend_from_slice(&b),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    (String::from_utf8_lossy(&text).into_owned(), failed)
}

// ------------------------------------------------------------------ OpenAI chat

#[task(name = "openai_chat_task")]
async fn openai_chat_task(base: String) -> Json {
    let body = json!({
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 64,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
            ]}
        ]
    });
    post(&client(), format!("{base}/v1/chat/completions"), body)
        .await
        .1
}

#[workflow(name = "openai_chat_wf")]
async fn openai_chat_wf(base: String) -> Json {
    llmetry::set_association_properties([("user_id", "u-7")]);
    openai_chat_task(base).await
}

#[tokio::test]
async fn openai_chat_span_nests_under_the_task_with_genai_attributes() {
    let h = harness();
    let stub = LlmStub::start();
    let body = openai_chat_wf(stub.base_url()).await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        llm_stub::REPLY,
        "the caller gets the body intact"
    );

    let (s, parent) = h.span_with_parent("openai_chat_wf.workflow", "openai.chat");
    assert_eq!(parent.as_deref(), Some("openai_chat_task.task"));
    assert_eq!(s.span_kind, SpanKind::Client);
    assert_eq!(s.status, Status::Unset);
    // Python's scope for OpenAI-API calls (issue 10: was `llmetry.instruments`).
    assert_eq!(
        s.instrumentation_scope.name(),
        "opentelemetry.instrumentation.openai.v1"
    );
    let a = |k: &str| attr_str(&s, k);
    assert_eq!(a("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(a("gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(a("server.address").as_deref(), Some("127.0.0.1"));
    assert!(int_attr(&s, "server.port").is_some_and(|p| p > 0));
    assert_eq!(a("gen_ai.request.model").as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        a("gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert!(a("gen_ai.response.id").is_some());
    assert_eq!(
        attr(&s, "gen_ai.request.temperature"),
        Some(Value::F64(0.2))
    );
    assert_eq!(int_attr(&s, "gen_ai.request.max_tokens"), Some(64));
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(Value::Bool(false)));
    assert_eq!(
        attr(&s, "gen_ai.response.finish_reasons"),
        Some(Value::Array(
            vec![opentelemetry::StringValue::from("stop")].into()
        ))
    );
    let input = int_attr(&s, "gen_ai.usage.input_tokens");
    let output = int_attr(&s, "gen_ai.usage.output_tokens");
    assert!(input.is_some_and(|n| n > 0) && output.is_some_and(|n| n > 0));
    assert_eq!(
        int_attr(&s, "gen_ai.usage.total_tokens"),
        Some(input.unwrap_or(0) + output.unwrap_or(0))
    );
    assert!(int_attr(&s, "gen_ai.usage.cache_read.input_tokens").is_some());
    assert_eq!(
        int_attr(&s, "gen_ai.usage.reasoning_tokens"),
        Some(llm_stub::REASONING_TOKENS as i64)
    );
    // enrichment from the workflow reached the LLM span
    assert_eq!(
        a("traceloop.workflow.name").as_deref(),
        Some("openai_chat_wf")
    );
    assert_eq!(
        a("traceloop.entity.path").as_deref(),
        Some("openai_chat_task")
    );
    assert_eq!(
        a("traceloop.association.properties.user_id").as_deref(),
        Some("u-7")
    );
    // content in the GenAI parts format
    assert_eq!(
        json_attr(&s, "gen_ai.input.messages"),
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
            {"role": "user", "parts": [
                {"type": "text", "content": "What is in this image?"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"}
            ]}
        ])
    );
    assert_eq!(
        json_attr(&s, "gen_ai.output.messages"),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": llm_stub::REPLY}], "finish_reason": "stop"}])
    );
    // W3C traceparent of the LLM span went out with the request
    let sent = stub.requests();
    let tp = sent[0].header("traceparent").unwrap_or_default().to_owned();
    assert_eq!(
        tp.split('-').nth(1),
        Some(s.span_context.trace_id().to_string().as_str()),
        "{tp}"
    );
    assert_eq!(
        tp.split('-').nth(2),
        Some(s.span_context.span_id().to_string().as_str()),
        "{tp}"
    );

    // metrics: host (not URL) in server.address, choices as Python counts them, buckets as
    // Python's
    let points = h.metric_points();
    let mine = |name: &str| -> Vec<llmetry_testkit::MetricPoint> {
        points
            .iter()
            .filter(|p| {
                p.name == name && p.attr("traceloop.workflow.name") == Some("openai_chat_wf")
            })
            .cloned()
            .collect()
    };
    let tokens = mine("gen_ai.client.token.usage");
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    for p in &tokens {
        assert_eq!(p.unit, "token");
        assert_eq!(p.bounds, llmetry::TOKEN_USAGE_BOUNDARIES.to_vec());
        assert_eq!(p.attr("server.address"), Some("127.0.0.1"));
        assert_eq!(p.attr("gen_ai.provider.name"), Some("openai"));
        assert_eq!(p.attr("gen_ai.operation.name"), Some("chat"));
        assert_eq!(p.attr("gen_ai.request.model"), Some("gpt-4o-mini"));
        assert_eq!(
            p.attr("gen_ai.response.model"),
            Some("gpt-4o-mini-2024-07-18")
        );
        assert_eq!(p.attr("stream"), Some("false"));
        assert_eq!(
            p.attr("traceloop.association.properties.user_id"),
            None,
            "association properties are opt-in on metrics"
        );
    }
    let input_point = tokens
        .iter()
        .find(|p| p.attr("gen_ai.token.type") == Some("input"));
    assert_eq!(input_point.map(|p| p.value as i64), input);
    let duration = mine("gen_ai.client.operation.duration");
    assert_eq!(duration.len(), 1);
    assert_eq!(duration[0].unit, "s");
    // The SDK default buckets, as Python (issue 10: the operation-duration buckets applied
    // to every GenAI histogram in seconds matched neither Python nor the conventions).
    assert_eq!(
        duration[0].bounds,
        [
            0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0,
            7500.0, 10000.0
        ]
    );
    // As Python (issue 10): the number of choices, and 1 per choice with its finish reason.
    let choices = mine("gen_ai.client.generation.choices");
    let with_reason = |r: Option<&str>| {
        choices
            .iter()
            .filter(|p| p.attr("gen_ai.response.finish_reason") == r)
            .map(|p| p.value)
            .sum::<f64>()
    };
    assert_eq!(choices.len(), 2, "{choices:?}");
    assert_eq!(with_reason(None), 1.0, "{choices:?}");
    assert_eq!(with_reason(Some("stop")), 1.0, "{choices:?}");
}

// ------------------------------------------------------------------ tools round trip

#[task(name = "tools_task")]
async fn tools_task(base: String) -> Json {
    let c = client();
    let tools = json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    }}]);
    let mut messages = vec![json!({"role": "user", "content": "Weather in Paris?"})];
    let (_, first) = post(
        &c,
        format!("{base}/v1/chat/completions"),
        json!({"model": "gpt-4o", "messages": messages, "tools": tools}),
    )
    .await;
    let call = first["choices"][0]["message"].clone();
    let id = call["tool_calls"][0]["id"].clone();
    messages.push(call);
    messages.push(json!({"role": "tool", "tool_call_id": id, "content": "sunny, 21C"}));
    post(
        &c,
        format!("{base}/v1/chat/completions"),
        json!({"model": "gpt-4o", "messages": messages, "tools": tools}),
    )
    .await
    .1
}

#[tokio::test]
async fn tools_round_trip() {
    let h = harness();
    let stub = LlmStub::start();
    let last = tools_task(stub.base_url()).await;
    assert!(
        last["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("sunny")
    );
    let t = h.trace_of("tools_task.task");
    let calls = t.all("openai.chat");
    assert_eq!(calls.len(), 2);
    let first = calls.iter().find(|s| {
        attr_str(s, "gen_ai.response.finish_reasons").is_some_and(|f| f.contains("tool_call"))
    });
    let Some(first) = first else {
        panic!("no tool_call finish reason: {calls:?}")
    };
    assert_eq!(
        json_attr(first, "gen_ai.tool.definitions"),
        json!([{"type": "function", "name": "get_weather", "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
    );
    let out = json_attr(first, "gen_ai.output.messages");
    assert_eq!(out[0]["parts"][0]["type"], "tool_call");
    assert_eq!(out[0]["parts"][0]["name"], "get_weather");
    assert_eq!(
        out[0]["parts"][0]["arguments"],
        json!({"city": "get_weather-city"})
    );
    let second = calls.iter().find(|s| s.span_context != first.span_context);
    let Some(second) = second else {
        panic!("second call missing")
    };
    let input = json_attr(second, "gen_ai.input.messages");
    assert_eq!(input[2]["role"], "tool");
    assert_eq!(input[2]["parts"][0]["type"], "tool_call_response");
    assert_eq!(input[2]["parts"][0]["response"], "sunny, 21C");
}

// ------------------------------------------------------------------ streaming

#[task(name = "stream_ok_task")]
async fn stream_ok_task(base: String) -> (String, bool) {
    drain(
        &client(),
        format!("{base}/v1/chat/completions"),
        json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
}

#[task(name = "stream_fail_task")]
async fn stream_fail_task(base: String) -> (String, bool) {
    drain(
        &client(),
        format!("{base}/v1/chat/completions"),
        json!({"model": llm_stub::FAIL_MIDWAY, "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
}

#[task(name = "stream_drop_task")]
async fn stream_drop_task(base: String) -> usize {
    let resp = client()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": llm_stub::SLOW_STREAM, "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await;
    let resp = resp.expect("request");
    let mut s = resp.bytes_stream();
    let mut n = 0;
    while let Some(Ok(_)) = s.next().await {
        n += 1;
        if n == 3 {
            break;
        }
    }
    n
}

#[tokio::test]
async fn streams_end_ok_error_or_dropped() {
    let h = harness();
    let stub = LlmStub::start();

    let (text, failed) = stream_ok_task(stub.base_url()).await;
    assert!(
        !failed && text.contains("[DONE]"),
        "the caller gets every chunk"
    );
    let (s, parent) = h.span_with_parent("stream_ok_task.task", "openai.chat");
    assert_eq!(parent.as_deref(), Some("stream_ok_task.task"));
    assert_eq!(s.status, Status::Ok, "completed stream");
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(Value::Bool(true)));
    assert!(
        matches!(attr(&s, "gen_ai.server.time_to_first_token"), Some(Value::F64(t)) if t > 0.0)
    );
    assert!(
        int_attr(&s, "gen_ai.usage.output_tokens").is_some_and(|n| n > 0),
        "usage from the last chunk"
    );
    assert_eq!(
        json_attr(&s, "gen_ai.output.messages")[0]["parts"][0]["content"],
        llm_stub::REPLY
    );
    let ttft = h
        .metric_points()
        .into_iter()
        .filter(|p| p.name == "gen_ai.server.time_to_first_token")
        .count();
    assert!(ttft >= 1);

    let (_, failed) = stream_fail_task(stub.base_url()).await;
    assert!(failed, "the stub aborts mid-body");
    let (s, _) = h.span_with_parent("stream_fail_task.task", "openai.chat");
    assert!(matches!(s.status, Status::Error { .. }), "{:?}", s.status);
    assert!(attr_str(&s, "error.type").is_some());

    let n = stream_drop_task(stub.base_url()).await;
    assert_eq!(n, 3);
    let (s, _) = h.span_with_parent("stream_drop_task.task", "openai.chat");
    assert_eq!(
        s.status,
        Status::Unset,
        "dropped early: neither OK nor ERROR"
    );
    assert!(s.events.iter().any(|e| e.name == "gen_ai.stream.dropped"));
    let t = h.trace_of("stream_drop_task.task");
    let task = t.span("stream_drop_task.task");
    assert!(
        s.end_time <= task.end_time,
        "the LLM span ended when the stream was dropped"
    );
}

// ------------------------------------------------------------------ errors

#[task(name = "errors_task")]
async fn errors_task(base: String) -> (u16, u16, Json) {
    let c = client();
    let (a, _) = post(
        &c,
        format!("{base}/v1/chat/completions"),
        json!({"model": llm_stub::RATE_LIMITED, "messages": []}),
    )
    .await;
    let (b, body) = post(
        &c,
        format!("{base}/v1/chat/completions"),
        json!({"model": llm_stub::SERVER_ERROR, "messages": []}),
    )
    .await;
    (a, b, body)
}

#[workflow(name = "errors_wf")]
async fn errors_wf(base: String) -> (u16, u16, Json) {
    errors_task(base).await
}

#[tokio::test]
async fn http_errors_and_provider_error_bodies_set_error_status() {
    let h = harness();
    let stub = LlmStub::start();
    let (a, b, body) = errors_wf(stub.base_url()).await;
    assert_eq!((a, b), (429, 500));
    assert_eq!(
        body["error"]["type"], "server_error",
        "the caller still gets the provider's error body"
    );
    let t = h.trace_of("errors_wf.workflow");
    let spans = t.all("openai.chat");
    let types: Vec<String> = spans
        .iter()
        .filter_map(|s| attr_str(s, "error.type"))
        .collect();
    assert!(
        types.contains(&"rate_limit_exceeded".to_owned()),
        "{types:?}"
    );
    assert!(
        types.contains(&"server_error".to_owned()) || types.contains(&"500".to_owned()),
        "{types:?}"
    );
    for s in spans {
        assert!(matches!(s.status, Status::Error { .. }));
        assert!(s.events.iter().any(|e| e.name == "exception"));
    }
    let errs: Vec<_> = h
        .metric_points()
        .into_iter()
        .filter(|p| {
            p.name == "gen_ai.client.operation.duration"
                && p.attr("error.type") == Some("rate_limit_exceeded")
                && p.attr("traceloop.workflow.name") == Some("errors_wf")
        })
        .collect();
    assert_eq!(
        errs.len(),
        1,
        "failed calls are timed with error.type: {errs:#?}"
    );
}

// ------------------------------------------------------------------ other APIs and providers

#[task(name = "embeddings_task")]
async fn embeddings_task(base: String) -> Json {
    post(
        &client(),
        format!("{base}/v1/embeddings"),
        json!({"model": "text-embedding-3-small", "input": ["a", "b"]}),
    )
    .await
    .1
}

#[task(name = "anthropic_task")]
async fn anthropic_task(base: String) -> (Json, String, bool, String, bool) {
    let c = client();
    let (_, body) = post(
        &c,
        format!("{base}/v1/messages"),
        json!({
            "model": "claude-sonnet-4-5", "max_tokens": 100, "system": "Be brief.",
            "messages": [{"role": "user", "content": "hi"}]
        }),
    )
    .await;
    let (streamed, failed) = drain(
        &c,
        format!("{base}/v1/messages"),
        json!({
            "model": "claude-sonnet-4-5", "max_tokens": 100, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]
        }),
    )
    .await;
    let (errored, error_failed) = drain(
        &c,
        format!("{base}/v1/messages"),
        json!({
            "model": llm_stub::ERROR_EVENT, "max_tokens": 100, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]
        }),
    )
    .await;
    (body, streamed, failed, errored, error_failed)
}

#[task(name = "ollama_task")]
async fn ollama_task(base: String) -> (String, Json) {
    let c = client();
    let (streamed, _) = drain(
        &c,
        format!("{base}/api/chat"),
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let (_, generated) = post(
        &c,
        format!("{base}/api/generate"),
        json!({"model": "llama3.2", "prompt": "hi", "stream": false}),
    )
    .await;
    (streamed, generated)
}

#[tokio::test]
async fn embeddings_anthropic_and_ollama() {
    let h = harness();
    let stub = LlmStub::start();

    embeddings_task(stub.base_url()).await;
    let (s, _) = h.span_with_parent("embeddings_task.task", "openai.embeddings");
    assert_eq!(
        attr_str(&s, "gen_ai.operation.name").as_deref(),
        Some("embeddings")
    );
    assert_eq!(
        int_attr(&s, "gen_ai.embeddings.dimension.count"),
        Some(llm_stub::EMBEDDING_DIMS as i64)
    );
    assert!(int_attr(&s, "gen_ai.usage.input_tokens").is_some());

    let (body, streamed, failed, _, _) = anthropic_task(stub.base_url()).await;
    assert_eq!(body["type"], "message");
    assert!(!failed && streamed.contains("message_stop"));
    let t = h.trace_of("anthropic_task.task");
    let spans = t.all("anthropic.chat");
    assert_eq!(spans.len(), 3);
    for s in &spans {
        assert_eq!(
            attr_str(s, "gen_ai.provider.name").as_deref(),
            Some("anthropic")
        );
        assert_eq!(t.parent_name(s).as_deref(), Some("anthropic_task.task"));
    }
    // The body without `stream`: no `gen_ai.is_streaming`, as Python (issue 10).
    let plain = spans
        .iter()
        .find(|s| attr(s, "gen_ai.is_streaming").is_none());
    let Some(plain) = plain else {
        panic!("no non-streamed anthropic span")
    };
    // `system` goes into `gen_ai.system_instructions`, as Python (issue 10; was the first
    // input message).
    assert_eq!(
        json_attr(plain, "gen_ai.system_instructions"),
        json!([{"type": "text", "content": "Be brief."}])
    );
    assert_eq!(
        json_attr(plain, "gen_ai.input.messages")[0],
        json!({"role": "user", "parts": [{"type": "text", "content": "hi"}]})
    );
    assert!(int_attr(plain, "gen_ai.usage.cache_creation.input_tokens").is_some());
    assert!(
        spans.iter().any(|s| s.status == Status::Ok),
        "the completed stream"
    );
    let errored = spans
        .iter()
        .find(|s| attr_str(s, "error.type").as_deref() == Some("overloaded_error"));
    let Some(errored) = errored else {
        panic!("error event not recorded: {spans:?}")
    };
    assert!(matches!(errored.status, Status::Error { .. }));

    let (streamed, generated) = ollama_task(stub.base_url()).await;
    assert!(streamed.contains("\"done\":true"), "{streamed}");
    assert_eq!(generated["done"], true);
    let t = h.trace_of("ollama_task.task");
    let chat = t.span("ollama.chat");
    assert_eq!(
        attr_str(chat, "gen_ai.provider.name").as_deref(),
        Some("ollama")
    );
    // A completed Ollama stream leaves the status unset, as Python (issue 10; was OK).
    assert_eq!(chat.status, Status::Unset, "NDJSON stream to done:true");
    assert!(int_attr(chat, "gen_ai.usage.output_tokens").is_some_and(|n| n > 0));
    let generate = t.span("ollama.completion");
    assert_eq!(
        attr_str(generate, "gen_ai.operation.name").as_deref(),
        Some("text_completion")
    );
}

// ------------------------------------------------------------------ content off

#[task(name = "secret_llm_task")]
async fn secret_llm_task(base: String) {
    let c = client();
    post(&c, format!("{base}/v1/chat/completions"), json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "the launch codes"}],
        "tools": [{"type": "function", "function": {"name": "launch", "parameters": {"type": "object", "properties": {}}}}]})).await;
    drain(
        &c,
        format!("{base}/v1/messages"),
        json!({"model": "claude", "max_tokens": 5, "stream": true,
        "messages": [{"role": "user", "content": "the launch codes"}]}),
    )
    .await;
}

#[tokio::test]
async fn content_off_leaves_no_prompt_or_completion_anywhere() {
    let h = harness();
    let stub = LlmStub::start();
    llmetry::with_trace_content(false, secret_llm_task(stub.base_url())).await;
    let t = h.trace_of("secret_llm_task.task");
    assert_eq!(t.spans.len(), 3);
    for s in &t.spans {
        for kv in &s.attributes {
            let v = kv.value.as_str();
            assert!(
                !v.contains("launch") && !v.contains("stub speaking"),
                "{} {} = {v}",
                s.name,
                kv.key
            );
        }
        for e in s.events.iter() {
            for kv in &e.attributes {
                assert!(
                    !kv.value.as_str().contains("launch"),
                    "{} event {}",
                    s.name,
                    e.name
                );
            }
        }
        if s.name != "secret_llm_task.task" {
            assert!(
                int_attr(s, "gen_ai.usage.input_tokens").is_some(),
                "usage is not content"
            );
        }
    }
    for l in h.logs() {
        let body = format!("{:?}", l.record.body());
        assert!(!body.contains("launch"), "{body}");
    }
}

// ------------------------------------------------------------------ faults, per provider

#[derive(Clone, Copy, Debug)]
enum Wire {
    OpenAi,
    Anthropic,
    Ollama,
}

impl Wire {
    fn path(self) -> &'static str {
        match self {
            Wire::OpenAi => "/v1/chat/completions",
            Wire::Anthropic => "/v1/messages",
            Wire::Ollama => "/api/chat",
        }
    }
    fn span(self) -> &'static str {
        match self {
            Wire::OpenAi => "openai.chat",
            Wire::Anthropic => "anthropic.chat",
            Wire::Ollama => "ollama.chat",
        }
    }
    fn body(self, model: &str, stream: bool) -> Json {
        let messages = json!([{"role": "user", "content": "hi"}]);
        match self {
            Wire::OpenAi => json!({"model": model, "stream": stream, "messages": messages}),
            Wire::Anthropic => {
                json!({"model": model, "stream": stream, "max_tokens": 50, "messages": messages})
            }
            Wire::Ollama => json!({"model": model, "stream": stream, "messages": messages}),
        }
    }
}

#[task(name = "provider_faults_task")]
async fn provider_faults_task(base: String, wire: Wire) -> Vec<u16> {
    let c = client();
    let url = format!("{base}{}", wire.path());
    let mut statuses = Vec::new();
    for model in [llm_stub::RATE_LIMITED, llm_stub::SERVER_ERROR] {
        let resp = c.post(&url).json(&wire.body(model, false)).send().await;
        statuses.push(resp.map(|r| r.status().as_u16()).unwrap_or(0));
    }
    let (_, failed) = drain(&c, url.clone(), wire.body(llm_stub::FAIL_MIDWAY, true)).await;
    assert!(failed, "{wire:?}: the stub aborts the stream midway");
    let resp = c
        .post(&url)
        .json(&wire.body(llm_stub::SLOW_STREAM, true))
        .send()
        .await;
    let resp = resp.unwrap_or_else(|e| panic!("{wire:?}: slow stream request failed: {e}"));
    let mut s = resp.bytes_stream();
    let _ = s.next().await;
    drop(s);
    statuses
}

#[workflow(name = "faults_openai")]
async fn faults_openai(base: String) -> Vec<u16> {
    provider_faults_task(base, Wire::OpenAi).await
}
#[workflow(name = "faults_anthropic")]
async fn faults_anthropic(base: String) -> Vec<u16> {
    provider_faults_task(base, Wire::Anthropic).await
}
#[workflow(name = "faults_ollama")]
async fn faults_ollama(base: String) -> Vec<u16> {
    provider_faults_task(base, Wire::Ollama).await
}

#[tokio::test]
async fn every_provider_429_500_midway_failure_and_early_drop() {
    let h = harness();
    let stub = LlmStub::start();
    let runs = [
        (
            Wire::OpenAi,
            "faults_openai.workflow",
            faults_openai(stub.base_url()).await,
            "rate_limit_exceeded",
        ),
        (
            Wire::Anthropic,
            "faults_anthropic.workflow",
            faults_anthropic(stub.base_url()).await,
            "rate_limit_error",
        ),
        (
            Wire::Ollama,
            "faults_ollama.workflow",
            faults_ollama(stub.base_url()).await,
            "429",
        ),
    ];
    for (wire, root, statuses, rate_limit_type) in runs {
        assert_eq!(
            statuses,
            [429, 500],
            "{wire:?}: the caller still gets the provider's status"
        );
        let t = h.trace_of(root);
        let spans = t.all(wire.span());
        assert_eq!(spans.len(), 4, "{wire:?}: {:?}", t.names());
        for s in &spans {
            assert_eq!(
                t.parent_name(s).as_deref(),
                Some("provider_faults_task.task"),
                "{wire:?}"
            );
        }
        let errors: Vec<String> = spans
            .iter()
            .filter_map(|s| attr_str(s, "error.type"))
            .collect();
        assert!(
            errors.iter().any(|e| e == rate_limit_type),
            "{wire:?}: {errors:?}"
        );
        assert_eq!(
            spans
                .iter()
                .filter(|s| matches!(s.status, Status::Error { .. }))
                .count(),
            3,
            "{wire:?}: 429, 500 and the stream that failed midway are errors"
        );
        let dropped: Vec<_> = spans
            .iter()
            .filter(|s| s.events.iter().any(|e| e.name == "gen_ai.stream.dropped"))
            .collect();
        assert_eq!(dropped.len(), 1, "{wire:?}: the early-dropped stream");
        assert_eq!(dropped[0].status, Status::Unset, "{wire:?}");
    }
}

// ------------------------------------------------------------------ tools: Anthropic and Ollama

#[task(name = "anthropic_tools_task")]
async fn anthropic_tools_task(base: String) -> Json {
    let c = client();
    let url = format!("{base}/v1/messages");
    let tools = json!([{"name": "get_weather", "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let mut messages = vec![json!({"role": "user", "content": "Weather in Paris?"})];
    let (_, first) = post(&c, url.clone(), json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "tools": tools, "messages": messages})).await;
    let tool_use = first["content"]
        .as_array()
        .and_then(|blocks| blocks.iter().find(|b| b["type"] == "tool_use"))
        .cloned()
        .unwrap_or(Json::Null);
    messages.push(json!({"role": "assistant", "content": first["content"]}));
    messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "sunny, 21C"}]}));
    post(&c, url, json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "tools": tools, "messages": messages})).await.1
}

#[task(name = "ollama_tools_task")]
async fn ollama_tools_task(base: String) -> (Json, Json) {
    let c = client();
    let url = format!("{base}/api/chat");
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let mut messages = vec![json!({"role": "user", "content": "Weather in Paris?"})];
    let (_, first) = post(
        &c,
        url.clone(),
        json!({"model": "llama3.2", "stream": false, "tools": tools, "messages": messages}),
    )
    .await;
    messages.push(first["message"].clone());
    messages.push(json!({"role": "tool", "content": "sunny, 21C"}));
    let (_, second) = post(
        &c,
        url,
        json!({"model": "llama3.2", "stream": false, "tools": tools, "messages": messages}),
    )
    .await;
    let (_, embed) = post(
        &c,
        format!("{base}/api/embed"),
        json!({"model": "all-minilm", "input": ["a", "b"]}),
    )
    .await;
    (second, embed)
}

#[tokio::test]
async fn anthropic_and_ollama_tools_round_trips_and_ollama_embeddings() {
    let h = harness();
    let stub = LlmStub::start();

    let last = anthropic_tools_task(stub.base_url()).await;
    assert!(last.to_string().contains("sunny"), "{last}");
    let t = h.trace_of("anthropic_tools_task.task");
    let calls = t.all("anthropic.chat");
    assert_eq!(calls.len(), 2);
    let first = calls.iter().find(|s| {
        json_attr(s, "gen_ai.output.messages")
            .to_string()
            .contains("tool_call")
    });
    let Some(first) = first else {
        panic!("no tool call recorded: {calls:?}")
    };
    assert_eq!(
        json_attr(first, "gen_ai.tool.definitions")[0]["name"],
        "get_weather"
    );
    let second = calls.iter().find(|s| s.span_context != first.span_context);
    let Some(second) = second else {
        panic!("second call missing")
    };
    assert!(
        json_attr(second, "gen_ai.input.messages")
            .to_string()
            .contains("tool_call_response")
    );

    let (second, embed) = ollama_tools_task(stub.base_url()).await;
    assert!(second.to_string().contains("sunny"), "{second}");
    assert!(embed["embeddings"].is_array());
    let t = h.trace_of("ollama_tools_task.task");
    let chats = t.all("ollama.chat");
    assert_eq!(chats.len(), 2);
    assert!(chats.iter().any(|s| {
        json_attr(s, "gen_ai.output.messages")
            .to_string()
            .contains("tool_call")
    }));
    assert!(chats.iter().any(|s| {
        json_attr(s, "gen_ai.input.messages")
            .to_string()
            .contains("\"tool\"")
    }));
    let e = t.span("ollama.embeddings");
    assert_eq!(
        attr_str(e, "gen_ai.operation.name").as_deref(),
        Some("embeddings")
    );
    assert_eq!(
        int_attr(e, "gen_ai.embeddings.dimension.count"),
        Some(llm_stub::EMBEDDING_DIMS as i64)
    );
}

//! LLM calls made with the real async-openai client through `LlmLayer`
//! (`Client::with_http_service`) against the local stub: the span under the `#[task]`, its
//! GenAI attributes, a streamed call, a rate-limited call, a retried one, and a request that
//! is no LLM call.

#![cfg(feature = "async-openai")]

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::middleware::retry::OpenAIRetryLayer;
use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    ChatCompletionStreamOptions, CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
};
use futures::StreamExt as _;
use llmetry::task;
use llmetry_instruments::LlmLayer;
use llmetry_testkit::llm_stub::{self, LlmStub};
use llmetry_testkit::{attr, attr_str, harness, int_attr, json_attr};
use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};
use serde_json::json;
use tower::ServiceBuilder;

/// The real client, its HTTP going through `layer` and reqwest.
fn client_with(base: &str, layer: LlmLayer) -> Client<OpenAIConfig> {
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(ReqwestService::new(reqwest::Client::new()));
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{base}/v1"))
            .with_api_key("k"),
    )
    .with_http_service(service)
}

fn client(base: &str) -> Client<OpenAIConfig> {
    client_with(base, LlmLayer::new())
}

fn chat_request(model: &str) -> CreateChatCompletionRequest {
    let built = CreateChatCompletionRequestArgs::default()
        .model(model)
        .temperature(0.2)
        .max_completion_tokens(64u32)
        .messages([
            ChatCompletionRequestSystemMessage::from("You are terse.").into(),
            ChatCompletionRequestUserMessage::from("Say hello.").into(),
        ])
        .build();
    match built {
        Ok(r) => r,
        Err(e) => panic!("request: {e}"),
    }
}

// ------------------------------------------------------------------ non-streamed chat

#[task(name = "aoai_chat_task")]
async fn aoai_chat_task(base: String) -> Option<String> {
    let resp = client(&base)
        .chat()
        .create(chat_request("gpt-4o-mini"))
        .await;
    match resp {
        Ok(r) => r.choices[0].message.content.clone(),
        Err(e) => panic!("chat failed: {e}"),
    }
}

#[tokio::test]
async fn chat_call_is_an_openai_chat_span_under_the_task() {
    let h = harness();
    let stub = LlmStub::start();
    let content = aoai_chat_task(stub.base_url()).await;
    assert_eq!(
        content.as_deref(),
        Some(llm_stub::REPLY),
        "async-openai gets the body intact"
    );

    let (s, parent) = h
        .span_with_parent_eventually("aoai_chat_task.task", "openai.chat")
        .await;
    assert_eq!(parent.as_deref(), Some("aoai_chat_task.task"));
    assert_eq!(s.span_kind, SpanKind::Client);
    assert_eq!(s.status, Status::Unset);
    let a = |k: &str| attr_str(&s, k);
    assert_eq!(a("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(a("gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(a("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(a("gen_ai.request.model").as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        a("gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert!(a("gen_ai.response.id").is_some());
    assert_eq!(int_attr(&s, "gen_ai.request.max_tokens"), Some(64));
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(Value::Bool(false)));
    let input = int_attr(&s, "gen_ai.usage.input_tokens");
    let output = int_attr(&s, "gen_ai.usage.output_tokens");
    assert!(input.is_some_and(|n| n > 0) && output.is_some_and(|n| n > 0));
    assert_eq!(
        int_attr(&s, "gen_ai.usage.total_tokens"),
        Some(input.unwrap_or(0) + output.unwrap_or(0))
    );
    assert_eq!(
        json_attr(&s, "gen_ai.input.messages"),
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Say hello."}]}
        ])
    );
    assert_eq!(
        json_attr(&s, "gen_ai.output.messages"),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": llm_stub::REPLY}], "finish_reason": "stop"}])
    );

    // the W3C traceparent of the LLM span went out with the request
    let sent = stub.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/chat/completions");
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
    assert_eq!(sent[0].header("authorization"), Some("Bearer k"));

    let calls = h
        .metric_points()
        .into_iter()
        .filter(|p| {
            p.name == "gen_ai.client.operation.duration"
                && p.attr("gen_ai.request.model") == Some("gpt-4o-mini")
        })
        .count();
    assert!(calls >= 1, "the call is timed");
}

#[task(name = "aoai_no_traceparent_task")]
async fn aoai_no_traceparent_task(base: String) {
    let c = client_with(&base, LlmLayer::new().inject_traceparent(false));
    if let Err(e) = c.chat().create(chat_request("gpt-4o-mini")).await {
        panic!("chat failed: {e}");
    }
}

#[tokio::test]
async fn traceparent_injection_can_be_switched_off() {
    let h = harness();
    let stub = LlmStub::start();
    aoai_no_traceparent_task(stub.base_url()).await;
    let (s, parent) = h
        .span_with_parent_eventually("aoai_no_traceparent_task.task", "openai.chat")
        .await;
    assert_eq!(parent.as_deref(), Some("aoai_no_traceparent_task.task"));
    assert!(int_attr(&s, "gen_ai.usage.output_tokens").is_some());
    let sent = stub.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("traceparent"), None);
}

// ------------------------------------------------------------------ streamed chat

#[task(name = "aoai_stream_task")]
async fn aoai_stream_task(base: String) -> (String, usize) {
    let mut request = chat_request("gpt-4o-mini");
    request.stream_options = Some(ChatCompletionStreamOptions {
        include_usage: Some(true),
        include_obfuscation: None,
    });
    let stream = client(&base).chat().create_stream(request).await;
    let mut stream = match stream {
        Ok(s) => s,
        Err(e) => panic!("create_stream failed: {e}"),
    };
    let mut text = String::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                chunks += 1;
                for choice in c.choices {
                    text.push_str(choice.delta.content.as_deref().unwrap_or_default());
                }
            }
            Err(e) => panic!("stream failed: {e}"),
        }
    }
    (text, chunks)
}

#[tokio::test]
async fn streamed_call_consumed_to_the_end_is_ok_with_time_to_first_token() {
    let h = harness();
    let stub = LlmStub::start();
    let (text, chunks) = aoai_stream_task(stub.base_url()).await;
    assert_eq!(text, llm_stub::REPLY, "every chunk reached async-openai");
    assert!(chunks > 1);

    let (s, parent) = h
        .span_with_parent_eventually("aoai_stream_task.task", "openai.chat")
        .await;
    assert_eq!(parent.as_deref(), Some("aoai_stream_task.task"));
    assert_eq!(s.status, Status::Ok, "completed stream");
    assert!(
        !s.events.iter().any(|e| e.name == "gen_ai.stream.dropped"),
        "stopping at [DONE] is no drop"
    );
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(Value::Bool(true)));
    assert!(
        matches!(attr(&s, "gen_ai.server.time_to_first_token"), Some(Value::F64(t)) if t > 0.0)
    );
    assert_eq!(
        attr_str(&s, "gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert!(
        int_attr(&s, "gen_ai.usage.output_tokens").is_some_and(|n| n > 0),
        "usage from the last chunk"
    );
    assert_eq!(
        json_attr(&s, "gen_ai.output.messages")[0]["parts"][0]["content"],
        llm_stub::REPLY
    );
}

// ------------------------------------------------------------------ errors

#[task(name = "aoai_rate_limited_task")]
async fn aoai_rate_limited_task(base: String) -> OpenAIError {
    match client(&base)
        .chat()
        .create(chat_request(llm_stub::RATE_LIMITED))
        .await
    {
        Ok(_) => panic!("the stub answers 429"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn rate_limited_call_is_an_error_span_with_error_type() {
    let h = harness();
    let stub = LlmStub::start();
    let err = aoai_rate_limited_task(stub.base_url()).await;
    match &err {
        OpenAIError::ApiError(api) => {
            assert_eq!(api.status_code.as_u16(), 429);
            assert_eq!(
                api.api_error.code.as_deref(),
                Some("rate_limit_exceeded"),
                "async-openai still reads the provider's error body"
            );
        }
        other => panic!("expected an API error, got {other:?}"),
    }

    let (s, parent) = h
        .span_with_parent_eventually("aoai_rate_limited_task.task", "openai.chat")
        .await;
    assert_eq!(parent.as_deref(), Some("aoai_rate_limited_task.task"));
    assert!(matches!(s.status, Status::Error { .. }), "{:?}", s.status);
    assert_eq!(
        attr_str(&s, "error.type").as_deref(),
        Some("rate_limit_exceeded")
    );
    assert!(s.events.iter().any(|e| e.name == "exception"));
    assert_eq!(stub.requests().len(), 1, "no retry layer, one request");
}

#[task(name = "aoai_retried_task")]
async fn aoai_retried_task(base: String) -> Option<OpenAIError> {
    // One span per call: LlmLayer outside async-openai's retry layer (one retry after the
    // stub's `retry-after: 1`).
    let service = ServiceBuilder::new()
        .layer(LlmLayer::new())
        .layer(OpenAIRetryLayer::new(1))
        .service(ReqwestService::new(reqwest::Client::new()));
    let c = Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{base}/v1"))
            .with_api_key("k"),
    )
    .with_http_service(service);
    c.chat()
        .create(chat_request(llm_stub::RATE_LIMITED))
        .await
        .err()
}

#[tokio::test]
async fn retries_inside_the_layer_are_one_span_and_resend_the_traceparent() {
    let h = harness();
    let stub = LlmStub::start();
    let err = aoai_retried_task(stub.base_url()).await;
    assert!(
        matches!(&err, Some(OpenAIError::ApiError(api)) if api.status_code.as_u16() == 429),
        "{err:?}"
    );

    let (s, parent) = h
        .span_with_parent_eventually("aoai_retried_task.task", "openai.chat")
        .await;
    assert_eq!(parent.as_deref(), Some("aoai_retried_task.task"));
    assert!(matches!(s.status, Status::Error { .. }), "{:?}", s.status);
    assert_eq!(
        attr_str(&s, "error.type").as_deref(),
        Some("rate_limit_exceeded"),
        "the retry layer's API error is classified like the HTTP error body"
    );

    let sent = stub.requests();
    assert_eq!(sent.len(), 2, "the request was rebuilt for the retry");
    let span_id = s.span_context.span_id().to_string();
    for r in &sent {
        let tp = r.header("traceparent").unwrap_or_default();
        assert_eq!(tp.split('-').nth(2), Some(span_id.as_str()), "{tp}");
        assert_eq!(r.body["model"], llm_stub::RATE_LIMITED);
    }
}

// ------------------------------------------------------------------ other requests

#[task(name = "aoai_models_task")]
async fn aoai_models_task(base: String) {
    // Not an LLM call: passes through untouched (the stub has no `/v1/models`).
    let _ = client(&base).models().list().await;
}

#[tokio::test]
async fn non_llm_requests_pass_through_without_a_span() {
    let h = harness();
    let stub = LlmStub::start();
    aoai_models_task(stub.base_url()).await;
    let t = h.trace_of("aoai_models_task.task");
    assert_eq!(t.names(), ["aoai_models_task.task"]);
    let sent = stub.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/models");
    assert_eq!(sent[0].header("traceparent"), None);
    assert_eq!(sent[0].header("authorization"), Some("Bearer k"));
}

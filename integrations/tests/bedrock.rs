//! Bedrock end to end: the real `aws-sdk-bedrockruntime` 1.126 client (SigV4 with static
//! credentials, hyper + rustls + ring, `endpoint_url` to the stub, no `aws-config`) with
//! `BedrockInterceptor`, against the stub speaking Converse JSON and the AWS event stream
//! (binary frames written with `aws-smithy-eventstream`): Converse, tool use, ConverseStream
//! to completion, cut midway, with an exception event, dropped early; throttling and server
//! errors with and without the SDK's retries; content off; `traceparent` only on request.

#![allow(clippy::expect_used, clippy::unwrap_used)] // the helpers and tasks below are test code: a failure shows its cause

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ConversationRole, ConverseStreamOutput,
    InferenceConfiguration, Message, Tool, ToolConfiguration, ToolInputSchema, ToolSpecification,
};
use aws_smithy_types::Document;
use llmetry::{task, workflow};
use llmetry_integrations::bedrock::{self, MODEL};
use llmetry_testkit::llm_stub::{self, LlmStub};
use llmetry_testkit::{attr, attr_str, harness, int_attr, json_attr};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;

/// What `gen_ai.request.model` says for [`MODEL`] (geography and vendor prefixes dropped).
const REQUEST_MODEL: &str = "claude-3-5-haiku-20241022-v1:0";
const SCOPE: &str = "opentelemetry.instrumentation.bedrock";

fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.to_owned()))
        .build()
        .expect("message")
}

fn tools() -> ToolConfiguration {
    let schema = Document::Object(
        [
            ("type".to_owned(), Document::String("object".to_owned())),
            (
                "properties".to_owned(),
                Document::Object(
                    [(
                        "host".to_owned(),
                        Document::Object(
                            [("type".to_owned(), Document::String("string".to_owned()))].into(),
                        ),
                    )]
                    .into(),
                ),
            ),
        ]
        .into(),
    );
    ToolConfiguration::builder()
        .tools(Tool::ToolSpec(
            ToolSpecification::builder()
                .name("disk_usage")
                .description("Disk usage of a host")
                .input_schema(ToolInputSchema::Json(schema))
                .build()
                .expect("tool spec"),
        ))
        .build()
        .expect("tool config")
}

/// The Bedrock spans of the trace of the (unique) span `root`.
fn llm_spans(root: &str) -> Vec<SpanData> {
    harness()
        .trace_of(root)
        .spans
        .into_iter()
        .filter(|s| s.instrumentation_scope.name() == SCOPE)
        .collect()
}

/// Waits (hang guard) until the trace of `root` has one Bedrock span.
async fn llm_span(root: &str) -> SpanData {
    let deadline = std::time::Instant::now() + llmetry_testkit::HANG_GUARD;
    loop {
        let spans = llm_spans(root);
        if let [s] = &spans[..] {
            return s.clone();
        }
        assert!(
            spans.len() < 2 && std::time::Instant::now() < deadline,
            "no single Bedrock span under {root}: {:?}",
            harness().trace_of(root).names()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn finish_reasons(s: &SpanData) -> Option<String> {
    attr(s, "gen_ai.response.finish_reasons").map(|v| v.to_string())
}

// ------------------------------------------------------------------ converse

#[task(name = "converse_task")]
async fn converse_task(base: String) -> String {
    let stub_client = bedrock::client(
        "us-east-1",
        bedrock::stub_credentials(),
        Some(&base),
        RetryConfig::disabled(),
    );
    let out = stub_client
        .converse()
        .model_id(MODEL)
        .system(aws_sdk_bedrockruntime::types::SystemContentBlock::Text(
            "You are an SRE.".to_owned(),
        ))
        .messages(user("Why is db-1 down?"))
        .inference_config(
            InferenceConfiguration::builder()
                .max_tokens(256)
                .temperature(0.2)
                .top_p(0.9)
                .build(),
        )
        .send()
        .await
        .expect("converse");
    let message = out
        .output()
        .and_then(|o| o.as_message().ok())
        .expect("a message");
    match message.content().first() {
        Some(ContentBlock::Text(t)) => t.clone(),
        other => panic!("{other:?}"),
    }
}

#[workflow(name = "bedrock_wf")]
async fn bedrock_wf(base: String) -> String {
    converse_task(base).await
}

#[tokio::test]
async fn converse_is_one_chat_span_under_the_task() {
    let h = harness();
    let stub = LlmStub::start();
    assert_eq!(bedrock_wf(stub.base_url()).await, llm_stub::REPLY);

    let reqs = stub.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].path,
        "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    assert!(
        reqs[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 ")),
        "SigV4-signed"
    );
    assert_eq!(
        reqs[0].header("traceparent"),
        None,
        "no injection by default"
    );

    let t = h.trace_of("bedrock_wf.workflow");
    let s = llm_span("bedrock_wf.workflow").await;
    assert_eq!(s.name, format!("chat {REQUEST_MODEL}"));
    assert_eq!(s.span_kind, SpanKind::Client);
    assert_eq!(t.parent_name(&s).as_deref(), Some("converse_task.task"));
    let a = |k: &str| attr_str(&s, k);
    assert_eq!(a("gen_ai.provider.name").as_deref(), Some("aws.bedrock"));
    assert_eq!(a("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(a("gen_ai.request.model").as_deref(), Some(REQUEST_MODEL));
    assert_eq!(a("traceloop.workflow.name").as_deref(), Some("bedrock_wf"));
    assert_eq!(a("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(int_attr(&s, "gen_ai.request.max_tokens"), Some(256));
    // The SDK sends an f32: 0.2 arrives as 0.20000000298023224.
    match attr(&s, "gen_ai.request.temperature") {
        Some(opentelemetry::Value::F64(t)) => assert!((t - 0.2).abs() < 1e-6, "{t}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(false.into()));
    let input = int_attr(&s, "gen_ai.usage.input_tokens").expect("input");
    let output = int_attr(&s, "gen_ai.usage.output_tokens").expect("output");
    let read = int_attr(&s, "gen_ai.usage.cache_read.input_tokens").expect("cache read");
    let write = int_attr(&s, "gen_ai.usage.cache_creation.input_tokens").expect("cache write");
    assert_eq!(read, input / 2);
    assert_eq!(write, llm_stub::CACHE_CREATION_TOKENS as i64);
    assert_eq!(
        int_attr(&s, "gen_ai.usage.total_tokens"),
        Some(input + output + read + write)
    );
    assert_eq!(finish_reasons(&s).as_deref(), Some("[\"stop\"]"));
    let inputs = json_attr(&s, "gen_ai.input.messages");
    assert_eq!(inputs[0]["role"], "system");
    assert_eq!(inputs[1]["parts"][0]["content"], "Why is db-1 down?");
    let outputs = json_attr(&s, "gen_ai.output.messages");
    assert_eq!(outputs[0]["parts"][0]["content"], llm_stub::REPLY);
    assert_eq!(s.status, Status::Unset);
}

#[task(name = "converse_tool_task")]
async fn converse_tool_task(base: String) -> String {
    let c = bedrock::client(
        "us-east-1",
        bedrock::stub_credentials(),
        Some(&base),
        RetryConfig::disabled(),
    );
    let out = c
        .converse()
        .model_id(MODEL)
        .messages(user("How full is db-1?"))
        .tool_config(tools())
        .send()
        .await
        .expect("converse");
    format!("{:?}", out.stop_reason())
}

#[tokio::test]
async fn converse_tool_use_records_the_call_and_the_definitions() {
    harness();
    let stub = LlmStub::start();
    assert!(
        converse_tool_task(stub.base_url())
            .await
            .contains("ToolUse")
    );
    let s = llm_span("converse_tool_task.task").await;
    assert_eq!(finish_reasons(&s).as_deref(), Some("[\"tool_call\"]"));
    let out = json_attr(&s, "gen_ai.output.messages");
    let call = &out[0]["parts"][0];
    assert_eq!(call["type"], "tool_call");
    assert_eq!(call["name"], "disk_usage");
    assert_eq!(call["arguments"]["host"], "disk_usage-host");
    let defs = json_attr(&s, "gen_ai.tool.definitions");
    assert_eq!(defs[0]["name"], "disk_usage");
    assert_eq!(defs[0]["parameters"]["type"], "object");
}

// ------------------------------------------------------------------ converse stream

/// How a streamed call is consumed.
#[derive(Clone, Copy)]
enum Read {
    ToEnd,
    FirstEventOnly,
}

/// Streams one answer; called inside each test's own task.
async fn stream_task(
    base: String,
    model: String,
    read: Read,
    with_tools: bool,
) -> (String, Option<String>) {
    let c = bedrock::client(
        "us-east-1",
        bedrock::stub_credentials(),
        Some(&base),
        RetryConfig::disabled(),
    );
    let mut request = c
        .converse_stream()
        .model_id(model)
        .messages(user("Stream about db-1"));
    if with_tools {
        request = request.tool_config(tools());
    }
    let mut out = request.send().await.expect("converse_stream");
    let mut text = String::new();
    loop {
        match out.stream.recv().await {
            Ok(Some(ConverseStreamOutput::ContentBlockDelta(d))) => {
                if let Some(ContentBlockDelta::Text(t)) = d.delta() {
                    text.push_str(t);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return (text, None),
            Err(e) => {
                return (
                    text,
                    Some(format!(
                        "{}",
                        aws_smithy_types::error::display::DisplayErrorContext(&e)
                    )),
                );
            }
        }
        if matches!(read, Read::FirstEventOnly) {
            drop(out);
            return (text, None);
        }
    }
}

#[tokio::test]
async fn converse_stream_is_accumulated_and_completes_at_metadata() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "stream_full_task")]
    async fn stream_full_task(base: String) -> (String, Option<String>) {
        stream_task(base, MODEL.to_owned(), Read::ToEnd, false).await
    }
    let (text, error) = stream_full_task(stub.base_url()).await;
    assert_eq!((text.as_str(), error), (llm_stub::REPLY, None));
    assert!(stub.requests()[0].path.ends_with("/converse-stream"));
    let s = llm_span("stream_full_task.task").await;
    assert_eq!(s.name, format!("chat {REQUEST_MODEL}"));
    assert_eq!(attr(&s, "gen_ai.is_streaming"), Some(true.into()));
    assert_eq!(s.status, Status::Unset); // Python's Bedrock instrumentation sets no OK
    assert!(attr(&s, "gen_ai.server.time_to_first_token").is_some());
    assert_eq!(finish_reasons(&s).as_deref(), Some("[\"stop\"]"));
    let out = json_attr(&s, "gen_ai.output.messages");
    assert_eq!(out[0]["parts"][0]["content"], llm_stub::REPLY);
    assert!(int_attr(&s, "gen_ai.usage.output_tokens").is_some_and(|n| n > 0));
    assert!(int_attr(&s, "gen_ai.usage.total_tokens").is_some());
}

#[tokio::test]
async fn converse_stream_tool_input_fragments_become_one_call() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "stream_tool_task")]
    async fn stream_tool_task(base: String) -> Option<String> {
        stream_task(base, MODEL.to_owned(), Read::ToEnd, true)
            .await
            .1
    }
    assert_eq!(stream_tool_task(stub.base_url()).await, None);
    let s = llm_span("stream_tool_task.task").await;
    assert_eq!(finish_reasons(&s).as_deref(), Some("[\"tool_call\"]"));
    let out = json_attr(&s, "gen_ai.output.messages");
    let call = &out[0]["parts"][0];
    assert_eq!(call["type"], "tool_call");
    assert_eq!(call["name"], "disk_usage");
    assert_eq!(call["arguments"]["host"], "disk_usage-host", "{call}");
    assert!(
        call["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("tooluse_"))
    );
}

#[tokio::test]
async fn converse_stream_cut_midway_fails_its_span() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "stream_midway_task")]
    async fn stream_midway_task(base: String) -> (String, Option<String>) {
        stream_task(base, llm_stub::FAIL_MIDWAY.to_owned(), Read::ToEnd, false).await
    }
    let (text, error) = stream_midway_task(stub.base_url()).await;
    assert!(error.is_some(), "the SDK saw the cut: {text:?}");
    let s = llm_span("stream_midway_task.task").await;
    assert_eq!(attr_str(&s, "error.type").as_deref(), Some("stream_error"));
    assert!(matches!(s.status, Status::Error { .. }));
    let out = json_attr(&s, "gen_ai.output.messages");
    assert!(
        out[0]["parts"][0]["content"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
}

#[tokio::test]
async fn an_exception_event_fails_the_stream_with_its_type() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "stream_exception_task")]
    async fn stream_exception_task(base: String) -> (String, Option<String>) {
        stream_task(base, llm_stub::ERROR_EVENT.to_owned(), Read::ToEnd, false).await
    }
    let (_, error) = stream_exception_task(stub.base_url()).await;
    let error = error.expect("the SDK reports the exception");
    assert!(error.contains("ModelStreamError"), "{error}");
    let s = llm_span("stream_exception_task.task").await;
    assert_eq!(
        attr_str(&s, "error.type").as_deref(),
        Some("ModelStreamErrorException")
    );
    assert!(
        matches!(s.status, Status::Error { ref description } if description.contains("interrupted"))
    );
    assert!(s.events.iter().any(|e| e.name == "exception"));
}

#[tokio::test]
async fn a_stream_dropped_early_ends_its_span_as_dropped() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "stream_dropped_task")]
    async fn stream_dropped_task(base: String) {
        stream_task(
            base,
            llm_stub::SLOW_STREAM.to_owned(),
            Read::FirstEventOnly,
            false,
        )
        .await;
    }
    stream_dropped_task(stub.base_url()).await;
    let s = llm_span("stream_dropped_task.task").await;
    assert!(
        s.events.iter().any(|e| e.name == "gen_ai.stream.dropped"),
        "{:?}",
        s.events
    );
    assert_eq!(s.status, Status::Unset);
}

// ------------------------------------------------------------------ errors

#[task(name = "error_task")]
async fn error_task(base: String, model: String, retry: bool) -> String {
    let retry = if retry {
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(std::time::Duration::from_millis(1))
    } else {
        RetryConfig::disabled()
    };
    let c = bedrock::client("us-east-1", bedrock::stub_credentials(), Some(&base), retry);
    match c
        .converse()
        .model_id(model)
        .messages(user("hi"))
        .send()
        .await
    {
        Ok(_) => panic!("the stub answered an error"),
        Err(e) => format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        ),
    }
}

#[tokio::test]
async fn throttling_and_server_errors_fail_the_span_with_the_aws_error_type() {
    harness();
    let stub = LlmStub::start();
    for (model, kind) in [
        (llm_stub::RATE_LIMITED, "ThrottlingException"),
        (llm_stub::SERVER_ERROR, "InternalServerException"),
    ] {
        let shown = error_task(stub.base_url(), model.to_owned(), false).await;
        assert!(shown.contains(kind), "{shown}");
        let s = harness()
            .named(&format!("chat {model}"))
            .pop()
            .expect("span");
        assert_eq!(attr_str(&s, "error.type").as_deref(), Some(kind));
        assert!(matches!(s.status, Status::Error { ref description } if !description.is_empty()));
    }
}

#[tokio::test]
async fn retries_are_one_span_per_call() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "retry_task")]
    async fn retry_task(base: String) -> String {
        error_task(base, llm_stub::RATE_LIMITED.to_owned(), true).await
    }
    retry_task(stub.base_url()).await;
    assert_eq!(stub.requests().len(), 3, "three attempts");
    let s = llm_span("retry_task.task").await;
    assert_eq!(
        attr_str(&s, "error.type").as_deref(),
        Some("ThrottlingException")
    );
}

// ------------------------------------------------------------------ content off, traceparent

#[tokio::test]
async fn content_off_records_no_prompt_or_completion() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "secret_bedrock")]
    async fn secret_bedrock(base: String) -> String {
        converse_task(base).await
    }
    let reply = llmetry::with_trace_content(false, secret_bedrock(stub.base_url())).await;
    assert_eq!(reply, llm_stub::REPLY);
    let s = llm_span("secret_bedrock.task").await;
    for key in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.definitions",
    ] {
        assert_eq!(attr(&s, key), None, "{key}");
    }
    for kv in &s.attributes {
        let v = kv.value.as_str();
        assert!(
            !v.contains("db-1") && !v.contains("SRE") && !v.contains("llmetry stub"),
            "{kv:?}"
        );
    }
    assert!(int_attr(&s, "gen_ai.usage.input_tokens").is_some());
}

#[tokio::test]
async fn traceparent_is_sent_only_when_asked_and_after_signing() {
    harness();
    let stub = LlmStub::start();
    #[task(name = "traceparent_task")]
    async fn traceparent_task(base: String) {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let config = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(aws_sdk_bedrockruntime::config::BehaviorVersion::latest())
            .region(aws_sdk_bedrockruntime::config::Region::new("us-east-1"))
            .credentials_provider(bedrock::stub_credentials())
            .http_client(http)
            .endpoint_url(base)
            .interceptor(llmetry_instruments::BedrockInterceptor::new().inject_traceparent(true))
            .build();
        Client::from_conf(config)
            .converse()
            .model_id(MODEL)
            .messages(user("hi"))
            .send()
            .await
            .expect("converse");
    }
    traceparent_task(stub.base_url()).await;
    let s = llm_span("traceparent_task.task").await;
    let req = &stub.requests()[0];
    let traceparent = req.header("traceparent").expect("traceparent sent");
    assert!(
        traceparent.contains(&s.span_context.span_id().to_string()),
        "{traceparent}"
    );
    let auth = req.header("authorization").expect("signed");
    assert!(!auth.contains("traceparent"), "not a signed header: {auth}");
}

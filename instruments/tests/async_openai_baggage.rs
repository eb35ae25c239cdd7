//! `LlmLayer` (async-openai) carries llmetry's context as W3C baggage to a host the app
//! allows (`baggage_hosts`), as `LlmMiddleware` does: a self-hosted model or gateway on
//! 127.0.0.1 receives the workflow name and association properties. (Its own process: the
//! harness is installed once, here with 127.0.0.1 allowed.)

#![cfg(feature = "async-openai")]
#![allow(clippy::expect_used)] // test code: a failure shows its cause

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::middleware::ReqwestService;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, CreateChatCompletionRequestArgs,
};
use llmetry::workflow;
use llmetry_instruments::LlmLayer;
use llmetry_testkit::harness_with;
use llmetry_testkit::llm_stub::LlmStub;
use tower::ServiceBuilder;

#[workflow(name = "gateway_wf")]
async fn gateway_wf(base: String) {
    llmetry::set_association_properties([("user_id", "u-7")]);
    let service = ServiceBuilder::new()
        .layer(LlmLayer::new())
        .service(ReqwestService::new(reqwest::Client::new()));
    let client = Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{base}/v1"))
            .with_api_key("k"),
    )
    .with_http_service(service);
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessage::from("Say hello.").into()])
        .build()
        .expect("request");
    client.chat().create(request).await.expect("chat");
}

#[tokio::test]
async fn an_allowed_host_receives_the_workflow_as_baggage() {
    let _h = harness_with(|b| b.baggage_hosts(["127.0.0.1"]));
    let stub = LlmStub::start();
    gateway_wf(stub.base_url()).await;

    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    let baggage = requests[0]
        .header("baggage")
        .expect("baggage sent to the allowed host");
    assert!(
        baggage.contains("traceloop.workflow.name=gateway_wf"),
        "baggage: {baggage}"
    );
    assert!(
        baggage.contains("traceloop.association.properties.user_id=u-7"),
        "baggage: {baggage}"
    );
    assert!(requests[0].header("traceparent").is_some());
}

//! The real rig (rig-core, rig-agent and rig-reqwest 0.43) against the local OpenAI stub:
//! rig's own `gen_ai.*` tracing spans nest under our entities with no user code, get the
//! enrichment, and our `openai.chat` span (rig's HTTP goes through `LlmMiddleware` via
//! rig-reqwest's `ReqwestMiddlewareClient`) nests under rig's span.
//!
//! What rig 0.43 emits (all at INFO, so our span layer exports them):
//! * `invoke_agent` only when the run starts with no current span (a root, `parent: None`);
//!   inside our `#[agent]` it adopts our span as the run's span and opens none.
//! * `chat` (target `rig::agent_chat`) per agent turn: a "completion parent" declaring
//!   `gen_ai.agent.name` (the rig agent's name, `Unnamed Agent` by default) and the
//!   `gen_ai.*` request, response and usage fields, which the provider call fills in.
//! * `chat` (target `rig::completions`) for a model called directly.
//! * `execute_tool` per tool call, under the agent's span (tool arguments and results only
//!   with rig's `record_content_telemetry(true)`).

#![cfg(feature = "reqwest-middleware")]

use std::convert::Infallible;

use llmetry::{agent, task, workflow};
use llmetry_instruments::LlmMiddleware;
use llmetry_testkit::llm_stub::{self, LlmStub};
use llmetry_testkit::{attr, attr_str, harness};
use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::SpanData;
use rig_agent::{Agent, AgentBuilder};
use rig_core::completion::{AssistantContent, CompletionRequest};
use rig_core::providers::openai::{OpenAI, OpenAIConfig};
use rig_core::tool::PortableTool;
use rig_reqwest::ReqwestMiddlewareClient;
use serde_json::{Value as Json, json};

const MODEL: &str = "gpt-4o-mini";

/// A rig OpenAI client on the stub, its HTTP through our middleware.
fn openai(base: &str) -> OpenAI {
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(LlmMiddleware::default())
        .build();
    OpenAIConfig::new("k")
        .with_base_url(format!("{base}/v1"))
        .connect(ReqwestMiddlewareClient::from(http))
}

/// Every value of attribute `key` on `span` (a key can appear more than once).
fn values(span: &SpanData, key: &str) -> Vec<Value> {
    span.attributes
        .iter()
        .filter(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
        .collect()
}

/// An integer attribute, whether exported as an integer or (rig's `u64` fields, which
/// `tracing-opentelemetry` formats with `Debug`) as a decimal string.
fn count(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key)? {
        Value::I64(n) => Some(n),
        Value::String(s) => s.as_str().parse().ok(),
        _ => None,
    }
}

/// Checks that `span` carries our enrichment: workflow, agent and `session_id` property.
fn assert_enriched(span: &SpanData, workflow: &str, agent: &str, session: &str) {
    let name = &span.name;
    assert_eq!(
        attr_str(span, "traceloop.workflow.name").as_deref(),
        Some(workflow),
        "{name}"
    );
    assert!(
        values(span, "gen_ai.agent.name").contains(&Value::from(agent.to_owned())),
        "{name}: gen_ai.agent.name {:?}",
        values(span, "gen_ai.agent.name")
    );
    assert_eq!(
        attr_str(span, "traceloop.association.properties.session_id").as_deref(),
        Some(session),
        "{name}"
    );
}

/// Checks rig's chat span `chat` against our `openai.chat` span `ours` for the same call.
fn assert_rig_chat(chat: &SpanData, ours: &SpanData) {
    let a = |k: &str| attr_str(chat, k);
    assert_eq!(a("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(a("gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(a("gen_ai.request.model").as_deref(), Some(MODEL));
    let stub_model = format!("{MODEL}{}", llm_stub::OPENAI_MODEL_SUFFIX);
    assert_eq!(
        a("gen_ai.response.model").as_deref(),
        Some(stub_model.as_str())
    );
    assert!(a("gen_ai.response.id").is_some());
    assert_eq!(
        a("gen_ai.response.id"),
        attr_str(ours, "gen_ai.response.id")
    );
    assert!(
        a("rig.provider_request_id").is_some_and(|id| id.starts_with("req_stub")),
        "{:?}",
        a("rig.provider_request_id")
    );
    for key in [
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.reasoning_tokens",
    ] {
        let n = count(chat, key);
        assert!(n.is_some_and(|n| n > 0), "{key}: {:?}", attr(chat, key));
        assert_eq!(n, count(ours, key), "{key} matches openai.chat");
    }
}

// ------------------------------------------------------------------ agent prompt

fn plain_agent(base: &str) -> Agent {
    AgentBuilder::new(openai(base).chat(MODEL))
        .preamble("You are terse.")
        .build()
}

#[agent(name = "rig_agent")]
async fn rig_agent(base: String) -> String {
    match plain_agent(&base).prompt("Say hello.").await {
        Ok(r) => r.output().to_owned(),
        Err(e) => panic!("rig prompt failed: {e}"),
    }
}

#[workflow(name = "rig_wf")]
async fn rig_wf(base: String) -> String {
    llmetry::set_association_properties([("session_id", "s-1")]);
    rig_agent(base).await
}

#[tokio::test]
async fn rig_agent_chat_span_nests_under_our_agent_and_is_enriched() {
    let h = harness();
    let stub = LlmStub::start();
    assert_eq!(rig_wf(stub.base_url()).await, llm_stub::REPLY);

    let reqs = stub.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].body["model"], json!(MODEL));

    let t = h.trace_of("rig_wf.workflow");
    // rig adopts our agent span as its run span: no `invoke_agent`.
    assert!(t.all("invoke_agent").is_empty(), "{:?}", t.names());
    let chat = t.span("chat");
    assert_eq!(t.parent_name(chat).as_deref(), Some("rig_agent.agent"));
    assert_eq!(chat.span_kind, SpanKind::Internal);
    assert_enriched(chat, "rig_wf", "rig_agent", "s-1");
    // rig's own agent name is there too (the rig agent has none here).
    assert!(values(chat, "gen_ai.agent.name").contains(&Value::from("Unnamed Agent")));
    assert_eq!(attr(chat, "rig.completion_parent"), Some(Value::Bool(true)));

    // Our middleware's span for the same HTTP call nests under rig's span.
    let ours = t.span("openai.chat");
    assert_eq!(t.parent_name(ours).as_deref(), Some("chat"));
    assert_eq!(ours.span_kind, SpanKind::Client);
    assert_enriched(ours, "rig_wf", "rig_agent", "s-1");
    assert_eq!(
        attr_str(ours, "gen_ai.request.model").as_deref(),
        Some(MODEL)
    );
    assert_rig_chat(chat, ours);

    assert_eq!(
        t.names().len(),
        4,
        "workflow, agent, chat, openai.chat: {:?}",
        t.names()
    );
}

// ------------------------------------------------------------------ tool call

/// A tool the stub calls with `{"city": "lookup-city"}`.
struct Lookup;

impl PortableTool for Lookup {
    const NAME: &'static str = "lookup";
    type Args = Json;
    type Output = String;
    type Error = Infallible;

    fn description(&self) -> String {
        "Looks up the weather of a city.".to_owned()
    }

    fn parameters(&self) -> Json {
        json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        })
    }

    async fn call(&self, args: Json) -> Result<String, Infallible> {
        Ok(format!("sunny in {}", args["city"].as_str().unwrap_or("?")))
    }
}

#[agent(name = "rig_tool_agent")]
async fn rig_tool_agent(base: String) -> String {
    let agent = AgentBuilder::new(openai(&base).chat(MODEL))
        .preamble("Use the tool.")
        .tool(Lookup)
        .build();
    match agent.prompt("Weather in Paris?").max_turns(3).await {
        Ok(r) => r.output().to_owned(),
        Err(e) => panic!("rig prompt failed: {e}"),
    }
}

#[workflow(name = "rig_tool_wf")]
async fn rig_tool_wf(base: String) -> String {
    llmetry::set_association_properties([("session_id", "s-2")]);
    rig_tool_agent(base).await
}

#[tokio::test]
async fn rig_tool_turns_and_execute_tool_span_are_enriched() {
    let h = harness();
    let stub = LlmStub::start();
    let out = rig_tool_wf(stub.base_url()).await;
    assert!(
        out.contains("sunny in lookup-city"),
        "the stub echoes the tool result: {out:?}"
    );
    assert_eq!(stub.requests().len(), 2, "tool call, then the answer");

    let t = h.trace_of("rig_tool_wf.workflow");
    let chats = t.all("chat");
    let ours = t.all("openai.chat");
    assert_eq!(chats.len(), 2, "{:?}", t.names());
    assert_eq!(ours.len(), 2, "{:?}", t.names());
    for chat in &chats {
        assert_eq!(t.parent_name(chat).as_deref(), Some("rig_tool_agent.agent"));
        assert_enriched(chat, "rig_tool_wf", "rig_tool_agent", "s-2");
        let mine = ours
            .iter()
            .find(|o| o.parent_span_id == chat.span_context.span_id());
        let Some(mine) = mine else {
            panic!("no openai.chat under a rig chat span: {:?}", t.names())
        };
        assert_enriched(mine, "rig_tool_wf", "rig_tool_agent", "s-2");
        assert_rig_chat(chat, mine);
    }

    let tool = t.span("execute_tool");
    assert_eq!(t.parent_name(tool).as_deref(), Some("rig_tool_agent.agent"));
    assert_enriched(tool, "rig_tool_wf", "rig_tool_agent", "s-2");
    let a = |k: &str| attr_str(tool, k);
    assert_eq!(a("gen_ai.operation.name").as_deref(), Some("execute_tool"));
    assert_eq!(a("gen_ai.tool.type").as_deref(), Some("function"));
    assert_eq!(a("gen_ai.tool.name").as_deref(), Some("lookup"));
    assert!(a("gen_ai.tool.call.id").is_some());
    assert_eq!(a("gen_ai.tool.call.outcome").as_deref(), Some("success"));
}

// ------------------------------------------------------------------ direct model call

#[task(name = "rig_call_task")]
async fn rig_call_task(base: String) -> String {
    let model = openai(&base).chat(MODEL);
    let r = match model.call(CompletionRequest::new("Say hello.")).await {
        Ok(r) => r,
        Err(e) => panic!("rig call failed: {e}"),
    };
    r.choice
        .iter()
        .filter_map(|c| match c {
            AssistantContent::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

#[workflow(name = "rig_call_wf")]
async fn rig_call_wf(base: String) -> String {
    llmetry::set_association_properties([("session_id", "s-3")]);
    rig_call_task(base).await
}

#[tokio::test]
async fn rig_model_call_span_nests_under_our_task_and_is_enriched() {
    let h = harness();
    let stub = LlmStub::start();
    assert_eq!(rig_call_wf(stub.base_url()).await, llm_stub::REPLY);

    let t = h.trace_of("rig_call_wf.workflow");
    let chat = t.span("chat");
    assert_eq!(t.parent_name(chat).as_deref(), Some("rig_call_task.task"));
    assert_eq!(
        attr_str(chat, "traceloop.workflow.name").as_deref(),
        Some("rig_call_wf")
    );
    assert_eq!(
        attr_str(chat, "traceloop.association.properties.session_id").as_deref(),
        Some("s-3")
    );
    assert!(values(chat, "gen_ai.agent.name").is_empty());
    assert_eq!(attr(chat, "rig.completion_parent"), None);
    let ours = t.span("openai.chat");
    assert_eq!(t.parent_name(ours).as_deref(), Some("chat"));
    assert_rig_chat(chat, ours);
}

// ------------------------------------------------------------------ known gaps

#[agent(name = "rig_gap_agent")]
async fn rig_gap_agent(base: String) -> String {
    match plain_agent(&base).prompt("Say hello.").await {
        Ok(r) => r.output().to_owned(),
        Err(e) => panic!("rig prompt failed: {e}"),
    }
}

/// What a backend needs to read rig's span unambiguously: one value per key (today
/// `gen_ai.agent.name` is there twice, rig's `Unnamed Agent` first and our `rig_gap_agent`
/// second, and `gen_ai.operation.name` twice), and integer token counts (today strings:
/// rig records `u64`, which `tracing-opentelemetry` 0.34 formats with `Debug`).
#[tokio::test]
#[ignore = "known gap: duplicate keys and string token counts on rig's chat span"]
async fn rig_chat_span_attributes_are_unique_and_typed() {
    let h = harness();
    let stub = LlmStub::start();
    assert_eq!(rig_gap_agent(stub.base_url()).await, llm_stub::REPLY);

    let t = h.trace_of("rig_gap_agent.agent");
    let chat = t.span("chat");
    let mut keys: Vec<&str> = chat.attributes.iter().map(|kv| kv.key.as_str()).collect();
    keys.sort_unstable();
    let mut dups = keys.clone();
    dups.dedup();
    assert_eq!(keys, dups, "duplicate attribute keys on rig's chat span");
    assert_eq!(
        attr_str(chat, "gen_ai.agent.name").as_deref(),
        Some("rig_gap_agent")
    );
    assert!(matches!(
        attr(chat, "gen_ai.usage.input_tokens"),
        Some(Value::I64(_))
    ));
}

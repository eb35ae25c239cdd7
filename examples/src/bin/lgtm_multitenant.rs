//! A short job sending each signal to its own multi-tenant Grafana backend: traces to Tempo
//! and logs to Loki with `X-Scope-OrgID`, metrics to Mimir (or Thanos Receive) with
//! `THANOS-TENANT`, each on its own endpoint. The job itself is `llm_job` in small: a
//! `#[workflow(name = "lgtm_job")]` calling a `#[task(name = "openai_call")]` whose chat
//! completion goes through the LLM middleware (an embedded stub answers without
//! `OPENAI_API_KEY`), with a log line per step.
//!
//! Environment: `TEMPO_ENDPOINT` (default `http://localhost:4318`: Tempo's OTLP/HTTP
//! receiver, `/v1/traces` is appended), `LOKI_ENDPOINT` (default
//! `http://localhost:3100/otlp`: Loki's native OTLP endpoint, `/v1/logs` is appended),
//! `MIMIR_ENDPOINT` (default `http://localhost:9009/otlp`: Mimir's OTLP endpoint,
//! `/v1/metrics` is appended), `TENANT` (default `rca`: the tenant of all three), and, as in
//! `llm_job`, `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`, `OPENAI_PROMPT`,
//! `OTEL_SERVICE_NAME` (default `lgtm_multitenant`). Builder values beat `TRACELOOP_*` /
//! `OTEL_*`, so the endpoints and headers above are the ones used.
//!
//! `cargo run -p llmetry-examples --bin lgtm_multitenant`

use std::process::ExitCode;

use llmetry::{task, workflow};
use llmetry_examples::support::{self, ChatError, OpenAi, env_or};
use serde_json::json;

/// The job's error (its own type, recorded as the spans' `error.type`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct JobError(#[from] ChatError);

#[task(name = "openai_call", skip(client, api_key))]
async fn call_openai(
    client: &reqwest_middleware::ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    model: &str,
    prompt: &str,
) -> Result<String, JobError> {
    let body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a concise poet."},
            {"role": "user", "content": prompt}
        ]
    });
    let completion = support::chat_completion(client, base_url, api_key, &body).await?;
    let content = completion.content()?;
    let v = &completion.response;
    // A log record for Loki, correlated with this task's span in Tempo.
    tracing::info!(
        model = v["model"].as_str().unwrap_or_default(),
        total_tokens = v["usage"]["total_tokens"].as_u64().unwrap_or(0),
        "chat completion received"
    );
    Ok(content.to_owned())
}

#[workflow(name = "lgtm_job", skip(client, api_key))]
async fn run(
    client: &reqwest_middleware::ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    model: &str,
    prompt: &str,
) -> Result<String, JobError> {
    tracing::info!(model, "asking for a haiku");
    call_openai(client, base_url, api_key, model, prompt).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let service = env_or("OTEL_SERVICE_NAME", "lgtm_multitenant");
    let tempo = env_or("TEMPO_ENDPOINT", "http://localhost:4318");
    let loki = env_or("LOKI_ENDPOINT", "http://localhost:3100/otlp");
    let mimir = env_or("MIMIR_ENDPOINT", "http://localhost:9009/otlp");
    let tenant = env_or("TENANT", "rca");

    // One builder, three destinations. Traces go to `api_endpoint` with `headers`; logs
    // have their own endpoint and inherit `headers` (Loki reads the same X-Scope-OrgID);
    // metrics have their own endpoint and their own headers, which replace `headers`
    // (Thanos Receive reads THANOS-TENANT). The init line on stderr says where each goes.
    eprintln!(
        "lgtm_multitenant: tenant {tenant:?}: traces -> Tempo and logs -> Loki with X-Scope-OrgID, metrics -> Mimir/Thanos with THANOS-TENANT"
    );
    let telemetry = support::telemetry_or_none(
        "lgtm_multitenant",
        llmetry::init()
            .app_name(service)
            .disable_batch(true)
            .api_endpoint(tempo)
            .headers([("X-Scope-OrgID", tenant.as_str())])
            .logging_enabled(true)
            .logging_endpoint(loki)
            .metrics_endpoint(mimir)
            .metrics_headers([("THANOS-TENANT", tenant.as_str())])
            .install(),
    );

    let prompt = env_or("OPENAI_PROMPT", "Write a haiku about Grafana tenants");
    // `openai.chat` spans to Tempo, `gen_ai.client.*` metrics to Mimir.
    let Some(llm) = OpenAi::from_env("lgtm_multitenant", support::http_client()).await else {
        return ExitCode::FAILURE;
    };

    let (client, base_url, api_key, model) = llm.parts();
    let answer = run(client, base_url, api_key, model, &prompt).await;
    let code = match answer {
        Ok(answer) => {
            tracing::info!(chars = answer.len(), "lgtm_job finished");
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "lgtm_job failed");
            eprintln!("lgtm_multitenant: {e}");
            ExitCode::FAILURE
        }
    };
    support::shutdown("lgtm_multitenant", telemetry);
    code
}

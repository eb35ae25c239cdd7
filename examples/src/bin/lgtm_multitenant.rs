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
use llmetry_examples::openai_stub::OpenAiStub;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("request to {url} failed: {source}")]
    Http {
        url: String,
        source: reqwest_middleware::Error,
    },
    #[error("reading the response of {url} failed: {source}")]
    Body { url: String, source: reqwest::Error },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("unexpected response from {url}: no choices[0].message.content")]
    Shape { url: String },
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[task(name = "openai_call", skip(client, api_key))]
async fn call_openai(
    client: &reqwest_middleware::ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    model: &str,
    prompt: &str,
) -> Result<String, JobError> {
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a concise poet."},
            {"role": "user", "content": prompt}
        ]
    });
    let resp = client
        .post(&url)
        .bearer_auth(api_key)
        .json(&body)
        .send()
        .await
        .map_err(|source| JobError::Http {
            url: url.clone(),
            source,
        })?;
    let status = resp.status();
    let text = resp.text().await.map_err(|source| JobError::Body {
        url: url.clone(),
        source,
    })?;
    if !status.is_success() {
        return Err(JobError::Status {
            url,
            status: status.as_u16(),
            body: text,
        });
    }
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| JobError::Shape { url: url.clone() })?;
    let content = v["choices"][0]["message"]["content"]
        .as_str()
        .ok_or(JobError::Shape { url })?;
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
    let telemetry = match llmetry::init()
        .app_name(service)
        .disable_batch(true)
        .api_endpoint(tempo)
        .headers([("X-Scope-OrgID", tenant.as_str())])
        .logging_enabled(true)
        .logging_endpoint(loki)
        .metrics_endpoint(mimir)
        .metrics_headers([("THANOS-TENANT", tenant.as_str())])
        .install()
    {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("lgtm_multitenant: running without telemetry: {e}");
            None
        }
    };

    let model = env_or("OPENAI_MODEL", "gpt-4o-mini");
    let prompt = env_or("OPENAI_PROMPT", "Write a haiku about Grafana tenants");
    let mut _stub = None;
    let (base_url, api_key) = match std::env::var("OPENAI_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
    {
        Some(key) => (env_or("OPENAI_BASE_URL", "https://api.openai.com/v1"), key),
        None => match OpenAiStub::start().await {
            Ok(stub) => {
                let url = stub.base_url();
                eprintln!(
                    "lgtm_multitenant: OPENAI_API_KEY is not set: answering from an embedded stub OpenAI server at {url}"
                );
                _stub = Some(stub);
                (url, "stub-key".to_owned())
            }
            Err(e) => {
                eprintln!("lgtm_multitenant: could not start the embedded stub server: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
    {
        // `openai.chat` spans to Tempo, `gen_ai.client.*` metrics to Mimir.
        Ok(c) => reqwest_middleware::ClientBuilder::new(c)
            .with(llmetry_instruments::LlmMiddleware::default())
            .build(),
        Err(e) => {
            eprintln!("lgtm_multitenant: could not build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };

    let code = match run(&client, &base_url, &api_key, &model, &prompt).await {
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
    if let Some(t) = telemetry
        && let Err(e) = t.shutdown()
    {
        eprintln!("lgtm_multitenant: {e}");
    }
    code
}

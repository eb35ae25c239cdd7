//! The main job: a `#[workflow(name = "llm_job")]` calling a `#[task(name = "openai_call")]`
//! that asks an OpenAI-compatible chat completion for a haiku, with immediate export so
//! nothing is lost when the short-lived process exits.
//!
//! Environment (as in the seed program): `OPENAI_BASE_URL` (default
//! `https://api.openai.com/v1`), `OPENAI_API_KEY` (when unset, an embedded stub server that
//! speaks the OpenAI wire format answers instead), `OPENAI_MODEL` (default `gpt-4o-mini`),
//! `OPENAI_PROMPT`, `OTEL_SERVICE_NAME` (default `llm_job`), `DEPLOYMENT_ENVIRONMENT`
//! (default `development`). Telemetry destinations come from `TRACELOOP_*` / `OTEL_*`
//! (see the README); with none set, the span tree is printed on stderr.
//!
//! `cargo run -p llmetry-examples --bin llm_job`

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
    let tokens = v["usage"]["total_tokens"].as_u64().unwrap_or(0);
    opentelemetry::global::meter("llm_job")
        .u64_counter("llm_job.tokens")
        .with_unit("token")
        .with_description("Tokens used by the job's chat completions")
        .build()
        .add(
            tokens,
            &[opentelemetry::KeyValue::new("model", model.to_owned())],
        );
    tracing::info!(
        model = v["model"].as_str().unwrap_or_default(),
        completion_tokens = v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
        "chat completion received"
    );
    Ok(content.to_owned())
}

#[workflow(name = "llm_job", skip(client, api_key))]
async fn run(
    client: &reqwest_middleware::ClientWithMiddleware,
    base_url: &str,
    api_key: &str,
    model: &str,
    prompt: &str,
) -> Result<String, JobError> {
    call_openai(client, base_url, api_key, model, prompt).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let service = env_or("OTEL_SERVICE_NAME", "llm_job");
    let environment = env_or("DEPLOYMENT_ENVIRONMENT", "development");
    // Telemetry must never stop the job: on a configuration error, say so and go on without it.
    let telemetry = match llmetry::init()
        .app_name(service)
        .disable_batch(true)
        .logging_enabled(true)
        .resource_attributes([("deployment.environment", environment)])
        .install()
    {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("llm_job: running without telemetry: {e}");
            None
        }
    };

    let model = env_or("OPENAI_MODEL", "gpt-4o-mini");
    let prompt = env_or("OPENAI_PROMPT", "Write a haiku about OpenTelemetry");
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
                    "llm_job: OPENAI_API_KEY is not set: answering from an embedded stub OpenAI server at {url}"
                );
                _stub = Some(stub);
                (url, "stub-key".to_owned())
            }
            Err(e) => {
                eprintln!("llm_job: could not start the embedded stub server: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
    {
        // The LLM middleware records an `openai.chat` span (model, tokens, messages) under
        // the `openai_call` task, and the GenAI metrics.
        Ok(c) => reqwest_middleware::ClientBuilder::new(c)
            .with(llmetry_instruments::LlmMiddleware::default())
            .build(),
        Err(e) => {
            eprintln!("llm_job: could not build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };

    let result = run(&client, &base_url, &api_key, &model, &prompt).await;
    let code = match &result {
        Ok(answer) => {
            tracing::info!(chars = answer.len(), "llm_job finished");
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "llm_job failed");
            eprintln!("llm_job: {e}");
            ExitCode::FAILURE
        }
    };
    if let Some(t) = telemetry
        && let Err(e) = t.shutdown()
    {
        eprintln!("llm_job: {e}");
    }
    code
}

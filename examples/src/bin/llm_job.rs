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
    let telemetry = support::telemetry_or_none(
        "llm_job",
        llmetry::init()
            .app_name(service)
            .disable_batch(true)
            .logging_enabled(true)
            .resource_attributes([("deployment.environment", environment)])
            .install(),
    );

    let prompt = env_or("OPENAI_PROMPT", "Write a haiku about OpenTelemetry");
    // The LLM middleware records an `openai.chat` span (model, tokens, messages) under the
    // `openai_call` task, and the GenAI metrics.
    let Some(llm) = OpenAi::from_env("llm_job", support::http_client()).await else {
        return ExitCode::FAILURE;
    };

    let (client, base_url, api_key, model) = llm.parts();
    let result = run(client, base_url, api_key, model, &prompt).await;
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
    support::shutdown("llm_job", telemetry);
    code
}

//! A job asking Gemini for an incident summary: generateContent and a streamed answer
//! through rig 0.43's Gemini provider, a JSON-array stream and an embedding through raw
//! reqwest, all through `LlmMiddleware`: each call is a `generate_content {model}` (or
//! `embeddings {model}`) span under the job's tasks, with tokens, finish reasons and, when
//! content capture allows, the prompts and answers.
//!
//! `cargo run -p llmetry-integrations --bin gemini`
//!
//! Environment: `GEMINI_API_KEY` (when unset, an embedded stub server speaking Gemini's wire
//! format answers instead, wanting the key `stub-key`), `GEMINI_BASE_URL` (default
//! `https://generativelanguage.googleapis.com`), `GEMINI_MODEL` (default
//! `gemini-2.5-flash`), `GEMINI_EMBEDDING_MODEL` (default `gemini-embedding-001`),
//! `OTEL_SERVICE_NAME` (default `gemini_job`). Telemetry destinations as in the README;
//! with none set, the span tree is printed on stderr. The key is never recorded.

use std::process::ExitCode;

use futures::StreamExt as _;
use llmetry::{task, workflow};
use llmetry_integrations::{env_opt, env_or, gemini, shutdown, telemetry_or_none};
use llmetry_testkit::llm_stub::{Answers, LlmStub};
use rig_core::completion::{AssistantContent, CompletionRequest};
use rig_core::streaming::{Item, StreamEvent};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Where the calls go.
struct Gemini {
    base: String,
    key: String,
    model: String,
    embedding_model: String,
}

#[task(name = "summarize", skip(g))]
async fn summarize(g: &Gemini, incident: &str) -> Result<String, Error> {
    let model = gemini::rig(&g.key, &g.base).completion(g.model.as_str());
    let r = model
        .call(CompletionRequest::new(format!(
            "Summarize this incident: {incident}"
        )))
        .await?;
    Ok(r.choice
        .iter()
        .filter_map(|c| match c {
            AssistantContent::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect())
}

#[task(name = "stream_next_steps", skip(g))]
async fn stream_next_steps(g: &Gemini, incident: &str) -> Result<String, Error> {
    let model = gemini::rig(&g.key, &g.base).completion(g.model.as_str());
    let mut stream = model.stream(CompletionRequest::new(format!(
        "Next steps for: {incident}"
    )))?;
    let mut text = String::new();
    while let Some(item) = stream.next().await {
        if let Item::Event(StreamEvent::Text { text: t, .. }) = item? {
            text.push_str(&t);
        }
    }
    Ok(text)
}

/// `streamGenerateContent` without `alt=sse`: one JSON array, element by element.
#[task(name = "stream_status_note", skip(g))]
async fn stream_status_note(g: &Gemini, incident: &str) -> Result<String, Error> {
    let url = format!("{}/v1beta/models/{}:streamGenerateContent", g.base, g.model);
    let body = json!({"contents": [{"role": "user", "parts": [{"text": format!("Status page note for: {incident}")}]}]});
    let resp = gemini::http_client()
        .post(url)
        .header("x-goog-api-key", &g.key)
        .json(&body)
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(format!("Gemini answered {}", resp.status()).into());
    }
    let chunks: Vec<Value> = resp.json().await?;
    Ok(chunks
        .iter()
        .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .collect())
}

#[task(name = "embed_incident", skip(g))]
async fn embed_incident(g: &Gemini, incident: &str) -> Result<usize, Error> {
    let model = gemini::rig(&g.key, &g.base).embedding(g.embedding_model.as_str(), None);
    Ok(model.embed_text(incident).await?.vec.len())
}

#[workflow(name = "gemini_job", skip(g))]
async fn job(g: &Gemini, incident: &str) -> Result<Vec<String>, Error> {
    Ok(vec![
        summarize(g, incident).await?,
        stream_next_steps(g, incident).await?,
        stream_status_note(g, incident).await?,
        format!(
            "embedding: {} dimensions",
            embed_incident(g, incident).await?
        ),
    ])
}

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = telemetry_or_none(
        "gemini",
        llmetry::init()
            .app_name(env_or("OTEL_SERVICE_NAME", "gemini_job"))
            .disable_batch(true)
            .install(),
    );
    // The embedded stub when there is no key; it stops when dropped, at the end of main.
    let mut _stub = None;
    let (base, key) = match env_opt("GEMINI_API_KEY") {
        Some(key) => (
            env_or(
                "GEMINI_BASE_URL",
                "https://generativelanguage.googleapis.com",
            ),
            key,
        ),
        None => match LlmStub::builder()
            .answers(Answers::Demo)
            .require_api_key(true)
            .serve()
            .await
        {
            Ok(stub) => {
                let base = stub.base_url();
                eprintln!(
                    "gemini: GEMINI_API_KEY is not set: answering from an embedded stub Gemini server at {base}"
                );
                _stub = Some(stub);
                (base, "stub-key".to_owned())
            }
            Err(e) => {
                eprintln!("gemini: could not start the embedded stub server: {e}");
                shutdown("gemini", telemetry);
                return ExitCode::FAILURE;
            }
        },
    };
    let g = Gemini {
        base,
        key,
        model: env_or("GEMINI_MODEL", "gemini-2.5-flash"),
        embedding_model: env_or("GEMINI_EMBEDDING_MODEL", "gemini-embedding-001"),
    };
    let code = match job(&g, "db-1 is out of disk space and rejects writes").await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gemini: {e}");
            ExitCode::FAILURE
        }
    };
    shutdown("gemini", telemetry);
    code
}

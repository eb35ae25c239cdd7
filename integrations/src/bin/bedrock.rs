//! A job asking a Bedrock model (through `aws-sdk-bedrockruntime`) to triage an incident,
//! with Converse and ConverseStream: `BedrockInterceptor` on the client config makes each
//! call a `chat {model}` span (provider `aws.bedrock`) under the job's tasks, with tokens,
//! finish reasons and, when content capture allows, the messages.
//!
//! `cargo run -p llmetry-integrations --bin bedrock`
//!
//! Environment: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`):
//! when unset, an embedded stub server speaking Bedrock's wire format (Converse JSON and the
//! AWS event stream) answers instead, with static stub credentials; `AWS_REGION` (default
//! `us-east-1`), `BEDROCK_MODEL` (default a Claude 3.5 Haiku inference profile),
//! `OTEL_SERVICE_NAME` (default `bedrock_job`). No `aws-config`: credentials come from these
//! variables only. Telemetry destinations as in the README; with none set, the span tree is
//! printed on stderr.

use std::process::ExitCode;

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Credentials;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ConversationRole, ConverseStreamOutput, Message,
};
use llmetry::{task, workflow};
use llmetry_integrations::{bedrock, env_opt, env_or, shutdown, telemetry_or_none};
use llmetry_testkit::llm_stub::{Answers, LlmStub};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn user(text: String) -> Result<Message, Error> {
    Ok(Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text))
        .build()?)
}

#[task(name = "triage", skip(client))]
async fn triage(client: &Client, model: &str, incident: &str) -> Result<String, Error> {
    let out = client
        .converse()
        .model_id(model)
        .messages(user(format!("Triage this incident: {incident}"))?)
        .send()
        .await?;
    let message = out
        .output()
        .and_then(|o| o.as_message().ok())
        .ok_or("Bedrock answered no message")?;
    Ok(message
        .content()
        .iter()
        .filter_map(|c| c.as_text().ok().map(String::as_str))
        .collect())
}

#[task(name = "stream_runbook", skip(client))]
async fn stream_runbook(client: &Client, model: &str, incident: &str) -> Result<String, Error> {
    let mut out = client
        .converse_stream()
        .model_id(model)
        .messages(user(format!("Write the runbook steps for: {incident}"))?)
        .send()
        .await?;
    let mut text = String::new();
    while let Some(event) = out.stream.recv().await? {
        if let ConverseStreamOutput::ContentBlockDelta(d) = event
            && let Some(ContentBlockDelta::Text(t)) = d.delta()
        {
            text.push_str(t);
        }
    }
    Ok(text)
}

#[workflow(name = "bedrock_job", skip(client))]
async fn job(client: &Client, model: &str, incident: &str) -> Result<Vec<String>, Error> {
    Ok(vec![
        triage(client, model, incident).await?,
        stream_runbook(client, model, incident).await?,
    ])
}

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = telemetry_or_none(
        "bedrock",
        llmetry::init()
            .app_name(env_or("OTEL_SERVICE_NAME", "bedrock_job"))
            .disable_batch(true)
            .install(),
    );
    let region = env_or("AWS_REGION", "us-east-1");
    let mut _stub = None;
    let client = match (
        env_opt("AWS_ACCESS_KEY_ID"),
        env_opt("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => {
            let credentials = Credentials::new(
                id,
                secret,
                env_opt("AWS_SESSION_TOKEN"),
                None,
                "environment",
            );
            bedrock::client(&region, credentials, None, RetryConfig::standard())
        }
        _ => match LlmStub::builder()
            .answers(Answers::Demo)
            .require_api_key(true)
            .serve()
            .await
        {
            Ok(stub) => {
                let base = stub.base_url();
                eprintln!(
                    "bedrock: AWS credentials are not set: answering from an embedded stub Bedrock server at {base}"
                );
                let client = bedrock::client(
                    &region,
                    bedrock::stub_credentials(),
                    Some(&base),
                    RetryConfig::standard(),
                );
                _stub = Some(stub);
                client
            }
            Err(e) => {
                eprintln!("bedrock: could not start the embedded stub server: {e}");
                shutdown("bedrock", telemetry);
                return ExitCode::FAILURE;
            }
        },
    };
    let model = env_or("BEDROCK_MODEL", bedrock::MODEL);
    let code = match job(
        &client,
        &model,
        "db-1 is out of disk space and rejects writes",
    )
    .await
    {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "bedrock: {}",
                aws_smithy_types::error::display::DisplayErrorContext(e.as_ref())
            );
            ExitCode::FAILURE
        }
    };
    shutdown("bedrock", telemetry);
    code
}

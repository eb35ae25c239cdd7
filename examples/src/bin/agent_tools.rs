//! A tool-calling agent: a `#[workflow(name = "agent_tools")]` runs an
//! `#[agent(name = "incident_agent")]` that offers the model two tools, `grep_logs(pattern)`
//! and `disk_usage(host)`, runs the `#[tool]` functions the model asks for, sends their
//! results back (`role: "tool"` messages with the `tool_call_id`), and asks again until the
//! model answers in text (at most [`MAX_TURNS`] model calls).
//!
//! Every chat completion goes through the LLM middleware, so the trace is
//! `agent_tools.workflow` → `incident_agent.agent` → `openai.chat`, `grep_logs.tool`,
//! `disk_usage.tool`, `openai.chat`.
//!
//! Environment: `OPENAI_BASE_URL` (default `https://api.openai.com/v1`), `OPENAI_API_KEY`
//! (when unset, an embedded stub server that speaks the OpenAI wire format answers, calling
//! both tools), `OPENAI_MODEL` (default `gpt-4o-mini`), `OPENAI_PROMPT` (the incident).
//! Telemetry destinations come from `TRACELOOP_*` / `OTEL_*` (see the README); with none set,
//! the span tree is printed on stderr.
//!
//! `cargo run -p llmetry-examples --bin agent_tools`

use std::process::ExitCode;

use llmetry::{agent, tool, workflow};
use llmetry_examples::support::{self, ChatError, OpenAi, env_or};
use serde::Serialize;
use serde_json::{Value, json};

/// The most chat completions the agent asks for before giving up.
const MAX_TURNS: usize = 4;

const DEFAULT_INCIDENT: &str = "Checkout on host web-3 returns HTTP 502 since 09:12. \
     Search the logs for pattern OOMKilled and check the disk usage of the host, \
     then tell me the likely cause.";

/// The logs `grep_logs` searches.
const LOGS: &[&str] = &[
    "09:11:58 web-3 kernel: Out of memory: Killed process 4121 (checkout)",
    "09:12:01 web-3 kubelet: container checkout OOMKilled (exit code 137), restarting",
    "09:12:03 web-3 nginx: upstream checkout closed the connection, answering 502",
    "09:12:04 web-3 checkout: cannot write /var/spool/checkout: No space left on device",
    "09:12:30 web-1 checkout: healthy, 212 requests/s",
];

#[derive(Debug, thiserror::Error)]
enum AgentError {
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error("no final answer after {0} model calls")]
    TooManyTurns(usize),
}

#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error("unknown host {0:?}")]
    UnknownHost(String),
}

/// What `disk_usage` reports.
#[derive(Debug, Serialize)]
struct DiskUsage {
    host: String,
    mount: &'static str,
    used_percent: u8,
    free_gib: f32,
}

/// The log lines containing `pattern` (case-insensitive).
#[tool(name = "grep_logs")]
fn grep_logs(pattern: &str) -> Vec<String> {
    let needle = pattern.to_lowercase();
    LOGS.iter()
        .filter(|l| l.to_lowercase().contains(&needle))
        .map(|l| (*l).to_owned())
        .collect()
}

/// Disk usage of `/var` on `host`.
#[tool(name = "disk_usage")]
fn disk_usage(host: &str) -> Result<DiskUsage, ToolError> {
    let (used_percent, free_gib) = match host {
        "web-1" => (41, 58.2),
        "web-2" => (63, 36.9),
        "web-3" => (100, 0.0),
        other => return Err(ToolError::UnknownHost(other.to_owned())),
    };
    Ok(DiskUsage {
        host: host.to_owned(),
        mount: "/var",
        used_percent,
        free_gib,
    })
}

/// The tool definitions sent with every request (OpenAI `tools`, strict JSON schemas).
fn tool_definitions() -> Value {
    let function = |name: &str, description: &str, param: &str, param_description: &str| {
        json!({
            "type": "function",
            "function": {
                "name": name,
                "description": description,
                "strict": true,
                "parameters": {
                    "type": "object",
                    "properties": {param: {"type": "string", "description": param_description}},
                    "required": [param],
                    "additionalProperties": false
                }
            }
        })
    };
    json!([
        function(
            "grep_logs",
            "Search the production logs; returns the matching lines.",
            "pattern",
            "Case-insensitive text to look for"
        ),
        function(
            "disk_usage",
            "Disk usage of /var on a host.",
            "host",
            "Host name, e.g. web-1"
        ),
    ])
}

/// Runs the tool the model called; the result (or the error) becomes the `tool` message.
fn run_tool(name: &str, arguments: &str) -> String {
    let args: Value = serde_json::from_str(arguments).unwrap_or(Value::Null);
    let arg = |key: &str| args[key].as_str().map(str::to_owned);
    let result = match (name, arg("pattern"), arg("host")) {
        ("grep_logs", Some(pattern), _) => Ok(json!(grep_logs(&pattern))),
        ("disk_usage", _, Some(host)) => disk_usage(&host)
            .map(|u| json!(u))
            .map_err(|e| e.to_string()),
        _ => Err(format!("no tool {name} taking {arguments}")),
    };
    match result {
        Ok(v) => v.to_string(),
        Err(e) => json!({ "error": e }).to_string(),
    }
}

/// One chat completion through the LLM middleware; returns `choices[0].message`.
async fn chat(llm: &OpenAi, messages: &[Value], tools: &Value) -> Result<Value, AgentError> {
    let body = json!({"model": llm.model, "messages": messages, "tools": tools});
    let completion = support::chat_completion(&llm.client, &llm.base_url, &llm.api_key, &body);
    Ok(completion.await?.into_message()?)
}

#[agent(name = "incident_agent", skip(llm))]
async fn incident_agent(llm: &OpenAi, incident: &str) -> Result<String, AgentError> {
    let tools = tool_definitions();
    let mut messages = vec![
        json!({"role": "system", "content": "You are an on-call SRE assistant. Use the tools, then answer briefly."}),
        json!({"role": "user", "content": incident}),
    ];
    for _ in 0..MAX_TURNS {
        let message = chat(llm, &messages, &tools).await?;
        let calls = message["tool_calls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if calls.is_empty() {
            return Ok(message["content"].as_str().unwrap_or_default().to_owned());
        }
        // Only the fields every OpenAI-compatible API accepts back.
        messages
            .push(json!({"role": "assistant", "content": message["content"], "tool_calls": calls}));
        for call in calls {
            let name = call["function"]["name"].as_str().unwrap_or_default();
            let arguments = call["function"]["arguments"].as_str().unwrap_or("{}");
            let result = run_tool(name, arguments);
            println!("» {name}({arguments}) -> {result}");
            messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": result}));
        }
    }
    Err(AgentError::TooManyTurns(MAX_TURNS))
}

#[workflow(name = "agent_tools", skip(llm))]
async fn run(llm: &OpenAi, incident: &str) -> Result<String, AgentError> {
    incident_agent(llm, incident).await
}

#[tokio::main]
async fn main() -> ExitCode {
    // Telemetry must never stop the job: on a configuration error, say so and go on without it.
    let telemetry = support::telemetry_or_none(
        "agent_tools",
        llmetry::init()
            .app_name("agent_tools")
            .disable_batch(true)
            .install(),
    );

    let incident = env_or("OPENAI_PROMPT", DEFAULT_INCIDENT);
    // The LLM middleware records an `openai.chat` span per model call, under the agent.
    let Some(llm) = OpenAi::from_env("agent_tools", support::http_client()).await else {
        return ExitCode::FAILURE;
    };

    let code = match run(&llm, &incident).await {
        Ok(answer) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("agent_tools: {e}");
            ExitCode::FAILURE
        }
    };
    support::shutdown("agent_tools", telemetry);
    code
}

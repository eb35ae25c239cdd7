//! Bedrock Runtime (`/model/{modelId}/converse`, `/model/{modelId}/converse-stream`):
//! reading Converse messages, `toolResult` blocks and `toolSpec`s, and the answer as Converse
//! JSON or as an AWS event stream (binary frames written with `aws-smithy-eventstream`,
//! feature `bedrock-stub`): `messageStart`, `contentBlockDelta` per word (and, for a tool call,
//! `contentBlockStart` with the `toolUse`, its input in fragments), `contentBlockStop`,
//! `messageStop`, `metadata` with the usage. Each event payload carries Bedrock's random
//! padding field `p`, as the real service does.

use axum::body::Bytes;
use serde_json::{Value, json};

use super::answer::{Answer, Conversation, ToolResult, Turn, Usage, fragments, word_deltas};
use super::request::{Ctx, text_of};
use super::wire::Frame;

/// The text of a content block list.
fn blocks_text(content: &Value) -> String {
    content
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The conversation of a Converse request.
pub(super) fn conversation(body: &Value) -> Conversation {
    let messages = body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let uses = messages
        .len()
        .checked_sub(2)
        .and_then(|i| messages[i]["content"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let results: Vec<ToolResult> = messages
        .last()
        .and_then(|m| m["content"].as_array())
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b.get("toolResult"))
                .map(|r| ToolResult {
                    tool: uses
                        .iter()
                        .filter_map(|u| u.get("toolUse"))
                        .find(|u| u["toolUseId"] == r["toolUseId"])
                        .and_then(|u| u["name"].as_str())
                        .map(str::to_owned),
                    content: r["content"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| match c.get("json") {
                            Some(j) => j.to_string(),
                            None => text_of(&c["text"]),
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                })
                .collect()
        })
        .unwrap_or_default();
    let turn = match messages.last() {
        Some(_) if !results.is_empty() => Turn::ToolResults(results),
        Some(last) if last["role"] == "user" => Turn::User,
        _ => Turn::Other,
    };
    let tools = body["toolConfig"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let spec = t.get("toolSpec")?;
            let name = spec["name"].as_str()?;
            Some((name.to_owned(), spec["inputSchema"].get("json").cloned()))
        })
        .collect();
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| blocks_text(&m["content"]))
        .unwrap_or_default();
    Conversation {
        turn,
        tools,
        prompt,
        no_tools: false,
        one_tool: false,
        message_tokens: None,
    }
}

fn stop_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text(_) => "end_turn",
        Answer::Tools { .. } => "tool_use",
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "inputTokens": usage.input,
        "outputTokens": usage.output,
        "totalTokens": usage.input + usage.output + usage.cached + usage.cache_creation,
        "cacheReadInputTokens": usage.cached,
        "cacheWriteInputTokens": usage.cache_creation
    })
}

/// A Converse response.
pub(super) fn json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    let content: Vec<Value> = match answer {
        Answer::Text(text) => vec![json!({"text": text})],
        Answer::Tools { calls, .. } => calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({"toolUse": {"toolUseId": ctx.nth_id("tooluse_", i), "name": c.name, "input": c.arguments}})
            })
            .collect(),
    };
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason(answer),
        "usage": usage_json(usage),
        "metrics": {"latencyMs": 42}
    })
}

/// The padding Bedrock adds to every event payload (random length there, fixed here).
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";

/// The event stream of an answer.
pub(super) fn stream(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    let mut frames = vec![Frame::other(event(
        "messageStart",
        &json!({"p": PADDING, "role": "assistant"}),
    ))];
    match answer {
        Answer::Text(text) => {
            for w in word_deltas(text) {
                frames.push(Frame::delta(event(
                    "contentBlockDelta",
                    &json!({"contentBlockIndex": 0, "delta": {"text": w}, "p": PADDING}),
                )));
            }
            frames.push(Frame::other(event(
                "contentBlockStop",
                &json!({"contentBlockIndex": 0, "p": PADDING}),
            )));
        }
        Answer::Tools { calls, .. } => {
            for (i, call) in calls.iter().enumerate() {
                frames.push(Frame::other(event(
                    "contentBlockStart",
                    &json!({"contentBlockIndex": i, "start": {"toolUse": {
                        "toolUseId": ctx.nth_id("tooluse_", i), "name": call.name
                    }}, "p": PADDING}),
                )));
                for f in fragments(&call.arguments_string()) {
                    frames.push(Frame::delta(event(
                        "contentBlockDelta",
                        &json!({"contentBlockIndex": i, "delta": {"toolUse": {"input": f}}, "p": PADDING}),
                    )));
                }
                frames.push(Frame::other(event(
                    "contentBlockStop",
                    &json!({"contentBlockIndex": i, "p": PADDING}),
                )));
            }
        }
    }
    frames.push(Frame::other(event(
        "messageStop",
        &json!({"stopReason": stop_reason(answer), "p": PADDING}),
    )));
    frames.push(Frame::other(event(
        "metadata",
        &json!({"usage": usage_json(usage), "metrics": {"latencyMs": 42}, "p": PADDING}),
    )));
    frames
}

/// The exception frame of an `error-event` stream.
pub(super) fn stream_error() -> Bytes {
    message(
        &[
            (":message-type", "exception"),
            (":exception-type", "modelStreamErrorException"),
            (":content-type", "application/json"),
        ],
        &json!({"message": "The model stream was interrupted.", "originalStatusCode": 424}),
    )
}

fn event(kind: &str, payload: &Value) -> Bytes {
    message(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload,
    )
}

/// One event-stream message (prelude, headers, payload, CRCs).
#[cfg(feature = "bedrock-stub")]
fn message(headers: &[(&str, &str)], payload: &Value) -> Bytes {
    use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
    let mut m = Message::new(Bytes::from(payload.to_string()));
    for (name, value) in headers {
        m = m.add_header(Header::new(
            (*name).to_owned(),
            HeaderValue::String((*value).to_owned().into()),
        ));
    }
    let mut out = Vec::new();
    match aws_smithy_eventstream::frame::write_message_to(&m, &mut out) {
        Ok(()) => Bytes::from(out),
        // Only a header name over 255 bytes fails: none here.
        Err(e) => Bytes::from(format!("llm stub: cannot frame an event: {e}")),
    }
}

/// Without `bedrock-stub` the stub cannot frame events; dispatch answers `501` first.
#[cfg(not(feature = "bedrock-stub"))]
fn message(_headers: &[(&str, &str)], _payload: &Value) -> Bytes {
    Bytes::new()
}

//! Anthropic messages (`/v1/messages`): reading messages, `tool_result` blocks and client
//! tools, and the `message` answer in JSON or as SSE (`message_start` … `message_stop`).

use serde_json::{Value, json};

use super::answer::{Answer, Conversation, ToolResult, Turn, Usage, fragments, word_deltas};
use super::request::{Ctx, text_of};
use super::wire::{Frame, sse_event};

/// The conversation of a messages request.
pub(super) fn conversation(body: &Value) -> Conversation {
    let messages = body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let turn = match messages.last() {
        Some(last) if last["role"] == "user" => {
            let results = tool_results(messages, last);
            if results.is_empty() {
                Turn::User
            } else {
                Turn::ToolResults(results)
            }
        }
        _ => Turn::Other,
    };
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| match &m["content"] {
            Value::Array(blocks) => {
                let texts: Vec<String> = blocks
                    .iter()
                    .filter(|b| b["type"] == "text")
                    .map(|b| text_of(&b["text"]))
                    .collect();
                texts.join(" ")
            }
            other => text_of(other),
        })
        .unwrap_or_default();
    // Client tools; server tools have a `type` and no `input_schema`.
    let tools = body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| {
                    let custom = t.get("input_schema").is_some()
                        || matches!(t["type"].as_str(), None | Some("custom"));
                    let name = t["name"].as_str().filter(|_| custom)?;
                    Some((name.to_owned(), t.get("input_schema").cloned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let choice = &body["tool_choice"];
    Conversation {
        turn,
        tools,
        prompt,
        no_tools: choice["type"] == "none",
        one_tool: choice["disable_parallel_tool_use"] == true,
        message_tokens: None,
    }
}

/// The `tool_result` blocks of `last`, named after the `tool_use` blocks of the assistant
/// message before it.
fn tool_results(messages: &[Value], last: &Value) -> Vec<ToolResult> {
    let uses = messages
        .len()
        .checked_sub(2)
        .and_then(|i| messages[i]["content"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    last["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"] == "tool_result")
                .map(|b| ToolResult {
                    tool: uses
                        .iter()
                        .find(|u| u["type"] == "tool_use" && u["id"] == b["tool_use_id"])
                        .and_then(|u| u["name"].as_str())
                        .map(str::to_owned),
                    content: text_of(&b["content"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn usage_json(usage: Usage, output_tokens: u64) -> Value {
    json!({
        "input_tokens": usage.input,
        "cache_creation_input_tokens": usage.cache_creation,
        "cache_read_input_tokens": usage.cached,
        "output_tokens": output_tokens,
        "service_tier": "standard"
    })
}

fn stop_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text(_) => "end_turn",
        Answer::Tools { .. } => "tool_use",
    }
}

/// A `message`.
pub(super) fn json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    let content = match answer {
        Answer::Text(text) => json!([{"type": "text", "text": text}]),
        Answer::Tools { preamble, calls } => {
            let mut blocks = vec![json!({"type": "text", "text": preamble})];
            blocks.extend(calls.iter().enumerate().map(|(i, call)| {
                json!({"type": "tool_use", "id": ctx.nth_id("toolu_", i), "name": call.name, "input": call.arguments})
            }));
            Value::Array(blocks)
        }
    };
    json!({
        "id": ctx.id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": ctx.response_model(),
        "content": content,
        "stop_reason": stop_reason(answer),
        "stop_sequence": null,
        "usage": usage_json(usage, usage.output)
    })
}

/// `message_start`, a text block, one `tool_use` block per call, `message_delta`,
/// `message_stop`.
pub(super) fn stream(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    let mut frames = vec![
        Frame::other(sse_event(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": ctx.id("msg_"),
                "type": "message",
                "role": "assistant",
                "model": ctx.response_model(),
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage_json(usage, 1)
            }}),
        )),
        Frame::other(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        )),
        Frame::other(sse_event("ping", &json!({"type": "ping"}))),
    ];
    for w in word_deltas(answer.text()) {
        frames.push(Frame::delta(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}),
        )));
    }
    frames.push(Frame::other(sse_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    )));
    for (i, call) in answer.calls().iter().enumerate() {
        let index = i + 1;
        frames.push(Frame::other(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": ctx.nth_id("toolu_", i), "name": call.name, "input": {}
            }}),
        )));
        let mut parts = vec![String::new()];
        parts.extend(fragments(&call.arguments_string()));
        for f in parts {
            frames.push(Frame::delta(sse_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": f}}),
            )));
        }
        frames.push(Frame::other(sse_event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        )));
    }
    frames.push(Frame::other(sse_event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(answer), "stop_sequence": null},
            "usage": {"output_tokens": usage.output}
        }),
    )));
    frames.push(Frame::other(sse_event(
        "message_stop",
        &json!({"type": "message_stop"}),
    )));
    frames
}

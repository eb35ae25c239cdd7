//! OpenAI chat completions (`/chat/completions`): reading the messages and tools of a
//! request (Ollama's `/api/chat` has the same shape), and the `chat.completion` JSON and
//! `chat.completion.chunk` SSE answers.

use serde_json::{Value, json};

use super::SYSTEM_FINGERPRINT;
use crate::llm_stub::answer::{
    Answer, Conversation, ToolResult, Turn, Usage, fragments, word_deltas,
};
use crate::llm_stub::request::{Ctx, text_of, words};
use crate::llm_stub::wire::{Frame, sse_data, sse_done};

/// The conversation of a chat request (OpenAI or Ollama).
pub(in crate::llm_stub) fn conversation(body: &Value) -> Conversation {
    let messages = body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let turn = match messages.last().and_then(|m| m["role"].as_str()) {
        Some("tool") => Turn::ToolResults(tool_results(messages)),
        Some("user") => Turn::User,
        _ => Turn::Other,
    };
    let tools = body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| {
                    let f = &t["function"];
                    let name = f["name"].as_str()?;
                    Some((name.to_owned(), f.get("parameters").cloned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| text_of(&m["content"]))
        .unwrap_or_default();
    Conversation {
        turn,
        tools,
        prompt,
        no_tools: body["tool_choice"] == "none",
        one_tool: body["parallel_tool_calls"] == false,
        message_tokens: Some(
            messages
                .iter()
                .map(|m| words(&text_of(&m["content"])) + 4)
                .sum(),
        ),
    }
}

/// The `tool` messages since the last assistant message, named after the calls they answer
/// (Ollama: after their `tool_name`).
fn tool_results(messages: &[Value]) -> Vec<ToolResult> {
    let from = messages
        .iter()
        .rposition(|m| m["role"] == "assistant")
        .map_or(0, |i| i + 1);
    let calls = from
        .checked_sub(1)
        .and_then(|i| messages[i]["tool_calls"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    messages[from..]
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            let by_id = calls
                .iter()
                .find(|c| !m["tool_call_id"].is_null() && c["id"] == m["tool_call_id"])
                .and_then(|c| c["function"]["name"].as_str());
            let tool = by_id
                .or_else(|| m["tool_name"].as_str())
                .or_else(|| m["name"].as_str())
                .map(str::to_owned);
            ToolResult {
                tool,
                content: text_of(&m["content"]),
            }
        })
        .collect()
}

fn usage_json(usage: Usage) -> Value {
    let output = usage.output + usage.reasoning;
    json!({
        "prompt_tokens": usage.input,
        "completion_tokens": output,
        "total_tokens": usage.input + output,
        "prompt_tokens_details": {"cached_tokens": usage.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

fn finish_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text(_) => "stop",
        Answer::Tools { .. } => "tool_calls",
    }
}

/// A `chat.completion`.
pub(in crate::llm_stub) fn json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    let message = match answer {
        Answer::Text(text) => {
            json!({"role": "assistant", "content": text, "refusal": null, "annotations": []})
        }
        Answer::Tools { calls, .. } => {
            let calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, call)| {
                    json!({
                        "id": ctx.nth_id("call_", i),
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments_string()}
                    })
                })
                .collect();
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": calls,
                "refusal": null,
                "annotations": []
            })
        }
    };
    json!({
        "id": ctx.id("chatcmpl-"),
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.response_model(),
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(answer)
        }],
        "usage": usage_json(usage),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT
    })
}

fn chunk(ctx: &Ctx, delta: Value, finish: Option<&str>) -> Value {
    let mut chunk = json!({
        "id": ctx.id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": ctx.created,
        "model": ctx.response_model(),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    });
    if ctx.include_usage()
        && let Some(o) = chunk.as_object_mut()
    {
        o.insert("usage".to_owned(), Value::Null);
    }
    chunk
}

/// `chat.completion.chunk` events, the usage chunk when asked, `[DONE]`.
pub(in crate::llm_stub) fn stream(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    let mut frames = Vec::new();
    let delta = |frames: &mut Vec<Frame>, d: Value| {
        frames.push(Frame::delta(sse_data(&chunk(ctx, d, None))));
    };
    match answer {
        Answer::Text(text) => {
            frames.push(Frame::other(sse_data(&chunk(
                ctx,
                json!({"role": "assistant", "content": "", "refusal": null}),
                None,
            ))));
            for w in word_deltas(text) {
                delta(&mut frames, json!({"content": w}));
            }
        }
        Answer::Tools { calls, .. } => {
            frames.push(Frame::other(sse_data(&chunk(
                ctx,
                json!({"role": "assistant", "content": null, "refusal": null}),
                None,
            ))));
            // As OpenAI does: each call's id and name first, then its arguments in pieces.
            for (i, call) in calls.iter().enumerate() {
                delta(
                    &mut frames,
                    json!({"tool_calls": [{
                        "index": i,
                        "id": ctx.nth_id("call_", i),
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""}
                    }]}),
                );
                for f in fragments(&call.arguments_string()) {
                    delta(
                        &mut frames,
                        json!({"tool_calls": [{"index": i, "function": {"arguments": f}}]}),
                    );
                }
            }
        }
    }
    frames.push(Frame::other(sse_data(&chunk(
        ctx,
        json!({}),
        Some(finish_reason(answer)),
    ))));
    if ctx.include_usage() {
        frames.push(Frame::other(sse_data(&json!({
            "id": ctx.id("chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.response_model(),
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [],
            "usage": usage_json(usage)
        }))));
    }
    frames.push(Frame::other(sse_done()));
    frames
}

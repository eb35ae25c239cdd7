//! The OpenAI Responses API (`/responses`): reading `input` items and function tools, and
//! the `response` object, in JSON or as `event:` + `data:` SSE events.

use serde_json::{Value, json};

use crate::llm_stub::answer::{
    Answer, Conversation, ToolResult, Turn, Usage, fragments, word_deltas,
};
use crate::llm_stub::request::{Ctx, text_of};
use crate::llm_stub::wire::{Frame, sse_event};

/// The conversation of a Responses request.
pub(in crate::llm_stub) fn conversation(body: &Value) -> Conversation {
    let (turn, prompt) = match &body["input"] {
        Value::String(s) => (Turn::User, s.clone()),
        Value::Array(items) => {
            let turn = match items.last() {
                Some(item) if item["type"] == "function_call_output" => {
                    Turn::ToolResults(tool_results(items))
                }
                Some(item) if item["role"] == "user" => Turn::User,
                _ => Turn::Other,
            };
            let prompt = items
                .iter()
                .rev()
                .find(|i| i["role"] == "user")
                .map(|i| text_of(&i["content"]))
                .unwrap_or_default();
            (turn, prompt)
        }
        _ => (Turn::Other, String::new()),
    };
    let tools = body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter(|t| t["type"] == "function")
                .filter_map(|t| {
                    Some((t["name"].as_str()?.to_owned(), t.get("parameters").cloned()))
                })
                .collect()
        })
        .unwrap_or_default();
    Conversation {
        turn,
        tools,
        prompt,
        no_tools: body["tool_choice"] == "none",
        one_tool: body["parallel_tool_calls"] == false,
        message_tokens: None,
    }
}

/// The trailing `function_call_output` items, named after their `function_call`s.
fn tool_results(items: &[Value]) -> Vec<ToolResult> {
    let from = items
        .iter()
        .rposition(|i| i["type"] != "function_call_output")
        .map_or(0, |i| i + 1);
    items[from..]
        .iter()
        .map(|output| {
            let tool = items
                .iter()
                .find(|i| i["type"] == "function_call" && i["call_id"] == output["call_id"])
                .and_then(|i| i["name"].as_str())
                .map(str::to_owned);
            ToolResult {
                tool,
                content: text_of(&output["output"]),
            }
        })
        .collect()
}

fn usage_json(usage: Usage) -> Value {
    let output = usage.output + usage.reasoning;
    json!({
        "input_tokens": usage.input,
        "input_tokens_details": {"cached_tokens": usage.cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.input + output
    })
}

/// The output items of an answer, `done` or in progress (empty).
fn items(ctx: &Ctx, answer: &Answer, done: bool) -> Vec<Value> {
    let status = if done { "completed" } else { "in_progress" };
    match answer {
        Answer::Text(text) => {
            let content = if done {
                json!([{"type": "output_text", "text": text, "annotations": [], "logprobs": []}])
            } else {
                json!([])
            };
            vec![json!({
                "id": ctx.id("msg_"),
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": content
            })]
        }
        Answer::Tools { calls, .. } => calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                json!({
                    "id": ctx.nth_id("fc_", i),
                    "type": "function_call",
                    "status": status,
                    "arguments": if done { call.arguments_string() } else { String::new() },
                    "call_id": ctx.nth_id("call_", i),
                    "name": call.name
                })
            })
            .collect(),
    }
}

/// The response object; `done` adds the output and usage.
fn response_object(ctx: &Ctx, answer: &Answer, usage: Usage, done: bool) -> Value {
    let body = &ctx.body;
    json!({
        "id": ctx.id("resp_"),
        "object": "response",
        "created_at": ctx.created,
        "status": if done { "completed" } else { "in_progress" },
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": body.get("instructions").cloned().unwrap_or(Value::Null),
        "max_output_tokens": body.get("max_output_tokens").cloned().unwrap_or(Value::Null),
        "model": ctx.response_model(),
        "output": if done { json!(items(ctx, answer, true)) } else { json!([]) },
        "parallel_tool_calls": true,
        "previous_response_id": body.get("previous_response_id").cloned().unwrap_or(Value::Null),
        "reasoning": {"effort": null, "summary": null},
        "service_tier": "default",
        "store": true,
        "temperature": body.get("temperature").cloned().unwrap_or(json!(1.0)),
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools").cloned().unwrap_or(json!([])),
        "top_p": body.get("top_p").cloned().unwrap_or(json!(1.0)),
        "truncation": "disabled",
        "usage": if done { usage_json(usage) } else { Value::Null },
        "user": null,
        "metadata": {}
    })
}

/// A completed `response`.
pub(in crate::llm_stub) fn json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    response_object(ctx, answer, usage, true)
}

/// `response.created` … `response.completed`, numbered by `sequence_number`.
pub(in crate::llm_stub) fn stream(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    let mut seq = 0u64;
    let mut event = |name: &str, mut data: Value| {
        if let Some(o) = data.as_object_mut() {
            o.insert("type".to_owned(), json!(name));
            o.insert("sequence_number".to_owned(), json!(seq));
        }
        seq += 1;
        sse_event(name, &data)
    };
    let mut frames = vec![
        Frame::other(event(
            "response.created",
            json!({"response": response_object(ctx, answer, usage, false)}),
        )),
        Frame::other(event(
            "response.in_progress",
            json!({"response": response_object(ctx, answer, usage, false)}),
        )),
    ];
    let (pending, done) = (items(ctx, answer, false), items(ctx, answer, true));
    match answer {
        Answer::Text(text) => {
            frames.push(Frame::other(event(
                "response.output_item.added",
                json!({"output_index": 0, "item": pending[0]}),
            )));
            let item_id = ctx.id("msg_");
            let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []});
            frames.push(Frame::other(event(
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part("")}),
            )));
            for w in word_deltas(text) {
                frames.push(Frame::delta(event(
                    "response.output_text.delta",
                    json!({"item_id": item_id, "output_index": 0, "content_index": 0, "delta": w, "logprobs": []}),
                )));
            }
            frames.push(Frame::other(event(
                "response.output_text.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
            )));
            frames.push(Frame::other(event(
                "response.content_part.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part(text)}),
            )));
            frames.push(Frame::other(event(
                "response.output_item.done",
                json!({"output_index": 0, "item": done[0]}),
            )));
        }
        Answer::Tools { calls, .. } => {
            for (i, call) in calls.iter().enumerate() {
                frames.push(Frame::other(event(
                    "response.output_item.added",
                    json!({"output_index": i, "item": pending[i]}),
                )));
                let item_id = ctx.nth_id("fc_", i);
                let arguments = call.arguments_string();
                for f in fragments(&arguments) {
                    frames.push(Frame::delta(event(
                        "response.function_call_arguments.delta",
                        json!({"item_id": item_id, "output_index": i, "delta": f}),
                    )));
                }
                frames.push(Frame::other(event(
                    "response.function_call_arguments.done",
                    json!({"item_id": item_id, "output_index": i, "arguments": arguments}),
                )));
                frames.push(Frame::other(event(
                    "response.output_item.done",
                    json!({"output_index": i, "item": done[i]}),
                )));
            }
        }
    }
    frames.push(Frame::other(event(
        "response.completed",
        json!({"response": response_object(ctx, answer, usage, true)}),
    )));
    frames
}

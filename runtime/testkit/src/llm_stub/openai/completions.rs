//! OpenAI legacy completions (`/completions`): a `text_completion` JSON answer or SSE chunks
//! ending in `[DONE]`.

use serde_json::{Value, json};

use crate::llm_stub::answer::{Answer, Conversation, Usage, word_deltas};
use crate::llm_stub::request::{Ctx, text_of};
use crate::llm_stub::wire::{Frame, sse_data, sse_done};

/// A completions request has a prompt and no turns or tools.
pub(in crate::llm_stub) fn conversation(body: &Value) -> Conversation {
    Conversation {
        prompt: text_of(&body["prompt"]),
        ..Conversation::default()
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output
    })
}

/// A `text_completion`.
pub(in crate::llm_stub) fn json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    json!({
        "id": ctx.id("cmpl-"),
        "object": "text_completion",
        "created": ctx.created,
        "model": ctx.response_model(),
        "choices": [{"text": answer.text(), "index": 0, "logprobs": null, "finish_reason": "stop"}],
        "usage": usage_json(usage)
    })
}

fn chunk(ctx: &Ctx, text: &str, finish: Option<&str>) -> Value {
    let mut chunk = json!({
        "id": ctx.id("cmpl-"),
        "object": "text_completion",
        "created": ctx.created,
        "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": finish}],
        "model": ctx.response_model()
    });
    if ctx.include_usage()
        && let Some(o) = chunk.as_object_mut()
    {
        o.insert("usage".to_owned(), Value::Null);
    }
    chunk
}

/// Word chunks, the finish chunk, the usage chunk when asked, `[DONE]`.
pub(in crate::llm_stub) fn stream(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    let mut frames: Vec<Frame> = word_deltas(answer.text())
        .iter()
        .map(|w| Frame::delta(sse_data(&chunk(ctx, w, None))))
        .collect();
    frames.push(Frame::other(sse_data(&chunk(ctx, "", Some("stop")))));
    if ctx.include_usage() {
        frames.push(Frame::other(sse_data(&json!({
            "id": ctx.id("cmpl-"),
            "object": "text_completion",
            "created": ctx.created,
            "choices": [],
            "model": ctx.response_model(),
            "usage": usage_json(usage)
        }))));
    }
    frames.push(Frame::other(sse_done()));
    frames
}

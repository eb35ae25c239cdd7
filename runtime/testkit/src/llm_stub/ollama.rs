//! Ollama (`/api/chat`, `/api/generate`, `/api/embed`, `/api/embeddings`): JSON answers and
//! NDJSON streams ending in a `"done": true` object with the token counts. Chat requests
//! are read like OpenAI's (same shape); generate requests here.

use serde_json::{Map, Value, json};

use super::answer::{Answer, Conversation, Usage, embedding, embedding_inputs, word_deltas};
use super::request::{Ctx, Route, text_of};
use super::wire::{Frame, ndjson, rfc3339_now};

/// A generate request has a prompt and no turns or tools.
pub(super) fn generate_conversation(body: &Value) -> Conversation {
    Conversation {
        prompt: text_of(&body["prompt"]),
        ..Conversation::default()
    }
}

/// The fields of Ollama's final object.
fn done_fields(usage: Usage) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("done".to_owned(), json!(true));
    m.insert("done_reason".to_owned(), json!("stop"));
    m.insert("total_duration".to_owned(), json!(412_345_678u64));
    m.insert("load_duration".to_owned(), json!(12_345_678u64));
    m.insert("prompt_eval_count".to_owned(), json!(usage.input));
    m.insert("prompt_eval_duration".to_owned(), json!(100_000_000u64));
    m.insert("eval_count".to_owned(), json!(usage.output));
    m.insert("eval_duration".to_owned(), json!(300_000_000u64));
    m
}

fn tool_calls(answer: &Answer) -> Value {
    match answer {
        Answer::Tools { calls, .. } => Value::Array(
            calls
                .iter()
                .map(|c| json!({"function": {"name": c.name, "arguments": c.arguments}}))
                .collect(),
        ),
        Answer::Text(_) => Value::Null,
    }
}

fn head(ctx: &Ctx) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("model".to_owned(), json!(ctx.response_model()));
    m.insert("created_at".to_owned(), json!(rfc3339_now()));
    m
}

/// A chat answer.
pub(super) fn chat_json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    let mut m = head(ctx);
    let mut message = json!({"role": "assistant", "content": answer.text()});
    if let (Some(o), Answer::Tools { .. }) = (message.as_object_mut(), answer) {
        o.insert("tool_calls".to_owned(), tool_calls(answer));
    }
    m.insert("message".to_owned(), message);
    m.extend(done_fields(usage));
    Value::Object(m)
}

/// A generate answer.
pub(super) fn generate_json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    let mut m = head(ctx);
    m.insert("response".to_owned(), json!(answer.text()));
    m.extend(done_fields(usage));
    m.insert("context".to_owned(), json!([1, 2, 3]));
    Value::Object(m)
}

/// `/api/embed` (`embeddings: [[..]]`) or the legacy `/api/embeddings` (`embedding: [..]`).
pub(super) fn embed_json(ctx: &Ctx) -> Value {
    let mut m = Map::new();
    m.insert("model".to_owned(), json!(ctx.response_model()));
    if ctx.route == Route::OllamaEmbeddings {
        m.insert(
            "embedding".to_owned(),
            json!(embedding(&text_of(&ctx.body["prompt"]))),
        );
        return Value::Object(m);
    }
    let vectors: Vec<Vec<f32>> = embedding_inputs(&ctx.body["input"])
        .iter()
        .map(|t| embedding(t))
        .collect();
    m.insert("embeddings".to_owned(), json!(vectors));
    m.insert("total_duration".to_owned(), json!(14_143_917u64));
    m.insert("load_duration".to_owned(), json!(1_019_500u64));
    m.insert("prompt_eval_count".to_owned(), json!(ctx.input_tokens));
    Value::Object(m)
}

/// NDJSON pieces (`"done": false`), then the final object.
pub(super) fn stream(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    let chat = ctx.route == Route::OllamaChat;
    let piece = |text: &str, tool_calls: Option<Value>| {
        let mut m = head(ctx);
        if chat {
            let mut message = json!({"role": "assistant", "content": text});
            if let (Some(o), Some(calls)) = (message.as_object_mut(), tool_calls) {
                o.insert("tool_calls".to_owned(), calls);
            }
            m.insert("message".to_owned(), message);
        } else {
            m.insert("response".to_owned(), json!(text));
        }
        m
    };
    let mut frames = Vec::new();
    match answer {
        Answer::Text(text) => {
            for w in word_deltas(text) {
                let mut m = piece(&w, None);
                m.insert("done".to_owned(), json!(false));
                frames.push(Frame::delta(ndjson(&Value::Object(m))));
            }
        }
        Answer::Tools { .. } => {
            let mut m = piece("", Some(tool_calls(answer)));
            m.insert("done".to_owned(), json!(false));
            frames.push(Frame::delta(ndjson(&Value::Object(m))));
        }
    }
    let mut last = piece("", None);
    last.extend(done_fields(usage));
    if !chat {
        last.insert("context".to_owned(), json!([1, 2, 3]));
    }
    frames.push(Frame::other(ndjson(&Value::Object(last))));
    frames
}

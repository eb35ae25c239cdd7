//! Gemini (`…/models/{model}:generateContent`, `:streamGenerateContent`, `:embedContent`,
//! `:batchEmbedContents`, on the Generative Language API paths and the Vertex AI ones):
//! reading `contents`, function responses and function declarations, and the
//! `GenerateContentResponse` answer as JSON, as SSE (`alt=sse`: one whole response per
//! `data:` event, the new parts only) or as one streamed JSON array (no `alt`: `[`, elements
//! separated by `,\r\n`, `]`). Every chunk carries the running usage; the last one the
//! finish reason.

use axum::body::Bytes;
use serde_json::{Value, json};

use super::answer::{Answer, Conversation, ToolResult, Turn, Usage, embedding, word_deltas};
use super::request::{Ctx, Route, text_of};
use super::wire::{Frame, sse_data};

/// The text of a content's parts.
fn parts_text(content: &Value) -> String {
    content["parts"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The conversation of a `generateContent` request.
pub(super) fn conversation(body: &Value) -> Conversation {
    let contents = body["contents"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let results: Vec<ToolResult> = contents
        .last()
        .and_then(|c| c["parts"].as_array())
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("functionResponse"))
                .map(|r| ToolResult {
                    tool: r["name"].as_str().map(str::to_owned),
                    content: match &r["response"] {
                        Value::Object(o) if o.len() == 1 => {
                            o.values().next().map(text_of).unwrap_or_default()
                        }
                        other => text_of(other),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let turn = match contents.last() {
        Some(_) if !results.is_empty() => Turn::ToolResults(results),
        Some(last) if matches!(last["role"].as_str(), None | Some("user")) => Turn::User,
        _ => Turn::Other,
    };
    let tools = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["functionDeclarations"].as_array())
        .flatten()
        .filter_map(|d| {
            let name = d["name"].as_str()?;
            let schema = d
                .get("parametersJsonSchema")
                .or_else(|| d.get("parameters"));
            Some((name.to_owned(), schema.cloned()))
        })
        .collect();
    let prompt = contents
        .iter()
        .rev()
        .find(|c| matches!(c["role"].as_str(), None | Some("user")))
        .map(parts_text)
        .unwrap_or_default();
    let mode = &body["toolConfig"]["functionCallingConfig"]["mode"];
    Conversation {
        turn,
        tools,
        prompt,
        no_tools: mode == "NONE",
        one_tool: false,
        message_tokens: None,
    }
}

/// `usageMetadata` after `output` answer tokens.
fn usage_json(usage: Usage, output: u64) -> Value {
    let mut u = json!({
        "promptTokenCount": usage.input,
        "candidatesTokenCount": output,
        "totalTokenCount": usage.input + output + usage.reasoning,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.input}]
    });
    if usage.cached > 0 {
        u["cachedContentTokenCount"] = json!(usage.cached);
    }
    if usage.reasoning > 0 {
        u["thoughtsTokenCount"] = json!(usage.reasoning);
    }
    u
}

fn response(ctx: &Ctx, parts: Value, finish: bool, usage: Value) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if finish {
        candidate["finishReason"] = json!("STOP");
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": ctx.response_model(),
        "responseId": ctx.id("gemini-")
    })
}

fn call_parts(answer: &Answer) -> Vec<Value> {
    answer
        .calls()
        .iter()
        .map(|c| json!({"functionCall": {"name": c.name, "args": c.arguments}}))
        .collect()
}

/// A `GenerateContentResponse`.
pub(super) fn json(ctx: &Ctx, answer: &Answer, usage: Usage) -> Value {
    let parts = match answer {
        Answer::Text(text) => vec![json!({"text": text})],
        Answer::Tools { .. } => call_parts(answer),
    };
    response(
        ctx,
        Value::Array(parts),
        true,
        usage_json(usage, usage.output),
    )
}

/// The stream's chunks: one per word of a text answer (the last with the finish reason),
/// or one chunk with the function calls.
pub(super) fn stream(ctx: &Ctx, answer: &Answer, usage: Usage) -> Vec<Frame> {
    let mut chunks: Vec<(Value, bool)> = Vec::new();
    match answer {
        Answer::Text(text) => {
            let deltas = word_deltas(text);
            let n = deltas.len() as u64;
            for (i, w) in deltas.into_iter().enumerate() {
                let last = i as u64 + 1 == n;
                let output = if last { usage.output } else { i as u64 + 1 };
                chunks.push((
                    response(ctx, json!([{"text": w}]), last, usage_json(usage, output)),
                    true,
                ));
            }
        }
        Answer::Tools { .. } => {
            chunks.push((
                response(
                    ctx,
                    Value::Array(call_parts(answer)),
                    false,
                    usage_json(usage, 0),
                ),
                true,
            ));
            chunks.push((
                response(
                    ctx,
                    json!([{"text": ""}]),
                    true,
                    usage_json(usage, usage.output),
                ),
                false,
            ));
        }
    }
    if ctx.sse {
        return chunks
            .iter()
            .map(|(c, delta)| {
                let bytes = sse_data(c);
                if *delta {
                    Frame::delta(bytes)
                } else {
                    Frame::other(bytes)
                }
            })
            .collect();
    }
    let n = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, (c, delta))| {
            let lead = if i == 0 { "[" } else { ",\r\n" };
            let tail = if i + 1 == n { "]" } else { "" };
            let bytes = format!("{lead}{c}{tail}").into();
            if *delta {
                Frame::delta(bytes)
            } else {
                Frame::other(bytes)
            }
        })
        .collect()
}

/// The in-stream error of an `error-event` stream: an `{"error": …}` chunk (and, for the
/// JSON array, its end).
pub(super) fn stream_error(ctx: &Ctx) -> Bytes {
    let error = json!({"error": {
        "code": 500,
        "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        "status": "INTERNAL"
    }});
    if ctx.sse {
        sse_data(&error)
    } else {
        format!(",\r\n{error}]").into()
    }
}

/// The texts an embedding request embeds.
fn embed_inputs(ctx: &Ctx) -> Vec<String> {
    match ctx.route {
        Route::GeminiBatchEmbed => ctx.body["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| parts_text(&r["content"]))
            .collect(),
        _ => vec![parts_text(&ctx.body["content"])],
    }
}

/// `{"embedding": {"values"}}` or `{"embeddings": [{"values"}]}` (no usage: Gemini reports
/// none for embeddings).
pub(super) fn embed_json(ctx: &Ctx) -> Value {
    let vectors: Vec<Value> = embed_inputs(ctx)
        .iter()
        .map(|t| json!({"values": embedding(t)}))
        .collect();
    match ctx.route {
        Route::GeminiBatchEmbed => json!({"embeddings": vectors}),
        _ => json!({"embedding": vectors.into_iter().next().unwrap_or(Value::Null)}),
    }
}

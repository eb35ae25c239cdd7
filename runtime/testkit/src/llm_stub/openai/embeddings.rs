//! OpenAI embeddings (`/embeddings`): a `list` of `embedding` objects, floats or base64
//! (`encoding_format: "base64"`, little-endian `f32`s).

use serde_json::{Value, json};

use crate::llm_stub::answer::{embedding, embedding_inputs};
use crate::llm_stub::request::Ctx;
use crate::llm_stub::wire::base64_encode;

/// One vector per input.
pub(in crate::llm_stub) fn json(ctx: &Ctx) -> Value {
    let base64 = ctx.body["encoding_format"].as_str() == Some("base64");
    let data: Vec<Value> = embedding_inputs(&ctx.body["input"])
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = embedding(text);
            let encoded = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64_encode(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": encoded})
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": ctx.response_model(),
        "usage": {"prompt_tokens": ctx.input_tokens, "total_tokens": ctx.input_tokens}
    })
}

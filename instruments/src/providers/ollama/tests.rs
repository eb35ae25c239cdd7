//! Parser tests (moved with their code; assertions unchanged).
#![allow(clippy::unwrap_used)]

use serde_json::json;

use serde_json::Value;

use super::StreamAccumulator;
use crate::model::{Api, LlmRequest, LlmResponse, Message, ProviderError, StreamProgress, Usage};

fn parse_request(api: Api, body: &Value) -> LlmRequest {
    crate::providers::parse_request(api, body)
}

fn parse_response(api: Api, body: &Value) -> LlmResponse {
    crate::providers::parse_response(api, body)
}

/// Compares JSON by value, not by key order (a dependency enabling serde_json's
/// `preserve_order` must not break these tests).
fn parsed(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
}
use crate::decode::NdjsonDecoder;

fn msgs(ms: &[Message]) -> Value {
    Value::Array(ms.iter().map(Message::to_json).collect())
}

fn run(
    api: Api,
    lines: &[Value],
    chunk: usize,
) -> (
    StreamAccumulator,
    Vec<Result<StreamProgress, ProviderError>>,
) {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let mut dec = NdjsonDecoder::new();
    let mut acc = StreamAccumulator::new(api);
    let mut out = Vec::new();
    for c in body.as_bytes().chunks(chunk) {
        for line in dec.push(c) {
            out.push(acc.push(&line));
        }
    }
    for line in dec.finish() {
        out.push(acc.push(&line));
    }
    (acc, out)
}

#[test]
fn chat_request() {
    let body = json!({
        "model": "llama3.2-vision",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "what is in this image?", "images": ["iVBORw0KGgoAAAANSUhEUgAAAG0AAABm"]},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}]},
            {"role": "tool", "content": "22 degrees", "tool_name": "get_current_weather"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_current_weather", "description": "Get the current weather for a location", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}],
        "format": {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]},
        "options": {"temperature": 0.1, "top_p": 0.9, "top_k": 20, "seed": 101, "num_predict": 128, "stop": ["<|eot|>"]}
    });
    let r = parse_request(Api::OllamaChat, &body);
    assert_eq!(r.model.as_deref(), Some("llama3.2-vision"));
    assert!(r.stream, "Ollama streams by default");
    assert_eq!(r.temperature, Some(0.1));
    assert_eq!(r.top_p, Some(0.9));
    assert_eq!(r.top_k, Some(20.0));
    assert_eq!(r.seed, Some(101));
    assert_eq!(r.max_tokens, Some(128));
    assert_eq!(r.stop_sequences, vec!["<|eot|>".to_owned()]);
    assert_eq!(r.output_type.as_deref(), Some("json"));
    assert_eq!(
        r.structured_output_schema.as_deref().map(parsed),
        Some(parsed(
            r#"{"properties":{"age":{"type":"integer"}},"required":["age"],"type":"object"}"#
        ))
    );
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
            {"role": "user", "parts": [
                {"type": "text", "content": "what is in this image?"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgoAAAANSUhEUgAAAG0AAABm"}
            ]},
            {"role": "assistant", "parts": [
                {"type": "tool_call", "name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}
            ]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "response": "22 degrees"}]}
        ])
    );
    assert_eq!(
        Value::Array(r.tool_definitions),
        json!([{"type": "function", "name": "get_current_weather", "description": "Get the current weather for a location", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}])
    );
    let no_stream = parse_request(
        Api::OllamaChat,
        &json!({"model": "llama3.2", "messages": [], "stream": false, "format": "json"}),
    );
    assert!(!no_stream.stream);
    assert_eq!(no_stream.output_type.as_deref(), Some("json"));
    assert_eq!(no_stream.structured_output_schema, None);
}

#[test]
fn chat_response() {
    let body = json!({
        "model": "llama3.2",
        "created_at": "2023-12-12T14:13:43.416799Z",
        "message": {"role": "assistant", "content": "Hello! How are you today?"},
        "done": true,
        "done_reason": "stop",
        "total_duration": 5191566416u64,
        "load_duration": 2154458,
        "prompt_eval_count": 26,
        "prompt_eval_duration": 383809000,
        "eval_count": 298,
        "eval_duration": 4799921000u64
    });
    let r = parse_response(Api::OllamaChat, &body);
    assert_eq!(r.model.as_deref(), Some("llama3.2"));
    assert_eq!(r.id, None);
    assert_eq!(r.finish_reasons, vec!["stop"]);
    assert_eq!(r.choice_count, 1);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello! How are you today?"}], "finish_reason": "stop"}])
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: Some(26),
            output_tokens: Some(298),
            total_tokens: Some(324),
            ..Usage::default()
        }
    );

    let tools = parse_response(
        Api::OllamaChat,
        &json!({
            "model": "llama3.2", "created_at": "2024-07-22T20:33:28.123648Z",
            "message": {"role": "assistant", "content": "", "thinking": "User wants weather.", "tool_calls": [{"function": {"name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}]},
            "done_reason": "stop", "done": true, "prompt_eval_count": 10, "eval_count": 20
        }),
    );
    assert_eq!(tools.finish_reasons, vec!["tool_call"]);
    assert_eq!(
        msgs(&tools.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "reasoning", "content": "User wants weather."},
            {"type": "tool_call", "name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}
        ], "finish_reason": "tool_call"}])
    );
}

#[test]
fn generate_request_and_response() {
    let r = parse_request(
        Api::OllamaGenerate,
        &json!({"model": "llama3.2", "prompt": "Why is the sky blue?", "system": "Answer like a physicist.", "stream": false, "options": {"num_predict": 64, "temperature": 0}}),
    );
    assert!(!r.stream);
    assert_eq!(r.max_tokens, Some(64));
    assert_eq!(r.temperature, Some(0.0));
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "Answer like a physicist."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Why is the sky blue?"}]}
        ])
    );
    let resp = parse_response(
        Api::OllamaGenerate,
        &json!({
            "model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z",
            "response": "The sky is blue because of Rayleigh scattering.", "done": true, "done_reason": "length",
            "context": [1, 2, 3], "total_duration": 10706818083u64, "prompt_eval_count": 26, "eval_count": 290
        }),
    );
    assert_eq!(resp.finish_reasons, vec!["length"]);
    assert_eq!(
        msgs(&resp.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "The sky is blue because of Rayleigh scattering."}], "finish_reason": "length"}])
    );
    assert_eq!(resp.usage.total_tokens, Some(316));
}

#[test]
fn embed_request_and_response() {
    let r = parse_request(
        Api::OllamaEmbed,
        &json!({"model": "all-minilm", "input": ["Why is the sky blue?", "Why is the grass green?"]}),
    );
    assert!(!r.stream);
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "user", "parts": [{"type": "text", "content": "Why is the sky blue?"}]},
            {"role": "user", "parts": [{"type": "text", "content": "Why is the grass green?"}]}
        ])
    );
    let legacy = parse_request(
        Api::OllamaEmbed,
        &json!({"model": "all-minilm", "prompt": "Here is an article"}),
    );
    assert_eq!(legacy.input_messages.len(), 1);
    let resp = parse_response(
        Api::OllamaEmbed,
        &json!({"model": "all-minilm", "embeddings": [[0.010071029, -0.0017594862, 0.05007221, 0.04692972], [-0.0098027075, 0.06042469, 0.025257962, -0.006364387]], "total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": 8}),
    );
    assert_eq!(resp.embedding_dimensions, Some(4));
    assert_eq!(resp.usage.input_tokens, Some(8));
    assert_eq!(resp.usage.total_tokens, Some(8));
    assert!(resp.output_messages.is_empty());
    let old = parse_response(Api::OllamaEmbed, &json!({"embedding": [0.5, -0.2, 0.1]}));
    assert_eq!(old.embedding_dimensions, Some(3));
}

#[test]
fn error_body_as_response() {
    let r = parse_response(
        Api::OllamaChat,
        &json!({"error": "model \"nope\" not found, try pulling it first"}),
    );
    assert_eq!(
        r.error,
        Some(ProviderError {
            error_type: "api_error".into(),
            message: "model \"nope\" not found, try pulling it first".into()
        })
    );
}

#[test]
fn chat_ndjson_stream() {
    let lines = [
        json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "message": {"role": "assistant", "content": "The"}, "done": false}),
        json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "message": {"role": "assistant", "content": " sky é"}, "done": false}),
        json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "message": {"role": "assistant", "content": " blue."}, "done": false}),
        json!({"model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "total_duration": 4883583458u64, "load_duration": 1334875, "prompt_eval_count": 26, "prompt_eval_duration": 342546000, "eval_count": 282, "eval_duration": 4535599000u64}),
    ];
    for chunk in [1, 4, 1000] {
        let (acc, progress) = run(Api::OllamaChat, &lines, chunk);
        let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
        assert_eq!(progress.len(), 4);
        assert!(progress[0].first_token);
        assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
        assert!(progress[3].done);
        assert!(!progress[2].done);
        let r = acc.response();
        assert_eq!(r.model.as_deref(), Some("llama3.2"));
        assert_eq!(r.finish_reasons, vec!["stop"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "The sky é blue."}], "finish_reason": "stop"}])
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: Some(26),
                output_tokens: Some(282),
                total_tokens: Some(308),
                ..Usage::default()
            }
        );
    }
}

#[test]
fn chat_ndjson_stream_with_tool_calls() {
    let lines = [
        json!({"model": "qwen3", "created_at": "t", "message": {"role": "assistant", "content": "", "thinking": "Weather?"}, "done": false}),
        json!({"model": "qwen3", "created_at": "t", "message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Toronto"}}}]}, "done": false}),
        json!({"model": "qwen3", "created_at": "t", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 7}),
    ];
    let (acc, progress) = run(Api::OllamaChat, &lines, 9);
    assert!(progress[0].as_ref().unwrap().first_token);
    let r = acc.response();
    assert_eq!(r.finish_reasons, vec!["tool_call"]);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "reasoning", "content": "Weather?"},
            {"type": "tool_call", "name": "get_weather", "arguments": {"city": "Toronto"}}
        ], "finish_reason": "tool_call"}])
    );
}

#[test]
fn generate_ndjson_stream() {
    let lines = [
        json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "response": "The", "done": false}),
        json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00", "response": " end", "done": false}),
        json!({"model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z", "response": "", "done": true, "done_reason": "stop", "context": [1, 2], "prompt_eval_count": 3, "eval_count": 2}),
    ];
    let (acc, progress) = run(Api::OllamaGenerate, &lines, 5);
    assert!(progress[2].as_ref().unwrap().done);
    let r = acc.response();
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "The end"}], "finish_reason": "stop"}])
    );
    assert_eq!(r.usage.total_tokens, Some(5));
}

#[test]
fn error_line_mid_stream() {
    let lines = [
        json!({"model": "llama3.2", "created_at": "t", "message": {"role": "assistant", "content": "Hi"}, "done": false}),
        json!({"error": "an error was encountered while running the model: unexpected EOF"}),
    ];
    let (acc, progress) = run(Api::OllamaChat, &lines, 3);
    assert!(progress[0].is_ok());
    assert_eq!(
        progress[1],
        Err(ProviderError {
            error_type: "api_error".into(),
            message: "an error was encountered while running the model: unexpected EOF".into()
        })
    );
    let r = acc.response();
    assert_eq!(r.finish_reasons, Vec::<String>::new());
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hi"}]}])
    );
}

//! Parser tests (moved with their code; assertions unchanged).
#![allow(clippy::unwrap_used)]

use serde_json::json;

use serde_json::Value;

use super::StreamAccumulator;
use super::content::map_stop_reason;
use crate::model::{Api, LlmRequest, LlmResponse, Message, ProviderError, StreamProgress, Usage};

fn parse_request(body: &Value) -> LlmRequest {
    crate::providers::parse_request(Api::AnthropicMessages, body)
}

fn parse_response(body: &Value) -> LlmResponse {
    crate::providers::parse_response(Api::AnthropicMessages, body)
}

/// Compares JSON by value, not by key order (a dependency enabling serde_json's
/// `preserve_order` must not break these tests).
fn parsed(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
}
use crate::decode::SseDecoder;

fn msgs(ms: &[Message]) -> Value {
    Value::Array(ms.iter().map(Message::to_json).collect())
}

fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {}\n\n", e["type"].as_str().unwrap(), e))
        .collect()
}

fn run(
    body: &str,
    chunk: usize,
) -> (
    StreamAccumulator,
    Vec<Result<StreamProgress, ProviderError>>,
) {
    let mut dec = SseDecoder::new();
    let mut acc = StreamAccumulator::default();
    let mut events = Vec::new();
    for c in body.as_bytes().chunks(chunk) {
        events.extend(dec.push(c));
    }
    events.extend(dec.finish());
    let progress = events
        .iter()
        .map(|e| acc.push(e.event.as_deref(), &e.data))
        .collect();
    (acc, progress)
}

#[test]
fn request_with_system_images_tools_and_thinking() {
    let body = json!({
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 1024,
        "temperature": 0.7,
        "top_p": 0.95,
        "top_k": 40,
        "stop_sequences": ["\n\nHuman:"],
        "metadata": {"user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"},
        "stream": true,
        "system": [
            {"type": "text", "text": "You are a weather bot."},
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
        ],
        "tools": [
            {"name": "get_weather", "description": "Get the current weather in a given location", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
        ],
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}},
                {"type": "image", "source": {"type": "url", "url": "https://upload.wikimedia.org/a.jpg"}},
                {"type": "text", "text": "Where is this, and what's the weather there?"}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "It looks like Paris.", "signature": "EqQBCgIYAhIM"},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "Paris, France"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "content": [{"type": "text", "text": "sunny"}], "is_error": false}
            ]},
            {"role": "assistant", "content": "It's 15 degrees."}
        ]
    });
    let r = parse_request(&body);
    assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-20250514"));
    assert!(r.stream);
    assert_eq!(r.max_tokens, Some(1024));
    assert_eq!(r.temperature, Some(0.7));
    assert_eq!(r.top_p, Some(0.95));
    assert_eq!(r.top_k, Some(40.0));
    assert_eq!(r.stop_sequences, vec!["\n\nHuman:".to_owned()]);
    assert_eq!(
        r.user.as_deref(),
        Some("13803d75-b4b5-4c3e-b2a2-6f21399b021b")
    );
    // `system` is the system instructions, not a message (Python, the conventions).
    assert_eq!(
        Value::Array(r.system_instructions.clone()),
        json!([
            {"type": "text", "content": "You are a weather bot."},
            {"type": "text", "content": "Be brief."}
        ])
    );
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "user", "parts": [
                {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "content": "/9j/4AAQSkZJRg=="},
                {"type": "uri", "modality": "image", "uri": "https://upload.wikimedia.org/a.jpg"},
                {"type": "text", "content": "Where is this, and what's the weather there?"}
            ]},
            {"role": "assistant", "parts": [
                {"type": "reasoning", "content": "It looks like Paris."},
                {"type": "text", "content": "Let me check."},
                {"type": "tool_call", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "arguments": {"location": "Paris, France"}}
            ]},
            {"role": "user", "parts": [
                {"type": "tool_call_response", "id": "toolu_01A09q90qw90lq917835lq9", "response": "15 degrees"},
                // The result as given (Python: `item_dict.get("content")`).
                {"type": "tool_call_response", "id": "toolu_02", "response": [{"type": "text", "text": "sunny"}]}
            ]},
            {"role": "assistant", "parts": [{"type": "text", "content": "It's 15 degrees."}]}
        ])
    );
    assert_eq!(
        Value::Array(r.tool_definitions),
        // Python's Anthropic shape: `{"name", "description", "input_schema"}`, every tool.
        json!([
            {"name": "get_weather", "description": "Get the current weather in a given location", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}},
            {"name": "web_search"}
        ])
    );
}

#[test]
fn request_system_string_and_output_format() {
    let r = parse_request(&json!({
        "model": "claude-3-5-haiku-latest",
        "max_tokens": 100,
        "system": "Respond in JSON.",
        "messages": [{"role": "user", "content": "Hello, Claude"}],
        "output_format": {"type": "json_schema", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}
    }));
    assert!(!r.stream);
    assert_eq!(r.output_type.as_deref(), Some("json"));
    assert_eq!(
        r.structured_output_schema.as_deref().map(parsed),
        Some(parsed(
            r#"{"properties":{"a":{"type":"integer"}},"type":"object"}"#
        ))
    );
    assert_eq!(
        Value::Array(r.system_instructions.clone()),
        json!([{"type": "text", "content": "Respond in JSON."}])
    );
    assert_eq!(
        msgs(&r.input_messages),
        json!([{"role": "user", "parts": [{"type": "text", "content": "Hello, Claude"}]}])
    );
}

#[test]
fn response_text_and_usage() {
    let body = json!({
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": "Hi! My name is Claude."}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 2095, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1800, "output_tokens": 503, "service_tier": "standard"}
    });
    let r = parse_response(&body);
    assert_eq!(r.id.as_deref(), Some("msg_013Zva2CMHLNnXjNJJKqJ2EF"));
    assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-20250514"));
    assert_eq!(r.finish_reasons, vec!["stop"]);
    assert_eq!(r.choice_count, 1);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hi! My name is Claude."}], "finish_reason": "stop"}])
    );
    assert_eq!(
        r.usage,
        // Input with the cache reads and writes added (the conventions, Python).
        Usage {
            input_tokens: Some(2095 + 1800 + 100),
            output_tokens: Some(503),
            total_tokens: Some(2095 + 1800 + 100 + 503),
            cache_read_input_tokens: Some(1800),
            cache_creation_input_tokens: Some(100),
            reasoning_tokens: None,
        }
    );
    assert_eq!(r.error, None);
}

#[test]
fn response_tool_use_and_stop_reasons() {
    let body = json!({
        "id": "msg_01Aq9w938a90dw8q",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-1-20250805",
        "content": [
            {"type": "thinking", "thinking": "The user wants the weather.", "signature": "abc"},
            {"type": "text", "text": "I'll check the weather."},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}}
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 472, "output_tokens": 89}
    });
    let r = parse_response(&body);
    assert_eq!(r.finish_reasons, vec!["tool_call"]);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "reasoning", "content": "The user wants the weather."},
            {"type": "text", "content": "I'll check the weather."},
            {"type": "tool_call", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "arguments": {"location": "San Francisco, CA", "unit": "celsius"}}
        ], "finish_reason": "tool_call"}])
    );
    for (raw, mapped) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_call"),
        // Python's map has only the four above; others pass unchanged.
        ("refusal", "refusal"),
        (
            "model_context_window_exceeded",
            "model_context_window_exceeded",
        ),
        ("pause_turn", "pause_turn"),
    ] {
        assert_eq!(map_stop_reason(raw), mapped);
    }
}

#[test]
fn error_body_as_response() {
    let r = parse_response(
        &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": "req_1"}),
    );
    assert_eq!(
        r.error,
        Some(ProviderError {
            error_type: "overloaded_error".into(),
            message: "Overloaded".into()
        })
    );
    assert!(r.output_messages.is_empty());
}

fn text_stream() -> Vec<Value> {
    vec![
        json!({"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-20250514", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "! Grüße 👋"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 15}}),
        json!({"type": "message_stop"}),
    ]
}

#[test]
fn streaming_text() {
    let body = sse(&text_stream());
    for chunk in [1, 5, 64, 10_000] {
        let (acc, progress) = run(&body, chunk);
        let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
        assert_eq!(progress.len(), 8);
        assert!(progress[3].first_token);
        assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
        assert!(progress[7].done);
        assert!(!progress[6].done);
        let r = acc.response();
        assert_eq!(
            r.id.as_deref(),
            Some("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY")
        );
        assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-20250514"));
        assert_eq!(r.finish_reasons, vec!["stop"]);
        assert_eq!(
            msgs(&r.output_messages),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello! Grüße 👋"}], "finish_reason": "stop"}])
        );
        assert_eq!(
            r.usage,
            Usage {
                // 25 + 10 cached + 0 written.
                input_tokens: Some(35),
                output_tokens: Some(15),
                total_tokens: Some(50),
                cache_read_input_tokens: Some(10),
                cache_creation_input_tokens: Some(0),
                reasoning_tokens: None,
            }
        );
    }
}

#[test]
fn streaming_thinking_and_tool_use() {
    let events = vec![
        json!({"type": "message_start", "message": {"id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514", "stop_sequence": null, "usage": {"input_tokens": 472, "output_tokens": 2}, "content": [], "stop_reason": null}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Need the "}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "weather tool."}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Okay, let's check the weather for San Francisco, CA:"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"location\":"}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": " \"San Francisco, CA\"}"}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}}),
        json!({"type": "content_block_stop", "index": 3}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 89}}),
        json!({"type": "message_stop"}),
    ];
    let (acc, progress) = run(&sse(&events), 3);
    let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
    assert!(progress[2].first_token);
    assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
    let r = acc.response();
    assert_eq!(r.finish_reasons, vec!["tool_call"]);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "reasoning", "content": "Need the weather tool."},
            {"type": "text", "content": "Okay, let's check the weather for San Francisco, CA:"},
            {"type": "tool_call", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "arguments": {"location": "San Francisco, CA"}},
            {"type": "tool_call", "id": "toolu_02", "name": "get_time", "arguments": {}}
        ], "finish_reason": "tool_call"}])
    );
    assert_eq!(r.usage.input_tokens, Some(472));
    assert_eq!(r.usage.output_tokens, Some(89));
    assert_eq!(r.usage.total_tokens, Some(561));
}

#[test]
fn error_event_mid_stream() {
    let mut events = text_stream();
    events.truncate(4);
    let mut body = sse(&events);
    body.push_str("event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n");
    let (acc, progress) = run(&body, 11);
    assert_eq!(progress.len(), 5);
    assert!(progress[..4].iter().all(Result::is_ok));
    assert_eq!(
        progress[4],
        Err(ProviderError {
            error_type: "overloaded_error".into(),
            message: "Overloaded".into()
        })
    );
    // What arrived before the error is kept.
    let r = acc.response();
    assert_eq!(r.finish_reasons, Vec::<String>::new());
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]}])
    );
    // 25 + 10 cached (input includes the cache reads).
    assert_eq!(r.usage.input_tokens, Some(35));
}

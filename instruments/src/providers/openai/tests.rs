//! Parser tests (moved with their code; assertions unchanged).
#![allow(clippy::unwrap_used)]

use serde_json::json;

use serde_json::Value;

use super::StreamAccumulator;
use crate::model::{Api, LlmRequest, LlmResponse, Message, ProviderError, StreamProgress, Usage};
use crate::providers::parts::parse_error_body;

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
use crate::decode::SseDecoder;

fn msgs(ms: &[Message]) -> Value {
    Value::Array(ms.iter().map(Message::to_json).collect())
}

/// Feeds an SSE body through the decoder and the accumulator.
fn run_sse(
    api: Api,
    body: &str,
) -> (
    StreamAccumulator,
    Vec<Result<StreamProgress, ProviderError>>,
) {
    let mut dec = SseDecoder::new();
    let mut acc = StreamAccumulator::new(api);
    let mut events = Vec::new();
    for chunk in body.as_bytes().chunks(7) {
        events.extend(dec.push(chunk));
    }
    events.extend(dec.finish());
    let progress = events
        .iter()
        .map(|e| acc.push(e.event.as_deref(), &e.data))
        .collect();
    (acc, progress)
}

#[test]
fn chat_request_with_text_and_image_parts() {
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": [
                {"type": "text", "text": "What's in these images?"},
                {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/boardwalk.jpg", "detail": "high"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}},
                {"type": "input_audio", "input_audio": {"data": "UklGRiQ=", "format": "wav"}},
                {"type": "file", "file": {"file_id": "file-abc"}}
            ]}
        ],
        "max_completion_tokens": 300,
        "max_tokens": 10,
        "temperature": 0.2,
        "top_p": 0.9,
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
        "seed": 42,
        "stop": "\n\n",
        "n": 2,
        "user": "user-1234",
        "reasoning_effort": "low",
        "stream": true,
        "stream_options": {"include_usage": true},
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "strict": true,
                "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
            }
        }
    });
    let r = parse_request(Api::OpenAiChat, &body);
    assert_eq!(r.model.as_deref(), Some("gpt-4o"));
    assert!(r.stream);
    assert!(r.include_usage);
    assert_eq!(r.max_tokens, Some(300));
    assert_eq!(r.temperature, Some(0.2));
    assert_eq!(r.top_p, Some(0.9));
    assert_eq!(r.frequency_penalty, Some(0.5));
    assert_eq!(r.presence_penalty, Some(-0.5));
    assert_eq!(r.seed, Some(42));
    assert_eq!(r.stop_sequences, vec!["\n\n".to_owned()]);
    assert_eq!(r.choice_count, Some(2));
    assert_eq!(r.user.as_deref(), Some("user-1234"));
    assert_eq!(r.reasoning_effort.as_deref(), Some("low"));
    assert_eq!(r.output_type.as_deref(), Some("json"));
    assert_eq!(
        r.structured_output_schema.as_deref().map(parsed),
        Some(parsed(
            r#"{"properties":{"answer":{"type":"string"}},"required":["answer"],"type":"object"}"#
        ))
    );
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant."}]},
            {"role": "user", "parts": [
                {"type": "text", "content": "What's in these images?"},
                {"type": "uri", "modality": "image", "uri": "https://upload.wikimedia.org/boardwalk.jpg"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgoAAAANSUhEUg=="},
                {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "content": "UklGRiQ="},
                {"type": "file", "file": {"file_id": "file-abc"}}
            ]}
        ])
    );
    assert!(r.tool_definitions.is_empty());
}

#[test]
fn chat_request_defaults() {
    let r = parse_request(
        Api::OpenAiChat,
        &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "n": 1, "stop": ["END", "STOP"], "max_tokens": 50.0}),
    );
    assert!(!r.stream);
    assert!(!r.include_usage);
    assert_eq!(r.choice_count, None);
    assert_eq!(r.max_tokens, Some(50));
    assert_eq!(r.stop_sequences, vec!["END".to_owned(), "STOP".to_owned()]);
    assert_eq!(r.output_type, None);
    assert_eq!(
        msgs(&r.input_messages),
        json!([{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}])
    );
}

#[test]
fn tools_round_trip() {
    let tools = json!([{
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["location"]
            },
            "strict": true
        }
    }]);
    let first = json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "What's the weather like in Boston and Paris today?"}],
        "tools": tools,
        "tool_choice": "auto"
    });
    let r = parse_request(Api::OpenAiChat, &first);
    assert_eq!(
        Value::Array(r.tool_definitions.clone()),
        json!([{
            "type": "function",
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["location"]
            }
        }])
    );

    let response = json!({
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1699896916,
        "model": "gpt-4o-2024-08-06",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [
                    {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}},
                    {"id": "call_def456", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\"location\": \"Paris\""}}
                ],
                "refusal": null
            },
            "logprobs": null,
            "finish_reason": "tool_calls"
        }],
        "usage": {
            "prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "system_fingerprint": "fp_6b68a8204b"
    });
    let resp = parse_response(Api::OpenAiChat, &response);
    assert_eq!(resp.id.as_deref(), Some("chatcmpl-abc123"));
    assert_eq!(resp.model.as_deref(), Some("gpt-4o-2024-08-06"));
    assert_eq!(resp.finish_reasons, vec!["tool_call".to_owned()]);
    assert_eq!(resp.choice_count, 1);
    assert_eq!(
        msgs(&resp.output_messages),
        json!([{
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_abc123", "name": "get_current_weather", "arguments": {"location": "Boston, MA"}},
                // Invalid JSON arguments stay a raw string.
                {"type": "tool_call", "id": "call_def456", "name": "get_current_weather", "arguments": "{\"location\": \"Paris\""}
            ],
            "finish_reason": "tool_call"
        }])
    );
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: Some(82),
            output_tokens: Some(17),
            total_tokens: Some(99),
            cache_read_input_tokens: Some(0),
            cache_creation_input_tokens: None,
            reasoning_tokens: Some(0),
        }
    );
    assert_eq!(resp.error, None);

    let second = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "What's the weather like in Boston today?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\"location\": \"Boston, MA\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_abc123", "content": "{\"temperature\": 22, \"unit\": \"celsius\"}"},
            {"role": "tool", "tool_call_id": "call_x", "content": [{"type": "text", "text": "sunny"}, {"type": "text", "text": ", 25C"}]}
        ],
        "tools": tools
    });
    let r2 = parse_request(Api::OpenAiChat, &second);
    assert_eq!(
        msgs(&r2.input_messages),
        json!([
            {"role": "user", "parts": [{"type": "text", "content": "What's the weather like in Boston today?"}]},
            {"role": "assistant", "parts": [
                {"type": "tool_call", "id": "call_abc123", "name": "get_current_weather", "arguments": {"location": "Boston, MA"}}
            ]},
            {"role": "tool", "parts": [
                {"type": "tool_call_response", "id": "call_abc123", "response": "{\"temperature\": 22, \"unit\": \"celsius\"}"}
            ]},
            {"role": "tool", "parts": [
                {"type": "tool_call_response", "id": "call_x", "response": "sunny, 25C"}
            ]}
        ])
    );
    assert_eq!(r2.tool_definitions.len(), 1);
}

#[test]
fn legacy_functions_and_function_call() {
    let req = json!({
        "model": "gpt-3.5-turbo-0613",
        "messages": [
            {"role": "assistant", "content": null, "function_call": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}},
            {"role": "function", "name": "lookup", "content": "42"}
        ],
        "functions": [{"name": "lookup", "description": "Look up", "parameters": {"type": "object"}}]
    });
    let r = parse_request(Api::OpenAiChat, &req);
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "assistant", "parts": [{"type": "tool_call", "name": "lookup", "arguments": {"q": "x"}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "response": "42"}]}
        ])
    );
    assert_eq!(
        Value::Array(r.tool_definitions),
        json!([{"type": "function", "name": "lookup", "description": "Look up", "parameters": {"type": "object"}}])
    );
    let resp = parse_response(
        Api::OpenAiChat,
        &json!({"id": "c", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "function_call": {"name": "lookup", "arguments": "{}"}}, "finish_reason": "function_call"}]}),
    );
    assert_eq!(resp.finish_reasons, vec!["tool_call".to_owned()]);
    assert_eq!(
        msgs(&resp.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "tool_call", "name": "lookup", "arguments": {}}], "finish_reason": "tool_call"}])
    );
}

#[test]
fn refusal_and_multiple_choices() {
    let response = json!({
        "id": "chatcmpl-9nYAG9LPNonX8DAyrkwYfemr3C8HC",
        "object": "chat.completion",
        "created": 1721596428,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": null, "refusal": "I'm sorry, I cannot assist with that request."}, "logprobs": null, "finish_reason": "stop"},
            {"index": 1, "message": {"role": "assistant", "content": "Here you go.", "refusal": null}, "logprobs": null, "finish_reason": "length"},
            {"index": 2, "message": {"role": "assistant", "content": ""}, "finish_reason": "content_filter"}
        ],
        "usage": {"prompt_tokens": 81, "completion_tokens": 11, "total_tokens": 92}
    });
    let r = parse_response(Api::OpenAiChat, &response);
    assert_eq!(r.choice_count, 3);
    assert_eq!(r.finish_reasons, vec!["stop", "length", "content_filter"]);
    assert_eq!(
        msgs(&r.output_messages),
        json!([
            {"role": "assistant", "parts": [{"type": "refusal", "content": "I'm sorry, I cannot assist with that request."}], "finish_reason": "stop"},
            {"role": "assistant", "parts": [{"type": "text", "content": "Here you go."}], "finish_reason": "length"},
            {"role": "assistant", "parts": [], "finish_reason": "content_filter"}
        ])
    );
    // No `prompt_tokens_details`: 0 cached tokens, as Python writes (`null` would be none).
    assert_eq!(r.usage.cache_read_input_tokens, Some(0));
    assert_eq!(r.usage.total_tokens, Some(92));
    let null_details = parse_response(
        Api::OpenAiChat,
        &json!({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "prompt_tokens_details": null}}),
    );
    assert_eq!(null_details.usage.cache_read_input_tokens, None);
}

#[test]
fn reasoning_content_in_response() {
    let r = parse_response(
        Api::OpenAiChat,
        &json!({
            "id": "930c60df", "object": "chat.completion", "model": "deepseek-reasoner",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "9.11 < 9.8", "reasoning_content": "Compare decimals..."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 20, "prompt_cache_hit_tokens": 4, "completion_tokens_details": {"reasoning_tokens": 15}}
        }),
    );
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "text", "content": "9.11 < 9.8"},
            {"type": "reasoning", "content": "Compare decimals..."}
        ], "finish_reason": "stop"}])
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: Some(10),
            output_tokens: Some(20),
            total_tokens: Some(30),
            cache_read_input_tokens: Some(4),
            cache_creation_input_tokens: None,
            reasoning_tokens: Some(15),
        }
    );
}

#[test]
fn legacy_completion() {
    let req = json!({
        "model": "gpt-3.5-turbo-instruct",
        "prompt": ["Say this is a test", "Say hi"],
        "max_tokens": 7,
        "temperature": 0,
        "echo": false
    });
    let r = parse_request(Api::OpenAiCompletion, &req);
    assert_eq!(r.max_tokens, Some(7));
    assert_eq!(r.temperature, Some(0.0));
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "user", "parts": [{"type": "text", "content": "Say this is a test"}]},
            {"role": "user", "parts": [{"type": "text", "content": "Say hi"}]}
        ])
    );
    let single = parse_request(
        Api::OpenAiCompletion,
        &json!({"model": "m", "prompt": "Once upon"}),
    );
    assert_eq!(single.input_messages.len(), 1);
    let tokens = parse_request(
        Api::OpenAiCompletion,
        &json!({"model": "m", "prompt": [1212, 318]}),
    );
    assert!(tokens.input_messages.is_empty());

    let resp = json!({
        "id": "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7",
        "object": "text_completion",
        "created": 1589478378,
        "model": "gpt-3.5-turbo-instruct",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{"text": "\n\nThis is indeed a test", "index": 0, "logprobs": null, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    });
    let r = parse_response(Api::OpenAiCompletion, &resp);
    assert_eq!(r.id.as_deref(), Some("cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7"));
    assert_eq!(r.finish_reasons, vec!["length"]);
    assert_eq!(r.choice_count, 1);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "\n\nThis is indeed a test"}], "finish_reason": "length"}])
    );
    assert_eq!(r.usage.total_tokens, Some(12));
}

#[test]
fn legacy_completion_streaming() {
    let sse = "data: {\"id\":\"cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe\",\"object\":\"text_completion\",\"created\":1690759702,\"choices\":[{\"text\":\"This\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}],\"model\":\"gpt-3.5-turbo-instruct\"}\n\n\
        data: {\"id\":\"cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe\",\"object\":\"text_completion\",\"created\":1690759702,\"choices\":[{\"text\":\" is a test.\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}],\"model\":\"gpt-3.5-turbo-instruct\"}\n\n\
        data: [DONE]\n\n";
    let (acc, progress) = run_sse(Api::OpenAiCompletion, sse);
    let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
    assert!(progress[0].first_token);
    assert!(!progress[1].first_token);
    assert!(progress[2].done);
    let r = acc.response();
    assert_eq!(r.model.as_deref(), Some("gpt-3.5-turbo-instruct"));
    assert_eq!(r.finish_reasons, vec!["stop"]);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "This is a test."}], "finish_reason": "stop"}])
    );
    assert_eq!(r.usage, Usage::default());
}

#[test]
fn embeddings() {
    let r = parse_request(
        Api::OpenAiEmbeddings,
        &json!({"model": "text-embedding-3-small", "input": ["The food was delicious", "and the waiter..."], "encoding_format": "float", "dimensions": 3}),
    );
    assert_eq!(r.encoding_formats, vec!["float".to_owned()]);
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "user", "parts": [{"type": "text", "content": "The food was delicious"}]},
            {"role": "user", "parts": [{"type": "text", "content": "and the waiter..."}]}
        ])
    );
    let one = parse_request(
        Api::OpenAiEmbeddings,
        &json!({"model": "m", "input": "hello"}),
    );
    assert_eq!(one.input_messages.len(), 1);
    let toks = parse_request(
        Api::OpenAiEmbeddings,
        &json!({"model": "m", "input": [[1, 2], [3]]}),
    );
    assert!(toks.input_messages.is_empty());

    let resp = json!({
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, -0.0028842222]},
            {"object": "embedding", "index": 1, "embedding": [0.1, 0.2, 0.3]}
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8}
    });
    let r = parse_response(Api::OpenAiEmbeddings, &resp);
    assert_eq!(r.embedding_dimensions, Some(3));
    assert_eq!(r.model.as_deref(), Some("text-embedding-3-small"));
    assert_eq!(r.usage.input_tokens, Some(8));
    assert_eq!(r.usage.output_tokens, None);
    assert_eq!(r.usage.total_tokens, Some(8));
    assert!(r.output_messages.is_empty());
    let b64 = parse_response(
        Api::OpenAiEmbeddings,
        &json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": "AAAAAAAAAAA="}], "model": "m", "usage": {"prompt_tokens": 2}}),
    );
    // `encoding_format: "base64"`: 8 bytes are two little-endian f32s (what Python, which
    // decodes, counts).
    assert_eq!(b64.embedding_dimensions, Some(2));
    assert_eq!(b64.usage.total_tokens, Some(2));
    // No `prompt_tokens_details` in usage: 0 cached tokens, as Python writes.
    assert_eq!(r.usage.cache_read_input_tokens, Some(0));
}

#[test]
fn responses_request() {
    let body = json!({
        "model": "o4-mini",
        "instructions": "Talk like a pirate.",
        "input": [
            {"role": "user", "content": "What is the weather in Paris?"},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "And this image?"},
                {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto"},
                {"type": "input_image", "file_id": "file-123"}
            ]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need the weather tool."}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "15°C, cloudy"},
            {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed", "content": [{"type": "output_text", "text": "Arr, 15°C.", "annotations": []}]},
            {"type": "item_reference", "id": "msg_0"}
        ],
        "tools": [
            {"type": "function", "name": "get_weather", "description": "Weather by city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true},
            {"type": "web_search_preview"}
        ],
        "max_output_tokens": 1024,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}},
        "temperature": 1,
        "user": "u-1",
        "stream": true
    });
    let r = parse_request(Api::OpenAiResponses, &body);
    assert_eq!(r.model.as_deref(), Some("o4-mini"));
    assert!(r.stream);
    assert_eq!(r.max_tokens, Some(1024));
    assert_eq!(r.reasoning_effort.as_deref(), Some("medium"));
    assert_eq!(r.output_type.as_deref(), Some("json"));
    assert_eq!(
        r.structured_output_schema.as_deref().map(parsed),
        Some(parsed(r#"{"type":"object"}"#))
    );
    assert_eq!(r.user.as_deref(), Some("u-1"));
    assert_eq!(
        msgs(&r.input_messages),
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "Talk like a pirate."}]},
            {"role": "user", "parts": [{"type": "text", "content": "What is the weather in Paris?"}]},
            {"role": "user", "parts": [
                {"type": "text", "content": "And this image?"},
                {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "content": "/9j/4AAQ"},
                {"type": "file", "modality": "image", "file_id": "file-123"}
            ]},
            {"role": "assistant", "parts": [
                {"type": "reasoning", "content": "Need the weather tool."},
                {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
            ]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "15°C, cloudy"}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "Arr, 15°C."}]}
        ])
    );
    assert_eq!(
        Value::Array(r.tool_definitions),
        json!([
            {"type": "function", "name": "get_weather", "description": "Weather by city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"type": "web_search_preview"}
        ])
    );
    let simple = parse_request(
        Api::OpenAiResponses,
        &json!({"model": "gpt-4.1", "input": "Tell me a joke"}),
    );
    assert_eq!(
        msgs(&simple.input_messages),
        json!([{"role": "user", "parts": [{"type": "text", "content": "Tell me a joke"}]}])
    );
}

fn responses_fixture() -> Value {
    json!({
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "max_output_tokens": null,
        "model": "gpt-4.1-2025-04-14",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Thinking about unicorns."}]},
            {
                "type": "message",
                "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "In a peaceful grove beneath a silver moon...", "annotations": []}]
            }
        ],
        "parallel_tool_calls": true,
        "reasoning": {"effort": null, "summary": null},
        "store": true,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 36,
            "input_tokens_details": {"cached_tokens": 5},
            "output_tokens": 87,
            "output_tokens_details": {"reasoning_tokens": 12},
            "total_tokens": 123
        },
        "user": null,
        "metadata": {}
    })
}

#[test]
fn responses_non_streaming() {
    let r = parse_response(Api::OpenAiResponses, &responses_fixture());
    assert_eq!(
        r.id.as_deref(),
        Some("resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b")
    );
    assert_eq!(r.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    assert_eq!(r.error, None);
    assert_eq!(r.finish_reasons, vec!["stop"]);
    assert_eq!(r.choice_count, 1);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "reasoning", "content": "Thinking about unicorns."},
            {"type": "text", "content": "In a peaceful grove beneath a silver moon..."}
        ], "finish_reason": "stop"}])
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: Some(36),
            output_tokens: Some(87),
            total_tokens: Some(123),
            cache_read_input_tokens: Some(5),
            cache_creation_input_tokens: None,
            reasoning_tokens: Some(12),
        }
    );

    let tool = parse_response(
        Api::OpenAiResponses,
        &json!({
            "id": "resp_2", "object": "response", "status": "completed", "model": "gpt-4.1", "error": null,
            "output": [{"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}", "status": "completed"}],
            "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        }),
    );
    assert_eq!(tool.finish_reasons, vec!["tool_call"]);
    assert_eq!(
        msgs(&tool.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "tool_call", "id": "call_9", "name": "get_weather", "arguments": {"location": "Paris, France"}}
        ], "finish_reason": "tool_call"}])
    );

    let incomplete = parse_response(
        Api::OpenAiResponses,
        &json!({"id": "resp_3", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "model": "gpt-4.1", "output": [], "error": null}),
    );
    assert_eq!(incomplete.finish_reasons, vec!["length"]);
    let failed = parse_response(
        Api::OpenAiResponses,
        &json!({"id": "resp_4", "status": "failed", "error": {"code": "server_error", "message": "The model failed."}, "model": "gpt-4.1", "output": []}),
    );
    assert_eq!(
        failed.error,
        Some(ProviderError {
            error_type: "server_error".into(),
            message: "The model failed.".into()
        })
    );
}

#[test]
fn responses_streaming() {
    let completed = json!({"type": "response.completed", "sequence_number": 9, "response": responses_fixture()});
    let sse = format!(
        "event: response.created\ndata: {}\n\n\
         event: response.in_progress\ndata: {}\n\n\
         event: response.output_item.added\ndata: {}\n\n\
         event: response.content_part.added\ndata: {}\n\n\
         event: response.output_text.delta\ndata: {}\n\n\
         event: response.output_text.delta\ndata: {}\n\n",
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_67c", "object": "response", "status": "in_progress", "model": "gpt-4.1-2025-04-14", "output": [], "usage": null}}),
        json!({"type": "response.in_progress", "sequence_number": 1, "response": {"id": "resp_67c", "object": "response", "status": "in_progress", "model": "gpt-4.1-2025-04-14", "output": []}}),
        json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0, "item": {"id": "msg_67c", "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
        json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": "msg_67c", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_67c", "output_index": 0, "content_index": 0, "delta": "In a peaceful"}),
        json!({"type": "response.output_text.delta", "sequence_number": 5, "item_id": "msg_67c", "output_index": 0, "content_index": 0, "delta": " grove"}),
    );
    let (acc, progress) = run_sse(Api::OpenAiResponses, &sse);
    let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
    assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
    assert!(progress[4].first_token);
    assert!(progress.iter().all(|p| !p.done));
    // Partial state before completion.
    let partial = acc.response();
    assert_eq!(partial.id.as_deref(), Some("resp_67c"));
    assert_eq!(partial.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    assert_eq!(partial.finish_reasons, Vec::<String>::new());
    assert_eq!(
        msgs(&partial.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "In a peaceful grove"}]}])
    );

    let rest = format!(
        "event: response.function_call_arguments.delta\ndata: {}\n\n\
         event: response.output_item.done\ndata: {}\n\n\
         event: response.completed\ndata: {}\n\n",
        json!({"type": "response.function_call_arguments.delta", "output_index": 1, "item_id": "fc_1", "delta": "{\"a\":"}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": {"id": "msg_67c", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "In a peaceful grove beneath a silver moon...", "annotations": []}]}}),
        completed,
    );
    let mut acc = acc;
    let mut dec = SseDecoder::new();
    let mut last = StreamProgress::default();
    for e in dec.push(rest.as_bytes()) {
        last = acc.push(e.event.as_deref(), &e.data).unwrap();
    }
    assert!(last.done);
    assert_eq!(
        acc.response(),
        parse_response(Api::OpenAiResponses, &responses_fixture())
    );
}

#[test]
fn responses_stream_errors() {
    let mut acc = StreamAccumulator::new(Api::OpenAiResponses);
    let err = acc
        .push(Some("error"), r#"{"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1}"#)
        .unwrap_err();
    assert_eq!(
        err,
        ProviderError {
            error_type: "ERR_SOMETHING".into(),
            message: "Something went wrong".into()
        }
    );
    let mut acc = StreamAccumulator::new(Api::OpenAiResponses);
    let failed = json!({"type": "response.failed", "response": {"id": "resp_1", "status": "failed", "model": "gpt-4.1", "output": [], "error": {"code": "server_error", "message": "The model failed to generate a response."}}});
    let err = acc
        .push(Some("response.failed"), &failed.to_string())
        .unwrap_err();
    assert_eq!(err.error_type, "server_error");
    assert_eq!(acc.response().finish_reasons, vec!["error"]);
}

#[test]
fn chat_streaming_with_include_usage() {
    let sse = "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
        data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
        data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" wörld 👋\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n\
        data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n\
        data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n\
        data: [DONE]\n\n";
    let (acc, progress) = run_sse(Api::OpenAiChat, sse);
    let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
    assert_eq!(progress.len(), 6);
    // The first chunk only carries the role and an empty content: not a token.
    assert!(!progress[0].first_token);
    assert!(progress[1].first_token);
    assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
    assert!(progress[5].done);
    assert!(!progress[4].done);
    let r = acc.response();
    assert_eq!(r.id.as_deref(), Some("chatcmpl-123"));
    assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(r.finish_reasons, vec!["stop"]);
    assert_eq!(r.choice_count, 1);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Hello wörld 👋"}], "finish_reason": "stop"}])
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: Some(9),
            output_tokens: Some(3),
            total_tokens: Some(12),
            cache_read_input_tokens: Some(0),
            cache_creation_input_tokens: None,
            reasoning_tokens: Some(0),
        }
    );
}

#[test]
fn chat_streaming_tool_call_deltas() {
    let chunks = [
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}, "finish_reason": null}]}),
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"lo"}}]}, "finish_reason": null}]}),
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "cation\": \"Paris\"}"}}]}, "finish_reason": null}]}),
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":"}}]}, "finish_reason": null}]}),
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "\"CET\"}"}}]}, "finish_reason": null}]}),
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ];
    let sse: String = chunks
        .iter()
        .map(|c| format!("data: {c}\n\n"))
        .collect::<String>()
        + "data: [DONE]\n\n";
    let (acc, progress) = run_sse(Api::OpenAiChat, &sse);
    let progress: Vec<_> = progress.into_iter().map(Result::unwrap).collect();
    assert!(progress[0].first_token);
    assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
    let r = acc.response();
    assert_eq!(r.finish_reasons, vec!["tool_call"]);
    assert_eq!(
        msgs(&r.output_messages),
        json!([{"role": "assistant", "parts": [
            {"type": "tool_call", "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "name": "get_weather", "arguments": {"location": "Paris"}},
            {"type": "tool_call", "id": "call_2", "name": "get_time", "arguments": {"tz": "CET"}}
        ], "finish_reason": "tool_call"}])
    );
    // No usage without `include_usage`.
    assert_eq!(r.usage, Usage::default());
}

#[test]
fn chat_streaming_usage_in_other_places() {
    // Moonshot: usage inside the last choice, top-level `usage` null.
    let mut acc = StreamAccumulator::new(Api::OpenAiChat);
    acc.push(None, r#"{"id":"c","model":"moonshot-v1-8k","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}"#).unwrap();
    acc.push(None, r#"{"id":"c","model":"moonshot-v1-8k","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":19,"completion_tokens":13,"total_tokens":32}}],"usage":null}"#).unwrap();
    assert_eq!(acc.response().usage.total_tokens, Some(32));
    // Groq: `x_groq.usage` on the last chunk.
    let mut acc = StreamAccumulator::new(Api::OpenAiChat);
    acc.push(None, r#"{"id":"chatcmpl-1","model":"llama-3.3-70b-versatile","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"queue_time":0.01,"prompt_tokens":18,"completion_tokens":4,"total_tokens":22}}}"#).unwrap();
    assert_eq!(acc.response().usage.input_tokens, Some(18));
}

#[test]
fn chat_streaming_error_chunk_and_refusal() {
    let mut acc = StreamAccumulator::new(Api::OpenAiChat);
    let p = acc
        .push(None, r#"{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","refusal":"I can't"},"finish_reason":null}]}"#)
        .unwrap();
    assert!(p.first_token);
    let err = acc
        .push(None, r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#)
        .unwrap_err();
    assert_eq!(
        err,
        ProviderError {
            error_type: "server_error".into(),
            message: "The server had an error while processing your request.".into()
        }
    );
    assert_eq!(
        msgs(&acc.response().output_messages),
        json!([{"role": "assistant", "parts": [{"type": "refusal", "content": "I can't"}]}])
    );
    // Non-JSON keep-alives are ignored.
    assert_eq!(acc.push(None, ": ping").unwrap(), StreamProgress::default());
}

#[test]
fn error_key_in_response_body() {
    let r = parse_response(
        Api::OpenAiChat,
        &json!({"error": {"message": "Invalid prompt", "type": "invalid_request_error", "param": null, "code": null}}),
    );
    assert_eq!(
        r.error,
        Some(ProviderError {
            error_type: "invalid_request_error".into(),
            message: "Invalid prompt".into()
        })
    );
    let r = parse_response(Api::OpenAiChat, &json!({"error": {"message": "boom"}}));
    assert_eq!(r.error.unwrap().error_type, "api_error");
}

#[test]
fn error_bodies() {
    let openai_429 = br#"{
"error": {
    "message": "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000.",
    "type": "tokens",
    "param": null,
    "code": "rate_limit_exceeded"
}
}"#;
    assert_eq!(
        parse_error_body(429, openai_429),
        ProviderError {
            error_type: "rate_limit_exceeded".into(),
            message: "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000.".into()
        }
    );
    let openai_500 = br#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#;
    assert_eq!(parse_error_body(500, openai_500).error_type, "server_error");
    let anthropic_429 = br#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;
    assert_eq!(
        parse_error_body(429, anthropic_429),
        ProviderError {
            error_type: "rate_limit_error".into(),
            message: "Number of request tokens has exceeded your per-minute rate limit".into()
        }
    );
    let anthropic_529 =
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    assert_eq!(
        parse_error_body(529, anthropic_529).error_type,
        "overloaded_error"
    );
    let ollama_404 = br#"{"error":"model 'llama9' not found, try pulling it first"}"#;
    assert_eq!(
        parse_error_body(404, ollama_404),
        ProviderError {
            error_type: "404".into(),
            message: "model 'llama9' not found, try pulling it first".into()
        }
    );
    let ollama_500 = br#"{"error":"llama runner process has terminated: exit status 2"}"#;
    assert_eq!(parse_error_body(500, ollama_500).error_type, "500");
    let mistral = br#"{"object":"error","message":"Service tier capacity exceeded for this model.","type":"service_tier_capacity_exceeded","param":null,"code":"3505"}"#;
    assert_eq!(parse_error_body(429, mistral).error_type, "3505");
    let google_array =
        br#"[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}]"#;
    assert_eq!(
        parse_error_body(429, google_array),
        ProviderError {
            error_type: "429".into(),
            message: "Resource exhausted".into()
        }
    );
    let fastapi = br#"{"detail":"Not Found"}"#;
    assert_eq!(
        parse_error_body(404, fastapi),
        ProviderError {
            error_type: "404".into(),
            message: "Not Found".into()
        }
    );
    let html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n";
    assert_eq!(
        parse_error_body(502, html),
        ProviderError {
            error_type: "502".into(),
            message: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
                .into()
        }
    );
    let long = "é".repeat(800);
    let e = parse_error_body(500, long.as_bytes());
    assert_eq!(e.message.chars().count(), 500);
    assert_eq!(parse_error_body(503, b"").message, "HTTP 503");
}

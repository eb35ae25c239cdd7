//! Bedrock Converse parser tests: request, response, errors, the stream's event payloads
//! (shapes from aws-sdk-bedrockruntime 1.126's `protocol_serde`), and the model ids.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::{bedrock_model, guardrail_id, parse_error};
use crate::model::{Api, CaptureCap};
use crate::providers::{Accumulator, parse_request, parse_response};

#[test]
fn request_reads_messages_system_inference_config_and_tools() {
    let body = json!({
        "messages": [
            {"role": "user", "content": [{"text": "Weather in Paris?"}, {"image": {"format": "png", "source": {"bytes": "iVBO"}}}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp_c": 14}}], "status": "success"}}]}
        ],
        "system": [{"text": "You are terse."}, {"cachePoint": {"type": "default"}}],
        "inferenceConfig": {"maxTokens": 256, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": {"type": "object"}}}}],
                       "toolChoice": {"auto": {}}},
        "guardrailConfig": {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"},
        "additionalModelRequestFields": {"top_k": 50}
    });
    let req = parse_request(Api::BedrockConverse, &body);
    assert_eq!(req.model, None);
    assert_eq!(
        (req.max_tokens, req.temperature, req.top_p, req.top_k),
        (Some(256), Some(0.2), Some(0.9), Some(50.0))
    );
    assert_eq!(req.stop_sequences, ["END"]);
    let messages: Vec<Value> = req.input_messages.iter().map(|m| m.to_json()).collect();
    assert_eq!(
        messages,
        [
            json!({"role": "system", "parts": [{"type": "text", "content": "You are terse."}]}),
            json!({"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"},
                   {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBO"}]}),
            json!({"role": "assistant", "parts": [{"type": "tool_call", "id": "t1", "name": "get_weather", "arguments": {"city": "Paris"}}]}),
            json!({"role": "user", "parts": [{"type": "tool_call_response", "id": "t1", "response": {"temp_c": 14}}]}),
        ]
    );
    assert_eq!(
        req.tool_definitions,
        [
            json!({"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}})
        ]
    );
    assert_eq!(
        guardrail_id(body.to_string().as_bytes()).as_deref(),
        Some("gr-1")
    );
}

#[test]
fn response_reads_message_stop_reason_and_usage() {
    let resp = parse_response(
        Api::BedrockConverse,
        &json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
                {"text": "14°C."},
                {"toolUse": {"toolUseId": "t2", "name": "get_time", "input": {}}}
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 27, "cacheReadInputTokens": 8, "cacheWriteInputTokens": 2},
            "metrics": {"latencyMs": 412}
        }),
    );
    assert_eq!(resp.finish_reasons, ["tool_call"]);
    assert_eq!(resp.id, None);
    assert_eq!(resp.model, None);
    assert_eq!(
        resp.output_messages[0].to_json(),
        json!({"role": "assistant", "finish_reason": "tool_call", "parts": [
            {"type": "reasoning", "content": "hmm"},
            {"type": "text", "content": "14°C."},
            {"type": "tool_call", "id": "t2", "name": "get_time", "arguments": {}}
        ]})
    );
    let u = resp.usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.total_tokens),
        (Some(12), Some(5), Some(27))
    );
    assert_eq!(
        (u.cache_read_input_tokens, u.cache_creation_input_tokens),
        (Some(8), Some(2))
    );
}

#[test]
fn error_types_from_the_header_or_the_body() {
    let e = parse_error(
        400,
        Some("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        br#"{"message": "The provided model identifier is invalid."}"#,
    );
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str()),
        (
            "ValidationException",
            "The provided model identifier is invalid."
        )
    );
    let e = parse_error(
        429,
        None,
        br#"{"__type": "com.amazon.coral.service#ThrottlingException", "Message": "Too many requests"}"#,
    );
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str()),
        ("ThrottlingException", "Too many requests")
    );
    let e = parse_error(503, None, b"");
    assert_eq!(e.error_type, "503");
}

fn events() -> Vec<(&'static str, Value)> {
    vec![
        (
            "messageStart",
            json!({"p": "abcdefgh", "role": "assistant"}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "hmm"}}, "p": "ab"}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"text": "Disk "}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"text": "full."}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 1})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t1", "name": "df"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{\"ho"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "st\": \"db-1\"}"}}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 2})),
        ("messageStop", json!({"stopReason": "tool_use"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13}, "metrics": {"latencyMs": 100}}),
        ),
    ]
}

#[test]
fn stream_events_accumulate_and_complete_at_metadata() {
    let mut acc = Accumulator::new(Api::BedrockConverse);
    let mut progress = Vec::new();
    for (kind, payload) in events() {
        progress.push(acc.push(Some(kind), &payload.to_string()).unwrap());
    }
    assert!(!progress[0].first_token && progress[1].first_token);
    assert_eq!(progress.iter().filter(|p| p.first_token).count(), 1);
    assert!(!progress[9].done && progress[10].done);
    let resp = acc.response();
    assert_eq!(resp.finish_reasons, ["tool_call"]);
    assert_eq!(
        resp.output_messages[0].parts,
        [
            json!({"type": "reasoning", "content": "hmm"}),
            json!({"type": "text", "content": "Disk full."}),
            json!({"type": "tool_call", "id": "t1", "name": "df", "arguments": {"host": "db-1"}}),
        ]
    );
    assert_eq!(resp.usage.total_tokens, Some(13));
}

#[test]
fn an_exception_event_fails_the_stream() {
    let mut acc = Accumulator::new(Api::BedrockConverse);
    acc.push(Some("messageStart"), r#"{"role": "assistant"}"#)
        .unwrap();
    let e = acc
        .push(
            Some("throttlingException"),
            r#"{"message": "Too many tokens"}"#,
        )
        .unwrap_err();
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str()),
        ("ThrottlingException", "Too many tokens")
    );
}

#[test]
fn stream_block_cap_holds() {
    let mut acc = Accumulator::new(Api::BedrockConverse);
    for i in 0..200 {
        let payload = json!({"contentBlockIndex": i, "delta": {"text": "x"}});
        acc.push(Some("contentBlockDelta"), &payload.to_string())
            .unwrap();
    }
    assert_eq!(acc.response().output_messages[0].parts.len(), 128);
    assert_eq!(acc.caps_hit(), [CaptureCap::ToolCalls]);
}

#[test]
fn model_ids() {
    let cases = [
        (
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            Some("anthropic"),
            "claude-3-5-sonnet-20240620-v1:0",
        ),
        (
            "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
            Some("anthropic"),
            "claude-3-5-sonnet-20240620-v1:0",
        ),
        (
            "us-gov.meta.llama3-1-70b-instruct-v1:0",
            Some("meta"),
            "llama3-1-70b-instruct-v1:0",
        ),
        ("apac.amazon.nova-pro-v1:0", Some("amazon"), "nova-pro-v1:0"),
        (
            "amazon.titan-text-express-v1",
            Some("amazon"),
            "titan-text-express-v1",
        ),
        (
            "mistral.mistral-large-2407-v1:0",
            Some("mistral"),
            "mistral-large-2407-v1:0",
        ),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
            Some("anthropic"),
            "claude-v2",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0",
            Some("anthropic"),
            "claude-3-haiku-20240307-v1:0",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
            None,
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
        ),
        ("my-imported-model", None, "my-imported-model"),
    ];
    for (id, vendor, model) in cases {
        let m = bedrock_model(id);
        assert_eq!(
            (m.vendor.as_deref(), m.model.as_str()),
            (vendor, model),
            "{id}"
        );
    }
}

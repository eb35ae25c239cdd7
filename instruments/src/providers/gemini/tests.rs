//! Gemini parser tests: request, response, errors and both stream forms, on bodies shaped
//! like the API's (field names from rig-core 0.43's Gemini wire types and Google's docs).
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use crate::decode::{JsonArrayDecoder, SseDecoder};
use crate::model::{Api, CaptureCap};
use crate::providers::{Accumulator, parse_error_of, parse_request, parse_response};

#[test]
fn request_reads_contents_system_tools_and_generation_config() {
    let req = parse_request(
        Api::GeminiGenerateContent,
        &json!({
            "contents": [
                {"role": "user", "parts": [{"text": "What's the weather in Paris?"}]},
                {"role": "model", "parts": [
                    {"text": "thinking…", "thought": true},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}}
                ]},
                {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "id": "call_1", "response": {"temp_c": 14}}}]},
                {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBORw0"}},
                                           {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/doc.pdf"}}]}
            ],
            "systemInstruction": {"parts": [{"text": "You are terse."}]},
            "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather", "parameters": {"type": "OBJECT"}}]},
                      {"codeExecution": {}}],
            "generationConfig": {
                "temperature": 0.2, "topP": 0.9, "topK": 40, "candidateCount": 2, "maxOutputTokens": 256,
                "stopSequences": ["\n\n"], "presencePenalty": 0.5, "frequencyPenalty": 0.25, "seed": 7,
                "responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"},
                "thinkingConfig": {"thinkingBudget": 1024, "thinkingLevel": "low"}
            }
        }),
    );
    assert_eq!(req.model, None, "the model is in the path");
    assert!(!req.stream, "streaming is in the path");
    assert_eq!(
        (req.temperature, req.top_p, req.top_k),
        (Some(0.2), Some(0.9), Some(40.0))
    );
    assert_eq!(
        (req.max_tokens, req.seed, req.choice_count),
        (Some(256), Some(7), Some(2))
    );
    assert_eq!(
        (req.presence_penalty, req.frequency_penalty),
        (Some(0.5), Some(0.25))
    );
    assert_eq!(req.stop_sequences, ["\n\n"]);
    assert_eq!(req.output_type.as_deref(), Some("json"));
    assert_eq!(
        req.structured_output_schema.as_deref(),
        Some(r#"{"type":"OBJECT"}"#)
    );
    assert_eq!(req.reasoning_effort.as_deref(), Some("low"));
    let messages: Vec<Value> = req.input_messages.iter().map(|m| m.to_json()).collect();
    assert_eq!(
        messages,
        [
            json!({"role": "system", "parts": [{"type": "text", "content": "You are terse."}]}),
            json!({"role": "user", "parts": [{"type": "text", "content": "What's the weather in Paris?"}]}),
            json!({"role": "assistant", "parts": [
                {"type": "reasoning", "content": "thinking…"},
                {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
            ]}),
            json!({"role": "user", "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"temp_c": 14}}]}),
            json!({"role": "user", "parts": [
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0"},
                {"type": "uri", "modality": "document", "mime_type": "application/pdf", "uri": "gs://b/doc.pdf"}
            ]}),
        ]
    );
    assert_eq!(
        req.tool_definitions,
        [
            json!({"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "OBJECT"}}),
            json!({"type": "codeExecution"}),
        ]
    );
}

#[test]
fn embedding_requests_are_user_messages() {
    let one = parse_request(
        Api::GeminiEmbedContent,
        &json!({"content": {"parts": [{"text": "db-1 disk full"}]}, "taskType": "RETRIEVAL_QUERY"}),
    );
    assert_eq!(one.input_messages.len(), 1);
    assert_eq!(one.input_messages[0].role, "user");
    let batch = parse_request(
        Api::GeminiEmbedContent,
        &json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b"}]}, "output_dimensionality": 8}
        ]}),
    );
    let texts: Vec<&Value> = batch
        .input_messages
        .iter()
        .map(|m| &m.parts[0]["content"])
        .collect();
    assert_eq!(texts, [&json!("a"), &json!("b")]);
}

#[test]
fn response_reads_candidates_usage_and_ids() {
    let resp = parse_response(
        Api::GeminiGenerateContent,
        &json!({
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": "14°C and cloudy."}]}, "finishReason": "STOP", "index": 0},
                {"content": {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
                 "finishReason": "MALFORMED_FUNCTION_CALL", "index": 1},
                {"finishReason": "SAFETY", "index": 2}
            ],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 7, "totalTokenCount": 2061,
                              "cachedContentTokenCount": 4, "thoughtsTokenCount": 2042},
            "modelVersion": "gemini-2.5-flash-001",
            "responseId": "IZI2acSKMoWl0-kPmYj2yQc"
        }),
    );
    assert_eq!(resp.id.as_deref(), Some("IZI2acSKMoWl0-kPmYj2yQc"));
    assert_eq!(resp.model.as_deref(), Some("gemini-2.5-flash-001"));
    assert_eq!(resp.finish_reasons, ["stop", "error", "content_filter"]);
    assert_eq!(resp.choice_count, 3);
    assert_eq!(
        resp.output_messages[0].to_json(),
        json!({"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "14°C and cloudy."}]})
    );
    assert_eq!(resp.output_messages[1].parts[0]["type"], "tool_call");
    let u = resp.usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.total_tokens),
        (Some(12), Some(7), Some(2061))
    );
    assert_eq!(
        (u.cache_read_input_tokens, u.reasoning_tokens),
        (Some(4), Some(2042))
    );
    assert_eq!(u.cache_creation_input_tokens, None);
}

#[test]
fn embedding_responses_give_the_dimension() {
    let one = parse_response(
        Api::GeminiEmbedContent,
        &json!({"embedding": {"values": [0.1, 0.2, 0.3]}}),
    );
    assert_eq!(one.embedding_dimensions, Some(3));
    let batch = parse_response(
        Api::GeminiEmbedContent,
        &json!({"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}),
    );
    assert_eq!(batch.embedding_dimensions, Some(2));
    assert_eq!(
        batch.usage,
        Default::default(),
        "embeddings report no usage"
    );
}

#[test]
fn error_bodies_in_both_shapes() {
    let body = br#"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}}"#;
    let e = parse_error_of(Api::GeminiGenerateContent, 400, body);
    assert_eq!(e.error_type, "INVALID_ARGUMENT");
    assert!(e.message.starts_with("API key not valid"));
    let array = br#"[{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}]"#;
    let e = parse_error_of(Api::GeminiGenerateContent, 429, array);
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str()),
        ("RESOURCE_EXHAUSTED", "Quota exceeded")
    );
    let e = parse_error_of(Api::GeminiGenerateContent, 503, b"upstream connect error");
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str()),
        ("503", "upstream connect error")
    );
}

fn chunks() -> Vec<Value> {
    let usage = |out: i64| json!({"promptTokenCount": 9, "candidatesTokenCount": out, "totalTokenCount": 9 + out + 5, "thoughtsTokenCount": 5});
    vec![
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Let me think", "thought": true}]}, "index": 0}],
               "usageMetadata": usage(0), "modelVersion": "gemini-2.5-flash", "responseId": "r-1"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Disk "}]}, "index": 0}],
               "usageMetadata": usage(1), "modelVersion": "gemini-2.5-flash", "responseId": "r-1"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "full."},
               {"functionCall": {"name": "df", "args": {"host": "db-1"}}}]}, "index": 0}],
               "usageMetadata": usage(2), "modelVersion": "gemini-2.5-flash", "responseId": "r-1"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}],
               "usageMetadata": usage(3), "modelVersion": "gemini-2.5-flash", "responseId": "r-1"}),
    ]
}

fn check_accumulated(acc: &Accumulator) {
    let resp = acc.response();
    assert_eq!(resp.id.as_deref(), Some("r-1"));
    assert_eq!(resp.finish_reasons, ["stop"]);
    assert_eq!(
        resp.output_messages[0].parts,
        [
            json!({"type": "reasoning", "content": "Let me think"}),
            json!({"type": "text", "content": "Disk full."}),
            json!({"type": "tool_call", "name": "df", "arguments": {"host": "db-1"}}),
        ]
    );
    assert_eq!(resp.usage.output_tokens, Some(3));
    assert_eq!(resp.usage.total_tokens, Some(17));
}

#[test]
fn sse_stream_accumulates_and_completes_at_the_finish_reason() {
    let body: String = chunks()
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect();
    let mut decoder = SseDecoder::new();
    let mut acc = Accumulator::new(Api::GeminiGenerateContent);
    let mut progress = Vec::new();
    for chunk in body.as_bytes().chunks(7) {
        for e in decoder.push(chunk) {
            progress.push(acc.push(e.event.as_deref(), &e.data).unwrap());
        }
    }
    assert_eq!(progress.len(), 4);
    assert!(progress[0].first_token, "a thought is the first token");
    assert!(progress[1..].iter().all(|p| !p.first_token));
    assert!(!progress[2].done && progress[3].done);
    check_accumulated(&acc);
}

#[test]
fn json_array_stream_accumulates_the_same() {
    let body = format!(
        "[{}]",
        chunks()
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(",\r\n")
    );
    let mut decoder = JsonArrayDecoder::new();
    let mut acc = Accumulator::new(Api::GeminiGenerateContent);
    for chunk in body.as_bytes().chunks(5) {
        decoder.feed(chunk, |e| {
            acc.push(None, e).unwrap();
        });
    }
    assert!(decoder.closed());
    check_accumulated(&acc);
}

#[test]
fn an_error_chunk_fails_the_stream() {
    let mut acc = Accumulator::new(Api::GeminiGenerateContent);
    acc.push(None, &chunks()[1].to_string()).unwrap();
    let e = acc
        .push(None, r#"{"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}"#)
        .unwrap_err();
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str()),
        ("INTERNAL", "Internal error encountered.")
    );
}

#[test]
fn a_blocked_prompt_completes_without_candidates() {
    let mut acc = Accumulator::new(Api::GeminiGenerateContent);
    let p = acc
        .push(None, r#"{"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}}"#)
        .unwrap();
    assert!(p.done && !p.first_token);
    assert!(acc.response().output_messages.is_empty());
}

#[test]
fn stream_caps_hold() {
    let mut acc = Accumulator::new(Api::GeminiGenerateContent);
    for i in 0..200 {
        let chunk = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "index": i}]});
        acc.push(None, &chunk.to_string()).unwrap();
    }
    assert_eq!(acc.response().choice_count, 128);
    assert_eq!(acc.caps_hit(), [CaptureCap::Choices]);
    let mut acc = Accumulator::new(Api::GeminiGenerateContent);
    let big = "y".repeat(600 * 1024);
    for _ in 0..2 {
        let chunk = json!({"candidates": [{"content": {"parts": [{"text": big}]}, "index": 0}]});
        acc.push(None, &chunk.to_string()).unwrap();
    }
    let text = acc.response().output_messages[0].parts[0]["content"]
        .as_str()
        .unwrap()
        .len();
    assert_eq!(text, 1 << 20);
    assert_eq!(acc.caps_hit(), [CaptureCap::Text]);
}

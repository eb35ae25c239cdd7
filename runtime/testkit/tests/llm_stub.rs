//! Talks to the stub LLM server with reqwest and checks each provider's wire format and
//! the fault models.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use llmetry_testkit::llm_stub::{
    Answers, CACHE_CREATION_TOKENS, EMBEDDING_DIMS, ERROR_EVENT, FAIL_MIDWAY, LlmStub,
    OPENAI_MODEL_SUFFIX, RATE_LIMITED, REASONING_TOKENS, REPLY, SERVER_ERROR, SLOW_CHUNKS,
    SLOW_STREAM, TOOL_CALL_TOKENS,
};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

fn some<T>(o: Option<T>, what: &str) -> T {
    match o {
        Some(v) => v,
        None => panic!("missing: {what}"),
    }
}

/// A blocking JSON POST: status, headers, parsed body.
fn post(url: &str, body: &Value) -> (u16, HeaderMap, Value) {
    let client = reqwest::blocking::Client::new();
    let resp = ok(
        client
            .post(url)
            .header("authorization", "Bearer sk-test")
            .json(body)
            .send(),
        "send",
    );
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = ok(resp.text(), "read body");
    let value = ok(serde_json::from_str(&text), &format!("parse JSON {text:?}"));
    (status, headers, value)
}

/// What an async streamed POST produced.
struct Streamed {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    /// Body chunks received before the end or the error.
    chunks: usize,
    /// The error the body stream yielded, if any.
    error: Option<String>,
    elapsed: Duration,
}

impl Streamed {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    ok(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        "tokio runtime",
    )
}

/// Posts with the async client and reads the body with `bytes_stream`, stopping at the end,
/// at the first error, or after `max_chunks` chunks.
fn post_stream_limited(url: &str, body: &Value, max_chunks: usize) -> Streamed {
    runtime().block_on(async {
        let start = Instant::now();
        let resp = ok(
            reqwest::Client::new().post(url).json(body).send().await,
            "send",
        );
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut stream = resp.bytes_stream();
        let mut out = Vec::new();
        let mut chunks = 0;
        let mut error = None;
        while chunks < max_chunks {
            match stream.next().await {
                Some(Ok(b)) => {
                    out.extend_from_slice(&b);
                    chunks += 1;
                }
                Some(Err(e)) => {
                    error = Some(format!("{e:?}"));
                    break;
                }
                None => break,
            }
        }
        Streamed {
            status,
            headers,
            body: out,
            chunks,
            error,
            elapsed: start.elapsed(),
        }
    })
}

fn post_stream(url: &str, body: &Value) -> Streamed {
    post_stream_limited(url, body, usize::MAX)
}

/// One server-sent event.
#[derive(Debug)]
struct Sse {
    event: Option<String>,
    data: String,
}

impl Sse {
    fn json(&self) -> Value {
        ok(serde_json::from_str(&self.data), &self.data)
    }
}

fn sse(text: &str) -> Vec<Sse> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push(v);
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            Sse {
                event,
                data: data.join("\n"),
            }
        })
        .collect()
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| ok(serde_json::from_str(l), &format!("NDJSON line {l:?}")))
        .collect()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn weather_tool_openai() -> Value {
    json!([{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer"}
                },
                "required": ["city"]
            }
        }
    }])
}

fn weather_tool_anthropic() -> Value {
    json!([{
        "name": "get_weather",
        "description": "Current weather",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        }
    }])
}

// ---------------------------------------------------------------------------------------
// OpenAI chat completions

#[test]
fn openai_chat_json() {
    let stub = LlmStub::start();
    let url = format!("{}/v1/chat/completions", stub.base_url());
    let (status, headers, v) = post(
        &url,
        &json!({"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello to me"}
        ]}),
    );
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert!(header(&headers, "x-request-id").is_some());
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], format!("gpt-4o-mini{OPENAI_MODEL_SUFFIX}"));
    assert!(some(v["id"].as_str(), "id").starts_with("chatcmpl-"));
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["message"]["content"], REPLY);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let usage = &v["usage"];
    // "Be brief." + "Say hello to me" = 6 words.
    assert_eq!(usage["prompt_tokens"], 6);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 3);
    assert_eq!(usage["completion_tokens"], 7 + REASONING_TOKENS);
    assert_eq!(
        usage["completion_tokens_details"]["reasoning_tokens"],
        REASONING_TOKENS
    );
    assert_eq!(usage["total_tokens"], 6 + 7 + REASONING_TOKENS);

    // A dated model is echoed unchanged.
    let (_, _, v) = post(
        &url,
        &json!({"model": "gpt-4o-2024-08-06", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(v["model"], "gpt-4o-2024-08-06");
}

#[test]
fn openai_chat_tool_call_then_tool_result() {
    let stub = LlmStub::start();
    let url = format!("{}/v1/chat/completions", stub.base_url());
    let mut messages = vec![json!({"role": "user", "content": "Weather in Paris?"})];
    let (status, _, v) = post(
        &url,
        &json!({"model": "gpt-4o-mini", "messages": messages, "tools": weather_tool_openai()}),
    );
    assert_eq!(status, 200);
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert!(some(call["id"].as_str(), "call id").starts_with("call_"));
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value = ok(
        serde_json::from_str(some(call["function"]["arguments"].as_str(), "arguments")),
        "arguments JSON",
    );
    assert_eq!(
        args,
        json!({"city": "get_weather-city", "unit": "celsius", "days": 1})
    );
    assert_eq!(
        v["usage"]["completion_tokens"],
        TOOL_CALL_TOKENS + REASONING_TOKENS
    );

    messages.push(choice["message"].clone());
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "18C and sunny"}));
    let (_, _, v) = post(
        &url,
        &json!({"model": "gpt-4o-mini", "messages": messages, "tools": weather_tool_openai()}),
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let content = some(v["choices"][0]["message"]["content"].as_str(), "content");
    assert!(content.contains("18C and sunny"), "{content}");
}

#[test]
fn openai_chat_stream_with_usage() {
    let stub = LlmStub::start();
    let s = post_stream(
        &format!("{}/v1/chat/completions", stub.base_url()),
        &json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "hello there"}]}),
    );
    assert_eq!(s.status, 200);
    assert!(s.error.is_none(), "{:?}", s.error);
    assert!(s.content_type().starts_with("text/event-stream"));
    let events = sse(&s.text());
    assert_eq!(some(events.last(), "last").data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(Sse::json).collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(
        chunks
            .iter()
            .all(|c| c["model"] == format!("gpt-4o-mini{OPENAI_MODEL_SUFFIX}"))
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, REPLY);
    let content_chunks = chunks
        .iter()
        .filter(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        })
        .count();
    assert_eq!(content_chunks, 7, "word by word");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["usage"], Value::Null);
    let usage = some(chunks.last(), "usage chunk");
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 2);
    assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 1);
    assert_eq!(usage["usage"]["completion_tokens"], 7 + REASONING_TOKENS);
}

#[test]
fn openai_chat_stream_without_usage_option() {
    let stub = LlmStub::start();
    let s = post_stream(
        &format!("{}/v1/chat/completions", stub.base_url()),
        &json!({"model": "gpt-4o-mini", "stream": true,
                "messages": [{"role": "user", "content": "hello"}]}),
    );
    let events = sse(&s.text());
    assert_eq!(some(events.last(), "last").data, "[DONE]");
    for e in &events[..events.len() - 1] {
        let c = e.json();
        assert!(
            c.get("usage").is_none(),
            "no usage key without include_usage"
        );
        assert_eq!(
            some(c["choices"].as_array(), "choices").len(),
            1,
            "no usage chunk"
        );
    }
}

#[test]
fn openai_chat_stream_tool_call() {
    let stub = LlmStub::start();
    let s = post_stream(
        &format!("{}/v1/chat/completions", stub.base_url()),
        &json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
                "tools": weather_tool_openai(),
                "messages": [{"role": "user", "content": "Weather in Paris?"}]}),
    );
    let events = sse(&s.text());
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(Sse::json).collect();
    let deltas: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert!(deltas.len() >= 3, "split across several chunks: {deltas:?}");
    let first = deltas[0];
    assert_eq!(first["index"], 0);
    assert!(some(first["id"].as_str(), "id").starts_with("call_"));
    assert_eq!(first["type"], "function");
    assert_eq!(first["function"]["name"], "get_weather");
    for d in &deltas[1..] {
        assert_eq!(d["index"], 0);
        assert!(d.get("id").is_none() && d["function"].get("name").is_none());
    }
    let args: String = deltas
        .iter()
        .filter_map(|d| d["function"]["arguments"].as_str())
        .collect();
    let args: Value = ok(serde_json::from_str(&args), "arguments");
    assert_eq!(args["city"], "get_weather-city");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
}

// ---------------------------------------------------------------------------------------
// OpenAI legacy completions, embeddings, Responses

#[test]
fn openai_completions_json_and_stream() {
    let stub = LlmStub::start();
    let url = format!("{}/v1/completions", stub.base_url());
    let (status, _, v) = post(
        &url,
        &json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time"}),
    );
    assert_eq!(status, 200);
    assert_eq!(v["object"], "text_completion");
    assert_eq!(
        v["model"],
        format!("gpt-3.5-turbo-instruct{OPENAI_MODEL_SUFFIX}")
    );
    assert_eq!(v["choices"][0]["text"], REPLY);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 4);
    assert_eq!(v["usage"]["completion_tokens"], 7);
    assert_eq!(v["usage"]["total_tokens"], 11);

    let s = post_stream(
        &url,
        &json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Once", "stream": true,
                "stream_options": {"include_usage": true}}),
    );
    let events = sse(&s.text());
    assert_eq!(some(events.last(), "last").data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(Sse::json).collect();
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(text, REPLY);
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    assert_eq!(some(chunks.last(), "usage")["usage"]["prompt_tokens"], 1);
}

#[test]
fn openai_embeddings_float_and_base64() {
    let stub = LlmStub::start();
    let url = format!("{}/v1/embeddings", stub.base_url());
    let (status, _, v) = post(
        &url,
        &json!({"model": "text-embedding-3-small", "input": ["one two", "three"]}),
    );
    assert_eq!(status, 200);
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "text-embedding-3-small");
    let data = some(v["data"].as_array(), "data");
    assert_eq!(data.len(), 2);
    for (i, d) in data.iter().enumerate() {
        assert_eq!(d["object"], "embedding");
        assert_eq!(d["index"], i);
        let vec = some(d["embedding"].as_array(), "vector");
        assert_eq!(vec.len(), EMBEDDING_DIMS);
        assert!(vec.iter().all(Value::is_f64));
    }
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);
    assert_eq!(v["usage"], json!({"prompt_tokens": 3, "total_tokens": 3}));

    let (_, _, v) = post(
        &url,
        &json!({"model": "text-embedding-3-small", "input": "one", "encoding_format": "base64"}),
    );
    let b64 = some(v["data"][0]["embedding"].as_str(), "base64 vector");
    // 8 little-endian f32 = 32 bytes = 44 base64 characters.
    assert_eq!(b64.len(), 44);
}

#[test]
fn openai_responses_json() {
    let stub = LlmStub::start();
    let url = format!("{}/v1/responses", stub.base_url());
    let (status, _, v) = post(
        &url,
        &json!({"model": "gpt-4.1", "input": "Tell me a joke", "instructions": "Be funny"}),
    );
    assert_eq!(status, 200);
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["model"], format!("gpt-4.1{OPENAI_MODEL_SUFFIX}"));
    let item = &v["output"][0];
    assert_eq!(item["type"], "message");
    assert_eq!(item["role"], "assistant");
    assert_eq!(item["content"][0]["type"], "output_text");
    assert_eq!(item["content"][0]["text"], REPLY);
    assert_eq!(v["usage"]["input_tokens"], 6);
    assert_eq!(v["usage"]["output_tokens"], 7 + REASONING_TOKENS);
    assert_eq!(v["usage"]["total_tokens"], 6 + 7 + REASONING_TOKENS);
    assert_eq!(v["usage"]["input_tokens_details"]["cached_tokens"], 3);

    // Function tools: a function_call item, then text with the tool output.
    let tools = json!([{"type": "function", "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}]);
    let (_, _, v) = post(
        &url,
        &json!({"model": "gpt-4.1", "tools": tools,
                "input": [{"role": "user", "content": "look it up"}]}),
    );
    let call = &v["output"][0];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["name"], "lookup");
    assert_eq!(call["arguments"], r#"{"q":"lookup-q"}"#);
    let (_, _, v) = post(
        &url,
        &json!({"model": "gpt-4.1", "tools": tools, "input": [
            {"role": "user", "content": "look it up"},
            call,
            {"type": "function_call_output", "call_id": call["call_id"], "output": "found 42"}
        ]}),
    );
    let text = some(v["output"][0]["content"][0]["text"].as_str(), "text");
    assert!(text.contains("found 42"), "{text}");
}

#[test]
fn openai_responses_stream() {
    let stub = LlmStub::start();
    let s = post_stream(
        &format!("{}/v1/responses", stub.base_url()),
        &json!({"model": "gpt-4.1", "input": "hi", "stream": true}),
    );
    assert!(s.error.is_none());
    assert!(s.content_type().starts_with("text/event-stream"));
    let events = sse(&s.text());
    let names: Vec<&str> = events
        .iter()
        .map(|e| some(e.event.as_deref(), "event name"))
        .collect();
    assert_eq!(names[0], "response.created");
    assert_eq!(names[1], "response.in_progress");
    assert_eq!(some(names.last(), "last"), &"response.completed");
    assert!(names.contains(&"response.output_item.added"));
    assert!(names.contains(&"response.content_part.added"));
    assert!(names.contains(&"response.output_text.done"));
    assert!(names.contains(&"response.output_item.done"));
    for (i, e) in events.iter().enumerate() {
        let data = e.json();
        assert_eq!(data["type"], some(e.event.as_deref(), "event"));
        assert_eq!(data["sequence_number"], i);
    }
    let text: String = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("response.output_text.delta"))
        .filter_map(|e| e.json()["delta"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, REPLY);
    let created = events[0].json();
    assert_eq!(created["response"]["status"], "in_progress");
    assert_eq!(created["response"]["usage"], Value::Null);
    let done = some(events.last(), "completed").json();
    assert_eq!(done["response"]["status"], "completed");
    assert_eq!(done["response"]["usage"]["input_tokens"], 1);
    assert_eq!(done["response"]["output"][0]["content"][0]["text"], REPLY);
}

// ---------------------------------------------------------------------------------------
// Anthropic

#[test]
fn anthropic_messages_json() {
    let stub = LlmStub::start();
    let url = format!("{}/v1/messages", stub.base_url());
    let (status, headers, v) = post(
        &url,
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "Be kind",
                "messages": [{"role": "user", "content": "Hello Claude"}]}),
    );
    assert_eq!(status, 200);
    assert!(header(&headers, "request-id").is_some());
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "claude-sonnet-4-5");
    assert_eq!(v["content"], json!([{"type": "text", "text": REPLY}]));
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["input_tokens"], 4);
    assert_eq!(v["usage"]["output_tokens"], 7);
    assert_eq!(v["usage"]["cache_read_input_tokens"], 2);
    assert_eq!(
        v["usage"]["cache_creation_input_tokens"],
        CACHE_CREATION_TOKENS
    );
}

#[test]
fn anthropic_tool_use_then_tool_result() {
    let stub = LlmStub::start();
    let url = format!("{}/v1/messages", stub.base_url());
    let mut messages = vec![json!({"role": "user", "content": "Weather in Paris?"})];
    let (_, _, v) = post(
        &url,
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100,
                "tools": weather_tool_anthropic(), "messages": messages}),
    );
    assert_eq!(v["stop_reason"], "tool_use");
    let content = some(v["content"].as_array(), "content");
    assert_eq!(content[0]["type"], "text");
    let tool = some(content.last(), "tool_use");
    assert_eq!(tool["type"], "tool_use");
    assert_eq!(tool["name"], "get_weather");
    assert!(some(tool["id"].as_str(), "id").starts_with("toolu_"));
    assert_eq!(tool["input"], json!({"city": "get_weather-city"}));

    messages.push(json!({"role": "assistant", "content": v["content"]}));
    messages.push(json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tool["id"], "content": "18C and sunny"}
    ]}));
    let (_, _, v) = post(
        &url,
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100,
                "tools": weather_tool_anthropic(), "messages": messages}),
    );
    assert_eq!(v["stop_reason"], "end_turn");
    let text = some(v["content"][0]["text"].as_str(), "text");
    assert!(text.contains("18C and sunny"), "{text}");
}

#[test]
fn anthropic_stream_text() {
    let stub = LlmStub::start();
    let s = post_stream(
        &format!("{}/v1/messages", stub.base_url()),
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": true,
                "messages": [{"role": "user", "content": "Hello"}]}),
    );
    assert!(s.error.is_none());
    assert!(s.content_type().starts_with("text/event-stream"));
    let events = sse(&s.text());
    for e in &events {
        assert_eq!(e.json()["type"], some(e.event.as_deref(), "event"));
    }
    let names: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(
        names[..3],
        ["message_start", "content_block_start", "ping"],
        "{names:?}"
    );
    assert_eq!(
        names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let start = events[0].json();
    assert_eq!(start["message"]["model"], "claude-sonnet-4-5");
    assert_eq!(start["message"]["usage"]["input_tokens"], 1);
    let text: String = events
        .iter()
        .map(Sse::json)
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| {
            assert_eq!(d["delta"]["type"], "text_delta");
            some(d["delta"]["text"].as_str(), "text").to_owned()
        })
        .collect();
    assert_eq!(text, REPLY);
    let delta = events[events.len() - 2].json();
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 7);
}

#[test]
fn anthropic_stream_tool_use() {
    let stub = LlmStub::start();
    let s = post_stream(
        &format!("{}/v1/messages", stub.base_url()),
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": true,
                "tools": weather_tool_anthropic(),
                "messages": [{"role": "user", "content": "Weather?"}]}),
    );
    let events: Vec<Value> = sse(&s.text()).iter().map(Sse::json).collect();
    let start = some(
        events.iter().find(|d| {
            d["type"] == "content_block_start" && d["content_block"]["type"] == "tool_use"
        }),
        "tool_use block start",
    );
    assert_eq!(start["index"], 1);
    assert_eq!(start["content_block"]["name"], "get_weather");
    assert_eq!(start["content_block"]["input"], json!({}));
    let fragments: Vec<&str> = events
        .iter()
        .filter(|d| d["type"] == "content_block_delta" && d["delta"]["type"] == "input_json_delta")
        .filter_map(|d| d["delta"]["partial_json"].as_str())
        .collect();
    assert!(fragments.len() >= 3);
    let input: Value = ok(serde_json::from_str(&fragments.concat()), "input JSON");
    assert_eq!(input, json!({"city": "get_weather-city"}));
    let delta = some(
        events.iter().find(|d| d["type"] == "message_delta"),
        "message_delta",
    );
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
}

// ---------------------------------------------------------------------------------------
// Ollama

#[test]
fn ollama_chat_json_and_default_stream() {
    let stub = LlmStub::start();
    let url = format!("{}/api/chat", stub.base_url());
    let (status, _, v) = post(
        &url,
        &json!({"model": "llama3.2", "stream": false,
                "messages": [{"role": "user", "content": "Why is the sky blue?"}]}),
    );
    assert_eq!(status, 200);
    assert_eq!(v["model"], "llama3.2");
    assert!(some(v["created_at"].as_str(), "created_at").ends_with('Z'));
    assert_eq!(v["message"]["role"], "assistant");
    assert_eq!(v["message"]["content"], REPLY);
    assert_eq!(v["done"], true);
    assert_eq!(v["done_reason"], "stop");
    assert_eq!(v["prompt_eval_count"], 5);
    assert_eq!(v["eval_count"], 7);
    assert!(v["total_duration"].is_u64() && v["eval_duration"].is_u64());

    // No "stream" field: Ollama streams by default.
    let s = post_stream(
        &url,
        &json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(s.error.is_none());
    assert_eq!(s.content_type(), "application/x-ndjson");
    let lines = ndjson(&s.text());
    assert!(lines.len() > 2);
    let (last, pieces) = some(lines.split_last(), "lines");
    assert!(pieces.iter().all(|l| l["done"] == false));
    let text: String = pieces
        .iter()
        .filter_map(|l| l["message"]["content"].as_str())
        .collect();
    assert_eq!(text, REPLY);
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["message"]["content"], "");
    assert_eq!(last["prompt_eval_count"], 1);
    assert_eq!(last["eval_count"], 7);
}

#[test]
fn ollama_chat_tools() {
    let stub = LlmStub::start();
    let url = format!("{}/api/chat", stub.base_url());
    let body = json!({"model": "qwen3", "stream": false, "tools": weather_tool_openai(),
                      "messages": [{"role": "user", "content": "Weather?"}]});
    let (_, _, v) = post(&url, &body);
    let call = &v["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"]["city"], "get_weather-city", "an object");

    let s = post_stream(
        &url,
        &json!({"model": "qwen3", "tools": weather_tool_openai(),
        "messages": [{"role": "user", "content": "Weather?"}]}),
    );
    let lines = ndjson(&s.text());
    assert_eq!(
        lines[0]["message"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    assert_eq!(some(lines.last(), "last")["done"], true);

    let (_, _, v) = post(
        &url,
        &json!({"model": "qwen3", "stream": false, "tools": weather_tool_openai(), "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": "", "tool_calls": v["message"]["tool_calls"]},
            {"role": "tool", "content": "18C and sunny"}
        ]}),
    );
    let text = some(v["message"]["content"].as_str(), "content");
    assert!(text.contains("18C and sunny"), "{text}");
}

#[test]
fn ollama_generate_json_and_stream() {
    let stub = LlmStub::start();
    let url = format!("{}/api/generate", stub.base_url());
    let (_, _, v) = post(
        &url,
        &json!({"model": "llama3.2", "prompt": "Why?", "stream": false}),
    );
    assert_eq!(v["response"], REPLY);
    assert_eq!(v["done"], true);
    assert_eq!(v["prompt_eval_count"], 1);
    assert!(v["context"].is_array());

    let s = post_stream(
        &url,
        &json!({"model": "llama3.2", "prompt": "Why?", "stream": true}),
    );
    let lines = ndjson(&s.text());
    let (last, pieces) = some(lines.split_last(), "lines");
    let text: String = pieces
        .iter()
        .filter_map(|l| l["response"].as_str())
        .collect();
    assert_eq!(text, REPLY);
    assert_eq!(last["done"], true);
    assert_eq!(last["eval_count"], 7);
}

#[test]
fn ollama_embed() {
    let stub = LlmStub::start();
    let (status, headers, v) = post(
        &format!("{}/api/embed", stub.base_url()),
        &json!({"model": "all-minilm", "input": ["a b", "c"]}),
    );
    assert_eq!(status, 200);
    assert!(some(header(&headers, "content-type"), "content-type").starts_with("application/json"));
    assert_eq!(v["model"], "all-minilm");
    let vectors = some(v["embeddings"].as_array(), "embeddings");
    assert_eq!(vectors.len(), 2);
    assert_eq!(some(vectors[0].as_array(), "vector").len(), EMBEDDING_DIMS);
    assert_eq!(v["prompt_eval_count"], 3);
}

// ---------------------------------------------------------------------------------------
// Faults

/// `(url, body)` of a request on each route with `model`.
fn every_route(stub: &LlmStub, model: &str) -> Vec<(String, Value)> {
    let b = stub.base_url();
    let msgs = json!([{"role": "user", "content": "hi"}]);
    vec![
        (
            format!("{b}/v1/chat/completions"),
            json!({"model": model, "messages": msgs}),
        ),
        (
            format!("{b}/v1/completions"),
            json!({"model": model, "prompt": "hi"}),
        ),
        (
            format!("{b}/v1/embeddings"),
            json!({"model": model, "input": "hi"}),
        ),
        (
            format!("{b}/v1/responses"),
            json!({"model": model, "input": "hi"}),
        ),
        (
            format!("{b}/v1/messages"),
            json!({"model": model, "max_tokens": 10, "messages": msgs}),
        ),
        (
            format!("{b}/api/chat"),
            json!({"model": model, "messages": msgs}),
        ),
        (
            format!("{b}/api/generate"),
            json!({"model": model, "prompt": "hi"}),
        ),
        (
            format!("{b}/api/embed"),
            json!({"model": model, "input": "hi"}),
        ),
    ]
}

#[test]
fn rate_limited_on_every_route() {
    let stub = LlmStub::start();
    for (url, body) in every_route(&stub, RATE_LIMITED) {
        let (status, headers, v) = post(&url, &body);
        assert_eq!(status, 429, "{url}");
        if url.ends_with("/v1/messages") {
            assert_eq!(v["type"], "error");
            assert_eq!(v["error"]["type"], "rate_limit_error");
            assert!(v["error"]["message"].is_string());
            assert_eq!(header(&headers, "retry-after"), Some("1"));
        } else if url.contains("/api/") {
            assert!(v["error"].is_string(), "{v}");
        } else {
            let e = &v["error"];
            assert!(
                some(e["message"].as_str(), "message").starts_with("Rate limit reached"),
                "{v}"
            );
            assert_eq!(e["type"], "requests");
            assert_eq!(e["param"], Value::Null);
            assert_eq!(e["code"], "rate_limit_exceeded");
            assert_eq!(header(&headers, "retry-after"), Some("1"));
        }
    }
    // Streaming requests get the same answer before any stream starts.
    let s = post_stream(
        &format!("{}/v1/chat/completions", stub.base_url()),
        &json!({"model": RATE_LIMITED, "stream": true, "messages": []}),
    );
    assert_eq!(s.status, 429);
    assert_eq!(s.content_type(), "application/json");
}

#[test]
fn server_error_on_every_route() {
    let stub = LlmStub::start();
    for (url, body) in every_route(&stub, SERVER_ERROR) {
        let (status, _, v) = post(&url, &body);
        assert_eq!(status, 500, "{url}");
        if url.ends_with("/v1/messages") {
            assert_eq!(v["type"], "error");
            assert_eq!(v["error"]["type"], "api_error");
        } else if url.contains("/api/") {
            assert!(v["error"].is_string(), "{v}");
        } else {
            assert_eq!(v["error"]["type"], "server_error", "{v}");
            assert_eq!(v["error"]["code"], Value::Null);
        }
    }
}

#[test]
fn fail_midway_aborts_streams_after_some_data() {
    let stub = LlmStub::start();
    for (url, mut body) in every_route(&stub, FAIL_MIDWAY) {
        if url.contains("embed") {
            continue;
        }
        body["stream"] = json!(true);
        let s = post_stream(&url, &body);
        assert_eq!(s.status, 200, "{url}");
        let error = some(s.error.clone(), &format!("a body error from {url}"));
        assert!(!s.body.is_empty(), "{url}: data before the error");
        // Every complete event before the abort is well formed.
        let text = s.text();
        if url.contains("/api/") {
            let lines = ndjson(&text);
            assert_eq!(lines.len(), 2, "{url}: {text}");
            assert!(lines.iter().all(|l| l["done"] == false));
        } else {
            let events = sse(&text);
            assert!(events.len() >= 2, "{url}: {text}");
            assert!(events.iter().all(|e| e.data != "[DONE]"));
            assert!(events.iter().all(|e| {
                let d = e.json();
                d["type"] != "message_stop" && d["type"] != "response.completed"
            }));
        }
        assert!(!error.is_empty());
    }
}

#[test]
fn fail_midway_aborts_json_bodies() {
    let stub = LlmStub::start();
    for (url, body) in every_route(&stub, FAIL_MIDWAY) {
        let mut body = body;
        body["stream"] = json!(false);
        let s = post_stream(&url, &body);
        assert_eq!(s.status, 200, "{url}");
        assert!(s.error.is_some(), "{url}: body error");
        assert!(!s.body.is_empty(), "{url}: half a body");
        assert!(serde_json::from_slice::<Value>(&s.body).is_err());
    }
    // The blocking client sees the failure when it reads the body.
    let client = reqwest::blocking::Client::new();
    let resp = ok(
        client
            .post(format!("{}/v1/chat/completions", stub.base_url()))
            .json(&json!({"model": FAIL_MIDWAY, "messages": []}))
            .send(),
        "send",
    );
    assert!(resp.text().is_err());
}

#[test]
fn error_events_mid_stream() {
    let stub = LlmStub::start();
    let b = stub.base_url();

    // Anthropic: `event: error` with an overloaded_error, after some deltas.
    let s = post_stream(
        &format!("{b}/v1/messages"),
        &json!({"model": ERROR_EVENT, "max_tokens": 10, "stream": true,
                "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(s.error.is_none(), "ends cleanly");
    let events = sse(&s.text());
    let last = some(events.last(), "last");
    assert_eq!(last.event.as_deref(), Some("error"));
    assert_eq!(
        last.json(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    let deltas = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("content_block_delta"))
        .count();
    assert_eq!(deltas, 2);

    // OpenAI chat and completions: a `data: {"error": ..}` chunk, no [DONE].
    for path in ["/v1/chat/completions", "/v1/completions"] {
        let s = post_stream(
            &format!("{b}{path}"),
            &json!({"model": ERROR_EVENT, "stream": true, "prompt": "hi",
                    "messages": [{"role": "user", "content": "hi"}]}),
        );
        assert!(s.error.is_none());
        let events = sse(&s.text());
        let last = some(events.last(), "last").json();
        assert_eq!(last["error"]["type"], "server_error", "{path}");
        assert!(last["error"]["message"].is_string());
        assert!(events.len() >= 3);
    }

    // Responses: `event: error`.
    let s = post_stream(
        &format!("{b}/v1/responses"),
        &json!({"model": ERROR_EVENT, "stream": true, "input": "hi"}),
    );
    let events = sse(&s.text());
    let last = some(events.last(), "last");
    assert_eq!(last.event.as_deref(), Some("error"));
    assert_eq!(last.json()["sequence_number"], events.len() - 1);

    // Ollama: an `{"error": ..}` line.
    let s = post_stream(
        &format!("{b}/api/chat"),
        &json!({"model": ERROR_EVENT, "messages": [{"role": "user", "content": "hi"}]}),
    );
    let lines = ndjson(&s.text());
    assert!(some(lines.last(), "last")["error"].is_string());
    assert_eq!(lines.len(), 3);
}

#[test]
fn slow_stream_paces_chunks_and_survives_early_drop() {
    let stub = LlmStub::start();
    let b = stub.base_url();
    let s = post_stream(
        &format!("{b}/v1/chat/completions"),
        &json!({"model": SLOW_STREAM, "stream": true,
                "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(s.error.is_none());
    assert!(s.elapsed >= Duration::from_millis(900), "{:?}", s.elapsed);
    let events = sse(&s.text());
    let deltas = events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .filter(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        })
        .count();
    assert_eq!(deltas, SLOW_CHUNKS);
    assert!(s.chunks > 10, "arrives in pieces: {}", s.chunks);

    // Drop early on each protocol; the stub keeps serving.
    for (url, body, end) in [
        (
            format!("{b}/v1/messages"),
            json!({"model": SLOW_STREAM, "max_tokens": 10, "stream": true,
                   "messages": [{"role": "user", "content": "hi"}]}),
            "message_stop",
        ),
        (
            format!("{b}/api/generate"),
            json!({"model": SLOW_STREAM, "prompt": "hi"}),
            r#""done":true"#,
        ),
    ] {
        let s = post_stream_limited(&url, &body, 3);
        assert_eq!(s.chunks, 3);
        // Each event is its own chunk, paced: the client had its 3 chunks, and left, before
        // the stream's end was sent.
        assert!(!s.text().contains(end), "{}", s.text());
    }
    let (status, _, _) = post(
        &format!("{b}/api/generate"),
        &json!({"model": "llama3.2", "prompt": "hi", "stream": false}),
    );
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------
// Recording and lifecycle

#[test]
fn requests_are_recorded_with_headers() {
    let stub = LlmStub::start();
    let client = reqwest::blocking::Client::new();
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let resp = ok(
        client
            .post(format!("{}/v1/chat/completions", stub.base_url()))
            .header("Authorization", "Bearer sk-test")
            .header("X-Custom-Header", "Yes")
            .json(&body)
            .send(),
        "send",
    );
    assert_eq!(resp.status().as_u16(), 200);
    let (status, _, _) = post(
        &format!("{}/v1/messages", stub.base_url()),
        &json!({"model": RATE_LIMITED, "messages": []}),
    );
    assert_eq!(status, 429);

    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].body, body);
    assert_eq!(reqs[0].header("authorization"), Some("Bearer sk-test"));
    assert_eq!(reqs[0].header("X-CUSTOM-HEADER"), Some("Yes"));
    assert!(
        reqs[0]
            .headers
            .iter()
            .any(|(k, v)| k == "x-custom-header" && v == "Yes"),
        "names are lower-case: {:?}",
        reqs[0].headers
    );
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    assert_eq!(reqs[1].path, "/v1/messages");
    assert_eq!(reqs[1].body["model"], RATE_LIMITED);
}

#[test]
fn bad_requests_are_recorded_and_rejected() {
    let stub = LlmStub::start();
    let client = reqwest::blocking::Client::new();
    let resp = ok(
        client
            .post(format!("{}/v1/chat/completions", stub.base_url()))
            .header("content-type", "application/json")
            .body("{not json")
            .send(),
        "send",
    );
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = ok(resp.json(), "error JSON");
    assert_eq!(v["error"]["type"], "invalid_request_error");

    let resp = ok(
        client
            .post(format!("{}/nope", stub.base_url()))
            .json(&json!({}))
            .send(),
        "send",
    );
    assert_eq!(resp.status().as_u16(), 404);

    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body, json!("{not json"));
    assert_eq!(reqs[1].path, "/nope");
}

#[test]
fn dropping_the_stub_stops_it() {
    let stub = LlmStub::start();
    let url = format!("{}/api/embed", stub.base_url());
    let (status, _, _) = post(&url, &json!({"model": "m", "input": "x"}));
    assert_eq!(status, 200);
    drop(stub);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build();
    let client = ok(client, "client");
    assert!(client.post(&url).json(&json!({})).send().is_err());
}

// ---------------------------------------------------------------------------------------
// Demo answers (the examples' embedded server), API keys, serving on the caller's runtime

fn incident_tools() -> Value {
    let function = |name: &str, param: &str| {
        json!({"type": "function", "function": {
            "name": name,
            "parameters": {"type": "object", "properties": {param: {"type": "string"}}}
        }})
    };
    json!([
        function("grep_logs", "pattern"),
        function("disk_usage", "host")
    ])
}

#[test]
fn demo_answers_call_every_tool_with_arguments_from_the_prompt() {
    let stub = LlmStub::builder().answers(Answers::Demo).start();
    let url = format!("{}/v1/chat/completions", stub.base_url());
    let mut messages = vec![
        json!({"role": "system", "content": "You are an SRE."}),
        json!({"role": "user", "content": "Host web-3 fails: search for pattern OOMKilled on host web-3."}),
    ];
    let (status, _, v) = post(
        &url,
        &json!({"model": "gpt-4o-mini", "messages": messages, "tools": incident_tools()}),
    );
    assert_eq!(status, 200);
    let message = &v["choices"][0]["message"];
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    let calls = some(message["tool_calls"].as_array(), "tool_calls").clone();
    let called: Vec<(&str, Value)> = calls
        .iter()
        .map(|c| {
            let args = some(c["function"]["arguments"].as_str(), "arguments");
            (
                some(c["function"]["name"].as_str(), "name"),
                ok(serde_json::from_str(args), "arguments JSON"),
            )
        })
        .collect();
    assert_eq!(
        called,
        [
            ("grep_logs", json!({"pattern": "OOMKilled"})),
            ("disk_usage", json!({"host": "web-3"}))
        ]
    );
    assert_ne!(calls[0]["id"], calls[1]["id"], "one id per call");
    // Input: each message's words plus 4 (4 + 4, 10 + 4); no cached or reasoning tokens.
    assert_eq!(v["usage"]["prompt_tokens"], 22);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );

    messages.push(message.clone());
    for (call, result) in calls
        .iter()
        .zip(["[\"09:12 OOMKilled\"]", "{\"used_percent\": 100}"])
    {
        messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": result}));
    }
    let (_, _, v) = post(
        &url,
        &json!({"model": "gpt-4o-mini", "messages": messages, "tools": incident_tools()}),
    );
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "From the tool results:\n- grep_logs: [\"09:12 OOMKilled\"]\n- disk_usage: {\"used_percent\": 100}"
    );

    // One call when parallel calls are off; none when tools are off.
    let ask = |extra: Value| {
        let mut body = json!({"model": "gpt-4o-mini", "tools": incident_tools(),
                              "messages": [{"role": "user", "content": "check host web-1"}]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        post(&url, &body).2
    };
    let v = ask(json!({"parallel_tool_calls": false}));
    assert_eq!(
        some(v["choices"][0]["message"]["tool_calls"].as_array(), "calls").len(),
        1
    );
    let v = ask(json!({"tool_choice": "none"}));
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Spans drift like leaves,\nweb-1 hums in the collector,\nroot span finally ends."
    );
}

#[test]
fn demo_stream_is_the_haiku_about_the_prompt() {
    let stub = LlmStub::builder().answers(Answers::Demo).start();
    let s = post_stream(
        &format!("{}/v1/chat/completions", stub.base_url()),
        &json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "Write a haiku about streaming"}]}),
    );
    assert!(s.error.is_none(), "{:?}", s.error);
    let events = sse(&s.text());
    assert_eq!(some(events.last(), "last").data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(Sse::json).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        text,
        "Spans drift like leaves,\nstreaming hums in the collector,\nroot span finally ends."
    );
    let usage = &some(chunks.last(), "usage chunk")["usage"];
    assert_eq!(usage["prompt_tokens"], 5 + 4);
    assert_eq!(usage["completion_tokens"], 13);
}

#[test]
fn demo_answers_on_anthropic_and_responses() {
    let stub = LlmStub::builder().answers(Answers::Demo).start();
    let b = stub.base_url();
    let (_, _, v) = post(
        &format!("{b}/v1/messages"),
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a poem about tracing"}]}
        ]}),
    );
    assert_eq!(
        v["content"][0]["text"],
        "Spans drift like leaves,\ntracing hums in the collector,\nroot span finally ends."
    );
    let tool = json!([{"name": "disk_usage", "input_schema": {"type": "object", "properties": {"host": {"type": "string"}}}}]);
    let (_, _, v) = post(
        &format!("{b}/v1/messages"),
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "tools": tool,
                "messages": [{"role": "user", "content": "disk of host web-2?"}]}),
    );
    assert_eq!(v["stop_reason"], "tool_use");
    assert_eq!(v["content"][1]["input"], json!({"host": "web-2"}));
    let (_, _, v) = post(
        &format!("{b}/v1/messages"),
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "tools": tool, "messages": [
            {"role": "user", "content": "disk of host web-2?"},
            {"role": "assistant", "content": v["content"]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": v["content"][1]["id"], "content": "41%"}
            ]}
        ]}),
    );
    assert_eq!(
        v["content"][0]["text"],
        "From the tool results:\n- disk_usage: 41%"
    );

    let (_, _, v) = post(
        &format!("{b}/v1/responses"),
        &json!({"model": "gpt-4o-mini", "input": "a haiku about metrics"}),
    );
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Spans drift like leaves,\nmetrics hums in the collector,\nroot span finally ends."
    );
}

#[test]
fn an_api_key_is_required_when_asked() {
    let stub = LlmStub::builder().require_api_key(true).start();
    let b = stub.base_url();
    let client = reqwest::blocking::Client::new();
    let chat = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let send = |url: String, header: Option<(&str, &str)>, body: &Value| {
        let mut req = client.post(url).json(body);
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let resp = ok(req.send(), "send");
        let status = resp.status().as_u16();
        (status, ok(resp.json::<Value>(), "JSON body"))
    };
    let (status, v) = send(format!("{b}/v1/chat/completions"), None, &chat);
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], "invalid_api_key");
    let (status, _) = send(
        format!("{b}/v1/chat/completions"),
        Some(("authorization", "Bearer ")),
        &chat,
    );
    assert_eq!(status, 401, "an empty key is no key");
    let (status, v) = send(
        format!("{b}/v1/chat/completions"),
        Some(("authorization", "Bearer sk-test")),
        &chat,
    );
    assert_eq!(
        (status, &v["choices"][0]["message"]["content"]),
        (200, &json!(REPLY))
    );

    let messages = json!({"model": "claude-sonnet-4-5", "max_tokens": 10,
                          "messages": [{"role": "user", "content": "hi"}]});
    let (status, v) = send(format!("{b}/v1/messages"), None, &messages);
    assert_eq!(status, 401);
    assert_eq!(v["error"]["type"], "authentication_error");
    let (status, _) = send(
        format!("{b}/v1/messages"),
        Some(("x-api-key", "sk-ant-test")),
        &messages,
    );
    assert_eq!(status, 200);

    // Ollama never asks.
    let (status, _) = send(
        format!("{b}/api/chat"),
        None,
        &json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        stub.requests().len(),
        6,
        "refused requests are recorded too"
    );
}

#[test]
fn serve_runs_on_the_callers_runtime_and_stops_when_dropped() {
    runtime().block_on(async {
        let stub = ok(LlmStub::builder().serve().await, "serve");
        let url = format!("{}/api/embed", stub.base_url());
        let resp = ok(
            reqwest::Client::new()
                .post(&url)
                .json(&json!({"model": "m", "input": "x"}))
                .send()
                .await,
            "send",
        );
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(stub.requests().len(), 1);
        drop(stub);
        // The server task ends on the runtime; a new connection is refused then.
        let mut refused = false;
        for _ in 0..1500 {
            let sent = reqwest::Client::new()
                .post(&url)
                .json(&json!({}))
                .send()
                .await;
            if sent.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(refused, "still serving {url} after the stub was dropped");
    });
}

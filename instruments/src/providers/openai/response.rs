//! OpenAI-compatible response bodies: Chat and legacy Completions `choices`, Embeddings
//! `data`, Responses `output`, usage in every shape, and an `error` in the body.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::message::{
    ChatMessage, chat_message_parts, content_parts, fast_message, plain_text, raw_content_parts,
    reasoning_text,
};
use crate::json::{MessagesJson, Style};
use crate::model::{Api, LlmResponse, Message, Usage};
use crate::providers::MessageForm;
use crate::providers::parts::{
    DEFAULT_ERROR_TYPE, content_of, error_from_value, parse_arguments, reasoning_part, text_part,
    tool_call_part, with_total,
};
use crate::providers::scan::{Scan, Seen};
use crate::providers::wire::{Field, Lenient, Scalar, Seq, VectorLen};

/// The response fields the conventions read, for every OpenAI-compatible API.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    usage: Lenient<WireUsage<'a>>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    data: Seq<Lenient<Embedding>>,
    #[serde(borrow)]
    choices: Seq<Lenient<Choice<'a>>>,
    #[serde(borrow)]
    output: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Scalar<'a>,
    #[serde(borrow)]
    incomplete_details: Lenient<Incomplete<'a>>,
    #[serde(borrow)]
    system_fingerprint: Scalar<'a>,
    #[serde(borrow)]
    service_tier: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Embedding {
    embedding: VectorLen,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Choice<'a> {
    #[serde(borrow)]
    finish_reason: Scalar<'a>,
    #[serde(borrow)]
    text: Scalar<'a>,
    #[serde(borrow)]
    message: Lenient<ChatMessage<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Incomplete<'a> {
    #[serde(borrow)]
    reason: Scalar<'a>,
}

/// Usage of any OpenAI-compatible shape: Chat/Completions (`prompt_tokens`,
/// `completion_tokens`, `prompt_tokens_details.cached_tokens`,
/// `completion_tokens_details.reasoning_tokens`), Responses (`input_tokens`,
/// `output_tokens`, `input_tokens_details.cached_tokens`,
/// `output_tokens_details.reasoning_tokens`), DeepSeek `prompt_cache_hit_tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WireUsage<'a> {
    #[serde(borrow)]
    prompt_tokens: Scalar<'a>,
    #[serde(borrow)]
    input_tokens: Scalar<'a>,
    #[serde(borrow)]
    completion_tokens: Scalar<'a>,
    #[serde(borrow)]
    output_tokens: Scalar<'a>,
    #[serde(borrow)]
    total_tokens: Scalar<'a>,
    #[serde(borrow)]
    prompt_cache_hit_tokens: Scalar<'a>,
    #[serde(borrow)]
    prompt_tokens_details: Field<Details<'a>>,
    #[serde(borrow)]
    input_tokens_details: Lenient<Details<'a>>,
    #[serde(borrow)]
    completion_tokens_details: Lenient<Details<'a>>,
    #[serde(borrow)]
    output_tokens_details: Lenient<Details<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Details<'a> {
    #[serde(borrow)]
    cached_tokens: Scalar<'a>,
    #[serde(borrow)]
    reasoning_tokens: Scalar<'a>,
}

impl WireUsage<'_> {
    pub(super) fn usage(&self) -> Usage {
        let detail =
            |d: &Lenient<Details<'_>>, f: fn(&Details<'_>) -> Option<i64>| d.get().and_then(f);
        // Chat / Completions / Embeddings usage (`prompt_tokens`): without
        // `prompt_tokens_details` Python records 0 cached tokens (with it `null`, none).
        let chat_default = match (&self.prompt_tokens, &self.prompt_tokens_details) {
            (Scalar::Absent, _) | (_, Field::Null) => None,
            _ => Some(0),
        };
        with_total(Usage {
            input_tokens: self.prompt_tokens.int().or(self.input_tokens.int()),
            output_tokens: self.completion_tokens.int().or(self.output_tokens.int()),
            total_tokens: self.total_tokens.int(),
            cache_read_input_tokens: self
                .prompt_tokens_details
                .get()
                .and_then(|d| d.cached_tokens.int())
                .or_else(|| detail(&self.input_tokens_details, |d| d.cached_tokens.int()))
                .or(self.prompt_cache_hit_tokens.int())
                .or(chat_default),
            cache_creation_input_tokens: None,
            reasoning_tokens: detail(&self.completion_tokens_details, |d| {
                d.reasoning_tokens.int()
            })
            .or_else(|| detail(&self.output_tokens_details, |d| d.reasoning_tokens.int())),
        })
    }
}

/// The usage of a raw `usage` field, when it is an object.
pub(super) fn usage_of_raw(raw: Option<&RawValue>) -> Option<Usage> {
    let raw = raw.filter(|r| r.get().starts_with('{'))?;
    serde_json::from_str::<Lenient<WireUsage<'_>>>(raw.get())
        .ok()
        .and_then(|l| l.0.map(|u| u.usage()))
}

/// OpenAI finish reasons: `tool_calls` / `function_call` → `tool_call`, others unchanged.
pub(super) fn map_finish_reason(reason: &str) -> String {
    finish_reason_str(reason).to_owned()
}

/// [`map_finish_reason`], borrowed.
fn finish_reason_str(reason: &str) -> &str {
    match reason {
        "tool_calls" | "function_call" => "tool_call",
        other => other,
    }
}

/// The JSON text of `gen_ai.output.messages` for Chat Completions choices whose messages
/// are all plain text: what `json::messages` writes for their [`chat_output_message`]s,
/// without building them; `None` when a message needs its parts (or there is none).
fn plain_output_json(choices: &[Lenient<Choice<'_>>]) -> Option<String> {
    let mut out = MessagesJson::with_capacity(choices.len());
    for choice in choices.iter().filter_map(Lenient::get) {
        let Some(m) = choice.message.get() else {
            continue;
        };
        // Empty text is left out, as `chat_output_message` leaves out empty parts.
        let text = plain_text(m)?.filter(|t| !t.is_empty());
        let role = m.role.as_str().unwrap_or("assistant");
        let finish_reason = choice.finish_reason.as_str().map(finish_reason_str);
        out.text_message(role, text, finish_reason, true, Style::OpenAiChat);
    }
    (out.len() > 0).then(|| out.finish())
}

fn chat_output_message(choice: &Choice<'_>, api: Api) -> Option<Message> {
    let parts = if api == Api::OpenAiCompletion {
        vec![text_part(choice.text.as_str()?)]
    } else {
        let m = choice.message.get()?;
        let text = raw_content_parts(&m.content)
            .into_iter()
            .filter(|p| content_of(p) != Some(""))
            .collect();
        chat_message_parts(m, text)
    };
    let role = choice
        .message
        .get()
        .and_then(|m| m.role.as_str())
        .unwrap_or("assistant");
    Some(Message {
        role: role.to_owned(),
        parts,
        finish_reason: choice.finish_reason.as_str().map(map_finish_reason),
    })
}

pub(super) fn responses_output(
    output: Option<&Value>,
    status: Option<&str>,
    incomplete_reason: Option<&str>,
    r: &mut LlmResponse,
) {
    let output = output.and_then(Value::as_array);
    let mut parts = Vec::new();
    let mut has_tool_call = false;
    for item in output.into_iter().flatten() {
        match item.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => parts.extend(content_parts(item.get("content"))),
            "function_call" => {
                has_tool_call = true;
                parts.push(tool_call_part(
                    item.get("call_id").and_then(Value::as_str),
                    item.get("name").and_then(Value::as_str),
                    parse_arguments(item.get("arguments")),
                ));
            }
            "custom_tool_call" => {
                has_tool_call = true;
                parts.push(tool_call_part(
                    item.get("call_id").and_then(Value::as_str),
                    item.get("name").and_then(Value::as_str),
                    item.get("input").cloned().unwrap_or(Value::Null),
                ));
            }
            "reasoning" => {
                if let Some(t) = reasoning_text(item) {
                    parts.push(reasoning_part(&t));
                }
            }
            _ => {}
        }
    }
    let finish = match status {
        Some("completed") if has_tool_call => Some("tool_call".to_owned()),
        Some("completed") => Some("stop".to_owned()),
        Some("incomplete") => Some(match incomplete_reason {
            Some("max_output_tokens") | None => "length".to_owned(),
            Some(other) => other.to_owned(),
        }),
        Some("failed") => Some("error".to_owned()),
        Some("cancelled") => Some("cancelled".to_owned()),
        _ => None,
    };
    if !parts.is_empty() || finish.is_some() {
        r.choice_count = 1;
        r.finish_reasons.extend(finish.clone());
        r.output_messages.push(Message {
            role: "assistant".to_owned(),
            parts,
            finish_reason: finish,
        });
    }
}

/// Reads a complete OpenAI-compatible response body for `api`; `None` when it is not JSON.
pub(crate) fn parse_response(api: Api, bytes: &[u8], form: MessageForm) -> Option<LlmResponse> {
    let fast = std::str::from_utf8(bytes).ok().and_then(fast_body);
    let body: Lenient<Body<'_>> = match fast {
        Some(b) => Lenient(Some(b)),
        None => crate::providers::wire::read_body(bytes).ok()?,
    };
    let Some(body) = body.0 else {
        return Some(LlmResponse::default());
    };
    let error = match body.error {
        Some(_) => serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| error_from_value(&v, DEFAULT_ERROR_TYPE)),
        None => None,
    };
    let mut r = LlmResponse {
        usage: body.usage.get().map(WireUsage::usage).unwrap_or_default(),
        error,
        ..LlmResponse::default()
    };
    match api {
        Api::OpenAiEmbeddings => {
            r.embedding_dimensions = body
                .data
                .0
                .first()
                .and_then(|d| d.get())
                .and_then(|d| d.embedding.0);
        }
        Api::OpenAiResponses => {
            let output = crate::providers::wire::value(body.output);
            responses_output(
                output.as_ref(),
                body.status.as_str(),
                body.incomplete_details
                    .get()
                    .and_then(|i| i.reason.as_str()),
                &mut r,
            );
        }
        _ => {
            let json = match (form, api) {
                (MessageForm::Json, Api::OpenAiChat) => plain_output_json(&body.choices.0),
                _ => None,
            };
            for choice in &body.choices.0 {
                r.choice_count += 1;
                let Some(choice) = choice.get() else {
                    continue;
                };
                if let Some(f) = choice.finish_reason.as_str() {
                    r.finish_reasons.push(map_finish_reason(f));
                }
                if json.is_none()
                    && let Some(m) = chat_output_message(choice, api)
                {
                    r.output_messages.push(m);
                }
            }
            r.output_messages_json = json;
        }
    }
    r.id = body.id.into_non_empty();
    r.model = body.model.into_non_empty();
    r.system_fingerprint = body.system_fingerprint.into_non_empty();
    r.service_tier = body.service_tier.into_non_empty();
    Some(r)
}

/// A response body read by the pull reader ([`Scan`]): the fields of [`Body`] exactly as
/// serde reads them, or `None` (serde reads it) for anything the reader leaves to serde —
/// embeddings `data`, a key twice, text serde would refuse. Equal to the serde path's
/// `Body` whenever it is `Some` (tested: `fast_body_reads_as_serde_does`).
fn fast_body(text: &str) -> Option<Body<'_>> {
    let mut s = Scan::new(text);
    let mut b = Body::default();
    let mut seen = Seen::default();
    s.object(|s, key| {
        match key {
            "id" => s.scalar_once(&mut seen, 0, &mut b.id)?,
            "model" => s.scalar_once(&mut seen, 1, &mut b.model)?,
            "usage" => {
                seen.first(2)?;
                b.usage = s.lenient(fast_usage)?;
            }
            "error" => s.raw_once(&mut seen, 3, &mut b.error)?,
            "data" => {
                // Embeddings (vector lengths): left to serde unless `null`.
                seen.first(4)?;
                s.null()?;
            }
            "choices" => {
                seen.first(5)?;
                b.choices = s.seq(|s| s.lenient(fast_choice))?;
            }
            "output" => s.raw_once(&mut seen, 6, &mut b.output)?,
            "status" => s.scalar_once(&mut seen, 7, &mut b.status)?,
            "incomplete_details" => {
                seen.first(8)?;
                b.incomplete_details = s.lenient(|s, i: &mut Incomplete<'_>| {
                    let mut seen = Seen::default();
                    s.object(|s, key| {
                        if key == "reason" {
                            seen.first(0)?;
                            i.reason = s.scalar()?;
                        } else {
                            s.skip()?;
                        }
                        Some(())
                    })
                })?;
            }
            "system_fingerprint" => s.scalar_once(&mut seen, 9, &mut b.system_fingerprint)?,
            "service_tier" => s.scalar_once(&mut seen, 10, &mut b.service_tier)?,
            _ => s.skip()?,
        }
        Some(())
    })?;
    s.end()?;
    Some(b)
}

fn fast_choice<'a>(s: &mut Scan<'a>, c: &mut Choice<'a>) -> Option<()> {
    let mut seen = Seen::default();
    s.object(|s, key| {
        match key {
            "finish_reason" => s.scalar_once(&mut seen, 0, &mut c.finish_reason)?,
            "text" => s.scalar_once(&mut seen, 1, &mut c.text)?,
            "message" => {
                seen.first(2)?;
                c.message = s.lenient(fast_message)?;
            }
            _ => s.skip()?,
        }
        Some(())
    })
}

fn fast_usage<'a>(s: &mut Scan<'a>, u: &mut WireUsage<'a>) -> Option<()> {
    let mut seen = Seen::default();
    s.object(|s, key| {
        let scalar = match key {
            "prompt_tokens" => Some((0, &mut u.prompt_tokens)),
            "input_tokens" => Some((1, &mut u.input_tokens)),
            "completion_tokens" => Some((2, &mut u.completion_tokens)),
            "output_tokens" => Some((3, &mut u.output_tokens)),
            "total_tokens" => Some((4, &mut u.total_tokens)),
            "prompt_cache_hit_tokens" => Some((5, &mut u.prompt_cache_hit_tokens)),
            _ => None,
        };
        if let Some((bit, field)) = scalar {
            return s.scalar_once(&mut seen, bit, field);
        }
        let details = match key {
            "input_tokens_details" => Some((6, &mut u.input_tokens_details)),
            "completion_tokens_details" => Some((7, &mut u.completion_tokens_details)),
            "output_tokens_details" => Some((8, &mut u.output_tokens_details)),
            _ => None,
        };
        if let Some((bit, field)) = details {
            seen.first(bit)?;
            *field = s.lenient(fast_details)?;
            return Some(());
        }
        if key == "prompt_tokens_details" {
            // Absent, `null` and an object read differently (`Field`).
            seen.first(9)?;
            u.prompt_tokens_details = if s.peek()? == b'n' {
                s.null()?;
                Field::Null
            } else {
                Field::Value(s.lenient(fast_details)?)
            };
            return Some(());
        }
        s.skip()
    })
}

fn fast_details<'a>(s: &mut Scan<'a>, d: &mut Details<'a>) -> Option<()> {
    let mut seen = Seen::default();
    s.object(|s, key| {
        match key {
            "cached_tokens" => s.scalar_once(&mut seen, 0, &mut d.cached_tokens)?,
            "reasoning_tokens" => s.scalar_once(&mut seen, 1, &mut d.reasoning_tokens)?,
            _ => s.skip()?,
        }
        Some(())
    })
}

#[cfg(test)]
mod fast_body_tests {
    use super::fast_body;

    /// Response bodies as OpenAI (Chat, Completions, Responses), Azure, DeepSeek, Groq,
    /// vLLM and Ollama's OpenAI API send them, and error bodies.
    pub(super) const BODIES: &[&str] = &[
        r#"{"id":"chatcmpl-0001","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Spans drift like leaves, traces weave through quiet logs, metrics hum at dusk.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":19,"total_tokens":33,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_0001"}"#,
        r#"{"id":"chatcmpl-2","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62,"prompt_tokens_details":null}}"#,
        r#"{"id":"chatcmpl-3","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":[{"type":"text","text":"a"}]},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
        r#"{"id":"c4","object":"chat.completion","created":1700000000,"model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"42","reasoning_content":"Let me think\n\"hard\" \u00e9"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"prompt_cache_hit_tokens":4,"prompt_cache_miss_tokens":6,"completion_tokens_details":{"reasoning_tokens":15}},"system_fingerprint":"fp_d"}"#,
        r#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"finish_reason":"stop","index":0,"logprobs":null,"message":{"annotations":[],"content":"Hi","refusal":null,"role":"assistant"}}],"created":1700000000,"id":"chatcmpl-5","model":"gpt-4o-2024-11-20","object":"chat.completion","prompt_filter_results":[{"prompt_filter_results":{"jailbreak":{"filtered":false,"detected":false}},"prompt_index":0}],"system_fingerprint":"fp_a","usage":{"completion_tokens":1,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":8,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":9}}"#,
        r#"{"id":"chatcmpl-6","object":"chat.completion","created":1700000000,"model":"llama-3.1-8b-instant","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"logprobs":null,"finish_reason":"stop"}],"usage":{"queue_time":0.02,"prompt_tokens":9,"prompt_time":0.0012,"completion_tokens":2,"completion_time":0.0016,"total_tokens":11,"total_time":0.0028},"system_fingerprint":"fp_g","x_groq":{"id":"req_1"}}"#,
        r#"{"id":"cmpl-7","object":"text_completion","created":1700000000,"model":"gpt-3.5-turbo-instruct","choices":[{"text":"\n\nHello","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
        r#"{"id":"resp_8","object":"response","created_at":1700000000,"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"gpt-4o-mini","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":1},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":7},"service_tier":"flex"}"#,
        r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
        r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,3e-3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}"#,
        r#"{"id":"chatcmpl-9","model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"Hel"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1.0,"completion_tokens":-0,"total_tokens":18446744073709551616},"data":null,"incomplete_details":null,"usage_extra":[1,2,{"a":null}]}"#,
        " {\n  \"id\": \"c10\",\n  \"model\": \"m\",\n  \"choices\": [ {\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"sp\"}, \"finish_reason\": \"stop\"} ],\n  \"usage\": {\"prompt_tokens\": 1, \"prompt_tokens_details\": 7}\n}\n",
    ];

    /// Whenever the pull reader reads a text, serde reads the same.
    fn agrees(text: &str) -> bool {
        crate::providers::scan::agrees(text, fast_body(text))
    }

    #[test]
    fn fast_body_reads_as_serde_does() {
        let read: Vec<bool> = BODIES.iter().map(|b| agrees(b)).collect();
        // Left to serde: embeddings (`data`).
        let mut expected = vec![true; BODIES.len()];
        expected[9] = false;
        assert_eq!(read, expected);
    }

    #[test]
    fn fast_body_agrees_with_serde_on_broken_and_odd_text() {
        // Not vacuous: many variants (whitespace, renamed and added keys) took the fast path.
        let read = crate::providers::scan::variants_read(&BODIES[..4], agrees);
        assert!(read > 1_000, "{read}");
    }
}

#[cfg(test)]
mod message_form_tests {
    use super::parse_response;
    use crate::json::{Style, messages};
    use crate::model::Api;
    use crate::providers::MessageForm;

    /// Chat responses whose messages are plain text, and the edges of "plain".
    const PLAIN: &[&str] = &[
        r#"{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Disk \"full\"\n\u00e9 \ud83d\ude00"},"finish_reason":"stop"},{"index":1,"message":{"content":""},"finish_reason":"tool_calls"},{"index":2,"message":{"role":"assistant","content":null}},{"index":3},{"index":4,"message":"x"},7]}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":"a","refusal":null,"reasoning":""},"finish_reason":"length"}],"usage":{"prompt_tokens":1}}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":"a","refusal":"no"},"finish_reason":"stop"}]}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"blocks"}]}}]}"#,
        r#"{"choices":[{"finish_reason":"stop"}]}"#,
        r#"{"choices":[]}"#,
    ];

    /// Whether the JSON form was taken for `text`, asserting that it gives the span what the
    /// parts form gives: the same response, and `gen_ai.output.messages` as `json::messages`
    /// writes the parts form's messages.
    fn forms_agree(text: &str) -> bool {
        let read = |form| parse_response(Api::OpenAiChat, text.as_bytes(), form);
        match (read(MessageForm::Parts), read(MessageForm::Json)) {
            (None, None) => false,
            (Some(mut parts), Some(mut json)) => {
                let written = json.output_messages_json.take();
                if let Some(written) = &written {
                    assert!(json.output_messages.is_empty(), "{text:?}");
                    let expected = messages(&parts.output_messages, Style::OpenAiChat, true);
                    assert_eq!(*written, expected, "{text:?}");
                    parts.output_messages.clear();
                }
                assert_eq!(parts, json, "{text:?}");
                written.is_some()
            }
            (p, j) => panic!("one form read {text:?}, not the other: {p:?} / {j:?}"),
        }
    }

    #[test]
    fn json_form_writes_what_the_parts_form_writes() {
        let taken: Vec<bool> = PLAIN.iter().map(|b| forms_agree(b)).collect();
        assert_eq!(taken, [true, true, false, false, false, false]);
        let bodies = super::fast_body_tests::BODIES
            .iter()
            .filter(|b| forms_agree(b))
            .count();
        assert!(bodies >= 2, "{bodies}");
    }

    #[test]
    fn json_form_agrees_on_broken_and_odd_text() {
        let mut texts = PLAIN.to_vec();
        texts.extend_from_slice(&super::fast_body_tests::BODIES[..3]);
        // Not vacuous: many variants took the JSON form.
        let taken = crate::providers::scan::variants_read(&texts, forms_agree);
        assert!(taken > 2_000, "{taken}");
    }
}

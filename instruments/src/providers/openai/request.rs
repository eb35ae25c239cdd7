//! OpenAI-compatible request bodies: Chat Completions `messages`, legacy Completions
//! `prompt`, Embeddings `input`, Responses `instructions` + `input`, and the sampling,
//! tool and output-format fields.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::message::{
    ChatMessage, chat_message_parts, content_parts, fast_message, plain_text, raw_content_parts,
    reasoning_text,
};
use crate::json::{MessagesJson, Style};
use crate::model::{Api, LlmRequest, Message};
use crate::providers::MessageForm;
use crate::providers::parts::{
    message, output_format, parse_arguments, reasoning_part, text_part, tool_call_part,
    tool_definition, tool_response_content, tool_response_part,
};
use crate::providers::scan::{Scan, Seen};
use crate::providers::wire::{Lenient, Scalar, Seq, StrList, raw_str, value};

/// The request fields the conventions read, for every OpenAI-compatible API.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    stream: Scalar<'a>,
    #[serde(borrow)]
    stream_options: Lenient<StreamOptions<'a>>,
    #[serde(borrow)]
    max_output_tokens: Scalar<'a>,
    #[serde(borrow)]
    max_completion_tokens: Scalar<'a>,
    #[serde(borrow)]
    max_tokens: Scalar<'a>,
    #[serde(borrow)]
    temperature: Scalar<'a>,
    #[serde(borrow)]
    top_p: Scalar<'a>,
    #[serde(borrow)]
    top_k: Scalar<'a>,
    #[serde(borrow)]
    frequency_penalty: Scalar<'a>,
    #[serde(borrow)]
    presence_penalty: Scalar<'a>,
    #[serde(borrow)]
    seed: Scalar<'a>,
    #[serde(borrow)]
    n: Scalar<'a>,
    stop: StrList,
    encoding_format: StrList,
    #[serde(borrow)]
    user: Scalar<'a>,
    #[serde(borrow)]
    reasoning_effort: Scalar<'a>,
    #[serde(borrow)]
    service_tier: Scalar<'a>,
    #[serde(borrow)]
    reasoning: Lenient<Effort<'a>>,
    #[serde(borrow)]
    text: Lenient<TextConfig<'a>>,
    #[serde(borrow)]
    response_format: Option<&'a RawValue>,
    #[serde(borrow)]
    messages: Seq<Lenient<ChatMessage<'a>>>,
    #[serde(borrow)]
    prompt: Option<&'a RawValue>,
    #[serde(borrow)]
    input: Option<&'a RawValue>,
    #[serde(borrow)]
    instructions: Scalar<'a>,
    #[serde(borrow)]
    tools: Option<&'a RawValue>,
    #[serde(borrow)]
    functions: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StreamOptions<'a> {
    #[serde(borrow)]
    include_usage: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Effort<'a> {
    #[serde(borrow)]
    effort: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TextConfig<'a> {
    #[serde(borrow)]
    format: Option<&'a RawValue>,
}

/// One Chat Completions request message.
fn chat_message(m: Option<&ChatMessage<'_>>) -> Message {
    let Some(m) = m else {
        return message("user", Vec::new());
    };
    let role = m.role.as_str().unwrap_or("user");
    match role {
        "tool" => message(
            "tool",
            vec![tool_response_part(
                m.tool_call_id.as_str(),
                tool_response_content(m.content.value().as_ref()),
            )],
        ),
        // Legacy function results: named by the function, without a call id.
        "function" => message(
            "tool",
            vec![tool_response_part(
                None,
                tool_response_content(m.content.value().as_ref()),
            )],
        ),
        _ => {
            let parts = chat_message_parts(m, raw_content_parts(&m.content));
            message(role, parts)
        }
    }
}

/// The JSON text of `gen_ai.input.messages` for Chat Completions `messages` that are all
/// plain text: what `json::messages` writes for their [`chat_message`]s, without building
/// them; `None` when a message needs its parts (or there is none).
fn plain_messages_json(messages: &[Lenient<ChatMessage<'_>>]) -> Option<String> {
    if messages.is_empty() {
        return None;
    }
    let mut out = MessagesJson::with_capacity(messages.len());
    for m in messages {
        let (role, text) = match m.get() {
            None => ("user", None),
            Some(m) => {
                let role = m.role.as_str().unwrap_or("user");
                if matches!(role, "tool" | "function") {
                    return None;
                }
                (role, plain_text(m)?)
            }
        };
        out.text_message(role, text, None, false, Style::OpenAiChat);
    }
    Some(out.finish())
}

/// `prompt` / `input` as user text messages: a string or an array of strings; token arrays
/// are left out (there is no text to record).
fn text_inputs(v: Option<&RawValue>) -> Vec<Message> {
    let one = |s: &str| message("user", vec![text_part(s)]);
    let Some(raw) = v else {
        return Vec::new();
    };
    if let Some(s) = raw_str(raw) {
        return vec![one(&s)];
    }
    if raw.get().starts_with('[') {
        let items: Seq<Scalar<'_>> = serde_json::from_str(raw.get()).unwrap_or_default();
        return items.0.iter().filter_map(Scalar::as_str).map(one).collect();
    }
    Vec::new()
}

fn is_assistant_side(item_type: &str, role: Option<&str>) -> bool {
    match item_type {
        "function_call" | "custom_tool_call" | "reasoning" => true,
        "message" => role == Some("assistant"),
        _ => false,
    }
}

/// Responses API `instructions` + `input`. Consecutive assistant-side items (assistant
/// messages, reasoning, function calls) form one assistant message, as one Chat turn would.
fn responses_input(instructions: Option<&str>, input: Option<&RawValue>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    if let Some(i) = instructions {
        out.push(message("system", vec![text_part(i)]));
    }
    if let Some(s) = input.and_then(raw_str) {
        out.push(message("user", vec![text_part(&s)]));
        return out;
    }
    let items = match value(input) {
        Some(Value::Array(items)) => items,
        _ => return out,
    };
    let mut merging = false;
    for item in &items {
        let role = item.get("role").and_then(Value::as_str);
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(if role.is_some() { "message" } else { "" });
        let parts = match kind {
            "message" => content_parts(item.get("content")),
            "function_call" => vec![tool_call_part(
                item.get("call_id").and_then(Value::as_str),
                item.get("name").and_then(Value::as_str),
                parse_arguments(item.get("arguments")),
            )],
            "custom_tool_call" => vec![tool_call_part(
                item.get("call_id").and_then(Value::as_str),
                item.get("name").and_then(Value::as_str),
                item.get("input").cloned().unwrap_or(Value::Null),
            )],
            "reasoning" => reasoning_text(item)
                .map(|t| vec![reasoning_part(&t)])
                .unwrap_or_default(),
            "function_call_output" | "custom_tool_call_output" => {
                merging = false;
                out.push(message(
                    "tool",
                    vec![tool_response_part(
                        item.get("call_id").and_then(Value::as_str),
                        tool_response_content(item.get("output")),
                    )],
                ));
                continue;
            }
            _ => continue,
        };
        if is_assistant_side(kind, role) {
            match out.last_mut() {
                Some(last) if merging => last.parts.extend(parts),
                _ => out.push(message("assistant", parts)),
            }
            merging = true;
        } else {
            merging = false;
            out.push(message(role.unwrap_or("user"), parts));
        }
    }
    out
}

fn tool_definitions(tools: Option<&RawValue>, functions: Option<&RawValue>) -> Vec<Value> {
    let mut defs = Vec::new();
    let tools = value(tools);
    for t in tools
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = t.get("type").and_then(Value::as_str).unwrap_or("function");
        if let Some(f) = t.get(kind).filter(|f| f.is_object()) {
            // Chat: {"type": "function", "function": {...}} (also "custom").
            defs.push(tool_definition(kind, f, "parameters"));
        } else if kind == "function" || kind == "custom" {
            // Responses: flat {"type": "function", "name", "description", "parameters"}.
            defs.push(tool_definition(kind, t, "parameters"));
        } else {
            // Built-in tools (`web_search`, `file_search`, …) as they are.
            defs.push(t.clone());
        }
    }
    let functions = value(functions);
    for f in functions
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        defs.push(tool_definition("function", f, "parameters"));
    }
    defs
}

/// Reads an OpenAI-compatible request body for `api`: `None` when it is not a JSON
/// object; the flag says whether it has a `model` key.
pub(crate) fn parse_request(
    api: Api,
    body: &[u8],
    form: MessageForm,
) -> Option<(LlmRequest, bool)> {
    let fast = std::str::from_utf8(body).ok().and_then(fast_body);
    let body: Lenient<Body<'_>> = match fast {
        Some(b) => Lenient(Some(b)),
        None => crate::providers::wire::read_body(body).ok()?,
    };
    let body = body.0?;
    let names_model = !matches!(body.model, Scalar::Absent);
    let max_tokens = match api {
        Api::OpenAiResponses => body.max_output_tokens.int(),
        _ => body.max_completion_tokens.int().or(body.max_tokens.int()),
    };
    let format = match api {
        Api::OpenAiResponses => body.text.get().and_then(|t| t.format),
        _ => body.response_format,
    };
    let (output_type, structured_output_schema) = output_format(value(format).as_ref());
    let input_messages_json = match (form, api) {
        (MessageForm::Json, Api::OpenAiChat) => plain_messages_json(&body.messages.0),
        _ => None,
    };
    let input_messages = match api {
        Api::OpenAiChat if input_messages_json.is_some() => Vec::new(),
        Api::OpenAiChat => body
            .messages
            .0
            .iter()
            .map(|m| chat_message(m.get()))
            .collect(),
        Api::OpenAiCompletion => text_inputs(body.prompt),
        Api::OpenAiEmbeddings => text_inputs(body.input),
        Api::OpenAiResponses => responses_input(body.instructions.non_empty(), body.input),
        _ => Vec::new(),
    };
    let req = LlmRequest {
        stream: body.stream.bool().unwrap_or(false),
        stream_explicit: body.stream.is_set(),
        include_usage: body
            .stream_options
            .get()
            .and_then(|o| o.include_usage.bool())
            .unwrap_or(false),
        max_tokens,
        temperature: body.temperature.float(),
        top_p: body.top_p.float(),
        top_k: body.top_k.float(),
        frequency_penalty: body.frequency_penalty.float(),
        presence_penalty: body.presence_penalty.float(),
        seed: body.seed.int(),
        stop_sequences: body.stop.0,
        choice_count: body.n.int().filter(|&n| n != 1),
        encoding_formats: body.encoding_format.0,
        user: body.user.into_non_empty(),
        reasoning_effort: body
            .reasoning_effort
            .into_non_empty()
            .or_else(|| body.reasoning.0.and_then(|r| r.effort.into_non_empty())),
        service_tier: body.service_tier.into_non_empty(),
        structured_output_schema,
        output_type,
        tool_definitions: tool_definitions(body.tools, body.functions),
        input_messages,
        input_messages_json,
        model: body.model.into_non_empty(),
        ..LlmRequest::default()
    };
    Some((req, names_model))
}

/// A request body read by the pull reader ([`Scan`]): the fields of [`Body`] exactly as serde
/// reads them, or `None` (serde reads it) for anything the reader leaves to serde. Equal to
/// the serde path's `Body` whenever it is `Some` (tested: `fast_body_reads_as_serde_does`).
fn fast_body(text: &str) -> Option<Body<'_>> {
    let mut s = Scan::new(text);
    let mut b = Body::default();
    let mut seen = Seen::default();
    s.object(|s, key| {
        let scalar = match key {
            "model" => Some((0, &mut b.model)),
            "stream" => Some((1, &mut b.stream)),
            "max_output_tokens" => Some((2, &mut b.max_output_tokens)),
            "max_completion_tokens" => Some((3, &mut b.max_completion_tokens)),
            "max_tokens" => Some((4, &mut b.max_tokens)),
            "temperature" => Some((5, &mut b.temperature)),
            "top_p" => Some((6, &mut b.top_p)),
            "top_k" => Some((7, &mut b.top_k)),
            "frequency_penalty" => Some((8, &mut b.frequency_penalty)),
            "presence_penalty" => Some((9, &mut b.presence_penalty)),
            "seed" => Some((10, &mut b.seed)),
            "n" => Some((11, &mut b.n)),
            "user" => Some((12, &mut b.user)),
            "reasoning_effort" => Some((13, &mut b.reasoning_effort)),
            "service_tier" => Some((14, &mut b.service_tier)),
            "instructions" => Some((15, &mut b.instructions)),
            _ => None,
        };
        if let Some((bit, field)) = scalar {
            return s.scalar_once(&mut seen, bit, field);
        }
        let raw = match key {
            "response_format" => Some((16, &mut b.response_format)),
            "prompt" => Some((17, &mut b.prompt)),
            "input" => Some((18, &mut b.input)),
            "tools" => Some((19, &mut b.tools)),
            "functions" => Some((20, &mut b.functions)),
            _ => None,
        };
        if let Some((bit, field)) = raw {
            return s.raw_once(&mut seen, bit, field);
        }
        match key {
            "stream_options" => {
                seen.first(21)?;
                b.stream_options = s.lenient(|s, o: &mut StreamOptions<'_>| {
                    one_scalar(s, "include_usage", &mut o.include_usage)
                })?;
            }
            "reasoning" => {
                seen.first(22)?;
                b.reasoning =
                    s.lenient(|s, e: &mut Effort<'_>| one_scalar(s, "effort", &mut e.effort))?;
            }
            "text" => {
                seen.first(23)?;
                b.text = s.lenient(|s, t: &mut TextConfig<'_>| {
                    let mut seen = Seen::default();
                    s.object(|s, key| {
                        if key == "format" {
                            seen.first(0)?;
                            t.format = s.raw()?;
                            Some(())
                        } else {
                            s.skip()
                        }
                    })
                })?;
            }
            "stop" => {
                seen.first(24)?;
                b.stop = str_list(s)?;
            }
            "encoding_format" => {
                seen.first(25)?;
                b.encoding_format = str_list(s)?;
            }
            "messages" => {
                seen.first(26)?;
                b.messages = s.seq(|s| s.lenient(fast_message))?;
            }
            _ => s.skip()?,
        }
        Some(())
    })?;
    s.end()?;
    Some(b)
}

/// An object with one field the wire struct names (`key`, a [`Scalar`]).
fn one_scalar<'a>(s: &mut Scan<'a>, key: &str, slot: &mut Scalar<'a>) -> Option<()> {
    let mut seen = Seen::default();
    s.object(|s, k| {
        if k == key {
            seen.first(0)?;
            *slot = s.scalar()?;
            Some(())
        } else {
            s.skip()
        }
    })
}

/// What serde reads as [`StrList`]: a non-empty string as one element, the strings of an
/// array, nothing for any other value.
fn str_list(s: &mut Scan<'_>) -> Option<StrList> {
    match s.peek()? {
        b'"' => Some(StrList(
            s.scalar()?
                .into_string()
                .filter(|v| !v.is_empty())
                .into_iter()
                .collect(),
        )),
        b'[' => {
            let mut out = Vec::new();
            s.array(|s| {
                out.extend(s.scalar()?.into_string());
                Some(())
            })?;
            Some(StrList(out))
        }
        _ => s.skip().map(|()| StrList(Vec::new())),
    }
}

#[cfg(test)]
mod fast_body_tests {
    use super::fast_body;

    /// Requests as the OpenAI SDKs, async-openai, rig and LangChain send them: chat with
    /// tools and sampling, streams, multimodal content, Responses, Completions, Embeddings.
    pub(super) const BODIES: &[&str] = &[
        r#"{"model":"gpt-4o-mini","stream":false,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"a haiku about OpenTelemetry"}]}"#,
        r#"{"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Why did db-1 go down?\n\"disk\" \u00e9"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_logs","arguments":"{\"host\":\"db-1\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"disk full"}],"model":"gpt-4o","temperature":0.2,"top_p":1,"max_tokens":64,"seed":42,"n":1,"stop":["\n\n","END"],"tools":[{"type":"function","function":{"name":"get_logs","parameters":{"type":"object","properties":{"host":{"type":"string"}}}}}],"tool_choice":"auto","user":"u-42","stream":true,"stream_options":{"include_usage":true},"frequency_penalty":-0.5,"presence_penalty":0.0,"parallel_tool_calls":false}"#,
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}},"max_completion_tokens":100,"reasoning_effort":"low","service_tier":"flex","stop":"STOP"}"#,
        r#"{"model":"gpt-4.1","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"max_output_tokens":50,"reasoning":{"effort":"medium","summary":"auto"},"text":{"format":{"type":"text"}},"stream":true}"#,
        r#"{"model":"gpt-3.5-turbo-instruct","prompt":["Say hi","Say bye"],"max_tokens":7,"temperature":1e-1,"stop":null,"logprobs":null}"#,
        r#"{"model":"text-embedding-3-small","input":"db-1 disk full","encoding_format":"base64","dimensions":256}"#,
        r#"{"model":"deepseek-chat","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y","reasoning_content":"z"}],"top_k":40,"stream":"yes","stream_options":null,"stop":[1,"a",""],"encoding_format":{},"functions":[{"name":"f"}]}"#,
        " {\n \"model\" : \"m\" ,\n \"messages\" : [ {\"role\":\"user\",\"content\":\"sp\"} ] , \"text\": 3, \"reasoning\": [] }\n",
    ];

    /// Whenever the pull reader reads a text, serde reads the same.
    fn agrees(text: &str) -> bool {
        crate::providers::scan::agrees(text, fast_body(text))
    }

    #[test]
    fn fast_body_reads_as_serde_does() {
        let read: Vec<bool> = BODIES.iter().map(|b| agrees(b)).collect();
        assert_eq!(read, vec![true; BODIES.len()]);
    }

    #[test]
    fn fast_body_agrees_with_serde_on_broken_and_odd_text() {
        // Not vacuous: many variants (whitespace, renamed and added keys) took the fast path.
        let read = crate::providers::scan::variants_read(&BODIES[..3], agrees);
        assert!(read > 1_000, "{read}");
    }
}

#[cfg(test)]
mod message_form_tests {
    use super::parse_request;
    use crate::json::{Style, messages};
    use crate::model::Api;
    use crate::providers::MessageForm;

    /// Chat requests whose messages are plain text, and the edges of "plain".
    const PLAIN: &[&str] = &[
        r#"{"model":"m","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Why \"db-1\"?\n\u00e9 \ud83d\ude00 \u0007"},{"role":"assistant","content":"Disk."},{"role":"user","content":""}]}"#,
        r#"{"model":"m","messages":[{"content":"no role"},{"role":7,"content":"odd role"},{"role":"user","content":null},{"role":"user"},3,null,{"role":"developer","content":"d","name":"x"}]}"#,
        r#"{"model":"m","messages":[{"role":"assistant","content":"a","refusal":"","reasoning_content":null,"tool_calls":null,"function_call":null}]}"#,
        r#"{"model":"m","messages":[{"role":"tool","tool_call_id":"c","content":"not plain"}]}"#,
        r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"blocks"}]}]}"#,
        r#"{"model":"m","messages":[{"role":"assistant","content":"x","tool_calls":[]}]}"#,
        r#"{"model":"m","messages":[]}"#,
    ];

    /// Whether the JSON form was taken for `text`, asserting that it gives the span what the
    /// parts form gives: the same request, and `gen_ai.input.messages` as `json::messages`
    /// writes the parts form's messages.
    fn forms_agree(text: &str) -> bool {
        let read = |form| parse_request(Api::OpenAiChat, text.as_bytes(), form);
        match (read(MessageForm::Parts), read(MessageForm::Json)) {
            (None, None) => false,
            (Some((mut parts, named)), Some((mut json, json_named))) => {
                assert_eq!(named, json_named, "{text:?}");
                let written = json.input_messages_json.take();
                if let Some(written) = &written {
                    assert!(json.input_messages.is_empty(), "{text:?}");
                    let expected = messages(&parts.input_messages, Style::OpenAiChat, false);
                    assert_eq!(*written, expected, "{text:?}");
                    parts.input_messages.clear();
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
        assert_eq!(taken, [true, true, true, false, false, false, false]);
        let bodies: Vec<bool> = super::fast_body_tests::BODIES
            .iter()
            .map(|b| forms_agree(b))
            .collect();
        // Plain text chat: the first body and the spaced one; the others carry tool calls,
        // blocks, reasoning, or are not chat bodies.
        assert_eq!(
            bodies,
            [true, false, false, false, false, false, false, true]
        );
    }

    #[test]
    fn json_form_agrees_on_broken_and_odd_text() {
        let mut texts = PLAIN.to_vec();
        texts.push(super::fast_body_tests::BODIES[1]);
        // Not vacuous: many variants took the JSON form.
        let taken = crate::providers::scan::variants_read(&texts, forms_agree);
        assert!(taken > 2_000, "{taken}");
    }
}

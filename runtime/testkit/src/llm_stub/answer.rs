//! What the stub says, whatever the wire format: text or tool calls and their token usage,
//! chosen from a protocol-neutral [`Conversation`] by the [`Answers`] persona; and how an
//! answer's text is cut into stream deltas. Also the deterministic embedding vectors.

use serde_json::{Map, Value, json};

use super::request::{Ctx, Fault, Route, words};
use super::spec::{Answers, CACHE_CREATION_TOKENS, REASONING_TOKENS, REPLY, SLOW_CHUNKS};
use super::spec::{EMBEDDING_DIMS, TOOL_CALL_TOKENS};

/// What a protocol reader found in a request.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    /// What the last message asks for.
    pub(super) turn: Turn,
    /// The function tools offered, in request order: name and JSON schema.
    pub(super) tools: Vec<(String, Option<Value>)>,
    /// The text of the last user message.
    pub(super) prompt: String,
    /// The request forbids tool calls (`tool_choice: "none"`).
    pub(super) no_tools: bool,
    /// The request allows one tool call at most (`parallel_tool_calls: false`).
    pub(super) one_tool: bool,
    /// Chat APIs: every message's words plus 4 ([`Answers::Demo`]'s input count).
    pub(super) message_tokens: Option<u64>,
}

/// What the last message asks for.
#[derive(Debug, Default)]
pub(super) enum Turn {
    /// A user message: call a tool when there are tools.
    User,
    /// The tool results of the last round, in order.
    ToolResults(Vec<ToolResult>),
    /// Anything else.
    #[default]
    Other,
}

/// One tool result sent back to the model.
#[derive(Debug)]
pub(super) struct ToolResult {
    /// The tool it came from, when the request says (through the call it answers).
    pub(super) tool: Option<String>,
    /// Its text.
    pub(super) content: String,
}

/// The content of an answer.
pub(super) enum Answer {
    Text(String),
    Tools {
        /// Text said before the calls (Anthropic only, else empty).
        preamble: String,
        calls: Vec<ToolCall>,
    },
}

/// One tool call of an answer.
pub(super) struct ToolCall {
    pub(super) name: String,
    pub(super) arguments: Value,
}

impl ToolCall {
    /// The arguments as the JSON string OpenAI sends.
    pub(super) fn arguments_string(&self) -> String {
        self.arguments.to_string()
    }
}

impl Answer {
    /// The answer's text (a tool answer's preamble).
    pub(super) fn text(&self) -> &str {
        match self {
            Answer::Text(t) => t,
            Answer::Tools { preamble, .. } => preamble,
        }
    }

    /// The tool calls (none for a text answer).
    pub(super) fn calls(&self) -> &[ToolCall] {
        match self {
            Answer::Text(_) => &[],
            Answer::Tools { calls, .. } => calls,
        }
    }
}

/// Token usage of one answer; each protocol reports the fields it has.
#[derive(Debug, Clone, Copy)]
pub(super) struct Usage {
    pub(super) input: u64,
    /// Output tokens of the answer itself (reasoning not included).
    pub(super) output: u64,
    pub(super) reasoning: u64,
    /// Input tokens read from the prompt cache.
    pub(super) cached: u64,
    pub(super) cache_creation: u64,
}

/// The answer to a request and its usage.
pub(super) fn answer(ctx: &Ctx, conversation: &Conversation) -> (Answer, Usage) {
    let answer = if ctx.stream && ctx.fault == Fault::SlowStream {
        let words: Vec<String> = (0..SLOW_CHUNKS).map(|i| format!("chunk{i}")).collect();
        Answer::Text(words.join(" "))
    } else {
        match ctx.answers {
            Answers::Canned => canned(ctx, conversation),
            Answers::Demo => demo(ctx, conversation),
        }
    };
    let usage = usage(ctx, conversation, &answer);
    (answer, usage)
}

fn canned(ctx: &Ctx, conversation: &Conversation) -> Answer {
    match (&conversation.turn, conversation.tools.first()) {
        (Turn::ToolResults(results), _) => {
            // An Anthropic user message carries all its results; the chat APIs' last
            // message is one result.
            let result = if ctx.route == Route::Messages {
                let all: Vec<&str> = results.iter().map(|r| r.content.as_str()).collect();
                all.join(" ")
            } else {
                results
                    .last()
                    .map(|r| r.content.clone())
                    .unwrap_or_default()
            };
            Answer::Text(format!("The tool returned: {result}"))
        }
        (Turn::User, Some((name, schema))) => Answer::Tools {
            preamble: if ctx.route == Route::Messages {
                format!("Let me use {name}.")
            } else {
                String::new()
            },
            calls: vec![ToolCall {
                arguments: arguments(name, schema.as_ref(), |prop| {
                    json!(format!("{name}-{prop}"))
                }),
                name: name.clone(),
            }],
        },
        _ => Answer::Text(REPLY.to_owned()),
    }
}

fn demo(ctx: &Ctx, conversation: &Conversation) -> Answer {
    let prompt = &conversation.prompt;
    match &conversation.turn {
        Turn::User if !conversation.tools.is_empty() && !conversation.no_tools => {
            let take = if conversation.one_tool { 1 } else { usize::MAX };
            let calls: Vec<ToolCall> = conversation
                .tools
                .iter()
                .take(take)
                .map(|(name, schema)| ToolCall {
                    name: name.clone(),
                    arguments: arguments_from_prompt(schema.as_ref(), prompt),
                })
                .collect();
            let preamble = if ctx.route == Route::Messages {
                let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
                format!("Let me use {}.", names.join(" and "))
            } else {
                String::new()
            };
            Answer::Tools { preamble, calls }
        }
        Turn::ToolResults(results) => {
            let mut text = String::from("From the tool results:");
            for r in results {
                let tool = r.tool.as_deref().unwrap_or("tool");
                text.push_str(&format!("\n- {tool}: {}", r.content));
            }
            Answer::Text(text)
        }
        _ => Answer::Text(haiku(prompt)),
    }
}

/// A haiku about the last word of `prompt`.
fn haiku(prompt: &str) -> String {
    let topic: String = prompt
        .split_whitespace()
        .last()
        .unwrap_or("traces")
        .chars()
        .take(24)
        .collect();
    format!("Spans drift like leaves,\n{topic} hums in the collector,\nroot span finally ends.")
}

fn usage(ctx: &Ctx, conversation: &Conversation, answer: &Answer) -> Usage {
    match ctx.answers {
        Answers::Canned => {
            let output = match answer {
                Answer::Text(t) => words(t).max(1),
                Answer::Tools { preamble, calls } => {
                    words(preamble) + TOOL_CALL_TOKENS * calls.len() as u64
                }
            };
            let gemini = matches!(ctx.route, Route::GeminiGenerate | Route::GeminiStream);
            let bedrock = matches!(ctx.route, Route::Converse | Route::ConverseStream);
            let reasoning = gemini || matches!(ctx.route, Route::Chat | Route::Responses);
            let cached = reasoning || bedrock || ctx.route == Route::Messages;
            Usage {
                input: ctx.input_tokens,
                output,
                reasoning: if reasoning { REASONING_TOKENS } else { 0 },
                cached: if cached { ctx.input_tokens / 2 } else { 0 },
                cache_creation: if bedrock || ctx.route == Route::Messages {
                    CACHE_CREATION_TOKENS
                } else {
                    0
                },
            }
        }
        Answers::Demo => {
            let output = match answer {
                Answer::Text(t) => words(t),
                Answer::Tools { preamble, calls } => {
                    words(preamble)
                        + calls
                            .iter()
                            .map(|c| words(&c.name) + words(&c.arguments_string()) + 8)
                            .sum::<u64>()
                }
            };
            Usage {
                input: conversation.message_tokens.unwrap_or(ctx.input_tokens),
                output,
                reasoning: 0,
                cached: 0,
                cache_creation: 0,
            }
        }
    }
}

/// Arguments that fill every property of `schema`: an enum its first value, other types a
/// fixed value, strings `string(property)`; `{"tool": "<tool>"}` when there is none.
fn arguments(tool: &str, schema: Option<&Value>, string: impl Fn(&str) -> Value) -> Value {
    let mut out = fill(schema, json!(1.5), string);
    if out.is_empty() {
        out.insert("tool".to_owned(), json!(tool));
    }
    Value::Object(out)
}

/// [`Answers::Demo`]'s arguments: strings from the prompt, numbers `1`, `{}` without
/// properties.
fn arguments_from_prompt(schema: Option<&Value>, prompt: &str) -> Value {
    Value::Object(fill(schema, json!(1), |prop| {
        json!(word_after(prompt, prop).unwrap_or_else(|| prop.to_owned()))
    }))
}

fn fill(
    schema: Option<&Value>,
    number: Value,
    string: impl Fn(&str) -> Value,
) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    {
        for (prop, spec) in props {
            let value = if let Some(first) = spec["enum"].as_array().and_then(|e| e.first()) {
                first.clone()
            } else {
                match spec["type"].as_str() {
                    Some("integer") => json!(1),
                    Some("number") => number.clone(),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => json!({}),
                    _ => string(prop),
                }
            };
            out.insert(prop.clone(), value);
        }
    }
    out
}

/// The word after `name` in `prompt` (case-insensitive, punctuation trimmed), if any.
fn word_after(prompt: &str, name: &str) -> Option<String> {
    let trim = |w: &str| {
        w.trim_matches(|c: char| {
            matches!(
                c,
                ',' | '.' | ';' | ':' | '!' | '?' | '"' | '\'' | '`' | '(' | ')'
            )
        })
        .to_owned()
    };
    let words: Vec<String> = prompt.split_whitespace().map(trim).collect();
    let at = words.iter().position(|w| w.eq_ignore_ascii_case(name))?;
    words.get(at + 1).filter(|w| !w.is_empty()).cloned()
}

/// `text` split into word deltas that concatenate to it.
pub(super) fn word_deltas(text: &str) -> Vec<String> {
    text.split(' ')
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_owned()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

/// `text` split into fragments of at most 8 characters (tool-call arguments).
pub(super) fn fragments(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(8).map(|c| c.iter().collect()).collect()
}

/// The inputs of an embeddings request: one per string or token array.
pub(super) fn embedding_inputs(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) if items.iter().all(Value::is_number) && !items.is_empty() => {
            vec![v.to_string()]
        }
        Value::Array(items) => items.iter().map(super::request::text_of).collect(),
        Value::Null => Vec::new(),
        other => vec![super::request::text_of(other)],
    }
}

/// A deterministic unit vector for `text`.
pub(super) fn embedding(text: &str) -> Vec<f32> {
    let mut v: Vec<f32> = (0..EMBEDDING_DIMS)
        .map(|dim| {
            // FNV-1a of the dimension and the text.
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in [dim as u8].iter().chain(text.as_bytes()) {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            ((h % 2001) as f32 / 1000.0) - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_deltas_concatenate() {
        assert_eq!(word_deltas(REPLY).concat(), REPLY);
        assert_eq!(word_deltas(REPLY).len(), 7);
    }

    #[test]
    fn demo_arguments_come_from_the_prompt() {
        let schema = json!({"properties": {
            "host": {"type": "string"},
            "pattern": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius"]},
            "n": {"type": "number"}
        }});
        let args = arguments_from_prompt(
            Some(&schema),
            "Checkout on host web-3 fails. Search for pattern OOMKilled, please",
        );
        assert_eq!(
            args,
            json!({"host": "web-3", "pattern": "OOMKilled", "unit": "celsius", "n": 1})
        );
        assert_eq!(arguments_from_prompt(Some(&schema), "")["host"], "host");
    }

    #[test]
    fn haiku_is_about_the_last_word() {
        assert_eq!(
            haiku("Write a haiku about streaming"),
            "Spans drift like leaves,\nstreaming hums in the collector,\nroot span finally ends."
        );
        assert!(haiku("").contains("\ntraces hums"));
    }
}

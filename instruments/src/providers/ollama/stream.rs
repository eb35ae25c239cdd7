//! Streamed Ollama responses: NDJSON lines folded into one [`LlmResponse`]. Each line is
//! read into a borrowing wire struct; text and thinking are appended (no allocation per
//! line beyond the text's growth); the final line (`"done": true`) gives the finish reason
//! and the token counts.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::message::tool_call_parts;
use super::response::{push_output, usage};
use crate::model::{Api, CaptureCap, LlmResponse, ProviderError, StreamProgress};
use crate::providers::caps::{Caps, MAX_TOOL_CALLS};
use crate::providers::parts::{DEFAULT_ERROR_TYPE, error_from_value, reasoning_part, text_part};
use crate::providers::wire::{Lenient, Scalar, value};

/// One line: the fields the accumulator folds in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Line<'a> {
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    #[serde(borrow)]
    message: Lenient<Delta<'a>>,
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    response: Scalar<'a>,
    #[serde(borrow)]
    thinking: Scalar<'a>,
    #[serde(borrow)]
    tool_calls: Option<&'a RawValue>,
    #[serde(borrow)]
    done: Scalar<'a>,
    #[serde(borrow)]
    done_reason: Scalar<'a>,
    #[serde(borrow)]
    prompt_eval_count: Scalar<'a>,
    #[serde(borrow)]
    eval_count: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Delta<'a> {
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    content: Scalar<'a>,
    #[serde(borrow)]
    thinking: Scalar<'a>,
    #[serde(borrow)]
    tool_calls: Option<&'a RawValue>,
}

/// What the final line (`"done": true`) said.
#[derive(Debug, Default)]
struct Final {
    done_reason: Option<String>,
    prompt_eval_count: Option<i64>,
    eval_count: Option<i64>,
}

/// Accumulates an Ollama NDJSON stream, line by line.
#[derive(Debug)]
pub(crate) struct StreamAccumulator {
    api: Api,
    model: Option<String>,
    role: Option<String>,
    content: String,
    thinking: String,
    tool_calls: Vec<Value>,
    last: Option<Final>,
    saw_token: bool,
    done: bool,
    caps: Caps,
}

fn set_non_empty(slot: &mut Option<String>, s: &Scalar<'_>) {
    if let Some(s) = s.non_empty()
        && slot.as_deref() != Some(s)
    {
        *slot = Some(s.to_owned());
    }
}

impl StreamAccumulator {
    /// A new accumulator for `api` (`OllamaChat`, `OllamaGenerate` or `OllamaEmbed`).
    pub(crate) fn new(api: Api) -> Self {
        Self {
            api,
            model: None,
            role: None,
            content: String::new(),
            thinking: String::new(),
            tool_calls: Vec::new(),
            last: None,
            saw_token: false,
            done: false,
            caps: Caps::default(),
        }
    }

    /// Feeds one NDJSON line. A `{"error": …}` line returns `Err`; a line that is not JSON
    /// is ignored.
    pub(crate) fn push(&mut self, line: &str) -> Result<StreamProgress, ProviderError> {
        let line = line.trim();
        let Ok(v) = serde_json::from_str::<Lenient<Line<'_>>>(line) else {
            return Ok(StreamProgress::default());
        };
        let chunk = v.0.is_some();
        let v = v.0.unwrap_or_default();
        if v.error.is_some() {
            let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            return Err(error_from_value(&v, DEFAULT_ERROR_TYPE).unwrap_or_else(|| {
                ProviderError {
                    error_type: DEFAULT_ERROR_TYPE.to_owned(),
                    message: v.to_string(),
                }
            }));
        }
        set_non_empty(&mut self.model, &v.model);
        let mut token = false;
        let empty = Delta::default();
        let chat = self.api == Api::OllamaChat;
        let msg = v.message.get().unwrap_or(&empty);
        let (role, text, thinking, calls) = if chat {
            (&msg.role, &msg.content, &msg.thinking, msg.tool_calls)
        } else {
            (&v.role, &v.response, &v.thinking, v.tool_calls)
        };
        set_non_empty(&mut self.role, role);
        if let Some(t) = text.non_empty() {
            self.caps.push_text(&mut self.content, t);
            token = true;
        }
        if let Some(t) = thinking.non_empty() {
            self.caps.push_text(&mut self.thinking, t);
            token = true;
        }
        if let Some(Value::Array(calls)) = value(calls) {
            token |= !calls.is_empty();
            for call in calls {
                if self
                    .caps
                    .room(self.tool_calls.len(), MAX_TOOL_CALLS, CaptureCap::ToolCalls)
                {
                    self.tool_calls.push(call);
                }
            }
        }
        if v.done.bool() == Some(true) {
            self.done = true;
            self.last = Some(Final {
                done_reason: v.done_reason.as_str().map(str::to_owned),
                prompt_eval_count: v.prompt_eval_count.int(),
                eval_count: v.eval_count.int(),
            });
        }
        let first_token = token && !self.saw_token;
        self.saw_token |= token;
        Ok(StreamProgress {
            first_token,
            done: self.done,
            chunk,
        })
    }

    /// What was accumulated so far.
    pub(crate) fn response(&self) -> LlmResponse {
        let last = self.last.as_ref();
        let mut r = LlmResponse {
            model: self.model.clone(),
            usage: usage(
                last.and_then(|l| l.prompt_eval_count),
                last.and_then(|l| l.eval_count),
            ),
            ..LlmResponse::default()
        };
        let done_reason = last.and_then(|l| l.done_reason.as_deref());
        match self.api {
            Api::OllamaChat => {
                let mut parts = Vec::new();
                if !self.thinking.is_empty() {
                    parts.push(reasoning_part(&self.thinking));
                }
                if !self.content.is_empty() {
                    parts.push(text_part(&self.content));
                }
                let calls = Value::Array(self.tool_calls.clone());
                let calls: Vec<Value> = tool_call_parts(Some(&calls)).collect();
                let has = !calls.is_empty();
                parts.extend(calls);
                push_output(
                    &mut r,
                    Some(self.role.as_deref().unwrap_or("assistant")),
                    parts,
                    done_reason,
                    has,
                );
            }
            Api::OllamaGenerate => {
                let mut parts = Vec::new();
                if !self.thinking.is_empty() {
                    parts.push(reasoning_part(&self.thinking));
                }
                parts.push(text_part(&self.content));
                push_output(&mut r, None, parts, done_reason, false);
            }
            _ => {}
        }
        r
    }

    /// The caps this stream hit.
    pub(crate) fn caps_hit(&self) -> &[CaptureCap] {
        self.caps.hits()
    }
}

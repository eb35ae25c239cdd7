//! Streamed Anthropic Messages responses: the SSE events folded into one [`LlmResponse`].
//! Each event is read into a borrowing wire struct; text, thinking and tool-input deltas are
//! appended to their block (no allocation per delta beyond the text's growth).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::content::content_parts;
use super::response::{WireUsage, response_of};
use crate::model::{CaptureCap, LlmResponse, ProviderError, StreamProgress, Usage};
use crate::providers::caps::{Caps, MAX_TOOL_CALLS};
use crate::providers::parts::{DEFAULT_ERROR_TYPE, error_from_value};
use crate::providers::wire::{Lenient, Scalar, value};

/// One event: the fields the accumulator folds in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Event<'a> {
    #[serde(borrow, rename = "type")]
    kind: Scalar<'a>,
    #[serde(borrow)]
    index: Scalar<'a>,
    #[serde(borrow)]
    message: Lenient<MessageStart<'a>>,
    #[serde(borrow)]
    content_block: Option<&'a RawValue>,
    #[serde(borrow)]
    delta: Lenient<Delta<'a>>,
    #[serde(borrow)]
    usage: Lenient<WireUsage<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MessageStart<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    model: Scalar<'a>,
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    usage: Lenient<WireUsage<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Delta<'a> {
    #[serde(borrow, rename = "type")]
    kind: Scalar<'a>,
    #[serde(borrow)]
    text: Scalar<'a>,
    #[serde(borrow)]
    partial_json: Scalar<'a>,
    #[serde(borrow)]
    thinking: Scalar<'a>,
    #[serde(borrow)]
    stop_reason: Scalar<'a>,
}

#[derive(Debug, Default)]
struct BlockAcc {
    /// The block from `content_block_start`.
    start: Value,
    text: String,
    partial_json: String,
    thinking: String,
}

impl BlockAcc {
    fn to_block(&self) -> Value {
        let mut block = self.start.clone();
        let Value::Object(o) = &mut block else {
            return block;
        };
        match o.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => {
                let mut text = o
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                text.push_str(&self.text);
                o.insert("text".into(), text.into());
            }
            "thinking" => {
                let mut t = o
                    .get("thinking")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                t.push_str(&self.thinking);
                o.insert("thinking".into(), t.into());
            }
            "tool_use" | "server_tool_use" if !self.partial_json.trim().is_empty() => {
                let input = serde_json::from_str(&self.partial_json)
                    .unwrap_or_else(|_| Value::String(self.partial_json.clone()));
                o.insert("input".into(), input);
            }
            _ => {}
        }
        block
    }
}

/// Accumulates a streamed Messages response, event by event.
#[derive(Debug, Default)]
pub(crate) struct StreamAccumulator {
    id: Option<String>,
    model: Option<String>,
    role: Option<String>,
    usage: Option<Usage>,
    blocks: BTreeMap<i64, BlockAcc>,
    stop_reason: Option<String>,
    saw_token: bool,
    done: bool,
    caps: Caps,
}

/// `slot = s` when `s` is a non-empty string.
fn set_non_empty(slot: &mut Option<String>, s: &Scalar<'_>) {
    if let Some(s) = s.non_empty()
        && slot.as_deref() != Some(s)
    {
        *slot = Some(s.to_owned());
    }
}

/// Cumulative counts: a field given (not `null`) replaces the one held.
fn merge(held: &mut Option<i64>, given: &Scalar<'_>) {
    if given.is_set() {
        *held = given.int();
    }
}

impl StreamAccumulator {
    /// Feeds one SSE event (`event` name, `data` text). The event type is read from the
    /// data's `type`, else from the SSE event name. An `error` event returns `Err`.
    pub(crate) fn push(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<StreamProgress, ProviderError> {
        let data = data.trim();
        let Ok(v) = serde_json::from_str::<Lenient<Event<'_>>>(data) else {
            if event == Some("error") && !data.is_empty() {
                return Err(ProviderError {
                    error_type: DEFAULT_ERROR_TYPE.to_owned(),
                    message: data.to_owned(),
                });
            }
            return Ok(StreamProgress::default());
        };
        let chunk = v.0.is_some();
        let v = v.0.unwrap_or_default();
        let kind = v.kind.as_str().or(event).unwrap_or("");
        let mut token = false;
        match kind {
            "message_start" => {
                if let Some(m) = v.message.get() {
                    set_non_empty(&mut self.id, &m.id);
                    set_non_empty(&mut self.model, &m.model);
                    set_non_empty(&mut self.role, &m.role);
                    if let Some(u) = m.usage.get() {
                        self.usage = Some(u.usage());
                    }
                }
            }
            "content_block_start" => {
                let index = v.index.int().unwrap_or(self.blocks.len() as i64);
                if self.blocks.contains_key(&index)
                    || self
                        .caps
                        .room(self.blocks.len(), MAX_TOOL_CALLS, CaptureCap::ToolCalls)
                {
                    let block = self.blocks.entry(index).or_default();
                    block.start = value(v.content_block).unwrap_or(Value::Null);
                }
            }
            "content_block_delta" => {
                let index = v.index.int().unwrap_or(0);
                let delta = v.delta.get();
                let field = |f: for<'d> fn(&'d Delta<'d>) -> &'d Scalar<'d>| {
                    delta.and_then(|d| f(d).as_str()).unwrap_or("")
                };
                let kind = delta.and_then(|d| d.kind.as_str()).unwrap_or("");
                let block = if self.blocks.contains_key(&index)
                    || self
                        .caps
                        .room(self.blocks.len(), MAX_TOOL_CALLS, CaptureCap::ToolCalls)
                {
                    Some(self.blocks.entry(index).or_default())
                } else {
                    None
                };
                match (kind, block) {
                    ("text_delta", block) => {
                        let t = field(|d| &d.text);
                        if let Some(b) = block {
                            self.caps.push_text(&mut b.text, t);
                        }
                        token = !t.is_empty();
                    }
                    ("input_json_delta", block) => {
                        if let Some(b) = block {
                            self.caps
                                .push_text(&mut b.partial_json, field(|d| &d.partial_json));
                        }
                        token = true;
                    }
                    ("thinking_delta", block) => {
                        let t = field(|d| &d.thinking);
                        if let Some(b) = block {
                            self.caps.push_text(&mut b.thinking, t);
                        }
                        token = !t.is_empty();
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(d) = v.delta.get() {
                    set_non_empty(&mut self.stop_reason, &d.stop_reason);
                }
                if let Some(u) = v.usage.get() {
                    let held = self.usage.get_or_insert_with(Usage::default);
                    merge(&mut held.input_tokens, &u.input_tokens);
                    merge(&mut held.output_tokens, &u.output_tokens);
                    merge(
                        &mut held.cache_read_input_tokens,
                        &u.cache_read_input_tokens,
                    );
                    merge(
                        &mut held.cache_creation_input_tokens,
                        &u.cache_creation_input_tokens,
                    );
                }
            }
            "message_stop" => self.done = true,
            "error" => {
                let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
                return Err(error_from_value(&v, DEFAULT_ERROR_TYPE).unwrap_or_else(|| {
                    ProviderError {
                        error_type: DEFAULT_ERROR_TYPE.to_owned(),
                        message: v.to_string(),
                    }
                }));
            }
            _ => {}
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
        let content: Vec<Value> = self.blocks.values().map(BlockAcc::to_block).collect();
        let content = (!content.is_empty() || self.id.is_some())
            .then(|| content_parts(Some(&Value::Array(content))));
        response_of(
            self.id.clone(),
            self.model.clone(),
            self.role.as_deref(),
            self.stop_reason.as_deref(),
            content,
            self.blocks.len(),
            self.usage,
        )
    }

    /// The caps this stream hit.
    pub(crate) fn caps_hit(&self) -> &[CaptureCap] {
        self.caps.hits()
    }
}

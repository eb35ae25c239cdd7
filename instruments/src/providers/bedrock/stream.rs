//! Streamed Converse responses: the JSON payloads of the event-stream messages, by event
//! type, folded into one [`LlmResponse`]. Deltas are accumulated per `contentBlockIndex`
//! (text, tool-use input fragments parsed at the end, reasoning text); the stream is
//! complete at the `metadata` event, which carries the usage (where Python ends its span).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::response::{WireUsage, exception, response_of};
use crate::model::{CaptureCap, LlmResponse, ProviderError, StreamProgress, Usage};
use crate::providers::caps::{Caps, MAX_TOOL_CALLS};
use crate::providers::parts::{parse_arguments_str, reasoning_part, text_part, tool_call_part};
use crate::providers::wire::{Lenient, Scalar};

/// One event payload: the fields the accumulator folds in (Bedrock adds a random padding
/// field `p`, ignored like every unknown field).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    content_block_index: Scalar<'a>,
    #[serde(borrow)]
    start: Lenient<Start<'a>>,
    #[serde(borrow)]
    delta: Lenient<Delta<'a>>,
    #[serde(borrow)]
    stop_reason: Scalar<'a>,
    #[serde(borrow)]
    usage: Lenient<WireUsage<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Start<'a> {
    #[serde(borrow)]
    tool_use: Lenient<ToolUse<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ToolUse<'a> {
    #[serde(borrow)]
    tool_use_id: Scalar<'a>,
    #[serde(borrow)]
    name: Scalar<'a>,
    #[serde(borrow)]
    input: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Delta<'a> {
    #[serde(borrow)]
    text: Scalar<'a>,
    #[serde(borrow)]
    tool_use: Lenient<ToolUse<'a>>,
    #[serde(borrow)]
    reasoning_content: Lenient<Reasoning<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reasoning<'a> {
    #[serde(borrow)]
    text: Scalar<'a>,
}

#[derive(Debug, Default)]
struct BlockAcc {
    tool: Option<(Option<String>, Option<String>)>,
    text: String,
    input: String,
    reasoning: String,
}

impl BlockAcc {
    fn parts(&self, out: &mut Vec<Value>) {
        if !self.reasoning.is_empty() {
            out.push(reasoning_part(&self.reasoning));
        }
        if !self.text.is_empty() {
            out.push(text_part(&self.text));
        }
        if let Some((id, name)) = &self.tool {
            let args = if self.input.trim().is_empty() {
                Value::Object(serde_json::Map::new())
            } else {
                parse_arguments_str(&self.input)
            };
            out.push(tool_call_part(id.as_deref(), name.as_deref(), args));
        }
    }
}

/// Accumulates a ConverseStream, event by event.
#[derive(Debug, Default)]
pub(crate) struct StreamAccumulator {
    role: Option<String>,
    blocks: BTreeMap<i64, BlockAcc>,
    stop_reason: Option<String>,
    usage: Option<Usage>,
    started: bool,
    saw_token: bool,
    done: bool,
    caps: Caps,
}

/// The accumulator of block `index`, unless it would pass the block cap.
fn block<'b>(
    blocks: &'b mut BTreeMap<i64, BlockAcc>,
    caps: &mut Caps,
    index: &Scalar<'_>,
) -> Option<&'b mut BlockAcc> {
    let index = index.int().unwrap_or(0);
    if blocks.contains_key(&index) || caps.room(blocks.len(), MAX_TOOL_CALLS, CaptureCap::ToolCalls)
    {
        Some(blocks.entry(index).or_default())
    } else {
        None
    }
}

impl StreamAccumulator {
    /// Feeds one event: its `:event-type` (or, for an exception message, its
    /// `:exception-type`, which returns `Err`) and its JSON payload.
    pub(crate) fn push(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<StreamProgress, ProviderError> {
        let kind = event.unwrap_or("");
        if kind.ends_with("Exception") || kind.ends_with("exception") {
            return Err(exception(kind, data));
        }
        let Ok(v) = serde_json::from_str::<Lenient<Event<'_>>>(data.trim()) else {
            return Ok(StreamProgress::default());
        };
        let v = v.0.unwrap_or_default();
        let mut token = false;
        match kind {
            "messageStart" => {
                self.started = true;
                if let Some(r) = v.role.non_empty() {
                    self.role = Some(r.to_owned());
                }
            }
            "contentBlockStart" => {
                if let Some(t) = v.start.0.and_then(|s| s.tool_use.0)
                    && let Some(b) = block(&mut self.blocks, &mut self.caps, &v.content_block_index)
                {
                    b.tool = Some((t.tool_use_id.into_non_empty(), t.name.into_non_empty()));
                }
            }
            "contentBlockDelta" => {
                let Some(d) = v.delta.0 else {
                    return Ok(self.progress(false));
                };
                let Self { blocks, caps, .. } = self;
                let index = &v.content_block_index;
                if let Some(t) = d.text.as_str() {
                    token = !t.is_empty();
                    if let Some(b) = block(blocks, caps, index) {
                        caps.push_text(&mut b.text, t);
                    }
                } else if let Some(t) = d.tool_use.get() {
                    token = true;
                    if let Some(b) = block(blocks, caps, index) {
                        b.tool.get_or_insert((None, None));
                        caps.push_text(&mut b.input, t.input.as_str().unwrap_or(""));
                    }
                } else if let Some(r) = d.reasoning_content.get() {
                    let t = r.text.as_str().unwrap_or("");
                    token = !t.is_empty();
                    if let Some(b) = block(blocks, caps, index) {
                        caps.push_text(&mut b.reasoning, t);
                    }
                }
            }
            "messageStop" => {
                if let Some(r) = v.stop_reason.non_empty() {
                    self.stop_reason = Some(r.to_owned());
                }
            }
            "metadata" => {
                if let Some(u) = v.usage.get() {
                    self.usage = Some(u.usage());
                }
                self.done = true;
            }
            _ => {}
        }
        Ok(self.progress(token))
    }

    /// The progress of a JSON event of the stream (a chunk).
    fn progress(&mut self, token: bool) -> StreamProgress {
        let first_token = token && !self.saw_token;
        self.saw_token |= token;
        StreamProgress {
            first_token,
            done: self.done,
            chunk: true,
        }
    }

    /// What was accumulated so far.
    pub(crate) fn response(&self) -> LlmResponse {
        let mut parts = Vec::new();
        for b in self.blocks.values() {
            b.parts(&mut parts);
        }
        let has = self.started || !parts.is_empty();
        response_of(
            self.role.as_deref(),
            has.then_some(parts),
            self.stop_reason.as_deref(),
            self.usage.unwrap_or_default(),
        )
    }

    /// The caps this stream hit.
    pub(crate) fn caps_hit(&self) -> &[CaptureCap] {
        self.caps.hits()
    }
}

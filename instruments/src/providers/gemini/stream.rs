//! Streamed Gemini responses (`streamGenerateContent`, SSE or JSON array): each chunk is a
//! whole `GenerateContentResponse` with only the new parts; they are folded per candidate
//! (text deltas appended to the last text part, function calls and data parts kept whole),
//! and the usage, model version and response id of the latest chunk win. The stream is
//! complete once a candidate has a finish reason (or the prompt was blocked).

use std::collections::BTreeMap;

use serde_json::Value;

use super::content::map_finish_reason;
use super::response::{Body, UsageMetadata};
use crate::model::{CaptureCap, LlmResponse, Message, ProviderError, StreamProgress, Usage};
use crate::providers::caps::{Caps, MAX_CHOICES, MAX_TOOL_CALLS};
use crate::providers::parts::{reasoning_part, text_part};
use crate::providers::wire::Lenient;

/// One segment of a candidate's output, in arrival order.
#[derive(Debug)]
enum Segment {
    Text(String),
    Thought(String),
    Other(Value),
}

#[derive(Debug, Default)]
struct CandidateAcc {
    role: Option<String>,
    segments: Vec<Segment>,
    finish_reason: Option<String>,
}

/// Accumulates a Gemini stream, chunk by chunk.
#[derive(Debug, Default)]
pub(crate) struct StreamAccumulator {
    id: Option<String>,
    model: Option<String>,
    usage: Option<Usage>,
    candidates: BTreeMap<i64, CandidateAcc>,
    saw_token: bool,
    done: bool,
    caps: Caps,
}

fn set_non_empty(slot: &mut Option<String>, s: Option<&str>) {
    if let Some(s) = s.filter(|s| !s.is_empty())
        && slot.as_deref() != Some(s)
    {
        *slot = Some(s.to_owned());
    }
}

impl StreamAccumulator {
    /// Feeds one chunk (an SSE `data` or a JSON-array element). An `{"error": …}` chunk
    /// returns `Err`; a chunk that is not JSON is ignored.
    pub(crate) fn push(&mut self, data: &str) -> Result<StreamProgress, ProviderError> {
        let Ok(chunk) = serde_json::from_str::<Lenient<Body<'_>>>(data.trim()) else {
            return Ok(StreamProgress::default());
        };
        let Some(chunk) = chunk.0 else {
            return Ok(StreamProgress::default());
        };
        if let Some(e) = chunk.error.get() {
            return Err(e.to_error());
        }
        set_non_empty(&mut self.id, chunk.response_id.as_str());
        set_non_empty(&mut self.model, chunk.model_version.as_str());
        if let Some(u) = chunk.usage_metadata.get() {
            self.usage = Some(UsageMetadata::usage(u));
        }
        if chunk
            .prompt_feedback
            .get()
            .is_some_and(|f| f.block_reason.non_empty().is_some())
        {
            self.done = true;
        }
        let mut token = false;
        for (position, candidate) in chunk.candidates.0.iter().enumerate() {
            let Some(c) = candidate.get() else {
                continue;
            };
            let index = c.index.int().unwrap_or(position as i64);
            if !self.candidates.contains_key(&index)
                && !self
                    .caps
                    .room(self.candidates.len(), MAX_CHOICES, CaptureCap::Choices)
            {
                continue;
            }
            let acc = self.candidates.entry(index).or_default();
            if let Some(reason) = c.finish_reason.non_empty() {
                acc.finish_reason = map_finish_reason(reason);
                self.done = true;
            }
            let Some(content) = c.content.get() else {
                continue;
            };
            if let Some(role) = content.role.non_empty()
                && acc.role.is_none()
            {
                acc.role = Some(role.to_owned());
            }
            for part in content.parts.0.iter().filter_map(Lenient::get) {
                token |= part.is_token();
                if let Some(t) = part.text.as_str() {
                    if t.is_empty() {
                        continue;
                    }
                    let thought = part.is_thought();
                    let open = match acc.segments.last_mut() {
                        Some(Segment::Text(s)) if !thought => Some(s),
                        Some(Segment::Thought(s)) if thought => Some(s),
                        _ => None,
                    };
                    match open {
                        Some(s) => self.caps.push_text(s, t),
                        None => {
                            if self.caps.room(
                                acc.segments.len(),
                                MAX_TOOL_CALLS,
                                CaptureCap::ToolCalls,
                            ) {
                                let mut s = String::new();
                                self.caps.push_text(&mut s, t);
                                acc.segments.push(if thought {
                                    Segment::Thought(s)
                                } else {
                                    Segment::Text(s)
                                });
                            }
                        }
                    }
                } else if let Some(p) = part.to_part()
                    && self
                        .caps
                        .room(acc.segments.len(), MAX_TOOL_CALLS, CaptureCap::ToolCalls)
                {
                    acc.segments.push(Segment::Other(p));
                }
            }
        }
        let first_token = token && !self.saw_token;
        self.saw_token |= token;
        Ok(StreamProgress {
            first_token,
            done: self.done,
            chunk: true,
        })
    }

    /// What was accumulated so far.
    pub(crate) fn response(&self) -> LlmResponse {
        let output_messages: Vec<Message> = self
            .candidates
            .values()
            .map(|c| Message {
                role: match c.role.as_deref() {
                    None | Some("model") => "assistant".to_owned(),
                    Some(r) => r.to_owned(),
                },
                parts: c
                    .segments
                    .iter()
                    .map(|s| match s {
                        Segment::Text(t) => text_part(t),
                        Segment::Thought(t) => reasoning_part(t),
                        Segment::Other(v) => v.clone(),
                    })
                    .collect(),
                finish_reason: c.finish_reason.clone(),
            })
            .collect();
        LlmResponse {
            id: self.id.clone(),
            model: self.model.clone(),
            finish_reasons: output_messages
                .iter()
                .filter_map(|m| m.finish_reason.clone())
                .collect(),
            choice_count: output_messages.len(),
            output_messages,
            output_messages_json: None,
            usage: self.usage.unwrap_or_default(),
            embedding_dimensions: None,
            error: None,
            system_fingerprint: None,
            service_tier: None,
        }
    }

    /// The caps this stream hit.
    pub(crate) fn caps_hit(&self) -> &[CaptureCap] {
        self.caps.hits()
    }
}

//! Gemini response bodies (`GenerateContentResponse`, the embedding responses) and error
//! bodies (`{"error": {"code", "message", "status"}}`, also as a one-element array, what
//! `streamGenerateContent` without `alt=sse` answers).

use serde::Deserialize;
use serde_json::Value;

use super::content::{Content, map_finish_reason, parts_of, role_of};
use crate::model::{LlmResponse, Message, ProviderError, Usage};
use crate::providers::parts::parse_error_body;
use crate::providers::wire::{Count, Lenient, Scalar, Seq};

/// The response fields the conventions read (a whole body, or one streamed chunk).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Body<'a> {
    #[serde(borrow)]
    pub(super) candidates: Seq<Lenient<Candidate<'a>>>,
    #[serde(borrow, alias = "prompt_feedback")]
    pub(super) prompt_feedback: Lenient<PromptFeedback<'a>>,
    #[serde(borrow, alias = "usage_metadata")]
    pub(super) usage_metadata: Lenient<UsageMetadata<'a>>,
    #[serde(borrow, alias = "model_version")]
    pub(super) model_version: Scalar<'a>,
    #[serde(borrow, alias = "response_id")]
    pub(super) response_id: Scalar<'a>,
    #[serde(borrow)]
    pub(super) error: Lenient<WireError<'a>>,
    /// `embedContent`.
    embedding: Lenient<Embedding>,
    /// `batchEmbedContents`.
    embeddings: Seq<Lenient<Embedding>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Candidate<'a> {
    #[serde(borrow)]
    pub(super) content: Lenient<Content<'a>>,
    #[serde(borrow, alias = "finish_reason")]
    pub(super) finish_reason: Scalar<'a>,
    #[serde(borrow)]
    pub(super) index: Scalar<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct PromptFeedback<'a> {
    #[serde(borrow, alias = "block_reason")]
    pub(super) block_reason: Scalar<'a>,
}

/// `usageMetadata`. `promptTokenCount` includes the cached tokens; `candidatesTokenCount`
/// excludes the thinking tokens, which `totalTokenCount` includes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct UsageMetadata<'a> {
    #[serde(borrow, alias = "prompt_token_count")]
    prompt_token_count: Scalar<'a>,
    #[serde(borrow, alias = "candidates_token_count")]
    candidates_token_count: Scalar<'a>,
    #[serde(borrow, alias = "total_token_count")]
    total_token_count: Scalar<'a>,
    #[serde(borrow, alias = "cached_content_token_count")]
    cached_content_token_count: Scalar<'a>,
    #[serde(borrow, alias = "thoughts_token_count")]
    thoughts_token_count: Scalar<'a>,
}

impl UsageMetadata<'_> {
    /// As Python maps it (input ← prompt, output ← candidates, total ← total, cache read ←
    /// cached content), plus the reasoning tokens from `thoughtsTokenCount`.
    pub(super) fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.prompt_token_count.int(),
            output_tokens: self.candidates_token_count.int(),
            total_tokens: self.total_token_count.int(),
            cache_read_input_tokens: self.cached_content_token_count.int(),
            cache_creation_input_tokens: None,
            reasoning_tokens: self.thoughts_token_count.int(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WireError<'a> {
    #[serde(borrow)]
    code: Scalar<'a>,
    #[serde(borrow)]
    message: Scalar<'a>,
    #[serde(borrow)]
    status: Scalar<'a>,
}

impl WireError<'_> {
    /// `error.type` is the `status` (`RESOURCE_EXHAUSTED`), else the code.
    pub(super) fn to_error(&self) -> ProviderError {
        let error_type = match (self.status.non_empty(), self.code.int()) {
            (Some(s), _) => s.to_owned(),
            (None, Some(c)) => c.to_string(),
            (None, None) => crate::providers::parts::DEFAULT_ERROR_TYPE.to_owned(),
        };
        ProviderError {
            error_type,
            message: self.message.as_str().unwrap_or_default().to_owned(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Embedding {
    values: Count,
}

/// One candidate's output message.
fn candidate_message(c: &Candidate<'_>) -> Message {
    let (role, parts) = match c.content.get() {
        Some(content) => (
            role_of(&content.role, "assistant"),
            parts_of(&content.parts),
        ),
        None => ("assistant", Vec::new()),
    };
    Message {
        role: role.to_owned(),
        parts,
        finish_reason: c.finish_reason.as_str().and_then(map_finish_reason),
    }
}

/// Reads a complete Gemini response body; `None` when it is not JSON.
pub(crate) fn parse_response(bytes: &[u8]) -> Option<LlmResponse> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(bytes).ok()?;
    let Some(body) = body.0 else {
        // An error answer of the array form: `[{"error": …}]`.
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let first = v.as_array().and_then(|a| a.first())?;
        let bytes = serde_json::to_vec(first).ok()?;
        return parse_response(&bytes);
    };
    if let Some(e) = body.error.get() {
        return Some(LlmResponse {
            error: Some(e.to_error()),
            ..LlmResponse::default()
        });
    }
    let output_messages: Vec<Message> = body
        .candidates
        .0
        .iter()
        .filter_map(|c| c.get().map(candidate_message))
        .collect();
    let finish_reasons = output_messages
        .iter()
        .filter_map(|m| m.finish_reason.clone())
        .collect();
    let dimensions = body.embedding.get().and_then(|e| e.values.0).or_else(|| {
        body.embeddings
            .0
            .first()
            .and_then(|e| e.get())
            .and_then(|e| e.values.0)
    });
    Some(LlmResponse {
        id: body.response_id.into_non_empty(),
        model: body.model_version.into_non_empty(),
        finish_reasons,
        choice_count: output_messages.len(),
        output_messages,
        output_messages_json: None,
        usage: body
            .usage_metadata
            .get()
            .map(UsageMetadata::usage)
            .unwrap_or_default(),
        embedding_dimensions: dimensions,
        error: None,
        system_fingerprint: None,
        service_tier: None,
    })
}

/// The error of a Gemini HTTP error body: `status` as the type, `message`; anything else as
/// any provider's error body.
pub(crate) fn parse_error(status: u16, body: &[u8]) -> ProviderError {
    match parse_response(body).and_then(|r| r.error) {
        Some(e) => e,
        None => parse_error_body(status, body),
    }
}

//! Converse response bodies (`output.message`, `stopReason`, `usage`) and the error bodies
//! of every Bedrock operation (`{"message": …}` with the type in the `x-amzn-errortype`
//! header, or in the body's `__type` / `code`).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::content::{blocks_parts, map_stop_reason};
use crate::model::{LlmResponse, Message, ProviderError, Usage};
use crate::providers::parts::{DEFAULT_ERROR_TYPE, parse_error_body};
use crate::providers::wire::{Lenient, Scalar, value};

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Body<'a> {
    #[serde(borrow)]
    output: Lenient<Output<'a>>,
    #[serde(borrow)]
    stop_reason: Scalar<'a>,
    #[serde(borrow)]
    usage: Lenient<WireUsage<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Output<'a> {
    #[serde(borrow)]
    message: Lenient<OutputMessage<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputMessage<'a> {
    #[serde(borrow)]
    role: Scalar<'a>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

/// Converse `usage`. `inputTokens` is kept as reported (it excludes the cache reads and
/// writes, as Python and our Anthropic spans keep it); the total is `totalTokens` as
/// reported (it includes the cached buckets).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct WireUsage<'a> {
    #[serde(borrow)]
    input_tokens: Scalar<'a>,
    #[serde(borrow)]
    output_tokens: Scalar<'a>,
    #[serde(borrow)]
    total_tokens: Scalar<'a>,
    #[serde(borrow)]
    cache_read_input_tokens: Scalar<'a>,
    #[serde(borrow)]
    cache_write_input_tokens: Scalar<'a>,
}

impl WireUsage<'_> {
    pub(super) fn usage(&self) -> Usage {
        crate::providers::parts::with_total(Usage {
            input_tokens: self.input_tokens.int(),
            output_tokens: self.output_tokens.int(),
            total_tokens: self.total_tokens.int(),
            cache_read_input_tokens: self.cache_read_input_tokens.int(),
            cache_creation_input_tokens: self.cache_write_input_tokens.int(),
            reasoning_tokens: None,
        })
    }
}

/// The response a body (or an accumulated stream) describes.
pub(super) fn response_of(
    role: Option<&str>,
    parts: Option<Vec<Value>>,
    stop_reason: Option<&str>,
    usage: Usage,
) -> LlmResponse {
    let finish = stop_reason.filter(|r| !r.is_empty()).map(map_stop_reason);
    let has_message = parts.is_some() || finish.is_some();
    LlmResponse {
        id: None,
        model: None,
        finish_reasons: finish.iter().cloned().collect(),
        output_messages: if has_message {
            vec![Message {
                role: role.unwrap_or("assistant").to_owned(),
                parts: parts.unwrap_or_default(),
                finish_reason: finish,
            }]
        } else {
            Vec::new()
        },
        choice_count: usize::from(has_message),
        output_messages_json: None,
        usage,
        embedding_dimensions: None,
        error: None,
        system_fingerprint: None,
        service_tier: None,
    }
}

/// Reads a complete Converse response body; `None` when it is not JSON.
pub(crate) fn parse_response(bytes: &[u8]) -> Option<LlmResponse> {
    let body: Lenient<Body<'_>> = crate::providers::wire::read_body(bytes).ok()?;
    let body = body.0.unwrap_or_default();
    let message = body.output.0.and_then(|o| o.message.0);
    let (role, parts) = match &message {
        Some(m) => (
            m.role.as_str(),
            Some(blocks_parts(value(m.content).as_ref())),
        ),
        None => (None, None),
    };
    Some(response_of(
        role,
        parts,
        body.stop_reason.as_str(),
        body.usage.get().map(WireUsage::usage).unwrap_or_default(),
    ))
}

/// The shape code of an AWS error type: `ValidationException:http://internal…` and
/// `com.amazon.coral#ValidationException` are `ValidationException`.
fn error_code(s: &str) -> &str {
    let s = s.split(':').next().unwrap_or(s);
    s.rsplit('#').next().unwrap_or(s).trim()
}

/// The error of a Bedrock HTTP error answer: the type from the `x-amzn-errortype` header
/// (`error_type_header`) or the body's `__type` / `code`, the body's `message` /
/// `Message`.
pub(crate) fn parse_error(
    status: u16,
    error_type_header: Option<&str>,
    body: &[u8],
) -> ProviderError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let from_body = ["__type", "code", "type"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str));
    let error_type = error_type_header
        .or(from_body)
        .map(error_code)
        .filter(|c| !c.is_empty());
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str));
    match (error_type, message) {
        (Some(t), Some(m)) => ProviderError::new(t, m),
        (Some(t), None) => {
            let fallback = parse_error_body(status, body);
            ProviderError::new(t, fallback.message)
        }
        (None, Some(m)) => ProviderError::new(status.to_string(), m),
        (None, None) => parse_error_body(status, body),
    }
}

/// The error of an exception event in a stream (`:exception-type`, payload
/// `{"message": …}`).
pub(super) fn exception(exception_type: &str, payload: &str) -> ProviderError {
    let v: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
        .unwrap_or_else(|| payload.to_owned());
    // `throttlingException` in a stream is the `ThrottlingException` of an HTTP answer.
    let mut chars = exception_type.chars();
    let error_type = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => DEFAULT_ERROR_TYPE.to_owned(),
    };
    ProviderError::new(error_type, message)
}

//! What the stub promises its callers: the models that select a fault, the figures its
//! answers are built from, the two answer personas, and the recorded request.

use std::time::Duration;

use serde_json::Value;

/// The model that makes every route answer `429`.
pub const RATE_LIMITED: &str = "rate-limited";
/// The model that makes every route answer `500`.
pub const SERVER_ERROR: &str = "server-error";
/// The model that makes a stream (or a JSON body) abort the connection midway.
pub const FAIL_MIDWAY: &str = "fail-midway";
/// The model that makes a stream carry the provider's in-stream error event.
pub const ERROR_EVENT: &str = "error-event";
/// The model that makes a stream send [`SLOW_CHUNKS`] deltas [`SLOW_INTERVAL`] apart.
pub const SLOW_STREAM: &str = "slow-stream";

/// The text of every normal text answer ([`Answers::Canned`]).
pub const REPLY: &str = "Hello! This is the llmetry stub speaking.";
/// Appended by the OpenAI chat, completions and Responses routes to the request's model.
pub const OPENAI_MODEL_SUFFIX: &str = "-2024-07-18";
/// Content deltas of a [`SLOW_STREAM`] stream.
pub const SLOW_CHUNKS: usize = 50;
/// Pause before each content delta of a [`SLOW_STREAM`] stream.
pub const SLOW_INTERVAL: Duration = Duration::from_millis(20);
/// Dimensions of every embedding vector.
pub const EMBEDDING_DIMS: usize = 8;
/// Output tokens counted for one tool call ([`Answers::Canned`]).
pub const TOOL_CALL_TOKENS: u64 = 12;
/// Reasoning tokens reported (and included in the output tokens) by OpenAI chat and
/// Responses answers ([`Answers::Canned`]).
pub const REASONING_TOKENS: u64 = 2;
/// `cache_creation_input_tokens` of every Anthropic answer ([`Answers::Canned`]).
pub const CACHE_CREATION_TOKENS: u64 = 3;

/// How the stub chooses what to say. The wire format, the faults and the recorded requests
/// are the same for both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answers {
    /// Fixed answers and token figures that tests assert on: see the
    /// [module docs](super#answers-answerscanned-the-default).
    #[default]
    Canned,
    /// Answers that read like a model's, for the examples:
    ///
    /// * Text: a haiku about the last word of the last user message (at most 24
    ///   characters; `traces` when there is none): `"Spans drift like leaves,\n<word> hums
    ///   in the collector,\nroot span finally ends."`
    /// * With tools and a last message from the user: a call of *every* offered function
    ///   tool (only the first when `parallel_tool_calls` is `false` or Anthropic's
    ///   `disable_parallel_tool_use` is set; none when `tool_choice` is `"none"`), whose
    ///   arguments fill each schema property: a string gets the word that follows the
    ///   property's name in the last user message (`"… on host web-3 …"` gives
    ///   `{"host": "web-3"}`), else the property's name; an enum its first value; integers
    ///   and numbers `1`, booleans `true`, arrays `[]`, objects `{}`.
    /// * After tool results: `"From the tool results:"` and one line `- <tool>: <result>`
    ///   per result of the last round, named after the call it answers.
    /// * Tokens: input counts each message's words plus 4 (chat; other routes as
    ///   [`Answers::Canned`]), output the answer's words (a tool call: the words of its name
    ///   and arguments plus 8); no cached, reasoning or cache-creation tokens.
    Demo,
}

/// One request as the stub saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct StubRequest {
    /// The request path, e.g. `/v1/chat/completions` (no query).
    pub path: String,
    /// The query string, when the URL has one (Gemini: `alt=sse&key=…`).
    pub query: Option<String>,
    /// Every request header, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body; `Null` for an empty body, a JSON string holding the (lossy UTF-8)
    /// text for a body that is not JSON.
    pub body: Value,
}

impl StubRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

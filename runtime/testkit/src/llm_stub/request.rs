//! What one request is answered from: its route (and so its provider), the fault its model
//! selects, and [`Ctx`], plus the helpers that read text out of request bodies.

use serde_json::Value;

use super::spec::{
    Answers, ERROR_EVENT, FAIL_MIDWAY, OPENAI_MODEL_SUFFIX, RATE_LIMITED, SERVER_ERROR, SLOW_STREAM,
};

/// The API family of a route: decides error bodies, headers and streaming defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Provider {
    OpenAi,
    Anthropic,
    Ollama,
    /// Gemini (the Generative Language API and its Vertex AI form).
    Google,
    /// Bedrock Runtime (Converse, ConverseStream).
    Bedrock,
}

/// One endpoint the stub answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    Chat,
    Completions,
    Embeddings,
    Responses,
    Messages,
    OllamaChat,
    OllamaGenerate,
    OllamaEmbed,
    OllamaEmbeddings,
    /// `…/models/{model}:generateContent`.
    GeminiGenerate,
    /// `…/models/{model}:streamGenerateContent` (SSE with `alt=sse`, else a JSON array).
    GeminiStream,
    /// `…/models/{model}:embedContent`.
    GeminiEmbed,
    /// `…/models/{model}:batchEmbedContents`.
    GeminiBatchEmbed,
    /// `/model/{modelId}/converse`.
    Converse,
    /// `/model/{modelId}/converse-stream` (AWS event stream).
    ConverseStream,
}

impl Route {
    /// The route whose suffix ends `path` (a trailing `/` ignored).
    pub(super) fn of(path: &str) -> Option<Route> {
        let p = path.trim_end_matches('/');
        if let Some((_, method)) = path_model(p) {
            return match method {
                "generateContent" => Some(Route::GeminiGenerate),
                "streamGenerateContent" => Some(Route::GeminiStream),
                "embedContent" => Some(Route::GeminiEmbed),
                "batchEmbedContents" => Some(Route::GeminiBatchEmbed),
                "converse" => Some(Route::Converse),
                "converse-stream" => Some(Route::ConverseStream),
                _ => None,
            };
        }
        let routes = [
            ("/api/chat", Route::OllamaChat),
            ("/api/generate", Route::OllamaGenerate),
            ("/api/embed", Route::OllamaEmbed),
            ("/api/embeddings", Route::OllamaEmbeddings),
            ("/v1/messages", Route::Messages),
            ("/chat/completions", Route::Chat),
            ("/completions", Route::Completions),
            ("/embeddings", Route::Embeddings),
            ("/responses", Route::Responses),
        ];
        routes
            .iter()
            .find(|(suffix, _)| p.ends_with(suffix))
            .map(|(_, r)| *r)
    }

    pub(super) fn provider(self) -> Provider {
        match self {
            Route::Chat | Route::Completions | Route::Embeddings | Route::Responses => {
                Provider::OpenAi
            }
            Route::Messages => Provider::Anthropic,
            Route::OllamaChat
            | Route::OllamaGenerate
            | Route::OllamaEmbed
            | Route::OllamaEmbeddings => Provider::Ollama,
            Route::GeminiGenerate
            | Route::GeminiStream
            | Route::GeminiEmbed
            | Route::GeminiBatchEmbed => Provider::Google,
            Route::Converse | Route::ConverseStream => Provider::Bedrock,
        }
    }

    pub(super) fn can_stream(self) -> bool {
        !matches!(
            self,
            Route::Embeddings
                | Route::OllamaEmbed
                | Route::OllamaEmbeddings
                | Route::GeminiGenerate
                | Route::GeminiEmbed
                | Route::GeminiBatchEmbed
                | Route::Converse
        )
    }

    /// Whether the route names its model in the path (Gemini, Bedrock), not the body.
    pub(super) fn model_in_path(self) -> bool {
        matches!(self.provider(), Provider::Google | Provider::Bedrock)
    }
}

/// The model and method a path names: Gemini `…/models/{model}:{method}` (the colon literal
/// or `%3A`), Bedrock `/model/{modelId}/{converse|converse-stream}`; the model
/// percent-decoded.
pub(super) fn path_model(path: &str) -> Option<(String, &str)> {
    let p = path.trim_end_matches('/');
    let (head, last) = p.rsplit_once('/')?;
    if matches!(last, "converse" | "converse-stream") {
        let (prefix, id) = head.rsplit_once('/')?;
        if prefix.ends_with("/model") || prefix == "/model" {
            return Some((percent_decode(id), last));
        }
        return None;
    }
    let (model, method) = match last.rfind(':') {
        Some(at) => (&last[..at], &last[at + 1..]),
        None => {
            let at = last.to_ascii_lowercase().rfind("%3a")?;
            (&last[..at], &last[at + 3..])
        }
    };
    Some((percent_decode(model), method))
}

/// `%XX` sequences decoded (invalid ones kept as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push(((hex(h).unwrap_or(0) << 4) | hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The fault a request's model selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    None,
    RateLimited,
    ServerError,
    FailMidway,
    ErrorEvent,
    SlowStream,
}

impl Fault {
    pub(super) fn of(model: &str) -> Fault {
        match model {
            RATE_LIMITED => Fault::RateLimited,
            SERVER_ERROR => Fault::ServerError,
            FAIL_MIDWAY => Fault::FailMidway,
            ERROR_EVENT => Fault::ErrorEvent,
            SLOW_STREAM => Fault::SlowStream,
            _ => Fault::None,
        }
    }
}

/// What one request is answered from.
pub(super) struct Ctx {
    pub(super) route: Route,
    pub(super) body: Value,
    /// The request's model.
    pub(super) model: String,
    /// The request number (1-based), for ids.
    pub(super) n: u64,
    /// Unix seconds.
    pub(super) created: u64,
    pub(super) stream: bool,
    /// Gemini streams: SSE (`alt=sse`) rather than a JSON array.
    pub(super) sse: bool,
    pub(super) fault: Fault,
    /// The words of the request's text ([`input_words`]).
    pub(super) input_tokens: u64,
    pub(super) answers: Answers,
}

impl Ctx {
    /// `<prefix>stub<n>`, e.g. `chatcmpl-stub000001`.
    pub(super) fn id(&self, prefix: &str) -> String {
        format!("{prefix}stub{:06}", self.n)
    }

    /// The id of the `index`-th item of a kind in one answer (tool calls): the first is
    /// [`Ctx::id`], the next ones add `_<index>`.
    pub(super) fn nth_id(&self, prefix: &str, index: usize) -> String {
        if index == 0 {
            self.id(prefix)
        } else {
            format!("{}_{index}", self.id(prefix))
        }
    }

    /// The model named in the answer.
    pub(super) fn response_model(&self) -> String {
        match self.route {
            Route::Chat | Route::Completions | Route::Responses
                if !has_date_suffix(&self.model) =>
            {
                format!("{}{OPENAI_MODEL_SUFFIX}", self.model)
            }
            _ => self.model.clone(),
        }
    }

    /// OpenAI's `stream_options.include_usage`.
    pub(super) fn include_usage(&self) -> bool {
        self.body["stream_options"]["include_usage"].as_bool() == Some(true)
    }
}

/// The text in a content value: a string, or the `text` (or nested `content`) of its parts.
pub(super) fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(text_of)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        Value::Object(o) => o
            .get("text")
            .or_else(|| o.get("content"))
            .map(text_of)
            .unwrap_or_default(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The words of the request's text, at least 1.
pub(super) fn input_words(body: &Value) -> u64 {
    const TOP: [&str; 9] = [
        "messages",
        "system",
        "instructions",
        "prompt",
        "input",
        // Gemini.
        "contents",
        "systemInstruction",
        "content",
        "requests",
    ];
    const TEXT_KEYS: [&str; 5] = ["content", "text", "input", "output", "prompt"];
    fn count(v: &Value, text: bool) -> u64 {
        match v {
            Value::String(s) if text => words(s),
            Value::Array(items) => items.iter().map(|x| count(x, text)).sum(),
            Value::Object(m) => m
                .iter()
                .map(|(k, x)| count(x, TEXT_KEYS.contains(&k.as_str())))
                .sum(),
            _ => 0,
        }
    }
    TOP.iter()
        .map(|k| count(&body[*k], true))
        .sum::<u64>()
        .max(1)
}

/// Whitespace-separated words of `s`.
pub(super) fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// Whether `model` ends with `-YYYY-MM-DD`.
fn has_date_suffix(model: &str) -> bool {
    let b = model.as_bytes();
    if b.len() < 11 {
        return false;
    }
    let tail = &b[b.len() - 11..];
    tail.iter().enumerate().all(|(i, c)| match i {
        0 | 5 | 8 => *c == b'-',
        _ => c.is_ascii_digit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_suffix() {
        assert!(has_date_suffix("gpt-4o-mini-2024-07-18"));
        assert!(!has_date_suffix("gpt-4o-mini"));
        assert!(!has_date_suffix("x"));
    }
}

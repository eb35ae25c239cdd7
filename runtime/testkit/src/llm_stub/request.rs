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
}

impl Route {
    /// The route whose suffix ends `path` (a trailing `/` ignored).
    pub(super) fn of(path: &str) -> Option<Route> {
        let p = path.trim_end_matches('/');
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
        }
    }

    pub(super) fn can_stream(self) -> bool {
        !matches!(
            self,
            Route::Embeddings | Route::OllamaEmbed | Route::OllamaEmbeddings
        )
    }
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
    const TOP: [&str; 5] = ["messages", "system", "instructions", "prompt", "input"];
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

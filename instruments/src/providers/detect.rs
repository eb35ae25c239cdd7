//! Which provider and API an HTTP request goes to, from its URL.
//!
//! The API comes from the path suffix, the provider from the host (or a user-registered base
//! URL): `https://api.groq.com/openai/v1/chat/completions` is (`Groq`, `OpenAiChat`),
//! `http://localhost:11434/api/chat` is (`Ollama`, `OllamaChat`).
//!
//! ```
//! use llmetry_instruments::model::{Api, Provider};
//! use llmetry_instruments::providers::detect::detect;
//! use url::Url;
//!
//! let url = Url::parse("https://api.groq.com/openai/v1/chat/completions")?;
//! assert_eq!(detect(&url), Some((Provider::Groq, Api::OpenAiChat)));
//! # Ok::<(), url::ParseError>(())
//! ```

use url::Url;

use crate::model::{Api, Provider};

/// The API a path points at, by suffix; `None` for paths that are not LLM calls.
fn api_of_path(path: &str) -> Option<Api> {
    let path = path.trim_end_matches('/');
    let api = if path.ends_with("/chat/completions") {
        Api::OpenAiChat
    } else if path.ends_with("/api/chat") {
        Api::OllamaChat
    } else if path.ends_with("/api/generate") {
        Api::OllamaGenerate
    } else if path.ends_with("/api/embed") || path.ends_with("/api/embeddings") {
        Api::OllamaEmbed
    } else if path.ends_with("/completions") {
        Api::OpenAiCompletion
    } else if path.ends_with("/embeddings") {
        Api::OpenAiEmbeddings
    } else if path.ends_with("/responses") {
        Api::OpenAiResponses
    } else if path.ends_with("/v1/messages") {
        Api::AnthropicMessages
    } else {
        return None;
    };
    Some(api)
}

/// Whether an OpenAI path with a generic last segment (`completions`, `embeddings`,
/// `responses`) looks like an OpenAI-compatible API on a host we do not know: the segment
/// before it is a version (`v1`, `v1beta`), `openai`, or nothing (`/completions`), or the path
/// is an Azure deployment (`…/deployments/{name}/embeddings`). This keeps
/// `https://api.typeform.com/forms/abc/responses` out.
fn plausible_generic_path(path: &str) -> bool {
    let mut segments = path.trim_end_matches('/').rsplit('/').skip(1);
    let prev = segments.next().unwrap_or("");
    let prev2 = segments.next().unwrap_or("");
    let is_version = |s: &str| {
        let mut c = s.chars();
        c.next() == Some('v') && c.next().is_some_and(|d| d.is_ascii_digit())
    };
    prev.is_empty() || is_version(prev) || prev == "openai" || prev2 == "deployments"
}

/// The provider a well-known host belongs to.
fn provider_of_host(host: &str) -> Option<Provider> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let p = match host.as_str() {
        "api.openai.com" => Provider::OpenAi,
        "api.anthropic.com" => Provider::Anthropic,
        "api.groq.com" => Provider::Groq,
        "api.together.xyz" | "api.together.ai" => Provider::Together,
        "api.mistral.ai" => Provider::Mistral,
        "api.deepseek.com" => Provider::DeepSeek,
        "openrouter.ai" => Provider::OpenRouter,
        h if h.ends_with(".openai.azure.com") || h.ends_with(".cognitiveservices.azure.com") => {
            Provider::AzureOpenAi
        }
        _ => return None,
    };
    Some(p)
}

/// Detects the provider and API of a request URL; `None` when the URL is not an LLM call.
///
/// Rules, in order: the API by path suffix (`/chat/completions`, `/completions`,
/// `/embeddings`, `/responses`, `/v1/messages`, `/api/chat`, `/api/generate`,
/// `/api/embed`, `/api/embeddings`); then the provider by well-known host; else port 11434
/// or an Ollama path → Ollama; else an Anthropic path → Anthropic; else port 8000 → vLLM;
/// else OpenAI (an OpenAI-compatible server). On a host that is neither well known nor
/// registered, the generic `/completions`, `/embeddings` and `/responses` suffixes must follow
/// a version segment (`/v1/…`), `/openai/…`, an Azure `/deployments/{name}/…`, or the root.
///
/// ```
/// use llmetry_instruments::model::{Api, Provider};
/// use llmetry_instruments::providers::detect::detect;
/// use url::Url;
///
/// let d = |u: &str| Url::parse(u).ok().and_then(|u| detect(&u));
/// assert_eq!(d("https://api.anthropic.com/v1/messages"), Some((Provider::Anthropic, Api::AnthropicMessages)));
/// assert_eq!(d("http://gpu-box:8000/v1/chat/completions"), Some((Provider::Vllm, Api::OpenAiChat)));
/// assert_eq!(d("http://localhost:11434/api/generate"), Some((Provider::Ollama, Api::OllamaGenerate)));
/// assert_eq!(d("https://llm.internal/v1/embeddings"), Some((Provider::OpenAi, Api::OpenAiEmbeddings)));
/// assert_eq!(d("https://api.typeform.com/forms/abc/responses"), None); // not an LLM API
/// assert_eq!(d("https://api.openai.com/v1/models"), None);
/// ```
pub fn detect(url: &Url) -> Option<(Provider, Api)> {
    detect_with(url, &[])
}

/// Like [`detect`], but a user-registered base URL prefix (the longest matching one) decides
/// the provider. The prefix matches at a path-segment boundary:
/// `http://gw:80` does not match `http://gw:8000/…`.
///
/// ```
/// use llmetry_instruments::model::{Api, Provider};
/// use llmetry_instruments::providers::detect::detect_with;
/// use url::Url;
///
/// let overrides = [("https://llm.acme.internal/mistral".to_owned(), Provider::Mistral)];
/// let url = Url::parse("https://llm.acme.internal/mistral/v1/chat/completions")?;
/// assert_eq!(detect_with(&url, &overrides), Some((Provider::Mistral, Api::OpenAiChat)));
/// let other = Url::parse("https://llm.acme.internal/mistral-old/v1/chat/completions")?;
/// assert_eq!(detect_with(&other, &overrides), Some((Provider::OpenAi, Api::OpenAiChat)));
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn detect_with(url: &Url, overrides: &[(String, Provider)]) -> Option<(Provider, Api)> {
    if let Some((api, _)) = gemini_method(url.path()) {
        let provider = override_for(url, overrides).unwrap_or_else(|| gemini_provider(url));
        return Some((provider, api));
    }
    let api = api_of_path(url.path())?;
    if let Some(p) = override_for(url, overrides) {
        return Some((p, api));
    }
    if let Some(p) = url.host_str().and_then(provider_of_host) {
        return Some((p, api));
    }
    let generic = matches!(
        api,
        Api::OpenAiCompletion | Api::OpenAiEmbeddings | Api::OpenAiResponses
    );
    if generic && !plausible_generic_path(url.path()) {
        return None;
    }
    let ollama_path = matches!(
        api,
        Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed
    );
    let provider = if url.port() == Some(11434) || ollama_path {
        Provider::Ollama
    } else if api == Api::AnthropicMessages {
        Provider::Anthropic
    } else if url.port() == Some(8000) {
        Provider::Vllm
    } else {
        Provider::OpenAi
    };
    Some((provider, api))
}

/// The Gemini API and method (`generateContent`, …) of a path whose last segment is
/// `{model}:{method}` (the colon literal or `%3A`).
fn gemini_method(path: &str) -> Option<(Api, &str)> {
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    let (_, method) = split_method(last)?;
    let api = match method {
        "generateContent" | "streamGenerateContent" => Api::GeminiGenerateContent,
        "embedContent" | "batchEmbedContents" => Api::GeminiEmbedContent,
        _ => return None,
    };
    Some((api, method))
}

/// `gemini-2.5-flash:generateContent` → (`gemini-2.5-flash`, `generateContent`).
fn split_method(segment: &str) -> Option<(&str, &str)> {
    if let Some(at) = segment.rfind(':') {
        return Some((segment.get(..at)?, segment.get(at + 1..)?));
    }
    // `%3A` in either case, found without lowercasing a copy: this runs on every call.
    let at = segment
        .as_bytes()
        .windows(3)
        .rposition(|w| w[0] == b'%' && w[1] == b'3' && w[2].eq_ignore_ascii_case(&b'a'))?;
    Some((segment.get(..at)?, segment.get(at + 3..)?))
}

/// `gcp.vertex_ai` on `aiplatform.googleapis.com` (any region) or a Vertex path
/// (`…/projects/{p}/locations/{l}/publishers/…`), else `gcp.gen_ai` (the Generative
/// Language API, and what Python writes for Gemini).
fn gemini_provider(url: &Url) -> Provider {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let vertex_host =
        host == "aiplatform.googleapis.com" || host.ends_with("-aiplatform.googleapis.com");
    let vertex_path = url.path().contains("/projects/") && url.path().contains("/publishers/");
    if vertex_host || vertex_path {
        Provider::GcpVertexAi
    } else {
        Provider::GcpGenAi
    }
}

/// What a URL says about the request when the API puts it in the path rather than the body:
/// [`url_facts`].
///
/// ```
/// use llmetry_instruments::model::Api;
/// use llmetry_instruments::providers::detect::url_facts;
/// use url::Url;
///
/// let url = Url::parse("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")?;
/// let facts = url_facts(Api::GeminiGenerateContent, &url);
/// assert_eq!((facts.model.as_deref(), facts.stream), (Some("gemini-2.5-flash"), true));
/// # Ok::<(), url::ParseError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UrlFacts {
    /// The model named in the path (Gemini: `models/{model}:…`).
    pub model: Option<String>,
    /// The path asks for a stream (Gemini `:streamGenerateContent`).
    pub stream: bool,
}

/// The model and streaming the path of `url` says for `api` (nothing for the APIs that say
/// both in the body).
pub fn url_facts(api: Api, url: &Url) -> UrlFacts {
    if !matches!(api, Api::GeminiGenerateContent | Api::GeminiEmbedContent) {
        return UrlFacts::default();
    }
    let Some(last) = url.path().trim_end_matches('/').rsplit('/').next() else {
        return UrlFacts::default();
    };
    let Some((model, method)) = split_method(last) else {
        return UrlFacts::default();
    };
    let model = percent_encoding::percent_decode_str(model).decode_utf8_lossy();
    UrlFacts {
        model: (!model.is_empty()).then(|| model.into_owned()),
        stream: method == "streamGenerateContent",
    }
}

fn override_for(url: &Url, overrides: &[(String, Provider)]) -> Option<Provider> {
    let target = url.as_str();
    overrides
        .iter()
        .filter_map(|(prefix, provider)| {
            let prefix = normalise_prefix(prefix);
            let rest = target.strip_prefix(prefix.as_str())?;
            let boundary =
                prefix.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?', '#']);
            boundary.then_some((prefix.len(), provider))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, p)| p.clone())
}

/// Normalises a user-given base URL the way [`Url`] serialises one (lower-case host,
/// default port dropped), without the trailing `/` that parsing adds to a bare origin.
fn normalise_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim();
    match Url::parse(trimmed) {
        Ok(u) => {
            let s = u.as_str();
            if trimmed.ends_with('/') {
                s.to_owned()
            } else {
                s.strip_suffix('/').unwrap_or(s).to_owned()
            }
        }
        Err(_) => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn d(u: &str) -> Option<(Provider, Api)> {
        detect(&Url::parse(u).unwrap())
    }

    #[test]
    fn detect_table() {
        use Api::*;
        use Provider::*;
        let table: &[(&str, Option<(Provider, Api)>)] = &[
            (
                "https://api.openai.com/v1/chat/completions",
                Some((OpenAi, OpenAiChat)),
            ),
            (
                "https://api.openai.com/v1/completions",
                Some((OpenAi, OpenAiCompletion)),
            ),
            (
                "https://api.openai.com/v1/embeddings",
                Some((OpenAi, OpenAiEmbeddings)),
            ),
            (
                "https://api.openai.com/v1/responses",
                Some((OpenAi, OpenAiResponses)),
            ),
            ("https://api.openai.com/v1/models", None),
            ("https://api.openai.com/v1/files", None),
            (
                "https://my-res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
                Some((AzureOpenAi, OpenAiChat)),
            ),
            (
                "https://my-res.cognitiveservices.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21",
                Some((AzureOpenAi, OpenAiEmbeddings)),
            ),
            (
                "https://my-res.openai.azure.com/openai/v1/responses",
                Some((AzureOpenAi, OpenAiResponses)),
            ),
            (
                "https://api.anthropic.com/v1/messages",
                Some((Anthropic, AnthropicMessages)),
            ),
            ("https://api.anthropic.com/v1/messages/count_tokens", None),
            (
                "https://api.anthropic.com/v1/chat/completions",
                Some((Anthropic, OpenAiChat)),
            ),
            (
                "https://api.groq.com/openai/v1/chat/completions",
                Some((Groq, OpenAiChat)),
            ),
            (
                "https://api.together.xyz/v1/chat/completions",
                Some((Together, OpenAiChat)),
            ),
            (
                "https://api.together.ai/v1/completions",
                Some((Together, OpenAiCompletion)),
            ),
            (
                "https://api.mistral.ai/v1/chat/completions",
                Some((Mistral, OpenAiChat)),
            ),
            (
                "https://api.mistral.ai/v1/embeddings",
                Some((Mistral, OpenAiEmbeddings)),
            ),
            (
                "https://api.deepseek.com/chat/completions",
                Some((DeepSeek, OpenAiChat)),
            ),
            (
                "https://openrouter.ai/api/v1/chat/completions",
                Some((OpenRouter, OpenAiChat)),
            ),
            (
                "https://openrouter.ai/api/v1/embeddings",
                Some((OpenRouter, OpenAiEmbeddings)),
            ),
            (
                "http://localhost:11434/api/chat",
                Some((Ollama, OllamaChat)),
            ),
            (
                "http://localhost:11434/api/generate",
                Some((Ollama, OllamaGenerate)),
            ),
            (
                "http://localhost:11434/api/embed",
                Some((Ollama, OllamaEmbed)),
            ),
            (
                "http://localhost:11434/api/embeddings",
                Some((Ollama, OllamaEmbed)),
            ),
            ("http://localhost:11434/api/tags", None),
            (
                "http://localhost:11434/v1/chat/completions",
                Some((Ollama, OpenAiChat)),
            ),
            (
                "http://localhost:11434/v1/embeddings",
                Some((Ollama, OpenAiEmbeddings)),
            ),
            (
                "http://gpu-box.lan:9999/api/chat",
                Some((Ollama, OllamaChat)),
            ),
            (
                "http://localhost:8000/v1/chat/completions",
                Some((Vllm, OpenAiChat)),
            ),
            (
                "http://localhost:8000/v1/completions",
                Some((Vllm, OpenAiCompletion)),
            ),
            (
                "http://localhost:4000/chat/completions",
                Some((OpenAi, OpenAiChat)),
            ),
            (
                "https://llm.internal.example/v1/chat/completions/",
                Some((OpenAi, OpenAiChat)),
            ),
            (
                "https://proxy.example/anthropic/v1/messages",
                Some((Anthropic, AnthropicMessages)),
            ),
            (
                "http://localhost:11434/v1/messages",
                Some((Ollama, AnthropicMessages)),
            ),
            (
                "http://localhost:11434/v1/responses",
                Some((Ollama, OpenAiResponses)),
            ),
            (
                "http://127.0.0.1:4010/completions",
                Some((OpenAi, OpenAiCompletion)),
            ),
            (
                "https://api.fireworks.ai/inference/v1/completions",
                Some((OpenAi, OpenAiCompletion)),
            ),
            (
                "https://generativelanguage.googleapis.com/v1beta/openai/embeddings",
                Some((OpenAi, OpenAiEmbeddings)),
            ),
            (
                "https://apim.corp.example/openai/deployments/emb-3/embeddings?api-version=2024-10-21",
                Some((OpenAi, OpenAiEmbeddings)),
            ),
            (
                "https://litellm.corp.example/v1/responses",
                Some((OpenAi, OpenAiResponses)),
            ),
            ("https://api.typeform.com/forms/abc123/responses", None),
            ("https://api.example.com/tickets/42/completions", None),
            (
                "https://search.example.com/api/v2/embeddings",
                Some((OpenAi, OpenAiEmbeddings)),
            ),
            (
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=k",
                Some((GcpGenAi, GeminiGenerateContent)),
            ),
            (
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=k",
                Some((GcpGenAi, GeminiGenerateContent)),
            ),
            (
                "https://generativelanguage.googleapis.com/v1/models/text-embedding-004:embedContent",
                Some((GcpGenAi, GeminiEmbedContent)),
            ),
            (
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001%3AbatchEmbedContents",
                Some((GcpGenAi, GeminiEmbedContent)),
            ),
            (
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens",
                None,
            ),
            (
                "https://generativelanguage.googleapis.com/v1beta/models",
                None,
            ),
            (
                "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent",
                Some((GcpVertexAi, GeminiGenerateContent)),
            ),
            (
                "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                Some((GcpVertexAi, GeminiGenerateContent)),
            ),
            (
                "http://127.0.0.1:4010/v1/projects/p/locations/l/publishers/google/models/m:generateContent",
                Some((GcpVertexAi, GeminiGenerateContent)),
            ),
            (
                "http://127.0.0.1:4010/v1beta/models/m:generateContent",
                Some((GcpGenAi, GeminiGenerateContent)),
            ),
            ("https://example.com/", None),
            ("https://example.com/index.html", None),
        ];
        for (u, want) in table {
            assert_eq!(&d(u), want, "{u}");
        }
    }

    #[test]
    fn split_method_takes_a_colon_or_an_escaped_one_in_either_case() {
        assert_eq!(
            split_method("m:generateContent"),
            Some(("m", "generateContent"))
        );
        assert_eq!(
            split_method("m%3AembedContent"),
            Some(("m", "embedContent"))
        );
        assert_eq!(
            split_method("m%3aembedContent"),
            Some(("m", "embedContent"))
        );
        // The last one wins, as with the colon.
        assert_eq!(split_method("a%3ab%3Ac"), Some(("a%3ab", "c")));
        assert_eq!(split_method("completions"), None);
        assert_eq!(split_method("%3"), None);
        assert_eq!(split_method("é%3Aé"), Some(("é", "é")));
    }

    #[test]
    fn url_facts_of_gemini_paths() {
        let f = |api, u: &str| url_facts(api, &Url::parse(u).unwrap());
        let generate = f(
            Api::GeminiGenerateContent,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=k",
        );
        assert_eq!(generate.model.as_deref(), Some("gemini-2.5-flash"));
        assert!(!generate.stream);
        let tuned = f(
            Api::GeminiGenerateContent,
            "https://generativelanguage.googleapis.com/v1beta/tunedModels/my%20model%3AstreamGenerateContent",
        );
        assert_eq!(tuned.model.as_deref(), Some("my model"));
        assert!(tuned.stream);
        assert_eq!(
            f(
                Api::OpenAiChat,
                "https://api.openai.com/v1/chat/completions"
            ),
            UrlFacts::default()
        );
    }

    #[test]
    fn overrides_win_for_the_provider() {
        let overrides = vec![
            (
                "https://gateway.example.com/v1".to_owned(),
                Provider::Other("litellm".into()),
            ),
            (
                "https://gateway.example.com/v1/groq".to_owned(),
                Provider::Groq,
            ),
            ("http://HOST:80".to_owned(), Provider::Mistral),
            (
                "https://api.openai.com/".to_owned(),
                Provider::Other("mine".into()),
            ),
        ];
        let dw = |u: &str| detect_with(&Url::parse(u).unwrap(), &overrides);
        assert_eq!(
            dw("https://gateway.example.com/v1/chat/completions"),
            Some((Provider::Other("litellm".into()), Api::OpenAiChat))
        );
        assert_eq!(
            dw("https://gateway.example.com/v1/groq/chat/completions"),
            Some((Provider::Groq, Api::OpenAiChat))
        );
        assert_eq!(
            dw("https://gateway.example.com/v1/messages"),
            Some((Provider::Other("litellm".into()), Api::AnthropicMessages))
        );
        // Path-segment boundary: `/v10` is not under `/v1`.
        assert_eq!(
            dw("https://gateway.example.com/v10/chat/completions"),
            Some((Provider::OpenAi, Api::OpenAiChat))
        );
        // `http://host:80` normalises to `http://host`, which must not match port 8000.
        assert_eq!(
            dw("http://host/v1/chat/completions"),
            Some((Provider::Mistral, Api::OpenAiChat))
        );
        assert_eq!(
            dw("http://host:8000/v1/chat/completions"),
            Some((Provider::Vllm, Api::OpenAiChat))
        );
        assert_eq!(
            dw("https://api.openai.com/v1/embeddings"),
            Some((Provider::Other("mine".into()), Api::OpenAiEmbeddings))
        );
        // An override does not make a non-LLM path an LLM call.
        assert_eq!(dw("https://gateway.example.com/v1/models"), None);
    }
}

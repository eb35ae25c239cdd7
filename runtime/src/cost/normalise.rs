//! Provider and model names as the price table keys them: canonical provider ids, and the
//! ordered list of model-name forms a lookup tries (see the module docs of `cost`).

use std::borrow::Cow;

/// The price table's id for a provider name: lower-cased, with the common spellings of the
/// Gemini API and Mistral mapped to their `gen_ai.provider.name` values.
pub(crate) fn canonical_provider(provider: &str) -> Cow<'_, str> {
    let p = provider.trim();
    let lower: Cow<'_, str> = if p.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(p.to_ascii_lowercase())
    } else {
        Cow::Borrowed(p)
    };
    match lower.as_ref() {
        "google" | "gemini" | "gcp.gemini" | "google_genai" | "google_generativeai" => {
            Cow::Borrowed("gcp.gen_ai")
        }
        "mistral" | "mistralai" => Cow::Borrowed("mistral_ai"),
        _ => lower,
    }
}

/// Routing prefixes some clients put before a model name (litellm, OpenRouter-style ids,
/// Gemini's REST resource names).
const ROUTING_PREFIXES: [&str; 10] = [
    "openai/",
    "anthropic/",
    "google/",
    "gemini/",
    "vertex_ai/",
    "mistral/",
    "mistralai/",
    "deepseek/",
    "groq/",
    "models/",
];

/// The forms of `model` a lookup tries, in order (at most four, no duplicates): the name,
/// the name without a routing prefix, and each of those without one version suffix.
pub(crate) fn candidates(provider: &str, model: &str) -> Vec<String> {
    let name = model.trim().to_ascii_lowercase();
    let mut out: Vec<String> = Vec::with_capacity(4);
    let routed = strip_routing(&name).map(str::to_owned);
    let mut bases = vec![name];
    if let Some(r) = routed {
        bases.push(r);
    }
    for b in &bases {
        push_unique(&mut out, b.clone());
    }
    // The version comes off the bare name only: a routed name keeps its prefix whole.
    if let Some(v) = bases.last().and_then(|b| strip_version(provider, b)) {
        push_unique(&mut out, v.to_owned());
    }
    out
}

fn push_unique(out: &mut Vec<String>, s: String) {
    if !s.is_empty() && !out.contains(&s) {
        out.push(s);
    }
}

fn strip_routing(name: &str) -> Option<&str> {
    if let Some(i) = name.rfind("/models/") {
        return Some(&name[i + "/models/".len()..]);
    }
    ROUTING_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .filter(|rest| !rest.is_empty())
}

/// `name` without one trailing version: a date (`-YYYY-MM-DD`, `-YYYYMMDD`) for every
/// provider, a `-YYMM` release for Mistral, a `-00N` version for Gemini.
fn strip_version<'a>(provider: &str, name: &'a str) -> Option<&'a str> {
    let dashed_date = |s: &'a str| -> Option<&'a str> {
        // "-YYYY-MM-DD"
        let (head, tail) = s.split_at_checked(s.len().checked_sub(11)?)?;
        let b = tail.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        (b[0] == b'-'
            && digits(1..5)
            && b[5] == b'-'
            && digits(6..8)
            && b[8] == b'-'
            && digits(9..11))
        .then_some(head)
    };
    let digit_suffix = |s: &'a str, n: usize| -> Option<&'a str> {
        let (head, tail) = s.split_at_checked(s.len().checked_sub(n + 1)?)?;
        let b = tail.as_bytes();
        (b[0] == b'-' && b[1..].iter().all(u8::is_ascii_digit) && !head.is_empty()).then_some(head)
    };
    if let Some(h) = dashed_date(name) {
        return Some(h);
    }
    if let Some(h) = digit_suffix(name, 8) {
        return Some(h);
    }
    match provider {
        "mistral_ai" => digit_suffix(name, 4),
        "gcp.gen_ai" => digit_suffix(name, 3)
            .filter(|_| name[..name.len() - 1].ends_with("-00") && !name.ends_with('0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_canonical() {
        assert_eq!(canonical_provider("OpenAI"), "openai");
        assert_eq!(canonical_provider(" gemini "), "gcp.gen_ai");
        assert_eq!(canonical_provider("gcp.gemini"), "gcp.gen_ai");
        assert_eq!(canonical_provider("Mistral"), "mistral_ai");
        assert_eq!(canonical_provider("azure.ai.openai"), "azure.ai.openai");
    }

    #[test]
    fn candidates_in_order() {
        assert_eq!(
            candidates("openai", "gpt-4o-mini-2024-07-18"),
            ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"]
        );
        assert_eq!(
            candidates("openai", "openai/GPT-4o-2024-08-06"),
            ["openai/gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "gpt-4o"]
        );
        assert_eq!(
            candidates("anthropic", "claude-3-5-sonnet-20241022"),
            ["claude-3-5-sonnet-20241022", "claude-3-5-sonnet"]
        );
        assert_eq!(
            candidates("mistral_ai", "magistral-medium-2509"),
            ["magistral-medium-2509", "magistral-medium"]
        );
        assert_eq!(
            candidates("gcp.gen_ai", "models/gemini-2.0-flash-001"),
            [
                "models/gemini-2.0-flash-001",
                "gemini-2.0-flash-001",
                "gemini-2.0-flash"
            ]
        );
        assert_eq!(
            candidates(
                "gcp.gen_ai",
                "projects/p/locations/us/publishers/google/models/gemini-2.5-pro"
            ),
            [
                "projects/p/locations/us/publishers/google/models/gemini-2.5-pro",
                "gemini-2.5-pro"
            ]
        );
        // Groq's own org/model ids stay first.
        assert_eq!(
            candidates("groq", "openai/gpt-oss-120b"),
            ["openai/gpt-oss-120b", "gpt-oss-120b"]
        );
    }

    #[test]
    fn what_is_not_stripped() {
        // -latest moves between models: never removed.
        assert_eq!(
            candidates("mistral_ai", "mistral-large-latest"),
            ["mistral-large-latest"]
        );
        // A 4-digit release is a Mistral convention only (gpt-3.5-turbo-1106 had its own price).
        assert_eq!(
            candidates("openai", "gpt-3.5-turbo-1106"),
            ["gpt-3.5-turbo-1106"]
        );
        // A -00N version is Gemini's only; "-000" is not a version.
        assert_eq!(candidates("openai", "model-001"), ["model-001"]);
        assert_eq!(candidates("gcp.gen_ai", "gemini-x-000"), ["gemini-x-000"]);
        // Not a date: wrong shape.
        assert_eq!(
            candidates("openai", "gpt-4o-2024-7-18"),
            ["gpt-4o-2024-7-18"]
        );
        assert_eq!(candidates("openai", "o3-mini-high"), ["o3-mini-high"]);
        // A bare date is not a model with a date.
        assert_eq!(candidates("openai", "-2024-07-18"), ["-2024-07-18"]);
        assert_eq!(candidates("openai", ""), Vec::<String>::new());
        // Multi-byte text near the end does not split a character.
        assert_eq!(candidates("openai", "modèle-é"), ["modèle-é"]);
    }
}

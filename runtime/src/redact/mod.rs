//! Redaction: what captured content goes through before it is written on a span or a log
//! event, when redaction is configured (nothing runs, and nothing is paid, otherwise).
//!
//! Two parts, both optional, set at `install()`:
//!
//! - **built-in redactors** ([`Redactor`]: `email`, `phone`, `card`, `iban`, `secret`),
//!   chosen with [`crate::TelemetryBuilder::redactors`] or `LLMETRY_REDACT=email,card,…`
//!   (`all` for every one; an unknown name is an [`crate::InitError::InvalidValue`]).
//!   Each string in the content, and each number that is a valid card number, has what
//!   they find replaced by `[REDACTED:<name>]`.
//! - **a hook** ([`RedactHook`], [`crate::TelemetryBuilder::redact_hook`]) that sees each
//!   piece of content as structured JSON ([`Content`]): an entity's input (an object of its
//!   arguments) or output, one part of an LLM message (a text part, a tool call with its
//!   arguments, a tool result, …) with its role, or an error message. It may rewrite the
//!   value in place, or [`Verdict::Drop`] it: a dropped entity input or output is not
//!   written, a dropped message part is left out of its message, a dropped error message is
//!   replaced by the error's type. The hook runs first, then the built-in redactors.
//!
//! Where it runs: where the content is captured, before it is serialised into an attribute
//! or event and before the span reaches the sampler or any processor, so sampled-out spans
//! and every exporter see the same redacted content. Entity inputs and outputs are captured
//! as JSON text (no intermediate tree on the default path); with redaction on, that text is
//! parsed back into a tree for the hook, so the hook always sees the structure; written
//! again, its objects' keys come out in sorted order (serde_json's map), not in parameter
//! order. An entity annotated `redact = false` skips redaction for its input, output and
//! error message.
//!
//! ```rust,standalone_crate
//! use llmetry::redact::{Content, Field, Redactor, Verdict};
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//!
//! #[llmetry::task(name = "lookup")]
//! fn lookup(customer: &str, api_token: &str) -> String {
//!     format!("{customer} pays with 4111 1111 1111 1111")
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = InMemorySpanExporter::default();
//! let telemetry = llmetry::init()
//!     .exporter(exporter.clone())
//!     .silence_init_message(true)
//! #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
//!     .redactors([Redactor::Email, Redactor::Card])
//!     .redact_hook(|content: &mut Content<'_>| {
//!         // Never record an argument named like a token.
//!         if content.field() == Field::EntityInput
//!             && let Some(args) = content.value().as_object_mut()
//!         {
//!             args.remove("api_token");
//!         }
//!         Verdict::Keep
//!     })
//!     .install()?;
//! lookup("jane@example.com", "t0k3n");
//! telemetry.flush()?;
//! let spans = exporter.get_finished_spans()?;
//! let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
//! assert_eq!(attr("traceloop.entity.input").as_deref(), Some(r#"{"args": [], "kwargs": {"customer": "[REDACTED:email]"}}"#));
//! assert_eq!(attr("traceloop.entity.output").as_deref(), Some(r#""[REDACTED:email] pays with [REDACTED:card]""#));
//! # Ok(()) }
//! ```

mod builtin;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::Value;

pub use builtin::Redactor;

use crate::config::env::EnvSource;
use crate::error::InitError;

/// The environment variable listing built-in redactors (`email,phone,card,iban,secret` or
/// `all`).
///
/// ```
/// assert_eq!(llmetry::redact::REDACT_ENV, "LLMETRY_REDACT");
/// ```
pub const REDACT_ENV: &str = "LLMETRY_REDACT";

/// Which kind of content a [`Content`] is.
///
/// ```
/// use llmetry::redact::Field;
/// assert_ne!(Field::EntityInput, Field::EntityOutput);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// An annotated function's arguments (`traceloop.entity.input`): an object of the
    /// captured arguments by name.
    EntityInput,
    /// An annotated function's return value (`traceloop.entity.output`).
    EntityOutput,
    /// The message of an error: an annotated function's `Err` (exception message and status
    /// description), or the message of a provider's error body. A string.
    ErrorMessage,
    /// One part of an LLM input message (`gen_ai.input.messages`, prompt events): a JSON
    /// object such as `{"type": "text", "content": …}`, `{"type": "tool_call", "name": …,
    /// "arguments": …}` or `{"type": "tool_call_response", "response": …}`.
    LlmInput,
    /// One part of an LLM system instruction (`gen_ai.system_instructions`).
    LlmSystem,
    /// One part of an LLM output message (`gen_ai.output.messages`, completion events).
    LlmOutput,
}

/// What to do with a piece of content after the hook looked at it.
///
/// ```
/// use llmetry::redact::Verdict;
/// assert_ne!(Verdict::Keep, Verdict::Drop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep it (as the hook may have rewritten it).
    Keep,
    /// Leave it out: an entity input or output is not written, a message part is removed
    /// from its message, an error message is replaced by the error's type.
    Drop,
}

/// One piece of captured content, as the hook sees it.
///
/// ```
/// use llmetry::redact::{Content, Field, Verdict};
/// // A hook that drops every tool result an LLM is given.
/// fn no_tool_results(content: &mut Content<'_>) -> Verdict {
///     let is_result = content.value_ref()["type"] == "tool_call_response";
///     if content.field() == Field::LlmInput && is_result { Verdict::Drop } else { Verdict::Keep }
/// }
/// # let _ = no_tool_results;
/// ```
pub struct Content<'a> {
    field: Field,
    source: &'a str,
    role: Option<&'a str>,
    value: &'a mut Value,
}

impl fmt::Debug for Content<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Content")
            .field("field", &self.field)
            .field("source", &self.source)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl<'a> Content<'a> {
    /// Which kind of content this is.
    ///
    /// ```
    /// # use llmetry::redact::{Content, Field};
    /// fn is_prompt(c: &Content<'_>) -> bool { c.field() == Field::LlmInput }
    /// # let _ = is_prompt;
    /// ```
    pub fn field(&self) -> Field {
        self.field
    }

    /// Where it comes from: the entity's name (`#[task(name = "…")]`) for entity content
    /// and entity errors, the provider (`gen_ai.provider.name`) for LLM content and
    /// provider errors.
    ///
    /// ```
    /// # use llmetry::redact::Content;
    /// fn from_billing(c: &Content<'_>) -> bool { c.source() == "charge_card" }
    /// # let _ = from_billing;
    /// ```
    pub fn source(&self) -> &str {
        self.source
    }

    /// The message's role (`user`, `assistant`, `tool`, …) for LLM message parts.
    ///
    /// ```
    /// # use llmetry::redact::Content;
    /// fn from_user(c: &Content<'_>) -> bool { c.role() == Some("user") }
    /// # let _ = from_user;
    /// ```
    pub fn role(&self) -> Option<&str> {
        self.role
    }

    /// The value, to rewrite in place.
    ///
    /// ```
    /// # use llmetry::redact::Content;
    /// fn blank_strings(c: &mut Content<'_>) {
    ///     if let Some(s) = c.value().as_str().map(|_| String::new()) { *c.value() = s.into(); }
    /// }
    /// # let _ = blank_strings;
    /// ```
    pub fn value(&mut self) -> &mut Value {
        self.value
    }

    /// The value, to read.
    ///
    /// ```
    /// # use llmetry::redact::Content;
    /// fn is_text(c: &Content<'_>) -> bool { c.value_ref()["type"] == "text" }
    /// # let _ = is_text;
    /// ```
    pub fn value_ref(&self) -> &Value {
        self.value
    }
}

/// A redaction hook: sees each piece of captured content ([`Content`]) before it is
/// serialised; rewrites it in place and returns [`Verdict::Keep`], or drops it. Any
/// `Fn(&mut Content<'_>) -> Verdict + Send + Sync + 'static` is one.
///
/// ```
/// use llmetry::redact::{Content, RedactHook, Verdict};
/// struct NoSystemPrompts;
/// impl RedactHook for NoSystemPrompts {
///     fn redact(&self, content: &mut Content<'_>) -> Verdict {
///         if content.field() == llmetry::redact::Field::LlmSystem { Verdict::Drop } else { Verdict::Keep }
///     }
/// }
/// let builder = llmetry::init().redact_hook(NoSystemPrompts);
/// ```
pub trait RedactHook: Send + Sync + 'static {
    /// Looks at (and may rewrite) one piece of content.
    fn redact(&self, content: &mut Content<'_>) -> Verdict;
}

impl<F> RedactHook for F
where
    F: Fn(&mut Content<'_>) -> Verdict + Send + Sync + 'static,
{
    fn redact(&self, content: &mut Content<'_>) -> Verdict {
        self(content)
    }
}

/// The builder's redaction options.
#[derive(Default)]
pub(crate) struct RedactOptions {
    pub(crate) redactors: Option<Vec<Redactor>>,
    pub(crate) hook: Option<Arc<dyn RedactHook>>,
}

impl fmt::Debug for RedactOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactOptions")
            .field("redactors", &self.redactors)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

/// Redaction as installed.
struct Redaction {
    redactors: Vec<Redactor>,
    hook: Option<Arc<dyn RedactHook>>,
}

/// Whether redaction is configured: the one check the capture paths pay when it is not.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static CONFIG: RwLock<Option<Arc<Redaction>>> = RwLock::new(None);

/// Whether redaction is configured in this process (a redactor or a hook was installed).
/// Instrumentations check it before preparing content for [`redact_value`].
///
/// ```
/// # let _ =
/// llmetry::redact::active();
/// ```
#[inline]
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

fn config() -> Option<Arc<Redaction>> {
    CONFIG.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The redactors `install()` uses: the builder's list, else `LLMETRY_REDACT`'s; then puts
/// them and the hook in place (before any span exists).
pub(crate) fn resolve(options: RedactOptions, env: &EnvSource) -> Result<Installer, InitError> {
    let redactors = match options.redactors {
        Some(list) => list,
        None => match env.get(REDACT_ENV) {
            Some(v) => parse_list(&v)?,
            None => Vec::new(),
        },
    };
    Ok(Installer {
        redactors,
        hook: options.hook,
    })
}

/// Resolved redaction, waiting for `install()` to commit.
pub(crate) struct Installer {
    redactors: Vec<Redactor>,
    hook: Option<Arc<dyn RedactHook>>,
}

impl Installer {
    /// Puts the redaction in place (no-op when nothing is configured).
    pub(crate) fn install(self) {
        if self.redactors.is_empty() && self.hook.is_none() {
            return;
        }
        *CONFIG.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Redaction {
            redactors: self.redactors,
            hook: self.hook,
        }));
        ACTIVE.store(true, Ordering::Release);
    }
}

/// `email, card` / `all` → redactors; an unknown name is an error naming it.
fn parse_list(v: &str) -> Result<Vec<Redactor>, InitError> {
    let mut out = Vec::new();
    for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.eq_ignore_ascii_case("all") {
            for r in builtin::ALL {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            continue;
        }
        let r: Redactor = name
            .parse()
            .map_err(|bad: String| InitError::InvalidValue {
                key: REDACT_ENV.to_owned(),
                value: format!("{v} (unknown redactor {bad:?})"),
                expected: builtin::EXPECTED_NAMES,
            })?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Runs the hook, then the built-in redactors, on one piece of content; [`Verdict::Drop`]
/// when the hook dropped it. Without redaction configured: `Keep`, untouched. This is what
/// instrumentations call for each piece of content they capture (each part of each
/// message).
///
/// ```
/// use llmetry::redact::{Field, Verdict, redact_value};
/// let mut part = serde_json::json!({"type": "text", "content": "hi"});
/// assert_eq!(redact_value(Field::LlmInput, "openai", Some("user"), &mut part), Verdict::Keep);
/// ```
pub fn redact_value(field: Field, source: &str, role: Option<&str>, value: &mut Value) -> Verdict {
    if !active() {
        return Verdict::Keep;
    }
    let Some(cfg) = config() else {
        return Verdict::Keep;
    };
    apply(&cfg, field, source, role, value)
}

fn apply(
    cfg: &Redaction,
    field: Field,
    source: &str,
    role: Option<&str>,
    value: &mut Value,
) -> Verdict {
    if let Some(hook) = &cfg.hook {
        let mut content = Content {
            field,
            source,
            role,
            value,
        };
        if hook.redact(&mut content) == Verdict::Drop {
            return Verdict::Drop;
        }
    }
    if !cfg.redactors.is_empty() {
        redact_tree(&cfg.redactors, value);
    }
    Verdict::Keep
}

/// The built-in redactors over every string (and card-like number) in `value`.
fn redact_tree(redactors: &[Redactor], value: &mut Value) {
    match value {
        Value::String(s) => {
            builtin::redact_text(redactors, s);
        }
        Value::Number(n) if redactors.contains(&Redactor::Card) => {
            let digits = n.to_string();
            if (13..=19).contains(&digits.len())
                && builtin::redact_text(&[Redactor::Card], &mut digits.clone())
            {
                *value = Value::String("[REDACTED:card]".to_owned());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_tree(redactors, v)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_tree(redactors, v)),
        _ => {}
    }
}

/// An error message with content allowed: the hook and the redactors; `None` when the hook
/// dropped it (the caller writes the error's type instead).
///
/// ```
/// use llmetry::redact::redact_message;
/// assert_eq!(redact_message("my_tool", "no such file").as_deref(), Some("no such file"));
/// ```
pub fn redact_message(source: &str, message: &str) -> Option<String> {
    let mut v = Value::String(message.to_owned());
    if redact_value(Field::ErrorMessage, source, None, &mut v) == Verdict::Drop {
        return None;
    }
    match v {
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// An entity's captured JSON text (input or output), redacted in place; `false` when the
/// hook dropped it. Called only when [`active`].
pub(crate) fn redact_entity_json(field: Field, entity: &str, json: &mut String) -> bool {
    let Some(cfg) = config() else {
        return true;
    };
    let Ok(mut value) = serde_json::from_str::<Value>(json) else {
        // Not JSON (cannot happen: capture writes JSON): redact it as text.
        let mut v = Value::String(std::mem::take(json));
        let keep = apply(&cfg, field, entity, None, &mut v) == Verdict::Keep;
        *json = v
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string());
        return keep;
    };
    // An input is `{"args": [], "kwargs": {…}}` (Python's shape): the hook sees the
    // arguments by name.
    let target = match value.get_mut("kwargs") {
        Some(kwargs) if field == Field::EntityInput && kwargs.is_object() => kwargs,
        _ => &mut value,
    };
    if apply(&cfg, field, entity, None, target) == Verdict::Drop {
        return false;
    }
    json.clear();
    crate::capture::write_json(&value, json, "redacted");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_unknown_names_are_named() {
        assert_eq!(
            parse_list("email, CARD,email").ok(),
            Some(vec![Redactor::Email, Redactor::Card])
        );
        assert_eq!(parse_list("all").map(|v| v.len()).ok(), Some(5));
        match parse_list("email,ssn") {
            Err(InitError::InvalidValue {
                key,
                value,
                expected,
            }) => {
                assert_eq!(key, "LLMETRY_REDACT");
                assert_eq!(value, "email,ssn (unknown redactor \"ssn\")");
                assert!(expected.contains("email, phone, card, iban, secret"));
            }
            other => panic!("expected InvalidValue, got {other:?}"),
        }
    }

    #[test]
    fn numbers_that_are_cards_are_redacted_in_trees() {
        let mut v =
            serde_json::json!({"card": 4111111111111111u64, "order": 1732976400000u64, "n": 42});
        redact_tree(&[Redactor::Card], &mut v);
        assert_eq!(
            v,
            serde_json::json!({"card": "[REDACTED:card]", "order": 1732976400000u64, "n": 42})
        );
    }
}

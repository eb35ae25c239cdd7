//! The JSON text of the content attributes (`gen_ai.input.messages`,
//! `gen_ai.output.messages`, `gen_ai.system_instructions`, `gen_ai.tool.definitions`, …)
//! written as the Python instrumentations write it: `json.dumps` defaults (`", "` and `": "`
//! separators, non-ASCII as `\uXXXX` escapes) and each object's keys in the order the
//! Python source builds them, so the attribute is the same text, not only the same JSON.
//!
//! Key order: a message is `role`, `parts`, `finish_reason`; a part's known keys come in
//! the order of its [`Style`] (which Python instrumentation, and for OpenAI whether the text
//! came from an embeddings input), then any other keys sorted; objects inside a part
//! (tool-call arguments, schemas) are written sorted (Python keeps the order they were
//! given in, which a parsed `serde_json::Value` no longer has).

use std::fmt::Write as _;

use serde_json::Value;

use crate::bytescan::{below, first_in, has_byte, non_ascii};

use crate::model::{Api, Family, Message};

/// Which Python instrumentation's key order to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `opentelemetry-instrumentation-openai` chat (and completions, responses).
    OpenAiChat,
    /// `opentelemetry-instrumentation-openai` embeddings: text parts are `type` first.
    OpenAiEmbeddings,
    /// `opentelemetry-instrumentation-anthropic` (and our Ollama JSON, which Python does not
    /// write): every part `type` first.
    TypeFirst,
}

impl Style {
    pub(crate) fn of(api: Api) -> Self {
        match (api.family(), api) {
            (Family::OpenAi, Api::OpenAiEmbeddings) => Style::OpenAiEmbeddings,
            (Family::OpenAi, _) => Style::OpenAiChat,
            _ => Style::TypeFirst,
        }
    }

    /// The known keys of a part of type `kind`, in Python's order.
    fn part_keys(self, kind: &str) -> &'static [&'static str] {
        match (self, kind) {
            (Style::OpenAiChat, "text") => &["content", "type"],
            (_, "text" | "reasoning" | "refusal") => &["type", "content"],
            (Style::OpenAiChat, "tool_call") => &["type", "name", "id", "arguments"],
            (_, "tool_call") => &["type", "id", "name", "arguments"],
            (_, "tool_call_response") => &["type", "id", "response"],
            (_, "blob") => &["type", "modality", "mime_type", "content"],
            (_, "uri") => &["type", "modality", "uri"],
            (_, "file") => &["type", "modality", "file_id"],
            _ => &["type"],
        }
    }

    /// The known keys of a tool definition, in Python's order.
    fn tool_keys(self) -> &'static [&'static str] {
        match self {
            Style::TypeFirst => &["name", "description", "input_schema"],
            _ => &["type", "name", "description", "parameters"],
        }
    }
}

/// Messages as Python writes them: input messages `{"role", "parts"}`, output messages
/// (`output`) with `"finish_reason"` always (`""` when there is none, as Python).
pub(crate) fn messages(msgs: &[Message], style: Style, output: bool) -> String {
    let mut out = MessagesJson::with_capacity(msgs.len());
    for m in msgs {
        out.message(&m.role, m.finish_reason.as_deref(), output, |o| {
            parts_into(o, &m.parts, style);
        });
    }
    out.finish()
}

/// The JSON text of a list of messages, written one message at a time: what [`messages`]
/// writes, also for messages read straight from a body that never become [`Message`]s
/// (plain text ones, [`MessagesJson::text_message`]).
pub(crate) struct MessagesJson {
    out: String,
    count: usize,
}

impl MessagesJson {
    pub(crate) fn with_capacity(messages: usize) -> Self {
        let mut out = String::with_capacity(64 + 96 * messages);
        out.push('[');
        MessagesJson { out, count: 0 }
    }

    /// One message; `parts` writes its parts list.
    fn message(
        &mut self,
        role: &str,
        finish_reason: Option<&str>,
        output: bool,
        parts: impl FnOnce(&mut String),
    ) {
        let out = &mut self.out;
        if self.count > 0 {
            out.push_str(", ");
        }
        self.count += 1;
        out.push_str("{\"role\": ");
        write_str(out, role);
        out.push_str(", \"parts\": ");
        parts(out);
        if output || finish_reason.is_some() {
            out.push_str(", \"finish_reason\": ");
            write_str(out, finish_reason.unwrap_or(""));
        }
        out.push('}');
    }

    /// A message whose only part is the text part of `text` (no parts when `None`): what
    /// [`MessagesJson::message`] writes for `Message { role, parts: [text_part(text)], .. }`.
    pub(crate) fn text_message(
        &mut self,
        role: &str,
        text: Option<&str>,
        finish_reason: Option<&str>,
        output: bool,
        style: Style,
    ) {
        self.message(role, finish_reason, output, |out| {
            out.push('[');
            if let Some(text) = text {
                out.push('{');
                for (i, key) in style.part_keys("text").iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str(out, key);
                    out.push_str(": ");
                    write_str(out, if *key == "type" { "text" } else { text });
                }
                out.push('}');
            }
            out.push(']');
        });
    }

    /// How many messages were written.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push(']');
        self.out
    }
}

/// A list of parts (`gen_ai.system_instructions`).
pub(crate) fn parts(parts: &[Value], style: Style) -> String {
    let mut out = String::with_capacity(64 * parts.len().max(1));
    parts_into(&mut out, parts, style);
    out
}

/// Tool definitions (`gen_ai.tool.definitions`).
pub(crate) fn tool_definitions(defs: &[Value], style: Style) -> String {
    let mut out = String::with_capacity(128 * defs.len().max(1));
    out.push('[');
    for (i, d) in defs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_ordered(&mut out, d, style.tool_keys());
    }
    out.push(']');
    out
}

/// Any value as Python's `json.dumps` writes it (object keys sorted).
pub(crate) fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

fn parts_into(out: &mut String, parts: &[Value], style: Style) {
    out.push('[');
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
        write_ordered(out, p, style.part_keys(kind));
    }
    out.push(']');
}

/// An object with `first` keys (those present) in that order, then the others sorted.
fn write_ordered(out: &mut String, v: &Value, first: &[&str]) {
    let Value::Object(map) = v else {
        write_value(out, v);
        return;
    };
    out.push('{');
    let mut n = 0;
    let mut entry = |out: &mut String, k: &str, v: &Value| {
        if n > 0 {
            out.push_str(", ");
        }
        n += 1;
        write_str(out, k);
        out.push_str(": ");
        write_value(out, v);
    };
    for k in first {
        if let Some(v) = map.get(*k) {
            entry(out, k, v);
        }
    }
    for (k, v) in map {
        if !first.contains(&k.as_str()) {
            entry(out, k, v);
        }
    }
    out.push('}');
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, v);
            }
            out.push(']');
        }
        Value::Object(_) => write_ordered(out, v, &[]),
    }
}

/// Bytes written as they are: printable ASCII other than `"` and `\\`.
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

/// How many bytes at the start of `bytes` are [`PLAIN`] (eight at a time while a whole word
/// is): text is mostly plain, this is the writer's inner loop.
fn plain_run(bytes: &[u8]) -> usize {
    // Not plain: a quote, a backslash, DEL, a control byte (below 0x20), a non-ASCII one.
    let flagged = |w| {
        has_byte(w, b'"') | has_byte(w, b'\\') | has_byte(w, 0x7f) | below(w, 0x20) | non_ascii(w)
    };
    first_in(bytes, flagged, &NOT_PLAIN).unwrap_or(bytes.len())
}

/// [`PLAIN`]'s complement.
const NOT_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = !PLAIN[b];
        b += 1;
    }
    t
};

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii=True`).
fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let (mut plain, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        if PLAIN[usize::from(b)] {
            i += 1 + plain_run(bytes.get(i + 1..).unwrap_or_default());
            continue;
        }
        out.push_str(s.get(plain..i).unwrap_or_default());
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => "",
        };
        if escape.is_empty() {
            // A control character or a non-ASCII char: `\uXXXX`, UTF-16 units.
            let c = s
                .get(i..)
                .and_then(|r| r.chars().next())
                .unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
            i += c.len_utf8();
        } else {
            out.push_str(escape);
            i += 1;
        }
        plain = i;
    }
    out.push_str(s.get(plain..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::providers::parts::{message, text_part};

    #[test]
    fn strings_are_ascii_with_python_escapes() {
        let s = to_string(&json!("°C \"q\" \\ \n \u{1}\u{1F600}/"));
        assert_eq!(s, r#""\u00b0C \"q\" \\ \n \u0001\ud83d\ude00/""#);
    }

    #[test]
    fn plain_run_stops_at_the_first_byte_python_escapes() {
        let plain = "abcdefghijklmnopqrstuvwxyz 0123456789 ~!#$%&'()*+,-./:;<=>?@[]^_`{|}";
        assert_eq!(plain_run(plain.as_bytes()), plain.len());
        for at in 0..plain.len() {
            for c in [
                "\"",
                "\\",
                "\n",
                "\u{0}",
                "\u{1f}",
                "\u{7f}",
                "é",
                "\u{1F600}",
            ] {
                let mut t = plain.to_owned();
                t.insert_str(at, c);
                // A later special byte must not hide the first.
                t.push('"');
                assert_eq!(plain_run(t.as_bytes()), at, "{t:?}");
            }
        }
        // Every byte value, alone and after seven plain bytes.
        for b in 0..=255u8 {
            let expected = usize::from(PLAIN[usize::from(b)]);
            assert_eq!(plain_run(&[b]), expected, "{b:#x}");
            let mut word = *b"abcdefg_";
            word[7] = b;
            assert_eq!(plain_run(&word), 7 + expected, "{b:#x}");
        }
    }

    #[test]
    fn messages_in_python_key_order() {
        let msgs = [message("user", vec![text_part("hi")])];
        assert_eq!(
            messages(&msgs, Style::OpenAiChat, false),
            r#"[{"role": "user", "parts": [{"content": "hi", "type": "text"}]}]"#
        );
        assert_eq!(
            messages(&msgs, Style::OpenAiEmbeddings, false),
            r#"[{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]"#
        );
        let out = [Message {
            role: "assistant".into(),
            parts: vec![
                json!({"type": "tool_call", "id": "c1", "name": "f", "arguments": {"b": 1, "a": [true, null]}}),
            ],
            finish_reason: None,
        }];
        assert_eq!(
            messages(&out, Style::TypeFirst, true),
            r#"[{"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {"a": [true, null], "b": 1}}], "finish_reason": ""}]"#
        );
    }
}

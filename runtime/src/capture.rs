//! Turning arguments, return values and errors into attribute strings.
//!
//! Values are written as JSON with `serde::Serialize` where the type implements it,
//! otherwise as a JSON string of their `Debug` form, otherwise as a JSON string of the type
//! name. The choice is made at compile time by autoref specialisation in the code the
//! macros generate, so a non-serialisable argument is never a compile error or a panic.
//!
//! JSON uses Python's `json.dumps` separators (`", "` and `": "`) so that attribute values
//! are byte-identical to what the Python SDK writes for the same data.

use std::cell::Cell;
use std::fmt::{Debug, Display, Write as _};
use std::io;

use serde::Serialize;

/// A borrowed value waiting to be captured; see the module docs.
pub struct Capture<'a, T: ?Sized>(pub &'a T);

/// Step 1 of the capture ladder: `Serialize` types are written as JSON.
pub trait CaptureSerialize {
    /// Appends the JSON of the value to `out`.
    fn llmetry_write_json(&self, out: &mut String);
}

impl<T: Serialize + ?Sized> CaptureSerialize for &&Capture<'_, T> {
    fn llmetry_write_json(&self, out: &mut String) {
        write_json(self.0, out, std::any::type_name::<T>());
    }
}

/// Step 2 of the capture ladder: `Debug` types are written as a JSON string.
pub trait CaptureDebug {
    /// Appends the JSON of the value to `out`.
    fn llmetry_write_json(&self, out: &mut String);
}

impl<T: Debug + ?Sized> CaptureDebug for &Capture<'_, T> {
    fn llmetry_write_json(&self, out: &mut String) {
        // Escaped as it is formatted: no intermediate `String`.
        out.push('"');
        let _ = write!(JsonStrEscaper(out), "{:?}", self.0);
        out.push('"');
    }
}

/// Step 3 of the capture ladder: anything else is written as its type name.
pub trait CaptureTypeName {
    /// Appends the JSON of the value to `out`.
    fn llmetry_write_json(&self, out: &mut String);
}

impl<T: ?Sized> CaptureTypeName for Capture<'_, T> {
    fn llmetry_write_json(&self, out: &mut String) {
        write_json_str(std::any::type_name::<T>(), out);
    }
}

/// Step 1 of the error ladder: `Display`.
pub trait DescribeDisplay {
    /// The message recorded for an error value.
    fn llmetry_describe(&self) -> String;
}

impl<T: Display + ?Sized> DescribeDisplay for &&Capture<'_, T> {
    fn llmetry_describe(&self) -> String {
        self.0.to_string()
    }
}

/// Step 2 of the error ladder: `Debug`.
pub trait DescribeDebug {
    /// The message recorded for an error value.
    fn llmetry_describe(&self) -> String;
}

impl<T: Debug + ?Sized> DescribeDebug for &Capture<'_, T> {
    fn llmetry_describe(&self) -> String {
        format!("{:?}", self.0)
    }
}

/// Step 3 of the error ladder: the type name.
pub trait DescribeTypeName {
    /// The message recorded for an error value.
    fn llmetry_describe(&self) -> String;
}

impl<T: ?Sized> DescribeTypeName for Capture<'_, T> {
    fn llmetry_describe(&self) -> String {
        std::any::type_name::<T>().to_owned()
    }
}

/// Builds `{"args": [], "kwargs": {"<param>": <value>, …}}` in parameter order.
pub struct InputJson {
    buf: String,
    first: bool,
}

impl Default for InputJson {
    fn default() -> Self {
        Self::new()
    }
}

impl InputJson {
    /// An empty argument list.
    pub fn new() -> Self {
        Self::in_buffer(String::with_capacity(128))
    }

    /// An empty argument list written into `buf` (cleared first): a reused buffer.
    pub(crate) fn in_buffer(mut buf: String) -> Self {
        buf.clear();
        buf.push_str(r#"{"args": [], "kwargs": {"#);
        Self { buf, first: true }
    }

    /// Writes the key of the next keyword argument; the caller appends its value.
    pub fn key(&mut self, name: &str) -> &mut String {
        if !self.first {
            self.buf.push_str(", ");
        }
        self.first = false;
        write_json_str(name, &mut self.buf);
        self.buf.push_str(": ");
        &mut self.buf
    }

    /// The finished JSON document.
    pub fn finish(mut self) -> String {
        self.buf.push_str("}}");
        self.buf
    }
}

thread_local! {
    /// The buffer a captured value is built in, reused from call to call: the span keeps a
    /// copy of the final text (an `Arc<str>` of its exact length), so a per-call buffer
    /// would be one more allocation, grown by doubling, for nothing.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// The largest scratch buffer kept for the next call; one grown past it (a big value) is
/// freed after its call rather than held by the thread.
const SCRATCH_KEEP: usize = 16 * 1024;

/// Runs `f` with this thread's scratch buffer, emptied. The buffer is taken out of the
/// thread-local, not borrowed: `f` runs user code (`Serialize` and `Debug` impls, the
/// redaction hook) that may capture a value again on this thread, which then builds in a
/// new buffer of its own.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut String) -> R) -> R {
    // During the thread's teardown the thread-local is gone: a fresh buffer then.
    let mut buf = SCRATCH.try_with(Cell::take).unwrap_or_default();
    buf.clear();
    let result = f(&mut buf);
    if buf.capacity() <= SCRATCH_KEEP {
        let _ = SCRATCH.try_with(|cell| cell.set(buf));
    }
    result
}

/// serde_json formatter with Python's default separators.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// Appends `value` as Python-formatted JSON; on a serialisation error (a map with
/// non-string keys, a failing `Serialize` impl) appends the type name instead.
pub(crate) fn write_json<T: Serialize + ?Sized>(value: &T, out: &mut String, type_name: &str) {
    let start = out.len();
    // serde_json writes into the `String`'s own bytes (taking them costs no copy), in many
    // small pieces; the result is checked as UTF-8 once rather than piece by piece.
    let mut bytes = std::mem::take(out).into_bytes();
    let serialized = {
        let mut ser = serde_json::Serializer::with_formatter(&mut bytes, PythonFormatter);
        value.serialize(&mut ser).is_ok()
    };
    let (text, valid) = match String::from_utf8(bytes) {
        Ok(text) => (text, true),
        Err(e) => {
            // Not reached (serde_json writes UTF-8); what precedes `start` was a `String`.
            let mut bytes = e.into_bytes();
            bytes.truncate(start);
            (String::from_utf8(bytes).unwrap_or_default(), false)
        }
    };
    *out = text;
    if !serialized || !valid {
        // Drop what was written before the error.
        out.truncate(start);
        write_json_str(type_name, out);
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    push_escaped(s, out);
    out.push('"');
}

/// Appends the JSON string escape of `s` (without the quotes): runs of plain characters
/// are copied whole; `"`, `\\` and control characters are escaped.
fn push_escaped(s: &str, out: &mut String) {
    let mut plain_from = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        // The usual byte, tested first: one comparison chain, no table.
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // `b` is ASCII, so `i` is a character boundary.
        out.push_str(&s[plain_from..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        plain_from = i + 1;
    }
    out.push_str(&s[plain_from..]);
}

/// A `fmt::Write` that escapes what is written into a JSON string's contents.
struct JsonStrEscaper<'a>(&'a mut String);

impl std::fmt::Write for JsonStrEscaper<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        push_escaped(s, self.0);
        Ok(())
    }
}

/// Cuts `s` to at most `limit` bytes, backing off to the previous UTF-8 character boundary.
pub(crate) fn truncate_utf8(s: &mut String, limit: usize) {
    if s.len() <= limit {
        return;
    }
    let mut end = limit;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::needless_borrow)]
    use super::*;
    use std::collections::HashMap;

    #[derive(serde::Serialize)]
    struct Evidence {
        host: String,
        lines: Vec<String>,
    }
    #[derive(Debug)]
    struct OnlyDebug {
        _x: u8,
    }
    struct Opaque;

    fn json_of<T>(f: impl FnOnce(&mut String)) -> String {
        let mut s = String::new();
        f(&mut s);
        let _ = std::marker::PhantomData::<T>;
        s
    }

    #[test]
    fn ladder_picks_serialize_then_debug_then_type_name() {
        let ev = Evidence {
            host: "db-1".into(),
            lines: vec!["a".into(), "b".into()],
        };
        let s = json_of::<()>(|o| (&&&Capture(&ev)).llmetry_write_json(o));
        assert_eq!(s, r#"{"host": "db-1", "lines": ["a", "b"]}"#);
        let d = OnlyDebug { _x: 7 };
        let s = json_of::<()>(|o| (&&&Capture(&d)).llmetry_write_json(o));
        assert_eq!(s, r#""OnlyDebug { _x: 7 }""#);
        let s = json_of::<()>(|o| (&&&Capture(&Opaque)).llmetry_write_json(o));
        assert!(s.ends_with("Opaque\""), "{s}");
    }

    #[test]
    fn non_string_map_keys_fall_back_to_type_name() {
        let mut m = HashMap::new();
        m.insert(vec![1u8], 2);
        let s = json_of::<()>(|o| (&&&Capture(&m)).llmetry_write_json(o));
        assert!(
            s.starts_with("\"std::collections::hash::map::HashMap"),
            "{s}"
        );
    }

    #[test]
    fn input_json_matches_python_shape() {
        let mut w = InputJson::new();
        (&&&Capture(&"db-1")).llmetry_write_json(w.key("host"));
        (&&&Capture(&"2h")).llmetry_write_json(w.key("since"));
        assert_eq!(
            w.finish(),
            r#"{"args": [], "kwargs": {"host": "db-1", "since": "2h"}}"#
        );
        assert_eq!(InputJson::new().finish(), r#"{"args": [], "kwargs": {}}"#);
    }

    #[test]
    fn scratch_is_emptied_and_reentrant() {
        struct Nested;
        impl std::fmt::Debug for Nested {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // User code capturing again on this thread, inside an outer capture.
                let inner = with_scratch(|s| {
                    s.push_str("inner");
                    s.clone()
                });
                f.write_str(&inner)
            }
        }
        let outer = with_scratch(|s| {
            s.push_str("outer:");
            (&&&Capture(&Nested)).llmetry_write_json(s);
            s.clone()
        });
        assert_eq!(outer, r#"outer:"inner""#);
        assert_eq!(with_scratch(|s| s.clone()), "");
    }

    #[test]
    fn describe_ladder() {
        let e = std::io::Error::other("disk full");
        assert_eq!((&&&Capture(&e)).llmetry_describe(), "disk full");
        assert_eq!(
            (&&&Capture(&OnlyDebug { _x: 1 })).llmetry_describe(),
            "OnlyDebug { _x: 1 }"
        );
        assert!((&&&Capture(&Opaque)).llmetry_describe().ends_with("Opaque"));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let mut s = "héllo".to_owned(); // 'é' is 2 bytes at 1..3
        truncate_utf8(&mut s, 2);
        assert_eq!(s, "h");
        let mut s = "héllo".to_owned();
        truncate_utf8(&mut s, 3);
        assert_eq!(s, "hé");
        let mut s = "abc".to_owned();
        truncate_utf8(&mut s, 10);
        assert_eq!(s, "abc");
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut s = String::new();
        write_json_str("a\"b\\c\n\u{1}", &mut s);
        assert_eq!(s, r#""a\"b\\c\n\u0001""#);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v, "a\"b\\c\n\u{1}");
    }
}

//! The streamed JSON-array decoder (Gemini's `streamGenerateContent` without `alt=sse`).

use super::{MAX_LINE, text};

/// Where the decoder is in the body.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first non-blank byte.
    #[default]
    Start,
    /// Inside the top-level array, between elements.
    Between,
    /// Inside an element (or a top-level value that is not an array).
    Element,
    /// After the top-level `]` (or the end of a top-level non-array value).
    Closed,
}

/// Incremental decoder of a body that is one JSON array streamed element by element
/// (`[`, elements separated by `,` and whitespace, `]`): returns each complete top-level
/// element as text. Strings and escapes are tracked, so brackets and commas inside strings
/// never split an element. A body that is not an array (an error object) is one element.
///
/// Bounded like the other decoders: an element longer than [`MAX_LINE`] is dropped
/// ([`JsonArrayDecoder::truncated`]); only an unfinished element is copied between chunks.
///
/// ```
/// use llmetry_instruments::decode::JsonArrayDecoder;
///
/// let mut decoder = JsonArrayDecoder::new();
/// let mut elements = decoder.push(b"[{\"text\": \"a,]\"}\r\n,");
/// elements.extend(decoder.push(b"{\"text\": \"b\"}]"));
/// assert_eq!(elements, [r#"{"text": "a,]"}"#, r#"{"text": "b"}"#]);
/// assert!(decoder.closed());
/// ```
#[derive(Debug, Default)]
pub struct JsonArrayDecoder {
    state: State,
    /// Nesting depth inside the current element.
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Whether the current value is the top level itself (not an array element).
    top_level_value: bool,
    /// The current element is a number or a literal (`true`, `null`): it ends at a
    /// delimiter, not at a closing bracket or quote.
    scalar: bool,
    /// The start of the current element when it began in an earlier chunk.
    pending: Vec<u8>,
    /// The current element passed [`MAX_LINE`]: its bytes are dropped up to its end.
    skipping: bool,
    truncated: bool,
}

impl JsonArrayDecoder {
    /// A new decoder (the same as `JsonArrayDecoder::default()`).
    ///
    /// ```
    /// let decoder = llmetry_instruments::decode::JsonArrayDecoder::new();
    /// assert!(!decoder.closed());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk of bytes; calls `on_element` with each element it completes.
    ///
    /// ```
    /// use llmetry_instruments::decode::JsonArrayDecoder;
    ///
    /// let mut decoder = JsonArrayDecoder::new();
    /// let mut n = 0;
    /// decoder.feed(b"[{\"a\": [1, 2]}, {\"b\"", |e| { n += 1; assert_eq!(e, r#"{"a": [1, 2]}"#) });
    /// assert_eq!(n, 1);
    /// ```
    pub fn feed(&mut self, bytes: &[u8], mut on_element: impl FnMut(&str)) {
        // Where the current element starts in `bytes`, when it started in this chunk.
        let mut start: Option<usize> = None;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match self.state {
                State::Closed => return,
                State::Start | State::Between => {
                    let skip = b.is_ascii_whitespace()
                        || (self.state == State::Between && b == b',')
                        // A UTF-8 byte order mark before the body.
                        || (self.state == State::Start && matches!(b, 0xEF | 0xBB | 0xBF));
                    if skip {
                        i += 1;
                        continue;
                    }
                    if self.state == State::Start && b == b'[' {
                        self.state = State::Between;
                    } else if self.state == State::Between && b == b']' {
                        self.state = State::Closed;
                        return;
                    } else {
                        self.top_level_value = self.state == State::Start;
                        self.state = State::Element;
                        self.depth = 0;
                        self.in_string = false;
                        self.escaped = false;
                        self.scalar = !matches!(b, b'"' | b'{' | b'[');
                        start = Some(i);
                        if self.step(b) {
                            self.emit(bytes, start.take(), i + 1, &mut on_element);
                        }
                    }
                }
                State::Element => {
                    if self.scalar && (b == b',' || b == b']' || b.is_ascii_whitespace()) {
                        // A number or literal ends before its delimiter, which is read
                        // again between elements.
                        self.emit(bytes, start.take(), i, &mut on_element);
                        continue;
                    }
                    if self.step(b) {
                        self.emit(bytes, start.take(), i + 1, &mut on_element);
                    }
                }
            }
            i += 1;
        }
        if self.state == State::Element {
            let from = start.unwrap_or(0);
            self.keep(bytes.get(from..).unwrap_or_default());
        }
    }

    /// Moves the scanner over one byte of an element; `true` when the element ends with it.
    fn step(&mut self, b: u8) -> bool {
        if self.scalar {
            return false;
        }
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                return self.depth == 0;
            }
            return false;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }

    /// Emits the element that ends at `end` (exclusive) in `bytes`.
    fn emit(
        &mut self,
        bytes: &[u8],
        start: Option<usize>,
        end: usize,
        on_element: &mut impl FnMut(&str),
    ) {
        self.state = if self.top_level_value {
            State::Closed
        } else {
            State::Between
        };
        if std::mem::take(&mut self.skipping) {
            self.pending.clear();
            return;
        }
        match start {
            Some(s) => {
                if let Some(element) = bytes.get(s..end) {
                    on_element(text(element).trim());
                }
            }
            None => {
                let tail = bytes.get(..end).unwrap_or_default();
                if self.pending.len() + tail.len() > MAX_LINE {
                    self.truncated = true;
                } else {
                    self.pending.extend_from_slice(tail);
                    on_element(text(&self.pending).trim());
                }
                self.pending.clear();
            }
        }
    }

    /// Keeps the start of an unfinished element, or drops it once it passes [`MAX_LINE`].
    fn keep(&mut self, bytes: &[u8]) {
        if self.skipping {
            return;
        }
        if self.pending.len() + bytes.len() > MAX_LINE {
            self.pending = Vec::new();
            self.skipping = true;
            self.truncated = true;
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }

    /// Feeds a chunk of bytes; returns the elements it completed.
    ///
    /// ```
    /// use llmetry_instruments::decode::JsonArrayDecoder;
    ///
    /// let mut decoder = JsonArrayDecoder::new();
    /// assert!(decoder.push(b"[{\"a\":").is_empty());
    /// assert_eq!(decoder.push(b" 1}\n"), [r#"{"a": 1}"#]);
    /// ```
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        self.feed(bytes, |e| out.push(e.to_owned()));
        out
    }

    /// Whether the top-level array was closed by its `]` (or a top-level non-array value
    /// ended): the body is complete.
    ///
    /// ```
    /// use llmetry_instruments::decode::JsonArrayDecoder;
    ///
    /// let mut decoder = JsonArrayDecoder::new();
    /// decoder.push(b"[{}, {}");
    /// assert!(!decoder.closed()); // cut before the end
    /// decoder.push(b"]");
    /// assert!(decoder.closed());
    /// ```
    pub fn closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether an element longer than [`MAX_LINE`] was dropped.
    ///
    /// ```
    /// use llmetry_instruments::decode::{JsonArrayDecoder, MAX_LINE};
    ///
    /// let mut decoder = JsonArrayDecoder::new();
    /// let mut huge = b"[\"".to_vec();
    /// huge.resize(MAX_LINE + 10, b'x');
    /// assert!(decoder.push(&huge).is_empty());
    /// assert_eq!(decoder.push(b"\", {\"ok\": true}]"), [r#"{"ok": true}"#]);
    /// assert!(decoder.truncated());
    /// ```
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const BODY: &str = "[{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"He said \\\"[x]\\\", \\\\\"}]}}]}\r\n,\r\n{\"candidates\": [], \"é\": \"{\"}\r\n,\r\n\"s\", 12 ]";

    #[test]
    fn elements_in_any_split() {
        let mut whole = JsonArrayDecoder::new();
        let expected = whole.push(BODY.as_bytes());
        assert_eq!(expected.len(), 4, "{expected:?}");
        assert!(expected[0].ends_with("}]}}]}"));
        for e in &expected[..2] {
            serde_json::from_str::<serde_json::Value>(e).unwrap();
        }
        assert_eq!(expected[2], "\"s\"");
        assert_eq!(expected[3], "12");
        assert!(whole.closed());
        for size in 1..9 {
            let mut d = JsonArrayDecoder::new();
            let mut out = Vec::new();
            for c in BODY.as_bytes().chunks(size) {
                out.extend(d.push(c));
            }
            assert_eq!(out, expected, "chunk size {size}");
            assert!(d.closed());
        }
    }

    #[test]
    fn a_top_level_object_is_one_element() {
        let mut d = JsonArrayDecoder::new();
        let body = b" {\"error\": {\"code\": 400, \"message\": \"bad [\"}} ";
        assert_eq!(
            d.push(body),
            [r#"{"error": {"code": 400, "message": "bad ["}}"#]
        );
        assert!(d.closed());
    }

    #[test]
    fn a_cut_body_is_not_closed() {
        let mut d = JsonArrayDecoder::new();
        assert_eq!(d.push(b"[{\"a\": 1}, {\"b\": "), [r#"{"a": 1}"#]);
        assert!(!d.closed());
    }
}

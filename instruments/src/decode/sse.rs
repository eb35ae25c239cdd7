//! Incremental decoders for streamed HTTP bodies: Server-Sent Events (OpenAI, Anthropic)
//! and newline-delimited JSON (Ollama).
//!
//! Both are fed arbitrary byte chunks, as they come off the wire: a chunk may end in the
//! middle of a line, of a `\r\n` pair, or of a multi-byte UTF-8 character. Lines are split
//! on bytes (`\n` and `\r` never occur inside a UTF-8 sequence) and decoded only once
//! complete, so splits never corrupt text.
//!
//! ```
//! use llmetry_instruments::providers::stream::SseDecoder;
//!
//! let mut decoder = SseDecoder::new();
//! // "é" split across two chunks, and a `\r\n` split too:
//! assert!(decoder.push(b"data: caf\xc3").is_empty());
//! assert!(decoder.push(b"\xa9\r").is_empty());
//! let events = decoder.push(b"\n\r\n");
//! assert_eq!(events[0].data, "café");
//! ```

/// One dispatched Server-Sent Event.
///
/// ```
/// use llmetry_instruments::providers::stream::{SseDecoder, SseEvent};
///
/// let events = SseDecoder::new().push(b"event: ping\ndata: {}\n\ndata: [DONE]\n\n");
/// assert_eq!(events, [
///     SseEvent { event: Some("ping".into()), data: "{}".into() },
///     SseEvent { event: None, data: "[DONE]".into() },
/// ]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
}

/// Finds the first line terminator in `buf` at or after `from`. Returns the index of the
/// terminator and its length, or `None` when no complete terminator is known yet (a `\r`
/// as the last byte may be the first half of `\r\n`, unless `eof`).
fn find_line_end(buf: &[u8], from: usize, eof: bool) -> Option<(usize, usize)> {
    let pos = buf
        .get(from..)?
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')?
        + from;
    match buf.get(pos) {
        Some(b'\n') => Some((pos, 1)),
        _ => match buf.get(pos + 1) {
            Some(b'\n') => Some((pos, 2)),
            Some(_) => Some((pos, 1)),
            None if eof => Some((pos, 1)),
            None => None,
        },
    }
}

/// Incremental `text/event-stream` decoder, following the WHATWG SSE parsing rules:
/// `event:` sets the event type, several `data:` lines are joined by `\n`, lines starting
/// with `:` are comments, an event is dispatched at a blank line, and `\n`, `\r\n` and `\r`
/// all end a line. `id:` and `retry:` are accepted and ignored.
///
/// Unlike a browser, [`SseDecoder::finish`] also dispatches an event that the stream did not
/// terminate with a blank line, so that a final usage chunk is not lost.
///
/// ```
/// use llmetry_instruments::providers::stream::SseDecoder;
///
/// let mut decoder = SseDecoder::new();
/// let mut events = Vec::new();
/// for chunk in [&b"event: message_st"[..], b"art\r\ndata: {}\r\n\r\nid: 7\nretry: 10\ndata: x"] {
///     events.extend(decoder.push(chunk)); // chunks as they come off the wire
/// }
/// events.extend(decoder.finish());
/// let got: Vec<(Option<&str>, &str)> = events.iter().map(|e| (e.event.as_deref(), e.data.as_str())).collect();
/// assert_eq!(got, [(Some("message_start"), "{}"), (None, "x")]);
/// ```
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned without finding a line end.
    scanned: usize,
    event: Option<String>,
    data: String,
    has_data: bool,
    bom_checked: bool,
}

impl SseDecoder {
    /// A new decoder (the same as `SseDecoder::default()`).
    ///
    /// ```
    /// let mut decoder = llmetry_instruments::providers::stream::SseDecoder::new();
    /// assert!(decoder.finish().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk of bytes; returns the events it completed.
    ///
    /// ```
    /// use llmetry_instruments::providers::stream::SseDecoder;
    ///
    /// let mut decoder = SseDecoder::new();
    /// assert!(decoder.push(b": keep-alive comment\ndata: {\"a\":").is_empty());
    /// assert!(decoder.push(b" 1}\ndata: more\n").is_empty()); // no blank line yet
    /// let events = decoder.push(b"\n");
    /// assert_eq!(events[0].data, "{\"a\": 1}\nmore"); // data lines joined by \n
    /// ```
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(bytes);
        self.drain(false)
    }

    /// Ends the stream: processes a final unterminated line and dispatches a pending event.
    ///
    /// ```
    /// use llmetry_instruments::providers::stream::SseDecoder;
    ///
    /// let mut decoder = SseDecoder::new();
    /// // A server that closes without the final blank line:
    /// assert!(decoder.push(b"data: {\"usage\": {}}").is_empty());
    /// assert_eq!(decoder.finish()[0].data, "{\"usage\": {}}");
    /// ```
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = self.drain(true);
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            self.scanned = 0;
            self.line(&line, &mut out);
        }
        self.dispatch(&mut out);
        out
    }

    fn drain(&mut self, eof: bool) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if !self.bom_checked {
            if self.buf.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.buf) && !eof {
                return out;
            }
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            self.bom_checked = true;
        }
        let mut start = 0;
        let mut from = self.scanned;
        while let Some((end, len)) = find_line_end(&self.buf, from, eof) {
            let line = self
                .buf
                .get(start..end)
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            self.line(&line, &mut out);
            start = end + len;
            from = start;
        }
        self.buf.drain(..start.min(self.buf.len()));
        // Everything left was scanned, except a trailing `\r` that must be looked at again.
        self.scanned = match self.buf.last() {
            Some(b'\r') => self.buf.len() - 1,
            _ => self.buf.len(),
        };
        out
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.first() == Some(&b':') {
            return;
        }
        let line = String::from_utf8_lossy(line);
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match name {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take().filter(|e| !e.is_empty());
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        });
    }
}

/// Incremental newline-delimited JSON decoder: returns each complete, non-blank line
/// (without its `\n` or `\r\n`).
///
/// ```
/// use llmetry_instruments::providers::stream::NdjsonDecoder;
///
/// let mut decoder = NdjsonDecoder::new();
/// let mut lines = decoder.push(b"{\"response\": \"He\"}\n{\"respo");
/// lines.extend(decoder.push(b"nse\": \"llo\", \"done\": true}\n"));
/// assert_eq!(lines, [r#"{"response": "He"}"#, r#"{"response": "llo", "done": true}"#]);
/// ```
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    buf: Vec<u8>,
    scanned: usize,
}

impl NdjsonDecoder {
    /// A new decoder (the same as `NdjsonDecoder::default()`).
    ///
    /// ```
    /// let mut decoder = llmetry_instruments::providers::stream::NdjsonDecoder::new();
    /// assert!(decoder.finish().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk of bytes; returns the lines it completed.
    ///
    /// ```
    /// use llmetry_instruments::providers::stream::NdjsonDecoder;
    ///
    /// let mut decoder = NdjsonDecoder::new();
    /// assert!(decoder.push(b"{\"done\":").is_empty());
    /// assert_eq!(decoder.push(b" false}\r\n\n"), [r#"{"done": false}"#]); // blank lines skipped
    /// ```
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        let mut from = self.scanned;
        while let Some(pos) = self
            .buf
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            let end = from + pos;
            if let Some(line) = self.buf.get(start..end) {
                push_line(line, &mut out);
            }
            start = end + 1;
            from = start;
        }
        self.buf.drain(..start.min(self.buf.len()));
        self.scanned = self.buf.len();
        out
    }

    /// Ends the stream: returns a final line that had no terminating `\n`.
    ///
    /// ```
    /// use llmetry_instruments::providers::stream::NdjsonDecoder;
    ///
    /// let mut decoder = NdjsonDecoder::new();
    /// assert!(decoder.push(br#"{"done": true}"#).is_empty());
    /// assert_eq!(decoder.finish(), [r#"{"done": true}"#]);
    /// ```
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let rest = std::mem::take(&mut self.buf);
        self.scanned = 0;
        push_line(&rest, &mut out);
        out
    }
}

fn push_line(line: &[u8], out: &mut Vec<String>) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if !text.is_empty() {
        out.push(text.to_owned());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    const ANTHROPIC: &str = "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}\r\n\r\n\
        event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n\
        : keep-alive comment\r\n\r\n\
        event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Grüße 👋 日本\"}}\r\n\r\n\
        event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";

    fn all_at_once(input: &[u8]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = d.push(input);
        out.extend(d.finish());
        out
    }

    fn in_chunks(input: &[u8], sizes: &[usize]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        let mut rest = input;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            let (a, b) = rest.split_at(n);
            out.extend(d.push(a));
            rest = b;
            i += 1;
        }
        out.extend(d.finish());
        out
    }

    #[test]
    fn sse_basic_events() {
        let events = all_at_once(ANTHROPIC.as_bytes());
        assert_eq!(
            events,
            vec![
                ev(
                    Some("message_start"),
                    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}"
                ),
                ev(Some("ping"), "{\"type\": \"ping\"}"),
                ev(
                    Some("content_block_delta"),
                    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Grüße 👋 日本\"}}"
                ),
                ev(Some("message_stop"), "{\"type\":\"message_stop\"}"),
            ]
        );
    }

    #[test]
    fn sse_byte_by_byte_and_odd_splits_match() {
        let whole = all_at_once(ANTHROPIC.as_bytes());
        assert_eq!(in_chunks(ANTHROPIC.as_bytes(), &[1]), whole);
        for sizes in [&[2usize][..], &[3], &[5, 1, 7], &[13, 2], &[64]] {
            assert_eq!(in_chunks(ANTHROPIC.as_bytes(), sizes), whole, "{sizes:?}");
        }
    }

    #[test]
    fn sse_split_inside_multibyte_char() {
        let input = "data: 👋é\n\n".as_bytes();
        // The emoji is 4 bytes starting at offset 6: split after its 2nd byte.
        let mut d = SseDecoder::new();
        let mut out = d.push(&input[..8]);
        assert!(out.is_empty());
        out.extend(d.push(&input[8..11]));
        out.extend(d.push(&input[11..]));
        assert_eq!(out, vec![ev(None, "👋é")]);
    }

    #[test]
    fn sse_split_between_cr_and_lf() {
        let input = b"data: a\r\n\r\ndata: b\r\n\r\n";
        let mut d = SseDecoder::new();
        let mut out = d.push(&input[..8]); // ends with '\r'
        out.extend(d.push(&input[8..10])); // "\n\r"
        out.extend(d.push(&input[10..]));
        out.extend(d.finish());
        assert_eq!(out, vec![ev(None, "a"), ev(None, "b")]);
    }

    #[test]
    fn sse_multiline_data_fields_and_no_space() {
        let input = b"event:update\ndata:first\ndata: second\ndata\nid: 7\nretry: 100\n\n";
        assert_eq!(
            all_at_once(input),
            vec![ev(Some("update"), "first\nsecond\n")]
        );
    }

    #[test]
    fn sse_openai_chunks_and_done() {
        let input = b"data: {\"id\":\"a\"}\n\ndata: {\"id\":\"b\"}\n\ndata: [DONE]\n\n";
        assert_eq!(
            in_chunks(input, &[3, 4]),
            vec![
                ev(None, "{\"id\":\"a\"}"),
                ev(None, "{\"id\":\"b\"}"),
                ev(None, "[DONE]")
            ]
        );
    }

    #[test]
    fn sse_event_without_data_is_not_dispatched_and_resets_type() {
        let input = b"event: ping\n\ndata: x\n\n";
        assert_eq!(all_at_once(input), vec![ev(None, "x")]);
    }

    #[test]
    fn sse_lone_cr_line_endings_and_bom() {
        let input = b"\xEF\xBB\xBFevent: e\rdata: x\r\rdata: y\r\r";
        assert_eq!(
            in_chunks(input, &[1]),
            vec![ev(Some("e"), "x"), ev(None, "y")]
        );
        assert_eq!(all_at_once(input), vec![ev(Some("e"), "x"), ev(None, "y")]);
    }

    #[test]
    fn sse_finish_flushes_unterminated_event() {
        let mut d = SseDecoder::new();
        assert!(d.push(b"data: {\"usage\":1}").is_empty());
        assert_eq!(d.finish(), vec![ev(None, "{\"usage\":1}")]);
        assert!(d.finish().is_empty());
    }

    #[test]
    fn ndjson_lines_in_any_split() {
        let input = "{\"message\":{\"content\":\"Hé\"},\"done\":false}\r\n\n  \n{\"done\":true}";
        let mut whole = NdjsonDecoder::new();
        let mut expected = whole.push(input.as_bytes());
        expected.extend(whole.finish());
        assert_eq!(
            expected,
            vec![
                "{\"message\":{\"content\":\"Hé\"},\"done\":false}".to_owned(),
                "{\"done\":true}".to_owned()
            ]
        );
        for size in 1..8 {
            let mut d = NdjsonDecoder::new();
            let mut out = Vec::new();
            for c in input.as_bytes().chunks(size) {
                out.extend(d.push(c));
            }
            out.extend(d.finish());
            assert_eq!(out, expected, "chunk size {size}");
        }
    }
}

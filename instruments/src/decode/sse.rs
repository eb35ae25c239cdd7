//! The Server-Sent Events decoder (OpenAI, Anthropic).

use super::{Lines, MAX_LINE, text};

/// One dispatched Server-Sent Event.
///
/// ```
/// use llmetry_instruments::decode::{SseDecoder, SseEvent};
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

/// Incremental `text/event-stream` decoder, following the WHATWG SSE parsing rules:
/// `event:` sets the event type, several `data:` lines are joined by `\n`, lines starting
/// with `:` are comments, an event is dispatched at a blank line, and `\n`, `\r\n` and `\r`
/// all end a line. `id:` and `retry:` are accepted and ignored.
///
/// Unlike a browser, [`SseDecoder::finish`] also dispatches an event that the stream did not
/// terminate with a blank line, so that a final usage chunk is not lost. An event whose
/// `data` passes [`MAX_LINE`] is dropped ([`SseDecoder::truncated`]).
///
/// ```
/// use llmetry_instruments::decode::SseDecoder;
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
    lines: Lines,
    /// Before the first line: the bytes that may be a UTF-8 byte order mark.
    head: Vec<u8>,
    bom_checked: bool,
    state: Pending,
}

/// The event being assembled.
#[derive(Debug, Default)]
struct Pending {
    event: String,
    has_event: bool,
    data: String,
    has_data: bool,
    /// The joined `data` passed [`MAX_LINE`]: the event is dropped.
    overflow: bool,
    truncated: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseDecoder {
    /// A new decoder (the same as `SseDecoder::default()`).
    ///
    /// ```
    /// let mut decoder = llmetry_instruments::decode::SseDecoder::new();
    /// assert!(decoder.finish().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk of bytes; calls `on_event(event, data)` for each event it completes.
    /// Allocates nothing once its buffers have grown to the stream's longest event.
    ///
    /// ```
    /// use llmetry_instruments::decode::SseDecoder;
    ///
    /// let mut decoder = SseDecoder::new();
    /// let mut seen = Vec::new();
    /// decoder.feed(b"event: ping\ndata: {}\n\ndata: [DO", |event, data| seen.push(format!("{event:?} {data}")));
    /// decoder.feed(b"NE]\n\n", |event, data| seen.push(format!("{event:?} {data}")));
    /// assert_eq!(seen, ["Some(\"ping\") {}", "None [DONE]"]);
    /// ```
    pub fn feed(&mut self, bytes: &[u8], mut on_event: impl FnMut(Option<&str>, &str)) {
        if !self.bom_checked {
            self.head.extend_from_slice(bytes);
            if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
                return;
            }
            self.bom_checked = true;
            let head = std::mem::take(&mut self.head);
            let start = if head.starts_with(BOM) { BOM.len() } else { 0 };
            let state = &mut self.state;
            self.lines
                .feed(head.get(start..).unwrap_or_default(), true, |line| {
                    state.line(line, &mut on_event)
                });
            return;
        }
        let state = &mut self.state;
        self.lines
            .feed(bytes, true, |line| state.line(line, &mut on_event));
    }

    /// Ends the stream: processes a final unterminated line and dispatches a pending event.
    ///
    /// ```
    /// use llmetry_instruments::decode::SseDecoder;
    ///
    /// let mut decoder = SseDecoder::new();
    /// decoder.feed(b"data: {\"usage\": {}}", |_, _| unreachable!("no blank line yet"));
    /// let mut last = None;
    /// decoder.finish_with(|_, data| last = Some(data.to_owned()));
    /// assert_eq!(last.as_deref(), Some("{\"usage\": {}}"));
    /// ```
    pub fn finish_with(&mut self, mut on_event: impl FnMut(Option<&str>, &str)) {
        if !self.bom_checked {
            self.bom_checked = true;
            let head = std::mem::take(&mut self.head);
            let state = &mut self.state;
            self.lines
                .feed(&head, true, |line| state.line(line, &mut on_event));
        }
        let state = &mut self.state;
        self.lines.finish(|line| state.line(line, &mut on_event));
        self.state.dispatch(&mut on_event);
    }

    /// Feeds a chunk of bytes; returns the events it completed.
    ///
    /// ```
    /// use llmetry_instruments::decode::SseDecoder;
    ///
    /// let mut decoder = SseDecoder::new();
    /// assert!(decoder.push(b": keep-alive comment\ndata: {\"a\":").is_empty());
    /// assert!(decoder.push(b" 1}\ndata: more\n").is_empty()); // no blank line yet
    /// let events = decoder.push(b"\n");
    /// assert_eq!(events[0].data, "{\"a\": 1}\nmore"); // data lines joined by \n
    /// ```
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.feed(bytes, |event, data| out.push(owned(event, data)));
        out
    }

    /// Ends the stream: processes a final unterminated line and dispatches a pending event.
    ///
    /// ```
    /// use llmetry_instruments::decode::SseDecoder;
    ///
    /// let mut decoder = SseDecoder::new();
    /// // A server that closes without the final blank line:
    /// assert!(decoder.push(b"data: {\"usage\": {}}").is_empty());
    /// assert_eq!(decoder.finish()[0].data, "{\"usage\": {}}");
    /// ```
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.finish_with(|event, data| out.push(owned(event, data)));
        out
    }

    /// Whether a line or an event longer than [`MAX_LINE`] was dropped.
    ///
    /// ```
    /// use llmetry_instruments::decode::{MAX_LINE, SseDecoder};
    ///
    /// let mut decoder = SseDecoder::new();
    /// let mut huge = b"data: ".to_vec();
    /// huge.resize(MAX_LINE + 10, b'x');
    /// assert!(decoder.push(&huge).is_empty());
    /// assert_eq!(decoder.push(b"\n\ndata: ok\n\n")[0].data, "ok");
    /// assert!(decoder.truncated());
    /// ```
    pub fn truncated(&self) -> bool {
        self.lines.truncated || self.state.truncated
    }
}

fn owned(event: Option<&str>, data: &str) -> SseEvent {
    SseEvent {
        event: event.map(str::to_owned),
        data: data.to_owned(),
    }
}

impl Pending {
    fn line(&mut self, line: &[u8], on_event: &mut impl FnMut(Option<&str>, &str)) {
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if line.first() == Some(&b':') {
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let value = line.get(i + 1..).unwrap_or_default();
                (
                    line.get(..i).unwrap_or_default(),
                    value.strip_prefix(b" ").unwrap_or(value),
                )
            }
            None => (line, &b""[..]),
        };
        match name {
            b"event" => {
                self.event.clear();
                self.event.push_str(&text(value));
                self.has_event = true;
            }
            b"data" => {
                if self.overflow {
                    return;
                }
                if self.data.len() + value.len() + 1 > MAX_LINE {
                    self.overflow = true;
                    self.truncated = true;
                    self.data = String::new();
                    self.has_data = true;
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&text(value));
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, on_event: &mut impl FnMut(Option<&str>, &str)) {
        let has_event = std::mem::take(&mut self.has_event) && !self.event.is_empty();
        let has_data = std::mem::take(&mut self.has_data);
        if has_data && !std::mem::take(&mut self.overflow) {
            on_event(has_event.then_some(self.event.as_str()), &self.data);
        }
        self.data.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::decode::MAX_LINE;

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
    fn sse_huge_line_and_huge_event_are_dropped_and_said() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        // One line longer than the cap, fed in pieces, then a normal event.
        d.feed(b"data: ", |_, _| unreachable!());
        for _ in 0..5 {
            d.feed(&vec![b'x'; MAX_LINE / 4], |_, _| unreachable!());
        }
        out.extend(d.push(b"\n\ndata: after\n\n"));
        assert_eq!(out, vec![ev(None, "after")]);
        assert!(d.truncated());
        // Many short data lines joining into an event longer than the cap.
        let mut d = SseDecoder::new();
        let line = format!("data: {}\n", "y".repeat(1000));
        let mut n = 0;
        for _ in 0..(MAX_LINE / 1000 + 10) {
            d.feed(line.as_bytes(), |_, _| n += 1);
        }
        d.feed(b"\ndata: next\n\n", |_, data| {
            n += 1;
            assert_eq!(data, "next");
        });
        assert_eq!(n, 1);
        assert!(d.truncated());
    }
}

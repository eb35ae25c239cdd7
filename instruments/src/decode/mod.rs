//! Push decoders for streamed HTTP bodies: Server-Sent Events ([`SseDecoder`]: OpenAI,
//! Anthropic, Gemini with `alt=sse`), newline-delimited JSON ([`NdjsonDecoder`]: Ollama) and
//! a streamed JSON array ([`JsonArrayDecoder`]: Gemini without `alt=sse`).
//!
//! Both are fed arbitrary byte chunks, as they come off the wire: a chunk may end in the
//! middle of a line, of a `\r\n` pair, or of a multi-byte UTF-8 character. Lines are split
//! on bytes (`\n` and `\r` never occur inside a UTF-8 sequence) and decoded only once
//! complete, so splits never corrupt text.
//!
//! They are bounded: a line (or an SSE event's joined `data`) longer than [`MAX_LINE`] is
//! dropped, and [`SseDecoder::truncated`] / [`NdjsonDecoder::truncated`] say so. Complete
//! lines are read straight from the chunk; only an unfinished line is copied, so feeding a
//! chunk allocates nothing once the buffers have grown (with the callback forms
//! [`SseDecoder::feed`] and [`NdjsonDecoder::feed`]).
//!
//! ```
//! use llmetry_instruments::decode::SseDecoder;
//!
//! let mut decoder = SseDecoder::new();
//! // "é" split across two chunks, and a `\r\n` split too:
//! assert!(decoder.push(b"data: caf\xc3").is_empty());
//! assert!(decoder.push(b"\xa9\r").is_empty());
//! let events = decoder.push(b"\n\r\n");
//! assert_eq!(events[0].data, "café");
//! ```

mod json_array;
mod ndjson;
mod sse;

pub use json_array::JsonArrayDecoder;
pub use ndjson::NdjsonDecoder;
pub use sse::{SseDecoder, SseEvent};

/// Longest line (or SSE event `data`) the decoders keep, in bytes: 4 MiB. Longer ones are
/// dropped (a final `response.completed` event carrying a whole long answer stays well
/// below it).
///
/// ```
/// use llmetry_instruments::decode::{MAX_LINE, NdjsonDecoder};
///
/// let mut decoder = NdjsonDecoder::new();
/// assert!(decoder.push(&vec![b'x'; MAX_LINE + 1]).is_empty());
/// assert_eq!(decoder.push(b"\n{\"done\": true}\n"), [r#"{"done": true}"#]);
/// assert!(decoder.truncated());
/// ```
pub const MAX_LINE: usize = 4 << 20;

/// Splits bytes into lines, keeping only an unfinished line between chunks.
#[derive(Debug, Default)]
struct Lines {
    /// The unfinished line (or, before the first line, bytes that may be a BOM).
    pending: Vec<u8>,
    /// The last line ended with `\r`: a `\n` starting the next chunk belongs to it.
    after_cr: bool,
    /// The current line passed [`MAX_LINE`]: its bytes are dropped up to its end.
    skipping: bool,
    /// A line was dropped.
    truncated: bool,
}

impl Lines {
    /// Calls `on_line` with each line `bytes` completes. `cr` says whether a lone `\r` ends
    /// a line (SSE) or not (NDJSON: only `\n`).
    fn feed(&mut self, mut bytes: &[u8], cr: bool, mut on_line: impl FnMut(&[u8])) {
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while !bytes.is_empty() {
            let end = if cr {
                memchr::memchr2(b'\n', b'\r', bytes)
            } else {
                memchr::memchr(b'\n', bytes)
            };
            let Some(end) = end else {
                self.keep(bytes);
                return;
            };
            let (line, rest) = bytes.split_at(end);
            let mut next = rest.get(1..).unwrap_or_default();
            if rest.first() == Some(&b'\r') {
                match next.first() {
                    Some(b'\n') => next = next.get(1..).unwrap_or_default(),
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            if self.skipping {
                self.skipping = false;
                self.pending.clear();
            } else if self.pending.is_empty() {
                on_line(line);
            } else if self.pending.len() + line.len() > MAX_LINE {
                self.pending.clear();
                self.truncated = true;
            } else {
                self.pending.extend_from_slice(line);
                on_line(&self.pending);
                self.pending.clear();
            }
            bytes = next;
        }
    }

    /// Keeps the start of an unfinished line, or drops it once it passes [`MAX_LINE`].
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

    /// Ends the input: a final unterminated line, if any.
    fn finish(&mut self, on_line: impl FnOnce(&[u8])) {
        self.after_cr = false;
        if std::mem::take(&mut self.skipping) {
            self.pending.clear();
            return;
        }
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            on_line(&line);
        }
    }
}

/// `bytes` as text: borrowed when valid UTF-8 (checked at once, the common case), else
/// with U+FFFD replacements.
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

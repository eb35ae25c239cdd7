//! The newline-delimited JSON decoder (Ollama).

use super::{Lines, text};

/// Incremental newline-delimited JSON decoder: returns each complete, non-blank line
/// (without its `\n` or `\r\n`, trimmed). A line longer than [`super::MAX_LINE`] is
/// dropped ([`NdjsonDecoder::truncated`]).
///
/// ```
/// use llmetry_instruments::decode::NdjsonDecoder;
///
/// let mut decoder = NdjsonDecoder::new();
/// let mut lines = decoder.push(b"{\"response\": \"He\"}\n{\"respo");
/// lines.extend(decoder.push(b"nse\": \"llo\", \"done\": true}\n"));
/// assert_eq!(lines, [r#"{"response": "He"}"#, r#"{"response": "llo", "done": true}"#]);
/// ```
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    lines: Lines,
}

impl NdjsonDecoder {
    /// A new decoder (the same as `NdjsonDecoder::default()`).
    ///
    /// ```
    /// let mut decoder = llmetry_instruments::decode::NdjsonDecoder::new();
    /// assert!(decoder.finish().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk of bytes; calls `on_line` with each non-blank line it completes.
    /// Allocates nothing once its buffer has grown to the stream's longest line.
    ///
    /// ```
    /// use llmetry_instruments::decode::NdjsonDecoder;
    ///
    /// let mut decoder = NdjsonDecoder::new();
    /// let mut n = 0;
    /// decoder.feed(b"{\"done\": false}\n\n{\"done\"", |line| { n += 1; assert_eq!(line, r#"{"done": false}"#) });
    /// assert_eq!(n, 1);
    /// ```
    pub fn feed(&mut self, bytes: &[u8], mut on_line: impl FnMut(&str)) {
        self.lines
            .feed(bytes, false, |line| emit(line, &mut on_line));
    }

    /// Ends the stream: a final line that had no terminating `\n`.
    ///
    /// ```
    /// use llmetry_instruments::decode::NdjsonDecoder;
    ///
    /// let mut decoder = NdjsonDecoder::new();
    /// decoder.feed(br#"{"done": true}"#, |_| unreachable!("no newline yet"));
    /// let mut last = String::new();
    /// decoder.finish_with(|line| last = line.to_owned());
    /// assert_eq!(last, r#"{"done": true}"#);
    /// ```
    pub fn finish_with(&mut self, mut on_line: impl FnMut(&str)) {
        self.lines.finish(|line| emit(line, &mut on_line));
    }

    /// Feeds a chunk of bytes; returns the lines it completed.
    ///
    /// ```
    /// use llmetry_instruments::decode::NdjsonDecoder;
    ///
    /// let mut decoder = NdjsonDecoder::new();
    /// assert!(decoder.push(b"{\"done\":").is_empty());
    /// assert_eq!(decoder.push(b" false}\r\n\n"), [r#"{"done": false}"#]); // blank lines skipped
    /// ```
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        self.feed(bytes, |line| out.push(line.to_owned()));
        out
    }

    /// Ends the stream: returns a final line that had no terminating `\n`.
    ///
    /// ```
    /// use llmetry_instruments::decode::NdjsonDecoder;
    ///
    /// let mut decoder = NdjsonDecoder::new();
    /// assert!(decoder.push(br#"{"done": true}"#).is_empty());
    /// assert_eq!(decoder.finish(), [r#"{"done": true}"#]);
    /// ```
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        self.finish_with(|line| out.push(line.to_owned()));
        out
    }

    /// Whether a line longer than [`super::MAX_LINE`] was dropped.
    ///
    /// ```
    /// let decoder = llmetry_instruments::decode::NdjsonDecoder::new();
    /// assert!(!decoder.truncated());
    /// ```
    pub fn truncated(&self) -> bool {
        self.lines.truncated
    }
}

fn emit(line: &[u8], on_line: &mut impl FnMut(&str)) {
    let line = text(line);
    let line = line.trim();
    if !line.is_empty() {
        on_line(line);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

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

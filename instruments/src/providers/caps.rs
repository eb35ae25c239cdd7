//! Memory caps of the stream accumulators: a stream is passed to the caller untouched, but
//! what the span keeps of it is bounded, and the span says when a cap cut it
//! ([`crate::model::CaptureCap`]).

use crate::model::CaptureCap;

/// Choices (`choices[].index`) of one stream, and output items of a Responses stream.
pub(crate) const MAX_CHOICES: usize = 128;
/// Tool calls of one choice (or content blocks of one Anthropic message).
pub(crate) const MAX_TOOL_CALLS: usize = 128;
/// Streamed text kept across all choices, tool-call arguments and reasoning: 1 MiB (the
/// span attribute is cut to `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, 64 KiB by default,
/// anyway).
pub(crate) const MAX_TEXT: usize = 1 << 20;

/// The text budget of one accumulator and the caps it hit.
#[derive(Debug, Default)]
pub(crate) struct Caps {
    text: usize,
    hit: Vec<CaptureCap>,
}

impl Caps {
    /// Appends `s` to `dst` as far as the text budget allows (cut at a char boundary).
    pub(crate) fn push_text(&mut self, dst: &mut String, s: &str) {
        let room = MAX_TEXT - self.text;
        if s.len() <= room {
            dst.push_str(s);
            self.text += s.len();
            return;
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        dst.push_str(s.get(..end).unwrap_or_default());
        self.text += end;
        self.hit(CaptureCap::Text);
    }

    /// Whether a map already holding `len` entries may take one more under `max`; records
    /// the cap when not.
    pub(crate) fn room(&mut self, len: usize, max: usize, cap: CaptureCap) -> bool {
        if len < max {
            return true;
        }
        self.hit(cap);
        false
    }

    /// Records that `cap` was hit.
    pub(crate) fn hit(&mut self, cap: CaptureCap) {
        if !self.hit.contains(&cap) {
            self.hit.push(cap);
        }
    }

    /// The caps hit so far, in the order they were first hit.
    pub(crate) fn hits(&self) -> &[CaptureCap] {
        &self.hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_budget_cuts_at_a_char_boundary_and_says_so() {
        let mut caps = Caps::default();
        let mut s = String::new();
        caps.push_text(&mut s, &"a".repeat(MAX_TEXT - 1));
        assert!(caps.hits().is_empty());
        caps.push_text(&mut s, "é"); // 2 bytes, 1 left
        assert_eq!(s.len(), MAX_TEXT - 1);
        assert_eq!(caps.hits(), [CaptureCap::Text]);
        caps.push_text(&mut s, "b");
        assert_eq!(s.len(), MAX_TEXT);
        assert!(!caps.room(MAX_CHOICES, MAX_CHOICES, CaptureCap::Choices));
        assert_eq!(caps.hits(), [CaptureCap::Text, CaptureCap::Choices]);
    }
}

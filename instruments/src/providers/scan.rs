//! A small pull reader over JSON text, for the hottest shapes the capture reads: the OpenAI
//! stream chunk (once per SSE event, `openai::stream`), the OpenAI response body
//! (`openai::response`) and the OpenAI request body (`openai::request`).
//!
//! serde_json's derive reads a ~250-byte chunk in about 6,300 instructions, most of it
//! per-key and per-value dispatch through the lenient wire types; this reader takes the
//! fields the wire structs name and skips the rest in about 3,500. It is strict on
//! purpose: it accepts only text serde_json accepts, fills the same wire structs with the
//! same values (numbers other than plain 64-bit integers are read by serde_json itself, from
//! their text), and returns `None` — the caller then reads the body with serde — for
//! anything it does not handle: surrogate `\u` escapes, escaped keys, a known key twice
//! (serde's derive refuses those), nesting deeper than serde_json's limit allows, and the
//! shapes each caller leaves to serde. The callers' tests compare both readers on real bodies
//! and on thousands of broken and odd variants of them.

use serde_json::value::RawValue;

use super::wire::{Lenient, Scalar, Seq, StrOrRaw};
use crate::bytescan::{below, first_in, has_byte};

/// Deepest nesting read (serde_json's recursion limit is 128; deeper text goes to serde).
const MAX_DEPTH: u32 = 64;

/// The bytes that end a run of plain string content: `"`, `\\` and the control characters
/// (which JSON strings may not hold: serde_json refuses them).
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The position of the first special byte: a quote, a backslash or a byte below 0x20
/// (eight bytes at a time, then one table look-up per byte).
fn special(bytes: &[u8]) -> Option<usize> {
    first_in(
        bytes,
        |w| has_byte(w, b'"') | has_byte(w, b'\\') | below(w, 0x20),
        &SPECIAL,
    )
}

/// The known keys of one object read so far: serde's derive refuses a body that repeats
/// one, so the pull reader leaves such a body to it.
#[derive(Default)]
pub(crate) struct Seen(u32);

impl Seen {
    /// `Some` the first time `bit` is seen.
    pub(crate) fn first(&mut self, bit: u32) -> Option<()> {
        let mask = 1u32.checked_shl(bit)?;
        (self.0 & mask == 0).then(|| self.0 |= mask)
    }
}

/// A cursor over JSON text. Every method returns `None` when the text is not what it reads
/// (or not something this reader handles), leaving the cursor anywhere.
pub(crate) struct Scan<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scan {
            text,
            pos: 0,
            depth: 0,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte after whitespace, not consumed.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            // Whitespace is at most a space: one comparison for what compact JSON holds.
            if c > b' ' || !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.pos += 1)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.pos.checked_add(word.len())?;
        (self.bytes().get(self.pos..end)? == word.as_bytes()).then(|| self.pos = end)
    }

    /// Only whitespace is left.
    pub(crate) fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// `null`.
    pub(crate) fn null(&mut self) -> Option<()> {
        self.peek()?;
        self.literal("null")
    }

    /// A field serde reads as `Option<&RawValue>`: `None` for `null`, else the value's text
    /// (checked again by serde_json, which makes the `RawValue`).
    pub(crate) fn raw(&mut self) -> Option<Option<&'a RawValue>> {
        if self.peek()? == b'n' {
            return self.null().map(|()| None);
        }
        let start = self.pos;
        self.skip()?;
        let text = self.text.get(start..self.pos)?;
        serde_json::from_str::<&RawValue>(text).ok().map(Some)
    }

    /// A field serde reads as [`StrOrRaw`]: a string read here (not skipped, checked by
    /// serde and read again), `null` as `Absent`, anything else as [`Scan::raw`].
    pub(crate) fn str_or_raw(&mut self) -> Option<StrOrRaw<'a>> {
        match self.peek()? {
            b'"' => self.string().map(StrOrRaw::Str),
            _ => self
                .raw()
                .map(|raw| raw.map_or(StrOrRaw::Absent, StrOrRaw::Raw)),
        }
    }

    /// A field read as a [`Scalar`] into `slot`, the first time its key (`bit`) is seen.
    pub(crate) fn scalar_once(
        &mut self,
        seen: &mut Seen,
        bit: u32,
        slot: &mut Scalar<'a>,
    ) -> Option<()> {
        seen.first(bit)?;
        *slot = self.scalar()?;
        Some(())
    }

    /// A field read as a raw value ([`Scan::raw`]) into `slot`, the first time its key
    /// (`bit`) is seen.
    pub(crate) fn raw_once(
        &mut self,
        seen: &mut Seen,
        bit: u32,
        slot: &mut Option<&'a RawValue>,
    ) -> Option<()> {
        seen.first(bit)?;
        *slot = self.raw()?;
        Some(())
    }

    /// An object: `field` is called with the cursor at each value and must read or skip it.
    /// Keys with escapes are not handled (`None`).
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        self.enter()?;
        if self.peek()? == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = match self.string()? {
                Scalar::Str(k) => k,
                _ => return None,
            };
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: `item` is called with the cursor at each element and must read or skip it.
    pub(crate) fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.enter()?;
        if self.peek()? == b']' {
            self.pos += 1;
            self.depth -= 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// What serde reads as `Lenient<T>`: an object read into `T::default()` by `read`, `None`
    /// for any other value (checked and skipped).
    pub(crate) fn lenient<T: Default>(
        &mut self,
        read: impl FnOnce(&mut Self, &mut T) -> Option<()>,
    ) -> Option<Lenient<T>> {
        if self.peek()? != b'{' {
            return self.skip().map(|()| Lenient(None));
        }
        let mut t = T::default();
        read(self, &mut t)?;
        Some(Lenient(Some(t)))
    }

    /// What serde reads as `Seq<T>`: the elements of an array read by `item`, empty for any
    /// other value (checked and skipped).
    pub(crate) fn seq<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Seq<T>> {
        let mut out = Vec::new();
        if self.peek()? != b'[' {
            return self.skip().map(|()| Seq(out));
        }
        self.array(|s| {
            out.push(item(s)?);
            Some(())
        })?;
        Some(Seq(out))
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Any value, as a [`Scalar`] (arrays and objects skipped: [`Scalar::Composite`]).
    pub(crate) fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => self.string(),
            b't' => self.literal("true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal("false").map(|()| Scalar::Bool(false)),
            b'n' => self.literal("null").map(|()| Scalar::Null),
            b'[' | b'{' => self.skip().map(|()| Scalar::Composite),
            _ => self.integer(),
        }
    }

    /// Any value, checked as serde_json checks what it skips, and not kept.
    pub(crate) fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'[' => self.array(Self::skip),
            b'{' => self.object(|s, _| s.skip()),
            _ => self.number(),
        }
    }

    /// A string at the cursor: borrowed when it has no escapes, else unescaped.
    fn string(&mut self) -> Option<Scalar<'a>> {
        self.eat(b'"')?;
        let b = self.bytes();
        let start = self.pos;
        let mut i = start + special(b.get(start..)?)?;
        match b.get(i)? {
            b'"' => {
                self.pos = i + 1;
                return self.text.get(start..i).map(Scalar::Str);
            }
            b'\\' => {}
            _ => return None, // a control character
        }
        // Escapes: copy and unescape.
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.text.get(start..i)?);
        loop {
            match *b.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some(Scalar::OwnedStr(out.into_boxed_str()));
                }
                b'\\' => {
                    let c = match *b.get(i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = self.text.get(i + 2..i + 6)?;
                            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                                return None;
                            }
                            let code = u32::from_str_radix(hex, 16).ok()?;
                            i += 4;
                            // Surrogates (pairs or lone ones) are left to serde_json.
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    out.push(c);
                    i += 2;
                }
                c if c < 0x20 => return None,
                _ => {
                    // The run up to the next quote, escape or control character.
                    let run = special(b.get(i..)?)?;
                    out.push_str(self.text.get(i..i + run)?);
                    i += run;
                }
            }
        }
    }

    /// A number as serde_json reads it: a plain integer here (`UInt` when not negative,
    /// `Int` when negative), anything else (a fraction, an exponent, `-0`, more than 64 bits)
    /// by serde_json itself from the number's text, so the value is exactly serde's.
    fn integer(&mut self) -> Option<Scalar<'a>> {
        let start = self.pos;
        self.number()?;
        let text = self.text.get(start..self.pos)?;
        let plain = text != "-0" && !text.bytes().any(|c| matches!(c, b'.' | b'e' | b'E'));
        let read = if !plain {
            None
        } else if text.starts_with('-') {
            text.parse::<i64>().ok().map(Scalar::Int)
        } else {
            text.parse::<u64>().ok().map(Scalar::UInt)
        };
        read.or_else(|| serde_json::from_str::<Scalar<'_>>(text).ok())
    }

    /// A number (JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
    fn number(&mut self) -> Option<()> {
        let b = self.bytes();
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            (*i > from).then_some(())
        };
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => digits(&mut i)?,
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i)?;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            digits(&mut i)?;
        }
        self.pos = i;
        Some(())
    }
}

/// For the pull readers' tests: whether the pull reader read `text` (`fast`, what it read),
/// asserting that serde reads the same wire struct (as `Lenient<T>`, compared as `Debug`
/// text) when it did.
#[cfg(test)]
pub(crate) fn agrees<'a, T>(text: &'a str, fast: Option<T>) -> bool
where
    T: std::fmt::Debug + serde::Deserialize<'a>,
{
    let Some(fast) = fast else {
        return false;
    };
    let serde = serde_json::from_str::<Lenient<T>>(text)
        .ok()
        .and_then(|l| l.0)
        .map(|v| format!("{v:?}"));
    assert_eq!(Some(format!("{fast:?}")), serde, "{text:?}");
    true
}

/// For the pull readers' tests: how many [`variants`] of `texts` the pull reader read
/// (each checked by `agrees`).
#[cfg(test)]
pub(crate) fn variants_read(texts: &[&str], agrees: impl Fn(&str) -> bool) -> usize {
    texts
        .iter()
        .flat_map(|t| variants(t))
        .filter(|v| agrees(v))
        .count()
}

/// Variants of a JSON text for the pull reader's tests: each character deleted, and bits of
/// JSON (and of non-JSON) inserted at each character boundary.
#[cfg(test)]
pub(crate) fn variants(text: &str) -> Vec<String> {
    const INSERTS: [&str; 20] = [
        "\"",
        "\\",
        ",",
        ":",
        "}",
        "]",
        "{",
        "[",
        " ",
        "0",
        "-",
        "x",
        "\n",
        "\u{1}",
        "null",
        "1.5",
        "\"id\":\"dup\",",
        "\"content\":\"dup\",",
        "\"choices\":[],",
        "\"index\":2,",
    ];
    let bounds: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let mut out = Vec::new();
    for (n, &i) in bounds.iter().enumerate() {
        if let Some(&next) = bounds.get(n + 1) {
            let mut cut = text.to_owned();
            cut.replace_range(i..next, "");
            out.push(cut);
        }
        for ins in INSERTS {
            let mut with = text.to_owned();
            with.insert_str(i, ins);
            out.push(with);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Scalar, Scan};

    fn scalar(text: &str) -> Option<Scalar<'_>> {
        let mut s = Scan::new(text);
        let v = s.scalar()?;
        s.end()?;
        Some(v)
    }

    #[test]
    fn scalars_read_as_serde_json_reads_them() {
        for text in [
            r#""plain""#,
            r#""esc\"aped\\ \/ \b\f\n\r\t \u00e9 \u20ac""#,
            "\"ünïcödé ✓\"",
            "0",
            "42",
            "-42",
            "18446744073709551615",
            "-9223372036854775808",
            "true",
            "false",
            "null",
            "[1, [2, {\"a\": [3]}], \"x\"]",
            "{\"a\": {\"b\": null}, \"c\": -1.5e3}",
            "  7  ",
            "1.5",
            "-0",
            "2e10",
            "-1.25E-3",
            "18446744073709551616",
            "-9223372036854775809",
        ] {
            let ours = scalar(text).unwrap_or_else(|| panic!("read {text}"));
            let theirs: Scalar<'_> = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn what_serde_json_refuses_or_reads_otherwise_is_left_to_it() {
        for text in [
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "\"\\ud83d\\ude00\"",
            "\"\\ud83d\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"tab\there\"",
            "\"unterminated",
            "tru",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a: 1}",
            "[1 2]",
            "1 2",
            "",
        ] {
            assert_eq!(scalar(text), None, "{text}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(scalar(&deep), None);
    }

    #[test]
    fn special_finds_the_first_quote_backslash_or_control_byte() {
        let plain = "abcdefghijklmnopqrstuvwxyz é ✓ 0123456789";
        assert_eq!(super::special(plain.as_bytes()), None);
        for at in 0..plain.len() {
            for c in ["\"", "\\", "\n", "\u{0}", "\u{1f}"] {
                let mut t = plain.to_owned();
                if !t.is_char_boundary(at) {
                    continue;
                }
                t.insert_str(at, c);
                // A second special byte later must not hide the first.
                t.push('"');
                assert_eq!(super::special(t.as_bytes()), Some(at), "{t:?}");
            }
        }
    }
}

//! The built-in redactors: what each one finds in a text (a regular expression for the
//! shape, then a check that keeps ordinary numbers, dates and ids out: Luhn and card-issuer
//! prefixes for cards, per-country length and mod-97 for IBANs, a JSON header for JWTs, a
//! digit count for phone numbers), and the splice that replaces what they found.

use std::sync::OnceLock;

use regex::Regex;

/// A built-in redactor, chosen by name from the builder
/// ([`crate::TelemetryBuilder::redactors`]) or `LLMETRY_REDACT`.
///
/// ```
/// use llmetry::redact::Redactor;
/// assert_eq!("card".parse::<Redactor>(), Ok(Redactor::Card));
/// assert_eq!(Redactor::Email.redact("write to jane.doe@example.com"), "write to [REDACTED:email]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Redactor {
    /// `email`: e-mail addresses (not file names such as `icon@2x.png`).
    Email,
    /// `phone`: international numbers (`+44 20 7946 0958`: `+`, 8 to 15 digits) and North
    /// American ones written with separators (`(415) 555-2671`, `415-555-2671`).
    Phone,
    /// `card`: payment card numbers (13 to 19 digits, spaces or dashes allowed) with a
    /// known issuer prefix and length, and a valid Luhn check digit.
    Card,
    /// `iban`: IBANs (upper case, spaces allowed) of the right length for their country,
    /// with a valid mod-97 check.
    Iban,
    /// `secret`: API keys and tokens of common shapes: OpenAI and Anthropic keys (`sk-…`),
    /// AWS access key ids (`AKIA…`), `Bearer` tokens, JWTs, GitHub, Google, Slack and
    /// Stripe tokens, PEM private-key headers.
    Secret,
}

/// Every built-in redactor, in the order names are listed in errors.
pub(crate) const ALL: [Redactor; 5] = [
    Redactor::Email,
    Redactor::Phone,
    Redactor::Card,
    Redactor::Iban,
    Redactor::Secret,
];

/// What `LLMETRY_REDACT` accepts, for error messages.
pub(crate) const EXPECTED_NAMES: &str =
    "a comma list of redactor names: email, phone, card, iban, secret (or all)";

impl Redactor {
    /// The name the builder's docs, `LLMETRY_REDACT` and the replacement use.
    ///
    /// ```
    /// assert_eq!(llmetry::redact::Redactor::Iban.name(), "iban");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Redactor::Email => "email",
            Redactor::Phone => "phone",
            Redactor::Card => "card",
            Redactor::Iban => "iban",
            Redactor::Secret => "secret",
        }
    }

    /// `text` with everything this redactor finds replaced by `[REDACTED:<name>]`.
    ///
    /// ```
    /// use llmetry::redact::Redactor;
    /// assert_eq!(Redactor::Card.redact("card 4111 1111 1111 1111, order 1234567890123"),
    ///            "card [REDACTED:card], order 1234567890123");
    /// ```
    pub fn redact(self, text: &str) -> String {
        let mut out = text.to_owned();
        redact_text(&[self], &mut out);
        out
    }

    /// The byte ranges of `text` this redactor would replace.
    fn find(self, text: &str, found: &mut Vec<(usize, usize, Redactor)>) {
        let p = patterns();
        let mut push = |s: usize, e: usize| found.push((s, e, self));
        match self {
            Redactor::Email => {
                for m in p.email.find_iter(text) {
                    if email_ok(m.as_str()) {
                        push(m.start(), m.end());
                    }
                }
            }
            Redactor::Phone => {
                for m in p.phone_intl.find_iter(text) {
                    let digits = m.as_str().bytes().filter(u8::is_ascii_digit).count();
                    if (8..=15).contains(&digits) {
                        push(m.start(), m.end());
                    }
                }
                for m in p.phone_nanp.find_iter(text) {
                    push(m.start(), m.end());
                }
            }
            Redactor::Card => {
                for m in p.card.find_iter(text) {
                    if card_ok(m.as_str()) {
                        push(m.start(), m.end());
                    }
                }
            }
            Redactor::Iban => {
                for m in p.iban.find_iter(text) {
                    if let Some(len) = iban_prefix(m.as_str()) {
                        push(m.start(), m.start() + len);
                    }
                }
            }
            Redactor::Secret => {
                for m in p.secret.find_iter(text) {
                    if secret_ok(m.as_str()) {
                        push(m.start(), m.end());
                    }
                }
                for c in p.bearer.captures_iter(text) {
                    if let Some(t) = c.get(1)
                        && (t.as_str().bytes().any(|b| b.is_ascii_digit()) || t.len() >= 20)
                    {
                        push(t.start(), t.end());
                    }
                }
                for m in p.jwt.find_iter(text) {
                    if jwt_ok(m.as_str()) {
                        push(m.start(), m.end());
                    }
                }
            }
        }
    }
}

impl std::str::FromStr for Redactor {
    type Err = String;

    /// A redactor by name (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        ALL.into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| s.to_owned())
    }
}

impl std::fmt::Display for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Replaces in `text` what any of `redactors` finds; overlapping finds are merged into the
/// longest (a card number inside an IBAN is one IBAN). Returns whether anything changed.
pub(crate) fn redact_text(redactors: &[Redactor], text: &mut String) -> bool {
    if redactors.is_empty() || text.is_empty() {
        return false;
    }
    let mut found = Vec::new();
    for r in redactors {
        r.find(text, &mut found);
    }
    if found.is_empty() {
        return false;
    }
    // Longest first among those starting at the same place, then drop what overlaps a
    // kept one.
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut kept: Vec<(usize, usize, Redactor)> = Vec::with_capacity(found.len());
    for f in found {
        match kept.last_mut() {
            Some(last) if f.0 < last.1 => {
                if f.1 > last.1 {
                    last.1 = f.1;
                }
            }
            _ => kept.push(f),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e, r) in kept {
        out.push_str(&text[at..s]);
        out.push_str("[REDACTED:");
        out.push_str(r.name());
        out.push(']');
        at = e;
    }
    out.push_str(&text[at..]);
    *text = out;
    true
}

struct Patterns {
    email: Regex,
    phone_intl: Regex,
    phone_nanp: Regex,
    card: Regex,
    iban: Regex,
    secret: Regex,
    bearer: Regex,
    jwt: Regex,
}

/// Compiled once, on first use (only when a redactor is configured).
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // The patterns are constants compiled by the unit tests: a failure here is a bug in
        // this file, never input.
        #[allow(clippy::expect_used)]
        let re = |s: &str| Regex::new(s).expect("a built-in pattern compiles");
        Patterns {
            // ASCII classes and (?-u:\b): digits and word boundaries as in ASCII text.
            email: re(r"(?i-u)\b[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\b"),
            phone_intl: re(r"(?-u)\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,5}[0-9]\b"),
            phone_nanp: re(r"(?-u)(?:\(\s*[2-9][0-9]{2}\s*\)\s*|\b[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}\b"),
            card: re(r"(?-u)\b[0-9](?:[ -]?[0-9]){12,18}\b"),
            iban: re(r"(?-u)\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
            secret: re(concat!(
                r"(?-u)\bsk-(?:proj-|svcacct-|admin-|ant-(?:api03|admin01)-)?[A-Za-z0-9_-]{20,}",
                r"|\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
                r"|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b",
                r"|\bAIza[0-9A-Za-z_-]{35}\b",
                r"|\bxox[baprs]-[0-9A-Za-z-]{10,}",
                r"|\b(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}\b",
                r"|-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----",
            )),
            bearer: re(r"(?i-u)\bbearer[ \t]+([A-Za-z0-9._~+/-]{8,}=*)"),
            jwt: re(r"(?-u)\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
        }
    })
}

/// File extensions that look like top-level domains after an `@` (`icon@2x.png`).
const NOT_TLDS: [&str; 22] = [
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "ts", "css", "json", "yaml", "yml",
    "md", "txt", "rs", "py", "go", "java", "html", "toml", "lock",
];

fn email_ok(m: &str) -> bool {
    let tld = m.rsplit('.').next().unwrap_or_default();
    !NOT_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld))
}

/// Issuer prefix and length of the common card networks, then Luhn.
fn card_ok(m: &str) -> bool {
    let digits: Vec<u8> = m
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    let n = digits.len();
    let prefix = |k: usize| {
        digits
            .iter()
            .take(k)
            .fold(0u32, |acc, d| acc * 10 + u32::from(*d))
    };
    let issuer = match digits.first() {
        Some(4) => matches!(n, 13 | 16 | 19),                 // Visa
        Some(5) => (51..=55).contains(&prefix(2)) && n == 16, // Mastercard
        Some(2) => (2221..=2720).contains(&prefix(4)) && n == 16, // Mastercard
        Some(3) => {
            (matches!(prefix(2), 34 | 37) && n == 15)                                   // Amex
                || ((3528..=3589).contains(&prefix(4)) && (16..=19).contains(&n))       // JCB
                || (((300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38))
                    && (14..=19).contains(&n)) // Diners
        }
        Some(6) => {
            (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)))
                && (16..=19).contains(&n) // Discover
        }
        _ => false,
    };
    issuer && luhn(&digits)
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths by country (ISO 13616 registry, the common ones).
const IBAN_LENGTHS: [(&str, usize); 52] = [
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
];

/// The length in bytes of the valid IBAN `m` starts with (spaces included), trying shorter
/// prefixes when the match ran on into the following text (`… 0130 00 2 days`).
fn iban_prefix(m: &str) -> Option<usize> {
    let country = m.get(..2)?;
    let want = IBAN_LENGTHS.iter().find(|(c, _)| *c == country)?.1;
    // The byte offset at which `want` alphanumerics have been seen.
    let mut seen = 0;
    for (i, b) in m.bytes().enumerate() {
        if b != b' ' {
            seen += 1;
            if seen == want {
                let candidate = &m[..=i];
                let end_ok = m.as_bytes().get(i + 1).is_none_or(|b| *b == b' ');
                return (end_ok && mod97(candidate)).then_some(i + 1);
            }
        }
    }
    None
}

fn mod97(iban: &str) -> bool {
    let compact: Vec<u8> = iban.bytes().filter(|b| *b != b' ').collect();
    if compact.len() < 5 {
        return false;
    }
    let (head, rest) = compact.split_at(4);
    let mut r: u32 = 0;
    for &b in rest.iter().chain(head) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    r == 1
}

/// `sk-…` keys must look random (a digit, an upper- and a lower-case letter in the body):
/// `sk-learn-compatible-estimator` is an identifier, not a key.
fn secret_ok(m: &str) -> bool {
    let Some(body) = m.strip_prefix("sk-") else {
        return true;
    };
    let has = |f: fn(&u8) -> bool| body.as_bytes().iter().any(f);
    has(u8::is_ascii_digit) && has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase)
}

/// A JWT's first part must decode to a JSON object (a header): base64 images contain
/// `eyJ` too.
fn jwt_ok(m: &str) -> bool {
    let header = m.split('.').next().unwrap_or_default();
    base64url(header)
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|v| v.is_object())
}

fn base64url(s: &str) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        // Every pattern compiles and matches what it is for.
        assert!(patterns().email.is_match("a@b.co"));
        assert!(patterns().phone_intl.is_match("+44 20 7946 0958"));
        assert!(patterns().phone_nanp.is_match("(415) 555-2671"));
        assert!(patterns().card.is_match("4111111111111111"));
        assert!(patterns().iban.is_match("GB82WEST12345698765432"));
        assert!(patterns().secret.is_match("AKIAIOSFODNN7EXAMPLE"));
        assert!(patterns().bearer.is_match("Bearer abc123def456"));
        assert!(
            patterns()
                .jwt
                .is_match("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x")
        );
    }

    #[test]
    fn luhn_and_mod97() {
        assert!(luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
        assert!(!luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]));
        assert!(mod97("GB82WEST12345698765432"));
        assert!(mod97("DE89 3704 0044 0532 0130 00"));
        assert!(!mod97("GB82WEST12345698765433"));
    }
}

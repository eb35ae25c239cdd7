//! OTel-format header strings (`OTEL_EXPORTER_OTLP_HEADERS`, `TRACELOOP_HEADERS`) and
//! header maps.
//!
//! Header values are usually secrets (`Authorization=Bearer …`, API keys): nothing here
//! ever prints one. Errors, warnings and [`Redacted`] show header names only, values as
//! `***`.

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::error::{HeaderError, HeaderProblem};

/// The result of [`parse_headers`]: the headers in input order, plus warnings about
/// input that was accepted but looks like a mistake (to be logged by the caller).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedHeaders {
    /// `(name, value)` pairs, percent-decoded, names unique (case-insensitively).
    pub(crate) headers: Vec<(String, String)>,
    /// Human-readable warnings; they name headers, never show values.
    pub(crate) warnings: Vec<String>,
}

impl fmt::Debug for ParsedHeaders {
    // Values are secrets: show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedHeaders")
            .field("headers", &Redacted(&self.headers))
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Parses the `key=value,key2=value2` format of `OTEL_EXPORTER_OTLP_HEADERS` and
/// `TRACELOOP_HEADERS`.
///
/// * Items are separated by `,`; empty items (a trailing comma, `a=1,,b=2`) are skipped,
///   so an empty or blank string gives no headers.
/// * Each item is split on its first `=` (`k=a=b` is `k` → `a=b`); whitespace around the
///   name and the value is trimmed; then both are percent-decoded (`Bearer%20abc` →
///   `Bearer abc`; `+` stays a `+`).
/// * Errors (never silent drops): an item without `=`; a name that is empty or not an
///   HTTP token; a value that is not valid UTF-8 or holds a control character other
///   than tab after decoding.
/// * Accepted with a warning: a bare (un-encoded) space or tab inside a value
///   (`Authorization=Bearer abc`); a name given more than once (compared
///   case-insensitively), in which case the last value replaces the earlier one in the
///   earlier one's position.
///
/// Names keep their case (HTTP names are case-insensitive; see [`grpc_metadata_key`] for
/// gRPC).
pub(crate) fn parse_headers(s: &str) -> Result<ParsedHeaders, HeaderError> {
    let mut out = ParsedHeaders::default();
    for item in s.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((raw_name, raw_value)) = item.split_once('=') else {
            return Err(HeaderProblem::MissingEquals {
                item: redact_item(item),
                input: redact_input(s),
            }
            .into());
        };
        let (raw_name, raw_value) = (raw_name.trim(), raw_value.trim());

        let name =
            decode(raw_name)
                .filter(|n| is_token(n))
                .ok_or_else(|| HeaderProblem::InvalidName {
                    name: raw_name.to_owned(),
                    input: redact_input(s),
                })?;
        let invalid_value = |problem: String| HeaderProblem::InvalidValue {
            name: name.clone(),
            input: redact_input(s),
            problem,
        };
        let value = decode(raw_value).ok_or_else(|| {
            invalid_value("it is not valid UTF-8 after percent-decoding".to_owned())
        })?;
        if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
            return Err(invalid_value(format!(
                "it contains the control character U+{:04X} after percent-decoding",
                u32::from(c)
            ))
            .into());
        }
        if !is_visible_ascii(&value) {
            return Err(invalid_value(
                "it holds non-ASCII text after percent-decoding (HTTP header values are ASCII)"
                    .to_owned(),
            )
            .into());
        }

        if raw_value.contains([' ', '\t']) {
            out.warnings.push(format!(
                "header {name:?} has a space in its value; accepted as is \
                 (percent-encode it as %20 to silence this)"
            ));
        }
        match out
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => {
                out.warnings.push(format!(
                    "header {name:?} is set more than once; the last value is used"
                ));
                slot.1 = value;
            }
            None => out.headers.push((name, value)),
        }
    }
    Ok(out)
}

/// What a header value may hold, for error messages.
pub(crate) const VISIBLE_ASCII: &str = "a header value of visible ASCII characters, spaces and tabs \
     (HTTP sends header values as ASCII: encode other text, e.g. percent-encoded, yourself)";

/// Whether `value` is visible ASCII, spaces and tabs: what every HTTP stack sends the
/// same way (other bytes would go out as raw UTF-8, which servers read differently).
pub(crate) fn is_visible_ascii(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// A header name as gRPC metadata needs it: lower-case (gRPC rejects upper-case keys).
pub(crate) fn grpc_metadata_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Shows header names with every value replaced by `***`, for logs and `Debug` output.
///
/// `Display`: `Authorization=***, X-Scope-OrgID=***` (empty for no headers).
/// `Debug`: `{"Authorization": "***", "X-Scope-OrgID": "***"}`.
#[derive(Clone, Copy)]
pub(crate) struct Redacted<'a>(pub(crate) &'a [(String, String)]);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, _)| (name, "***")))
            .finish()
    }
}

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, _)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}=***")?;
        }
        Ok(())
    }
}

/// Percent-decodes `s`; `None` if the result is not UTF-8. Malformed escapes (`%zz`)
/// are kept as written.
fn decode(s: &str) -> Option<String> {
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// An RFC 9110 token: one or more of `A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~`.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `item` with its value hidden: `k=v` → `k=***`; without `=`, the leading name and
/// the separator after it are kept (`Authorization: Bearer x` → `Authorization: ***`).
fn redact_item(item: &str) -> String {
    if let Some((name, _)) = item.split_once('=') {
        return format!("{name}=***");
    }
    let name_end = item
        .bytes()
        .position(|b| !is_token_byte(b))
        .unwrap_or(item.len());
    let sep_end = item[name_end..]
        .find(|c: char| c != ':' && !c.is_whitespace())
        .map_or(item.len(), |i| name_end + i);
    if sep_end == item.len() {
        item.to_owned()
    } else {
        format!("{}***", &item[..sep_end])
    }
}

/// The whole header string with every value hidden, for error messages.
fn redact_input(s: &str) -> String {
    s.split(',').map(redact_item).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// `(name, value)` pairs in a test table.
    type Pairs = &'static [(&'static str, &'static str)];

    /// `(input, headers, number of warnings)`.
    const OK: &[(&str, Pairs, usize)] = &[
        // Empty and blank input, empty items.
        ("", &[], 0),
        ("   ", &[], 0),
        (",", &[], 0),
        (" , ,, ", &[], 0),
        // Simple pairs.
        ("k=v", &[("k", "v")], 0),
        (
            "api-key=abc,X-Scope-OrgID=rca",
            &[("api-key", "abc"), ("X-Scope-OrgID", "rca")],
            0,
        ),
        // Trailing and doubled commas.
        ("k=v,", &[("k", "v")], 0),
        ("a=1,,b=2,", &[("a", "1"), ("b", "2")], 0),
        // Whitespace around `=` and `,` is trimmed.
        (" k = v ", &[("k", "v")], 0),
        (
            "a = 1 , b=2 ,\tc =3",
            &[("a", "1"), ("b", "2"), ("c", "3")],
            0,
        ),
        // Percent-decoding of values and names.
        (
            "Authorization=Bearer%20abc",
            &[("Authorization", "Bearer abc")],
            0,
        ),
        ("k=a%2Cb%3Dc", &[("k", "a,b=c")], 0),
        ("X%2DKey=v", &[("X-Key", "v")], 0),
        ("k=100%", &[("k", "100%")], 0),
        ("k=%zz", &[("k", "%zz")], 0),
        ("k=a+b", &[("k", "a+b")], 0),
        ("k=%09tab", &[("k", "\ttab")], 0),
        // `=` inside values: split on the first one only.
        ("k=a=b", &[("k", "a=b")], 0),
        ("token=abc==", &[("token", "abc==")], 0),
        // Empty values are values.
        ("k=", &[("k", "")], 0),
        ("k= ,j=1", &[("k", ""), ("j", "1")], 0),
        // Token punctuation in names.
        ("x!#$&'*+.^_`|~=1", &[("x!#$&'*+.^_`|~", "1")], 0),
        // Bare spaces inside values: accepted, with a warning.
        (
            "Authorization=Bearer abc",
            &[("Authorization", "Bearer abc")],
            1,
        ),
        ("k=a b c", &[("k", "a b c")], 1),
        ("a=1 b=2", &[("a", "1 b=2")], 1),
        // Repeated names: last value wins, in the first one's position, with a warning.
        ("a=1,b=2,a=3", &[("a", "3"), ("b", "2")], 1),
        ("Api-Key=1,api-key=2", &[("Api-Key", "2")], 1),
        ("k=a b,K=c d", &[("k", "c d")], 3),
    ];

    #[test]
    fn parses_valid_header_strings() {
        for &(input, want, warnings) in OK {
            let got = parse_headers(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got.headers, pairs(want), "{input:?}");
            assert_eq!(
                got.warnings.len(),
                warnings,
                "{input:?}: {:?}",
                got.warnings
            );
        }
    }

    #[test]
    fn warning_texts() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Authorization=Bearer abc",
                &[
                    r#"header "Authorization" has a space in its value; accepted as is (percent-encode it as %20 to silence this)"#,
                ],
            ),
            (
                "k=1,K=2",
                &[r#"header "K" is set more than once; the last value is used"#],
            ),
            ("Authorization=Bearer%20abc", &[]),
        ];
        for &(input, want) in cases {
            let got = parse_headers(input).unwrap();
            assert_eq!(got.warnings, want, "{input:?}");
        }
    }

    #[test]
    fn rejects_invalid_header_strings() {
        let cases = [
            // Missing `=`.
            (
                "X-Scope-OrgID rca",
                r#"invalid header "X-Scope-OrgID ***" in "X-Scope-OrgID ***": expected key=value"#,
            ),
            (
                "api-key=s3cret,X-Scope-OrgID rca",
                r#"invalid header "X-Scope-OrgID ***" in "api-key=***,X-Scope-OrgID ***": expected key=value"#,
            ),
            (
                "Authorization: Bearer s3cret",
                r#"invalid header "Authorization: ***" in "Authorization: ***": expected key=value"#,
            ),
            (
                "k=v,justakey",
                r#"invalid header "justakey" in "k=***,justakey": expected key=value"#,
            ),
            (
                "\"quoted s3cret\"",
                r#"invalid header "***" in "***": expected key=value"#,
            ),
            // Invalid names.
            (
                "=v",
                r#"invalid header name "" in "=***": expected a non-empty name of letters, digits and !#$%&'*+-.^_`|~"#,
            ),
            (
                " = s3cret ,k=v",
                r#"invalid header name "" in " =***,k=***": expected a non-empty name of letters, digits and !#$%&'*+-.^_`|~"#,
            ),
            (
                "api key=s3cret",
                r#"invalid header name "api key" in "api key=***": expected a non-empty name of letters, digits and !#$%&'*+-.^_`|~"#,
            ),
            (
                "X:Key=v",
                r#"invalid header name "X:Key" in "X:Key=***": expected a non-empty name of letters, digits and !#$%&'*+-.^_`|~"#,
            ),
            (
                "a%20b=v",
                r#"invalid header name "a%20b" in "a%20b=***": expected a non-empty name of letters, digits and !#$%&'*+-.^_`|~"#,
            ),
            (
                "k%FF=v",
                r#"invalid header name "k%FF" in "k%FF=***": expected a non-empty name of letters, digits and !#$%&'*+-.^_`|~"#,
            ),
            (
                "caf\u{e9}=v",
                r#"invalid header name "café" in "café=***": expected a non-empty name of letters, digits and !#$%&'*+-.^_`|~"#,
            ),
            // Invalid values.
            (
                "k=s3cret%0Ainjected",
                r#"invalid header value for "k" in "k=***": it contains the control character U+000A after percent-decoding; expected printable characters (percent-encoded as needed)"#,
            ),
            (
                "k=a%00",
                r#"invalid header value for "k" in "k=***": it contains the control character U+0000 after percent-decoding; expected printable characters (percent-encoded as needed)"#,
            ),
            (
                "k=a%7F",
                r#"invalid header value for "k" in "k=***": it contains the control character U+007F after percent-decoding; expected printable characters (percent-encoded as needed)"#,
            ),
            (
                "k=a\u{1}b",
                r#"invalid header value for "k" in "k=***": it contains the control character U+0001 after percent-decoding; expected printable characters (percent-encoded as needed)"#,
            ),
            (
                "k=%FF%FE",
                r#"invalid header value for "k" in "k=***": it is not valid UTF-8 after percent-decoding; expected printable characters (percent-encoded as needed)"#,
            ),
            // Issue 9: non-ASCII text was sent as raw UTF-8 bytes.
            (
                "k=caf%C3%A9",
                r#"invalid header value for "k" in "k=***": it holds non-ASCII text after percent-decoding (HTTP header values are ASCII); expected printable characters (percent-encoded as needed)"#,
            ),
            (
                "k=caf\u{e9}",
                r#"invalid header value for "k" in "k=***": it holds non-ASCII text after percent-decoding (HTTP header values are ASCII); expected printable characters (percent-encoded as needed)"#,
            ),
        ];
        for (input, want) in cases {
            match parse_headers(input) {
                Ok(got) => panic!("{input:?} parsed as {got:?}"),
                Err(e) => assert_eq!(e.to_string(), want, "{input:?}"),
            }
        }
    }

    #[test]
    fn errors_and_debug_never_show_values() {
        let inputs = [
            "a=s3cret,X-Scope-OrgID s3cret",
            "Authorization: Bearer s3cret",
            "a=s3cret,bad key=s3cret",
            "a=s3cret,k=s3cret%0A",
            "a=s3cret,k=s3cret%FF",
        ];
        for input in inputs {
            let e = parse_headers(input).unwrap_err();
            assert!(!e.to_string().contains("s3cret"), "{e}");
            assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
        }
        let ok = parse_headers("Authorization=Bearer s3cret,k=s3cret").unwrap();
        assert!(!format!("{ok:?}").contains("s3cret"), "{ok:?}");
        assert!(!format!("{ok:#?}").contains("s3cret"), "{ok:#?}");
        for w in &ok.warnings {
            assert!(!w.contains("s3cret"), "{w}");
        }
    }

    #[test]
    fn redacted_shows_names_only() {
        let cases: &[(Pairs, &str, &str)] = &[
            (&[], "", "{}"),
            (
                &[("Authorization", "Bearer s3cret")],
                "Authorization=***",
                r#"{"Authorization": "***"}"#,
            ),
            (
                &[
                    ("api-key", "s3cret"),
                    ("X-Scope-OrgID", "rca"),
                    ("empty", ""),
                ],
                "api-key=***, X-Scope-OrgID=***, empty=***",
                r#"{"api-key": "***", "X-Scope-OrgID": "***", "empty": "***"}"#,
            ),
        ];
        for &(list, display, debug) in cases {
            let list = pairs(list);
            assert_eq!(Redacted(&list).to_string(), display);
            assert_eq!(format!("{:?}", Redacted(&list)), debug);
        }
        let parsed = parse_headers("api-key=s3cret").unwrap();
        assert_eq!(
            format!("{parsed:?}"),
            r#"ParsedHeaders { headers: {"api-key": "***"}, warnings: [] }"#
        );
    }

    #[test]
    fn grpc_metadata_keys_are_lower_case() {
        let cases = [
            ("Authorization", "authorization"),
            ("X-Scope-OrgID", "x-scope-orgid"),
            ("api-key", "api-key"),
            ("X_API.KEY-2", "x_api.key-2"),
            ("", ""),
        ];
        for (name, want) in cases {
            assert_eq!(grpc_metadata_key(name), want, "{name:?}");
        }
    }

    #[test]
    fn redact_item_keeps_names_and_separators() {
        let cases = [
            ("k=v", "k=***"),
            (" k = v ", " k =***"),
            ("k=", "k=***"),
            ("justakey", "justakey"),
            ("X-Scope-OrgID rca", "X-Scope-OrgID ***"),
            ("Authorization: Bearer x", "Authorization: ***"),
            ("Authorization:", "Authorization:"),
            ("\"x\"", "***"),
            ("", ""),
        ];
        for (item, want) in cases {
            assert_eq!(redact_item(item), want, "{item:?}");
        }
    }
}

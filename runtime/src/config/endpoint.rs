//! The one endpoint resolver for every OTLP signal (traces, metrics, logs).
//!
//! An endpoint string (a builder argument, Traceloop's `api_endpoint`,
//! `TRACELOOP_BASE_URL`, `OTEL_EXPORTER_OTLP_ENDPOINT` or a per-signal
//! `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`) is turned into a [`Destination`]; the scheme
//! decides which kind:
//!
//! | input                          | destination                                   |
//! |--------------------------------|-----------------------------------------------|
//! | `http://…`, `https://…`        | OTLP/HTTP, `/v1/<signal>` appended as needed  |
//! | `grpc://host[:port]`           | OTLP/gRPC plaintext, port defaults to 4317    |
//! | `grpcs://host[:port]`          | OTLP/gRPC over TLS, port defaults to 443      |
//! | `host[:port]` (no scheme)      | OTLP/gRPC plaintext, port defaults to 4317 (as Python's Traceloop SDK) |
//!
//! Anything else (an unknown scheme, an empty host, whitespace inside, a bad port, a
//! gRPC endpoint with a path) is an [`EndpointError`] naming the value and what was
//! expected: a misspelt endpoint must fail loudly rather than silently export nowhere.

use std::fmt;

use url::{Position, Url};

use crate::error::{EndpointError, EndpointProblem, shorten};

/// Port of a `grpc://host` or scheme-less `host` endpoint that names none.
pub(crate) const DEFAULT_GRPC_PORT: u16 = 4317;
/// Port of a `grpcs://host` endpoint that names none.
pub(crate) const DEFAULT_GRPCS_PORT: u16 = 443;

/// An OpenTelemetry signal, each exported to its own OTLP endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Signal {
    /// Spans.
    Traces,
    /// Metrics.
    Metrics,
    /// Log records.
    Logs,
}

impl Signal {
    /// Every signal, in a fixed order.
    #[cfg(test)]
    pub(crate) const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The OTLP/HTTP path of this signal: `/v1/traces`, `/v1/metrics` or `/v1/logs`.
    pub(crate) const fn path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// The lower-case name: `traces`, `metrics` or `logs` (as in `OTEL_EXPORTER_OTLP_TRACES_*`).
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one signal is exported, as decided by [`resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// OTLP/HTTP: `url` is the full URL requests are POSTed to (e.g. `http://h:4318/v1/traces`).
    Http {
        /// The full signal URL.
        url: Url,
    },
    /// OTLP/gRPC: `url` is the `http://host:port` (plaintext) or `https://host:port` (TLS)
    /// form tonic expects, with no path. Like any [`Url`], it serialises with a trailing
    /// `/` and without a scheme's default port (`https://h:443` is `https://h/`); use
    /// [`Url::port_or_known_default`] for the port.
    Grpc {
        /// `http://host:port` or `https://host:port`.
        url: Url,
        /// Whether the channel uses TLS (`grpcs://`).
        tls: bool,
    },
}

impl Destination {
    /// The URL to hand to the exporter.
    pub(crate) fn url(&self) -> &Url {
        match self {
            Destination::Http { url } | Destination::Grpc { url, .. } => url,
        }
    }

    /// Whether this is an OTLP/gRPC destination.
    pub(crate) fn is_grpc(&self) -> bool {
        matches!(self, Destination::Grpc { .. })
    }

    /// A short human form for messages: `http://h:4318/v1/traces`, `grpc://h:4317 (plaintext)`
    /// or `grpcs://h:443 (TLS)`. Credentials in the URL are shown as `***`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Destination::Http { url } => {
                if url.username().is_empty() && url.password().is_none() {
                    return url.to_string();
                }
                let mut shown = url.clone();
                // Only fails for URLs without a host, which `resolve` never returns.
                let _ = shown.set_username("***");
                let _ = shown.set_password(None);
                shown.to_string()
            }
            Destination::Grpc { url, tls } => {
                let (scheme, default_port, mode) = if *tls {
                    ("grpcs", DEFAULT_GRPCS_PORT, "TLS")
                } else {
                    ("grpc", DEFAULT_GRPC_PORT, "plaintext")
                };
                format!(
                    "{scheme}://{}:{} ({mode})",
                    url.host_str().unwrap_or_default(),
                    url.port_or_known_default().unwrap_or(default_port),
                )
            }
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Resolves an endpoint string for `signal`.
///
/// * The value is trimmed; whitespace or control characters left inside are an error.
/// * `http://` / `https://` → [`Destination::Http`]:
///   * `signal_specific == false` (a base URL: the builder's endpoint, Traceloop's
///     `api_endpoint`, `OTEL_EXPORTER_OTLP_ENDPOINT`): `/v1/<signal>` is appended to the
///     path (trailing slashes dropped) unless it already ends with `/v1/<signal>`:
///     `http://h:4318/` → `http://h:4318/v1/traces`, `http://h:4318/otlp` →
///     `http://h:4318/otlp/v1/traces`, `http://h:4318/v1/traces` unchanged.
///   * `signal_specific == true` (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, a per-signal
///     builder endpoint): used verbatim when its path is non-empty and not `/`; otherwise
///     `/v1/<signal>` is appended.
///   * No port means the scheme's default (80 or 443), as for any URL.
/// * `grpc://host[:port]` → [`Destination::Grpc`] plaintext, `url` = `http://host:port`.
/// * `grpcs://host[:port]` → [`Destination::Grpc`] TLS, `url` = `https://host:port`.
/// * `host[:port]` with no scheme (`localhost:4317`, `10.0.0.1:4317`, `[::1]:4317`) →
///   gRPC plaintext, as Python's Traceloop SDK does.
/// * gRPC endpoints take no path (a lone `/` is tolerated); the port defaults to
///   [`DEFAULT_GRPC_PORT`] (4317) for `grpc://` and no scheme, [`DEFAULT_GRPCS_PORT`]
///   (443) for `grpcs://`. `signal_specific` makes no difference for gRPC.
/// * Scheme names are case-insensitive.
pub(crate) fn resolve(
    base: &str,
    signal: Signal,
    signal_specific: bool,
) -> Result<Destination, EndpointError> {
    let err = |problem| EndpointError {
        value: shorten(&redact_userinfo(base)),
        problem,
    };
    let s = base.trim();
    if s.is_empty() {
        return Err(err(EndpointProblem::Empty));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(EndpointProblem::Whitespace));
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return scheme_less(s).map_err(err);
    };
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => None,
        "grpc" => Some(false),
        "grpcs" => Some(true),
        _ => {
            return Err(err(EndpointProblem::UnknownScheme(scheme.to_owned())));
        }
    };
    if authority(rest).is_empty() {
        return Err(err(EndpointProblem::Malformed(url::ParseError::EmptyHost)));
    }
    if authority(rest).ends_with(':') {
        return Err(err(EndpointProblem::EmptyPort));
    }
    match tls {
        None => http(s, signal, signal_specific),
        Some(false) => grpc(&format!("http://{rest}"), false),
        Some(true) => grpc(&format!("https://{rest}"), true),
    }
    .map_err(err)
}

/// A value without `://`: `host[:port]`, gRPC plaintext.
fn scheme_less(s: &str) -> Result<Destination, EndpointProblem> {
    if let Some((prefix, after)) = s.split_once(':') {
        // `http:/h`, `https:h`: a URL missing its slashes, not a host named "http".
        let known = ["http", "https", "grpc", "grpcs"]
            .iter()
            .any(|k| prefix.eq_ignore_ascii_case(k));
        if known && !after.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(EndpointProblem::MissingSlashes(prefix.to_owned()));
        }
    }
    if authority(s).ends_with(':') {
        return Err(EndpointProblem::EmptyPort);
    }
    grpc(&format!("http://{s}"), false)
}

/// The `host[:port]` part of what follows `scheme://` (or of a scheme-less value),
/// including any `user:password@`.
fn authority(rest: &str) -> &str {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// `value` with any `user:password@` in its authority replaced by `***@`.
fn redact_userinfo(value: &str) -> String {
    let start = value.find("://").map_or(0, |i| i + 3);
    let auth = authority(&value[start..]);
    match auth.rfind('@') {
        Some(at) => format!("{}***{}", &value[..start], &value[start + at..]),
        None => value.to_owned(),
    }
}

fn parse(s: &str) -> Result<Url, EndpointProblem> {
    let url = Url::parse(s).map_err(EndpointProblem::Malformed)?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EndpointProblem::Malformed(url::ParseError::EmptyHost));
    }
    if url.port() == Some(0) {
        return Err(EndpointProblem::PortZero);
    }
    Ok(url)
}

fn http(s: &str, signal: Signal, signal_specific: bool) -> Result<Destination, EndpointProblem> {
    let mut url = parse(s)?;
    // A fragment is never sent; a query on a base URL would end up after every signal's
    // path (`/v1/traces?x=1`), which no collector expects.
    let query = url.query().filter(|_| !signal_specific);
    if query.is_some() || url.fragment().is_some() {
        let extra = match (query, url.fragment()) {
            (Some(q), Some(f)) => format!("?{q}#{f}"),
            (Some(q), None) => format!("?{q}"),
            (None, Some(f)) => format!("#{f}"),
            (None, None) => String::new(),
        };
        return Err(EndpointProblem::QueryOrFragment(shorten(&extra)));
    }
    let path = url.path();
    if signal_specific && !path.is_empty() && path != "/" {
        return Ok(Destination::Http { url });
    }
    let trimmed = path.trim_end_matches('/');
    let new_path = if trimmed.ends_with(signal.path()) {
        trimmed.to_owned()
    } else {
        format!("{trimmed}{}", signal.path())
    };
    url.set_path(&new_path);
    Ok(Destination::Http { url })
}

/// `s` is the endpoint rewritten to `http://…` (plaintext) or `https://…` (TLS).
fn grpc(s: &str, tls: bool) -> Result<Destination, EndpointProblem> {
    let mut url = parse(s)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointProblem::GrpcCredentials);
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(EndpointProblem::GrpcPath(shorten(
            &url[Position::BeforePath..],
        )));
    }
    if url.port().is_none() {
        let port = if tls {
            DEFAULT_GRPCS_PORT
        } else {
            DEFAULT_GRPC_PORT
        };
        url.set_port(Some(port))
            .map_err(|()| EndpointProblem::Malformed(url::ParseError::EmptyHost))?;
    }
    Ok(Destination::Grpc { url, tls })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use EndpointProblem as P;
    use Signal::{Logs, Metrics, Traces};

    /// `(input, signal, signal_specific, expected Destination::describe())`.
    const OK: &[(&str, Signal, bool, &str)] = &[
        // OTLP/HTTP base URLs: `/v1/<signal>` appended once.
        ("http://h:4318", Traces, false, "http://h:4318/v1/traces"),
        ("http://h:4318/", Traces, false, "http://h:4318/v1/traces"),
        ("http://h:4318//", Traces, false, "http://h:4318/v1/traces"),
        (
            "http://h:4318/otlp",
            Traces,
            false,
            "http://h:4318/otlp/v1/traces",
        ),
        (
            "http://h:4318/otlp/",
            Traces,
            false,
            "http://h:4318/otlp/v1/traces",
        ),
        (
            "http://h:4318/v1/traces",
            Traces,
            false,
            "http://h:4318/v1/traces",
        ),
        (
            "http://h:4318/v1/traces/",
            Traces,
            false,
            "http://h:4318/v1/traces",
        ),
        (
            "http://h:4318/otlp/v1/traces",
            Traces,
            false,
            "http://h:4318/otlp/v1/traces",
        ),
        ("http://h:4318", Metrics, false, "http://h:4318/v1/metrics"),
        ("http://h:4318/", Logs, false, "http://h:4318/v1/logs"),
        (
            "http://h:4318/v1/logs",
            Logs,
            false,
            "http://h:4318/v1/logs",
        ),
        // Another signal's path is a base path like any other.
        (
            "http://h:4318/v1/traces",
            Metrics,
            false,
            "http://h:4318/v1/traces/v1/metrics",
        ),
        (
            "https://api.traceloop.com",
            Traces,
            false,
            "https://api.traceloop.com/v1/traces",
        ),
        (
            "https://api.traceloop.com:443/",
            Logs,
            false,
            "https://api.traceloop.com/v1/logs",
        ),
        // A signal's own URL is used verbatim, query included.
        (
            "http://h:4318/otlp/v1/traces?tenant=a",
            Traces,
            true,
            "http://h:4318/otlp/v1/traces?tenant=a",
        ),
        // Surrounding whitespace and scheme case do not matter.
        (
            "  http://h:4318 \n",
            Traces,
            false,
            "http://h:4318/v1/traces",
        ),
        ("HTTP://H:4318", Traces, false, "http://h:4318/v1/traces"),
        (
            "http://127.0.0.1:4318",
            Traces,
            false,
            "http://127.0.0.1:4318/v1/traces",
        ),
        (
            "http://[::1]:4318",
            Traces,
            false,
            "http://[::1]:4318/v1/traces",
        ),
        // Per-signal endpoints: verbatim unless there is no path.
        ("http://h:4318/custom", Traces, true, "http://h:4318/custom"),
        (
            "http://h:4318/custom/",
            Traces,
            true,
            "http://h:4318/custom/",
        ),
        (
            "http://h:4318/v1/traces",
            Traces,
            true,
            "http://h:4318/v1/traces",
        ),
        (
            "http://h:4318/v1/logs",
            Traces,
            true,
            "http://h:4318/v1/logs",
        ),
        ("http://h:4318", Traces, true, "http://h:4318/v1/traces"),
        ("http://h:4318/", Metrics, true, "http://h:4318/v1/metrics"),
        ("https://h", Logs, true, "https://h/v1/logs"),
        // Credentials are kept in the URL but never described.
        (
            "https://user:secret@h/otlp",
            Traces,
            false,
            "https://***@h/otlp/v1/traces",
        ),
        // gRPC, plaintext.
        ("grpc://h:4317", Traces, false, "grpc://h:4317 (plaintext)"),
        ("grpc://h:4317/", Metrics, true, "grpc://h:4317 (plaintext)"),
        ("grpc://h", Traces, false, "grpc://h:4317 (plaintext)"),
        ("GRPC://h:5555", Logs, false, "grpc://h:5555 (plaintext)"),
        // gRPC, TLS.
        ("grpcs://h", Traces, false, "grpcs://h:443 (TLS)"),
        ("grpcs://h:443", Traces, false, "grpcs://h:443 (TLS)"),
        ("grpcs://h:4317", Traces, true, "grpcs://h:4317 (TLS)"),
        // No scheme: gRPC plaintext, like Python's Traceloop SDK.
        ("host:4317", Traces, false, "grpc://host:4317 (plaintext)"),
        (
            "localhost:4317",
            Metrics,
            false,
            "grpc://localhost:4317 (plaintext)",
        ),
        (
            "10.0.0.1:4317",
            Logs,
            true,
            "grpc://10.0.0.1:4317 (plaintext)",
        ),
        ("[::1]:4317", Traces, false, "grpc://[::1]:4317 (plaintext)"),
        (
            "localhost",
            Traces,
            false,
            "grpc://localhost:4317 (plaintext)",
        ),
        (
            "otel-collector.monitoring.svc:4317",
            Traces,
            false,
            "grpc://otel-collector.monitoring.svc:4317 (plaintext)",
        ),
        (
            " localhost:4317\t",
            Traces,
            false,
            "grpc://localhost:4317 (plaintext)",
        ),
        // A host that happens to be named like a scheme, with a port.
        ("grpc:4317", Traces, false, "grpc://grpc:4317 (plaintext)"),
    ];

    #[test]
    fn resolves_valid_endpoints() {
        for &(input, signal, specific, want) in OK {
            let got = resolve(input, signal, specific)
                .unwrap_or_else(|e| panic!("{input:?} ({signal}, {specific}): {e}"));
            assert_eq!(got.describe(), want, "{input:?} ({signal}, {specific})");
            assert_eq!(got.to_string(), want);
        }
    }

    #[test]
    fn http_destinations_carry_the_full_url() {
        let cases = [
            ("http://h:4318", Traces, false, "http://h:4318/v1/traces"),
            (
                "http://h:4318/otlp/",
                Logs,
                false,
                "http://h:4318/otlp/v1/logs",
            ),
            (
                "http://h:4318/custom",
                Metrics,
                true,
                "http://h:4318/custom",
            ),
            (
                "https://user:secret@h/",
                Traces,
                false,
                "https://user:secret@h/v1/traces",
            ),
        ];
        for (input, signal, specific, want) in cases {
            let got = resolve(input, signal, specific).unwrap();
            assert!(!got.is_grpc(), "{input:?}");
            assert_eq!(got.url().as_str(), want, "{input:?}");
            assert_eq!(
                got,
                Destination::Http {
                    url: Url::parse(want).unwrap()
                }
            );
        }
    }

    #[test]
    fn grpc_destinations_carry_a_tonic_url_and_tls_flag() {
        // (input, url.as_str(), port, tls)
        let cases = [
            ("grpc://h:4317", "http://h:4317/", 4317, false),
            ("grpc://h", "http://h:4317/", 4317, false),
            ("h:4317", "http://h:4317/", 4317, false),
            ("h", "http://h:4317/", 4317, false),
            ("10.0.0.1:9000", "http://10.0.0.1:9000/", 9000, false),
            ("[::1]:4317", "http://[::1]:4317/", 4317, false),
            // `Url` leaves out a scheme's default port when serialising.
            ("grpcs://h", "https://h/", 443, true),
            ("grpcs://h:443", "https://h/", 443, true),
            ("grpcs://h:4317", "https://h:4317/", 4317, true),
        ];
        for (input, url, port, tls) in cases {
            for signal in Signal::ALL {
                for specific in [false, true] {
                    let got = resolve(input, signal, specific).unwrap();
                    assert!(got.is_grpc(), "{input:?}");
                    let Destination::Grpc {
                        url: got_url,
                        tls: got_tls,
                    } = &got
                    else {
                        panic!("{input:?}: {got:?}");
                    };
                    assert_eq!(got_url.as_str(), url, "{input:?}");
                    assert_eq!(got_url.port_or_known_default(), Some(port), "{input:?}");
                    assert_eq!(*got_tls, tls, "{input:?}");
                    assert_eq!(got_url.path(), "/", "{input:?}");
                }
            }
        }
    }

    #[test]
    fn rejects_invalid_endpoints() {
        let cases: &[(&str, EndpointProblem)] = &[
            ("", P::Empty),
            ("   \t\n", P::Empty),
            ("ftp://h:21", P::UnknownScheme("ftp".into())),
            ("htp://x", P::UnknownScheme("htp".into())),
            ("unix:///tmp/otel.sock", P::UnknownScheme("unix".into())),
            ("://h:4318", P::UnknownScheme(String::new())),
            ("http:/h:4318", P::MissingSlashes("http".into())),
            ("https:h", P::MissingSlashes("https".into())),
            ("http://", P::Malformed(url::ParseError::EmptyHost)),
            (
                "https:///v1/traces",
                P::Malformed(url::ParseError::EmptyHost),
            ),
            ("grpc://", P::Malformed(url::ParseError::EmptyHost)),
            ("grpcs://:443", P::Malformed(url::ParseError::EmptyHost)),
            (":4317", P::Malformed(url::ParseError::EmptyHost)),
            ("http://h:99999", P::Malformed(url::ParseError::InvalidPort)),
            ("http://h:port", P::Malformed(url::ParseError::InvalidPort)),
            ("grpc://h:70000", P::Malformed(url::ParseError::InvalidPort)),
            ("localhost:abc", P::Malformed(url::ParseError::InvalidPort)),
            (
                "http://[::1:4318",
                P::Malformed(url::ParseError::InvalidIpv6Address),
            ),
            ("http://h:0", P::PortZero),
            ("h:0", P::PortZero),
            ("http://h:", P::EmptyPort),
            ("localhost:", P::EmptyPort),
            ("grpc://h:/", P::EmptyPort),
            ("http://h :4318", P::Whitespace),
            ("http://h:4318/v1/ traces", P::Whitespace),
            ("local host:4317", P::Whitespace),
            ("http://h:4318/\u{7}", P::Whitespace),
            ("grpc://h:4317/v1/traces", P::GrpcPath("/v1/traces".into())),
            ("grpcs://h/x?y=1", P::GrpcPath("/x?y=1".into())),
            ("grpc://h:4317?tls=1", P::GrpcPath("/?tls=1".into())),
            ("localhost:4318/v1/traces", P::GrpcPath("/v1/traces".into())),
            ("grpc://user:pw@h:4317", P::GrpcCredentials),
            ("user@h:4317", P::GrpcCredentials),
            ("http://h:4318/#frag", P::QueryOrFragment("#frag".into())),
        ];
        for (input, problem) in cases {
            for signal in Signal::ALL {
                for specific in [false, true] {
                    match resolve(input, signal, specific) {
                        Ok(d) => panic!("{input:?} ({signal}, {specific}) resolved to {d:?}"),
                        Err(e) => assert_eq!(&e.problem, problem, "{input:?}: {e}"),
                    }
                }
            }
        }
    }

    #[test]
    fn a_base_url_takes_no_query_or_fragment() {
        // Issue 9: logs went to `/v1/traces/v1/logs?x=1#frag`.
        for (input, extra) in [
            ("http://h:4318/v1/traces?x=1#frag", "?x=1#frag"),
            ("http://h:4318?tenant=a", "?tenant=a"),
            ("https://h/otlp#x", "#x"),
        ] {
            for signal in Signal::ALL {
                let err = resolve(input, signal, false).unwrap_err();
                assert_eq!(err.problem, P::QueryOrFragment(extra.into()), "{input}");
                let text = err.to_string();
                assert!(text.contains("takes no query or fragment"), "{text}");
                assert!(
                    text.contains("OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT"),
                    "{text}"
                );
            }
        }
        // A full per-signal URL keeps its query, never a fragment.
        assert!(resolve("http://h/v1/traces?tenant=a", Traces, true).is_ok());
        assert!(resolve("http://h/v1/traces#f", Traces, true).is_err());
    }

    #[test]
    fn error_messages_name_the_value_and_what_was_expected() {
        let cases = [
            (
                "htp://x",
                r#"invalid endpoint "htp://x": unknown scheme "htp"; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
            (
                "",
                r#"invalid endpoint "": it is empty; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
            (
                "http://h:99999",
                r#"invalid endpoint "http://h:99999": invalid port number; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
            (
                "http://",
                r#"invalid endpoint "http://": empty host; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
            (
                " http://h :4318",
                r#"invalid endpoint " http://h :4318": it contains whitespace or a control character; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
            (
                "http:/h",
                r#"invalid endpoint "http:/h": the scheme "http" must be followed by "://"; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
            (
                "localhost:",
                r#"invalid endpoint "localhost:": the port after ":" is empty; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
            (
                "grpc://h:4317/v1/traces",
                r#"invalid endpoint "grpc://h:4317/v1/traces": a gRPC endpoint takes no path, query or fragment (got "/v1/traces"); expected grpc://host:port, grpcs://host:port or host:port (use http:// or https:// for a URL with a path)"#,
            ),
            // Credentials are never echoed.
            (
                "grpc://user:s3cret@h:4317",
                r#"invalid endpoint "grpc://***@h:4317": a gRPC endpoint takes no user name or password (send credentials as headers); expected grpc://host:port, grpcs://host:port or host:port (use http:// or https:// for a URL with a path)"#,
            ),
            (
                "ftp://u:s3cret@h/x@y",
                r#"invalid endpoint "ftp://***@h/x@y": unknown scheme "ftp"; expected http://, https://, grpc://, grpcs:// or host:port"#,
            ),
        ];
        for (input, want) in cases {
            let e = resolve(input, Traces, false).unwrap_err();
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn redact_userinfo_hides_only_credentials() {
        let cases = [
            ("http://h:4318/v1/traces", "http://h:4318/v1/traces"),
            ("http://u:p@h:4318", "http://***@h:4318"),
            ("http://u@h/a@b", "http://***@h/a@b"),
            ("u:p@h:4317", "***@h:4317"),
            ("http://h/path?q=a@b", "http://h/path?q=a@b"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(redact_userinfo(input), want, "{input:?}");
        }
    }

    #[test]
    fn signal_names_and_paths() {
        let cases = [
            (Traces, "traces", "/v1/traces"),
            (Metrics, "metrics", "/v1/metrics"),
            (Logs, "logs", "/v1/logs"),
        ];
        for (signal, name, path) in cases {
            assert_eq!(signal.as_str(), name);
            assert_eq!(signal.to_string(), name);
            assert_eq!(signal.path(), path);
            assert_eq!(signal.path(), format!("/v1/{}", signal.as_str()));
        }
        assert_eq!(Signal::ALL, [Traces, Metrics, Logs]);
    }
}

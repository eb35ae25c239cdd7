//! The one place configuration reads the process from: environment variables (through
//! [`EnvSource`], injectable so tests never mutate the process environment) and the
//! binary's name (the default `service.name`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Where configuration reads environment variables: the process environment (the
/// default) or a fixed map, so tests never mutate the process environment.
///
/// ```
/// let env = llmetry::EnvSource::from_pairs([("TRACELOOP_TRACE_CONTENT", "false")]);
/// assert_eq!(env.get("TRACELOOP_TRACE_CONTENT").as_deref(), Some("false"));
/// assert_eq!(env.get("HOME"), None);
/// ```
#[derive(Clone, Default)]
pub struct EnvSource {
    map: Option<Arc<HashMap<String, String>>>,
}

impl EnvSource {
    /// Reads the process environment (what [`EnvSource::default`] does too).
    ///
    /// ```
    /// let env = llmetry::EnvSource::process();
    /// assert_eq!(env.get("PATH"), std::env::var("PATH").ok().filter(|v| !v.trim().is_empty()));
    /// ```
    pub fn process() -> Self {
        Self { map: None }
    }

    /// Reads only the given pairs; the process environment is ignored.
    ///
    /// ```
    /// use llmetry::EnvSource;
    /// let env = EnvSource::from_pairs([
    ///     ("OTEL_SERVICE_NAME", "rca-service"),
    ///     ("TRACELOOP_BASE_URL", "http://otel-collector:4318"),
    /// ]);
    /// let builder = llmetry::init().env_source(env);
    /// ```
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            map: Some(Arc::new(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )),
        }
    }

    /// The value of `key`; an empty or all-blank value counts as unset.
    ///
    /// ```
    /// let env = llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "rca"), ("TRACELOOP_API_KEY", "  ")]);
    /// assert_eq!(env.get("OTEL_SERVICE_NAME").as_deref(), Some("rca"));
    /// assert_eq!(env.get("TRACELOOP_API_KEY"), None); // blank
    /// assert_eq!(env.get("TRACELOOP_BASE_URL"), None); // absent
    /// ```
    pub fn get(&self, key: &str) -> Option<String> {
        let v = match &self.map {
            Some(m) => m.get(key).cloned(),
            None => std::env::var(key).ok(),
        }?;
        if v.trim().is_empty() { None } else { Some(v) }
    }
}

impl fmt::Debug for EnvSource {
    // Values may be secrets (API keys, headers): show only which keys are set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.map {
            None => f.write_str("EnvSource::process()"),
            Some(m) => {
                let mut keys: Vec<_> = m.keys().collect();
                keys.sort();
                f.debug_struct("EnvSource").field("keys", &keys).finish()
            }
        }
    }
}

/// The running binary's name (its file stem), the default `service.name`;
/// `unknown_service` when it cannot be told.
pub(crate) fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

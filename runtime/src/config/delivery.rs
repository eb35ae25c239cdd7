//! How telemetry is queued and delivered: each signal's [`QueueConfig`] (from
//! `OTEL_BSP_*` for spans and `OTEL_BLRP_*` for log records, read through the
//! [`EnvSource`]), the shutdown deadline (`.shutdown_timeout(..)`,
//! `LLMETRY_SHUTDOWN_TIMEOUT`) and the metrics temporality
//! (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
//!
//! Memory: a queue holds at most `max_queue_size` items, and
//! `max_concurrent_exports × max_export_batch_size` more are being exported (with their
//! encoded request); nothing else grows.

use std::time::Duration;

use super::env::EnvSource;
use super::invalid;
use crate::error::InitError;

/// Items a signal's queue holds by default (`OTEL_BSP_MAX_QUEUE_SIZE`,
/// `OTEL_BLRP_MAX_QUEUE_SIZE`): a burst of 30,000 spans made in a second fits whole.
pub(crate) const DEFAULT_MAX_QUEUE_SIZE: usize = 32_768;
/// Items per export by default (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, the OTel default).
pub(crate) const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
/// Longest wait before a partial batch of spans goes out (`OTEL_BSP_SCHEDULE_DELAY`, the
/// OTel default).
pub(crate) const DEFAULT_SPAN_SCHEDULE_DELAY: Duration = Duration::from_millis(5000);
/// Longest wait before a partial batch of log records goes out (`OTEL_BLRP_SCHEDULE_DELAY`,
/// the OTel default).
pub(crate) const DEFAULT_LOG_SCHEDULE_DELAY: Duration = Duration::from_millis(1000);
/// Exports of one signal in flight at once over llmetry's OTLP transport
/// (`OTEL_BSP_MAX_CONCURRENT_EXPORTS`, `OTEL_BLRP_MAX_CONCURRENT_EXPORTS`).
pub(crate) const DEFAULT_MAX_CONCURRENT_EXPORTS: usize = 4;

/// How a signal's queue is sized and drained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueConfig {
    /// Items the queue holds; more are dropped (and counted).
    pub(crate) max_queue_size: usize,
    /// Longest wait before a partial batch is exported.
    pub(crate) schedule_delay: Duration,
    /// Items per export.
    pub(crate) max_export_batch_size: usize,
    /// Time one batch may take, retries included (`OTEL_BSP_EXPORT_TIMEOUT`; by default
    /// the signal's OTLP export timeout).
    pub(crate) export_timeout: Duration,
    /// Exports of this signal in flight at once (our OTLP transport only: an exporter
    /// given to the builder gets one export at a time).
    pub(crate) max_concurrent_exports: usize,
    /// `disable_batch`: export whatever is queued at once, without waiting.
    pub(crate) immediate: bool,
}

/// The metrics temporality the OTLP metric exporter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TemporalityPreference {
    Cumulative,
    Delta,
    LowMemory,
}

/// A whole number greater than 0 from `key`.
fn positive(env: &EnvSource, key: &str) -> Result<Option<usize>, InitError> {
    env.get(key)
        .map(|v| match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(key, &v, "a whole number greater than 0")),
        })
        .transpose()
}

/// Milliseconds from `key`; `allow_zero` says whether 0 makes sense.
pub(crate) fn millis(
    env: &EnvSource,
    key: &str,
    allow_zero: bool,
) -> Result<Option<Duration>, InitError> {
    env.get(key)
        .map(|v| match v.trim().parse::<u64>() {
            Ok(0) if !allow_zero => Err(invalid(
                key,
                &v,
                "a duration in milliseconds greater than 0",
            )),
            Ok(ms) => Ok(Duration::from_millis(ms)),
            Err(_) => Err(invalid(
                key,
                &v,
                if allow_zero {
                    "a duration in milliseconds"
                } else {
                    "a duration in milliseconds greater than 0"
                },
            )),
        })
        .transpose()
}

/// The queue of spans (`prefix` `OTEL_BSP`) or log records (`OTEL_BLRP`). `export_timeout`
/// is the signal's OTLP timeout, the default of `<prefix>_EXPORT_TIMEOUT`.
pub(crate) fn queue_config(
    env: &EnvSource,
    prefix: &str,
    schedule_delay: Duration,
    export_timeout: Duration,
    immediate: bool,
    warnings: &mut Vec<String>,
) -> Result<QueueConfig, InitError> {
    let key = |what: &str| format!("{prefix}_{what}");
    let max_queue_size = positive(env, &key("MAX_QUEUE_SIZE"))?.unwrap_or(DEFAULT_MAX_QUEUE_SIZE);
    let batch = positive(env, &key("MAX_EXPORT_BATCH_SIZE"))?;
    let mut max_export_batch_size = batch.unwrap_or(DEFAULT_MAX_EXPORT_BATCH_SIZE);
    if batch.is_none() {
        // The default batch follows a small queue silently.
        max_export_batch_size = max_export_batch_size.min(max_queue_size);
    }
    if max_export_batch_size > max_queue_size {
        warnings.push(format!(
            "{} ({max_export_batch_size}) is larger than {} ({max_queue_size}); batches of \
             {max_queue_size} are exported",
            key("MAX_EXPORT_BATCH_SIZE"),
            key("MAX_QUEUE_SIZE")
        ));
        max_export_batch_size = max_queue_size;
    }
    Ok(QueueConfig {
        max_queue_size,
        schedule_delay: millis(env, &key("SCHEDULE_DELAY"), true)?.unwrap_or(schedule_delay),
        max_export_batch_size,
        export_timeout: millis(env, &key("EXPORT_TIMEOUT"), false)?.unwrap_or(export_timeout),
        max_concurrent_exports: positive(env, &key("MAX_CONCURRENT_EXPORTS"))?
            .unwrap_or(DEFAULT_MAX_CONCURRENT_EXPORTS),
        immediate,
    })
}

/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (cumulative by default).
pub(crate) fn temporality(env: &EnvSource) -> Result<TemporalityPreference, InitError> {
    const KEY: &str = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
    let Some(v) = env.get(KEY) else {
        return Ok(TemporalityPreference::Cumulative);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "cumulative" => Ok(TemporalityPreference::Cumulative),
        "delta" => Ok(TemporalityPreference::Delta),
        "lowmemory" => Ok(TemporalityPreference::LowMemory),
        _ => Err(invalid(KEY, &v, "cumulative, delta or lowmemory")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvSource {
        EnvSource::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn defaults_hold_a_burst_and_variables_change_them() {
        let mut w = Vec::new();
        let ten = Duration::from_secs(10);
        let d = queue_config(
            &env(&[]),
            "OTEL_BSP",
            DEFAULT_SPAN_SCHEDULE_DELAY,
            ten,
            false,
            &mut w,
        )
        .unwrap();
        assert_eq!(d.max_queue_size, 32_768);
        assert_eq!(d.max_export_batch_size, 512);
        assert_eq!(d.schedule_delay, Duration::from_secs(5));
        assert_eq!(d.export_timeout, ten);
        assert_eq!(d.max_concurrent_exports, 4);

        let e = env(&[
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "500"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "0"),
            ("OTEL_BLRP_EXPORT_TIMEOUT", "2500"),
            ("OTEL_BLRP_MAX_CONCURRENT_EXPORTS", "2"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "7"), // another signal's
        ]);
        let c = queue_config(
            &e,
            "OTEL_BLRP",
            DEFAULT_LOG_SCHEDULE_DELAY,
            ten,
            true,
            &mut w,
        )
        .unwrap();
        let small = env(&[("OTEL_BSP_MAX_QUEUE_SIZE", "10")]);
        let mut quiet = Vec::new();
        let q = queue_config(&small, "OTEL_BSP", ten, ten, false, &mut quiet).unwrap();
        assert_eq!((q.max_export_batch_size, quiet.len()), (10, 0), "{quiet:?}");
        assert_eq!(c.max_queue_size, 100);
        assert_eq!(c.max_export_batch_size, 100, "clamped to the queue");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE (500)"),
            "{w:?}"
        );
        assert_eq!(c.schedule_delay, Duration::ZERO);
        assert_eq!(c.export_timeout, Duration::from_millis(2500));
        assert_eq!(c.max_concurrent_exports, 2);
        assert!(c.immediate);
    }

    #[test]
    fn zero_and_garbage_are_refused_naming_the_variable() {
        let ten = Duration::from_secs(10);
        for (k, v) in [
            ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "-1"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "0"),
            ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
            ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "0"),
        ] {
            let err = queue_config(
                &env(&[(k, v)]),
                "OTEL_BSP",
                ten,
                ten,
                false,
                &mut Vec::new(),
            )
            .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(k) && text.contains(&format!("{v:?}")),
                "{text}"
            );
        }
        assert_eq!(
            temporality(&env(&[])).unwrap(),
            TemporalityPreference::Cumulative
        );
        assert_eq!(
            temporality(&env(&[(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "Delta"
            )]))
            .unwrap(),
            TemporalityPreference::Delta
        );
        assert!(
            temporality(&env(&[(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "x"
            )]))
            .is_err()
        );
    }
}

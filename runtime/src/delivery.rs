//! What happened to the telemetry: [`DeliveryReport`] (one [`SignalReport`] per signal:
//! sent, dropped, failed, pending, and why) and [`LossCause`], as returned by
//! [`Telemetry::flush`](crate::Telemetry::flush), [`Telemetry::shutdown`](crate::Telemetry::shutdown)
//! and [`Telemetry::report`](crate::Telemetry::report).
//!
//! Plain data, depending on nothing else in the crate: the counting itself happens in
//! `export` (where every loss is counted), the errors that carry a report in `error`.

use std::fmt;
use std::time::Duration;

/// Why some telemetry of a signal was lost (or, for [`LossCause::QueueFull`], dropped
/// before it could be sent). Its `Display` is a short sentence with the knob that helps.
///
/// ```
/// use std::time::Duration;
/// use llmetry::LossCause;
///
/// let cause = LossCause::Timeout { after: Duration::from_secs(10) };
/// assert_eq!(
///     cause.to_string(),
///     "no answer within 10s: a silent or overloaded collector; the export timeout is \
///      OTEL_EXPORTER_OTLP_TIMEOUT or .timeout(..)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossCause {
    /// The queue was full: spans or log records were dropped when they ended.
    QueueFull {
        /// How many items the queue holds.
        capacity: usize,
        /// The variable that sets the queue size (`OTEL_BSP_MAX_QUEUE_SIZE` or
        /// `OTEL_BLRP_MAX_QUEUE_SIZE`).
        knob: &'static str,
    },
    /// Nobody listens at the collector's address (connection refused).
    ConnectionRefused,
    /// The collector's host name does not resolve.
    Dns {
        /// The resolver's message.
        detail: String,
    },
    /// The TLS handshake failed.
    Tls {
        /// The TLS library's message.
        detail: String,
        /// What the bytes suggest, e.g. that the server speaks plaintext.
        hint: Option<&'static str>,
    },
    /// The collector did not answer within the export timeout.
    Timeout {
        /// The timeout that ran out.
        after: Duration,
    },
    /// The collector answered with an HTTP error status.
    HttpStatus {
        /// The status code.
        status: u16,
        /// The start of the response body (at most a few hundred bytes, control characters
        /// escaped): backends usually say there what is wrong.
        body: String,
    },
    /// The collector answered with a gRPC error status.
    GrpcStatus {
        /// The gRPC status code's name (`INVALID_ARGUMENT`, `UNAUTHENTICATED`, …).
        code: String,
        /// The status message (shortened, control characters escaped).
        message: String,
    },
    /// The collector took the request but rejected part of it (an OTLP partial success).
    PartialSuccess {
        /// How many items it rejected.
        rejected: u64,
        /// Its message (shortened, control characters escaped).
        message: String,
    },
    /// The connection failed or the answer could not be understood (reset, garbage, an
    /// HTTP/2-only server behind an `http://` endpoint, …).
    Transport {
        /// What failed.
        detail: String,
        /// What the bytes suggest, e.g. that the port speaks gRPC.
        hint: Option<&'static str>,
    },
    /// A custom exporter (given to the builder) returned an error.
    Exporter {
        /// The exporter's error.
        detail: String,
    },
    /// Still queued or in flight when `shutdown()` reached its deadline.
    Deadline {
        /// The shutdown deadline.
        timeout: Duration,
    },
}

impl fmt::Display for LossCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LossCause::QueueFull { capacity, knob } => write!(
                f,
                "the queue was full at {capacity} items; raise {knob} or reach a faster collector"
            ),
            LossCause::ConnectionRefused => {
                f.write_str("connection refused: is the collector running, and on this port?")
            }
            LossCause::Dns { detail } => write!(f, "the host name does not resolve: {detail}"),
            LossCause::Tls { detail, hint } => {
                write!(f, "TLS handshake failed: {detail}")?;
                hint.map_or(Ok(()), |h| write!(f, "; {h}"))
            }
            LossCause::Timeout { after } => write!(
                f,
                "no answer within {after:?}: a silent or overloaded collector; the export \
                 timeout is OTEL_EXPORTER_OTLP_TIMEOUT or .timeout(..)"
            ),
            LossCause::HttpStatus { status, body } => {
                write!(f, "HTTP {status}")?;
                if let Some(reason) = http::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                {
                    write!(f, " {reason}")?;
                }
                if body.is_empty() {
                    f.write_str(", empty body")
                } else {
                    write!(f, ": {body}")
                }
            }
            LossCause::GrpcStatus { code, message } => {
                write!(f, "gRPC status {code}")?;
                if message.is_empty() {
                    Ok(())
                } else {
                    write!(f, ": {message}")
                }
            }
            LossCause::PartialSuccess { rejected, message } => {
                write!(f, "the collector rejected {rejected} of them")?;
                if message.is_empty() {
                    Ok(())
                } else {
                    write!(f, ": {message}")
                }
            }
            LossCause::Transport { detail, hint } => {
                f.write_str(detail)?;
                hint.map_or(Ok(()), |h| write!(f, "; {h}"))
            }
            LossCause::Exporter { detail } => write!(f, "the exporter failed: {detail}"),
            LossCause::Deadline { timeout } => write!(
                f,
                "still pending at the shutdown deadline of {timeout:?}; raise \
                 LLMETRY_SHUTDOWN_TIMEOUT or .shutdown_timeout(..)"
            ),
        }
    }
}

/// What became of one signal's telemetry since `install()`: counted in spans (traces), log
/// records (logs) or exports (metrics: one per periodic or final export).
///
/// `sent + dropped + failed + pending + discarded` is everything the signal produced.
/// Losses are `dropped + failed + pending` ([`SignalReport::lost`]); `discarded` is what an
/// endpoint that does not take the signal (HTTP 404/405, gRPC `UNIMPLEMENTED`) made llmetry
/// switch off, which is said once at the time but is no loss.
///
/// ```rust,standalone_crate
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry = llmetry::init()
///     .exporter(InMemorySpanExporter::default())
///     .silence_init_message(true)
/// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///     .install()?;
/// tracing::info_span!("step").in_scope(|| {});
/// let report = telemetry.flush()?;
/// assert_eq!((report.traces.sent, report.traces.lost()), (1, 0));
/// assert_eq!(report.traces.unit, "spans");
/// assert!(report.logs.destination.is_none()); // logs are off
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SignalReport {
    /// Where the signal goes (`http://collector:4318/v1/traces (http/protobuf)`,
    /// `the console`, `custom exporter …`); `None` when the signal is off.
    pub destination: Option<String>,
    /// What the counts count: `spans`, `log records` or `metric exports`.
    pub unit: &'static str,
    /// Delivered (accepted by the collector or the exporter).
    pub sent: u64,
    /// Dropped when they ended because the queue was full.
    pub dropped: u64,
    /// Exported, but the export failed (after retries): see [`SignalReport::cause`].
    pub failed: u64,
    /// Still queued or being exported when the report was made; in the report of
    /// `shutdown()`, what the deadline cut off (lost).
    pub pending: u64,
    /// Not sent because the endpoint does not take this signal (see
    /// [`SignalReport::switched_off`]); no loss.
    pub discarded: u64,
    /// Why the endpoint switched this signal off, when it did (e.g. `HTTP 405 Method Not
    /// Allowed from http://phoenix:6006/v1/metrics`).
    pub switched_off: Option<String>,
    /// The first export failure's cause (the reason of `failed`).
    pub cause: Option<LossCause>,
    /// The queue's size and the variable that sets it (the reason of `dropped`).
    pub(crate) queue: Option<(usize, &'static str)>,
    /// The shutdown deadline that cut `pending` off, in the report of `shutdown()`.
    pub(crate) deadline: Option<Duration>,
    /// The signal goes only where llmetry does not count (the builder's span processors).
    pub(crate) uncounted: bool,
}

impl SignalReport {
    /// A signal that goes to `destination` where llmetry does not count it.
    pub(crate) fn uncounted(destination: String, unit: &'static str) -> Self {
        Self {
            destination: Some(destination),
            unit,
            uncounted: true,
            ..Self::default()
        }
    }

    /// `dropped + failed + pending`: what did not arrive and was not meant to be
    /// discarded. (Pending data is not lost yet in the report of `flush()`, whose
    /// deadline only ends the wait.)
    ///
    /// ```
    /// let report = llmetry::SignalReport::default();
    /// assert_eq!(report.lost(), 0);
    /// ```
    pub fn lost(&self) -> u64 {
        self.dropped + self.failed + self.pending
    }

    /// The causes of what was lost, one per kind of loss: the queue (dropped), the first
    /// failure (failed), the shutdown deadline (pending, in the report of `shutdown()`).
    ///
    /// ```
    /// let report = llmetry::SignalReport::default();
    /// assert!(report.causes().is_empty());
    /// ```
    pub fn causes(&self) -> Vec<LossCause> {
        let mut out = Vec::new();
        if self.dropped > 0
            && let Some((capacity, knob)) = self.queue
        {
            out.push(LossCause::QueueFull { capacity, knob });
        }
        if self.failed > 0
            && let Some(c) = &self.cause
        {
            out.push(c.clone());
        }
        if self.pending > 0
            && let Some(timeout) = self.deadline
        {
            out.push(LossCause::Deadline { timeout });
        }
        out
    }
}

impl fmt::Display for SignalReport {
    /// `3 spans sent`, `0 spans sent, 3 failed (HTTP 422 …)`, `off`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(destination) = &self.destination else {
            return f.write_str("off");
        };
        if self.uncounted {
            return write!(f, "to {destination}, not counted by llmetry");
        }
        write!(f, "{} {} sent", self.sent, self.unit)?;
        if self.dropped > 0 {
            write!(f, ", {} dropped", self.dropped)?;
            if let Some((capacity, knob)) = self.queue {
                write!(f, " ({})", LossCause::QueueFull { capacity, knob })?;
            }
        }
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
            if let Some(c) = &self.cause {
                write!(f, " ({c})")?;
            }
        }
        if self.pending > 0 {
            match self.deadline {
                Some(timeout) => write!(
                    f,
                    ", {} lost ({})",
                    self.pending,
                    LossCause::Deadline { timeout }
                )?,
                None => write!(f, ", {} pending", self.pending)?,
            }
        }
        if let Some(why) = &self.switched_off {
            write!(f, ", switched off ({why})")?;
            if self.discarded > 0 {
                write!(f, ": {} not sent", self.discarded)?;
            }
        }
        Ok(())
    }
}

/// What became of each signal's telemetry since `install()`: returned by
/// [`Telemetry::flush`](crate::Telemetry::flush) and
/// [`Telemetry::shutdown`](crate::Telemetry::shutdown) (and carried by their
/// [`ShutdownError`](crate::ShutdownError) when something was lost), and by
/// [`Telemetry::report`](crate::Telemetry::report) at any time.
///
/// `Display` is one line: `traces: 3 spans sent | metrics: 1 metric exports sent | logs: off`.
///
/// ```rust,standalone_crate
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry = llmetry::init()
///     .exporter(InMemorySpanExporter::default())
///     .silence_init_message(true)
/// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///     .install()?;
/// tracing::info_span!("step").in_scope(|| {});
/// let report = telemetry.shutdown()?; // Err (with the report) when anything was lost
/// assert!(report.is_complete());
/// assert_eq!(report.to_string(), "traces: 1 spans sent | metrics: off | logs: off");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// Spans.
    pub traces: SignalReport,
    /// Metric exports.
    pub metrics: SignalReport,
    /// Log records.
    pub logs: SignalReport,
}

impl DeliveryReport {
    /// Whether nothing was lost: no signal dropped, failed or (still) pending anything.
    /// What an endpoint that does not take a signal made llmetry discard does not count.
    ///
    /// ```
    /// assert!(llmetry::DeliveryReport::default().is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.signals().all(|(_, s)| s.lost() == 0)
    }

    /// The three signals with their names (`traces`, `metrics`, `logs`).
    ///
    /// ```
    /// let report = llmetry::DeliveryReport::default();
    /// let names: Vec<&str> = report.signals().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["traces", "metrics", "logs"]);
    /// ```
    pub fn signals(&self) -> impl Iterator<Item = (&'static str, &SignalReport)> {
        [
            ("traces", &self.traces),
            ("metrics", &self.metrics),
            ("logs", &self.logs),
        ]
        .into_iter()
    }

    /// One line naming only the signals that lost something, each with its destination,
    /// its counts and their causes; empty when nothing was lost.
    ///
    /// ```
    /// assert_eq!(llmetry::DeliveryReport::default().losses(), "");
    /// ```
    pub fn losses(&self) -> String {
        self.signals()
            .filter(|(_, s)| s.lost() > 0)
            .map(|(name, s)| match &s.destination {
                Some(d) => format!("{name} to {d}: {s}"),
                None => format!("{name}: {s}"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl fmt::Display for DeliveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, s)) in self.signals().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{name}: {s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traces() -> SignalReport {
        SignalReport {
            destination: Some("http://c:4318/v1/traces (http/protobuf)".into()),
            unit: "spans",
            queue: Some((2048, "OTEL_BSP_MAX_QUEUE_SIZE")),
            ..SignalReport::default()
        }
    }

    #[test]
    fn a_report_names_each_loss_with_its_cause() {
        let mut t = traces();
        t.sent = 10;
        t.dropped = 2;
        t.failed = 3;
        t.cause = Some(LossCause::HttpStatus {
            status: 422,
            body: r#"{"detail":"missing header"}"#.into(),
        });
        t.pending = 4;
        t.deadline = Some(Duration::from_secs(11));
        assert_eq!(t.lost(), 9);
        let line = t.to_string();
        assert!(line.starts_with("10 spans sent, 2 dropped (the queue was full at 2048 items; raise OTEL_BSP_MAX_QUEUE_SIZE"), "{line}");
        assert!(
            line.contains(
                r#"3 failed (HTTP 422 Unprocessable Entity: {"detail":"missing header"})"#
            ),
            "{line}"
        );
        assert!(line.contains("4 lost (still pending at the shutdown deadline of 11s; raise LLMETRY_SHUTDOWN_TIMEOUT"), "{line}");
        assert_eq!(t.causes().len(), 3);

        let report = DeliveryReport {
            traces: t,
            ..DeliveryReport::default()
        };
        assert!(!report.is_complete());
        let losses = report.losses();
        assert!(
            losses.starts_with("traces to http://c:4318/v1/traces (http/protobuf): 10 spans sent"),
            "{losses}"
        );
        assert!(!losses.contains("metrics"), "{losses}");
    }

    #[test]
    fn a_switched_off_signal_is_no_loss() {
        let mut m = traces();
        m.unit = "metric exports";
        m.discarded = 2;
        m.switched_off = Some("HTTP 405 Method Not Allowed from http://p/v1/metrics".into());
        let report = DeliveryReport {
            metrics: m,
            ..DeliveryReport::default()
        };
        assert!(report.is_complete());
        assert_eq!(report.losses(), "");
        assert!(
            report.to_string().contains(
                "switched off (HTTP 405 Method Not Allowed from http://p/v1/metrics): 2 not sent"
            ),
            "{report}"
        );
    }
}

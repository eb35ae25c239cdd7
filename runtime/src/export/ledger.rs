//! Delivery accounting: one [`Ledger`] per exported signal counts what was sent, dropped
//! (queue full), failed (after retries) and discarded (the endpoint does not take the
//! signal), prints the first loss once with the knob that helps, and makes the signal's
//! [`SignalReport`]. Counting is a few relaxed atomic adds; printing happens once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::config::endpoint::Signal;
use crate::delivery::{LossCause, SignalReport};

/// How many items of a signal wait in its queue right now.
pub(crate) type QueueLen = Box<dyn Fn() -> u64 + Send + Sync>;

/// The counts and first causes of one signal.
pub(crate) struct Ledger {
    signal: Signal,
    unit: &'static str,
    destination: String,
    queue: Option<(usize, &'static str)>,
    queue_len: OnceLock<QueueLen>,
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    discarded: AtomicU64,
    in_flight: AtomicU64,
    off: AtomicBool,
    warned_loss: AtomicBool,
    // Read only where a transport can answer "not this signal".
    #[cfg_attr(
        not(any(feature = "grpc", feature = "http-proto", feature = "http-json")),
        allow(dead_code)
    )]
    warned_off: AtomicBool,
    /// Set once shutdown made its report: what happens after is not printed.
    quiet: AtomicBool,
    cause: Mutex<Option<LossCause>>,
    switched_off: Mutex<Option<String>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("signal", &self.signal)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// The ledger of `signal` going to `destination`; `queue` is the queue's size and the
    /// variable that sets it, for signals that queue.
    pub(crate) fn new(
        signal: Signal,
        destination: String,
        queue: Option<(usize, &'static str)>,
    ) -> Self {
        Self {
            signal,
            unit: match signal {
                Signal::Traces => "spans",
                Signal::Metrics => "metric exports",
                Signal::Logs => "log records",
            },
            destination,
            queue,
            queue_len: OnceLock::new(),
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            off: AtomicBool::new(false),
            warned_loss: AtomicBool::new(false),
            warned_off: AtomicBool::new(false),
            quiet: AtomicBool::new(false),
            cause: Mutex::new(None),
            switched_off: Mutex::new(None),
        }
    }

    pub(crate) fn signal(&self) -> Signal {
        self.signal
    }

    pub(crate) fn destination(&self) -> &str {
        &self.destination
    }

    /// Tells the ledger how to read its queue's length (for `pending`).
    pub(crate) fn set_queue_len(&self, len: QueueLen) {
        let _ = self.queue_len.set(len);
    }

    /// Whether the endpoint switched this signal off.
    #[inline]
    pub(crate) fn is_off(&self) -> bool {
        self.off.load(Ordering::Relaxed)
    }

    /// `n` items not sent because the signal is switched off.
    #[inline]
    pub(crate) fn discard(&self, n: u64) {
        self.discarded.fetch_add(n, Ordering::Relaxed);
    }

    /// One item dropped because the queue was full.
    pub(crate) fn drop_full(&self) {
        let so_far = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some((capacity, knob)) = self.queue {
            self.warn_loss(|| {
                format!(
                    "llmetry: warning: {} queue full: {so_far} {} dropped so far; {} (later losses \
                     are counted, not printed: see the report of flush() and shutdown())",
                    self.signal,
                    crate::delivery::unit_of(so_far, self.unit),
                    LossCause::QueueFull { capacity, knob }
                )
            });
        }
    }

    /// `n` items handed to an export.
    pub(crate) fn begin(&self, n: u64) {
        self.in_flight.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` items of an export delivered.
    pub(crate) fn sent(&self, n: u64) {
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` items that could not be encoded into an export (`detail` says why): lost.
    #[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
    pub(crate) fn unencodable(&self, n: u64, detail: String) {
        self.begin(n);
        self.failed(n, LossCause::Transport { detail, hint: None });
    }

    /// `n` items of an export lost because of `cause` (after retries).
    pub(crate) fn failed(&self, n: u64, cause: LossCause) {
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
        let so_far = self.failed.fetch_add(n, Ordering::Relaxed) + n;
        let line = format!(
            "llmetry: warning: {} export to {} failed: {cause} ({so_far} {} lost so far; later \
             failures are counted, not printed: see the report of flush() and shutdown())",
            self.signal,
            self.destination,
            crate::delivery::unit_of(so_far, self.unit)
        );
        {
            let mut first = self.cause.lock().unwrap_or_else(PoisonError::into_inner);
            if first.is_none() {
                *first = Some(cause);
            }
        }
        self.warn_loss(|| line);
    }

    /// `n` items of an export answered "this endpoint does not take this signal" (`why`):
    /// the signal is switched off from now on, said once.
    #[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
    pub(crate) fn not_accepted(&self, n: u64, why: String) {
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
        self.discarded.fetch_add(n, Ordering::Relaxed);
        self.off.store(true, Ordering::Relaxed);
        if self.warned_off.swap(true, Ordering::Relaxed) {
            return;
        }
        let fix = match self.signal {
            // Not reached from the sender (traces refused that way are a failure); kept
            // so the ledger says something true if it ever is.
            Signal::Traces => {
                "send traces elsewhere (api_endpoint(..), TRACELOOP_BASE_URL or \
                 OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), or turn telemetry off (enabled(false) / \
                 TRACELOOP_TRACING_ENABLED=false)"
            }
            Signal::Metrics => {
                "give metrics their own endpoint (metrics_endpoint(..) / \
                 TRACELOOP_METRICS_ENDPOINT) or turn them off (metrics_enabled(false) / \
                 TRACELOOP_METRICS_ENABLED=false)"
            }
            Signal::Logs => {
                "give logs their own endpoint (logging_endpoint(..) / \
                 TRACELOOP_LOGGING_ENDPOINT) or turn them off (logging_enabled(false) / \
                 TRACELOOP_LOGGING_ENABLED=false)"
            }
        };
        self.print(&format!(
            "llmetry: warning: {} export to {}: the endpoint does not take {} ({why}), so {} \
             are switched off for this run (not an error); to fix: {fix}",
            self.signal, self.destination, self.signal, self.signal
        ));
        *self
            .switched_off
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(why);
    }

    /// Nothing more is printed: shutdown said everything in its summary.
    pub(crate) fn quiet(&self) {
        self.quiet.store(true, Ordering::Relaxed);
    }

    /// Items queued or in flight now.
    pub(crate) fn pending(&self) -> u64 {
        let queued = self.queue_len.get().map_or(0, |len| len());
        queued + self.in_flight.load(Ordering::Relaxed)
    }

    /// The counts so far; `deadline` is the shutdown deadline when the report is the
    /// shutdown's (pending items are then lost).
    pub(crate) fn report(&self, deadline: Option<Duration>) -> SignalReport {
        let pending = self.pending();
        SignalReport {
            destination: Some(self.destination.clone()),
            unit: self.unit,
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            pending,
            discarded: self.discarded.load(Ordering::Relaxed),
            switched_off: self
                .switched_off
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            cause: self
                .cause
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            queue: self.queue,
            deadline: deadline.filter(|_| pending > 0),
            uncounted: false,
        }
    }

    /// Prints the first loss of this signal.
    fn warn_loss(&self, line: impl FnOnce() -> String) {
        if !self.warned_loss.swap(true, Ordering::Relaxed) {
            self.print(&line());
        }
    }

    fn print(&self, line: &str) {
        if !self.quiet.load(Ordering::Relaxed) {
            eprintln!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_the_first_cause_stays() {
        let l = Ledger::new(
            Signal::Traces,
            "http://c/v1/traces (http/protobuf)".into(),
            Some((4, "OTEL_BSP_MAX_QUEUE_SIZE")),
        );
        l.quiet(); // keep the test's stderr clean
        l.begin(10);
        l.sent(6);
        l.failed(2, LossCause::ConnectionRefused);
        l.failed(
            2,
            LossCause::HttpStatus {
                status: 500,
                body: String::new(),
            },
        );
        l.drop_full();
        l.begin(3);
        let r = l.report(Some(Duration::from_secs(1)));
        assert_eq!(
            (r.sent, r.failed, r.dropped, r.pending),
            (6, 4, 1, 3),
            "{r:?}"
        );
        assert_eq!(r.cause, Some(LossCause::ConnectionRefused));
        assert_eq!(r.causes().len(), 3);
        assert!(!l.is_off());
        l.not_accepted(3, "HTTP 404 Not Found".into());
        assert!(l.is_off());
        let r = l.report(None);
        assert_eq!((r.pending, r.discarded), (0, 3));
        assert_eq!(r.switched_off.as_deref(), Some("HTTP 404 Not Found"));
    }
}

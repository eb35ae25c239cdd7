//! Sending one signal's encoded batches over our OTLP transport: several exports in
//! flight at once (so one slow round trip does not starve the queue), each on the export
//! runtime with its retries, and its outcome counted in the signal's ledger.
//!
//! Retry policy: a refused or reset connection, HTTP 429/502/503/504 and gRPC
//! `UNAVAILABLE`/`ABORTED`/`OUT_OF_RANGE`/`DATA_LOSS` are tried again after 100 ms,
//! 200 ms, 400 ms (or the server's `Retry-After`), at most [`MAX_RETRIES`] times and never
//! past the batch's export timeout. A timeout is not retried (the collector may be working
//! on it; one export never costs more than the timeout). Once a batch failed because
//! nobody listens (connection refused, DNS), later batches try once, without retries,
//! until an export succeeds: no retry storm against a closed port, and a short job exits
//! quickly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::cause::{Failure, Retry};
use super::ledger::Ledger;
use super::wire::Wire;
use crate::config::endpoint::Signal;
use crate::delivery::LossCause;

/// Retries of one batch, at most.
pub(crate) const MAX_RETRIES: u32 = 3;
/// The first backoff; it doubles on each retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Export slots: how many exports of a signal are in flight.
#[derive(Debug)]
struct Slots {
    busy: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

impl Slots {
    fn acquire(self: &Arc<Self>) -> SlotGuard {
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy >= self.max {
            busy = self
                .freed
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *busy += 1;
        SlotGuard(Arc::clone(self))
    }

    fn wait_idle(&self) {
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy > 0 {
            busy = self
                .freed
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A taken slot; freed when dropped, also when the runtime drops the export's task at
/// shutdown.
struct SlotGuard(Arc<Slots>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(PoisonError::into_inner);
        *busy = busy.saturating_sub(1);
        drop(busy);
        self.0.freed.notify_all();
    }
}

/// Sends one signal's batches.
#[derive(Debug)]
pub(crate) struct Sender {
    wire: Wire,
    ledger: Arc<Ledger>,
    runtime: tokio::runtime::Handle,
    /// One attempt's timeout (`OTEL_EXPORTER_OTLP_TIMEOUT`).
    attempt_timeout: Duration,
    /// One batch's time, retries included.
    budget: Duration,
    slots: Arc<Slots>,
    /// The last batch could not reach the collector: try once, no retries.
    unreachable: AtomicBool,
}

impl Sender {
    pub(crate) fn new(
        wire: Wire,
        ledger: Arc<Ledger>,
        runtime: tokio::runtime::Handle,
        attempt_timeout: Duration,
        budget: Duration,
        concurrency: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            wire,
            ledger,
            runtime,
            attempt_timeout,
            budget,
            slots: Arc::new(Slots {
                busy: Mutex::new(0),
                freed: Condvar::new(),
                max: concurrency.max(1),
            }),
            unreachable: AtomicBool::new(false),
        })
    }

    pub(crate) fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Starts exporting `body` (holding `items` items) once a slot is free; returns when
    /// it started. Called by the dispatcher thread.
    pub(crate) fn dispatch(self: &Arc<Self>, body: Bytes, items: u64) {
        // Counted before the wait for a slot: a batch out of the queue but not yet sent is
        // pending too (else a shutdown deadline would miss it).
        self.ledger.begin(items);
        let slot = self.slots.acquire();
        let me = Arc::clone(self);
        self.runtime.spawn(async move {
            let _slot = slot;
            // The outcome is counted in the ledger.
            let _ = me.deliver(body, items).await;
        });
    }

    /// [`Self::dispatch`] for an encoding's result: a batch that could not be encoded is
    /// counted lost, with the encoder's words.
    pub(crate) fn dispatch_encoded(self: &Arc<Self>, encoded: Result<Bytes, String>, items: u64) {
        match encoded {
            Ok(body) => self.dispatch(body, items),
            Err(detail) => self.ledger.unencodable(items, detail),
        }
    }

    /// Exports `body` and waits for the outcome: `Err` with the cause when it was lost.
    /// For callers that export one thing at a time on their own thread (the metric
    /// reader).
    pub(crate) fn export_blocking(self: &Arc<Self>, body: Bytes, items: u64) -> Result<(), String> {
        self.ledger.begin(items);
        let slot = self.slots.acquire();
        let me = Arc::clone(self);
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _slot = slot;
            let _ = tx.send(me.deliver(body, items).await);
        });
        // Ends when the export ends, or when the runtime drops it at shutdown.
        rx.recv()
            .unwrap_or_else(|_| Err("the export was abandoned at shutdown".to_owned()))
    }

    /// Waits until every export started so far has its outcome.
    pub(crate) fn wait_idle(&self) {
        self.slots.wait_idle();
    }

    /// One batch: attempts and retries within the budget; the outcome is counted.
    async fn deliver(&self, body: Bytes, items: u64) -> Result<(), String> {
        let start = Instant::now();
        let mut retries = 0u32;
        loop {
            let left = self.budget.saturating_sub(start.elapsed());
            let timeout = left.min(self.attempt_timeout);
            let attempt = tokio::time::timeout(timeout, self.wire.send(body.clone(), timeout));
            let failure = match attempt.await {
                Ok(Ok(accepted)) => {
                    self.unreachable.store(false, Ordering::Relaxed);
                    let rejected = accepted.rejected.min(items);
                    self.ledger.sent(items - rejected);
                    if rejected > 0 {
                        let cause = LossCause::PartialSuccess {
                            rejected,
                            message: accepted.message,
                        };
                        let text = cause.to_string();
                        self.ledger.failed(rejected, cause);
                        return Err(text);
                    }
                    return Ok(());
                }
                Ok(Err(failure)) => failure,
                Err(_) => Failure::timeout(timeout),
            };
            let mut failure = failure;
            if let LossCause::Timeout { after } = &mut failure.cause {
                // The configured timeout, not what was left of it to the microsecond.
                *after = self.attempt_timeout.min(self.budget);
            }
            // A traces-only backend answers metrics and logs this way: that signal is
            // switched off, no loss. An endpoint that does not take traces is a wrong
            // endpoint (every span would be lost): a failure like any other 4xx.
            if self.ledger.signal() != Signal::Traces
                && let Some(why) = failure.not_accepted.take()
            {
                self.ledger.not_accepted(items, why);
                return Ok(());
            }
            let wait = match failure.retry {
                Retry::No => None,
                Retry::Backoff => Some(FIRST_BACKOFF * 2u32.pow(retries)),
                Retry::After(d) => Some(d),
            };
            let known_unreachable = failure.unreachable && self.unreachable.load(Ordering::Relaxed);
            let retry = wait.filter(|w| {
                retries < MAX_RETRIES
                    && !known_unreachable
                    && start.elapsed() + *w + Duration::from_millis(10) < self.budget
            });
            match retry {
                Some(w) => {
                    retries += 1;
                    tokio::time::sleep(w).await;
                }
                None => {
                    if failure.unreachable {
                        self.unreachable.store(true, Ordering::Relaxed);
                    }
                    let text = failure.cause.to_string();
                    self.ledger.failed(items, failure.cause);
                    return Err(text);
                }
            }
        }
    }
}

//! The bounded queue of a signal and its dispatcher thread.
//!
//! The app's threads only [`Queue::push`] (a short lock, never a wait: a full queue drops
//! the item and the ledger counts it). One dispatcher thread per signal takes batches out
//! and hands them to a [`Sink`]: right away when a batch is full, when `disable_batch`
//! asks for immediate export (everything queued goes out together), when the schedule
//! delay has passed, or when a flush or shutdown asks. The sink decides how many exports
//! run at once (our OTLP transport: several; an exporter given to the builder: one at a
//! time, as the OpenTelemetry specification requires).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::ledger::Ledger;

pub(crate) use crate::config::delivery::QueueConfig;

/// Where a dispatcher sends its batches.
pub(crate) trait Sink<T>: Send + 'static {
    /// Sends one batch. Returns when the next batch may be sent: at once when an export
    /// slot is free, else when one frees up (or, one export at a time, when it is done).
    fn send(&mut self, batch: Vec<T>);
    /// Waits until every batch sent so far has its outcome.
    fn wait_idle(&mut self);
    /// Called once everything sent so far has an outcome, for a flush.
    fn flushed(&mut self) {}
    /// Called at shutdown, after the last batch's outcome.
    fn shut_down(&mut self, _timeout: Duration) {}
    /// The resource of the provider, set when it is built.
    fn set_resource(&mut self, _resource: &Resource) {}
}

/// Why [`Queue::push`] refused an item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue is full.
    Full,
    /// The queue was shut down.
    Closed,
}

/// The shared state of a queue.
struct State<T> {
    items: VecDeque<T>,
    /// The dispatcher sleeps on `wake` and wants a notification.
    dispatcher_waiting: bool,
    /// Flushes asked for and flushes done (tickets).
    flush_asked: u64,
    flush_done: u64,
    /// Shutdown asked for (no more pushes), and done (the dispatcher ended).
    closed: bool,
    stopped: bool,
    /// A resource to hand to the sink.
    resource: Option<Resource>,
}

/// A bounded queue of `T` drained by one dispatcher thread.
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    /// Wakes the dispatcher.
    wake: Condvar,
    /// Wakes the callers of flush and shutdown.
    done: Condvar,
    config: QueueConfig,
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Queue<T> {
    /// A queue with its dispatcher thread (named `name`) sending to `sink`.
    pub(crate) fn start<S: Sink<T>>(
        name: &str,
        config: QueueConfig,
        sink: S,
    ) -> std::io::Result<Arc<Self>> {
        let queue = Arc::new(Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                dispatcher_waiting: false,
                flush_asked: 0,
                flush_done: 0,
                closed: false,
                stopped: false,
                resource: None,
            }),
            wake: Condvar::new(),
            done: Condvar::new(),
            config,
        });
        let q = Arc::clone(&queue);
        thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // Whatever the sink does (HTTP clients log through `tracing`) must not
                // become telemetry.
                let _guard = opentelemetry::Context::enter_telemetry_suppressed_scope();
                q.dispatch(sink);
            })?;
        Ok(queue)
    }
}

/// What a delivery processor (spans, logs) holds: its signal's queue, the ledger counting
/// it, and how long `force_flush` waits.
#[derive(Debug)]
pub(crate) struct Delivery<T> {
    queue: Arc<Queue<T>>,
    ledger: Arc<Ledger>,
    flush_timeout: Duration,
}

impl<T: Send + 'static> Delivery<T> {
    /// The queue (dispatcher thread `name`) sending to `sink`, counted in `ledger`.
    pub(crate) fn start<S: Sink<T>>(
        name: &str,
        config: QueueConfig,
        sink: S,
        ledger: Arc<Ledger>,
        flush_timeout: Duration,
    ) -> std::io::Result<Self> {
        let queue = Queue::start(name, config, sink)?;
        let q = Arc::clone(&queue);
        ledger.set_queue_len(Box::new(move || q.len() as u64));
        Ok(Self {
            queue,
            ledger,
            flush_timeout,
        })
    }
}

impl<T> Delivery<T> {
    /// The signal's ledger.
    pub(crate) fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// What a processor does with each item: counts it discarded when its signal is off,
    /// else queues the item `make` builds (built only then), counting it dropped when the
    /// queue is full.
    #[inline]
    pub(crate) fn offer(&self, make: impl FnOnce() -> T) {
        if self.ledger.is_off() {
            self.ledger.discard(1);
            return;
        }
        if let Err(Refused::Full) = self.queue.push(make()) {
            self.ledger.drop_full();
        }
    }

    /// A processor's `force_flush`: [`Queue::flush`] within the flush timeout.
    pub(crate) fn flush(&self) -> OTelSdkResult {
        if self.queue.flush(self.flush_timeout) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(self.flush_timeout))
        }
    }

    /// A processor's `shutdown_with_timeout`: [`Queue::shutdown`] within `timeout`.
    pub(crate) fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        if self.queue.shutdown(timeout) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(timeout))
        }
    }

    /// Hands `resource` to the sink before its next export.
    pub(crate) fn set_resource(&self, resource: &Resource) {
        self.queue.set_resource(resource);
    }
}

impl<T> Queue<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item` without waiting; refuses it when the queue is full or shut down.
    #[inline]
    pub(crate) fn push(&self, item: T) -> Result<(), Refused> {
        let mut st = self.lock();
        if st.closed {
            return Err(Refused::Closed);
        }
        if st.items.len() >= self.config.max_queue_size {
            return Err(Refused::Full);
        }
        st.items.push_back(item);
        let wake = st.dispatcher_waiting
            && (self.config.immediate || st.items.len() >= self.config.max_export_batch_size);
        if wake {
            st.dispatcher_waiting = false;
        }
        drop(st);
        if wake {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Items waiting now.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Hands `resource` to the sink before its next export.
    pub(crate) fn set_resource(&self, resource: &Resource) {
        self.lock().resource = Some(resource.clone());
        self.wake.notify_one();
    }

    /// Exports everything queued now and waits until it has an outcome, at most
    /// `timeout`. `false` when the time ran out first (the export goes on).
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        if st.stopped {
            return true;
        }
        st.flush_asked += 1;
        let ticket = st.flush_asked;
        st.dispatcher_waiting = false;
        self.wake.notify_one();
        while st.flush_done < ticket && !st.stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Refuses new items, exports what is queued, shuts the sink down and ends the
    /// dispatcher, waiting at most `timeout`. `false` when the time ran out first.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        st.closed = true;
        st.dispatcher_waiting = false;
        self.wake.notify_one();
        while !st.stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// The dispatcher's loop: runs until shutdown.
    fn dispatch<S: Sink<T>>(&self, mut sink: S) {
        let c = self.config;
        let mut last_export = Instant::now();
        loop {
            let mut st = self.lock();
            // Wait until a batch is due.
            loop {
                if let Some(r) = st.resource.take() {
                    drop(st);
                    sink.set_resource(&r);
                    st = self.lock();
                    continue;
                }
                let queued = st.items.len();
                let flushing = st.flush_asked > st.flush_done;
                let due = st.closed
                    || flushing
                    || queued >= c.max_export_batch_size
                    || (queued > 0 && (c.immediate || last_export.elapsed() >= c.schedule_delay));
                if due {
                    break;
                }
                let wait = if queued == 0 {
                    c.schedule_delay
                } else {
                    c.schedule_delay.saturating_sub(last_export.elapsed())
                };
                st.dispatcher_waiting = true;
                st = self
                    .wake
                    .wait_timeout(st, wait.max(Duration::from_millis(1)))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                st.dispatcher_waiting = false;
            }
            let n = st.items.len().min(c.max_export_batch_size);
            let batch: Vec<T> = st.items.drain(..n).collect();
            let empty = st.items.is_empty();
            let (flush_ticket, closing) = (st.flush_asked, st.closed);
            let flushing = flush_ticket > st.flush_done;
            drop(st);

            if !batch.is_empty() {
                sink.send(batch);
                last_export = Instant::now();
            }
            if !empty {
                continue; // more to send for a flush, a shutdown or a full batch
            }
            if closing {
                sink.wait_idle();
                sink.shut_down(c.export_timeout);
                let mut st = self.lock();
                st.stopped = true;
                st.items.clear();
                drop(st);
                self.done.notify_all();
                return;
            }
            if flushing {
                sink.wait_idle();
                sink.flushed();
                let mut st = self.lock();
                st.flush_done = st.flush_done.max(flush_ticket);
                drop(st);
                self.done.notify_all();
            }
        }
    }
}

/// Runs a future to completion on the current thread (the dispatcher's, for exporters
/// given to the builder, as the SDK's own batch processors do).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Records batch sizes; each send takes `delay`.
    struct Recording {
        tx: mpsc::Sender<usize>,
        delay: Duration,
    }

    impl Sink<u32> for Recording {
        fn send(&mut self, batch: Vec<u32>) {
            thread::sleep(self.delay);
            let _ = self.tx.send(batch.len());
        }
        fn wait_idle(&mut self) {}
    }

    fn config(immediate: bool) -> QueueConfig {
        QueueConfig {
            max_queue_size: 100,
            schedule_delay: Duration::from_secs(3600),
            max_export_batch_size: 10,
            export_timeout: Duration::from_secs(1),
            max_concurrent_exports: 1,
            immediate,
        }
    }

    #[test]
    fn full_batches_go_at_once_and_flush_sends_the_rest() {
        let (tx, rx) = mpsc::channel();
        let delay = Duration::ZERO;
        let q = Queue::start("test-queue", config(false), Recording { tx, delay }).unwrap();
        for i in 0..25 {
            q.push(i).unwrap();
        }
        assert!(q.flush(Duration::from_secs(30)));
        let sizes: Vec<usize> = rx.try_iter().collect();
        assert_eq!(sizes.iter().sum::<usize>(), 25);
        assert!(sizes.iter().all(|&n| n <= 10), "{sizes:?}");
        assert!(q.shutdown(Duration::from_secs(30)));
        assert_eq!(q.push(1), Err(Refused::Closed));
    }

    #[test]
    fn a_full_queue_refuses_and_immediate_export_batches_what_is_queued() {
        let (tx, rx) = mpsc::channel();
        let delay = Duration::from_millis(50);
        let q = Queue::start("test-queue", config(true), Recording { tx, delay }).unwrap();
        let mut refused = 0;
        for i in 0..200 {
            if q.push(i) == Err(Refused::Full) {
                refused += 1;
            }
        }
        assert!(refused > 0, "100 items fit, 200 were pushed at once");
        assert!(q.shutdown(Duration::from_secs(30)));
        let sizes: Vec<usize> = rx.try_iter().collect();
        assert_eq!(sizes.iter().sum::<usize>() + refused, 200);
        // Immediate export, but not one export per item: what queued meanwhile went together.
        assert!(sizes.len() < 200 - refused, "{sizes:?}");
    }

    #[test]
    fn block_on_runs_a_future() {
        assert_eq!(block_on(async { 21 * 2 }), 42);
    }
}

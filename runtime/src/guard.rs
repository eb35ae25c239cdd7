//! [`Telemetry`], the guard `install()` returns: [`Telemetry::flush`] and
//! [`Telemetry::shutdown`] (both bounded by the shutdown deadline, the signals side by
//! side, both returning the [`DeliveryReport`]), [`Telemetry::report`], `Drop`, and
//! [`Telemetry::layer`] for an app that owns its `tracing` subscriber.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use crate::delivery::{DeliveryReport, SignalReport};
use crate::error::ShutdownError;
use crate::export::ledger::Ledger;
use crate::export::otlp::Transports;
use crate::{state, subscriber};

/// The shutdown deadline with the default export timeout (10 s): [`Telemetry::flush`],
/// [`Telemetry::shutdown`] and `Drop` wait at most the export timeout plus 1 s, so a
/// backend that accepted a request gets the whole export timeout to answer (a fresh MLflow
/// server takes 7.4 s to answer its first trace export) and a silent collector costs at
/// most that. Set it with
/// [`TelemetryBuilder::shutdown_timeout`](crate::TelemetryBuilder::shutdown_timeout) or
/// `LLMETRY_SHUTDOWN_TIMEOUT` (ms); a shorter export timeout (`.timeout(..)`,
/// `OTEL_EXPORTER_OTLP_TIMEOUT`) shortens the default too.
///
/// ```
/// use std::time::Duration;
/// // Leave room for telemetry's last flush in a deployment's grace period.
/// let grace = Duration::from_secs(30);
/// let app_budget = grace - llmetry::DEFAULT_SHUTDOWN_TIMEOUT;
/// assert_eq!(app_budget, Duration::from_secs(19));
/// ```
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration =
    Duration::from_secs(crate::config::DEFAULT_EXPORT_TIMEOUT.as_secs() + 1);

/// What an installed [`Telemetry`] holds: the providers (the globals point at them too),
/// each signal's ledger (traces, metrics, logs; `None` when off or not counted), the
/// transports to stop last, and the shutdown deadline.
pub(crate) struct Installed {
    pub(crate) tracer_provider: SdkTracerProvider,
    pub(crate) meter_provider: Option<SdkMeterProvider>,
    pub(crate) logger_provider: Option<SdkLoggerProvider>,
    pub(crate) tracer: SdkTracer,
    pub(crate) transports: Transports,
    pub(crate) ledgers: [Option<Arc<Ledger>>; 3],
    /// Where traces go when llmetry does not count them (only the builder's processors).
    pub(crate) uncounted_traces: Option<String>,
    pub(crate) shutdown_timeout: Duration,
}

struct Inner {
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    logger_provider: Option<SdkLoggerProvider>,
    tracer: SdkTracer,
    transports: Mutex<Transports>,
    ledgers: [Option<Arc<Ledger>>; 3],
    uncounted_traces: Option<String>,
    shutdown_timeout: Duration,
    shut_down: AtomicBool,
    /// Items lost (dropped + failed) as of the last flush: a flush errs on new losses.
    lost_at_last_flush: AtomicU64,
    /// The report of the first shutdown, returned by later calls.
    final_report: Mutex<Option<DeliveryReport>>,
}

/// The installed telemetry. Keep it alive for the life of the program: dropping it (or
/// calling [`Telemetry::shutdown`]) delivers everything still queued, waiting at most the
/// shutdown deadline ([`DEFAULT_SHUTDOWN_TIMEOUT`] by default).
///
/// ```rust,standalone_crate
/// #[llmetry::workflow(name = "nightly_job")]
/// fn run_job() -> usize {
///     42
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let _telemetry = llmetry::init()
///         .app_name("nightly")
///         .silence_init_message(true)
/// #       .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///         .install()?; // not `let _ = …`: that would shut telemetry down at once
///     run_job();
///     Ok(())
/// } // `_telemetry` is dropped here: the job's spans are delivered before the process exits
/// ```
#[must_use = "dropping Telemetry shuts telemetry down; keep it until the end of main"]
pub struct Telemetry {
    inner: Option<Arc<Inner>>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("enabled", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// The guard of telemetry that is switched off: every method does nothing.
    pub(crate) fn disabled() -> Self {
        Self { inner: None }
    }

    /// The guard of what `install()` built.
    pub(crate) fn new(installed: Installed) -> Self {
        let Installed {
            tracer_provider,
            meter_provider,
            logger_provider,
            tracer,
            transports,
            ledgers,
            uncounted_traces,
            shutdown_timeout,
        } = installed;
        Self {
            inner: Some(Arc::new(Inner {
                tracer_provider,
                meter_provider,
                logger_provider,
                tracer,
                transports: Mutex::new(transports),
                ledgers,
                uncounted_traces,
                shutdown_timeout,
                shut_down: AtomicBool::new(false),
                lost_at_last_flush: AtomicU64::new(0),
                final_report: Mutex::new(None),
            })),
        }
    }

    /// A `tracing` layer sending spans (and, when logs are on, events) into this telemetry,
    /// for an app that already has its own subscriber. `None` when telemetry is disabled.
    ///
    /// [`TelemetryBuilder::install`](crate::TelemetryBuilder::install) sets the global subscriber only when none is set yet.
    /// When the app set one before, spans do not reach llmetry until its layer is part of a
    /// subscriber in use; since a global default can be set only once, compose it into a
    /// scoped one (`tracing::subscriber::with_default` / `set_default`):
    ///
    /// ```rust,standalone_crate
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::layer::SubscriberExt as _;
    ///
    /// #[llmetry::task(name = "step")]
    /// fn step() {}
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The app's own global subscriber, set first.
    /// tracing::subscriber::set_global_default(
    ///     tracing_subscriber::registry().with(tracing_subscriber::fmt::layer()),
    /// )?;
    /// let exporter = InMemorySpanExporter::default();
    /// let telemetry = llmetry::init()
    ///     .exporter(exporter.clone())
    /// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
    ///     .install()?; // its line on stderr says the app already set a subscriber
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(tracing_subscriber::fmt::layer())
    ///     .with(telemetry.layer());
    /// tracing::subscriber::with_default(subscriber, step);
    /// telemetry.flush()?;
    /// assert_eq!(exporter.get_finished_spans()?[0].name, "step.task");
    /// # Ok(()) }
    /// ```
    pub fn layer<S>(&self) -> Option<impl Layer<S> + use<S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
    {
        self.inner
            .as_ref()
            .map(|i| subscriber::layers(i.tracer.clone(), i.logger_provider.as_ref()))
    }

    /// What became of each signal's telemetry so far (sent, dropped, failed, pending and
    /// why), without waiting for anything. Telemetry that is off reports every signal off.
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
    /// let report = telemetry.report(); // the span may still be queued
    /// assert_eq!(report.traces.sent + report.traces.pending, 1);
    /// # Ok(()) }
    /// ```
    pub fn report(&self) -> DeliveryReport {
        match &self.inner {
            Some(inner) => inner.report(None),
            None => DeliveryReport::default(),
        }
    }

    /// Exports everything queued now (spans, metrics, logs) and waits until it has an
    /// outcome, at most the shutdown deadline. Safe to call from async code on any runtime
    /// flavour (the exports run on llmetry's own threads).
    ///
    /// `Ok` carries the [`DeliveryReport`] so far. `Err`: [`ShutdownError::Export`] when
    /// something was lost since the previous flush (it carries the report), or
    /// [`ShutdownError::Timeout`] when a signal was still being delivered at the deadline
    /// (nothing lost yet).
    ///
    /// ```rust,standalone_crate
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    ///
    /// #[llmetry::task]
    /// fn checkpoint() {}
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let exporter = InMemorySpanExporter::default();
    /// let telemetry = llmetry::init()
    ///     .exporter(exporter.clone())
    ///     .silence_init_message(true)
    /// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
    ///     .install()?;
    /// checkpoint();
    /// let report = telemetry.flush()?; // the batch is exported now, not when the batch timer fires
    /// assert_eq!(exporter.get_finished_spans()?.len(), 1);
    /// assert_eq!(report.traces.sent, 1);
    /// # Ok(()) }
    /// ```
    pub fn flush(&self) -> Result<DeliveryReport, ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(DeliveryReport::default());
        };
        let ops = inner.signal_ops(
            |p| p.force_flush(),
            |p| p.force_flush(),
            |p| p.force_flush(),
        );
        let timeout = inner.shutdown_timeout;
        let unfinished = bounded("flush", ops, Instant::now() + timeout);
        let report = inner.report(None);
        let lost: u64 = report.signals().map(|(_, s)| s.dropped + s.failed).sum();
        let before = inner.lost_at_last_flush.swap(lost, Ordering::AcqRel);
        if lost > before {
            return Err(ShutdownError::Export {
                operation: "flush",
                message: report.losses(),
                report: Box::new(report),
            });
        }
        if !unfinished.is_empty() {
            return Err(ShutdownError::Timeout {
                operation: "flush",
                timeout,
                pending: inner.describe(&unfinished),
            });
        }
        Ok(report)
    }

    /// Delivers everything still queued and stops every pipeline, waiting at most the
    /// shutdown deadline even when the collector never answers (the three signals shut
    /// down side by side, so a slow one does not starve the others). Safe to call from
    /// async code on any runtime flavour: the work runs on llmetry's own threads.
    ///
    /// `Ok` carries the [`DeliveryReport`] when nothing was lost. When something was
    /// (dropped, failed, or still pending at the deadline), one line on stderr says what,
    /// per signal, with its destination and the cause, and the result is
    /// [`ShutdownError::Export`] with the same words and the report. An endpoint that does
    /// not take a signal (HTTP 404/405, gRPC `UNIMPLEMENTED`) is no error: that signal was
    /// switched off with one warning. Later calls (and `Drop`) do nothing and return the
    /// first call's report.
    ///
    /// After a shutdown, annotated functions run untraced (and silently).
    ///
    /// ```rust,standalone_crate
    /// #[llmetry::workflow]
    /// async fn handle_request() {}
    ///
    /// # async fn wait_for_ctrl_c() {}
    /// #[tokio::main]
    /// async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let telemetry = llmetry::init()
    ///         .silence_init_message(true)
    /// #       .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
    ///         .install()?;
    ///     handle_request().await;
    ///     wait_for_ctrl_c().await;
    ///     // Telemetry must not decide the exit code: say what was lost, and go on.
    ///     if let Err(e) = telemetry.shutdown() {
    ///         eprintln!("telemetry: {e}");
    ///     }
    ///     telemetry.shutdown()?; // later calls do nothing
    ///     Ok(())
    /// }
    /// ```
    pub fn shutdown(&self) -> Result<DeliveryReport, ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(DeliveryReport::default());
        };
        if inner.shut_down.swap(true, Ordering::AcqRel) {
            let report = inner
                .final_report
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            return Ok(report.unwrap_or_else(|| inner.report(None)));
        }
        state::silence();
        let timeout = inner.shutdown_timeout;
        let deadline = Instant::now() + timeout;
        let ops = inner.signal_ops(
            move |p| p.shutdown_with_timeout(timeout),
            move |p| p.shutdown_with_timeout(timeout),
            move |p| p.shutdown_with_timeout(timeout),
        );
        bounded("shutdown", ops, deadline);
        // The metric reader may give up waiting before its last export has its outcome.
        inner.wait_for_pending(deadline);
        let report = inner.report(Some(timeout));
        // Whatever happens from here on is our own teardown, not the collector.
        for ledger in inner.ledgers.iter().flatten() {
            ledger.quiet();
        }
        // Never blocks, even inside an async runtime.
        inner
            .transports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .shut_down();
        *inner
            .final_report
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(report.clone());
        if report.is_complete() {
            return Ok(report);
        }
        let message = report.losses();
        eprintln!("llmetry: telemetry lost at shutdown: {message}");
        Err(ShutdownError::Export {
            operation: "shutdown",
            message,
            report: Box::new(report),
        })
    }
}

type SignalOp = (&'static str, Box<dyn FnOnce() -> OTelSdkResult + Send>);

impl Inner {
    /// One operation per installed provider, with its signal's name.
    fn signal_ops(
        &self,
        traces: impl FnOnce(SdkTracerProvider) -> OTelSdkResult + Send + 'static,
        logs: impl FnOnce(SdkLoggerProvider) -> OTelSdkResult + Send + 'static,
        metrics: impl FnOnce(SdkMeterProvider) -> OTelSdkResult + Send + 'static,
    ) -> Vec<SignalOp> {
        let mut ops: Vec<SignalOp> = Vec::new();
        let tp = self.tracer_provider.clone();
        ops.push(("traces", Box::new(move || traces(tp))));
        if let Some(lp) = self.logger_provider.clone() {
            ops.push(("logs", Box::new(move || logs(lp))));
        }
        if let Some(mp) = self.meter_provider.clone() {
            ops.push(("metrics", Box::new(move || metrics(mp))));
        }
        ops
    }

    /// The report so far; `deadline`: the shutdown's, which turns pending into lost.
    fn report(&self, deadline: Option<Duration>) -> DeliveryReport {
        let [traces, metrics, logs] = &self.ledgers;
        let of = |l: &Option<Arc<Ledger>>| {
            l.as_ref()
                .map_or_else(SignalReport::default, |l| l.report(deadline))
        };
        let mut report = DeliveryReport {
            traces: of(traces),
            metrics: of(metrics),
            logs: of(logs),
        };
        if let Some(line) = &self.uncounted_traces {
            report.traces = SignalReport::uncounted(line.clone(), "spans");
        }
        report
    }

    /// Waits until no signal has anything queued or in flight, or `deadline`.
    fn wait_for_pending(&self, deadline: Instant) {
        while self.ledgers.iter().flatten().any(|l| l.pending() > 0) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `traces (http://…/v1/traces (http/protobuf)), …` for the unfinished signals.
    fn describe(&self, signals: &[&'static str]) -> String {
        signals
            .iter()
            .map(|signal| {
                let destination = self
                    .ledgers
                    .iter()
                    .flatten()
                    .find(|l| l.signal().as_str() == *signal)
                    .map(|l| l.destination().to_owned())
                    .or_else(|| self.uncounted_traces.clone())
                    .unwrap_or_default();
                format!("{signal} ({destination})")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs each signal's operation on its own helper thread and waits for all of them
/// together until `deadline` (plus a small grace). Returns the signals that did not
/// finish in time (their work goes on in the background).
fn bounded(operation: &'static str, ops: Vec<SignalOp>, deadline: Instant) -> Vec<&'static str> {
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    let mut names = Vec::new();
    let mut done: Vec<bool> = Vec::new();
    for (i, (signal, op)) in ops.into_iter().enumerate() {
        let tx = tx.clone();
        names.push(signal);
        let spawned = std::thread::Builder::new()
            .name(format!("llmetry-{operation}-{signal}"))
            .spawn(move || {
                // The outcome is read from the ledgers, not from the SDK's result.
                let _ = op();
                let _ = tx.send(i);
            });
        done.push(spawned.is_err());
    }
    drop(tx);
    let deadline = deadline + Duration::from_millis(200);
    while done.iter().any(|d| !d) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(i) => done[i] = true,
            Err(_) => break,
        }
    }
    names
        .into_iter()
        .zip(done)
        .filter(|(_, d)| !d)
        .map(|(n, _)| n)
        .collect()
}

impl Drop for Telemetry {
    /// Shuts down (once): a loss was said on stderr by `shutdown()` itself.
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

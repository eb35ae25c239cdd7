//! [`Telemetry`], the guard `install()` returns: [`Telemetry::flush`],
//! [`Telemetry::shutdown`] (both bounded by [`SHUTDOWN_TIMEOUT`], the signals side by side),
//! `Drop`, and [`Telemetry::layer`] for an app that owns its `tracing` subscriber.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use crate::error::ShutdownError;
use crate::export::otlp::Transports;
use crate::export::report::Reporter;
use crate::{state, subscriber};

/// How long [`Telemetry::flush`] and [`Telemetry::shutdown`] (and `Drop`) wait at most for
/// the exporters, even when the collector never answers.
///
/// ```
/// use std::time::Duration;
/// // Leave room for telemetry's last flush in a deployment's grace period.
/// let grace = Duration::from_secs(30);
/// let app_budget = grace - llmetry::SHUTDOWN_TIMEOUT;
/// assert_eq!(app_budget, Duration::from_secs(25));
/// ```
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// What an installed [`Telemetry`] holds: the providers (the globals point at them too),
/// each signal's reporter, and the transports to stop last.
pub(crate) struct Installed {
    pub(crate) tracer_provider: SdkTracerProvider,
    pub(crate) meter_provider: Option<SdkMeterProvider>,
    pub(crate) logger_provider: Option<SdkLoggerProvider>,
    pub(crate) tracer: SdkTracer,
    pub(crate) transports: Transports,
    pub(crate) reporters: Vec<Arc<Reporter>>,
}

struct Inner {
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    logger_provider: Option<SdkLoggerProvider>,
    tracer: SdkTracer,
    transports: Mutex<Transports>,
    reporters: Vec<Arc<Reporter>>,
    shut_down: AtomicBool,
}

/// The installed telemetry. Keep it alive for the life of the program: dropping it (or
/// calling [`Telemetry::shutdown`]) delivers everything still buffered, waiting at most
/// [`SHUTDOWN_TIMEOUT`].
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
            reporters,
        } = installed;
        Self {
            inner: Some(Arc::new(Inner {
                tracer_provider,
                meter_provider,
                logger_provider,
                tracer,
                transports: Mutex::new(transports),
                reporters,
                shut_down: AtomicBool::new(false),
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

    /// Exports everything buffered now (spans, metrics, logs), waiting at most
    /// [`SHUTDOWN_TIMEOUT`]. Safe to call from async code on any runtime flavour.
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
    /// telemetry.flush()?; // the batch is exported now, not when the batch timer fires
    /// assert_eq!(exporter.get_finished_spans()?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn flush(&self) -> Result<(), ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let ops = inner.signal_ops(
            |p| p.force_flush(),
            |p| p.force_flush(),
            |p| p.force_flush(),
        );
        bounded("flush", ops)
    }

    /// Flushes and stops every pipeline, waiting at most [`SHUTDOWN_TIMEOUT`] even when the
    /// collector never answers (the three signals shut down side by side, so a slow one
    /// does not starve the others). Later calls (and `Drop`) do nothing. Safe to call from
    /// async code on any runtime flavour: the work runs on helper threads.
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
    ///     if let Err(e) = telemetry.shutdown() {
    ///         eprintln!("telemetry: {e}");
    ///     }
    ///     telemetry.shutdown()?; // later calls do nothing
    ///     Ok(())
    /// }
    /// ```
    pub fn shutdown(&self) -> Result<(), ShutdownError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        if inner.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        state::silence();
        let ops = inner.signal_ops(
            |p| p.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
            |p| p.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
            |p| p.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
        );
        let result = bounded("shutdown", ops);
        // Whatever fails from here on is our own teardown, not the collector.
        for r in &inner.reporters {
            r.close();
        }
        // Never blocks, even inside an async runtime.
        inner
            .transports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shut_down();
        result
    }
}

type SignalOp = (Arc<Reporter>, Box<dyn FnOnce() -> OTelSdkResult + Send>);

impl Inner {
    /// One operation per installed provider, paired with its signal's reporter.
    fn signal_ops(
        &self,
        traces: impl FnOnce(SdkTracerProvider) -> OTelSdkResult + Send + 'static,
        logs: impl FnOnce(SdkLoggerProvider) -> OTelSdkResult + Send + 'static,
        metrics: impl FnOnce(SdkMeterProvider) -> OTelSdkResult + Send + 'static,
    ) -> Vec<SignalOp> {
        let reporter = |signal: &str| {
            self.reporters
                .iter()
                .find(|r| r.signal() == signal)
                .cloned()
        };
        let mut ops: Vec<SignalOp> = Vec::new();
        let tp = self.tracer_provider.clone();
        ops.push((
            reporter("traces")
                .unwrap_or_else(|| Reporter::new("traces", "the span processors".into())),
            Box::new(move || traces(tp)),
        ));
        if let (Some(lp), Some(r)) = (self.logger_provider.clone(), reporter("logs")) {
            ops.push((r, Box::new(move || logs(lp))));
        }
        if let (Some(mp), Some(r)) = (self.meter_provider.clone(), reporter("metrics")) {
            ops.push((r, Box::new(move || metrics(mp))));
        }
        ops
    }
}

/// Runs each signal's operation on its own helper thread and waits at most
/// [`SHUTDOWN_TIMEOUT`] (plus a small grace) for all of them together.
fn bounded(operation: &'static str, ops: Vec<SignalOp>) -> Result<(), ShutdownError> {
    let (tx, rx) = std::sync::mpsc::channel::<(usize, OTelSdkResult)>();
    let mut reporters = Vec::new();
    let mut results: Vec<Option<OTelSdkResult>> = Vec::new();
    for (i, (reporter, op)) in ops.into_iter().enumerate() {
        let tx = tx.clone();
        let name = format!("llmetry-{operation}-{}", reporter.signal());
        reporters.push(reporter);
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let _ = tx.send((i, op()));
        });
        results.push(match spawned {
            Ok(_) => None,
            Err(e) => Some(Err(OTelSdkError::InternalFailure(format!(
                "could not start a helper thread: {e}"
            )))),
        });
    }
    drop(tx);
    let timeout = SHUTDOWN_TIMEOUT + Duration::from_millis(500);
    let deadline = std::time::Instant::now() + timeout;
    while results.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, r)) => results[i] = Some(r),
            Err(_) => break,
        }
    }
    let pending: Vec<String> = reporters
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_none())
        .map(|(rep, _)| format!("{} ({})", rep.signal(), rep.target()))
        .collect();
    if !pending.is_empty() {
        return Err(ShutdownError::Timeout {
            operation,
            timeout,
            pending: pending.join(", "),
        });
    }
    let failures: Vec<String> = reporters
        .iter()
        .zip(results)
        .filter_map(|(rep, r)| match r {
            Some(Err(_)) if rep.warned() => Some(format!(
                "{}: not everything reached {} (the export failure is reported above)",
                rep.signal(),
                rep.target()
            )),
            Some(Err(e)) => Some(format!("{}: {e}", rep.signal())),
            _ => None,
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(ShutdownError::Export {
            operation,
            message: failures.join("; "),
        })
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            eprintln!("llmetry: {e}");
        }
    }
}

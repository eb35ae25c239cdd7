//! The logs pipeline: a resolved [`Route`] (carrying the builder's log exporter when that
//! is where logs go) becomes the logger provider the `tracing` log bridge writes to, and
//! the line of the install summary that says where logs go.

use std::sync::Arc;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LogExporter, LoggerProviderBuilder, SdkLoggerProvider,
};

use crate::config::Route;
use crate::error::InitError;
use crate::export::otlp::{self, Transports};
use crate::export::report::{Reporter, ReportingLogExporter};

/// The log exporter given to the builder.
pub(super) struct LogPlug(
    Box<dyn FnOnce(LoggerProviderBuilder, Arc<Reporter>, bool) -> LoggerProviderBuilder + Send>,
);

impl LogPlug {
    pub(super) fn new<E: LogExporter + 'static>(exporter: E) -> Self {
        Self(Box::new(move |b, reporter, disable_batch| {
            b.with_log_processor(batch_processor(exporter, reporter, disable_batch))
        }))
    }
}

/// The logger provider for `route` (`None` when logs are off) and the summary line (where
/// logs go). A reporter is added to `reporters` for the exporter.
pub(super) fn provider(
    route: Route<LogPlug>,
    resource: Resource,
    disable_batch: bool,
    transports: &mut Transports,
    reporters: &mut Vec<Arc<Reporter>>,
) -> Result<(Option<SdkLoggerProvider>, String), InitError> {
    let b = SdkLoggerProvider::builder().with_resource(resource);
    let mut reporter = |target: String| {
        let reporter = Reporter::new("logs", target);
        reporters.push(Arc::clone(&reporter));
        reporter
    };
    Ok(match route {
        Route::Off(why) => (None, format!("off ({why})")),
        Route::Exporter(LogPlug(add)) => {
            let line = "custom exporter".to_owned();
            let b = add(b, reporter(line.clone()), disable_batch);
            (Some(b.build()), line)
        }
        Route::Otlp(route) => {
            let exporter = otlp::log_exporter(&route, transports)?;
            let processor = batch_processor(exporter, reporter(route.describe()), disable_batch);
            (
                Some(b.with_log_processor(processor).build()),
                route.describe(),
            )
        }
    })
}

/// Like spans: exported off the caller's thread; with `disable_batch`, each record as soon
/// as it is emitted.
fn batch_processor<E: LogExporter + 'static>(
    exporter: E,
    reporter: Arc<Reporter>,
    disable_batch: bool,
) -> BatchLogProcessor {
    let mut config = BatchConfigBuilder::default();
    if disable_batch {
        config = config.with_max_export_batch_size(1);
    }
    BatchLogProcessor::builder(ReportingLogExporter {
        inner: exporter,
        reporter,
    })
    .with_batch_config(config.build())
    .build()
}

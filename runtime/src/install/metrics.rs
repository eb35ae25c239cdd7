//! The metrics pipeline: a resolved [`Route`] (carrying the builder's metric exporter when
//! that is where metrics go) becomes the meter provider (the SDK's periodic reader around
//! our OTLP exporter or the builder's, each export counted), with the token-usage buckets
//! ([`TOKEN_USAGE_BOUNDARIES`]), the line of the install summary that says where metrics go,
//! and the metrics ledger.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, InstrumentKind, MeterProviderBuilder, PeriodicReader,
    SdkMeterProvider, Stream,
};

use super::Built;
use crate::config::Route;
use crate::config::delivery::TemporalityPreference;
use crate::error::InitError;
use crate::export::console::ConsoleMetricExporter;
use crate::export::ledger::Ledger;
use crate::export::metrics::{self, CountedMetricExporter};
use crate::export::otlp::Transports;

/// Bucket boundaries of `gen_ai.client.token.usage` (OTel GenAI semantic conventions).
/// `install()` applies them; use them for a meter provider built by hand.
///
/// ```
/// use opentelemetry_sdk::metrics::{Aggregation, Instrument, SdkMeterProvider, Stream};
///
/// let provider = SdkMeterProvider::builder()
///     .with_view(|i: &Instrument| {
///         if i.name() != "gen_ai.client.token.usage" {
///             return None;
///         }
///         Stream::builder()
///             .with_aggregation(Aggregation::ExplicitBucketHistogram {
///                 boundaries: llmetry::TOKEN_USAGE_BOUNDARIES.to_vec(),
///                 record_min_max: true,
///             })
///             .build()
///             .ok()
///     })
///     .build();
/// assert_eq!(llmetry::TOKEN_USAGE_BOUNDARIES[..3], [1.0, 4.0, 16.0]); // powers of 4
/// # drop(provider);
/// ```
pub const TOKEN_USAGE_BOUNDARIES: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// Bucket boundaries the GenAI conventions (v1.41.1) advise for the client duration
/// histograms (`gen_ai.client.operation.duration`,
/// `gen_ai.client.operation.time_to_first_chunk`, `…time_per_output_chunk`): 10 ms doubling
/// up to about 82 s. `llmetry-instruments` advises them on its instruments when the process
/// opted in to the latest conventions; by default, as in Python, those histograms keep the
/// SDK default buckets.
///
/// ```
/// use opentelemetry::metrics::MeterProvider as _;
/// use opentelemetry_sdk::metrics::SdkMeterProvider;
///
/// let provider = SdkMeterProvider::builder().build();
/// let latency = provider
///     .meter("my_llm_client")
///     .f64_histogram("gen_ai.client.operation.duration")
///     .with_unit("s")
///     .with_boundaries(llmetry::DURATION_BOUNDARIES.to_vec())
///     .build();
/// latency.record(0.42, &[]);
/// assert!(llmetry::DURATION_BOUNDARIES.windows(2).all(|w| w[1] == 2.0 * w[0]));
/// ```
pub const DURATION_BOUNDARIES: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// The metric exporter given to the builder.
pub(super) struct MetricPlug(
    Box<dyn FnOnce(MeterProviderBuilder, Arc<Ledger>, Duration) -> MeterProviderBuilder + Send>,
);

impl MetricPlug {
    pub(super) fn new<E: PushMetricExporter>(exporter: E) -> Self {
        Self(Box::new(move |b, ledger, interval| {
            b.with_reader(periodic_reader(
                CountedMetricExporter {
                    inner: exporter,
                    ledger,
                },
                interval,
            ))
        }))
    }
}

/// The meter provider for `route` (`None` when metrics are off), exporting every
/// `interval`, the summary line (where metrics go) and the metrics ledger.
// Without a transport the OTLP arm is an error and reads neither `temporality` nor
// `transports`.
#[cfg_attr(
    not(any(feature = "grpc", feature = "http-proto", feature = "http-json")),
    allow(unused_variables)
)]
pub(super) fn provider(
    route: Route<MetricPlug>,
    resource: Resource,
    interval: Duration,
    temporality: TemporalityPreference,
    transports: &mut Transports,
) -> Result<Built<Option<SdkMeterProvider>>, InitError> {
    let b = SdkMeterProvider::builder()
        .with_resource(resource.clone())
        .with_view(genai_view);
    Ok(match route {
        Route::Off(why) => Built {
            provider: None,
            line: why,
            ledger: None,
        },
        Route::Console => {
            let line = "the console (stderr)".to_owned();
            let ledger = metrics::ledger(line.clone());
            let exporter = CountedMetricExporter {
                inner: ConsoleMetricExporter::default(),
                ledger: Arc::clone(&ledger),
            };
            Built {
                provider: Some(b.with_reader(periodic_reader(exporter, interval)).build()),
                line,
                ledger: Some(ledger),
            }
        }
        Route::Exporter(MetricPlug(add)) => {
            let line = "custom exporter".to_owned();
            let ledger = metrics::ledger(line.clone());
            let b = add(b, Arc::clone(&ledger), interval);
            Built {
                provider: Some(b.build()),
                line,
                ledger: Some(ledger),
            }
        }
        #[cfg(not(any(feature = "grpc", feature = "http-proto", feature = "http-json")))]
        Route::Otlp(route) => return Err(crate::export::otlp::missing(&route)),
        #[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
        Route::Otlp(route) => {
            let line = route.describe();
            let ledger = metrics::ledger(line.clone());
            let reader = otlp_reader(
                &route,
                Arc::clone(&ledger),
                interval,
                temporality,
                transports,
                &resource,
            )?;
            Built {
                provider: Some(b.with_reader(reader).build()),
                line,
                ledger: Some(ledger),
            }
        }
    })
}

/// The periodic reader exporting over our OTLP transport (one export at a time: the
/// reader waits for each).
#[cfg(any(feature = "grpc", feature = "http-proto", feature = "http-json"))]
fn otlp_reader(
    route: &crate::config::OtlpRoute,
    ledger: Arc<Ledger>,
    interval: Duration,
    temporality: TemporalityPreference,
    transports: &mut Transports,
    resource: &Resource,
) -> Result<PeriodicReader<crate::export::metrics::OtlpMetricExporter>, InitError> {
    let parts = crate::export::otlp::otlp(route, transports, ledger, route.timeout, 1, resource)?;
    let exporter = crate::export::metrics::OtlpMetricExporter {
        sender: parts.sender,
        encoder: parts.encoder,
        temporality: match temporality {
            TemporalityPreference::Cumulative => {
                opentelemetry_sdk::metrics::Temporality::Cumulative
            }
            TemporalityPreference::Delta => opentelemetry_sdk::metrics::Temporality::Delta,
            TemporalityPreference::LowMemory => opentelemetry_sdk::metrics::Temporality::LowMemory,
        },
    };
    Ok(periodic_reader(exporter, interval))
}

fn periodic_reader<E: PushMetricExporter>(exporter: E, interval: Duration) -> PeriodicReader<E> {
    PeriodicReader::builder(exporter)
        .with_interval(interval)
        .build()
}

/// The meter scope of the OpenTelemetry SDK's self-diagnostic metrics.
const SDK_SELF_SCOPE: &str = "otel.sdk";

/// The metric view, as the Python SDK's only GenAI view: the semconv buckets for
/// `gen_ai.client.token.usage`. Every other histogram keeps the SDK default buckets (Python:
/// `gen_ai.client.operation.duration`, `gen_ai.server.time_to_first_token`, …), unless its
/// instrument advises its own (`llmetry-instruments` does, with [`DURATION_BOUNDARIES`], when
/// the process opted in to the latest GenAI conventions).
fn genai_view(i: &Instrument) -> Option<Stream> {
    if i.scope().name() == SDK_SELF_SCOPE {
        // The SDK's own counters (`otel.sdk.log.created`, …, a development semconv), which
        // `experimental_metrics_bound_instruments` (llmetry-instruments records through
        // bound instruments) turns on: not llmetry's data, and Python exports none.
        return Stream::builder()
            .with_aggregation(Aggregation::Drop)
            .build()
            .ok();
    }
    if i.kind() != InstrumentKind::Histogram || i.name() != "gen_ai.client.token.usage" {
        return None;
    }
    Stream::builder()
        .with_aggregation(Aggregation::ExplicitBucketHistogram {
            boundaries: TOKEN_USAGE_BOUNDARIES.to_vec(),
            record_min_max: true,
        })
        .build()
        .ok()
}

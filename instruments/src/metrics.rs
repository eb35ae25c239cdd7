//! The GenAI client metrics, recorded once per call when its span ends.
//!
//! The four instruments are created once per installation: they are cached with the
//! global meter provider they came from and created again only when that provider changes
//! (a new `llmetry::init().install()`). A meter taken before `install()` is a no-op forever,
//! so the cache is keyed on the provider itself, not filled once.

use std::sync::{Arc, PoisonError, RwLock, Weak};

use llmetry::semconv as k;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider};
use opentelemetry::{KeyValue, StringValue};

use crate::model::Usage;

/// Instrumentation scope of the LLM spans and of these metrics (`llmetry_instruments::span::SCOPE`).
pub(crate) const SCOPE: &str = "llmetry.instruments";

/// What one finished call contributes to the metrics (its values moved in, not copied).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) provider: StringValue,
    pub(crate) operation: &'static str,
    pub(crate) request_model: Option<StringValue>,
    pub(crate) response_model: Option<StringValue>,
    pub(crate) server: Option<(StringValue, u16)>,
    pub(crate) stream: bool,
    pub(crate) error_type: Option<StringValue>,
    pub(crate) duration_s: f64,
    pub(crate) time_to_first_token_s: Option<f64>,
    pub(crate) usage: Usage,
    pub(crate) choices: usize,
}

type Provider = dyn MeterProvider + Send + Sync;

/// The instruments of one meter provider.
struct Instruments {
    /// The provider they belong to. Weak: the cache must not keep a replaced provider
    /// alive; the allocation it points at stays reserved, so its address is not reused
    /// while this is cached.
    provider: Weak<Provider>,
    duration: Histogram<f64>,
    tokens: Histogram<u64>,
    ttft: Histogram<f64>,
    choices: Counter<u64>,
}

static CACHE: RwLock<Option<Arc<Instruments>>> = RwLock::new(None);

/// The instruments of the current global meter provider (created on its first call).
fn instruments() -> Arc<Instruments> {
    let provider = opentelemetry::global::meter_provider();
    let current = |i: &Instruments| std::ptr::addr_eq(i.provider.as_ptr(), Arc::as_ptr(&provider));
    if let Some(i) = CACHE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        && current(i)
    {
        return Arc::clone(i);
    }
    let meter = provider.meter(SCOPE);
    let made = Arc::new(Instruments {
        provider: Arc::downgrade(&provider),
        duration: meter
            .f64_histogram(k::GEN_AI_CLIENT_OPERATION_DURATION)
            .with_unit("s")
            .with_description("GenAI operation duration")
            .build(),
        tokens: meter
            .u64_histogram(k::GEN_AI_CLIENT_TOKEN_USAGE)
            .with_unit("token")
            .with_description("Measures number of input and output tokens used")
            .build(),
        ttft: meter
            .f64_histogram(k::GEN_AI_SERVER_TIME_TO_FIRST_TOKEN)
            .with_unit("s")
            .with_description("Time to first token in streaming chat completions")
            .build(),
        choices: meter
            .u64_counter(k::GEN_AI_CLIENT_GENERATION_CHOICES)
            .with_unit("choice")
            .with_description("Number of choices returned by chat completions call")
            .build(),
    });
    *CACHE.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&made));
    made
}

/// Records `gen_ai.client.operation.duration`, `gen_ai.client.token.usage`,
/// `gen_ai.server.time_to_first_token` and `gen_ai.client.generation.choices` (once per call).
pub(crate) fn record(call: Call) {
    let mut attrs = Vec::with_capacity(10);
    attrs.push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, call.provider));
    attrs.push(KeyValue::new(k::GEN_AI_OPERATION_NAME, call.operation));
    attrs.push(KeyValue::new(k::STREAM, call.stream));
    if let Some(m) = call.request_model {
        attrs.push(KeyValue::new(k::GEN_AI_REQUEST_MODEL, m));
    }
    if let Some(m) = call.response_model {
        attrs.push(KeyValue::new(k::GEN_AI_RESPONSE_MODEL, m));
    }
    if let Some((host, port)) = call.server {
        attrs.push(KeyValue::new(k::SERVER_ADDRESS, host));
        attrs.push(KeyValue::new(k::SERVER_PORT, i64::from(port)));
    }
    if let Some(w) = llmetry::current_workflow_name() {
        attrs.push(KeyValue::new(k::TRACELOOP_WORKFLOW_NAME, w));
    }
    if crate::association_properties_on_metrics() {
        attrs.extend(llmetry::current_association_properties());
    }
    let instruments = instruments();
    if let Some(e) = call.error_type {
        // A failed call has a duration and nothing else.
        attrs.push(KeyValue::new(k::ERROR_TYPE, e));
        instruments.duration.record(call.duration_s, &attrs);
        return;
    }
    instruments.duration.record(call.duration_s, &attrs);
    if let Some(t) = call.time_to_first_token_s {
        instruments.ttft.record(t, &attrs);
    }
    if call.choices > 0 {
        instruments.choices.add(call.choices as u64, &attrs);
    }
    // The token type goes last, into the same vector.
    for (kind, n) in [
        ("input", call.usage.input_tokens),
        ("output", call.usage.output_tokens),
    ] {
        if let Some(n) = n
            && n >= 0
        {
            attrs.push(KeyValue::new(k::GEN_AI_TOKEN_TYPE, kind));
            instruments.tokens.record(n as u64, &attrs);
            attrs.pop();
        }
    }
}

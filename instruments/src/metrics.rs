//! The GenAI client metrics, recorded once per call when its span ends.

use opentelemetry::KeyValue;
use opentelemetry::metrics::Meter;

use crate::model::Usage;

/// What one finished call contributes to the metrics.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    pub(crate) provider: &'a str,
    pub(crate) operation: &'static str,
    pub(crate) request_model: Option<&'a str>,
    pub(crate) response_model: Option<&'a str>,
    pub(crate) server: Option<(&'a str, u16)>,
    pub(crate) stream: bool,
    pub(crate) error_type: Option<&'a str>,
    pub(crate) duration_s: f64,
    pub(crate) time_to_first_token_s: Option<f64>,
    pub(crate) usage: Usage,
    pub(crate) choices: usize,
}

fn meter() -> Meter {
    // Looked up per call (not cached): a meter taken before `install()` would stay a no-op.
    opentelemetry::global::meter("llmetry.instruments")
}

/// Records `gen_ai.client.operation.duration`, `gen_ai.client.token.usage`,
/// `gen_ai.server.time_to_first_token` and `gen_ai.client.generation.choices` (once per call).
pub(crate) fn record(call: &Call<'_>) {
    let mut attrs = vec![
        KeyValue::new("gen_ai.provider.name", call.provider.to_owned()),
        KeyValue::new("gen_ai.operation.name", call.operation),
        KeyValue::new("stream", call.stream),
    ];
    if let Some(m) = call.request_model {
        attrs.push(KeyValue::new("gen_ai.request.model", m.to_owned()));
    }
    if let Some(m) = call.response_model {
        attrs.push(KeyValue::new("gen_ai.response.model", m.to_owned()));
    }
    if let Some((host, port)) = call.server {
        attrs.push(KeyValue::new("server.address", host.to_owned()));
        attrs.push(KeyValue::new("server.port", i64::from(port)));
    }
    if let Some(w) = llmetry::current_workflow_name() {
        attrs.push(KeyValue::new("traceloop.workflow.name", w));
    }
    if crate::association_properties_on_metrics() {
        attrs.extend(llmetry::current_association_properties());
    }
    let meter = meter();
    let mut duration_attrs = attrs.clone();
    if let Some(e) = call.error_type {
        duration_attrs.push(KeyValue::new("error.type", e.to_owned()));
    }
    meter
        .f64_histogram("gen_ai.client.operation.duration")
        .with_unit("s")
        .with_description("GenAI operation duration")
        .build()
        .record(call.duration_s, &duration_attrs);
    if call.error_type.is_some() {
        return;
    }
    let tokens = meter
        .u64_histogram("gen_ai.client.token.usage")
        .with_unit("token")
        .with_description("Measures number of input and output tokens used")
        .build();
    for (kind, n) in [
        ("input", call.usage.input_tokens),
        ("output", call.usage.output_tokens),
    ] {
        if let Some(n) = n
            && n >= 0
        {
            let mut a = attrs.clone();
            a.push(KeyValue::new("gen_ai.token.type", kind));
            tokens.record(n as u64, &a);
        }
    }
    if let Some(t) = call.time_to_first_token_s {
        meter
            .f64_histogram("gen_ai.server.time_to_first_token")
            .with_unit("s")
            .with_description("Time to first token in streaming chat completions")
            .build()
            .record(t, &attrs);
    }
    if call.choices > 0 {
        meter
            .u64_counter("gen_ai.client.generation.choices")
            .with_unit("choice")
            .with_description("Number of choices returned by chat completions call")
            .build()
            .add(call.choices as u64, &attrs);
    }
}

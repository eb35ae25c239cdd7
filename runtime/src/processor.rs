//! The enrichment span processor: copies the Traceloop context values onto every span
//! started beneath an entity, whoever starts it.

use std::time::Duration;

use opentelemetry::trace::{Span as _, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::context::EntityContext;
use crate::semconv;

/// Adds `traceloop.workflow.name`, `gen_ai.agent.name`, `gen_ai.conversation.id`,
/// `traceloop.entity.path` and `traceloop.association.properties.*` in `on_start`,
/// reading them from the parent [`Context`]. [`crate::init`] always installs it first;
/// add it yourself to a provider you build by hand.
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(llmetry::EnrichmentProcessor::default())
///     .build();
/// # drop(provider);
/// ```
#[derive(Debug, Default, Clone)]
pub struct EnrichmentProcessor {
    _private: (),
}

impl SpanProcessor for EnrichmentProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        enrich(span, cx);
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// The enrichment itself, also run by the delivery processor `install()` registers (one
/// processor that enriches and exports, so the SDK does not clone each ended span).
pub(crate) fn enrich(span: &mut Span, cx: &Context) {
    let Some(e) = cx.get::<EntityContext>() else {
        return;
    };
    if let Some(w) = e.workflow {
        span.set_attribute(KeyValue::new(semconv::TRACELOOP_WORKFLOW_NAME, w));
    }
    if let Some(a) = e.agent {
        span.set_attribute(KeyValue::new(semconv::GEN_AI_AGENT_NAME, a));
    }
    let parent_span_id = cx.span().span_context().span_id();
    if parent_span_id == e.parent_span_id
        && let Some(owner) = e.owner
    {
        owner.write_owner_attrs(span);
        if crate::state::gen_ai_latest_conventions() {
            crate::entity::write_latest_conventions(owner, span);
        }
    }
    if let Some(p) = e.path_for(parent_span_id) {
        span.set_attribute(KeyValue::new(semconv::TRACELOOP_ENTITY_PATH, p.clone()));
    }
    if let Some(cell) = &e.associations {
        cell.write_to(span);
    }
}

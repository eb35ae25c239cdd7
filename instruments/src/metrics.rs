//! The GenAI client metrics, recorded once per call when its span ends.
//!
//! Two sets, by the process's conventions ([`llmetry::gen_ai_latest_conventions`]):
//!
//! - Traceloop (the default), as the Python instrumentations record them, under each one's
//!   scope: `gen_ai.client.token.usage` (unit `token`), `gen_ai.client.operation.duration`,
//!   `gen_ai.server.time_to_first_token` and `llm.chat_completions.streaming_time_to_generate`
//!   (streams), `gen_ai.client.generation.choices` (OpenAI API and Anthropic; Gemini and
//!   Bedrock record no choices, as their Python instrumentations),
//!   `llm.openai.embeddings.vector_size` (OpenAI API embeddings), and the exception counters
//!   `llm.openai.chat_completions.exceptions`, `llm.openai.embeddings.exceptions`,
//!   `llm.anthropic.completion.exceptions`. No bucket advice: the SDK default buckets, and the
//!   install's view for token usage (as Python's only view).
//! - The current conventions (semconv v1.41.1, opt-in): `gen_ai.client.token.usage` (unit
//!   `{token}`), `gen_ai.client.operation.duration`,
//!   `gen_ai.client.operation.time_to_first_chunk` and
//!   `gen_ai.client.operation.time_per_output_chunk` (streams), with the advised buckets.
//!
//! The instruments are created once per installation, scope and set: they are cached with
//! the global meter provider they came from and created again only when that provider
//! changes (a new `llmetry::init().install()`). A meter taken before `install()` is a no-op
//! forever, so the cache is keyed on the provider itself, not filled once.
//!
//! Points are recorded through instruments bound to the call's attribute set
//! (`experimental_metrics_bound_instruments` of the pinned SDK): a call's ~9 shared
//! attributes are hashed once, with a cheap hasher, to find its [`Points`], instead of the
//! SDK hashing and comparing them with SipHash at every one of the call's 6–8 points. A
//! meter provider that does not implement `bind` (not the OpenTelemetry SDK's) gets no
//! points through this path.

use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};

use llmetry::semconv as k;
use opentelemetry::metrics::{
    BoundCounter, BoundHistogram, Counter, Histogram, Meter, MeterProvider,
};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
use rustc_hash::FxHashMap;

use crate::model::{Api, Family, Usage};

/// Version of the instrumentation scopes (this crate's version).
pub(crate) const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What one finished call contributes to the metrics (its values moved in, not copied).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) api: Api,
    pub(crate) latest: bool,
    pub(crate) provider: StringValue,
    pub(crate) request_model: Option<StringValue>,
    pub(crate) response_model: Option<StringValue>,
    pub(crate) server: Option<(StringValue, u16)>,
    pub(crate) stream: bool,
    pub(crate) error_type: Option<StringValue>,
    pub(crate) duration_s: f64,
    /// Streams: seconds from the request to the first chunk.
    pub(crate) first_chunk_s: Option<f64>,
    /// Completed streams: seconds from the first chunk to the end.
    pub(crate) generate_s: Option<f64>,
    /// Opt-in mode, streams: seconds between consecutive chunks.
    pub(crate) chunk_gaps_s: Vec<f32>,
    pub(crate) usage: Usage,
    pub(crate) choices: usize,
    /// The finish reason of each choice that has one (mapped).
    pub(crate) finish_reasons: Vec<StringValue>,
    /// Embeddings: the length of the first vector.
    pub(crate) vector_size: Option<usize>,
    /// `gen_ai.usage.cost` of the call (USD), when its model has a price.
    pub(crate) cost: Option<f64>,
}

/// The Traceloop instruments of one scope (those its Python instrumentation records).
struct Traceloop {
    duration: Histogram<f64>,
    tokens: Histogram<u64>,
    ttft: Histogram<f64>,
    generate: Histogram<f64>,
    choices: Option<Counter<u64>>,
    vector_size: Option<Counter<u64>>,
    /// Chat (OpenAI API) or completion (Anthropic) exceptions.
    exceptions: Option<Counter<u64>>,
    embeddings_exceptions: Option<Counter<u64>>,
    cost: Histogram<f64>,
}

/// The instruments of the current conventions (semconv v1.41.1).
struct Latest {
    duration: Histogram<f64>,
    tokens: Histogram<u64>,
    ttfc: Histogram<f64>,
    tpoc: Histogram<f64>,
    cost: Histogram<f64>,
}

enum Set {
    Traceloop(Traceloop, Shapes),
    Latest(Latest, Shapes),
}

/// Most call shapes (attribute sets) whose bound instruments are kept per scope and set;
/// calls of further shapes are recorded through instruments bound for that call only
/// (correct, about as costly as unbound recording).
const MAX_SHAPES: usize = 512;

/// The bound instruments of each call shape seen, keyed by the call's shared attributes
/// (`shared_attributes` plus `error.type`).
#[derive(Default)]
struct Shapes(RwLock<FxHashMap<Vec<KeyValue>, Arc<Points>>>);

impl Shapes {
    /// The points of `attrs`: cached, or bound for this call only when the cache is full.
    fn points(&self, attrs: Vec<KeyValue>) -> Arc<Points> {
        if let Some(p) = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&attrs)
        {
            return Arc::clone(p);
        }
        let mut shapes = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = shapes.get(&attrs) {
            return Arc::clone(p);
        }
        let points = Arc::new(Points::new(attrs.clone()));
        if shapes.len() < MAX_SHAPES {
            shapes.insert(attrs, Arc::clone(&points));
        }
        points
    }
}

/// The instruments of one call shape, each bound to the shape's attributes (plus the
/// token type or finish reason) the first time a call of that shape records it: the SDK
/// resolves the attribute set once, not at every point. Bound lazily, because a bound
/// instrument exports a point (a zero one, with cumulative temporality) from then on.
struct Points {
    attrs: Vec<KeyValue>,
    duration: OnceLock<BoundHistogram<f64>>,
    /// Traceloop: time to first token; latest: time to first chunk.
    first: OnceLock<BoundHistogram<f64>>,
    /// Traceloop: time to generate; latest: time per output chunk.
    rest: OnceLock<BoundHistogram<f64>>,
    input_tokens: OnceLock<BoundHistogram<u64>>,
    output_tokens: OnceLock<BoundHistogram<u64>>,
    cost: OnceLock<BoundHistogram<f64>>,
    vector_size: OnceLock<BoundCounter<u64>>,
    exceptions: OnceLock<BoundCounter<u64>>,
    choices: OnceLock<BoundCounter<u64>>,
    /// `gen_ai.client.generation.choices` per finish reason (few: a model has a handful).
    choices_by_reason: RwLock<Vec<(StringValue, BoundCounter<u64>)>>,
}

/// Most finish reasons bound per shape; points of further reasons are recorded unbound.
const MAX_REASONS: usize = 16;

impl Points {
    fn new(attrs: Vec<KeyValue>) -> Self {
        Points {
            attrs,
            duration: OnceLock::new(),
            first: OnceLock::new(),
            rest: OnceLock::new(),
            input_tokens: OnceLock::new(),
            output_tokens: OnceLock::new(),
            cost: OnceLock::new(),
            vector_size: OnceLock::new(),
            exceptions: OnceLock::new(),
            choices: OnceLock::new(),
            choices_by_reason: RwLock::new(Vec::new()),
        }
    }

    fn record<T>(
        slot: &OnceLock<BoundHistogram<T>>,
        bind: impl FnOnce() -> BoundHistogram<T>,
        value: T,
    ) {
        slot.get_or_init(bind).record(value);
    }

    fn add(
        slot: &OnceLock<BoundCounter<u64>>,
        bind: impl FnOnce() -> BoundCounter<u64>,
        value: u64,
    ) {
        slot.get_or_init(bind).add(value);
    }

    /// The shape's attributes plus one.
    fn with(&self, key: &'static str, value: impl Into<opentelemetry::Value>) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(self.attrs.len() + 1);
        attrs.extend_from_slice(&self.attrs);
        attrs.push(KeyValue::new(key, value));
        attrs
    }

    fn tokens(&self, h: &Histogram<u64>, kind: &'static str, n: u64) {
        let slot = if kind == "input" {
            &self.input_tokens
        } else {
            &self.output_tokens
        };
        Self::record(slot, || h.bind(&self.with(k::GEN_AI_TOKEN_TYPE, kind)), n);
    }

    /// One `gen_ai.client.generation.choices` point with a finish reason.
    fn choices_with_reason(&self, c: &Counter<u64>, reason: StringValue, n: u64) {
        {
            let bound = self
                .choices_by_reason
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((_, b)) = bound.iter().find(|(r, _)| *r == reason) {
                b.add(n);
                return;
            }
        }
        let attrs = self.with(k::GEN_AI_RESPONSE_FINISH_REASON, reason.clone());
        let mut bound = self
            .choices_by_reason
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, b)) = bound.iter().find(|(r, _)| *r == reason) {
            b.add(n);
        } else if bound.len() < MAX_REASONS {
            let b = c.bind(&attrs);
            b.add(n);
            bound.push((reason, b));
        } else {
            c.add(n, &attrs);
        }
    }
}

type Provider = dyn MeterProvider + Send + Sync;

/// The instruments made from one meter provider, per scope and set (filled lazily).
struct Cached {
    /// The provider they belong to. Weak: the cache must not keep a replaced provider
    /// alive; the allocation it points at stays reserved, so its address is not reused
    /// while this is cached.
    provider: Weak<Provider>,
    sets: [OnceLock<Set>; 10],
}

static CACHE: RwLock<Option<Arc<Cached>>> = RwLock::new(None);

/// The instruments of the current global meter provider (created on its first call).
fn cached() -> Arc<Cached> {
    let provider = opentelemetry::global::meter_provider();
    let current = |c: &Cached| std::ptr::addr_eq(c.provider.as_ptr(), Arc::as_ptr(&provider));
    if let Some(c) = CACHE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        && current(c)
    {
        return Arc::clone(c);
    }
    let mut slot = CACHE.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(c) = slot.as_ref()
        && current(c)
    {
        return Arc::clone(c);
    }
    let made = Arc::new(Cached {
        provider: Arc::downgrade(&provider),
        sets: Default::default(),
    });
    *slot = Some(Arc::clone(&made));
    made
}

fn meter(family: Family) -> Meter {
    let scope = InstrumentationScope::builder(family.scope_name())
        .with_version(SCOPE_VERSION)
        .build();
    opentelemetry::global::meter_provider().meter_with_scope(scope)
}

fn traceloop(family: Family) -> Traceloop {
    let meter = meter(family);
    let counter = |name: &'static str, unit: &'static str, description: &'static str| {
        meter
            .u64_counter(name)
            .with_unit(unit)
            .with_description(description)
            .build()
    };
    let (ttft_description, generate_description) = match family {
        Family::Ollama => (
            "Time to first token in streaming chat completions",
            "Time from first token to completion in streaming responses",
        ),
        _ => (
            "Time to first token in streaming chat completions",
            "Time between first token and completion in streaming chat completions",
        ),
    };
    Traceloop {
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
            .with_description(ttft_description)
            .build(),
        generate: meter
            .f64_histogram(k::LLM_CHAT_COMPLETIONS_STREAMING_TIME_TO_GENERATE)
            .with_unit("s")
            .with_description(generate_description)
            .build(),
        choices: matches!(family, Family::OpenAi | Family::Anthropic).then(|| {
            counter(
                k::GEN_AI_CLIENT_GENERATION_CHOICES,
                "choice",
                "Number of choices returned by chat completions call",
            )
        }),
        vector_size: (family == Family::OpenAi).then(|| {
            // The description's missing "T" is in Python's source and output.
            counter(
                k::LLM_OPENAI_EMBEDDINGS_VECTOR_SIZE,
                "element",
                "he size of returned vector",
            )
        }),
        exceptions: match family {
            Family::OpenAi => Some(counter(
                k::LLM_OPENAI_CHAT_COMPLETIONS_EXCEPTIONS,
                "time",
                "Number of exceptions occurred during chat completions",
            )),
            Family::Anthropic => Some(counter(
                k::LLM_ANTHROPIC_COMPLETION_EXCEPTIONS,
                "time",
                "Number of exceptions occurred during chat completions",
            )),
            Family::Ollama | Family::Gemini | Family::Bedrock => None,
        },
        embeddings_exceptions: (family == Family::OpenAi).then(|| {
            counter(
                k::LLM_OPENAI_EMBEDDINGS_EXCEPTIONS,
                "time",
                "Number of exceptions occurred during embeddings operation",
            )
        }),
        cost: cost_histogram(&meter),
    }
}

/// `gen_ai.usage.cost` (unit `USD`), as OpenLIT names and records it (the GenAI conventions
/// define no cost metric yet), with buckets for per-call costs: OpenLIT leaves the SDK's
/// default buckets (0, 5, 10, … USD), which put every call in the first one.
fn cost_histogram(meter: &Meter) -> Histogram<f64> {
    meter
        .f64_histogram(k::GEN_AI_USAGE_COST)
        .with_unit("USD")
        .with_description(
            "The cost of GenAI calls, from the reported tokens and llmetry's price table.",
        )
        .with_boundaries(llmetry::cost::COST_BOUNDARIES.to_vec())
        .build()
}

fn latest(family: Family) -> Latest {
    let meter = meter(family);
    let seconds = |name: &'static str, description: &'static str| {
        meter
            .f64_histogram(name)
            .with_unit("s")
            .with_description(description)
            .with_boundaries(llmetry::DURATION_BOUNDARIES.to_vec())
            .build()
    };
    Latest {
        duration: seconds(
            k::GEN_AI_CLIENT_OPERATION_DURATION,
            "GenAI operation duration.",
        ),
        tokens: meter
            .u64_histogram(k::GEN_AI_CLIENT_TOKEN_USAGE)
            .with_unit("{token}")
            .with_description("Number of input and output tokens used.")
            .with_boundaries(llmetry::TOKEN_USAGE_BOUNDARIES.to_vec())
            .build(),
        ttfc: seconds(
            k::GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            "Time to receive the first chunk, measured from when the client issues the \
             generation request to when the first chunk is received in the response stream.",
        ),
        tpoc: seconds(
            k::GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
            "Time per output chunk, recorded for each chunk received after the first one, \
             measured as the time elapsed from the end of the previous chunk to the end of \
             the current chunk.",
        ),
        cost: cost_histogram(&meter),
    }
}

/// Records the metrics of one finished call (see the module docs for which).
pub(crate) fn record(call: Call) {
    let family = call.api.family();
    let cached = cached();
    let slot = family.index() * 2 + usize::from(call.latest);
    let Some(set) = cached.sets.get(slot) else {
        return;
    };
    match set.get_or_init(|| {
        if call.latest {
            Set::Latest(latest(family), Shapes::default())
        } else {
            Set::Traceloop(traceloop(family), Shapes::default())
        }
    }) {
        Set::Traceloop(i, shapes) => record_traceloop(i, shapes, family, call),
        Set::Latest(i, shapes) => record_latest(i, shapes, call),
    }
}

/// The attributes every point of a call shares (the token type, finish reason and error
/// type go last, into the same vector).
fn shared_attributes(call: &mut Call, traceloop: bool, family: Family) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(12);
    attrs.push(KeyValue::new(
        k::GEN_AI_PROVIDER_NAME,
        call.provider.clone(),
    ));
    attrs.push(KeyValue::new(
        k::GEN_AI_OPERATION_NAME,
        call.api.operation(),
    ));
    if traceloop {
        attrs.push(KeyValue::new(k::STREAM, call.stream));
        if family == Family::Ollama {
            attrs.push(KeyValue::new(k::GEN_AI_SYSTEM, "Ollama"));
        }
    }
    if let Some(m) = call.request_model.take() {
        attrs.push(KeyValue::new(k::GEN_AI_REQUEST_MODEL, m));
    }
    if let Some(m) = call.response_model.take() {
        attrs.push(KeyValue::new(k::GEN_AI_RESPONSE_MODEL, m));
    }
    if let Some((host, port)) = call.server.take() {
        attrs.push(KeyValue::new(k::SERVER_ADDRESS, host));
        attrs.push(KeyValue::new(k::SERVER_PORT, i64::from(port)));
    }
    if let Some(w) = llmetry::current_workflow_name() {
        attrs.push(KeyValue::new(k::TRACELOOP_WORKFLOW_NAME, w));
    }
    if crate::association_properties_on_metrics() {
        attrs.extend(llmetry::current_association_properties());
    }
    attrs
}

fn record_traceloop(i: &Traceloop, shapes: &Shapes, family: Family, mut call: Call) {
    let mut attrs = shared_attributes(&mut call, true, family);
    let failed = call.error_type.is_some();
    if let Some(e) = call.error_type.take() {
        attrs.push(KeyValue::new(k::ERROR_TYPE, e));
    }
    let p = shapes.points(attrs);
    let bind_h = |h: &Histogram<f64>| h.bind(&p.attrs);
    let bind_c = |c: &Counter<u64>| c.bind(&p.attrs);
    Points::record(&p.duration, || bind_h(&i.duration), call.duration_s);
    if failed {
        // A failed call has a duration and an exception count, nothing else.
        let exceptions = match call.api {
            Api::OpenAiEmbeddings => i.embeddings_exceptions.as_ref(),
            Api::OpenAiChat | Api::AnthropicMessages => i.exceptions.as_ref(),
            _ => None,
        };
        if let Some(c) = exceptions {
            Points::add(&p.exceptions, || bind_c(c), 1);
        }
        if let Some(usd) = call.cost {
            Points::record(&p.cost, || bind_h(&i.cost), usd);
        }
        return;
    }
    if let Some(t) = call.first_chunk_s {
        Points::record(&p.first, || bind_h(&i.ttft), t);
    }
    if let Some(t) = call.generate_s {
        Points::record(&p.rest, || bind_h(&i.generate), t);
    }
    if let (Some(c), Some(n)) = (i.vector_size.as_ref(), call.vector_size)
        && call.api == Api::OpenAiEmbeddings
    {
        Points::add(&p.vector_size, || bind_c(c), n as u64);
    }
    if let Some(c) = i.choices.as_ref()
        && call.choices > 0
    {
        let choices = call.choices as u64;
        if family == Family::Anthropic {
            // One point: the content blocks, with the message's finish reason.
            let reason = call
                .finish_reasons
                .first()
                .cloned()
                .unwrap_or_else(|| StringValue::from(""));
            p.choices_with_reason(c, reason, choices);
        } else {
            // As Python: the number of choices, plus 1 per choice with its finish reason
            // (a choice without one adds to the point without a reason again).
            let with_reason = call.finish_reasons.len().min(call.choices);
            Points::add(
                &p.choices,
                || bind_c(c),
                choices + (call.choices - with_reason) as u64,
            );
            for reason in call.finish_reasons.drain(..with_reason) {
                p.choices_with_reason(c, reason, 1);
            }
        }
    }
    // Python's OpenAI streams record only counts above 0; everything else counts from 0.
    let min = i64::from(family == Family::OpenAi && call.stream);
    for (kind, n) in [
        ("input", call.usage.input_tokens),
        ("output", call.usage.output_tokens),
    ] {
        if let Some(n) = n
            && n >= min
        {
            p.tokens(&i.tokens, kind, n as u64);
        }
    }
    if let Some(usd) = call.cost {
        Points::record(&p.cost, || bind_h(&i.cost), usd);
    }
}

fn record_latest(i: &Latest, shapes: &Shapes, mut call: Call) {
    let family = call.api.family();
    let mut attrs = shared_attributes(&mut call, false, family);
    let failed = call.error_type.is_some();
    if let Some(e) = call.error_type.take() {
        attrs.push(KeyValue::new(k::ERROR_TYPE, e));
    }
    let p = shapes.points(attrs);
    let bind_h = |h: &Histogram<f64>| h.bind(&p.attrs);
    Points::record(&p.duration, || bind_h(&i.duration), call.duration_s);
    if failed {
        if let Some(usd) = call.cost {
            Points::record(&p.cost, || bind_h(&i.cost), usd);
        }
        return;
    }
    if let Some(t) = call.first_chunk_s {
        Points::record(&p.first, || bind_h(&i.ttfc), t);
    }
    for gap in &call.chunk_gaps_s {
        Points::record(&p.rest, || bind_h(&i.tpoc), f64::from(*gap));
    }
    for (kind, n) in [
        ("input", call.usage.input_tokens),
        ("output", call.usage.output_tokens),
    ] {
        if let Some(n) = n
            && n >= 0
        {
            p.tokens(&i.tokens, kind, n as u64);
        }
    }
    if let Some(usd) = call.cost {
        Points::record(&p.cost, || bind_h(&i.cost), usd);
    }
}

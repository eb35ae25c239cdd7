//! Process-wide switches read on the hot path of every annotated call.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};

use opentelemetry_sdk::trace::SdkTracerProvider;

const UNINIT: u8 = 0;
const ACTIVE: u8 = 1;
const SILENT: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNINIT);
static TRACE_CONTENT: AtomicBool = AtomicBool::new(true);
static VALUE_LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_VALUE_LENGTH_LIMIT);

/// Default limit, in bytes, of captured input and output values when neither
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` nor `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` is set.
///
/// ```
/// assert_eq!(llmetry::DEFAULT_VALUE_LENGTH_LIMIT, 64 * 1024);
/// // A collector that accepts 1 MiB attribute values:
/// let env = llmetry::EnvSource::from_pairs([("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1048576")]);
/// let builder = llmetry::init().env_source(env);
/// ```
pub const DEFAULT_VALUE_LENGTH_LIMIT: usize = 64 * 1024;

/// `true` once a pipeline is installed and until it shuts down.
///
/// Before `init()` the first call prints one warning for the whole process (unless
/// `TRACELOOP_SUPPRESS_WARNINGS=true`); later calls cost two relaxed loads.
#[inline(always)]
pub(crate) fn is_active() -> bool {
    let s = STATE.load(Ordering::Relaxed);
    if s == ACTIVE {
        return true;
    }
    if s == UNINIT {
        warn_not_initialized();
    }
    false
}

#[cold]
#[inline(never)]
fn warn_not_initialized() {
    if STATE
        .compare_exchange(UNINIT, SILENT, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
    {
        let suppressed = std::env::var("TRACELOOP_SUPPRESS_WARNINGS")
            .map(|v| v.trim().eq_ignore_ascii_case("true"))
            .unwrap_or(false);
        if !suppressed {
            eprintln!(
                "llmetry: warning: annotated functions run untraced: llmetry is not installed \
                 (llmetry::init()...install() has not run, or returned an error); \
                 printed once; TRACELOOP_SUPPRESS_WARNINGS=true hides it"
            );
        }
    }
}

pub(crate) fn activate(trace_content: bool, value_limit: usize) {
    TRACE_CONTENT.store(trace_content, Ordering::Relaxed);
    VALUE_LIMIT.store(value_limit, Ordering::Relaxed);
    STATE.store(ACTIVE, Ordering::Release);
}

/// Telemetry is off on purpose (`enabled(false)`, shut down): annotated functions run
/// untraced and nothing is printed.
pub(crate) fn silence() {
    STATE.store(SILENT, Ordering::Release);
}

pub(crate) fn trace_content_default() -> bool {
    TRACE_CONTENT.load(Ordering::Relaxed)
}

pub(crate) fn value_limit() -> usize {
    VALUE_LIMIT.load(Ordering::Relaxed)
}

static INSTRUMENTS: AtomicU8 = AtomicU8::new(u8::MAX);
static USE_ATTRIBUTES: AtomicBool = AtomicBool::new(true);

fn instrument_bit(i: crate::Instrument) -> u8 {
    match i {
        crate::Instrument::OpenAi => 1,
        crate::Instrument::Anthropic => 2,
        crate::Instrument::Ollama => 4,
        crate::Instrument::Rig => 8,
        crate::Instrument::GoogleGenerativeAi => 16,
        crate::Instrument::VertexAi => 32,
        crate::Instrument::Bedrock => 64,
        crate::Instrument::Mcp => 128,
    }
}

pub(crate) fn set_instruments(enabled: &[crate::Instrument], use_attributes: bool) {
    let mask = enabled.iter().fold(0u8, |m, i| m | instrument_bit(*i));
    INSTRUMENTS.store(mask, Ordering::Relaxed);
    USE_ATTRIBUTES.store(use_attributes, Ordering::Relaxed);
}

/// Whether an LLM integration is on (`instruments` / `block_instruments`). All are on until
/// `install()` says otherwise. Instrumentations check it before opening an LLM span.
///
/// ```rust,standalone_crate
/// use llmetry::{Instrument, instrument_enabled};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// assert!(instrument_enabled(Instrument::Anthropic));
/// let telemetry = llmetry::init()
///     .block_instruments([Instrument::Anthropic])
///     .silence_init_message(true)
/// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///     .install()?;
/// assert!(!instrument_enabled(Instrument::Anthropic));
/// assert!(instrument_enabled(Instrument::OpenAi));
/// # drop(telemetry);
/// # Ok(()) }
/// ```
pub fn instrument_enabled(i: crate::Instrument) -> bool {
    INSTRUMENTS.load(Ordering::Relaxed) & instrument_bit(i) != 0
}

/// Whether prompts and completions go into span attributes (`true`, the default) or log
/// events (`init().use_attributes(false)` / `TRACELOOP_USE_ATTRIBUTES=false`).
///
/// ```
/// if llmetry::use_attributes() {
///     // write gen_ai.input.messages / gen_ai.output.messages on the span
/// } else {
///     // emit gen_ai.{role}.message / gen_ai.choice log events
/// }
/// ```
pub fn use_attributes() -> bool {
    USE_ATTRIBUTES.load(Ordering::Relaxed)
}

static GEN_AI_LATEST: AtomicBool = AtomicBool::new(false);

/// Whether LLM telemetry follows the latest experimental OpenTelemetry GenAI conventions
/// (semantic conventions v1.41.1) instead of the Traceloop ones the Python OpenLLMetry SDK
/// writes: the process opted in with `OTEL_SEMCONV_STABILITY_OPT_IN` containing
/// `gen_ai_latest_experimental`. Off by default.
///
/// In that mode `llmetry-instruments` names LLM spans `{gen_ai.operation.name}
/// {gen_ai.request.model}` (`chat gpt-4o-mini`), writes the current attribute keys instead
/// of the deprecated ones, and records the conventions' client metrics
/// (`gen_ai.client.operation.time_to_first_chunk`, …) with their advised buckets. Every
/// `traceloop.*` attribute is written in both modes.
///
/// ```
/// if llmetry::gen_ai_latest_conventions() {
///     // name the span "chat gpt-4o-mini"
/// } else {
///     // name it "openai.chat", as the Python SDK does
/// }
/// ```
pub fn gen_ai_latest_conventions() -> bool {
    GEN_AI_LATEST.load(Ordering::Relaxed)
}

/// Sets [`gen_ai_latest_conventions`] (what `install()` does from its configuration:
/// `OTEL_SEMCONV_STABILITY_OPT_IN`, `gen_ai_latest_conventions(..)`).
pub(crate) fn set_gen_ai_latest_conventions(on: bool) {
    GEN_AI_LATEST.store(on, Ordering::Relaxed);
}

/// Not public API: switches [`gen_ai_latest_conventions`] for tests that build their
/// pipeline by hand (`install()` sets it from `OTEL_SEMCONV_STABILITY_OPT_IN` and
/// `gen_ai_latest_conventions(..)`). Process-wide: a test that turns it on runs in a process of its own (its own test binary).
#[doc(hidden)]
pub fn __set_gen_ai_latest_conventions(on: bool) {
    set_gen_ai_latest_conventions(on);
}

/// The tracer provider the last `install()` built (and made the global one).
static TRACER_PROVIDER: RwLock<Option<SdkTracerProvider>> = RwLock::new(None);

pub(crate) fn set_tracer_provider(provider: SdkTracerProvider) {
    *TRACER_PROVIDER
        .write()
        .unwrap_or_else(PoisonError::into_inner) = Some(provider);
}

/// The tracer provider `install()` built, `None` before: LLM spans are started from it
/// directly, as entity spans are (the global provider hands out boxed tracers and spans).
pub(crate) fn tracer_provider() -> Option<SdkTracerProvider> {
    TRACER_PROVIDER
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

//! Association properties, conversation id, the content override, and carrying the
//! current context into spawned tasks and threads.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue, Value};

use crate::entity::{Associations, ContentOverride, EntityContext};
use crate::semconv;

/// Something that can run inside a context: a closure (run now) or a future (run when
/// awaited). The marker `M` lets one function accept both; you never name it.
///
/// It is what [`with_association_properties`], [`with_conversation_id`] and
/// [`with_trace_content`] take, so each works for sync and async code alike:
///
/// ```
/// // A closure runs at once and gives its result...
/// let n: usize = llmetry::with_trace_content(false, || 2 + 2);
/// // ...a future is wrapped, and runs in the context when awaited.
/// let fut = llmetry::with_trace_content(false, async { llmetry::trace_content_enabled() });
/// assert!(!futures::executor::block_on(fut));
/// # let _ = n;
/// ```
pub trait InContext<M> {
    /// What running it gives: the closure's result, or a future to await.
    ///
    /// ```
    /// use llmetry::{ClosureMarker, InContext};
    /// fn output_of<S: InContext<ClosureMarker>>(_: &S) -> &'static str {
    ///     std::any::type_name::<S::Output>()
    /// }
    /// assert_eq!(output_of(&|| 42u8), "u8");
    /// ```
    type Output;
    /// Runs `self` with `cx` as the current context.
    ///
    /// ```
    /// use llmetry::InContext as _;
    /// use opentelemetry::{Context, KeyValue};
    /// use opentelemetry::baggage::BaggageExt as _;
    ///
    /// let cx = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
    /// let tenant = (|| Context::current().baggage().get("tenant").map(|v| v.to_string())).run_in(cx);
    /// assert_eq!(tenant.as_deref(), Some("acme"));
    /// ```
    fn run_in(self, cx: Context) -> Self::Output;
}

/// Marker for closures in [`InContext`]: inferred, never written at a call site.
///
/// ```
/// use llmetry::{ClosureMarker, InContext};
/// fn run_now<S: InContext<ClosureMarker>>(s: S) -> S::Output {
///     s.run_in(opentelemetry::Context::current())
/// }
/// assert_eq!(run_now(|| "ran"), "ran");
/// ```
#[derive(Debug)]
pub enum ClosureMarker {}
/// Marker for futures in [`InContext`]: inferred, never written at a call site.
///
/// ```
/// use llmetry::{FutureMarker, InContext};
/// fn later<S: InContext<FutureMarker>>(s: S) -> S::Output {
///     s.run_in(opentelemetry::Context::current())
/// }
/// assert_eq!(futures::executor::block_on(later(async { 7 })), 7);
/// ```
#[derive(Debug)]
pub enum FutureMarker {}

impl<F: FnOnce() -> R, R> InContext<ClosureMarker> for F {
    type Output = R;
    fn run_in(self, cx: Context) -> R {
        let _guard = cx.attach();
        self()
    }
}

impl<F: Future> InContext<FutureMarker> for F {
    type Output = opentelemetry::context::WithContext<F>;
    fn run_in(self, cx: Context) -> Self::Output {
        self.with_context(cx)
    }
}

/// `traceloop.association.properties.<k>` attributes whose keys and values are cheap to
/// clone (they are copied onto every span started in the scope).
fn to_props<I, K, V>(props: I) -> Vec<KeyValue>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<Cow<'static, str>>,
    V: Into<Value>,
{
    props
        .into_iter()
        .map(|(k, v)| {
            let key: Arc<str> = Arc::from(format!(
                "{}.{}",
                semconv::TRACELOOP_ASSOCIATION_PROPERTIES,
                k.into()
            ));
            let value = match v.into() {
                Value::String(s) => Value::String(Arc::<str>::from(s.as_str()).into()),
                other => other,
            };
            KeyValue::new(key, value)
        })
        .collect()
}

fn stamp(cx: &Context, attrs: &[KeyValue]) {
    let span = cx.span();
    for kv in attrs {
        span.set_attribute(kv.clone());
    }
}

/// Stamps the current span and the workflow span owning the association scope (once when
/// they are the same span: the SDK keeps duplicate keys).
fn stamp_current_and_owner(cx: &Context, owner: Option<&Context>, attrs: &[KeyValue]) {
    stamp(cx, attrs);
    if let Some(owner) = owner
        && owner.span().span_context().span_id() != cx.span().span_context().span_id()
    {
        stamp(owner, attrs);
    }
}

static OUTSIDE_WARNED: AtomicBool = AtomicBool::new(false);

fn warn_outside(what: &str) {
    if !OUTSIDE_WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "llmetry: warning: {what} called outside any workflow, task, agent or tool; ignored \
             (use the scoped with_* variant to set it for a block; printed once)"
        );
    }
}

/// Sets association properties for the rest of the current workflow: the workflow span
/// and the current span are stamped at once, and every span started afterwards inside the
/// workflow (by anyone: our macros, `tracing`, the OpenTelemetry API, LLM instruments)
/// gets `traceloop.association.properties.<key>`. Keys set earlier keep their value unless
/// set again. Nothing leaks to the caller once the workflow returns.
///
/// Outside any entity this does nothing and warns once; use
/// [`with_association_properties`] to scope properties to a block instead.
///
/// ```
/// use llmetry::workflow;
///
/// #[workflow(name = "rca_workflow")]
/// fn rca(incident_id: &str) {
///     llmetry::set_association_properties([("incident_id", incident_id.to_owned()), ("user_id", "u-42".into())]);
///     // ... every span started from here on carries both properties
/// }
/// rca("INC-1001");
/// ```
pub fn set_association_properties<I, K, V>(props: I)
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<Cow<'static, str>>,
    V: Into<Value>,
{
    let cx = Context::current();
    let Some(cell) = cx
        .get::<EntityContext>()
        .and_then(|e| e.associations.as_ref())
    else {
        warn_outside("set_association_properties");
        return;
    };
    let attrs = to_props(props);
    let owner = cell.merge(&attrs);
    stamp_current_and_owner(&cx, owner.as_ref(), &attrs);
}

/// Runs `f` (a closure, or a future to await) with extra association properties: every
/// span started inside gets them; nothing outside does.
///
/// ```
/// # async fn handle() {}
/// # async fn demo() {
/// let answer = llmetry::with_association_properties([("user_id", "u-42")], || 40 + 2);
/// assert_eq!(answer, 42);
/// llmetry::with_association_properties([("session_id", "s-1")], handle()).await;
/// # }
/// ```
pub fn with_association_properties<I, K, V, M, S>(props: I, scoped: S) -> S::Output
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<Cow<'static, str>>,
    V: Into<Value>,
    S: InContext<M>,
{
    let cx = Context::current();
    let mut ectx = cx.get::<EntityContext>().cloned().unwrap_or_default();
    let cell = Associations::inheriting(ectx.associations.as_deref());
    cell.merge(&to_props(props));
    ectx.associations = Some(Arc::new(cell));
    ectx.own_path = ectx.child_path.clone();
    ectx.parent_span_id = opentelemetry::trace::SpanId::INVALID;
    ectx.owner = None;
    let cx = cx.with_value(ectx);
    scoped.run_in(cx)
}

/// Sets `gen_ai.conversation.id` for the rest of the current workflow (stamping the
/// workflow span and the current span), like [`set_association_properties`].
///
/// ```
/// #[llmetry::workflow]
/// fn chat_turn() {
///     llmetry::set_conversation_id("conv-123");
/// }
/// chat_turn();
/// ```
pub fn set_conversation_id(id: impl Into<String>) {
    let cx = Context::current();
    let Some(cell) = cx
        .get::<EntityContext>()
        .and_then(|e| e.associations.as_ref())
    else {
        warn_outside("set_conversation_id");
        return;
    };
    let id: Arc<str> = Arc::from(id.into());
    let attr = [KeyValue::new(
        semconv::GEN_AI_CONVERSATION_ID,
        Arc::clone(&id),
    )];
    let owner = cell.set_conversation_id(id);
    stamp_current_and_owner(&cx, owner.as_ref(), &attr);
}

/// Runs `f` (a closure, or a future to await) with `gen_ai.conversation.id` set on every
/// span started inside.
///
/// ```
/// let n = llmetry::with_conversation_id("conv-123", || 1);
/// assert_eq!(n, 1);
/// ```
pub fn with_conversation_id<M, S: InContext<M>>(id: impl Into<String>, scoped: S) -> S::Output {
    let cx = Context::current();
    let mut ectx = cx.get::<EntityContext>().cloned().unwrap_or_default();
    let cell = Associations::inheriting(ectx.associations.as_deref());
    cell.set_conversation_id(Arc::from(id.into()));
    ectx.associations = Some(Arc::new(cell));
    ectx.own_path = ectx.child_path.clone();
    ectx.parent_span_id = opentelemetry::trace::SpanId::INVALID;
    ectx.owner = None;
    scoped.run_in(cx.with_value(ectx))
}

/// Runs `f` (a closure, or a future to await) with content capture (entity inputs and
/// outputs, prompts and completions) forced on or off, whatever `TRACELOOP_TRACE_CONTENT`
/// or `trace_content(..)` says.
///
/// ```
/// #[llmetry::task]
/// fn summarize(text: &str) -> usize { text.len() }
///
/// // Record this one call's input and output even where content capture is off.
/// let n = llmetry::with_trace_content(true, || summarize("hello"));
/// assert_eq!(n, 5);
/// ```
pub fn with_trace_content<M, S: InContext<M>>(enabled: bool, scoped: S) -> S::Output {
    scoped.run_in(Context::current_with_value(ContentOverride(enabled)))
}

/// Carries the current context (entity span, workflow name, association properties…)
/// into a future that runs elsewhere, e.g. `tokio::spawn(llmetry::propagate(fut))`.
///
/// ```
/// # async fn work() {}
/// # async fn demo() {
/// let handle = tokio::spawn(llmetry::propagate(work()));
/// # handle.await.ok();
/// # }
/// ```
pub fn propagate<F: Future>(fut: F) -> opentelemetry::context::WithContext<F> {
    fut.with_current_context()
}

/// Carries the current context into a closure that runs on another thread, e.g.
/// `std::thread::spawn(llmetry::propagate_fn(move || work()))`.
///
/// ```
/// let handle = std::thread::spawn(llmetry::propagate_fn(|| 2 + 2));
/// assert_eq!(handle.join().ok(), Some(4));
/// ```
pub fn propagate_fn<F: FnOnce() -> R, R>(f: F) -> impl FnOnce() -> R {
    let cx = Context::current();
    move || {
        let _guard = cx.attach();
        f()
    }
}

/// Whether content (inputs, outputs, prompts, completions) may be recorded here: the
/// innermost [`with_trace_content`] override, else `trace_content(..)` /
/// `TRACELOOP_TRACE_CONTENT`. LLM instruments use the same gate as the macros.
///
/// ```
/// assert!(llmetry::with_trace_content(false, || !llmetry::trace_content_enabled()));
/// ```
pub fn trace_content_enabled() -> bool {
    crate::entity::content_allowed(&Context::current())
}

/// The name of the innermost enclosing workflow, if any (for metric attributes).
///
/// ```
/// #[llmetry::workflow(name = "nightly")]
/// fn nightly() -> Option<&'static str> { llmetry::current_workflow_name() }
/// assert_eq!(llmetry::current_workflow_name(), None);
/// # let _ = nightly;
/// ```
pub fn current_workflow_name() -> Option<&'static str> {
    Context::current()
        .get::<EntityContext>()
        .and_then(|e| e.workflow)
}

/// The association properties in effect here, as `traceloop.association.properties.<k>`
/// attributes (for instruments that opt in to putting them on metrics).
///
/// ```
/// let props = llmetry::with_association_properties([("user_id", "u-1")], llmetry::current_association_properties);
/// assert_eq!(props.len(), 1);
/// ```
pub fn current_association_properties() -> Vec<KeyValue> {
    Context::current()
        .get::<EntityContext>()
        .and_then(|e| e.associations.as_ref())
        .map(|a| a.snapshot().props.as_ref().clone())
        .unwrap_or_default()
}

/// Cuts `s` to the configured attribute value length limit at a UTF-8 boundary
/// (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, default [`crate::DEFAULT_VALUE_LENGTH_LIMIT`]).
///
/// ```
/// let mut s = "x".repeat(100_000);
/// llmetry::truncate_value(&mut s);
/// assert!(s.len() <= llmetry::DEFAULT_VALUE_LENGTH_LIMIT);
/// ```
pub fn truncate_value(s: &mut String) {
    crate::capture::truncate_utf8(s, crate::state::value_limit());
}

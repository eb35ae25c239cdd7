//! The Traceloop context values and their API: what travels in the OpenTelemetry
//! [`Context`] under one typed key ([`EntityContext`]: workflow and agent name, entity path,
//! the owner entity's static attributes, association properties, conversation id), the
//! content override, and the public functions that read, set and scope them or carry them
//! into spawned tasks and threads.
//!
//! The entity span (`entity.rs`) builds these values; the enrichment processor
//! (`processor.rs`) copies them onto every span started beneath. Neither is imported here.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanId, TraceContextExt};
use opentelemetry::{Context, KeyValue, StringValue};

use crate::semconv;
use crate::value::{AttributeText, AttributeValue};

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

/// Where else a backend looks for the user and session ids given as the association
/// properties `user_id` and `session_id`: with a mapping on, those two are also written
/// under the backend's keys, on every span that gets the association properties
/// (`traceloop.association.properties.*` stay as they are). Opt-in, by
/// [`TelemetryBuilder::association_mapping`](crate::TelemetryBuilder::association_mapping)
/// or `LLMETRY_ASSOCIATION_MAPPING` (comma-separated names below); docs/backends.md has
/// what each backend shows.
///
/// ```
/// use llmetry::AssociationMapping;
///
/// let builder = llmetry::init().association_mapping(AssociationMapping::OpenInference);
/// assert_eq!("phoenix".parse(), Ok(AssociationMapping::OpenInference));
/// assert_eq!(AssociationMapping::Langfuse.keys(), ("langfuse.user.id", "langfuse.session.id"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AssociationMapping {
    /// `user.id` and `session.id` (OpenInference, the OpenTelemetry registry): Arize
    /// Phoenix (its Sessions view), MLflow (`mlflow.trace.user`, `mlflow.trace.session`)
    /// and Langfuse read these. Names: `openinference`, `phoenix`, `mlflow`.
    OpenInference,
    /// `langfuse.user.id` and `langfuse.session.id`, Langfuse's own keys. Name: `langfuse`.
    Langfuse,
    /// `langsmith.metadata.user_id` and `langsmith.metadata.session_id`: LangSmith's
    /// metadata, by which it groups runs into threads. Name: `langsmith`.
    LangSmith,
}

impl AssociationMapping {
    /// The attribute keys of the user id and the session id.
    pub fn keys(self) -> (&'static str, &'static str) {
        match self {
            AssociationMapping::OpenInference => (semconv::USER_ID, semconv::SESSION_ID),
            AssociationMapping::Langfuse => {
                (semconv::LANGFUSE_USER_ID, semconv::LANGFUSE_SESSION_ID)
            }
            AssociationMapping::LangSmith => (
                semconv::LANGSMITH_METADATA_USER_ID,
                semconv::LANGSMITH_METADATA_SESSION_ID,
            ),
        }
    }

    fn bit(self) -> u8 {
        match self {
            AssociationMapping::OpenInference => 1,
            AssociationMapping::Langfuse => 2,
            AssociationMapping::LangSmith => 4,
        }
    }

    const ALL: [AssociationMapping; 3] = [
        AssociationMapping::OpenInference,
        AssociationMapping::Langfuse,
        AssociationMapping::LangSmith,
    ];
}

/// A name that is no [`AssociationMapping`]: the `Err` of its `FromStr`.
///
/// ```
/// let err = "jaeger".parse::<llmetry::AssociationMapping>().unwrap_err();
/// assert!(err.to_string().contains("openinference"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown association mapping {0:?}: expected openinference (or phoenix, mlflow), langfuse or langsmith"
)]
pub struct ParseAssociationMappingError(String);

impl std::str::FromStr for AssociationMapping {
    type Err = ParseAssociationMappingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openinference" | "phoenix" | "mlflow" => Ok(AssociationMapping::OpenInference),
            "langfuse" => Ok(AssociationMapping::Langfuse),
            "langsmith" => Ok(AssociationMapping::LangSmith),
            _ => Err(ParseAssociationMappingError(s.to_owned())),
        }
    }
}

/// The mappings switched on at install, one bit each; 0 (the default) costs one relaxed
/// load per `set_association_properties` call and nothing on the span path.
static MAPPINGS: AtomicU8 = AtomicU8::new(0);

/// Switches `mappings` on for the process (at install).
pub(crate) fn set_association_mappings(mappings: &[AssociationMapping]) {
    let bits = mappings.iter().fold(0, |b, m| b | m.bit());
    MAPPINGS.store(bits, Ordering::Relaxed);
}

/// `traceloop.association.properties.<k>` attributes whose keys and values are cheap to
/// clone (they are copied onto every span started in the scope), and, with an
/// [`AssociationMapping`] on, the user and session ids under the backends' keys.
fn to_props<I, K, V>(props: I) -> Vec<KeyValue>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AttributeValue,
{
    let mappings = MAPPINGS.load(Ordering::Relaxed);
    let mut out = Vec::new();
    for (k, v) in props {
        let k = k.as_ref();
        let key: Arc<str> = Arc::from(format!(
            "{}.{}",
            semconv::TRACELOOP_ASSOCIATION_PROPERTIES,
            k
        ));
        let value = v.into_attribute_value();
        if mappings != 0 {
            mapped(mappings, k, &value, &mut out);
        }
        out.push(KeyValue::new(key, value));
    }
    out
}

/// The user or session id `value` (property `property`) under the keys of each mapping in
/// `mappings`, as text (backends compare ids as strings).
#[cold]
fn mapped(mappings: u8, property: &str, value: &opentelemetry::Value, out: &mut Vec<KeyValue>) {
    let pick: fn((&'static str, &'static str)) -> &'static str = match property {
        semconv::ASSOCIATION_USER_ID => |(user, _)| user,
        semconv::ASSOCIATION_SESSION_ID => |(_, session)| session,
        _ => return,
    };
    let text = StringValue::from(value.as_str().into_owned());
    for m in AssociationMapping::ALL {
        if mappings & m.bit() != 0 {
            out.push(KeyValue::new(pick(m.keys()), text.clone()));
        }
    }
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

/// The association scope of the current entity, or a warning (once) that there is none.
fn current_scope(what: &str) -> Option<(Context, Arc<Associations>)> {
    let cx = Context::current();
    let cell = cx
        .get::<EntityContext>()
        .and_then(|e| e.associations.clone());
    match cell {
        Some(cell) => Some((cx, cell)),
        None => {
            warn_outside(what);
            None
        }
    }
}

/// Runs `scoped` in a copy of the current context whose association scope is a child of
/// the current one, changed by `set` (the current scope itself is left alone).
fn run_in_child_scope<M, S: InContext<M>>(set: impl FnOnce(&Associations), scoped: S) -> S::Output {
    let cx = Context::current();
    let mut ectx = cx.get::<EntityContext>().cloned().unwrap_or_default();
    let cell = Associations::inheriting(ectx.associations.as_deref());
    set(&cell);
    ectx.associations = Some(Arc::new(cell));
    // Spans started in the block are not the owner entity's span: they get the child path.
    ectx.own_path = ectx.child_path.clone();
    ectx.parent_span_id = SpanId::INVALID;
    ectx.owner = None;
    scoped.run_in(cx.with_value(ectx))
}

/// Sets association properties for the rest of the current workflow: the workflow span
/// and the current span are stamped at once, and every span started afterwards inside the
/// workflow (by anyone: our macros, `tracing`, the OpenTelemetry API, LLM instruments)
/// gets `traceloop.association.properties.<key>`. Keys set earlier keep their value unless
/// set again. Nothing leaks to the caller once the workflow returns.
///
/// Keys are any `AsRef<str>` (`&str` of any lifetime, `String`, `Cow<str>`); values are
/// anything [`AttributeValue`] takes: borrowed or owned text, integers (kept as integers),
/// floats, bools. An array of pairs needs one value type; for mixed types in one call use
/// [`association_properties!`](crate::association_properties).
///
/// Outside any entity this does nothing and warns once; use
/// [`with_association_properties`] to scope properties to a block instead.
///
/// ```
/// use llmetry::workflow;
///
/// #[workflow(name = "rca_workflow")]
/// fn rca(incident_id: &str, user: String, attempt: u32) {
///     llmetry::set_association_properties([("incident_id", incident_id), ("user_id", "u-42")]);
///     llmetry::set_association_properties([("user_name", &user)]);
///     llmetry::set_association_properties(llmetry::association_properties! {
///         "attempt" => attempt,
///         "user_name" => user,
///     });
///     // ... every span started from here on carries these properties
/// }
/// rca("INC-1001", "ada".to_owned(), 2);
/// ```
pub fn set_association_properties<I, K, V>(props: I)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AttributeValue,
{
    let Some((cx, cell)) = current_scope("set_association_properties") else {
        return;
    };
    let attrs = to_props(props);
    let owner = cell.merge(&attrs);
    stamp_current_and_owner(&cx, owner.as_ref(), &attrs);
}

/// Runs `f` (a closure, or a future to await) with extra association properties: every
/// span started inside gets them; nothing outside does. Keys and values as for
/// [`set_association_properties`].
///
/// ```
/// # async fn handle() {}
/// # async fn demo(user_id: &str, session: String) {
/// let answer = llmetry::with_association_properties([("user_id", user_id)], || 40 + 2);
/// assert_eq!(answer, 42);
/// llmetry::with_association_properties([("session_id", session)], handle()).await;
/// llmetry::with_association_properties(
///     llmetry::association_properties! { "user_id" => user_id, "attempt" => 2 },
///     handle(),
/// )
/// .await;
/// # }
/// ```
pub fn with_association_properties<I, K, V, M, S>(props: I, scoped: S) -> S::Output
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AttributeValue,
    S: InContext<M>,
{
    let props = to_props(props);
    run_in_child_scope(
        |cell| {
            cell.merge(&props);
        },
        scoped,
    )
}

/// Sets `gen_ai.conversation.id` for the rest of the current workflow (stamping the
/// workflow span and the current span), like [`set_association_properties`]. The id is any
/// text [`AttributeText`] takes: `&str` of any lifetime, `String`, `&String`, `Cow<str>`.
///
/// ```
/// #[llmetry::workflow]
/// fn chat_turn(conversation: &str) {
///     llmetry::set_conversation_id(conversation);
/// }
/// chat_turn("conv-123");
/// ```
pub fn set_conversation_id(id: impl AttributeText) {
    let Some((cx, cell)) = current_scope("set_conversation_id") else {
        return;
    };
    let id = id.into_string_value();
    let attr = [KeyValue::new(semconv::GEN_AI_CONVERSATION_ID, id.clone())];
    let owner = cell.set_conversation_id(id);
    stamp_current_and_owner(&cx, owner.as_ref(), &attr);
}

/// Runs `f` (a closure, or a future to await) with `gen_ai.conversation.id` set on every
/// span started inside. The id as for [`set_conversation_id`].
///
/// ```
/// let conversation = String::from("conv-123");
/// let n = llmetry::with_conversation_id(&conversation, || 1);
/// assert_eq!(n, 1);
/// ```
pub fn with_conversation_id<M, S: InContext<M>>(id: impl AttributeText, scoped: S) -> S::Output {
    let id = id.into_string_value();
    run_in_child_scope(
        |cell| {
            cell.set_conversation_id(id);
        },
        scoped,
    )
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
    content_allowed(&Context::current())
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
        .map(|a| {
            let props = a.snapshot().props;
            if MAPPINGS.load(Ordering::Relaxed) == 0 {
                return props.to_vec();
            }
            // Only Traceloop's keys: the mapped copies would repeat them on metric points.
            props
                .iter()
                .filter(|kv| {
                    kv.key
                        .as_str()
                        .starts_with(semconv::TRACELOOP_ASSOCIATION_PROPERTIES)
                })
                .cloned()
                .collect()
        })
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

/// The Traceloop values of the current context (one typed `Context` key).
#[derive(Debug, Clone)]
pub(crate) struct EntityContext {
    pub(crate) workflow: Option<&'static str>,
    pub(crate) agent: Option<&'static str>,
    /// `traceloop.entity.path` of the entity span that owns this context.
    pub(crate) own_path: Option<StringValue>,
    /// `traceloop.entity.path` of every span started beneath it.
    pub(crate) child_path: Option<StringValue>,
    /// The span id current when this context was made: a span started directly with it
    /// as parent context is the owner entity span itself.
    pub(crate) parent_span_id: SpanId,
    /// The owner entity's static description (kind, name, version), whose attributes are
    /// written on the owner span only. A `'static` reference: the context value stays
    /// small to build, move and drop.
    pub(crate) owner: Option<&'static crate::meta::EntityMeta>,
    pub(crate) associations: Option<Arc<Associations>>,
}

impl Default for EntityContext {
    fn default() -> Self {
        Self {
            workflow: None,
            agent: None,
            own_path: None,
            child_path: None,
            parent_span_id: SpanId::INVALID,
            associations: None,
            owner: None,
        }
    }
}

impl EntityContext {
    /// The path a span started with this context as parent gets.
    pub(crate) fn path_for(&self, parent_span_id: SpanId) -> Option<&StringValue> {
        if parent_span_id == self.parent_span_id {
            self.own_path.as_ref()
        } else {
            self.child_path.as_ref()
        }
    }
}

/// Mutable, shared part of the context: association properties and conversation id set
/// while a workflow (or a `with_association_properties` scope) runs.
#[derive(Debug, Default)]
pub(crate) struct Associations {
    state: Mutex<AssociationsState>,
    /// Whether a property or the conversation id is set (written under the lock): the
    /// enrichment of a span started where none is set skips the lock.
    has_values: AtomicBool,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct AssociationsState {
    /// `traceloop.association.properties.<k>` attributes, keys and values cheap to clone.
    /// A slice, not a `Vec`: the empty default shares one static allocation, so a workflow
    /// with no properties allocates nothing for them.
    pub(crate) props: Arc<[KeyValue]>,
    pub(crate) conversation_id: Option<StringValue>,
    /// The owning workflow span's context, stamped by `set_association_properties`.
    /// Cleared when the workflow ends (it would otherwise form an `Arc` cycle).
    owner: Option<Context>,
}

impl Associations {
    pub(crate) fn inheriting(parent: Option<&Associations>) -> Self {
        let state = parent.map(|p| p.snapshot()).unwrap_or_default();
        let has_values = !state.props.is_empty() || state.conversation_id.is_some();
        Self {
            state: Mutex::new(AssociationsState {
                owner: None,
                ..state
            }),
            has_values: AtomicBool::new(has_values),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AssociationsState> {
        // A panic while holding this lock cannot leave the data inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn snapshot(&self) -> AssociationsState {
        let s = self.lock();
        AssociationsState {
            props: Arc::clone(&s.props),
            conversation_id: s.conversation_id.clone(),
            owner: None,
        }
    }

    /// Merges `props` (later keys win) and returns the owner span's context, if any.
    pub(crate) fn merge(&self, props: &[KeyValue]) -> Option<Context> {
        let mut s = self.lock();
        let mut merged: Vec<KeyValue> = s.props.to_vec();
        for kv in props {
            match merged.iter_mut().find(|e| e.key == kv.key) {
                Some(slot) => slot.value = kv.value.clone(),
                None => merged.push(kv.clone()),
            }
        }
        if !merged.is_empty() {
            self.has_values.store(true, Ordering::Release);
        }
        s.props = Arc::from(merged);
        s.owner.clone()
    }

    pub(crate) fn set_conversation_id(&self, id: StringValue) -> Option<Context> {
        let mut s = self.lock();
        s.conversation_id = Some(id);
        self.has_values.store(true, Ordering::Release);
        s.owner.clone()
    }

    /// Writes the conversation id and the properties on `span` (started in this scope).
    pub(crate) fn write_to(&self, span: &mut opentelemetry_sdk::trace::Span) {
        use opentelemetry::trace::Span as _;
        if !self.has_values.load(Ordering::Acquire) {
            return;
        }
        let s = self.lock();
        if let Some(id) = &s.conversation_id {
            span.set_attribute(KeyValue::new(semconv::GEN_AI_CONVERSATION_ID, id.clone()));
        }
        for kv in s.props.iter() {
            span.set_attribute(kv.clone());
        }
    }

    /// The owner entity span's context while it runs (`None` once it has ended).
    pub(crate) fn set_owner(&self, cx: Option<Context>) {
        self.lock().owner = cx;
    }
}

/// A scoped override of the content gate (see [`with_trace_content`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentOverride(pub(crate) bool);

/// Whether inputs, outputs, prompts and completions may be recorded in `cx`.
pub(crate) fn content_allowed(cx: &Context) -> bool {
    match cx.get::<ContentOverride>() {
        Some(ContentOverride(v)) => *v,
        None => crate::state::trace_content_default(),
    }
}

/// A context with the values of `cx` but no span: the parent of a `new_trace` entity.
/// (A context carrying an invalid span would make the parent-based sampler drop the span.)
pub(crate) fn detached(cx: &Context) -> Context {
    use opentelemetry::baggage::BaggageExt as _;
    let mut out = Context::new().with_baggage(
        cx.baggage()
            .iter()
            .map(|(k, (v, _))| KeyValue::new(k.clone(), v.clone())),
    );
    if let Some(o) = cx.get::<ContentOverride>() {
        out = out.with_value(*o);
    }
    out
}

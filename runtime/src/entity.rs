//! The entity span: what `#[workflow]`, `#[task]`, `#[agent]` and `#[tool]` open around a call.
//!
//! Context values (workflow name, agent name, entity path, association properties,
//! conversation id) travel in the OpenTelemetry [`Context`] under one typed key,
//! [`EntityContext`], set as the parent context of the entity span. tracing-opentelemetry
//! activates `parent_cx.with_span(span)` while the span is entered, so the values are seen
//! exactly as long as the entity runs: the caller sees what it saw before once the
//! function returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{self, Poll};

use opentelemetry::trace::{SpanId, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, StringValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::capture::{InputJson, truncate_utf8};
use crate::semconv;

/// The four Traceloop entity kinds: one per attribute macro (`#[workflow]`, `#[task]`,
/// `#[agent]`, `#[tool]`).
///
/// ```
/// use llmetry::EntityKind;
/// let kinds = [EntityKind::Workflow, EntityKind::Task, EntityKind::Agent, EntityKind::Tool];
/// let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
/// assert_eq!(names, ["workflow", "task", "agent", "tool"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A top-level unit of work; names every span beneath it (`traceloop.workflow.name`).
    Workflow,
    /// A step; extends `traceloop.entity.path`.
    Task,
    /// An agent; names every span beneath it (`gen_ai.agent.name`).
    Agent,
    /// A tool an agent calls; extends `traceloop.entity.path`, sets `gen_ai.tool.name`.
    Tool,
}

impl EntityKind {
    /// The `traceloop.span.kind` value, also the suffix of the span name
    /// (`<name>.<kind>`).
    ///
    /// ```
    /// use llmetry::EntityKind;
    /// assert_eq!(EntityKind::Tool.as_str(), "tool");
    /// assert_eq!(format!("grep_logs.{}", EntityKind::Tool.as_str()), "grep_logs.tool");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityKind::Workflow => "workflow",
            EntityKind::Task => "task",
            EntityKind::Agent => "agent",
            EntityKind::Tool => "tool",
        }
    }

    fn extends_path(self) -> bool {
        matches!(self, EntityKind::Task | EntityKind::Tool)
    }
}

/// What the macro knows at compile time about one annotated function.
#[derive(Debug)]
pub struct EntityMeta {
    /// The entity kind.
    pub kind: EntityKind,
    /// The entity name.
    pub name: &'static str,
    /// `version = N` (never `Some(0)`: Python does not write version 0).
    pub version: Option<i64>,
    /// `capture_input = false` turns input capture off for this entity.
    pub capture_input: bool,
    /// `capture_output = false` turns output capture off for this entity.
    pub capture_output: bool,
    /// `new_trace`: start a new trace instead of nesting.
    pub new_trace: bool,
}

/// Mutable, shared part of the context: association properties and conversation id set
/// while a workflow (or a `with_association_properties` scope) runs.
#[derive(Debug, Default)]
pub(crate) struct Associations {
    state: Mutex<AssociationsState>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct AssociationsState {
    /// `traceloop.association.properties.<k>` attributes, keys and values cheap to clone.
    pub(crate) props: Arc<Vec<KeyValue>>,
    pub(crate) conversation_id: Option<Arc<str>>,
    /// The owning workflow span's context, stamped by `set_association_properties`.
    /// Cleared when the workflow ends (it would otherwise form an `Arc` cycle).
    owner: Option<Context>,
}

impl Associations {
    pub(crate) fn inheriting(parent: Option<&Associations>) -> Self {
        let state = parent.map(|p| p.snapshot()).unwrap_or_default();
        Self {
            state: Mutex::new(AssociationsState {
                owner: None,
                ..state
            }),
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
        let mut merged: Vec<KeyValue> = s.props.as_ref().clone();
        for kv in props {
            match merged.iter_mut().find(|e| e.key == kv.key) {
                Some(slot) => slot.value = kv.value.clone(),
                None => merged.push(kv.clone()),
            }
        }
        s.props = Arc::new(merged);
        s.owner.clone()
    }

    pub(crate) fn set_conversation_id(&self, id: Arc<str>) -> Option<Context> {
        let mut s = self.lock();
        s.conversation_id = Some(id);
        s.owner.clone()
    }

    fn set_owner(&self, cx: Option<Context>) {
        self.lock().owner = cx;
    }
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
    /// The owner entity's static attributes (kind, name, version), written on the owner
    /// span only.
    pub(crate) owner: Option<OwnerAttrs>,
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

/// Static attributes of an entity span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnerAttrs {
    pub(crate) kind: EntityKind,
    pub(crate) name: &'static str,
    pub(crate) version: Option<i64>,
}

impl OwnerAttrs {
    pub(crate) fn write(&self, span: &mut opentelemetry_sdk::trace::Span) {
        use opentelemetry::trace::Span as _;
        span.set_attribute(KeyValue::new(
            semconv::TRACELOOP_SPAN_KIND,
            self.kind.as_str(),
        ));
        span.set_attribute(KeyValue::new(semconv::TRACELOOP_ENTITY_NAME, self.name));
        if let Some(v) = self.version {
            span.set_attribute(KeyValue::new(semconv::TRACELOOP_ENTITY_VERSION, v));
        }
        if self.kind == EntityKind::Tool {
            span.set_attribute(KeyValue::new(semconv::GEN_AI_TOOL_NAME, self.name));
        }
    }
}

/// A scoped override of the content gate (see [`crate::with_trace_content`]).
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
fn detached(cx: &Context) -> Context {
    use opentelemetry::baggage::BaggageExt as _;
    let mut out = Context::new().with_baggage(
        cx.baggage()
            .iter()
            .map(|(k, (v, _))| opentelemetry::KeyValue::new(k.clone(), v.clone())),
    );
    if let Some(o) = cx.get::<ContentOverride>() {
        out = out.with_value(*o);
    }
    out
}

/// The open entity span of one call; ends when dropped.
#[derive(Debug)]
pub struct EntityScope {
    inner: Option<ScopeInner>,
}

#[derive(Debug)]
struct ScopeInner {
    span: tracing::Span,
    content: bool,
    capture_output: bool,
    finished: AtomicBool,
    owned_associations: Option<Arc<Associations>>,
}

impl EntityScope {
    /// A scope that records nothing (telemetry not installed, or span filtered out).
    #[inline]
    pub fn inert() -> Self {
        Self { inner: None }
    }

    /// Opens the entity span: builds its parent context (with the entity's context values),
    /// creates the span under it, and records the input when content capture allows it.
    pub fn start(
        meta: &EntityMeta,
        make_span: impl FnOnce() -> tracing::Span,
        input: impl FnOnce(&mut InputJson),
    ) -> Self {
        let current = Context::current();
        let parent_ectx = current.get::<EntityContext>();
        let parent_span_id = if meta.new_trace {
            SpanId::INVALID
        } else {
            current.span().span_context().span_id()
        };

        let mut ectx = parent_ectx.cloned().unwrap_or_default();
        ectx.own_path = ectx.child_path.clone();
        if meta.kind.extends_path() {
            ectx.child_path = Some(match &ectx.child_path {
                Some(p) => {
                    StringValue::from(Arc::<str>::from(format!("{}.{}", p.as_str(), meta.name)))
                }
                None => StringValue::from(meta.name),
            });
        }
        let mut owned = None;
        let owns_scope = match meta.kind {
            EntityKind::Workflow => {
                ectx.workflow = Some(meta.name);
                true
            }
            EntityKind::Agent => {
                ectx.agent = Some(meta.name);
                ectx.associations.is_none()
            }
            EntityKind::Task | EntityKind::Tool => false,
        };
        if owns_scope {
            let cell = Arc::new(Associations::inheriting(ectx.associations.as_deref()));
            owned = Some(Arc::clone(&cell));
            ectx.associations = Some(cell);
        }
        ectx.parent_span_id = parent_span_id;
        ectx.owner = Some(OwnerAttrs {
            kind: meta.kind,
            name: meta.name,
            version: meta.version,
        });

        let content = (meta.capture_input || meta.capture_output) && content_allowed(&current);
        let span = if meta.new_trace {
            // An explicit root: tracing-opentelemetry ignores the current context for it, so
            // hand it the parent context directly.
            let span = make_span();
            if span
                .set_parent(detached(&current).with_value(ectx))
                .is_err()
            {
                return Self::inert();
            }
            span
        } else {
            // A contextual span takes the current OTel context as its parent.
            let _guard = current.with_value(ectx).attach();
            make_span()
        };
        if span.is_disabled() {
            return Self::inert();
        }
        if let Some(cell) = &owned {
            cell.set_owner(Some(span.context()));
        }

        if meta.capture_input && content {
            let mut w = InputJson::new();
            input(&mut w);
            let mut s = w.finish();
            truncate_utf8(&mut s, crate::state::value_limit());
            span.set_attribute(semconv::TRACELOOP_ENTITY_INPUT, s);
        }
        Self {
            inner: Some(ScopeInner {
                span,
                content,
                capture_output: meta.capture_output,
                finished: AtomicBool::new(false),
                owned_associations: owned,
            }),
        }
    }

    /// Enters the span (activating its context) until the guard drops.
    #[inline]
    pub fn enter(&self) -> Option<tracing::span::Entered<'_>> {
        self.inner.as_ref().map(|i| i.span.enter())
    }

    /// Records `traceloop.entity.output` when content capture allows it; `write` appends
    /// the JSON of the value.
    #[inline]
    pub fn record_output(&self, write: impl FnOnce(&mut String)) {
        if let Some(i) = &self.inner {
            i.finished.store(true, Ordering::Relaxed);
            if i.capture_output && i.content {
                let mut s = String::new();
                write(&mut s);
                truncate_utf8(&mut s, crate::state::value_limit());
                i.span.set_attribute(semconv::TRACELOOP_ENTITY_OUTPUT, s);
            }
        }
    }

    /// Marks the span as failed: status ERROR with `message`, `error.type`, and an
    /// `exception` event.
    pub fn record_error(&self, message: String, type_name: &str) {
        if let Some(i) = &self.inner {
            i.finished.store(true, Ordering::Relaxed);
            record_error_on(&i.span, message, type_name);
        }
    }

    /// Marks a stream or iterator entity as run to completion (no output is recorded).
    fn complete(&self) {
        if let Some(i) = &self.inner {
            i.finished.store(true, Ordering::Relaxed);
        }
    }

    /// Records a panic unwinding through the entity (idempotent).
    fn record_panic(&self) {
        if let Some(i) = &self.inner
            && !i.finished.swap(true, Ordering::Relaxed)
        {
            record_error_on(&i.span, "panicked".to_owned(), "panic");
        }
    }
}

fn record_error_on(span: &tracing::Span, message: String, type_name: &str) {
    let type_name = type_name.to_owned();
    span.set_attribute(semconv::ERROR_TYPE, type_name.clone());
    span.add_event(
        semconv::EXCEPTION_EVENT,
        vec![
            KeyValue::new(semconv::EXCEPTION_TYPE, type_name),
            KeyValue::new(semconv::EXCEPTION_MESSAGE, message.clone()),
        ],
    );
    span.set_status(Status::error(message));
}

impl Drop for EntityScope {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.record_panic();
        }
        if let Some(i) = &self.inner
            && let Some(cell) = &i.owned_associations
        {
            cell.set_owner(None);
        }
    }
}

/// Records a panic if dropped while unwinding (used around each poll).
struct PanicGuard<'a>(&'a EntityScope);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.record_panic();
        }
    }
}

pin_project_lite::pin_project! {
    /// Runs an `async` body inside an entity span, entering it on every poll; yields the
    /// body's output together with the scope, so the caller records the output.
    #[must_use = "futures do nothing unless polled"]
    pub struct EntityFuture<F> {
        #[pin]
        inner: F,
        scope: Option<EntityScope>,
    }
}

impl<F> EntityFuture<F> {
    /// Wraps `inner`.
    #[inline]
    pub fn new(inner: F, scope: EntityScope) -> Self {
        Self {
            inner,
            scope: Some(scope),
        }
    }
}

impl<F: Future> Future for EntityFuture<F> {
    type Output = (F::Output, EntityScope);

    fn poll(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = match this.scope.as_ref() {
            Some(scope) => {
                let _enter = scope.enter();
                let _guard = PanicGuard(scope);
                this.inner.poll(cx)
            }
            None => this.inner.poll(cx),
        };
        match polled {
            Poll::Ready(v) => {
                Poll::Ready((v, this.scope.take().unwrap_or_else(EntityScope::inert)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

pin_project_lite::pin_project! {
    /// A stream returned by an annotated function: the entity span stays open until the
    /// stream is exhausted or dropped, and is entered while the stream is polled.
    #[must_use = "streams do nothing unless polled"]
    pub struct EntityStream<S> {
        #[pin]
        inner: S,
        scope: Option<EntityScope>,
    }
}

impl<S> EntityStream<S> {
    /// Wraps `inner`.
    #[inline]
    pub fn new(inner: S, scope: EntityScope) -> Self {
        Self {
            inner,
            scope: Some(scope),
        }
    }
}

impl<S: futures_core::Stream> futures_core::Stream for EntityStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let polled = match this.scope.as_ref() {
            Some(scope) => {
                let _enter = scope.enter();
                let _guard = PanicGuard(scope);
                this.inner.poll_next(cx)
            }
            None => this.inner.poll_next(cx),
        };
        if let Poll::Ready(None) = polled
            && let Some(scope) = this.scope.take()
        {
            scope.complete();
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// An iterator returned by an annotated function: the entity span stays open until the
/// iterator is exhausted or dropped, and is entered while `next` runs.
#[derive(Debug)]
pub struct EntityIter<I> {
    inner: I,
    scope: Option<EntityScope>,
}

impl<I> EntityIter<I> {
    /// Wraps `inner`.
    #[inline]
    pub fn new(inner: I, scope: EntityScope) -> Self {
        Self {
            inner,
            scope: Some(scope),
        }
    }
}

impl<I: Iterator> Iterator for EntityIter<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let item = match self.scope.as_ref() {
            Some(scope) => {
                let _enter = scope.enter();
                let _guard = PanicGuard(scope);
                self.inner.next()
            }
            None => self.inner.next(),
        };
        if item.is_none()
            && let Some(scope) = self.scope.take()
        {
            scope.complete();
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<I: DoubleEndedIterator> DoubleEndedIterator for EntityIter<I> {
    fn next_back(&mut self) -> Option<I::Item> {
        let item = match self.scope.as_ref() {
            Some(scope) => {
                let _enter = scope.enter();
                let _guard = PanicGuard(scope);
                self.inner.next_back()
            }
            None => self.inner.next_back(),
        };
        if item.is_none()
            && let Some(scope) = self.scope.take()
        {
            scope.complete();
        }
        item
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for EntityIter<I> {}

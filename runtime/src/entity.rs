//! The entity span: what `#[workflow]`, `#[task]`, `#[agent]` and `#[tool]` open around a call.
//!
//! Context values (workflow name, agent name, entity path, association properties,
//! conversation id) travel in the OpenTelemetry [`Context`] under one typed key,
//! [`EntityContext`], set as the parent context of the entity span. tracing-opentelemetry
//! activates `parent_cx.with_span(span)` while the span is entered, so the values are seen
//! exactly as long as the entity runs: the caller sees what it saw before once the
//! function returns.
//!
//! With the latest GenAI conventions opted in (`crate::gen_ai_latest_conventions`), a
//! workflow, agent or tool span is renamed `invoke_workflow {name}`, `invoke_agent {name}`,
//! `execute_tool {name}` when it starts ([`write_latest_conventions`], from the enrichment)
//! and a tool also records its arguments and result under the conventions' keys.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{self, Poll};

use opentelemetry::trace::{SpanId, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, StringValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::capture::{InputJson, truncate_utf8, with_scratch};
use crate::context::{Associations, EntityContext, content_allowed, detached};
use crate::meta::{EntityKind, EntityMeta};
use crate::semconv;
use crate::state;
use crate::value::AttributeText;

mod lazy;
pub use lazy::LazyEntityFuture;

/// The open entity span of one call; ends when dropped.
#[derive(Debug)]
pub struct EntityScope {
    span: tracing::Span,
    /// The span's parent context (ours: it carries this entity's `EntityContext`). While
    /// the span is entered, the current context derives from it: how `on_own_span` knows
    /// the current span is this entity's.
    parent_cx: Context,
    /// What the macro knows about the entity (its name is the redaction hook's
    /// [`crate::redact::Content::source`]).
    meta: &'static EntityMeta,
    content: bool,
    /// `traceloop.entity.input`, built when the call starts (the arguments may move into
    /// the body), written on the span when it is first entered.
    input: Option<StringValue>,
    /// A `#[tool]` in the opt-in latest conventions: its input and output also go to
    /// `gen_ai.tool.call.arguments` / `gen_ai.tool.call.result`.
    tool_call: bool,
    /// Set once the outcome is recorded: a later drop during unwinding is not a panic of
    /// this entity. Atomic so that the scope (and the futures holding it) stay `Sync`.
    finished: AtomicBool,
    /// The association scope this entity owns (a workflow, a root agent).
    owned_associations: Option<Arc<Associations>>,
    /// Set once the span's context is registered as the owner of `owned_associations`
    /// (on the first entry). Atomic for the same reason as `finished`.
    owner_registered: AtomicBool,
}

impl EntityScope {
    /// Opens the entity span: builds its parent context (with the entity's context values),
    /// creates the span under it, and builds the input when content capture allows it.
    /// `None` when the span is filtered out: the call then runs untraced.
    pub fn start(
        meta: &'static EntityMeta,
        make_span: impl FnOnce() -> tracing::Span,
        input: impl FnOnce(&mut InputJson),
    ) -> Option<Self> {
        let (cx, owned, content) = entity_context(meta);
        let span = if meta.new_trace {
            // An explicit root: tracing-opentelemetry ignores the current context for it, so
            // hand it the parent context directly.
            let span = make_span();
            span.set_parent(cx.clone()).ok()?;
            span
        } else {
            // A contextual span takes the current OTel context as its parent.
            let _guard = cx.clone().attach();
            make_span()
        };
        if span.is_disabled() {
            return None;
        }
        let input = (meta.capture_input && content)
            .then(|| {
                // Built in the thread's scratch buffer: the one allocation is the span's copy.
                with_scratch(|s| {
                    let mut w = InputJson::in_buffer(std::mem::take(s));
                    input(&mut w);
                    *s = w.finish();
                    // Redacted before truncation: a cut secret is no longer recognisable.
                    if meta.redact
                        && crate::redact::active()
                        && !crate::redact::redact_entity_json(
                            crate::redact::Field::EntityInput,
                            meta.name,
                            s,
                        )
                    {
                        return None;
                    }
                    truncate_utf8(s, crate::state::value_limit());
                    Some(captured_text(s))
                })
            })
            .flatten();
        Some(Self {
            span,
            parent_cx: cx,
            meta,
            content,
            input,
            tool_call: meta.kind == EntityKind::Tool && state::gen_ai_latest_conventions(),
            finished: AtomicBool::new(false),
            owned_associations: owned,
            owner_registered: AtomicBool::new(false),
        })
    }

    /// Runs a sync body inside the span; `record` records its outcome (output or error)
    /// while the span is still entered; `wrap` yields the value to return (a stream or
    /// iterator keeps the scope). Out of line, so that the annotated function's own code,
    /// the path taken before `init()`, stays the plain call.
    #[inline(never)]
    pub fn run<R, O>(
        mut self,
        body: impl FnOnce() -> R,
        record: impl FnOnce(&R, &EntityScope),
        wrap: impl FnOnce(R, EntityScope) -> O,
    ) -> O {
        let input = self.input.take();
        let ret = {
            let _enter = self.enter();
            self.write_input(input);
            let ret = body();
            record(&ret, &self);
            ret
        };
        wrap(ret, self)
    }

    /// Enters the span (activating its context) until the guard drops. The first entry of
    /// an entity that owns an association scope registers the span's context as its owner.
    #[inline]
    pub fn enter(&self) -> tracing::span::Entered<'_> {
        let entered = self.span.enter();
        if let Some(cell) = &self.owned_associations {
            self.register_owner(cell);
        }
        entered
    }

    /// Makes this entity's span the owner of the association scope `cell` (once, while the
    /// span is entered), the span `set_association_properties` stamps. Done at the first
    /// entry rather than at the start: the entered span's context is then the current
    /// one, a thread-local read, where asking the span for it costs a subscriber lookup.
    #[inline(never)]
    fn register_owner(&self, cell: &Associations) {
        if self.owner_registered.swap(true, Ordering::Relaxed) {
            return;
        }
        let current = Context::map_current(|current| {
            (self.is_own_context(current) && current.has_active_span()).then(|| current.clone())
        });
        // Not entered as seen by OpenTelemetry (e.g. the layer does not see this span).
        cell.set_owner(Some(current.unwrap_or_else(|| self.span.context())));
    }

    /// Whether `cx` derives from this entity's parent context: while the span is entered,
    /// the current context does.
    fn is_own_context(&self, cx: &Context) -> bool {
        match (
            cx.get::<EntityContext>(),
            self.parent_cx.get::<EntityContext>(),
        ) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            _ => false,
        }
    }

    /// Records `traceloop.entity.output` when content capture allows it; `write` appends
    /// the JSON of the value.
    #[inline]
    pub fn record_output(&self, write: impl FnOnce(&mut String)) {
        self.finished.store(true, Ordering::Relaxed);
        if self.meta.capture_output && self.content {
            // Built in the thread's scratch buffer: the one allocation is the span's copy.
            let Some(s) = with_scratch(|s| {
                write(s);
                if self.meta.redact
                    && crate::redact::active()
                    && !crate::redact::redact_entity_json(
                        crate::redact::Field::EntityOutput,
                        self.meta.name,
                        s,
                    )
                {
                    return None;
                }
                truncate_utf8(s, crate::state::value_limit());
                Some(captured_text(s))
            }) else {
                return;
            };
            if self.tool_call {
                let result = KeyValue::new(semconv::GEN_AI_TOOL_CALL_RESULT, s.clone());
                self.on_own_span(|span| span.set_attribute(result));
            }
            let kv = KeyValue::new(semconv::TRACELOOP_ENTITY_OUTPUT, s);
            self.on_own_span(|span| span.set_attribute(kv));
        }
    }

    /// Marks the span as failed: status ERROR with `message`, `error.type`, and an
    /// `exception` event. With content capture off where the entity runs, the message is
    /// the error's type (`message` may carry user content); with redaction on, the message
    /// is redacted (and is the type when the hook drops it).
    pub fn record_error(&self, message: String, type_name: &str) {
        self.finished.store(true, Ordering::Relaxed);
        // Content capture allowed where the entity runs (whatever its own capture flags):
        // read from its context, which carries the caller's override, only when needed.
        let message = if !content_allowed(&self.parent_cx) {
            type_name.to_owned()
        } else if self.meta.redact && crate::redact::active() {
            crate::redact::redact_message(self.meta.name, &message)
                .unwrap_or_else(|| type_name.to_owned())
        } else {
            message
        };
        self.on_own_span(|span| record_error_on(span, message, type_name));
    }

    /// Marks a stream or iterator entity as run to completion (no output is recorded).
    fn complete(&self) {
        self.finished.store(true, Ordering::Relaxed);
    }

    /// Records a panic unwinding through the entity (idempotent).
    fn record_panic(&self) {
        if !self.finished.swap(true, Ordering::Relaxed) {
            self.on_own_span(|span| record_error_on(span, "panicked".to_owned(), "panic"));
        }
    }

    /// Writes the input built at the start (called on every entry, with the input on the
    /// first). Inline: the usual call has nothing to write.
    #[inline]
    fn write_input(&self, input: Option<StringValue>) {
        if let Some(s) = input {
            self.write_input_text(s);
        }
    }

    fn write_input_text(&self, s: StringValue) {
        if self.tool_call {
            let args = KeyValue::new(
                semconv::GEN_AI_TOOL_CALL_ARGUMENTS,
                tool_call_arguments(s.as_str()).to_owned(),
            );
            self.on_own_span(|span| span.set_attribute(args));
        }
        let kv = KeyValue::new(semconv::TRACELOOP_ENTITY_INPUT, s);
        self.on_own_span(|span| span.set_attribute(kv));
    }

    /// Applies `f` to this entity's OpenTelemetry span. While the span is entered that span
    /// is in the current context, reached through a thread-local read; otherwise (not
    /// entered, or the OpenTelemetry layer does not see this span) through the tracing
    /// span's extensions, which costs a subscriber lookup. `f` must not run user code: the
    /// current context is borrowed while it runs.
    fn on_own_span(&self, f: impl FnOnce(&opentelemetry::trace::SpanRef<'_>)) {
        let mut f = Some(f);
        Context::map_current(|current| {
            if self.is_own_context(current)
                && current.has_active_span()
                && let Some(f) = f.take()
            {
                f(&current.span());
            }
        });
        if let Some(f) = f {
            let cx = self.span.context();
            f(&cx.span());
        }
    }
}

/// The parent context of the entity's span, the association scope it owns (if any), and
/// whether content may be captured. Not generic: one copy for every annotated function.
fn entity_context(meta: &'static EntityMeta) -> (Context, Option<Arc<Associations>>, bool) {
    // Borrow the current context rather than clone it: only the child is kept.
    Context::map_current(|current| {
        // The content gate is read only for an entity that captures something.
        let content = (meta.capture_input || meta.capture_output) && content_allowed(current);
        let (ectx, owned) = child_context(meta, current);
        let cx = if meta.new_trace {
            detached(current).with_value(ectx)
        } else {
            current.with_value(ectx)
        };
        (cx, owned, content)
    })
}

/// The context values of the entity's span: the parent's values, extended by this entity (its
/// path, its workflow or agent name, its own association scope for a workflow or root
/// agent, its static attributes). Also returns the association scope it owns, if any.
fn child_context(
    meta: &'static EntityMeta,
    current: &Context,
) -> (EntityContext, Option<Arc<Associations>>) {
    let parent_span_id = if meta.new_trace {
        SpanId::INVALID
    } else {
        current.span().span_context().span_id()
    };
    let parent = current.get::<EntityContext>();
    let workflow = parent.and_then(|p| p.workflow);
    let agent = parent.and_then(|p| p.agent);
    let parent_path = parent.and_then(|p| p.child_path.as_ref());
    let parent_associations = parent.and_then(|p| p.associations.as_ref());

    let child_path = if meta.kind.extends_path() {
        Some(match parent_path {
            Some(p) => StringValue::from(Arc::<str>::from(format!("{}.{}", p.as_str(), meta.name))),
            None => StringValue::from(meta.name),
        })
    } else {
        parent_path.cloned()
    };
    let (workflow, agent, owns_scope) = match meta.kind {
        EntityKind::Workflow => (Some(meta.name), agent, true),
        EntityKind::Agent => (workflow, Some(meta.name), parent_associations.is_none()),
        EntityKind::Task | EntityKind::Tool => (workflow, agent, false),
    };
    let (associations, owned) = if owns_scope {
        let cell = Arc::new(Associations::inheriting(parent_associations.map(|a| &**a)));
        (Some(Arc::clone(&cell)), Some(cell))
    } else {
        (parent_associations.cloned(), None)
    };
    let ectx = EntityContext {
        workflow,
        agent,
        own_path: parent_path.cloned(),
        child_path,
        parent_span_id,
        owner: Some(meta),
        associations,
    };
    (ectx, owned)
}

/// The latest conventions' name and attributes of an entity span, written when it starts
/// (opt-in): `invoke_workflow {name}` with `gen_ai.workflow.name`, `invoke_agent {name}`
/// (`gen_ai.agent.name` is written in both modes), `execute_tool {name}` with
/// `gen_ai.tool.type = function`; each with `gen_ai.operation.name`. A task keeps its name.
pub(crate) fn write_latest_conventions(
    owner: &EntityMeta,
    span: &mut opentelemetry_sdk::trace::Span,
) {
    use opentelemetry::trace::Span as _;
    let operation = match owner.kind {
        EntityKind::Workflow => {
            span.set_attribute(KeyValue::new(semconv::GEN_AI_WORKFLOW_NAME, owner.name));
            semconv::OPERATION_INVOKE_WORKFLOW
        }
        EntityKind::Agent => semconv::OPERATION_INVOKE_AGENT,
        EntityKind::Tool => {
            span.set_attribute(KeyValue::new(semconv::GEN_AI_TOOL_TYPE, "function"));
            semconv::OPERATION_EXECUTE_TOOL
        }
        EntityKind::Task => return,
    };
    span.set_attribute(KeyValue::new(semconv::GEN_AI_OPERATION_NAME, operation));
    span.update_name(format!("{operation} {}", owner.name));
}

/// A captured input or output as an attribute value, copied into an `Arc<str>` of its exact
/// length: a captured value's one allocation, its text being built in the thread's reused
/// scratch buffer (`with_scratch`). Not `String` → `Box<str>` (what `KeyValue::new` does
/// with a `String`): that shrinks the buffer with `realloc`, which in glibc always takes the
/// arena's lock, and the export thread, freeing ended spans, takes the same lock. On
/// `task_on`: 11–12 % less CPU per call, a third to half fewer lock waits, −170
/// instructions (BENCHMARKS.md, fourth pass); the scratch buffer, −270 more.
fn captured_text(s: &str) -> StringValue {
    s.into_string_value()
}

/// The arguments object of a tool call: the `kwargs` of Traceloop's
/// `{"args": [], "kwargs": {…}}` input (the whole input if it was truncated).
fn tool_call_arguments(input: &str) -> &str {
    input
        .strip_prefix(r#"{"args": [], "kwargs": "#)
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or(input)
}

fn record_error_on(span: &opentelemetry::trace::SpanRef<'_>, message: String, type_name: &str) {
    let type_name = type_name.to_owned();
    span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, type_name.clone()));
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
        // Never entered (a future dropped before its first poll): the input still belongs
        // on the span.
        if let Some(input) = self.input.take() {
            self.write_input(Some(input));
        }
        if std::thread::panicking() {
            self.record_panic();
        }
        if let Some(cell) = &self.owned_associations {
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
    /// Awaits the body of an annotated `async fn` (or returned future) whose value is
    /// returned as is: untraced when there is no entity span (before `init()`, span
    /// filtered out), else inside the span, which ends when the body completes.
    ///
    /// The traced state (the scope, the body polled inside it) is boxed, so that the
    /// untraced variant, the one taken before `init()`, is the body's own future plus a
    /// tag: the annotated `async fn`'s future is then about the size of the plain one and
    /// costs about as much to move and poll (unboxed, every future carried room for the
    /// scope, and moving it copied that room).
    #[project = EntityFutureProj]
    #[must_use = "futures do nothing unless polled"]
    // pin-project-lite takes no attribute but `#[pin]` on a variant's field.
    #[allow(missing_docs)]
    pub enum EntityFuture<F, R> {
        /// No entity span: the body alone (`inner`).
        Plain {
            #[pin]
            inner: F,
        },
        /// The body inside its entity span (`inner`: body, scope and recorder).
        Traced {
            inner: Pin<Box<TracedFuture<F, R>>>,
        },
    }
}

impl<F, R> EntityFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    /// Wraps `inner` in the scope's span when there is one. (The bound here lets the
    /// compiler type `record`'s argument from `inner`'s output at once, which the capture
    /// ladder in `record` needs.)
    #[inline]
    pub fn new(scope: Option<EntityScope>, inner: F, record: R) -> Self {
        match scope {
            None => Self::Plain { inner },
            Some(scope) => Self::Traced {
                inner: TracedFuture::boxed(scope, inner, record),
            },
        }
    }
}

impl<F, R> Future for EntityFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<F::Output> {
        match self.project() {
            EntityFutureProj::Plain { inner } => inner.poll(cx),
            // The scope drops here, ending the span, once the body is done.
            EntityFutureProj::Traced { inner } => inner.as_mut().poll(cx).map(|(v, _scope)| v),
        }
    }
}

pin_project_lite::pin_project! {
    /// [`EntityFuture`] for a body whose value keeps the scope (a stream or iterator
    /// returned by an `async fn`): gives the value and the scope, if any, to wrap it with.
    #[project = ScopedEntityFutureProj]
    #[must_use = "futures do nothing unless polled"]
    // pin-project-lite takes no attribute but `#[pin]` on a variant's field.
    #[allow(missing_docs)]
    pub enum ScopedEntityFuture<F, R> {
        /// No entity span: the body alone (`inner`).
        Plain {
            #[pin]
            inner: F,
        },
        /// The body inside its entity span (`inner`: body, scope and recorder).
        Traced {
            inner: Pin<Box<TracedFuture<F, R>>>,
        },
    }
}

impl<F, R> ScopedEntityFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    /// As [`EntityFuture::new`].
    #[inline]
    pub fn new(scope: Option<EntityScope>, inner: F, record: R) -> Self {
        match scope {
            None => Self::Plain { inner },
            Some(scope) => Self::Traced {
                inner: TracedFuture::boxed(scope, inner, record),
            },
        }
    }
}

impl<F, R> Future for ScopedEntityFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    type Output = (F::Output, Option<EntityScope>);

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ScopedEntityFutureProj::Plain { inner } => inner.poll(cx).map(|v| (v, None)),
            ScopedEntityFutureProj::Traced { inner } => {
                inner.as_mut().poll(cx).map(|(v, scope)| (v, Some(scope)))
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The traced state of an [`EntityFuture`]: the body, entered in the span on every
    /// poll, the input written on the first, the outcome recorded (`record`) on the last
    /// while the span is still entered; the scope is handed back with the output. Dropped
    /// before completion, the body drops before the scope (the span ends last).
    #[doc(hidden)]
    pub struct TracedFuture<F, R> {
        #[pin]
        inner: F,
        scope: Option<EntityScope>,
        record: Option<R>,
    }
}

impl<F, R> TracedFuture<F, R> {
    /// Out of line: the untraced path stays small.
    #[inline(never)]
    fn boxed(scope: EntityScope, inner: F, record: R) -> Pin<Box<Self>> {
        Box::pin(Self {
            inner,
            scope: Some(scope),
            record: Some(record),
        })
    }
}

impl<F, R> Future for TracedFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    type Output = (F::Output, EntityScope);

    fn poll(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(scope) = this.scope.as_mut() else {
            panic!("an annotated future was polled after it completed");
        };
        let Poll::Ready(v) = poll_in_span(scope, this.inner, this.record, cx) else {
            return Poll::Pending;
        };
        match this.scope.take() {
            Some(scope) => Poll::Ready((v, scope)),
            None => panic!("an annotated future was polled after it completed"),
        }
    }
}

/// One poll of an annotated future's body inside its span: the span entered, the input
/// written on the first poll, the outcome recorded (`record`, taken) when the body is done,
/// while the span is still entered; a panic unwinding through the poll is recorded.
fn poll_in_span<F, R>(
    scope: &mut EntityScope,
    body: Pin<&mut F>,
    record: &mut Option<R>,
    cx: &mut task::Context<'_>,
) -> Poll<F::Output>
where
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    let input = scope.input.take();
    let scope: &EntityScope = scope;
    let _enter = scope.enter();
    let _guard = PanicGuard(scope);
    scope.write_input(input);
    let polled = body.poll(cx);
    if let Poll::Ready(v) = &polled
        && let Some(record) = record.take()
    {
        record(v, scope);
    }
    polled
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
    /// Wraps `inner`; with no scope (telemetry off) it only forwards.
    #[inline]
    pub fn new(inner: S, scope: Option<EntityScope>) -> Self {
        Self { inner, scope }
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
    /// Wraps `inner`; with no scope (telemetry off) it only forwards.
    #[inline]
    pub fn new(inner: I, scope: Option<EntityScope>) -> Self {
        Self { inner, scope }
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

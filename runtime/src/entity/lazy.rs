//! The future an annotated `async fn` whose body awaits returns, once the macro has written
//! it as `fn … -> impl Future`: the body's own future when there is no entity span (before
//! `init()`), else the body run inside the span, which opens at the first poll.
//!
//! Why not the `async fn` itself: its state machine would await the traced future, a second
//! state machine around the body's, costing +84 instructions per call before `init()` where
//! the plain `async fn` costs none. Here, before `init()`, the returned value is the body's
//! future plus a tag.
//!
//! What an `async fn` does, kept: nothing runs before the first poll (the span opens, with
//! its parent taken from the context current there, and the input is captured there), the
//! arguments move into the body and live until it completes.

use std::future::Future;
use std::pin::Pin;
use std::task::{self, Poll};

use super::{EntityScope, poll_in_span};
use crate::capture::InputJson;
use crate::meta::EntityMeta;

pin_project_lite::pin_project! {
    /// What an annotated `async fn` whose body awaits returns (the macro writes the
    /// function as `fn … -> impl Future`): the body's future alone before `init()`, else
    /// [`LazyTraced`], which opens the entity span at the first poll.
    #[project = LazyEntityFutureProj]
    #[must_use = "futures do nothing unless polled"]
    // pin-project-lite takes no attribute but `#[pin]` on a variant's field.
    #[allow(missing_docs)]
    pub enum LazyEntityFuture<A, I, S, M, F, R> {
        /// Telemetry not installed when the function was called: the body alone.
        Plain {
            #[pin]
            inner: F,
        },
        /// The arguments, kept until the first poll, then the body inside its span.
        Traced {
            inner: Pin<Box<LazyTraced<A, I, S, M, F, R>>>,
        },
    }
}

impl<A, I, S, M, F, R> LazyEntityFuture<A, I, S, M, F, R>
where
    I: FnOnce(&A, &mut InputJson),
    S: FnOnce() -> tracing::Span,
    M: FnOnce(A) -> F,
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    /// The call of the annotated function: `args` are its parameters, `input` writes the
    /// recorded ones into `traceloop.entity.input`, `span` makes the tracing span, `body`
    /// makes the body's future from the parameters, `record` records its outcome. Before
    /// `init()` the body's future is made at once (one relaxed load and a branch).
    #[inline]
    pub fn new(meta: &'static EntityMeta, args: A, input: I, span: S, body: M, record: R) -> Self {
        if !crate::state::is_active() {
            return Self::Plain { inner: body(args) };
        }
        Self::Traced {
            inner: LazyTraced::boxed(
                meta,
                Start {
                    args,
                    input,
                    span,
                    body,
                },
                record,
            ),
        }
    }
}

impl<A, I, S, M, F, R> Future for LazyEntityFuture<A, I, S, M, F, R>
where
    I: FnOnce(&A, &mut InputJson),
    S: FnOnce() -> tracing::Span,
    M: FnOnce(A) -> F,
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<F::Output> {
        match self.project() {
            LazyEntityFutureProj::Plain { inner } => inner.poll(cx),
            LazyEntityFutureProj::Traced { inner } => inner.as_mut().poll(cx),
        }
    }
}

/// What the first poll needs to open the span and make the body's future.
struct Start<A, I, S, M> {
    args: A,
    input: I,
    span: S,
    body: M,
}

pin_project_lite::pin_project! {
    /// The traced state of a [`LazyEntityFuture`]. The first poll opens the span (with the
    /// input) and makes the body's future from the arguments; every poll enters the span
    /// (the input written on the first); the last records the outcome while the span is
    /// entered, then ends the span. Dropped before completion, the body drops before the
    /// scope (fields drop in order), so the span ends last.
    #[doc(hidden)]
    pub struct LazyTraced<A, I, S, M, F, R> {
        meta: &'static EntityMeta,
        start: Option<Start<A, I, S, M>>,
        #[pin]
        inner: Option<F>,
        scope: Option<EntityScope>,
        record: Option<R>,
    }
}

impl<A, I, S, M, F, R> LazyTraced<A, I, S, M, F, R> {
    /// Out of line: the path taken before `init()` stays small.
    #[inline(never)]
    fn boxed(meta: &'static EntityMeta, start: Start<A, I, S, M>, record: R) -> Pin<Box<Self>> {
        Box::pin(Self {
            meta,
            start: Some(start),
            inner: None,
            scope: None,
            record: Some(record),
        })
    }
}

impl<A, I, S, M, F, R> Future for LazyTraced<A, I, S, M, F, R>
where
    I: FnOnce(&A, &mut InputJson),
    S: FnOnce() -> tracing::Span,
    M: FnOnce(A) -> F,
    F: Future,
    R: FnOnce(&F::Output, &EntityScope),
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        if let Some(Start {
            args,
            input,
            span,
            body,
        }) = this.start.take()
        {
            // `None` when the span is filtered out: the body then runs untraced.
            *this.scope = EntityScope::start(this.meta, span, |w| input(&args, w));
            this.inner.set(Some(body(args)));
        }
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            panic!("an annotated future was polled after it completed");
        };
        let Some(scope) = this.scope.as_mut() else {
            return inner.poll(cx);
        };
        let polled = poll_in_span(scope, inner, this.record, cx);
        if polled.is_ready() {
            // The body first (what it still holds), then the scope: the span ends last.
            this.inner.set(None);
            *this.scope = None;
        }
        polled
    }
}

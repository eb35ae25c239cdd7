//! Workflows across services: the workflow name, entity path, association properties and
//! conversation id sent with outgoing requests as W3C baggage — only to hosts the app allows
//! — and restored from incoming requests (`ContextLayer`, feature `tower`).
//!
//! **Keys** (the span attributes' names; `llmetry::semconv`):
//! `traceloop.workflow.name`, `traceloop.entity.path`,
//! `traceloop.association.properties.<key>`, `gen_ai.conversation.id`.
//!
//! **Where they go.** Nowhere by default. [`crate::TelemetryBuilder::baggage_hosts`] or
//! `LLMETRY_BAGGAGE_HOSTS=billing.internal,*.svc.cluster.local` names the hosts that may
//! receive them (`*.` matches any subdomain; a host is compared without port, case
//! insensitively). [`inject`] (and `llmetry-instruments`' middlewares, which call it) add
//! them to a request only when its host is allowed; LLM providers and every other host get
//! only `traceparent`. `LLMETRY_BAGGAGE_HOSTS=` (empty) or `baggage_hosts([])` is the
//! opt-out. The global propagator never carries them: they live in llmetry's context, not
//! in OpenTelemetry's `Baggage`, so `BaggagePropagator` sends only what the app put there.
//!
//! **Limits.** Values are percent-encoded (including `%` and `\`, which the SDK's
//! propagator leaves), each capped at 256 bytes (longer ones are not sent), association keys
//! that are not W3C tokens are skipped, and the SDK's own limits apply (64 members, 8192
//! bytes). On the receiving side values are untrusted input: at most 64 distinct workflow
//! names are taken from the network per process (the name is kept for the life of the
//! process), and a workflow the receiving service runs itself takes precedence.
//!
//! ```
//! use std::collections::HashMap;
//! // Nothing is allowed by default: only the trace context goes out.
//! let mut headers: HashMap<String, String> = HashMap::new();
//! llmetry::propagate::inject(&opentelemetry::Context::current(), "https://api.openai.com/v1/chat/completions", &mut headers);
//! assert!(!headers.contains_key("baggage"));
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

use crate::config::env::EnvSource;
use crate::context::{Associations, EntityContext};
use crate::semconv;

/// The environment variable listing the hosts that may receive llmetry's context as
/// baggage.
///
/// ```
/// assert_eq!(llmetry::propagate::BAGGAGE_HOSTS_ENV, "LLMETRY_BAGGAGE_HOSTS");
/// ```
pub const BAGGAGE_HOSTS_ENV: &str = "LLMETRY_BAGGAGE_HOSTS";

/// The longest value sent (bytes, before encoding); longer values are not sent.
const MAX_VALUE: usize = 256;

/// Distinct workflow names taken from the network per process.
const MAX_RECEIVED_WORKFLOWS: usize = 64;

static ALLOWED: RwLock<Option<Arc<Vec<String>>>> = RwLock::new(None);

/// The hosts `install()` allows (the builder's list, else `LLMETRY_BAGGAGE_HOSTS`).
pub(crate) fn resolve_hosts(builder: Option<Vec<String>>, env: &EnvSource) -> Vec<String> {
    let list = match builder {
        Some(l) => l,
        None => env
            .get(BAGGAGE_HOSTS_ENV)
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    };
    list.into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// Puts the allowed hosts in place (called by `install()`).
pub(crate) fn install_hosts(hosts: Vec<String>) {
    *ALLOWED.write().unwrap_or_else(|e| e.into_inner()) =
        (!hosts.is_empty()).then(|| Arc::new(hosts));
}

/// Whether `host` (no port) may receive llmetry's context.
///
/// ```
/// assert!(!llmetry::propagate::host_allowed("api.openai.com"));
/// ```
pub fn host_allowed(host: &str) -> bool {
    let Some(list) = ALLOWED.read().unwrap_or_else(|e| e.into_inner()).clone() else {
        return false;
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    list.iter().any(|allowed| match allowed.strip_prefix("*.") {
        Some(domain) => host.ends_with(&format!(".{domain}")),
        None => *allowed == host,
    })
}

/// The host of `url` (`http://billing.internal:8080/x` → `billing.internal`).
fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok()?.host_str().map(str::to_owned)
}

/// Injects `cx`'s trace context (`traceparent`, `tracestate`) into `headers`, and, when
/// `url`'s host is allowed, llmetry's context values as `baggage` (with any baggage the
/// app set in `cx`).
///
/// ```
/// use std::collections::HashMap;
/// let mut headers: HashMap<String, String> = HashMap::new();
/// llmetry::propagate::inject(&opentelemetry::Context::current(), "http://billing.internal/charge", &mut headers);
/// assert!(!headers.contains_key("baggage")); // no host allowed in this process
/// ```
pub fn inject(cx: &Context, url: &str, headers: &mut dyn Injector) {
    TraceContextPropagator::new().inject_context(cx, headers);
    if host_of(url).is_some_and(|h| host_allowed(&h)) {
        inject_baggage(cx, headers);
    }
}

/// Adds llmetry's context values of `cx` (and the app's own baggage) as the `baggage`
/// header, whatever the destination: for callers that checked [`host_allowed`].
pub fn inject_baggage(cx: &Context, headers: &mut dyn Injector) {
    let entries = entries_of(cx);
    if entries.is_empty() && cx.baggage().is_empty() {
        return;
    }
    let with = cx.with_baggage(
        cx.baggage()
            .iter()
            .map(|(k, (v, _))| KeyValue::new(k.clone(), v.clone()))
            .chain(entries)
            .collect::<Vec<_>>(),
    );
    BaggagePropagator::new().inject_context(&with, headers);
}

/// llmetry's context values in `cx`, as baggage entries (values escaped for W3C).
fn entries_of(cx: &Context) -> Vec<KeyValue> {
    let Some(e) = cx.get::<EntityContext>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |key: String, value: &str| {
        if value.len() <= MAX_VALUE && is_token(&key) {
            out.push(KeyValue::new(key, escape(value)));
        }
    };
    if let Some(w) = e.workflow {
        push(semconv::TRACELOOP_WORKFLOW_NAME.to_owned(), w);
    }
    if let Some(p) = &e.child_path {
        push(semconv::TRACELOOP_ENTITY_PATH.to_owned(), p.as_str());
    }
    if let Some(a) = &e.associations {
        let s = a.snapshot();
        for kv in s.props.iter() {
            push(kv.key.as_str().to_owned(), &kv.value.as_str());
        }
        if let Some(c) = &s.conversation_id {
            push(semconv::GEN_AI_CONVERSATION_ID.to_owned(), c.as_str());
        }
    }
    out
}

/// W3C keys are RFC 7230 tokens.
fn is_token(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `%` and `\` percent-encoded (the SDK's propagator encodes the rest but not these, which
/// W3C requires), so that the receiver's single decode gives the value back.
fn escape(v: &str) -> String {
    v.replace('%', "%25").replace('\\', "%5C")
}

/// The context a received request runs in: its remote trace context (`traceparent`) and
/// llmetry's context values from its `baggage`, so the spans the service starts carry the
/// caller's workflow name, entity path, association properties and conversation id.
///
/// ```
/// use std::collections::HashMap;
/// let headers: HashMap<String, String> = HashMap::from([
///     ("baggage".to_owned(), "traceloop.workflow.name=refunds,traceloop.association.properties.user_id=u-7".to_owned()),
/// ]);
/// let cx = llmetry::propagate::extract(&headers);
/// let _guard = cx.attach();
/// assert_eq!(llmetry::current_workflow_name(), Some("refunds"));
/// ```
pub fn extract(headers: &dyn Extractor) -> Context {
    let cx = TraceContextPropagator::new().extract(headers);
    let cx = BaggagePropagator::new().extract_with_context(&cx, headers);
    let baggage = cx.baggage();
    let get = |k: &str| baggage.get(k).map(|v| v.as_str().to_owned());
    let workflow = get(semconv::TRACELOOP_WORKFLOW_NAME).and_then(|w| intern(&w));
    let path = get(semconv::TRACELOOP_ENTITY_PATH).map(|p| StringValue::from(Arc::<str>::from(p)));
    let prefix = "traceloop.association.properties.";
    let props: Vec<KeyValue> = baggage
        .iter()
        .filter(|(k, _)| k.as_str().starts_with(prefix) && k.as_str().len() > prefix.len())
        .map(|(k, (v, _))| KeyValue::new(k.clone(), v.as_str().to_owned()))
        .collect();
    let conversation = get(semconv::GEN_AI_CONVERSATION_ID);
    if workflow.is_none() && path.is_none() && props.is_empty() && conversation.is_none() {
        return cx;
    }
    let associations = Associations::inheriting(None);
    associations.merge(&props);
    if let Some(c) = conversation {
        associations.set_conversation_id(StringValue::from(c));
    }
    let parent_span_id = cx.span().span_context().span_id();
    let ectx = EntityContext {
        workflow,
        own_path: path.clone(),
        child_path: path,
        parent_span_id,
        associations: Some(Arc::new(associations)),
        ..EntityContext::default()
    };
    cx.with_value(ectx)
}

/// A received workflow name as the `&'static str` entity contexts hold: interned, at most
/// [`MAX_RECEIVED_WORKFLOWS`] distinct names per process (then not restored), so a caller
/// cannot make the process grow without bound.
fn intern(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > MAX_VALUE {
        return None;
    }
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(n) = names.get(name) {
        return Some(n);
    }
    if names.len() >= MAX_RECEIVED_WORKFLOWS {
        return None;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    Some(leaked)
}

#[cfg(feature = "tower")]
pub use layer::{ContextLayer, ContextService};

#[cfg(feature = "tower")]
mod layer {
    //! The tower layer restoring llmetry's context on the receiving side.

    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context as TaskContext, Poll};

    use opentelemetry::Context;
    use opentelemetry::propagation::Extractor;

    /// A tower layer (usable with axum: `Router::layer(ContextLayer)`) that runs each
    /// request's handler in the context [`super::extract`] builds from its headers: the
    /// caller's trace as parent, and its workflow name, entity path, association
    /// properties and conversation id on every span the handler starts.
    ///
    /// ```
    /// let layer = llmetry::propagate::ContextLayer;
    /// # let _ = layer;
    /// ```
    #[derive(Debug, Clone, Copy, Default)]
    pub struct ContextLayer;

    impl<S> tower_layer::Layer<S> for ContextLayer {
        type Service = ContextService<S>;
        fn layer(&self, inner: S) -> Self::Service {
            ContextService { inner }
        }
    }

    /// The service [`ContextLayer`] wraps around the app's.
    #[derive(Debug, Clone)]
    pub struct ContextService<S> {
        inner: S,
    }

    struct Headers<'a>(&'a http::HeaderMap);

    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(http::HeaderName::as_str).collect()
        }
    }

    impl<S, B> tower_service::Service<http::Request<B>> for ContextService<S>
    where
        S: tower_service::Service<http::Request<B>>,
    {
        type Response = S::Response;
        type Error = S::Error;
        type Future = WithContext<S::Future>;

        fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, req: http::Request<B>) -> Self::Future {
            let cx = super::extract(&Headers(req.headers()));
            let inner = {
                let _guard = cx.clone().attach();
                self.inner.call(req)
            };
            WithContext { inner, cx }
        }
    }

    pin_project_lite::pin_project! {
        /// The handler's future, polled with the request's context attached.
        pub struct WithContext<F> {
            #[pin]
            inner: F,
            cx: Context,
        }
    }

    impl<F: Future> Future for WithContext<F> {
        type Output = F::Output;
        fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
            let this = self.project();
            let _guard = this.cx.clone().attach();
            this.inner.poll(task)
        }
    }
}

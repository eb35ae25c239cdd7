//! The tower adapter: a layer for async-openai's `Client::with_http_service` (its `middleware` feature):
//! the same capture as the reqwest-middleware adapter, on async-openai's request path.
//!
//! async-openai hands its HTTP service an [`HttpRequestFactory`] (a cheap, cloneable
//! factory that rebuilds the `reqwest::Request`, so retries can replay it). [`LlmService`]
//! builds the request once to read it, opens the LLM span, and passes the inner service a
//! factory that yields that very request first (with `traceparent`) and rebuilds it, with
//! the same headers, for every retry.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};

use ::tower::{Layer, Service};
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use opentelemetry::context::FutureExt as _;
use reqwest::header::HeaderMap;

use super::{Capture, RespondError, reqwest_error};
use crate::model::{Provider, ProviderError};
use crate::providers;

/// A [`tower::Layer`] that captures the LLM calls of an async-openai
/// `Client` (its `middleware` feature): install the layered service with
/// `Client::with_http_service`.
///
/// Put it outside a retry layer for one span per call (retries included, as the Python
/// instrumentation records them), inside it for one span per attempt.
///
/// ```
/// use async_openai::{Client, config::OpenAIConfig};
/// use async_openai::middleware::{ReqwestService, retry::OpenAIRetryLayer};
///
/// let service = tower::ServiceBuilder::new()
///     .layer(llmetry_instruments::LlmLayer::new())
///     .layer(OpenAIRetryLayer::default())
///     .service(ReqwestService::new(reqwest::Client::new()));
/// let client = Client::with_config(OpenAIConfig::new()).with_http_service(service);
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
pub struct LlmLayer {
    inject_traceparent: bool,
    providers: Arc<[(String, Provider)]>,
}

impl Default for LlmLayer {
    fn default() -> Self {
        Self {
            inject_traceparent: true,
            providers: Arc::new([]),
        }
    }
}

impl LlmLayer {
    /// A layer with W3C `traceparent` injection on.
    ///
    /// ```
    /// let layer = llmetry_instruments::LlmLayer::new();
    /// # drop(layer);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to send the LLM span's W3C `traceparent` (and a non-empty `tracestate`) with each
    /// request, retries included. Default: on, as in Python.
    ///
    /// ```
    /// let layer = llmetry_instruments::LlmLayer::new().inject_traceparent(false);
    /// # drop(layer);
    /// ```
    pub fn inject_traceparent(mut self, on: bool) -> Self {
        self.inject_traceparent = on;
        self
    }

    /// Names the provider behind an OpenAI-compatible base URL the built-in rules cannot
    /// recognise, e.g. `("http://gpu-box:8000", Provider::Vllm)`.
    ///
    /// ```
    /// use llmetry_instruments::{LlmLayer, model::Provider};
    /// let layer = LlmLayer::new().provider("http://gpu-box:8000", Provider::Vllm);
    /// # drop(layer);
    /// ```
    pub fn provider(mut self, base_url: impl Into<String>, provider: Provider) -> Self {
        let mut providers = self.providers.to_vec();
        providers.push((base_url.into(), provider));
        self.providers = providers.into();
        self
    }
}

impl<S> Layer<S> for LlmLayer {
    type Service = LlmService<S>;

    fn layer(&self, inner: S) -> LlmService<S> {
        LlmService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`LlmLayer`]: wraps an async-openai HTTP service (a
/// `tower::Service<HttpRequestFactory, Response = reqwest::Response>`, e.g.
/// `async_openai::middleware::ReqwestService`) and captures the LLM calls going through it.
/// Other requests (files, models, …) pass through untouched.
///
/// Errors are `OpenAIError`s, what `Client::with_http_service` turns every error into; so
/// async-openai's own `OpenAIRetryLayer` may wrap it.
///
/// ```
/// use async_openai::middleware::ReqwestService;
/// use tower::Layer as _;
///
/// let service = llmetry_instruments::LlmLayer::new().layer(ReqwestService::new(reqwest::Client::new()));
/// let client = async_openai::Client::new().with_http_service(service);
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
pub struct LlmService<S> {
    inner: S,
    layer: LlmLayer,
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send + 'static>>;

impl<S> Service<HttpRequestFactory> for LlmService<S>
where
    S: Service<HttpRequestFactory, Response = reqwest::Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<OpenAIError>,
{
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), OpenAIError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, factory: HttpRequestFactory) -> ResponseFuture {
        // The service made ready by `poll_ready` goes into the future; a clone stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let Some(capture) = Capture::start(&request, &layer.providers) else {
                let factory = primed(factory, request, HeaderMap::new());
                return inner.call(factory).await.map_err(Into::into);
            };
            let mut extra = HeaderMap::new();
            if layer.inject_traceparent {
                capture.inject(&mut extra);
                capture.inject_baggage(request.url(), &mut extra);
            }
            let factory = primed(factory, request, extra);
            let cx = capture.context();
            let call = {
                let _guard = cx.clone().attach();
                inner.call(factory)
            };
            let response = match call.with_context(cx).await {
                Ok(r) => r,
                Err(e) => {
                    let e = e.into();
                    capture.fail(&openai_error(&e));
                    return Err(e);
                }
            };
            capture.respond(response).await.map_err(|e| match e {
                RespondError::Body(e) => OpenAIError::Reqwest(e),
                RespondError::Rebuild(e) => OpenAIError::Boxed(Box::new(e)),
            })
        })
    }
}

/// A factory that yields `first` on its first build and rebuilds from `factory` after that,
/// adding `extra` headers to every request.
fn primed(
    factory: HttpRequestFactory,
    first: reqwest::Request,
    extra: HeaderMap,
) -> HttpRequestFactory {
    let first = Arc::new(Mutex::new(Some(first)));
    let extra = Arc::new(extra);
    HttpRequestFactory::new(move || {
        let first = first.lock().unwrap_or_else(PoisonError::into_inner).take();
        let factory = factory.clone();
        let extra = Arc::clone(&extra);
        async move {
            let mut request = match first {
                Some(r) => r,
                None => factory.build().await?,
            };
            for (name, value) in extra.iter() {
                request.headers_mut().insert(name.clone(), value.clone());
            }
            Ok(request)
        }
    })
}

/// What the span records for an error of the inner service.
fn openai_error(e: &OpenAIError) -> ProviderError {
    match e {
        OpenAIError::Reqwest(r) => reqwest_error(r),
        // An inner retry layer that read the error body (`OpenAIRetryLayer` on a 429).
        OpenAIError::ApiError(api) => {
            let body = serde_json::json!({ "error": &api.api_error });
            providers::parse_error(api.status_code.as_u16(), body.to_string().as_bytes())
        }
        OpenAIError::Boxed(b) => match b.downcast_ref::<reqwest::Error>() {
            Some(r) => reqwest_error(r),
            None => transport_error(e),
        },
        _ => transport_error(e),
    }
}

fn transport_error(e: &OpenAIError) -> ProviderError {
    ProviderError {
        error_type: "transport_error".to_owned(),
        message: e.to_string(),
    }
}

//! The `reqwest-middleware` adapter: [`LlmMiddleware`] captures the LLM calls made with a
//! `reqwest_middleware::ClientWithMiddleware` (raw reqwest users, rig's
//! `ReqwestMiddlewareClient`) through the shared [`Capture`] core.

use opentelemetry::context::FutureExt as _;
use reqwest_middleware::{Middleware, Next};

use super::{Capture, RespondError, redact_error, redact_text, reqwest_error};
use crate::model::{Provider, ProviderError};

/// Captures LLM calls passing through a `reqwest_middleware::ClientWithMiddleware`.
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(llmetry_instruments::LlmMiddleware::default())
///     .build();
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
pub struct LlmMiddleware {
    inject_traceparent: bool,
    providers: Vec<(String, Provider)>,
}

impl Default for LlmMiddleware {
    fn default() -> Self {
        Self {
            inject_traceparent: true,
            providers: Vec::new(),
        }
    }
}

impl LlmMiddleware {
    /// A middleware with W3C `traceparent` injection on (the same as
    /// `LlmMiddleware::default()`).
    ///
    /// ```
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(llmetry_instruments::LlmMiddleware::new())
    ///     .build();
    /// # drop(client);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to send the LLM span's W3C `traceparent` (and a non-empty `tracestate`) with each
    /// request. Default: on, as in Python.
    ///
    /// ```
    /// // A provider that rejects unknown headers:
    /// let middleware = llmetry_instruments::LlmMiddleware::new().inject_traceparent(false);
    /// # drop(middleware);
    /// ```
    pub fn inject_traceparent(mut self, on: bool) -> Self {
        self.inject_traceparent = on;
        self
    }

    /// Names the provider behind an OpenAI-compatible base URL the built-in rules cannot
    /// recognise, e.g. `("http://gpu-box:8000", Provider::Vllm)`.
    ///
    /// ```
    /// use llmetry_instruments::{LlmMiddleware, model::Provider};
    /// let middleware = LlmMiddleware::new()
    ///     .provider("https://llm-gateway.internal/mistral", Provider::Mistral)
    ///     .provider("http://gpu-box:9000", Provider::Other("tgi".into()));
    /// # drop(middleware);
    /// ```
    pub fn provider(mut self, base_url: impl Into<String>, provider: Provider) -> Self {
        self.providers.push((base_url.into(), provider));
        self
    }
}

fn transport_error(e: &reqwest_middleware::Error) -> ProviderError {
    match e {
        reqwest_middleware::Error::Reqwest(r) => reqwest_error(r),
        reqwest_middleware::Error::Middleware(_) => ProviderError {
            error_type: "transport_error".to_owned(),
            message: redact_text(e.to_string()),
        },
    }
}

#[async_trait::async_trait]
impl Middleware for LlmMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let Some(capture) = Capture::start(&req, &self.providers) else {
            return next.run(req, extensions).await;
        };
        if self.inject_traceparent {
            capture.inject(req.headers_mut());
            let url = req.url().clone();
            capture.inject_baggage(&url, req.headers_mut());
        }

        let cx = capture.context();
        let resp = match next.run(req, extensions).with_context(cx).await {
            Ok(r) => r,
            Err(e) => {
                capture.fail(&transport_error(&e));
                // The caller's error must not show an API key (Gemini's `?key=`).
                return Err(match e {
                    reqwest_middleware::Error::Reqwest(r) => {
                        reqwest_middleware::Error::Reqwest(redact_error(r))
                    }
                    other => other,
                });
            }
        };
        capture.respond(resp).await.map_err(|e| match e {
            RespondError::Body(e) => reqwest_middleware::Error::Reqwest(e),
            RespondError::Rebuild(e) => reqwest_middleware::Error::Middleware(e.into()),
        })
    }
}

//! [`StreamTap`]: passes a streamed body to the caller unchanged, chunk by chunk, while
//! decoding it into events and folding them into the accumulator; ends the LLM span when
//! the stream ends, fails, or is dropped.
//!
//! Every chunk is decoded in place (the decoders copy only an unfinished line) and each
//! event read into a borrowing wire struct, so the per-chunk work allocates nothing in the
//! steady state. What it keeps is bounded (line buffers, choices, tool calls, text); a cap
//! hit is said on the span, the caller's bytes are never touched.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;

use crate::decode::{MAX_LINE, NdjsonDecoder, SseDecoder};
use crate::model::{Api, CaptureCap};
use crate::providers::{self, Accumulator};
use crate::span::{LlmSpan, StreamEnd};

/// How the body is split into events.
#[derive(Debug)]
pub(crate) enum Decoder {
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
    /// Not known yet: the first non-blank byte decides (`{` / `[`: one JSON document,
    /// anything else: SSE).
    Sniff,
    /// One JSON document (kept up to [`MAX_LINE`]), parsed when the body ends.
    Json {
        body: Vec<u8>,
        overflow: bool,
    },
}

impl Decoder {
    pub(crate) fn sse() -> Self {
        Decoder::Sse(SseDecoder::new())
    }

    pub(crate) fn ndjson() -> Self {
        Decoder::Ndjson(NdjsonDecoder::new())
    }
}

type ByteStream = Pin<Box<dyn futures_core::Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Passes a streamed body through unchanged while feeding the accumulator.
pub(crate) struct StreamTap {
    inner: ByteStream,
    decoder: Decoder,
    api: Api,
    acc: Accumulator,
    span: Option<LlmSpan>,
    done: bool,
    failed: bool,
}

impl StreamTap {
    pub(crate) fn new(inner: ByteStream, decoder: Decoder, api: Api, span: LlmSpan) -> Self {
        Self {
            inner,
            decoder,
            api,
            acc: Accumulator::new(api),
            span: Some(span),
            done: false,
            failed: false,
        }
    }

    /// Decodes `bytes` (`None`: the end of the body) and folds the events it completes.
    fn feed(&mut self, bytes: Option<&[u8]>) {
        let StreamTap {
            decoder,
            acc,
            span,
            done,
            failed,
            ..
        } = self;
        let Some(span) = span.as_mut() else {
            return;
        };
        let mut on_event = |event: Option<&str>, data: &str| match acc.push(event, data) {
            Ok(p) => {
                if p.chunk {
                    span.chunk();
                }
                *done |= p.done;
            }
            Err(e) => {
                span.record_error(&e);
                *failed = true;
            }
        };
        if let Decoder::Sniff = decoder
            && let Some(b) = bytes
        {
            match b.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{' | b'[') => {
                    *decoder = Decoder::Json {
                        body: Vec::new(),
                        overflow: false,
                    }
                }
                Some(_) => *decoder = Decoder::sse(),
                None => return,
            }
        }
        match (decoder, bytes) {
            (Decoder::Sse(d), Some(b)) => d.feed(b, on_event),
            (Decoder::Sse(d), None) => d.finish_with(on_event),
            (Decoder::Ndjson(d), Some(b)) => d.feed(b, |line| on_event(None, line)),
            (Decoder::Ndjson(d), None) => d.finish_with(|line| on_event(None, line)),
            (Decoder::Json { body, overflow }, Some(b)) => {
                if *overflow || body.len() + b.len() > MAX_LINE {
                    *overflow = true;
                    *body = Vec::new();
                } else {
                    body.extend_from_slice(b);
                }
            }
            (Decoder::Json { .. } | Decoder::Sniff, None) => {}
            (Decoder::Sniff, Some(_)) => {}
        }
    }

    fn end(&mut self, how: StreamEnd) {
        let Some(mut span) = self.span.take() else {
            return;
        };
        let mut caps: Vec<CaptureCap> = self.acc.caps_hit().to_vec();
        let line_dropped = match &self.decoder {
            Decoder::Sse(d) => d.truncated(),
            Decoder::Ndjson(d) => d.truncated(),
            Decoder::Json { overflow, .. } => *overflow,
            Decoder::Sniff => false,
        };
        if line_dropped {
            caps.push(CaptureCap::Line);
        }
        let mut how = if self.failed { StreamEnd::Failed } else { how };
        match &mut self.decoder {
            Decoder::Json { body, .. } => {
                // A server that answered a stream request with one JSON document.
                if let Some(resp) = providers::parse_response_bytes(self.api, body) {
                    span.record_response_owned(resp);
                    if how == StreamEnd::Failed && !self.failed {
                        how = StreamEnd::Completed;
                    }
                }
            }
            _ => span.record_response_owned(self.acc.response()),
        }
        span.record_capture_truncated(&caps);
        span.finish_stream(how);
    }
}

impl futures_core::Stream for StreamTap {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(bytes))) => self.feed(Some(bytes)),
            Poll::Ready(Some(Err(_))) => {
                self.failed = true;
                self.end(StreamEnd::Failed);
            }
            Poll::Ready(None) => {
                self.feed(None);
                let how = if self.done {
                    StreamEnd::Completed
                } else {
                    StreamEnd::Failed
                };
                self.end(how);
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for StreamTap {
    fn drop(&mut self) {
        // A consumer that stops reading once the provider said the stream is complete
        // (async-openai stops at `[DONE]`, before the end of the body) completed it.
        let how = if self.done {
            StreamEnd::Completed
        } else {
            StreamEnd::Dropped
        };
        self.end(how);
    }
}

//! OpenAI's wire formats: chat completions (also read for Ollama chat requests, which share
//! their shape), legacy completions, embeddings and the Responses API.

pub(super) mod chat;
pub(super) mod completions;
pub(super) mod embeddings;
pub(super) mod responses;

/// `system_fingerprint` of every chat completion.
const SYSTEM_FINGERPRINT: &str = "fp_llmetry_stub";

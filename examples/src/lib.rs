//! Support code for the llmetry examples: an embedded server that speaks the OpenAI
//! Chat Completions wire format, so every example runs on a machine with no API key and
//! no network, and the plumbing the examples share (environment, provider setup, the chat
//! completion call, running without telemetry on a configuration error).

pub mod openai_stub;
pub mod support;

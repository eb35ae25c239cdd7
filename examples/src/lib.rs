//! Support code for the llmetry examples: the plumbing they share (environment, provider
//! setup with an embedded stub server that speaks the OpenAI wire format, so every example
//! runs on a machine with no API key and no network, the chat completion call, running
//! without telemetry on a configuration error).

pub mod support;

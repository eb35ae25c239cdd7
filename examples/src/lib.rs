//! Support code for the llmetry examples: an embedded server that speaks the OpenAI
//! Chat Completions wire format, so every example runs on a machine with no API key and
//! no network.

pub mod openai_stub;

//! [`Instrument`]: the LLM integrations of `llmetry-instruments` that configuration
//! switches on and off.
//!
//! A module of its own (not in `config`) because both configuration (which reads the
//! lists) and the process switches in `state` (which answer `instrument_enabled`) name it,
//! and `config` reads `state`'s defaults: here neither has to import the other back.

/// LLM integrations of `llmetry-instruments` that `instruments` / `block_instruments`
/// switch on and off.
///
/// ```
/// use llmetry::Instrument;
/// let _ = llmetry::init().block_instruments([Instrument::Anthropic]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Instrument {
    /// OpenAI and OpenAI-compatible APIs (Azure, Groq, Together, Mistral, …).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Ollama's native API.
    Ollama,
    /// rig's own `gen_ai` spans.
    Rig,
    /// Gemini on the Generative Language API (`google_generativeai`, as Python names it).
    GoogleGenerativeAi,
    /// Gemini on Vertex AI (`vertexai`).
    VertexAi,
    /// Bedrock Converse through `aws-sdk-bedrockruntime` (`bedrock`).
    Bedrock,
    /// MCP client and server spans with rmcp (`mcp`).
    Mcp,
}

impl Instrument {
    /// Every instrument.
    ///
    /// ```
    /// use llmetry::Instrument;
    /// // Every integration but rig's own spans:
    /// let on = Instrument::ALL.into_iter().filter(|i| *i != Instrument::Rig);
    /// let builder = llmetry::init().instruments(on);
    /// assert!(Instrument::ALL.iter().all(|i| llmetry::instrument_enabled(*i))); // before install
    /// ```
    pub const ALL: [Instrument; 8] = [
        Instrument::OpenAi,
        Instrument::Anthropic,
        Instrument::Ollama,
        Instrument::Rig,
        Instrument::GoogleGenerativeAi,
        Instrument::VertexAi,
        Instrument::Bedrock,
        Instrument::Mcp,
    ];

    /// The instrument named `s` (as in `TRACELOOP_INSTRUMENTS`), case-insensitively.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(Instrument::OpenAi),
            "anthropic" => Some(Instrument::Anthropic),
            "ollama" => Some(Instrument::Ollama),
            "rig" => Some(Instrument::Rig),
            "google_generativeai" | "gemini" => Some(Instrument::GoogleGenerativeAi),
            "vertexai" => Some(Instrument::VertexAi),
            "bedrock" => Some(Instrument::Bedrock),
            "mcp" => Some(Instrument::Mcp),
            _ => None,
        }
    }
}

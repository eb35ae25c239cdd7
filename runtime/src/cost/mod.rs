//! What an LLM call cost: a built-in, dated price table (USD per million tokens, per provider
//! and model), the normalisation of model names, each provider's token-counting rule, and the
//! arithmetic. Overrides come from a JSON file or from entries built in code.
//!
//! ```
//! use llmetry::cost::{Call, PriceTable, Usage};
//!
//! let table = PriceTable::builtin();
//! // 12 prompt tokens, 30 completion tokens on a dated snapshot of gpt-4o-mini.
//! let cost = table.cost(&Call::new("openai", "gpt-4o-mini-2024-07-18", Usage::new(12, 30)))?;
//! assert!((cost.total - 1.98e-5).abs() < 1e-12); // 12 × 0.15 / 1e6 + 30 × 0.60 / 1e6
//!
//! // No price, no guess.
//! assert!(table.cost(&Call::new("openai", "my-own-model", Usage::new(1, 1))).is_err());
//! # Ok::<(), llmetry::cost::NoCost>(())
//! ```
//!
//! # The table
//!
//! [`PRICES_DATE`] is the day the built-in table was compiled (from litellm and genai-prices;
//! `runtime/src/cost/prices.json` and its `NOTICE.md`). It covers the first-party APIs of
//! OpenAI, Anthropic, Google (Gemini API), Mistral, DeepSeek and Groq; a model served by
//! another host (Azure, Bedrock, Vertex, OpenRouter, …) has no built-in price. Standard prices
//! only: a call answered on a `flex`, `priority` or batch service tier gets no cost
//! ([`NoCost::ServiceTier`]). Long-context tiers (a higher price for *all* tokens of a request
//! whose input exceeds a threshold) and scheduled price changes (`from` a date) are applied.
//!
//! # Model names
//!
//! A model name is looked up, within its provider, by these steps; the first hit wins:
//!
//! 1. the name, trimmed and lower-cased, as a table key or one of its aliases (so a dated
//!    snapshot with its own price, such as `gpt-4o-2024-05-13`, keeps it);
//! 2. the same after removing a routing prefix (`openai/`, `anthropic/`, `google/`,
//!    `gemini/`, `vertex_ai/`, `mistral/`, `mistralai/`, `deepseek/`, `groq/`, `models/`, or
//!    everything up to the last `/models/`);
//! 3. either of those after removing one version suffix: a date `-YYYY-MM-DD`
//!    (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`) or `-YYYYMMDD`
//!    (`claude-3-5-sonnet-20241022` → `claude-3-5-sonnet`); for Mistral a `-YYMM` release
//!    (`magistral-medium-2509` → `magistral-medium`); for Gemini a `-00N` version
//!    (`gemini-2.0-flash-001` → `gemini-2.0-flash`).
//!
//! `-latest` is never removed: such aliases move from one model to the next, so only the
//! `-latest` names a source lists with a price are known. Nothing else is tried: no prefix or
//! similarity matching, so an unknown model has no cost rather than a wrong one.
//!
//! # Counting rules
//!
//! Providers count tokens differently ([`Accounting`]); the cost of a call is the sum over
//! disjoint token kinds: uncached input, cache reads, cache writes (5-minute and 1-hour),
//! output and reasoning, each at its price. A kind with no price of its own is billed at the
//! price it falls under: cache reads and writes at the input price, 1-hour writes at the
//! (5-minute) write price, reasoning at the output price. A usage whose parts exceed their
//! whole (more cached tokens than input tokens) has no cost ([`NoCost::InconsistentUsage`]):
//! it means the provider's counts were read wrongly, and a wrong cost is worse than none.
//!
//! # Overrides
//!
//! [`PriceTable::with_entries`] adds or replaces models ([`ModelPrice`]);
//! [`PriceTable::with_file`] does the same from a JSON file in the built-in table's format
//! (`{"models": [{"provider": "openai", "model": "gpt-4o-mini", "input": 0.15, "output":
//! 0.6, "cache_read": 0.075}, …]}`; the fields are described at [`ModelPrice`]). An entry
//! replaces every price of its (provider, model) — all its periods and aliases.

mod file;
mod normalise;
mod table;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::SystemTime;

pub use file::PriceFileError;
pub use table::{ModelPrice, PriceError, PriceTable, Prices, Tier};

/// The day the built-in price table was compiled (UTC, `YYYY-MM-DD`). Prices change: check
/// it against your providers' pages, and override what differs ([`PriceTable::with_entries`],
/// [`PRICES_FILE_ENV`]).
///
/// ```
/// assert_eq!(llmetry::cost::PRICES_DATE.len(), "2026-11-30".len());
/// ```
pub const PRICES_DATE: &str = "2026-11-30";

/// The environment variable naming a JSON price file that extends or overrides the built-in
/// table (see [`PriceTable::with_file`]).
///
/// ```
/// assert_eq!(llmetry::cost::PRICES_FILE_ENV, "LLMETRY_PRICES_FILE");
/// ```
pub const PRICES_FILE_ENV: &str = "LLMETRY_PRICES_FILE";

/// Bucket boundaries (USD) of the `gen_ai.usage.cost` histogram: from a millionth of a
/// dollar (a short call to a small model) to 10 USD (a long-context call to a large one), in
/// steps of about ×3.
///
/// ```
/// let b = llmetry::cost::COST_BOUNDARIES;
/// assert!(b.windows(2).all(|w| w[0] < w[1]));
/// assert_eq!((b[0], b[b.len() - 1]), (0.000001, 10.0));
/// ```
pub const COST_BOUNDARIES: [f64; 15] = [
    0.000001, 0.000003, 0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0,
    3.0, 10.0,
];

/// Token counts of one LLM call, as the provider's response reports them (how they nest is
/// the provider's [`Accounting`]).
///
/// ```
/// use llmetry::cost::Usage;
/// // An Anthropic answer: 2095 fresh input tokens, 1800 read from the cache, 100 written.
/// let usage = Usage::new(2095, 503).cache_read(1800).cache_write(100);
/// assert_eq!(usage.cache_read_tokens, 1800);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// Input (prompt) tokens as reported: OpenAI `prompt_tokens` / `input_tokens`,
    /// Anthropic `input_tokens`, Gemini `promptTokenCount`.
    pub input_tokens: u64,
    /// Output tokens as reported: OpenAI `completion_tokens` / `output_tokens`, Anthropic
    /// `output_tokens`, Gemini `candidatesTokenCount`.
    pub output_tokens: u64,
    /// Input tokens served from the prompt cache: OpenAI `cached_tokens`, Anthropic
    /// `cache_read_input_tokens`, Gemini `cachedContentTokenCount`, DeepSeek
    /// `prompt_cache_hit_tokens`.
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache (all TTLs): Anthropic
    /// `cache_creation_input_tokens`.
    pub cache_write_tokens: u64,
    /// The part of [`Usage::cache_write_tokens`] written with Anthropic's 1-hour TTL
    /// (`cache_creation.ephemeral_1h_input_tokens`).
    pub cache_write_1h_tokens: u64,
    /// Reasoning (thinking) tokens: OpenAI `reasoning_tokens`, Gemini `thoughtsTokenCount`.
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Input and output tokens; the other counts are 0 until set.
    ///
    /// ```
    /// let u = llmetry::cost::Usage::new(12, 30);
    /// assert_eq!((u.input_tokens, u.output_tokens, u.reasoning_tokens), (12, 30, 0));
    /// ```
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            ..Self::default()
        }
    }

    /// Sets [`Usage::cache_read_tokens`].
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Usage::new(10, 1).cache_read(4).cache_read_tokens, 4);
    /// ```
    pub fn cache_read(mut self, tokens: u64) -> Self {
        self.cache_read_tokens = tokens;
        self
    }

    /// Sets [`Usage::cache_write_tokens`].
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Usage::new(10, 1).cache_write(4).cache_write_tokens, 4);
    /// ```
    pub fn cache_write(mut self, tokens: u64) -> Self {
        self.cache_write_tokens = tokens;
        self
    }

    /// Sets [`Usage::cache_write_1h_tokens`] (a part of the cache writes).
    ///
    /// ```
    /// let u = llmetry::cost::Usage::new(10, 1).cache_write(6).cache_write_1h(4);
    /// assert_eq!(u.cache_write_1h_tokens, 4);
    /// ```
    pub fn cache_write_1h(mut self, tokens: u64) -> Self {
        self.cache_write_1h_tokens = tokens;
        self
    }

    /// Sets [`Usage::reasoning_tokens`].
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Usage::new(10, 8).reasoning(5).reasoning_tokens, 5);
    /// ```
    pub fn reasoning(mut self, tokens: u64) -> Self {
        self.reasoning_tokens = tokens;
        self
    }
}

/// How an API's usage counts nest, which decides what each token is billed as. It follows
/// the wire format, not the company: Anthropic models behind an OpenAI-compatible gateway
/// count the OpenAI way.
///
/// ```
/// use llmetry::cost::Accounting;
/// assert_eq!(Accounting::for_provider("anthropic"), Accounting::Anthropic);
/// assert_eq!(Accounting::for_provider("gcp.gen_ai"), Accounting::Gemini);
/// assert_eq!(Accounting::for_provider("groq"), Accounting::OpenAi);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accounting {
    /// OpenAI Chat Completions and Responses, and the APIs shaped like them (Mistral,
    /// DeepSeek, Groq, Azure OpenAI, OpenRouter, …): input tokens *include* cache reads and
    /// writes; output tokens *include* reasoning tokens.
    OpenAi,
    /// Anthropic Messages: input tokens *exclude* cache reads and writes (the three add up
    /// to the prompt); output tokens include thinking.
    Anthropic,
    /// Gemini `generateContent`: the prompt count includes cached tokens; thinking tokens
    /// (`thoughtsTokenCount`) are *not* in the candidates count and are billed on top of it.
    Gemini,
}

impl Accounting {
    /// The first-party API's rule for a provider name (`gen_ai.provider.name` or the price
    /// table's provider): Anthropic's for `anthropic`, Gemini's for Google's Gemini API, the
    /// OpenAI rule for everything else.
    ///
    /// ```
    /// use llmetry::cost::Accounting;
    /// assert_eq!(Accounting::for_provider("Anthropic"), Accounting::Anthropic);
    /// assert_eq!(Accounting::for_provider("mistral_ai"), Accounting::OpenAi);
    /// ```
    pub fn for_provider(provider: &str) -> Self {
        match normalise::canonical_provider(provider).as_ref() {
            "anthropic" => Accounting::Anthropic,
            "gcp.gen_ai" => Accounting::Gemini,
            _ => Accounting::OpenAi,
        }
    }
}

/// One LLM call to price: provider, model, usage, and optionally the wire format's counting
/// rule, the service tier the answer came from, and when it was made.
///
/// ```
/// use llmetry::cost::{Accounting, Call, PriceTable, Usage};
/// let call = Call::new("anthropic", "claude-sonnet-4-5-20250929", Usage::new(100, 20))
///     .accounting(Accounting::Anthropic)
///     .service_tier(Some("standard"));
/// assert!(PriceTable::builtin().cost(&call).is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Call<'a> {
    provider: &'a str,
    model: &'a str,
    usage: Usage,
    accounting: Option<Accounting>,
    service_tier: Option<&'a str>,
    at: Option<SystemTime>,
}

impl<'a> Call<'a> {
    /// A call to `model` of `provider` (a `gen_ai.provider.name` such as `openai`,
    /// `anthropic`, `gcp.gen_ai`, `mistral_ai`, `deepseek`, `groq`) that used `usage`.
    ///
    /// ```
    /// let call = llmetry::cost::Call::new("openai", "gpt-4o", llmetry::cost::Usage::new(1, 1));
    /// # drop(call);
    /// ```
    pub fn new(provider: &'a str, model: &'a str, usage: Usage) -> Self {
        Self {
            provider,
            model,
            usage,
            accounting: None,
            service_tier: None,
            at: None,
        }
    }

    /// The counting rule of the API the call went through (default:
    /// [`Accounting::for_provider`]).
    ///
    /// ```
    /// use llmetry::cost::{Accounting, Call, Usage};
    /// // Claude through an OpenAI-compatible gateway counts the OpenAI way.
    /// let call = Call::new("anthropic", "claude-haiku-4-5", Usage::new(10, 1)).accounting(Accounting::OpenAi);
    /// # drop(call);
    /// ```
    pub fn accounting(mut self, accounting: Accounting) -> Self {
        self.accounting = Some(accounting);
        self
    }

    /// The service tier the provider says answered (`service_tier` in OpenAI, Anthropic and
    /// Groq responses). `None`, `default`, `standard`, `auto` and `on_demand` are standard;
    /// any other tier has no price in the table.
    ///
    /// ```
    /// use llmetry::cost::{Call, NoCost, PriceTable, Usage};
    /// let call = Call::new("openai", "gpt-5", Usage::new(10, 1)).service_tier(Some("flex"));
    /// assert!(matches!(PriceTable::builtin().cost(&call), Err(NoCost::ServiceTier(_))));
    /// ```
    pub fn service_tier(mut self, tier: Option<&'a str>) -> Self {
        self.service_tier = tier;
        self
    }

    /// When the call was made (default: now), for prices that change on a date.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use llmetry::cost::{Call, Usage};
    /// let jan_2027 = UNIX_EPOCH + Duration::from_secs(1_798_761_600);
    /// let call = Call::new("gcp.gen_ai", "gemini-3.6-flash", Usage::new(1, 1)).at(jan_2027);
    /// # drop(call);
    /// ```
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = Some(at);
        self
    }
}

/// The cost of one call in USD, in total and by token kind (the kinds are disjoint and add up
/// to the total).
///
/// ```
/// use llmetry::cost::{Call, PriceTable, Usage};
/// let cost = PriceTable::builtin().cost(&Call::new("openai", "gpt-4o", Usage::new(1_000_000, 0)))?;
/// assert_eq!(cost.input, 2.5);
/// assert_eq!(cost.total, cost.input);
/// # Ok::<(), llmetry::cost::NoCost>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Cost {
    /// Everything below, summed.
    pub total: f64,
    /// Uncached input tokens.
    pub input: f64,
    /// Input tokens read from the prompt cache.
    pub cache_read: f64,
    /// Input tokens written to the prompt cache (both TTLs).
    pub cache_write: f64,
    /// Output tokens other than reasoning.
    pub output: f64,
    /// Reasoning (thinking) tokens.
    pub reasoning: f64,
}

/// Why a call has no cost. The caller writes no cost attribute and logs this at debug level.
///
/// ```
/// use llmetry::cost::{Call, NoCost, PriceTable, Usage};
/// let err = PriceTable::builtin().cost(&Call::new("openai", "gpt-9", Usage::new(1, 1))).unwrap_err();
/// assert!(matches!(err, NoCost::UnknownModel { .. }));
/// assert_eq!(err.to_string(), r#"no price for model "gpt-9" of provider "openai""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoCost {
    /// Neither the model nor any normalised form of it is in the table for this provider.
    #[error("no price for model {model:?} of provider {provider:?}")]
    UnknownModel {
        /// The provider as given.
        provider: String,
        /// The model as given.
        model: String,
    },
    /// A count that is part of another exceeds it (e.g. more cached tokens than input tokens):
    /// the usage was read wrongly.
    #[error("inconsistent usage: {0}")]
    InconsistentUsage(String),
    /// The answer came from a non-standard service tier (flex, priority, batch, …); the table
    /// holds standard prices only.
    #[error("service tier {0:?} has no price in the table (standard prices only)")]
    ServiceTier(String),
}

/// Service tiers billed at the standard price.
const STANDARD_TIERS: [&str; 4] = ["default", "standard", "auto", "on_demand"];

/// Whether a response's `service_tier` is billed at the table's (standard) prices:
/// `default`, `standard`, `auto` and `on_demand` are.
///
/// ```
/// assert!(llmetry::cost::is_standard_tier("default"));
/// assert!(!llmetry::cost::is_standard_tier("flex"));
/// ```
pub fn is_standard_tier(tier: &str) -> bool {
    STANDARD_TIERS
        .iter()
        .any(|t| t.eq_ignore_ascii_case(tier.trim()))
}

/// The table in use: set by `install()` (built-in, then the price file, then the builder's
/// entries); the built-in table before that.
static INSTALLED: RwLock<Option<Arc<PriceTable>>> = RwLock::new(None);

/// The price table LLM instrumentations use: the one `install()` put in place, else
/// [`PriceTable::builtin`].
///
/// ```
/// let table = llmetry::cost::current_table();
/// assert!(table.len() > 80);
/// ```
pub fn current_table() -> Arc<PriceTable> {
    let installed = INSTALLED.read().unwrap_or_else(|e| e.into_inner()).clone();
    installed.unwrap_or_else(builtin_arc)
}

/// Prices `call` with [`current_table`]: what LLM instrumentations write as
/// `gen_ai.usage.cost`.
///
/// ```
/// use llmetry::cost::{Call, Usage, cost_of};
/// let cost = cost_of(&Call::new("deepseek", "deepseek-chat", Usage::new(1_000_000, 0)))?;
/// assert!(cost.total > 0.0);
/// # Ok::<(), llmetry::cost::NoCost>(())
/// ```
pub fn cost_of(call: &Call<'_>) -> Result<Cost, NoCost> {
    current_table().cost(call)
}

/// What LLM instrumentations write as `gen_ai.usage.cost` (USD) when a span ends: the
/// cost of `call` with [`current_table`], or `None` with one debug line (target
/// `llmetry::cost`) the first time a (provider, model) has no cost for a given reason —
/// no guess, and no line per call.
///
/// ```
/// use llmetry::cost::{Call, Usage, span_cost};
/// assert!(span_cost(&Call::new("openai", "gpt-4o-mini", Usage::new(12, 30))).is_some());
/// assert_eq!(span_cost(&Call::new("openai", "my-fine-tune", Usage::new(12, 30))), None);
/// ```
pub fn span_cost(call: &Call<'_>) -> Option<f64> {
    match cost_of(call) {
        Ok(cost) => Some(cost.total),
        Err(why) => {
            say_once(call, &why);
            None
        }
    }
}

/// Logs why a call has no cost, once per (provider, model, kind of reason).
fn say_once(call: &Call<'_>, why: &NoCost) {
    static SAID: Mutex<Option<HashSet<(String, String, u8)>>> = Mutex::new(None);
    let kind = match why {
        NoCost::UnknownModel { .. } => 0,
        NoCost::InconsistentUsage(_) => 1,
        NoCost::ServiceTier(_) => 2,
    };
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    let said = said.get_or_insert_with(HashSet::new);
    // A bounded memory: past 1024 distinct models, stay silent rather than grow.
    if said.len() >= 1024 || !said.insert((call.provider.to_owned(), call.model.to_owned(), kind)) {
        return;
    }
    tracing::debug!(
        target: "llmetry::cost",
        provider = call.provider,
        model = call.model,
        "no gen_ai.usage.cost: {why}"
    );
}

/// The builder's price options (`TelemetryBuilder::prices`, `TelemetryBuilder::price_file`).
#[derive(Debug, Default)]
pub(crate) struct PriceOptions {
    pub(crate) entries: Vec<ModelPrice>,
    pub(crate) file: Option<PathBuf>,
}

/// Puts `table` in place for [`current_table`] (called by `install()`).
pub(crate) fn install_table(table: PriceTable) {
    *INSTALLED.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(table));
}

fn builtin_arc() -> Arc<PriceTable> {
    static BUILTIN: OnceLock<Arc<PriceTable>> = OnceLock::new();
    Arc::clone(BUILTIN.get_or_init(|| Arc::new(PriceTable::builtin())))
}

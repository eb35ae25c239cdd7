//! The price table: entries ([`ModelPrice`]: prices, long-context tiers, the date they take
//! effect, aliases), their validation, layering of overrides, lookup by (provider, model), and
//! the cost arithmetic.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rustc_hash::FxHashMap;

use super::file::{self, PriceFileError};
use super::normalise::{candidates, canonical_provider};
use super::{Accounting, Call, Cost, NoCost, Usage, is_standard_tier};

/// USD per million tokens of each kind. `None`: no separate price (the kind is billed at the
/// price it falls under; see the module docs).
///
/// ```
/// let p = llmetry::cost::Prices::new(2.5, 10.0);
/// assert_eq!((p.input, p.output, p.cache_read), (2.5, 10.0, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Prices {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Input tokens read from the prompt cache (default: the input price).
    pub cache_read: Option<f64>,
    /// Input tokens written to the prompt cache, 5-minute TTL (default: the input price).
    pub cache_write: Option<f64>,
    /// Input tokens written to the prompt cache, 1-hour TTL (default: the write price).
    pub cache_write_1h: Option<f64>,
    /// Reasoning tokens (default: the output price).
    pub reasoning: Option<f64>,
}

impl Prices {
    /// Input and output prices, no separate cache or reasoning price.
    ///
    /// ```
    /// let p = llmetry::cost::Prices::new(0.15, 0.6);
    /// assert_eq!(p.reasoning, None);
    /// ```
    pub fn new(input: f64, output: f64) -> Self {
        Self {
            input,
            output,
            cache_read: None,
            cache_write: None,
            cache_write_1h: None,
            reasoning: None,
        }
    }
}

/// A long-context tier: when a request's input (all prompt tokens, cached or not) exceeds
/// `above_input_tokens`, the prices given here apply to *all* tokens of their kind in that
/// request; kinds left `None` keep the base price.
///
/// ```
/// use llmetry::cost::Tier;
/// let tier = Tier::above(200_000).input(6.0).output(22.5);
/// assert_eq!(tier.above_input_tokens, 200_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Tier {
    /// The input size the request must exceed.
    pub above_input_tokens: u64,
    /// Uncached input price in the tier.
    pub input: Option<f64>,
    /// Output price in the tier.
    pub output: Option<f64>,
    /// Cache-read price in the tier.
    pub cache_read: Option<f64>,
    /// Cache-write (5-minute) price in the tier.
    pub cache_write: Option<f64>,
    /// Cache-write (1-hour) price in the tier.
    pub cache_write_1h: Option<f64>,
    /// Reasoning price in the tier.
    pub reasoning: Option<f64>,
}

impl Tier {
    /// A tier for requests whose input exceeds `tokens`, with no price changed yet.
    ///
    /// ```
    /// let t = llmetry::cost::Tier::above(128_000);
    /// assert_eq!(t.input, None);
    /// ```
    pub fn above(tokens: u64) -> Self {
        Self {
            above_input_tokens: tokens,
            input: None,
            output: None,
            cache_read: None,
            cache_write: None,
            cache_write_1h: None,
            reasoning: None,
        }
    }

    /// The input price in the tier.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Tier::above(1).input(2.0).input, Some(2.0));
    /// ```
    pub fn input(mut self, usd_per_million: f64) -> Self {
        self.input = Some(usd_per_million);
        self
    }

    /// The output price in the tier.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Tier::above(1).output(2.0).output, Some(2.0));
    /// ```
    pub fn output(mut self, usd_per_million: f64) -> Self {
        self.output = Some(usd_per_million);
        self
    }

    /// The cache-read price in the tier.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Tier::above(1).cache_read(0.5).cache_read, Some(0.5));
    /// ```
    pub fn cache_read(mut self, usd_per_million: f64) -> Self {
        self.cache_read = Some(usd_per_million);
        self
    }

    /// The cache-write (5-minute) price in the tier.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Tier::above(1).cache_write(7.5).cache_write, Some(7.5));
    /// ```
    pub fn cache_write(mut self, usd_per_million: f64) -> Self {
        self.cache_write = Some(usd_per_million);
        self
    }

    /// The cache-write (1-hour) price in the tier.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Tier::above(1).cache_write_1h(12.0).cache_write_1h, Some(12.0));
    /// ```
    pub fn cache_write_1h(mut self, usd_per_million: f64) -> Self {
        self.cache_write_1h = Some(usd_per_million);
        self
    }

    /// The reasoning price in the tier.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::Tier::above(1).reasoning(9.0).reasoning, Some(9.0));
    /// ```
    pub fn reasoning(mut self, usd_per_million: f64) -> Self {
        self.reasoning = Some(usd_per_million);
        self
    }

    fn apply(&self, base: &mut Prices) {
        let set = |slot: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut base.input, self.input);
        set(&mut base.output, self.output);
        base.cache_read = self.cache_read.or(base.cache_read);
        base.cache_write = self.cache_write.or(base.cache_write);
        base.cache_write_1h = self.cache_write_1h.or(base.cache_write_1h);
        base.reasoning = self.reasoning.or(base.reasoning);
    }
}

/// The price of one model of one provider, as an entry of the table or of an override (the
/// builder's price entries, a price file). The JSON form, one object in a file's `models`
/// list, has the same fields:
///
/// | field | meaning |
/// |---|---|
/// | `provider`, `model` | required: `gen_ai.provider.name` (`openai`, `anthropic`, `gcp.gen_ai`, `mistral_ai`, `deepseek`, `groq`, or any other) and the model id |
/// | `input`, `output` | required: USD per million uncached input / output tokens |
/// | `cache_read`, `cache_write`, `cache_write_1h`, `reasoning` | optional prices of those kinds |
/// | `tiers` | optional list of `{"above_input_tokens": N, "input": …, "output": …, …}` ([`Tier`]) |
/// | `from` | optional `YYYY-MM-DD` (UTC): the price applies to calls from that day on; an entry without it applies before every dated one |
/// | `aliases` | optional other ids with the same price (dated snapshots, spellings) |
/// | `source`, `review` | optional notes: where the numbers come from, why a source was chosen |
///
/// ```
/// use llmetry::cost::{ModelPrice, PriceTable, Call, Usage};
/// let mine = ModelPrice::new("openai", "ft:gpt-4o-mini:acme::b1", 0.30, 1.20).cache_read(0.15);
/// let table = PriceTable::builtin().with_entries([mine])?;
/// let cost = table.cost(&Call::new("openai", "ft:gpt-4o-mini:acme::b1", Usage::new(1_000_000, 0)))?;
/// assert_eq!(cost.total, 0.30);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    provider: String,
    model: String,
    prices: Prices,
    tiers: Vec<Tier>,
    from: Option<String>,
    aliases: Vec<String>,
    source: Option<String>,
    review: Option<String>,
}

impl ModelPrice {
    /// `model` of `provider` at `input` and `output` USD per million tokens.
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("groq", "llama-3.1-8b-instant", 0.05, 0.08);
    /// assert_eq!(p.prices().output, 0.08);
    /// ```
    pub fn new(
        provider: impl Into<String>,
        model: impl Into<String>,
        input: f64,
        output: f64,
    ) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            prices: Prices::new(input, output),
            tiers: Vec::new(),
            from: None,
            aliases: Vec::new(),
            source: None,
            review: None,
        }
    }

    /// The cache-read price.
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).cache_read(0.1);
    /// assert_eq!(p.prices().cache_read, Some(0.1));
    /// ```
    pub fn cache_read(mut self, usd_per_million: f64) -> Self {
        self.prices.cache_read = Some(usd_per_million);
        self
    }

    /// The cache-write (5-minute TTL) price.
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("anthropic", "m", 1.0, 2.0).cache_write(1.25);
    /// assert_eq!(p.prices().cache_write, Some(1.25));
    /// ```
    pub fn cache_write(mut self, usd_per_million: f64) -> Self {
        self.prices.cache_write = Some(usd_per_million);
        self
    }

    /// The cache-write (1-hour TTL) price.
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("anthropic", "m", 1.0, 2.0).cache_write_1h(2.0);
    /// assert_eq!(p.prices().cache_write_1h, Some(2.0));
    /// ```
    pub fn cache_write_1h(mut self, usd_per_million: f64) -> Self {
        self.prices.cache_write_1h = Some(usd_per_million);
        self
    }

    /// A separate reasoning-token price.
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).reasoning(3.0);
    /// assert_eq!(p.prices().reasoning, Some(3.0));
    /// ```
    pub fn reasoning(mut self, usd_per_million: f64) -> Self {
        self.prices.reasoning = Some(usd_per_million);
        self
    }

    /// Adds a long-context tier.
    ///
    /// ```
    /// use llmetry::cost::{ModelPrice, Tier};
    /// let p = ModelPrice::new("gcp.gen_ai", "m", 1.25, 10.0).tier(Tier::above(200_000).input(2.5).output(15.0));
    /// assert_eq!(p.tiers().len(), 1);
    /// ```
    pub fn tier(mut self, tier: Tier) -> Self {
        self.tiers.push(tier);
        self
    }

    /// The UTC day (`YYYY-MM-DD`) from which this price applies; checked when the entry is
    /// added to a table.
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).from("2027-01-01");
    /// assert_eq!(p.effective_from(), Some("2027-01-01"));
    /// ```
    pub fn from(mut self, day: impl Into<String>) -> Self {
        self.from = Some(day.into());
        self
    }

    /// Another id with the same price.
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).alias("m-2026-01-01");
    /// assert_eq!(p.aliases(), ["m-2026-01-01"]);
    /// ```
    pub fn alias(mut self, id: impl Into<String>) -> Self {
        self.aliases.push(id.into());
        self
    }

    /// Where the numbers come from (a note, shown nowhere but the table).
    ///
    /// ```
    /// let p = llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).source("our contract, 2026-12");
    /// assert_eq!(p.source_note(), Some("our contract, 2026-12"));
    /// ```
    pub fn source(mut self, note: impl Into<String>) -> Self {
        self.source = Some(note.into());
        self
    }

    /// The provider as given.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).provider(), "openai");
    /// ```
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The model id as given.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).model(), "m");
    /// ```
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The base prices.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).prices().input, 1.0);
    /// ```
    pub fn prices(&self) -> &Prices {
        &self.prices
    }

    /// The long-context tiers.
    ///
    /// ```
    /// assert!(llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).tiers().is_empty());
    /// ```
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The day from which the price applies, if it is not the first price of the model.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).effective_from(), None);
    /// ```
    pub fn effective_from(&self) -> Option<&str> {
        self.from.as_deref()
    }

    /// The other ids with this price.
    ///
    /// ```
    /// assert!(llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).aliases().is_empty());
    /// ```
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// Where the numbers come from.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::ModelPrice::new("openai", "m", 1.0, 2.0).source_note(), None);
    /// ```
    pub fn source_note(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Why this entry's source was chosen over another that disagrees (built-in entries).
    ///
    /// ```
    /// let t = llmetry::cost::PriceTable::builtin();
    /// let p = t.lookup("anthropic", "claude-sonnet-5").ok_or("missing")?;
    /// assert!(p.review_note().is_some_and(|r| r.contains("genai-prices")));
    /// # Ok::<(), &str>(())
    /// ```
    pub fn review_note(&self) -> Option<&str> {
        self.review.as_deref()
    }

    pub(super) fn set_review(&mut self, note: Option<String>) {
        self.review = note;
    }

    /// The prices that apply to a request with `prompt_tokens` of input: the base prices with
    /// the highest tier whose threshold the request exceeds.
    ///
    /// ```
    /// let t = llmetry::cost::PriceTable::builtin();
    /// let p = t.lookup("gcp.gen_ai", "gemini-2.5-pro").ok_or("missing")?;
    /// assert_eq!(p.prices_for(200_000).input, 1.25);
    /// assert_eq!(p.prices_for(200_001).input, 2.5);
    /// # Ok::<(), &str>(())
    /// ```
    pub fn prices_for(&self, prompt_tokens: u64) -> Prices {
        let mut p = self.prices;
        // Tiers are sorted by threshold when the entry is added to a table.
        for t in self
            .tiers
            .iter()
            .filter(|t| prompt_tokens > t.above_input_tokens)
        {
            t.apply(&mut p);
        }
        p
    }

    /// The cost of `usage`, counted by `accounting`.
    ///
    /// ```
    /// use llmetry::cost::{Accounting, PriceTable, Usage};
    /// let t = PriceTable::builtin();
    /// let sonnet = t.lookup("anthropic", "claude-sonnet-4-5").ok_or("missing")?;
    /// let usage = Usage::new(2095, 503).cache_read(1800).cache_write(100);
    /// let cost = sonnet.cost(&usage, Accounting::Anthropic)?;
    /// // 2095 × 3 + 1800 × 0.30 + 100 × 3.75 + 503 × 15, per million
    /// assert!((cost.total - 0.014745).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cost(&self, usage: &Usage, accounting: Accounting) -> Result<Cost, NoCost> {
        let u = usage;
        let inconsistent = |what: &str| {
            NoCost::InconsistentUsage(format!("{what} (usage: {u:?}, counted as {accounting:?})"))
        };
        let cached = u
            .cache_read_tokens
            .checked_add(u.cache_write_tokens)
            .ok_or_else(|| inconsistent("cache token counts overflow"))?;
        let write_5m = u
            .cache_write_tokens
            .checked_sub(u.cache_write_1h_tokens)
            .ok_or_else(|| inconsistent("more 1-hour cache writes than cache writes"))?;
        let (uncached, prompt) = match accounting {
            Accounting::OpenAi | Accounting::Gemini => (
                u.input_tokens
                    .checked_sub(cached)
                    .ok_or_else(|| inconsistent("more cached tokens than input tokens"))?,
                u.input_tokens,
            ),
            Accounting::Anthropic => (
                u.input_tokens,
                u.input_tokens
                    .checked_add(cached)
                    .ok_or_else(|| inconsistent("input token counts overflow"))?,
            ),
        };
        let (output, reasoning) = match accounting {
            Accounting::OpenAi | Accounting::Anthropic => (
                u.output_tokens
                    .checked_sub(u.reasoning_tokens)
                    .ok_or_else(|| inconsistent("more reasoning tokens than output tokens"))?,
                u.reasoning_tokens,
            ),
            Accounting::Gemini => (u.output_tokens, u.reasoning_tokens),
        };
        let p = self.prices_for(prompt);
        let read_price = p.cache_read.unwrap_or(p.input);
        let write_price = p.cache_write.unwrap_or(p.input);
        let write_1h_price = p.cache_write_1h.unwrap_or(write_price);
        let at = |tokens: u64, price: f64| tokens as f64 * price / 1_000_000.0;
        let mut cost = Cost {
            total: 0.0,
            input: at(uncached, p.input),
            cache_read: at(u.cache_read_tokens, read_price),
            cache_write: at(write_5m, write_price) + at(u.cache_write_1h_tokens, write_1h_price),
            output: at(output, p.output),
            reasoning: at(reasoning, p.reasoning.unwrap_or(p.output)),
        };
        cost.total = cost.input + cost.cache_read + cost.cache_write + cost.output + cost.reasoning;
        Ok(cost)
    }

    /// Checks the entry and returns its effective day (days since 1970-01-01), the model and
    /// provider keys, and the sorted tiers.
    pub(super) fn validated(mut self) -> Result<(Key, Option<i64>, ModelPrice), PriceError> {
        let err = |problem: String| PriceError {
            entry: format!("{}/{}", self.provider, self.model),
            problem,
        };
        if self.provider.trim().is_empty() {
            return Err(err(
                "`provider` is empty, expected a provider name such as \"openai\"".into(),
            ));
        }
        if self.model.trim().is_empty() {
            return Err(err("`model` is empty, expected a model id".into()));
        }
        let check = |field: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(err(format!(
                    "`{field}` is {v}, expected a finite price >= 0 in USD per million tokens"
                )))
            }
        };
        let p = &self.prices;
        check("input", p.input)?;
        check("output", p.output)?;
        for (field, v) in [
            ("cache_read", p.cache_read),
            ("cache_write", p.cache_write),
            ("cache_write_1h", p.cache_write_1h),
            ("reasoning", p.reasoning),
        ] {
            if let Some(v) = v {
                check(field, v)?;
            }
        }
        for (i, t) in self.tiers.iter().enumerate() {
            for (field, v) in [
                ("input", t.input),
                ("output", t.output),
                ("cache_read", t.cache_read),
                ("cache_write", t.cache_write),
                ("cache_write_1h", t.cache_write_1h),
                ("reasoning", t.reasoning),
            ] {
                if let Some(v) = v {
                    check(&format!("tiers[{i}].{field}"), v)?;
                }
            }
            if t.above_input_tokens == 0 {
                return Err(err(format!(
                    "`tiers[{i}].above_input_tokens` is 0, expected the input size (> 0) above which the tier applies"
                )));
            }
        }
        let mut thresholds: Vec<u64> = self.tiers.iter().map(|t| t.above_input_tokens).collect();
        thresholds.sort_unstable();
        if thresholds.windows(2).any(|w| w[0] == w[1]) {
            return Err(err(
                "two tiers have the same `above_input_tokens`, expected one tier per threshold"
                    .into(),
            ));
        }
        let from = match &self.from {
            None => None,
            Some(day) => Some(parse_day(day).ok_or_else(|| {
                err(format!(
                    "`from` is {day:?}, expected a UTC day as YYYY-MM-DD"
                ))
            })?),
        };
        for a in &self.aliases {
            if a.trim().is_empty() {
                return Err(err("an alias is empty, expected a model id".into()));
            }
        }
        self.tiers.sort_by_key(|t| t.above_input_tokens);
        let key = Key {
            provider: canonical_provider(&self.provider).into_owned(),
            model: self.model.trim().to_ascii_lowercase(),
        };
        Ok((key, from, self))
    }
}

/// A price entry that cannot be used, naming the entry (`provider/model`) and what was
/// expected.
///
/// ```
/// use llmetry::cost::{ModelPrice, PriceTable};
/// let err = PriceTable::builtin().with_entries([ModelPrice::new("openai", "m", -1.0, 2.0)]).unwrap_err();
/// assert_eq!(err.to_string(), "price entry openai/m: `input` is -1, expected a finite price >= 0 in USD per million tokens");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("price entry {entry}: {problem}")]
pub struct PriceError {
    entry: String,
    problem: String,
}

impl PriceError {
    /// The entry, as `provider/model`.
    ///
    /// ```
    /// use llmetry::cost::{ModelPrice, PriceTable};
    /// let err = PriceTable::builtin().with_entries([ModelPrice::new("openai", "", 1.0, 2.0)]).unwrap_err();
    /// assert_eq!(err.entry(), "openai/");
    /// ```
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// What is wrong and what was expected.
    ///
    /// ```
    /// use llmetry::cost::{ModelPrice, PriceTable};
    /// let err = PriceTable::builtin().with_entries([ModelPrice::new("openai", "m", 1.0, 2.0).from("soon")]).unwrap_err();
    /// assert!(err.problem().contains("YYYY-MM-DD"));
    /// ```
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

/// A model's identity in the table: canonical provider, lower-cased model id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Key {
    pub(super) provider: String,
    pub(super) model: String,
}

/// Every price of one model: its periods (sorted by the day they take effect, the undated
/// one first) and the override layer that set them.
#[derive(Debug, Clone)]
struct Model {
    layer: u32,
    periods: Periods,
}

/// The prices of one model, each with the day it takes effect (sorted, the undated first).
type Periods = Vec<(Option<i64>, ModelPrice)>;

/// A price table: built-in, extended or overridden by entries and files, looked up by
/// (provider, model). Cheap to share behind an `Arc`; lookups never allocate more than the
/// few candidate names.
///
/// ```
/// use llmetry::cost::{Call, ModelPrice, PriceTable, Usage};
/// let table = PriceTable::builtin()
///     .with_entries([ModelPrice::new("openai", "gpt-4o", 2.0, 8.0)])?; // negotiated price
/// let cost = table.cost(&Call::new("openai", "gpt-4o-2024-11-20", Usage::new(1_000_000, 0)))?;
/// assert_eq!(cost.total, 2.0); // the built-in alias went with the replaced entry; the date is stripped
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    date: Option<String>,
    models: BTreeMap<Key, Model>,
    layers: u32,
    /// provider → (name or alias → the model's periods): a copy of `models` made by
    /// `reindex`, so that a lookup is two hash probes, not also a walk of the ordered map.
    index: FxHashMap<String, FxHashMap<String, Arc<Periods>>>,
}

impl PriceTable {
    /// The built-in table ([`super::PRICES_DATE`]).
    ///
    /// ```
    /// let t = llmetry::cost::PriceTable::builtin();
    /// assert_eq!(t.date(), Some(llmetry::cost::PRICES_DATE));
    /// ```
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<PriceTable> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                match PriceTable::default().with_json("built-in prices.json", BUILTIN_JSON) {
                    Ok(t) => t,
                    Err(e) => {
                        // Cannot happen: a unit test parses the same text.
                        eprintln!("llmetry: warning: the built-in price table is unreadable ({e}); no costs");
                        PriceTable::default()
                    }
                }
            })
            .clone()
    }

    /// A table with no prices.
    ///
    /// ```
    /// assert!(llmetry::cost::PriceTable::empty().is_empty());
    /// ```
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds `entries`, each replacing every price (periods, aliases) this table had for its
    /// (provider, model). Entries given together may give one model several periods (`from`).
    ///
    /// ```
    /// use llmetry::cost::{ModelPrice, PriceTable};
    /// let t = PriceTable::empty().with_entries([
    ///     ModelPrice::new("acme", "m1", 1.0, 2.0),
    ///     ModelPrice::new("acme", "m1", 2.0, 4.0).from("2027-06-01"),
    /// ])?;
    /// assert_eq!(t.len(), 1);
    /// # Ok::<(), llmetry::cost::PriceError>(())
    /// ```
    pub fn with_entries(
        mut self,
        entries: impl IntoIterator<Item = ModelPrice>,
    ) -> Result<Self, PriceError> {
        let mut batch: BTreeMap<Key, Vec<(Option<i64>, ModelPrice)>> = BTreeMap::new();
        for entry in entries {
            let (key, from, entry) = entry.validated()?;
            let periods = batch.entry(key).or_default();
            if periods.iter().any(|(f, _)| *f == from) {
                return Err(PriceError {
                    entry: format!("{}/{}", entry.provider, entry.model),
                    problem: match &entry.from {
                        Some(day) => {
                            format!("given twice from {day}, expected one price per model and day")
                        }
                        None => {
                            "given twice, expected one price per model (or distinct `from` days)"
                                .into()
                        }
                    },
                });
            }
            periods.push((from, entry));
        }
        self.layers += 1;
        for (key, mut periods) in batch {
            periods.sort_by_key(|(f, _)| *f);
            self.models.insert(
                key,
                Model {
                    layer: self.layers,
                    periods,
                },
            );
        }
        self.reindex();
        Ok(self)
    }

    /// Adds the entries of a JSON price file (the built-in table's format; see
    /// [`ModelPrice`] for the fields), as [`PriceTable::with_entries`] does.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("llmetry-doc-prices-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("prices.json");
    /// std::fs::write(&path, r#"{"models": [{"provider": "openai", "model": "gpt-4o", "input": 2, "output": 8}]}"#)?;
    /// let table = llmetry::cost::PriceTable::builtin().with_file(&path)?;
    /// assert_eq!(table.lookup("openai", "gpt-4o").map(|p| p.prices().input), Some(2.0));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_file(self, path: impl AsRef<Path>) -> Result<Self, PriceFileError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PriceFileError::new(&name, None, format!("cannot be read: {e}")))?;
        self.with_json(&name, &text)
    }

    /// Adds the entries of price-file text; `name` names it in errors.
    ///
    /// ```
    /// let t = llmetry::cost::PriceTable::empty()
    ///     .with_json("inline", r#"{"models": [{"provider": "acme", "model": "m", "input": 1, "output": 2}]}"#)?;
    /// assert_eq!(t.len(), 1);
    /// # Ok::<(), llmetry::cost::PriceFileError>(())
    /// ```
    pub fn with_json(mut self, name: &str, text: &str) -> Result<Self, PriceFileError> {
        let parsed = file::parse(name, text)?;
        if let Some(date) = parsed.date {
            self.date = Some(date);
        }
        // Entries were checked one by one (and for duplicates) with their place in the file.
        self.with_entries(parsed.entries)
            .map_err(|e| PriceFileError::new(name, Some(e.entry), e.problem))
    }

    /// The date the table's prices were compiled, from the last file that gave one.
    ///
    /// ```
    /// assert_eq!(llmetry::cost::PriceTable::empty().date(), None);
    /// ```
    pub fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }

    /// How many models have a price.
    ///
    /// ```
    /// assert!(llmetry::cost::PriceTable::builtin().len() > 80);
    /// ```
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether no model has a price.
    ///
    /// ```
    /// assert!(!llmetry::cost::PriceTable::builtin().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Every entry (each period of each model).
    ///
    /// ```
    /// let t = llmetry::cost::PriceTable::builtin();
    /// assert!(t.entries().any(|p| p.model() == "gpt-4o-mini"));
    /// ```
    pub fn entries(&self) -> impl Iterator<Item = &ModelPrice> {
        self.models
            .values()
            .flat_map(|m| m.periods.iter().map(|(_, p)| p))
    }

    /// The price in effect now for `model` of `provider`, after normalising the name (see
    /// the module docs).
    ///
    /// ```
    /// let t = llmetry::cost::PriceTable::builtin();
    /// let p = t.lookup("openai", "gpt-4o-mini-2024-07-18").ok_or("missing")?;
    /// assert_eq!(p.model(), "gpt-4o-mini");
    /// # Ok::<(), &str>(())
    /// ```
    pub fn lookup(&self, provider: &str, model: &str) -> Option<&ModelPrice> {
        self.lookup_at(provider, model, SystemTime::now())
    }

    /// The price in effect at `at` for `model` of `provider`.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let t = llmetry::cost::PriceTable::builtin();
    /// let dec_2026 = UNIX_EPOCH + Duration::from_secs(1_796_083_200);
    /// let jan_2027 = UNIX_EPOCH + Duration::from_secs(1_798_761_600);
    /// let before = t.lookup_at("gcp.gen_ai", "gemini-3.6-flash", dec_2026).ok_or("missing")?;
    /// let after = t.lookup_at("gcp.gen_ai", "gemini-3.6-flash", jan_2027).ok_or("missing")?;
    /// assert_eq!((before.prices().input, after.prices().input), (0.75, 1.5));
    /// # Ok::<(), &str>(())
    /// ```
    pub fn lookup_at(&self, provider: &str, model: &str, at: SystemTime) -> Option<&ModelPrice> {
        self.lookup_when(provider, model, || at)
    }

    /// [`PriceTable::lookup_at`] with the time asked for only when the model's price changes
    /// on a date; the exact (already lower-case) name is tried before any other form is
    /// made, so the common lookup allocates nothing.
    fn lookup_when(
        &self,
        provider: &str,
        model: &str,
        at: impl FnOnce() -> SystemTime,
    ) -> Option<&ModelPrice> {
        let provider = canonical_provider(provider);
        let names = self.index.get(provider.as_ref())?;
        let periods = match names.get(model) {
            Some(periods) => periods,
            None => candidates(&provider, model)
                .iter()
                .find_map(|c| names.get(c.as_str()))?,
        };
        if let [(None, only)] = periods.as_slice() {
            return Some(only);
        }
        let day = day_of(at());
        periods
            .iter()
            .rev()
            .find(|(from, _)| from.is_none_or(|f| f <= day))
            .map(|(_, p)| p)
    }

    /// The cost of `call`: its model's price in effect when it was made, its usage counted by
    /// its API's rule.
    ///
    /// ```
    /// use llmetry::cost::{Call, PriceTable, Usage};
    /// // Gemini: thinking tokens are billed as output, on top of the candidates.
    /// let usage = Usage::new(1_000_000, 1_000_000).reasoning(1_000_000);
    /// let cost = PriceTable::builtin().cost(&Call::new("gcp.gen_ai", "gemini-2.5-flash", usage))?;
    /// assert_eq!((cost.input, cost.output, cost.reasoning), (0.3, 2.5, 2.5));
    /// # Ok::<(), llmetry::cost::NoCost>(())
    /// ```
    pub fn cost(&self, call: &Call<'_>) -> Result<Cost, NoCost> {
        if let Some(tier) = call.service_tier
            && !is_standard_tier(tier)
        {
            return Err(NoCost::ServiceTier(tier.to_owned()));
        }
        let price = self
            .lookup_when(call.provider, call.model, || {
                call.at.unwrap_or_else(SystemTime::now)
            })
            .ok_or_else(|| NoCost::UnknownModel {
                provider: call.provider.to_owned(),
                model: call.model.to_owned(),
            })?;
        let accounting = call
            .accounting
            .unwrap_or_else(|| Accounting::for_provider(call.provider));
        price.cost(&call.usage, accounting)
    }

    /// Rebuilds the name index: aliases first, then model ids (an id beats an alias), each in
    /// layer order (a later override beats an earlier one).
    fn reindex(&mut self) {
        let mut index: FxHashMap<String, FxHashMap<String, Arc<Periods>>> = FxHashMap::default();
        let mut by_layer: Vec<(&Key, &Model, Arc<Periods>)> = self
            .models
            .iter()
            .map(|(key, model)| (key, model, Arc::new(model.periods.clone())))
            .collect();
        by_layer.sort_by_key(|(_, m, _)| m.layer);
        for (key, model, periods) in &by_layer {
            let names = index.entry(key.provider.clone()).or_default();
            for (_, p) in &model.periods {
                for a in &p.aliases {
                    names.insert(a.trim().to_ascii_lowercase(), Arc::clone(periods));
                }
            }
        }
        for (key, _, periods) in &by_layer {
            index
                .entry(key.provider.clone())
                .or_default()
                .insert(key.model.clone(), Arc::clone(periods));
        }
        self.index = index;
    }
}

const BUILTIN_JSON: &str = include_str!("prices.json");

/// Days since 1970-01-01 of a `YYYY-MM-DD` day, if it is one.
pub(super) fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in_month {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn day_of(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() / 86_400) as i64,
        Err(e) => -((e.duration().as_secs() / 86_400) as i64) - 1,
    }
}

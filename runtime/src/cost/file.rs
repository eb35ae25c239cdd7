//! The JSON price-file format (the built-in `prices.json` and override files): parsing, and
//! errors that name the file, the entry and what was expected.

use std::collections::HashMap;

use serde::Deserialize;

use super::table::{ModelPrice, Tier};

/// The unit every price file is in; a file that says another is refused.
const UNIT: &str = "USD per 1,000,000 tokens";

/// A price file that cannot be used: names the file, the entry (`models[3] (openai/gpt-x)`)
/// when one entry is at fault, and what was expected.
///
/// ```
/// let err = llmetry::cost::PriceTable::empty()
///     .with_json("prices.json", r#"{"models": [{"provider": "openai", "model": "gpt-x", "input": 1}]}"#)
///     .unwrap_err();
/// assert_eq!(err.to_string(), "price file prices.json: models[0] (openai/gpt-x) at line 1: missing field `output`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("price file {file}: {}{problem}", .entry.as_deref().map(|e| format!("{e}: ")).unwrap_or_default())]
pub struct PriceFileError {
    file: String,
    entry: Option<String>,
    problem: String,
}

impl PriceFileError {
    pub(super) fn new(file: &str, entry: Option<String>, problem: String) -> Self {
        Self {
            file: file.to_owned(),
            entry,
            problem,
        }
    }

    /// The file, as named.
    ///
    /// ```
    /// let err = llmetry::cost::PriceTable::empty().with_json("p.json", "[]").unwrap_err();
    /// assert_eq!(err.file(), "p.json");
    /// ```
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The entry at fault (`models[i] (provider/model)`), if one is.
    ///
    /// ```
    /// let err = llmetry::cost::PriceTable::empty().with_json("p.json", "[]").unwrap_err();
    /// assert_eq!(err.entry(), None);
    /// ```
    pub fn entry(&self) -> Option<&str> {
        self.entry.as_deref()
    }

    /// What is wrong and what was expected.
    ///
    /// ```
    /// let err = llmetry::cost::PriceTable::empty().with_json("p.json", "[]").unwrap_err();
    /// assert!(err.problem().contains("expected"));
    /// ```
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc<'a> {
    llmetry_prices: Option<u64>,
    date: Option<String>,
    unit: Option<String>,
    #[allow(dead_code)] // read so that it is allowed; it is for people
    notice: Option<String>,
    #[allow(dead_code)]
    comment: Option<serde_json::Value>,
    /// Kept as text so that an entry's error can say the line it starts on.
    #[serde(borrow)]
    models: Vec<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryDoc {
    provider: String,
    model: String,
    input: f64,
    output: f64,
    cache_read: Option<f64>,
    cache_write: Option<f64>,
    cache_write_1h: Option<f64>,
    reasoning: Option<f64>,
    #[serde(default)]
    tiers: Vec<TierDoc>,
    from: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    source: Option<String>,
    review: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierDoc {
    above_input_tokens: u64,
    input: Option<f64>,
    output: Option<f64>,
    cache_read: Option<f64>,
    cache_write: Option<f64>,
    cache_write_1h: Option<f64>,
    reasoning: Option<f64>,
}

/// A parsed, checked price file.
pub(super) struct Parsed {
    pub(super) date: Option<String>,
    pub(super) entries: Vec<ModelPrice>,
}

pub(super) fn parse(name: &str, text: &str) -> Result<Parsed, PriceFileError> {
    let fail = |entry: Option<String>, problem: String| PriceFileError::new(name, entry, problem);
    let doc: Doc = serde_json::from_str(text).map_err(|e| {
        fail(
            None,
            format!(
                "{e}; expected a JSON object {{\"models\": [{{\"provider\": …, \"model\": …, \"input\": …, \"output\": …}}, …]}}"
            ),
        )
    })?;
    if let Some(v) = doc.llmetry_prices
        && v != 1
    {
        return Err(fail(
            None,
            format!("`llmetry_prices` is {v}, expected 1 (the only format version)"),
        ));
    }
    if let Some(unit) = &doc.unit
        && unit != UNIT
    {
        return Err(fail(None, format!("`unit` is {unit:?}, expected {UNIT:?}")));
    }
    if let Some(date) = &doc.date
        && super::table::parse_day(date).is_none()
    {
        return Err(fail(
            None,
            format!("`date` is {date:?}, expected YYYY-MM-DD"),
        ));
    }
    let mut entries = Vec::with_capacity(doc.models.len());
    // (provider, model, from) → where it was first given, to name both places of a duplicate.
    let mut seen: HashMap<(String, String, Option<i64>), usize> = HashMap::new();
    for (i, raw) in doc.models.into_iter().enumerate() {
        let label = entry_label(i, text, raw);
        let e: EntryDoc = serde_json::from_str(raw.get()).map_err(|err| {
            // serde_json's position is within the entry; the label says where it starts.
            let problem = err.to_string();
            let problem = match problem.find(" at line ") {
                Some(at) => problem[..at].to_owned(),
                None => problem,
            };
            fail(Some(label.clone()), problem)
        })?;
        let mut price = ModelPrice::new(e.provider, e.model, e.input, e.output);
        if let Some(v) = e.cache_read {
            price = price.cache_read(v);
        }
        if let Some(v) = e.cache_write {
            price = price.cache_write(v);
        }
        if let Some(v) = e.cache_write_1h {
            price = price.cache_write_1h(v);
        }
        if let Some(v) = e.reasoning {
            price = price.reasoning(v);
        }
        for t in e.tiers {
            price = price.tier(Tier {
                above_input_tokens: t.above_input_tokens,
                input: t.input,
                output: t.output,
                cache_read: t.cache_read,
                cache_write: t.cache_write,
                cache_write_1h: t.cache_write_1h,
                reasoning: t.reasoning,
            });
        }
        if let Some(day) = e.from {
            price = price.from(day);
        }
        for a in e.aliases {
            price = price.alias(a);
        }
        if let Some(s) = e.source {
            price = price.source(s);
        }
        price.set_review(e.review);
        let (key, from, _) = price
            .clone()
            .validated()
            .map_err(|err| fail(Some(label.clone()), err.problem().to_owned()))?;
        if let Some(first) = seen.insert((key.provider, key.model, from), i) {
            return Err(fail(
                Some(label),
                format!(
                    "the same model{} as models[{first}], expected one price per model and day",
                    price
                        .effective_from()
                        .map(|d| format!(" from {d}"))
                        .unwrap_or_default()
                ),
            ));
        }
        entries.push(price);
    }
    Ok(Parsed {
        date: doc.date,
        entries,
    })
}

/// `models[i] (provider/model) at line N`, without the names when the entry does not give
/// them.
fn entry_label(i: usize, text: &str, raw: &serde_json::value::RawValue) -> String {
    let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
    let field = |k: &str| value.get(k).and_then(serde_json::Value::as_str);
    // The entry's text is a slice of the file's: its offset gives its line.
    let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let line = text
        .get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1;
    match (field("provider"), field("model")) {
        (Some(p), Some(m)) => format!("models[{i}] ({p}/{m}) at line {line}"),
        _ => format!("models[{i}] at line {line}"),
    }
}

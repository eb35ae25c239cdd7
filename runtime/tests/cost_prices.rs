//! The price table: each provider's arithmetic against expectations worked out by hand from
//! the sources' numbers (not read back from the table), every entry's prices per kind, dated
//! and prefixed model names, no price for unknown models, overrides from entries and files,
//! and files that are refused with the file, the entry and what was expected.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers: a failure shows its cause

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use llmetry::cost::{Accounting, Call, ModelPrice, NoCost, PRICES_DATE, PriceTable, Tier, Usage};

/// Relative comparison: the arithmetic is in f64.
fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-12 * expected.abs().max(1e-9)
}

#[track_caller]
fn assert_cost(provider: &str, model: &str, usage: Usage, expected: f64) {
    let cost = PriceTable::builtin()
        .cost(&Call::new(provider, model, usage))
        .unwrap_or_else(|e| panic!("{provider}/{model}: {e}"));
    assert!(
        close(cost.total, expected),
        "{provider}/{model} {usage:?}: cost {} USD, expected {expected}",
        cost.total
    );
    let parts = cost.input + cost.cache_read + cost.cache_write + cost.output + cost.reasoning;
    assert!(
        close(parts, cost.total),
        "parts {parts} do not add up to {}",
        cost.total
    );
}

/// Midnight UTC of a day given as days since 1970-01-01 plus `secs`.
fn utc(y: i32, m: u32, d: u32) -> SystemTime {
    // Days from civil (the table's own helper is private; written again here on purpose).
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    UNIX_EPOCH + Duration::from_secs(days as u64 * 86_400)
}

#[test]
fn openai_samples() {
    // Measured in the research: Phoenix and MLflow computed 1.98e-05 for this call.
    assert_cost(
        "openai",
        "gpt-4o-mini-2024-07-18",
        Usage::new(12, 30),
        1.98e-5,
    );
    // 6000 uncached × 2.5 + 4000 cached × 1.25 + 500 × 10
    assert_cost(
        "openai",
        "gpt-4o",
        Usage::new(10_000, 500).cache_read(4_000),
        0.025,
    );
    // Reasoning is inside completion_tokens and billed as output: 1000 × 2 + 3000 × 8.
    assert_cost(
        "openai",
        "o3-2025-04-16",
        Usage::new(1_000, 3_000).reasoning(2_500),
        0.026,
    );
    // A dated snapshot with its own price keeps it: 5 / 15, not gpt-4o's 2.5 / 10.
    assert_cost(
        "openai",
        "gpt-4o-2024-05-13",
        Usage::new(1_000, 1_000),
        0.02,
    );
    // Long-context tier (> 272k input): every token at the tier price.
    assert_cost("openai", "gpt-5.4", Usage::new(300_000, 1_000), 1.5225);
    assert_cost("openai", "gpt-5.4", Usage::new(272_000, 1_000), 0.695);
    // Routing prefix.
    assert_cost(
        "OpenAI",
        "openai/gpt-4.1-nano",
        Usage::new(1_000_000, 0),
        0.1,
    );
}

#[test]
fn anthropic_samples() {
    // input_tokens exclude the cache: 2095 × 3 + 1800 × 0.3 + 100 × 3.75 + 503 × 15.
    let usage = Usage::new(2_095, 503).cache_read(1_800).cache_write(100);
    assert_cost("anthropic", "claude-sonnet-4-5-20250929", usage, 0.014745);
    // 1-hour writes: 100 × 15 + 400 × 18.75 + 600 × 30 + 10 × 75.
    let usage = Usage::new(100, 10).cache_write(1_000).cache_write_1h(600);
    assert_cost("anthropic", "claude-opus-4-1-20250805", usage, 0.02775);
    // Tier: 150k + 60k cached = 210k > 200k, so 150k × 6 + 60k × 0.6 + 1000 × 22.5.
    let usage = Usage::new(150_000, 1_000).cache_read(60_000);
    assert_cost("anthropic", "claude-sonnet-4-5", usage, 0.9585);
    assert_cost(
        "anthropic",
        "claude-3-5-sonnet-20241022",
        Usage::new(1_000, 1_000),
        0.018,
    );
    assert_cost(
        "anthropic",
        "claude-3-5-haiku-latest",
        Usage::new(1_000, 1_000),
        0.0048,
    );
    assert_cost(
        "anthropic",
        "claude-sonnet-4.5",
        Usage::new(1_000, 1_000),
        0.018,
    );
    // claude-sonnet-5: genai-prices' 3 / 15 (dated change), not litellm's 2 / 10.
    assert_cost(
        "anthropic",
        "claude-sonnet-5",
        Usage::new(1_000, 1_000),
        0.018,
    );
}

#[test]
fn google_samples() {
    // promptTokenCount includes the 400 cached; thoughts are billed on top of candidates:
    // 600 × 0.3 + 400 × 0.03 + 200 × 2.5 + 300 × 2.5.
    let usage = Usage::new(1_000, 200).cache_read(400).reasoning(300);
    assert_cost("gcp.gen_ai", "gemini-2.5-flash", usage, 0.001442);
    assert_cost("gemini", "gemini-2.5-pro", Usage::new(250_000, 1_000), 0.64);
    assert_cost(
        "gcp.gen_ai",
        "models/gemini-2.0-flash-001",
        Usage::new(1_000, 1_000),
        0.0005,
    );
    // A scheduled change: 0.75 / 3.75 until 2026-12-31, 1.5 / 7.5 from 2027-01-01.
    let table = PriceTable::builtin();
    let call = |at| Call::new("gcp.gen_ai", "gemini-3.6-flash", Usage::new(1_000, 1_000)).at(at);
    let before = table
        .cost(&call(utc(2026, 12, 31) + Duration::from_secs(86_399)))
        .unwrap();
    let after = table.cost(&call(utc(2027, 1, 1))).unwrap();
    assert!(close(before.total, 0.0045), "{before:?}");
    assert!(close(after.total, 0.009), "{after:?}");
}

#[test]
fn mistral_deepseek_groq_samples() {
    assert_cost(
        "mistral_ai",
        "mistral-large-2512",
        Usage::new(1_000, 1_000),
        0.002,
    );
    assert_cost(
        "mistral",
        "mistral-large-2411",
        Usage::new(1_000, 1_000),
        0.008,
    );
    assert_cost(
        "mistral_ai",
        "magistral-medium-2509",
        Usage::new(1_000, 1_000),
        0.009,
    );
    // mistral-medium-3 is genai-prices' 0.4 / 2 (litellm's is the 3.5 price).
    assert_cost(
        "mistral_ai",
        "mistral-medium-2505",
        Usage::new(1_000, 1_000),
        0.0024,
    );
    // prompt = hit + miss: 400 × 0.28 + 600 × 0.028 + 100 × 0.42.
    assert_cost(
        "deepseek",
        "deepseek-chat",
        Usage::new(1_000, 100).cache_read(600),
        0.0001708,
    );
    assert_cost(
        "groq",
        "llama-3.3-70b-versatile",
        Usage::new(1_000, 1_000),
        0.00138,
    );
    // Groq's own org/model id: 500 × 0.15 + 500 × 0.075 + 100 × 0.6.
    assert_cost(
        "groq",
        "openai/gpt-oss-120b",
        Usage::new(1_000, 100).cache_read(500),
        0.0001725,
    );
}

#[test]
fn unknown_models_have_no_price() {
    let table = PriceTable::builtin();
    for (provider, model) in [
        ("openai", "gpt-9"),
        ("openai", "gpt-3.5-turbo-1106"), // had its own price; not stripped to gpt-3.5-turbo
        ("openai", "gpt-4o-mini-tts"),    // no prefix matching
        ("mistral_ai", "mistral-medium"), // ambiguous bare name
        ("mistral_ai", "mistral-small-2501"),
        ("deepseek", "deepseek-r1"), // R1 was priced apart from V3.2
        ("aws.bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0"), // first-party APIs only
        ("anthropic", "gpt-4o"),     // the provider is part of the key
        ("", "gpt-4o"),
        ("openai", ""),
    ] {
        let err = table
            .cost(&Call::new(provider, model, Usage::new(1, 1)))
            .unwrap_err();
        assert_eq!(
            err,
            NoCost::UnknownModel {
                provider: provider.into(),
                model: model.into()
            },
            "{provider}/{model}"
        );
    }
}

#[test]
fn non_standard_service_tiers_and_bad_counts_have_no_cost() {
    let table = PriceTable::builtin();
    let call = |tier| Call::new("openai", "gpt-5", Usage::new(10, 1)).service_tier(tier);
    for tier in ["flex", "priority", "batch", "scale"] {
        assert_eq!(
            table.cost(&call(Some(tier))),
            Err(NoCost::ServiceTier(tier.into()))
        );
    }
    for tier in [
        None,
        Some("default"),
        Some("Standard"),
        Some("auto"),
        Some("on_demand"),
    ] {
        assert!(table.cost(&call(tier)).is_ok(), "{tier:?}");
    }
    // More cached than prompt tokens under the OpenAI rule: the counts were read wrongly.
    let bad = Call::new("openai", "gpt-4o", Usage::new(10, 1).cache_read(11));
    assert!(matches!(
        table.cost(&bad),
        Err(NoCost::InconsistentUsage(_))
    ));
    // The same counts are fine for Anthropic, whose input excludes the cache.
    let ok = Call::new(
        "anthropic",
        "claude-haiku-4-5",
        Usage::new(10, 1).cache_read(11),
    );
    assert!(table.cost(&ok).is_ok());
    let bad = Call::new("openai", "o3", Usage::new(10, 5).reasoning(6));
    assert!(matches!(
        table.cost(&bad),
        Err(NoCost::InconsistentUsage(_))
    ));
    let bad = Call::new(
        "anthropic",
        "claude-opus-4",
        Usage::new(1, 1).cache_write(1).cache_write_1h(2),
    );
    assert!(matches!(
        table.cost(&bad),
        Err(NoCost::InconsistentUsage(_))
    ));
    // The wire format decides, not the company: Claude through an OpenAI-shaped gateway.
    let gw = Call::new(
        "anthropic",
        "claude-haiku-4-5",
        Usage::new(10, 1).cache_read(11),
    )
    .accounting(Accounting::OpenAi);
    assert!(matches!(table.cost(&gw), Err(NoCost::InconsistentUsage(_))));
}

/// Every entry, every kind: n tokens of one kind cost n × the listed price (or the price the
/// kind falls back to), below and above each tier's threshold.
#[test]
fn every_entry_prices_each_kind_at_its_listed_price() {
    let table = PriceTable::builtin();
    let mut checked = 0;
    for entry in table.entries() {
        let name = format!("{}/{}", entry.provider(), entry.model());
        let mut points: Vec<(u64, bool)> = vec![];
        let first_threshold = entry.tiers().iter().map(|t| t.above_input_tokens).min();
        points.push((
            first_threshold.map_or(1_000_000, |t| t.min(1_000_000)),
            false,
        ));
        for t in entry.tiers() {
            points.push((t.above_input_tokens + 1, true));
        }
        for (n, in_tier) in points {
            let p = entry.prices_for(n);
            if in_tier {
                assert_ne!(&p, entry.prices(), "{name}: tier above {n} changes nothing");
            } else {
                assert_eq!(&p, entry.prices(), "{name}");
            }
            let read = p.cache_read.unwrap_or(p.input);
            let write = p.cache_write.unwrap_or(p.input);
            let kinds: [(&str, Usage, f64); 6] = [
                ("input", Usage::new(n, 0), p.input),
                ("output", Usage::new(n, n), p.output), // n input tokens select the same tier
                ("cache_read", Usage::new(n, 0).cache_read(n), read),
                ("cache_write", Usage::new(n, 0).cache_write(n), write),
                (
                    "cache_write_1h",
                    Usage::new(n, 0).cache_write(n).cache_write_1h(n),
                    p.cache_write_1h.unwrap_or(write),
                ),
                (
                    "reasoning",
                    Usage::new(n, n).reasoning(n),
                    p.reasoning.unwrap_or(p.output),
                ),
            ];
            for (kind, usage, price) in kinds {
                let cost = entry.cost(&usage, Accounting::OpenAi).unwrap();
                let input_part = if matches!(kind, "output" | "reasoning") {
                    n as f64 * p.input / 1e6
                } else {
                    0.0
                };
                let per_million = (cost.total - input_part) * 1e6 / n as f64;
                assert!(
                    (per_million - price).abs() <= 1e-9 * price.max(1.0),
                    "{name} {kind} at {n} input tokens: {per_million} USD/M, listed {price}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 91 * 6, "only {checked} checks");
}

#[test]
fn every_model_and_alias_resolves_to_itself() {
    let table = PriceTable::builtin();
    let far_future = utc(2100, 1, 1);
    for entry in table.entries() {
        for name in std::iter::once(entry.model()).chain(entry.aliases().iter().map(String::as_str))
        {
            let found = table
                .lookup_at(entry.provider(), name, far_future)
                .unwrap_or_else(|| panic!("{}/{name} not found", entry.provider()));
            assert_eq!(found.model(), entry.model(), "{}/{name}", entry.provider());
        }
    }
}

#[test]
fn the_builtin_table_is_the_documented_one() {
    let table = PriceTable::builtin();
    assert_eq!(table.date(), Some(PRICES_DATE));
    assert_eq!(
        table.len(),
        90,
        "models in the built-in table (89 researched + mistral-large-2411)"
    );
    assert_eq!(
        table.entries().count(),
        91,
        "one model has a scheduled second price"
    );
    for provider in [
        "openai",
        "anthropic",
        "gcp.gen_ai",
        "mistral_ai",
        "deepseek",
        "groq",
    ] {
        assert!(
            table.entries().any(|e| e.provider() == provider),
            "{provider}"
        );
    }
    // Every entry says where its numbers come from; every disagreement says why.
    for e in table.entries() {
        let src = e.source_note().unwrap_or_default();
        assert!(
            src.starts_with("litellm") || src.starts_with("genai-prices"),
            "{}: {src}",
            e.model()
        );
    }
    for needs_review in [
        "claude-sonnet-5",
        "mistral-medium-3",
        "deepseek-v4-pro",
        "deepseek-chat",
        "mistral-large-latest",
    ] {
        assert!(
            table
                .entries()
                .any(|e| e.model() == needs_review && e.review_note().is_some()),
            "{needs_review}"
        );
    }
}

#[test]
fn entries_override_and_extend() {
    let table = PriceTable::builtin()
        .with_entries([
            ModelPrice::new("openai", "gpt-4o", 2.0, 8.0),
            ModelPrice::new("acme", "house-model", 1.0, 1.0).alias("house-model-v2"),
            ModelPrice::new("acme", "house-model", 2.0, 2.0).from("2027-01-01"),
            ModelPrice::new("gemini", "gemini-3-pro", 2.0, 12.0)
                .tier(Tier::above(200_000).input(4.0)),
        ])
        .unwrap();
    let usd = |p: &str, m: &str, u: Usage, at: SystemTime| {
        table.cost(&Call::new(p, m, u).at(at)).unwrap().total
    };
    let now = utc(2026, 12, 1);
    assert!(close(
        usd("openai", "gpt-4o", Usage::new(1_000_000, 0), now),
        2.0
    ));
    // The replaced entry's aliases went with it; the dated name falls back to the new price.
    assert!(close(
        usd("openai", "gpt-4o-2024-11-20", Usage::new(1_000_000, 0), now),
        2.0
    ));
    // Untouched entries keep their price.
    assert!(close(
        usd("openai", "gpt-4o-mini", Usage::new(1_000_000, 0), now),
        0.15
    ));
    assert!(close(
        usd("acme", "house-model-v2", Usage::new(1_000_000, 0), now),
        1.0
    ));
    assert!(close(
        usd(
            "acme",
            "HOUSE-MODEL",
            Usage::new(1_000_000, 0),
            utc(2027, 1, 1)
        ),
        2.0
    ));
    assert!(close(
        usd("gcp.gen_ai", "gemini-3-pro", Usage::new(300_000, 0), now),
        1.2
    ));
    // Overriding again replaces every period of the model.
    let again = table
        .with_entries([ModelPrice::new("acme", "house-model", 3.0, 3.0)])
        .unwrap();
    let p = again
        .lookup_at("acme", "house-model", utc(2030, 1, 1))
        .unwrap();
    assert_eq!(p.prices().input, 3.0);
    assert!(again.lookup_at("acme", "house-model-v2", now).is_none());
}

#[test]
fn bad_entries_are_refused_with_what_was_expected() {
    let err = |e: ModelPrice| {
        PriceTable::builtin()
            .with_entries([e])
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(ModelPrice::new("openai", "m", 1.0, f64::NAN)),
        "price entry openai/m: `output` is NaN, expected a finite price >= 0 in USD per million tokens"
    );
    assert_eq!(
        err(ModelPrice::new("openai", "m", 1.0, 1.0).from("2027-02-30")),
        "price entry openai/m: `from` is \"2027-02-30\", expected a UTC day as YYYY-MM-DD"
    );
    assert_eq!(
        err(ModelPrice::new(" ", "m", 1.0, 1.0)),
        "price entry  /m: `provider` is empty, expected a provider name such as \"openai\""
    );
    assert!(
        err(ModelPrice::new("openai", "m", 1.0, 1.0).tier(Tier::above(0).input(1.0)))
            .contains("above_input_tokens")
    );
    assert!(
        err(ModelPrice::new("openai", "m", 1.0, 1.0).tier(Tier::above(5).input(-2.0)))
            .contains("`tiers[0].input` is -2")
    );
    let dup = PriceTable::builtin()
        .with_entries([
            ModelPrice::new("openai", "m", 1.0, 1.0),
            ModelPrice::new("OpenAI", "M", 2.0, 2.0),
        ])
        .unwrap_err();
    assert_eq!(dup.entry(), "OpenAI/M");
    assert!(dup.problem().contains("given twice"), "{dup}");
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("llmetry-cost-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("prices.json");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_price_file_overrides_and_extends() {
    let path = temp_file(
        "good",
        r#"{
          "date": "2026-12-15",
          "unit": "USD per 1,000,000 tokens",
          "comment": "negotiated prices",
          "models": [
            {"provider": "openai", "model": "gpt-4o-mini", "input": 0.1, "output": 0.4, "cache_read": null},
            {"provider": "azure.ai.openai", "model": "gpt-4o-mini", "input": 0.165, "output": 0.66,
             "aliases": ["my-deployment"], "source": "Azure price sheet"},
            {"provider": "anthropic", "model": "claude-haiku-4-5", "input": 1, "output": 5,
             "cache_read": 0.1, "cache_write": 1.25, "cache_write_1h": 2,
             "tiers": [{"above_input_tokens": 100000, "input": 2}]}
          ]
        }"#,
    );
    let table = PriceTable::builtin().with_file(&path).unwrap();
    assert_eq!(table.date(), Some("2026-12-15"));
    assert_eq!(table.len(), PriceTable::builtin().len() + 1);
    let cost = |p: &str, m: &str, u: Usage| table.cost(&Call::new(p, m, u)).unwrap().total;
    // The file's gpt-4o-mini has no cache price: cached tokens at the input price.
    assert!(close(
        cost(
            "openai",
            "gpt-4o-mini-2024-07-18",
            Usage::new(1_000_000, 0).cache_read(500_000)
        ),
        0.1
    ));
    assert!(close(
        cost("azure.ai.openai", "my-deployment", Usage::new(1_000_000, 0)),
        0.165
    ));
    assert!(close(
        cost("anthropic", "claude-haiku-4-5", Usage::new(100_001, 0)),
        0.200002
    ));
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn bad_price_files_name_the_file_the_entry_and_the_expectation() {
    let cases: [(&str, &str, Option<&str>, &str); 11] = [
        (
            "not-json",
            "{models: []}",
            None,
            "key must be a string at line 1 column 2",
        ),
        (
            "no-models",
            r#"{"date": "2026-12-01"}"#,
            None,
            "missing field `models`",
        ),
        (
            "top-typo",
            r#"{"model": []}"#,
            None,
            "unknown field `model`",
        ),
        (
            "version",
            r#"{"llmetry_prices": 2, "models": []}"#,
            None,
            "`llmetry_prices` is 2, expected 1",
        ),
        (
            "unit",
            r#"{"unit": "USD per token", "models": []}"#,
            None,
            "expected \"USD per 1,000,000 tokens\"",
        ),
        (
            "missing",
            r#"{"models": [{"provider": "openai", "model": "x", "input": 1}]}"#,
            Some("models[0] (openai/x) at line 1"),
            "missing field `output`",
        ),
        (
            "typo",
            r#"{"models": [{"provider": "openai", "model": "x", "input": 1, "output": 2, "cache_raed": 1}]}"#,
            Some("models[0] (openai/x) at line 1"),
            "unknown field `cache_raed`, expected one of",
        ),
        (
            "string-price",
            r#"{"models": [{"provider": "openai", "model": "x", "input": "1.5", "output": 2}]}"#,
            Some("models[0] (openai/x) at line 1"),
            "invalid type: string \"1.5\", expected f64",
        ),
        (
            "negative",
            r#"{"models": [{"provider": "a", "model": "b", "input": 1, "output": 2}, {"provider": "openai", "model": "x", "input": -1, "output": 2}]}"#,
            Some("models[1] (openai/x) at line 1"),
            "`input` is -1, expected a finite price >= 0 in USD per million tokens",
        ),
        (
            "date",
            r#"{"models": [{"provider": "openai", "model": "x", "input": 1, "output": 2, "from": "1/1/2027"}]}"#,
            Some("models[0] (openai/x) at line 1"),
            "`from` is \"1/1/2027\", expected a UTC day as YYYY-MM-DD",
        ),
        (
            "duplicate",
            r#"{"models": [{"provider": "openai", "model": "x", "input": 1, "output": 2}, {"provider": "openai", "model": "X", "input": 1, "output": 2}]}"#,
            Some("models[1] (openai/X) at line 1"),
            "the same model as models[0], expected one price per model and day",
        ),
    ];
    for (name, text, entry, problem) in cases {
        let path = temp_file(name, text);
        let err = PriceTable::builtin().with_file(&path).unwrap_err();
        assert_eq!(err.file(), path.display().to_string(), "{name}");
        assert_eq!(err.entry(), entry, "{name}: {err}");
        assert!(err.problem().contains(problem), "{name}: {err}");
        assert!(
            err.to_string()
                .starts_with(&format!("price file {}: ", path.display())),
            "{err}"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
    let missing = std::env::temp_dir().join("llmetry-no-such-dir/prices.json");
    let err = PriceTable::builtin().with_file(&missing).unwrap_err();
    assert!(err.problem().starts_with("cannot be read: "), "{err}");
}

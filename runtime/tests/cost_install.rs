//! Prices at `install()`: a price file named by `LLMETRY_PRICES_FILE` or `price_file(..)`
//! that cannot be used, and a bad `prices(..)` entry, fail the install with an error that
//! names the variable or method, the file, the entry and its line, and what was expected;
//! nothing is installed. (Each failed install leaves the process free to install again.)

#![allow(clippy::expect_used)] // test code: a failure shows its cause

use llmetry::cost::ModelPrice;
use llmetry::{EnvSource, InitError};

fn dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("llmetry-cost-install-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn env_file(path: &std::path::Path) -> EnvSource {
    EnvSource::from_pairs([("LLMETRY_PRICES_FILE", path.display().to_string())])
}

#[test]
fn unusable_prices_fail_the_install_naming_where_and_what() {
    let d = dir();
    let bad = d.join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"models\": [\n    {\"provider\": \"openai\", \"model\": \"gpt-4o\", \"input\": 2.5, \"output\": 10},\n    {\"provider\": \"openai\", \"model\": \"house\", \"input\": \"cheap\", \"output\": 1}\n  ]\n}\n",
    )
    .expect("write");
    let err = llmetry::init()
        .silence_init_message(true)
        .env_source(env_file(&bad))
        .install()
        .map(|_| ()) // Telemetry is no Debug
        .expect_err("a bad price file fails the install");
    let text = err.to_string();
    match &err {
        InitError::PriceFile { key, source } => {
            assert_eq!(key, "LLMETRY_PRICES_FILE");
            assert_eq!(source.file(), bad.display().to_string());
            assert_eq!(source.entry(), Some("models[1] (openai/house) at line 4"));
            assert!(
                source
                    .problem()
                    .contains("invalid type: string \"cheap\", expected f64"),
                "{text}"
            );
        }
        other => panic!("expected InitError::PriceFile, got {other:?}"),
    }
    assert_eq!(
        text,
        format!(
            "LLMETRY_PRICES_FILE: price file {}: models[1] (openai/house) at line 4: invalid type: string \"cheap\", expected f64",
            bad.display()
        )
    );

    // Broken JSON: serde's line and column.
    let broken = d.join("broken.json");
    std::fs::write(
        &broken,
        "{\"models\": [\n  {\"provider\": \"openai\",,}\n]}",
    )
    .expect("write");
    let err = llmetry::init()
        .silence_init_message(true)
        .env_source(env_file(&broken))
        .install()
        .map(|_| ()) // Telemetry is no Debug
        .expect_err("broken JSON fails the install");
    assert!(err.to_string().contains("at line 2 column"), "{err}");

    // The builder's file wins over the variable, and is named as the builder's.
    let missing = d.join("no-such.json");
    let err = llmetry::init()
        .silence_init_message(true)
        .env_source(env_file(&bad))
        .price_file(&missing)
        .install()
        .map(|_| ()) // Telemetry is no Debug
        .expect_err("a missing file fails the install");
    assert!(
        matches!(&err, InitError::PriceFile { key, source } if key == "price_file(..)" && source.file() == missing.display().to_string()),
        "{err:?}"
    );
    assert!(err.to_string().contains("cannot be read"), "{err}");

    // A bad builder entry.
    let err = llmetry::init()
        .silence_init_message(true)
        .env_source(EnvSource::from_pairs(Vec::<(String, String)>::new()))
        .prices([ModelPrice::new("openai", "house", f64::NAN, 1.0)])
        .install()
        .map(|_| ()) // Telemetry is no Debug
        .expect_err("a NaN price fails the install");
    assert!(matches!(err, InitError::Price { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("prices(..): price entry openai/house: `input` is NaN"),
        "{err}"
    );

    // Nothing was installed: a good configuration installs now.
    let good = d.join("good.json");
    std::fs::write(
        &good,
        r#"{"models": [{"provider": "acme", "model": "m", "input": 1, "output": 2}]}"#,
    )
    .expect("write");
    let telemetry = llmetry::init()
        .silence_init_message(true)
        .exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
        .env_source(env_file(&good))
        .install()
        .expect("install after failures");
    assert!(llmetry::cost::current_table().lookup("acme", "m").is_some());
    assert!(
        llmetry::cost::current_table()
            .lookup("openai", "gpt-4o")
            .is_some(),
        "built-in kept"
    );
    telemetry.shutdown().expect("shutdown");
    std::fs::remove_dir_all(&d).ok();
}

//! A short-lived cron or serverless style job: a `#[workflow(name = "batch_job")]` that
//! processes `ITEMS` items, each in a `#[task(name = "process_item")]`. One item fails with
//! an `Err` (its span gets status ERROR and an `exception` event) and the job goes on:
//! every item logs a line and adds 1 to the counter `batch_job.items` with `outcome` =
//! `ok` or `error`. Export is immediate (`disable_batch(true)`) and `telemetry.shutdown()`
//! delivers everything (including the counter) before the process exits, with code 0 even
//! when an item failed; the summary is printed on stdout.
//!
//! Environment: `ITEMS` (default 5), `FAIL_ITEM` (1-based number of the item that fails,
//! default 3; `none`, `0` or a number above `ITEMS`: no item fails), `OTEL_SERVICE_NAME`
//! (default `batch_job`). Telemetry destinations come from `TRACELOOP_*` / `OTEL_*` (see
//! the README); with none set, the span tree is printed on stderr.
//!
//! `cargo run -p llmetry-examples --bin batch_job`

use std::process::ExitCode;

use llmetry::{task, workflow};
use llmetry_examples::support::{self, env_or};
use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

#[derive(Debug, thiserror::Error)]
enum ItemError {
    #[error("item {index}: record {record:?} is malformed (no checksum)")]
    Malformed { index: usize, record: String },
}

/// What the job did, recorded as the workflow's output.
#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    items: usize,
    ok: usize,
    failed: Vec<usize>,
}

/// `ITEMS` and `FAIL_ITEM`, or a message saying what is wrong.
fn settings() -> Result<(usize, Option<usize>), String> {
    let items = env_or("ITEMS", "5");
    let items: usize = items
        .trim()
        .parse()
        .map_err(|_| format!("ITEMS={items:?}: expected a number of items"))?;
    let fail = env_or("FAIL_ITEM", "3");
    let fail = match fail.trim() {
        "none" | "0" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| format!("FAIL_ITEM={fail:?}: expected an item number or none"))?,
        ),
    };
    Ok((items, fail))
}

/// One unit of work. The failing item stands for a bad record in the input.
#[task(name = "process_item", skip(items_counter))]
async fn process_item(
    items_counter: &Counter<u64>,
    index: usize,
    record: &str,
    fail: bool,
) -> Result<String, ItemError> {
    // Stand-in for real work (a download, a transform, an upload).
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    if fail {
        items_counter.add(1, &[KeyValue::new("outcome", "error")]);
        tracing::warn!(item = index, record, "item failed: malformed record");
        return Err(ItemError::Malformed {
            index,
            record: record.to_owned(),
        });
    }
    let out = record.to_uppercase();
    items_counter.add(1, &[KeyValue::new("outcome", "ok")]);
    tracing::info!(item = index, record, "item processed");
    Ok(out)
}

#[workflow(name = "batch_job", skip(items_counter))]
async fn run(items_counter: &Counter<u64>, items: usize, fail_item: Option<usize>) -> Summary {
    let mut summary = Summary {
        items,
        ..Summary::default()
    };
    for index in 1..=items {
        let record = format!("record-{index}");
        match process_item(items_counter, index, &record, fail_item == Some(index)).await {
            Ok(_) => summary.ok += 1,
            // The task's span already carries the error; the batch goes on.
            Err(_) => summary.failed.push(index),
        }
    }
    tracing::info!(
        items,
        ok = summary.ok,
        failed = summary.failed.len(),
        "batch finished"
    );
    summary
}

#[tokio::main]
async fn main() -> ExitCode {
    let (items, fail_item) = match settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("batch_job: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Telemetry must never stop the job: on a configuration error, say so and go on without it.
    let telemetry = support::telemetry_or_none(
        "batch_job",
        llmetry::init()
            .app_name(env_or("OTEL_SERVICE_NAME", "batch_job"))
            .disable_batch(true) // short-lived: export each span and log at once
            .logging_enabled(true)
            .install(),
    );
    // After install(), so the counter belongs to the installed meter provider.
    let items_counter = opentelemetry::global::meter("batch_job")
        .u64_counter("batch_job.items")
        .with_unit("{item}")
        .with_description("Items processed by the batch job, by outcome")
        .build();

    let summary = run(&items_counter, items, fail_item).await;
    let failed: Vec<String> = summary.failed.iter().map(|i| i.to_string()).collect();
    println!(
        "batch_job: {} items: {} ok, {} failed{}",
        summary.items,
        summary.ok,
        summary.failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" (item {})", failed.join(", "))
        }
    );
    // Everything (the last spans, logs and the counter) is delivered before the process
    // exits: a cron job or a serverless function gets no second chance.
    support::shutdown("batch_job", telemetry);
    // A failed item is reported, not fatal: the job itself succeeded.
    ExitCode::SUCCESS
}

//! Nothing to use: this crate holds `benches/llm_icount.rs`, the fixed LLM-capture workloads
//! of `llmetry-instruments` that `.ci/icount` counts under callgrind (see that file and
//! BENCHMARKS.md). It is a crate of its own so the count builds only what the workloads use.

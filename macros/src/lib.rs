//! Attribute macros of [llmetry](https://docs.rs/llmetry): `#[workflow]`, `#[task]`,
//! `#[agent]` and `#[tool]`. Use them through the `llmetry` crate
//! (`use llmetry::{workflow, task, agent, tool};`), which re-exports them; depend on
//! `llmetry` only: the generated code names `::llmetry::__private::…`, so this crate is of no
//! use on its own.
//!
//! Each annotated function runs inside an entity span, Traceloop style:
//!
//! | attribute | span name | `traceloop.span.kind` | beside the common attributes |
//! |---|---|---|---|
//! | `#[workflow]` | `<name>.workflow` | `workflow` | `traceloop.workflow.name` on it and on every span beneath it; scope of [`set_association_properties`](https://docs.rs/llmetry/latest/llmetry/fn.set_association_properties.html) |
//! | `#[task]` | `<name>.task` | `task` | extends `traceloop.entity.path` for the spans beneath it |
//! | `#[agent]` | `<name>.agent` | `agent` | `gen_ai.agent.name` on it and on every span beneath it |
//! | `#[tool]` | `<name>.tool` | `tool` | `gen_ai.tool.name`; extends `traceloop.entity.path` |
//!
//! ```ignore
//! use llmetry::{agent, task, tool, workflow};
//!
//! #[tool(name = "disk_usage")]
//! fn disk_usage(host: &str) -> Result<u8, String> {
//!     if host == "db-1" { Err(format!("{host}: no space left")) } else { Ok(42) }
//! }
//!
//! #[task(name = "fetch_logs", skip(api_key))]
//! async fn fetch_logs(host: &str, api_key: &str) -> Vec<String> {
//!     vec![format!("{host}: disk full")]
//! }
//!
//! #[agent(name = "sre_agent")]
//! async fn sre_agent(host: &str) -> Option<u8> {
//!     fetch_logs(host, "sk-…").await;
//!     disk_usage(host).ok()
//! }
//!
//! #[workflow(name = "rca_workflow", version = 2)]
//! async fn rca(incident_id: &str) -> Option<u8> {
//!     llmetry::set_association_properties([("incident_id", incident_id)]);
//!     sre_agent("db-1").await
//! }
//! ```
//!
//! The attributes' own pages hold the full reference (arguments, function shapes, span
//! contents). The examples in this crate are marked `ignore`: a proc-macro crate's doctests
//! cannot use its own macros through `llmetry`. The same ground is compiled and run in
//! llmetry's documentation, section
//! [Annotations](https://docs.rs/llmetry/latest/llmetry/#annotations), one example per
//! argument.
//!
//! # Expansion
//!
//! Each macro runs three steps: `ast` parses the arguments and the item (syntax only),
//! `valid` checks them against the function and yields a typed entity model, `expand`
//! emits the original function wrapped in an entity span (it cannot fail). Before
//! `llmetry::init()` an annotated call is the plain call behind one relaxed atomic load
//! and a branch.
//!
//! Generated code names only `::llmetry::__private::…`. On a misuse (an unknown, misspelt or duplicated argument, a
//! value of the wrong type, `skip` naming no parameter, `skip` with `skip_all`, a `const fn`,
//! a bodiless trait method, a non-function item) it emits one spanned `compile_error!` *and*
//! the untouched function, so the user sees one error, not twenty.

use proc_macro::TokenStream;
use quote::quote;

mod ast;
mod expand;
mod valid;

/// The four entity kinds, one per attribute.
#[derive(Clone, Copy)]
enum Kind {
    Workflow,
    Task,
    Agent,
    Tool,
}

impl Kind {
    /// The attribute's name, also `traceloop.span.kind` and the span name's suffix.
    fn as_str(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::Task => "task",
            Kind::Agent => "agent",
            Kind::Tool => "tool",
        }
    }

    /// The `llmetry::EntityKind` variant.
    fn variant(self) -> &'static str {
        match self {
            Kind::Workflow => "Workflow",
            Kind::Task => "Task",
            Kind::Agent => "Agent",
            Kind::Tool => "Tool",
        }
    }
}

/// parse → validate → expand; on an error, one `compile_error!` and the original item.
fn entity(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let func = match ast::parse_item(kind, item.clone()) {
        Ok(f) => f,
        Err(ast::NotInstrumentable::Error(e)) => return with_original(e, item),
        Err(ast::NotInstrumentable::LeaveToRustc) => return item.into(),
    };
    let args = match syn::parse::<ast::Args>(args) {
        Ok(a) => a,
        Err(e) => return with_original(e, item),
    };
    match valid::validate(kind, args, func) {
        Ok(entity) => entity.expand().into(),
        Err(e) => with_original(e, item),
    }
}

fn with_original(e: syn::Error, item: proc_macro2::TokenStream) -> TokenStream {
    let err = e.to_compile_error();
    quote!(#err #item).into()
}

/// Defines one attribute macro: its own introduction, the documentation the four share
/// (written once, here), and its own example.
macro_rules! entity_attribute {
    (
        $(#[doc = $intro:literal])*
        kind = $kind:literal,
        span_gets = $span_gets:literal,
        example = {
            $(#[doc = $example:literal])*
        }
        pub fn $name:ident => $variant:ident;
    ) => {
        $(#[doc = $intro])*
        ///
        /// # Arguments
        ///
        /// All optional, comma-separated, in any order; each at most once.
        ///
        /// | argument | effect |
        /// |---|---|
        #[doc = concat!("| `name = \"…\"` | entity name (default: the function's name, `r#` removed): `traceloop.entity.name` and the span name `<name>.", $kind, "` |")]
        /// | `version = N` | `traceloop.entity.version`, an integer (not written for 0, as in Python) |
        /// | `skip(a, b)` | leave these parameters out of `traceloop.entity.input` (secrets, clients, large buffers) |
        /// | `skip_all` | record no parameter: the input is `{"args": [], "kwargs": {}}`; not with `skip` |
        /// | `capture_input = false` | no `traceloop.entity.input` on this entity |
        /// | `capture_output = false` | no `traceloop.entity.output` on this entity |
        /// | `redact = false` | the configured redaction (`llmetry::redact`) skips this entity's input, output and error message |
        /// | `new_trace` (or `new_trace = true`) | start a new trace (a root span) instead of nesting under the current span; the context values (association properties, content override) still apply |
        ///
        /// # Supported functions
        ///
        /// Sync and `async fn`; methods taking `&self`, `&mut self` or `self`; generic functions
        /// with `where` clauses; `impl Trait` returns; `async fn` in traits and impls; methods under
        /// `#[async_trait]` and functions whose body ends in `async move { … }` or
        /// `Box::pin(async move { … })` (the span covers the future's execution, not its
        /// creation); `Result` returns, with `?` and early `return`; `impl Iterator` and
        /// `impl Stream` returns (the span lives until the iterator or stream is exhausted or
        /// dropped). Not supported, as compile errors: `const fn`, trait method declarations
        /// without a body (annotate the implementation), and non-function items.
        ///
        /// # What the span gets
        ///
        #[doc = concat!("- `traceloop.span.kind` = `", $kind, "`, `traceloop.entity.name`, span kind INTERNAL,")]
        #[doc = concat!("  instrumentation scope `traceloop.tracer`", $span_gets, ".")]
        /// - The enclosing context: `traceloop.workflow.name`, `gen_ai.agent.name`,
        ///   `traceloop.entity.path` (the dotted path of the enclosing tasks and tools), the
        ///   association properties and conversation id in effect.
        /// - When content capture allows: `traceloop.entity.input` =
        ///   `{"args": [], "kwargs": {"<param>": <value>, …}}` (receivers left out) and
        ///   `traceloop.entity.output` = the JSON of the return value (the `Ok` value of a
        ///   `Result`; nothing for iterators and streams). Values use `serde::Serialize` when the type
        ///   implements it, else the JSON string of their `Debug` form, else their type name; they
        ///   are cut to the attribute length limit.
        /// - An `Err(e)`: status ERROR with `e`'s `Display`, `error.type` and an `exception` event
        ///   (`exception.type`, `exception.message`). A panic: status ERROR (`panicked`), and the
        ///   panic goes on. Success leaves the status unset.
        ///
        /// Before `llmetry::init()…install()` has run, the function just runs, untraced (the
        /// process prints one warning; `TRACELOOP_SUPPRESS_WARNINGS=true` hides it).
        ///
        /// # Example
        ///
        /// Marked `ignore` here (see the crate docs); the same arguments are run in llmetry's
        /// [Annotations](https://docs.rs/llmetry/latest/llmetry/#annotations) examples.
        ///
        $(#[doc = $example])*
        #[proc_macro_attribute]
        pub fn $name(args: TokenStream, item: TokenStream) -> TokenStream {
            entity(Kind::$variant, args, item)
        }
    };
}

entity_attribute! {
    /// Opens a `<name>.workflow` span around each call: the top-level unit of work.
    ///
    /// The workflow's name goes on its span and on every span started beneath it
    /// (`traceloop.workflow.name`), by anyone: the other attributes, `tracing` spans, the
    /// OpenTelemetry API, LLM instruments. It is also the scope of
    /// `llmetry::set_association_properties` and `llmetry::set_conversation_id`: their values
    /// reach every span started later inside the workflow, and nothing outside it.
    kind = "workflow",
    span_gets = ", and `traceloop.workflow.name`",
    example = {
        /// ```ignore
        /// use llmetry::{task, workflow};
        ///
        /// #[task(name = "fetch_logs", skip(api_key))]
        /// async fn fetch_logs(host: &str, api_key: &str) -> Vec<String> {
        ///     vec![format!("{host}: disk full")]
        /// }
        ///
        /// #[workflow(name = "rca_workflow", version = 2)]
        /// async fn rca(incident_id: &str) -> Result<usize, std::io::Error> {
        ///     llmetry::set_association_properties([("incident_id", incident_id)]);
        ///     Ok(fetch_logs("db-1", "sk-…").await.len())
        /// }
        ///
        /// // A scheduled job that must not join the trace of whoever triggers it:
        /// #[workflow(name = "nightly_cleanup", new_trace, skip_all)]
        /// fn nightly_cleanup(stale: Vec<String>) -> usize {
        ///     stale.len()
        /// }
        /// ```
    }
    pub fn workflow => Workflow;
}

entity_attribute! {
    /// Opens a `<name>.task` span around each call: one step of a workflow.
    ///
    /// A task extends `traceloop.entity.path` for the spans beneath it (Python's rule: a task's
    /// own span carries its ancestors' path, spans inside it the full path).
    kind = "task",
    span_gets = "",
    example = {
        /// ```ignore
        /// use llmetry::task;
        ///
        /// struct LogStore {
        ///     lines: Vec<String>,
        /// }
        ///
        /// impl LogStore {
        ///     // `self` is never recorded; the query is, the result is not (it may be large).
        ///     #[task(name = "fetch_logs", capture_output = false)]
        ///     async fn fetch(&self, query: &str) -> Result<Vec<String>, String> {
        ///         if query.is_empty() {
        ///             return Err("empty query".into());
        ///         }
        ///         Ok(self.lines.iter().filter(|l| l.contains(query)).cloned().collect())
        ///     }
        /// }
        ///
        /// #[task(skip_all)]
        /// fn parse(raw: &[u8]) -> impl Iterator<Item = &str> {
        ///     std::str::from_utf8(raw).unwrap_or_default().lines()
        /// }
        /// ```
    }
    pub fn task => Task;
}

entity_attribute! {
    /// Opens a `<name>.agent` span around each call: an agent that plans and calls tools.
    ///
    /// The agent's name goes on its span and on every span started beneath it
    /// (`gen_ai.agent.name`). An agent never renames the enclosing workflow; an agent called
    /// outside any workflow is the scope of `llmetry::set_association_properties`, as a
    /// workflow would be.
    kind = "agent",
    span_gets = ", and `gen_ai.agent.name`",
    example = {
        /// ```ignore
        /// use llmetry::{agent, tool};
        ///
        /// #[tool]
        /// fn disk_usage(host: &str) -> u8 {
        ///     97
        /// }
        ///
        /// struct SreAgent {
        ///     model: String,
        /// }
        ///
        /// impl SreAgent {
        ///     #[agent(name = "sre_agent", version = 3)]
        ///     async fn run(&self, question: &str) -> String {
        ///         format!("{}: {question} -> disk at {}%", self.model, disk_usage("db-1"))
        ///     }
        /// }
        /// ```
    }
    pub fn agent => Agent;
}

entity_attribute! {
    /// Opens a `<name>.tool` span around each call: a tool an agent (or a task) calls.
    ///
    /// The span also gets `gen_ai.tool.name` = the entity name. A tool extends
    /// `traceloop.entity.path` for the spans beneath it, like a task.
    kind = "tool",
    span_gets = ", and `gen_ai.tool.name`",
    example = {
        /// ```ignore
        /// use llmetry::tool;
        ///
        /// // The token never reaches the span; nor does the answer, which may hold secrets.
        /// #[tool(name = "vault_lookup", skip(token), capture_output = false)]
        /// fn lookup(path: &str, token: &str) -> Result<String, String> {
        ///     Err(format!("{path}: permission denied"))
        /// }
        ///
        /// // Called from async code:
        /// #[tool(name = "disk_usage")]
        /// async fn disk_usage(host: String) -> Result<u8, std::num::ParseIntError> {
        ///     "97".parse()
        /// }
        /// ```
    }
    pub fn tool => Tool;
}

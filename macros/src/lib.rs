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
//!     llmetry::set_association_properties([("incident_id", incident_id.to_owned())]);
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
//! Each macro parses its arguments, validates them against the function, and expands to
//! the original function wrapped in an entity span. Generated code names only
//! `::llmetry::__private::…`. On a misuse (an unknown, misspelt or duplicated argument, a
//! value of the wrong type, `skip` naming no parameter, `skip` with `skip_all`, a `const fn`,
//! a bodiless trait method, a non-function item) it emits one spanned `compile_error!` *and*
//! the untouched function, so the user sees one error, not twenty.

use proc_macro::TokenStream;
use quote::quote;

mod args;
mod expand;

#[derive(Clone, Copy)]
enum Kind {
    Workflow,
    Task,
    Agent,
    Tool,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::Task => "task",
            Kind::Agent => "agent",
            Kind::Tool => "tool",
        }
    }
    fn attr(self) -> &'static str {
        self.as_str()
    }
    fn variant(self) -> &'static str {
        match self {
            Kind::Workflow => "Workflow",
            Kind::Task => "Task",
            Kind::Agent => "Agent",
            Kind::Tool => "Tool",
        }
    }
}

fn entity(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item2 = proc_macro2::TokenStream::from(item.clone());
    let item_fn = match syn::parse::<syn::ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(_) => return not_a_function(kind, item2),
    };
    let parsed = match syn::parse::<args::EntityArgs>(args) {
        Ok(a) => a,
        Err(e) => return with_original(e, item2),
    };
    match expand::expand(kind, parsed, item_fn) {
        Ok(ts) => ts.into(),
        Err(e) => with_original(e, item2),
    }
}

fn with_original(e: syn::Error, item: proc_macro2::TokenStream) -> TokenStream {
    let err = e.to_compile_error();
    quote!(#err #item).into()
}

fn not_a_function(kind: Kind, item: proc_macro2::TokenStream) -> TokenStream {
    // A bodiless trait method: say where the attribute belongs.
    if let Ok(m) = syn::parse2::<syn::TraitItemFn>(item.clone())
        && m.default.is_none()
    {
        let e = syn::Error::new_spanned(
            &m.sig,
            format!(
                "#[{}] needs a function body: put it on the method's implementation, not on its declaration",
                kind.attr()
            ),
        );
        return with_original(e, item);
    }
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(parsed) => {
            let (what, head, hint) = describe_item(&parsed);
            let e = syn::Error::new_spanned(
                head,
                format!(
                    "#[{}] can only be applied to functions and methods, not to {what}{hint}",
                    kind.attr()
                ),
            );
            with_original(e, item)
        }
        // A function whose body does not parse: leave it to rustc to report the user's error.
        Err(_) if starts_like_fn(&item) => item.into(),
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .next()
                .map(|t| t.span())
                .unwrap_or_else(proc_macro2::Span::call_site);
            let e = syn::Error::new(
                span,
                format!(
                    "#[{}] can only be applied to functions and methods",
                    kind.attr()
                ),
            );
            with_original(e, item)
        }
    }
}

/// Whether `item`'s tokens, past attributes, visibility and qualifiers, begin with `fn`.
fn starts_like_fn(item: &proc_macro2::TokenStream) -> bool {
    use proc_macro2::TokenTree;
    let mut tokens = item.clone().into_iter();
    while let Some(t) = tokens.next() {
        match &t {
            TokenTree::Ident(i) if i == "fn" => return true,
            // `#[..]`: skip the bracket group that follows.
            TokenTree::Punct(p) if p.as_char() == '#' => {
                tokens.next();
            }
            // `pub(crate)` and `extern "C"`: skip their group or literal.
            TokenTree::Group(_) | TokenTree::Literal(_) => {}
            TokenTree::Ident(i)
                if [
                    "pub", "const", "async", "unsafe", "extern", "default", "safe",
                ]
                .iter()
                .any(|k| i == k) => {}
            _ => return false,
        }
    }
    false
}

/// What the item is (for the message), the tokens to point at, and a hint.
fn describe_item(item: &syn::Item) -> (&'static str, proc_macro2::TokenStream, &'static str) {
    use quote::ToTokens;
    use syn::Item;
    let q = |a: &dyn ToTokens, b: &dyn ToTokens| quote!(#a #b);
    match item {
        Item::Struct(i) => ("a struct", q(&i.struct_token, &i.ident), ""),
        Item::Enum(i) => ("an enum", q(&i.enum_token, &i.ident), ""),
        Item::Union(i) => ("a union", q(&i.union_token, &i.ident), ""),
        Item::Const(i) => ("a `const` item", q(&i.const_token, &i.ident), ""),
        Item::Static(i) => ("a `static` item", q(&i.static_token, &i.ident), ""),
        Item::Type(i) => ("a type alias", q(&i.type_token, &i.ident), ""),
        Item::Impl(i) => (
            "an `impl` block",
            q(&i.impl_token, &i.self_ty),
            "; put it on the methods inside the block instead",
        ),
        Item::Trait(i) => (
            "a trait",
            q(&i.trait_token, &i.ident),
            "; put it on the methods of the trait's implementations instead",
        ),
        Item::Mod(i) => (
            "a module",
            q(&i.mod_token, &i.ident),
            "; put it on the functions inside the module instead",
        ),
        Item::ForeignMod(i) => ("an `extern` block", i.abi.to_token_stream(), ""),
        Item::Use(i) => ("a `use` item", i.use_token.to_token_stream(), ""),
        Item::ExternCrate(i) => (
            "an `extern crate` item",
            q(&i.extern_token, &i.crate_token),
            "",
        ),
        Item::Macro(i) => ("a macro item", i.mac.path.to_token_stream(), ""),
        Item::TraitAlias(i) => ("a trait alias", q(&i.trait_token, &i.ident), ""),
        _ => ("this item", item.to_token_stream(), ""),
    }
}

/// Opens a `<name>.workflow` span around each call: the top-level unit of work.
///
/// The workflow's name goes on its span and on every span started beneath it
/// (`traceloop.workflow.name`), by anyone: the other attributes, `tracing` spans, the
/// OpenTelemetry API, LLM instruments. It is also the scope of
/// `llmetry::set_association_properties` and `llmetry::set_conversation_id`: their values
/// reach every span started later inside the workflow, and nothing outside it.
///
/// # Arguments
///
/// All optional, comma-separated, in any order; each at most once.
///
/// | argument | effect |
/// |---|---|
/// | `name = "…"` | entity name (default: the function's name, `r#` removed): `traceloop.entity.name` and the span name `<name>.workflow` |
/// | `version = N` | `traceloop.entity.version`, an integer (not written for 0, as in Python) |
/// | `skip(a, b)` | leave these parameters out of `traceloop.entity.input` (secrets, clients, large buffers) |
/// | `skip_all` | record no parameter: the input is `{"args": [], "kwargs": {}}`; not with `skip` |
/// | `capture_input = false` | no `traceloop.entity.input` on this entity |
/// | `capture_output = false` | no `traceloop.entity.output` on this entity |
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
/// - `traceloop.span.kind` = `workflow`, `traceloop.entity.name`, span kind INTERNAL,
///   instrumentation scope `traceloop.tracer`, and `traceloop.workflow.name`.
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
///     llmetry::set_association_properties([("incident_id", incident_id.to_owned())]);
///     Ok(fetch_logs("db-1", "sk-…").await.len())
/// }
///
/// // A scheduled job that must not join the trace of whoever triggers it:
/// #[workflow(name = "nightly_cleanup", new_trace, skip_all)]
/// fn nightly_cleanup(stale: Vec<String>) -> usize {
///     stale.len()
/// }
/// ```
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Workflow, args, item)
}

/// Opens a `<name>.task` span around each call: one step of a workflow.
///
/// A task extends `traceloop.entity.path` for the spans beneath it (Python's rule: a task's
/// own span carries its ancestors' path, spans inside it the full path).
///
/// # Arguments
///
/// All optional, comma-separated, in any order; each at most once.
///
/// | argument | effect |
/// |---|---|
/// | `name = "…"` | entity name (default: the function's name, `r#` removed): `traceloop.entity.name` and the span name `<name>.task` |
/// | `version = N` | `traceloop.entity.version`, an integer (not written for 0, as in Python) |
/// | `skip(a, b)` | leave these parameters out of `traceloop.entity.input` (secrets, clients, large buffers) |
/// | `skip_all` | record no parameter: the input is `{"args": [], "kwargs": {}}`; not with `skip` |
/// | `capture_input = false` | no `traceloop.entity.input` on this entity |
/// | `capture_output = false` | no `traceloop.entity.output` on this entity |
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
/// - `traceloop.span.kind` = `task`, `traceloop.entity.name`, span kind INTERNAL,
///   instrumentation scope `traceloop.tracer`.
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
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Task, args, item)
}

/// Opens a `<name>.agent` span around each call: an agent that plans and calls tools.
///
/// The agent's name goes on its span and on every span started beneath it
/// (`gen_ai.agent.name`). An agent never renames the enclosing workflow; an agent called
/// outside any workflow is the scope of `llmetry::set_association_properties`, as a
/// workflow would be.
///
/// # Arguments
///
/// All optional, comma-separated, in any order; each at most once.
///
/// | argument | effect |
/// |---|---|
/// | `name = "…"` | entity name (default: the function's name, `r#` removed): `traceloop.entity.name` and the span name `<name>.agent` |
/// | `version = N` | `traceloop.entity.version`, an integer (not written for 0, as in Python) |
/// | `skip(a, b)` | leave these parameters out of `traceloop.entity.input` (secrets, clients, large buffers) |
/// | `skip_all` | record no parameter: the input is `{"args": [], "kwargs": {}}`; not with `skip` |
/// | `capture_input = false` | no `traceloop.entity.input` on this entity |
/// | `capture_output = false` | no `traceloop.entity.output` on this entity |
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
/// - `traceloop.span.kind` = `agent`, `traceloop.entity.name`, span kind INTERNAL,
///   instrumentation scope `traceloop.tracer`, and `gen_ai.agent.name`.
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
#[proc_macro_attribute]
pub fn agent(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Agent, args, item)
}

/// Opens a `<name>.tool` span around each call: a tool an agent (or a task) calls.
///
/// The span also gets `gen_ai.tool.name` = the entity name. A tool extends
/// `traceloop.entity.path` for the spans beneath it, like a task.
///
/// # Arguments
///
/// All optional, comma-separated, in any order; each at most once.
///
/// | argument | effect |
/// |---|---|
/// | `name = "…"` | entity name (default: the function's name, `r#` removed): `traceloop.entity.name` and the span name `<name>.tool` |
/// | `version = N` | `traceloop.entity.version`, an integer (not written for 0, as in Python) |
/// | `skip(a, b)` | leave these parameters out of `traceloop.entity.input` (secrets, clients, large buffers) |
/// | `skip_all` | record no parameter: the input is `{"args": [], "kwargs": {}}`; not with `skip` |
/// | `capture_input = false` | no `traceloop.entity.input` on this entity |
/// | `capture_output = false` | no `traceloop.entity.output` on this entity |
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
/// - `traceloop.span.kind` = `tool`, `traceloop.entity.name`, span kind INTERNAL,
///   instrumentation scope `traceloop.tracer`, and `gen_ai.tool.name`.
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
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Tool, args, item)
}

//! Attribute macros of [llmetry](https://docs.rs/llmetry): `#[workflow]`, `#[task]`,
//! `#[agent]` and `#[tool]`. Use them through the `llmetry` crate
//! (`use llmetry::{workflow, task, agent, tool};`), which documents them in full.
//!
//! Each macro parses its arguments, validates them against the function, and expands to
//! the original function wrapped in an entity span. Generated code names only
//! `::llmetry::__private::…`. On a misuse it emits one spanned `compile_error!` *and* the
//! untouched function, so the user sees one error, not twenty.

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
    // A function whose body does not parse: leave it to rustc to report the user's error.
    let is_fn = item
        .clone()
        .into_iter()
        .any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "fn"));
    if is_fn {
        return item.into();
    }
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

/// Opens a `<name>.workflow` span around each call; see the `llmetry` crate docs.
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Workflow, args, item)
}

/// Opens a `<name>.task` span around each call; see the `llmetry` crate docs.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Task, args, item)
}

/// Opens a `<name>.agent` span around each call; see the `llmetry` crate docs.
#[proc_macro_attribute]
pub fn agent(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Agent, args, item)
}

/// Opens a `<name>.tool` span around each call; see the `llmetry` crate docs.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    entity(Kind::Tool, args, item)
}

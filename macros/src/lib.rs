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

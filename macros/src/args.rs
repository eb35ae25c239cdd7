//! Parsing and validating the attribute arguments.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitInt, LitStr, Token};

/// The arguments every entity attribute takes.
#[derive(Default)]
pub(crate) struct EntityArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<LitInt>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) capture_input: Option<bool>,
    pub(crate) capture_output: Option<bool>,
    pub(crate) new_trace: bool,
}

const EXPECTED: &str = "expected one of `name = \"…\"`, `version = N`, `skip(a, b)`, `skip_all`, `capture_input = false`, `capture_output = false`, `new_trace`";

impl Parse for EntityArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = EntityArgs::default();
        let mut seen: Vec<String> = Vec::new();
        let mut skip_span: Option<Span> = None;
        let mut skip_all_span: Option<Span> = None;
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let key_str = key.to_string();
            if seen.contains(&key_str) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{key_str}`"),
                ));
            }
            match key_str.as_str() {
                "name" => {
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "`name` expects a string literal, e.g. name = \"fetch_logs\"",
                        )
                    })?;
                    if lit.value().trim().is_empty() {
                        return Err(syn::Error::new(lit.span(), "`name` must not be empty"));
                    }
                    args.name = Some(lit);
                }
                "version" => {
                    input.parse::<Token![=]>()?;
                    let lit: LitInt = input.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "`version` expects a whole number, e.g. version = 2",
                        )
                    })?;
                    lit.base10_parse::<i64>()?;
                    args.version = Some(lit);
                }
                "skip" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                        &content,
                        syn::ext::IdentExt::parse_any,
                    )?;
                    args.skip = names.into_iter().collect();
                    skip_span = Some(key.span());
                }
                "skip_all" => {
                    args.skip_all = true;
                    skip_all_span = Some(key.span());
                }
                "capture_input" | "capture_output" => {
                    input.parse::<Token![=]>()?;
                    let lit: LitBool = input.parse().map_err(|e| {
                        syn::Error::new(e.span(), format!("`{key_str}` expects `true` or `false`"))
                    })?;
                    if key_str == "capture_input" {
                        args.capture_input = Some(lit.value);
                    } else {
                        args.capture_output = Some(lit.value);
                    }
                }
                "new_trace" => {
                    if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        let lit: LitBool = input.parse().map_err(|e| {
                            syn::Error::new(e.span(), "`new_trace` expects `true` or `false`")
                        })?;
                        args.new_trace = lit.value;
                    } else {
                        args.new_trace = true;
                    }
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown argument `{key_str}`: {EXPECTED}"),
                    ));
                }
            }
            seen.push(key_str);
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let (Some(_), Some(all)) = (skip_span, skip_all_span) {
            return Err(syn::Error::new(
                all,
                "`skip_all` and `skip(..)` cannot be used together",
            ));
        }
        Ok(args)
    }
}

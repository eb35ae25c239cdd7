//! Parsing and validating the attribute arguments.

use proc_macro2::{Spacing, Span, TokenTree};
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

const KEYS: &[&str] = &[
    "name",
    "version",
    "skip",
    "skip_all",
    "capture_input",
    "capture_output",
    "new_trace",
];

/// The next argument value (its tokens up to the next top-level `,`): an error pointing
/// at it whose message is `{prefix}, found `…`{suffix}`, or `found nothing`.
fn found_error(input: ParseStream<'_>, prefix: &str, suffix: &str) -> syn::Error {
    let mut cursor = input.cursor();
    let mut tokens = Vec::new();
    while let Some((tt, next)) = cursor.token_tree() {
        if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
            break;
        }
        tokens.push(tt);
        cursor = next;
    }
    let Some(first) = tokens.first() else {
        return syn::Error::new(input.span(), format!("{prefix}, found nothing{suffix}"));
    };
    let mut text = String::new();
    for (i, tt) in tokens.iter().enumerate() {
        let glued = i > 0
            && matches!(&tokens[i - 1], TokenTree::Punct(p)
                if p.spacing() == Spacing::Joint || (i == 1 && p.as_char() == '-'));
        if i > 0 && !glued {
            text.push(' ');
        }
        text.push_str(&tt.to_string());
    }
    let last = tokens.last().unwrap_or(first);
    syn::Error::new_spanned(
        quote::quote!(#first #last),
        format!("{prefix}, found `{text}`{suffix}"),
    )
}

/// Parses `= <value>` after `key`, with a message naming what was found instead.
fn value<T: Parse>(
    input: ParseStream<'_>,
    key: &Ident,
    expects: &str,
    example: &str,
) -> syn::Result<T> {
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` needs a value, e.g. `{example}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    if input.fork().parse::<T>().is_err() {
        return Err(found_error(
            input,
            &format!("`{key}` expects {expects}"),
            &format!("; e.g. `{example}`"),
        ));
    }
    input.parse()
}

/// Optimal-string-alignment distance, for "did you mean" on a misspelt argument.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    d[0] = (0..=b.len()).collect();
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

fn did_you_mean(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (distance(key, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

impl Parse for EntityArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = EntityArgs::default();
        let mut seen: Vec<String> = Vec::new();
        let mut skip_span: Option<Span> = None;
        let mut skip_all_span: Option<Span> = None;
        while !input.is_empty() {
            let key: Ident = match input.call(syn::ext::IdentExt::parse_any) {
                Ok(key) => key,
                Err(_) => {
                    return Err(found_error(
                        input,
                        "expected an argument",
                        &format!("; {EXPECTED}"),
                    ));
                }
            };
            let key_str = key.to_string();
            if seen.contains(&key_str) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{key_str}`: each argument may be given only once"),
                ));
            }
            match key_str.as_str() {
                "name" => {
                    let lit: LitStr =
                        value(input, &key, "a string literal", "name = \"fetch_logs\"")?;
                    if lit.value().trim().is_empty() {
                        return Err(syn::Error::new(
                            lit.span(),
                            "`name` must not be empty: give the entity a name, e.g. `name = \"fetch_logs\"`, or remove `name` to use the function's name",
                        ));
                    }
                    args.name = Some(lit);
                }
                "version" => {
                    let lit: LitInt = value(input, &key, "a whole number", "version = 2")?;
                    lit.base10_parse::<i64>().map_err(|e| {
                        syn::Error::new(
                            lit.span(),
                            format!("`version` must fit in an i64, found `{lit}`: {e}"),
                        )
                    })?;
                    args.version = Some(lit);
                }
                "skip" => {
                    if !matches!(
                        input.cursor().token_tree(),
                        Some((TokenTree::Group(g), _)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis
                    ) {
                        return Err(syn::Error::new(
                            key.span(),
                            "`skip` expects a list of parameter names, e.g. `skip(api_key, client)`; use `skip_all` to record no parameters",
                        ));
                    }
                    let content;
                    syn::parenthesized!(content in input);
                    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                        &content,
                        |c: ParseStream<'_>| {
                            c.call(syn::ext::IdentExt::parse_any).map_err(|_| {
                                found_error(
                                    c,
                                    "`skip` expects parameter names",
                                    "; e.g. `skip(api_key, client)`",
                                )
                            })
                        },
                    )?;
                    args.skip = names.into_iter().collect();
                    skip_span = Some(key.span());
                }
                "skip_all" => {
                    args.skip_all = true;
                    skip_all_span = Some(key.span());
                }
                "capture_input" | "capture_output" => {
                    let example = format!("{key_str} = false");
                    let lit: LitBool = value(input, &key, "`true` or `false`", &example)?;
                    if key_str == "capture_input" {
                        args.capture_input = Some(lit.value);
                    } else {
                        args.capture_output = Some(lit.value);
                    }
                }
                "new_trace" => {
                    if input.peek(Token![=]) {
                        let lit: LitBool =
                            value(input, &key, "`true` or `false`", "new_trace = true")?;
                        args.new_trace = lit.value;
                    } else {
                        args.new_trace = true;
                    }
                }
                _ => {
                    let hint = did_you_mean(&key_str)
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown argument `{key_str}`{hint}: {EXPECTED}"),
                    ));
                }
            }
            seen.push(key_str);
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![,]) {
                let key_str = seen.last().map(String::as_str).unwrap_or_default();
                let what = if key_str == "skip_all" {
                    format!("`{key_str}` takes no value")
                } else {
                    format!("expected `,` after the `{key_str}` argument")
                };
                return Err(found_error(input, &what, ""));
            }
            input.parse::<Token![,]>()?;
        }
        if let (Some(_), Some(all)) = (skip_span, skip_all_span) {
            return Err(syn::Error::new(
                all,
                "`skip_all` and `skip(..)` cannot be used together: `skip_all` already leaves out every parameter; keep one of them",
            ));
        }
        Ok(args)
    }
}

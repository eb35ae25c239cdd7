//! Step 1, parse: the attribute's arguments and the annotated item as written, with their
//! spans. Only syntax is checked here (a known argument, given once, with a value of the
//! right shape; an item that is a function); what the arguments mean for this function is
//! checked by `valid.rs`.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, ItemFn, LitBool, LitInt, LitStr, Token};

use crate::Kind;

/// The arguments every entity attribute takes, as written.
#[derive(Default)]
pub(crate) struct Args {
    /// `name = "…"`.
    pub(crate) name: Option<LitStr>,
    /// `version = N`.
    pub(crate) version: Option<LitInt>,
    /// `skip(a, b)`: the `skip` keyword and the names.
    pub(crate) skip: Option<(Ident, Vec<Ident>)>,
    /// `skip_all`: the keyword.
    pub(crate) skip_all: Option<Ident>,
    /// `capture_input = true|false`.
    pub(crate) capture_input: Option<bool>,
    /// `capture_output = true|false`.
    pub(crate) capture_output: Option<bool>,
    /// `new_trace` / `new_trace = true|false`.
    pub(crate) new_trace: bool,
    /// `redact = true|false`.
    pub(crate) redact: Option<bool>,
}

const EXPECTED: &str = "expected one of `name = \"…\"`, `version = N`, `skip(a, b)`, `skip_all`, `capture_input = false`, `capture_output = false`, `new_trace`, `redact = false`";

const KEYS: &[&str] = &[
    "name",
    "version",
    "skip",
    "skip_all",
    "capture_input",
    "capture_output",
    "new_trace",
    "redact",
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

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen: Vec<String> = Vec::new();
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
                    args.name = Some(value(
                        input,
                        &key,
                        "a string literal",
                        "name = \"fetch_logs\"",
                    )?);
                }
                "version" => {
                    args.version = Some(value(input, &key, "a whole number", "version = 2")?);
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
                    args.skip = Some((key.clone(), names.into_iter().collect()));
                }
                "skip_all" => {
                    args.skip_all = Some(key.clone());
                }
                "capture_input" | "capture_output" | "redact" => {
                    let example = format!("{key_str} = false");
                    let lit: LitBool = value(input, &key, "`true` or `false`", &example)?;
                    match key_str.as_str() {
                        "capture_input" => args.capture_input = Some(lit.value),
                        "capture_output" => args.capture_output = Some(lit.value),
                        _ => args.redact = Some(lit.value),
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
        Ok(args)
    }
}

/// Why the annotated item cannot be instrumented.
pub(crate) enum NotInstrumentable {
    /// Not a function (or a bodiless trait method): one error pointing at the item.
    Error(syn::Error),
    /// A function whose body does not parse: emit it unchanged and let rustc report the
    /// user's own syntax error.
    LeaveToRustc,
}

/// Parses the annotated item as a function with a body.
pub(crate) fn parse_item(kind: Kind, item: TokenStream) -> Result<ItemFn, NotInstrumentable> {
    if let Ok(f) = syn::parse2::<ItemFn>(item.clone()) {
        return Ok(f);
    }
    // A bodiless trait method: say where the attribute belongs.
    if let Ok(m) = syn::parse2::<syn::TraitItemFn>(item.clone())
        && m.default.is_none()
    {
        return Err(NotInstrumentable::Error(syn::Error::new_spanned(
            &m.sig,
            format!(
                "#[{}] needs a function body: put it on the method's implementation, not on its declaration",
                kind.as_str()
            ),
        )));
    }
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(parsed) => {
            let (what, head, hint) = describe_item(&parsed);
            Err(NotInstrumentable::Error(syn::Error::new_spanned(
                head,
                format!(
                    "#[{}] can only be applied to functions and methods, not to {what}{hint}",
                    kind.as_str()
                ),
            )))
        }
        Err(_) if starts_like_fn(&item) => Err(NotInstrumentable::LeaveToRustc),
        Err(_) => {
            let span = item
                .into_iter()
                .next()
                .map(|t| t.span())
                .unwrap_or_else(proc_macro2::Span::call_site);
            Err(NotInstrumentable::Error(syn::Error::new(
                span,
                format!(
                    "#[{}] can only be applied to functions and methods",
                    kind.as_str()
                ),
            )))
        }
    }
}

/// Whether `item`'s tokens, past attributes, visibility and qualifiers, begin with `fn`.
fn starts_like_fn(item: &TokenStream) -> bool {
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
fn describe_item(item: &syn::Item) -> (&'static str, TokenStream, &'static str) {
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

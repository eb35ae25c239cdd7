//! Step 2, validate: the parsed arguments checked against the function, giving the typed
//! entity model `expand.rs` emits from. Every user error not caught by the parser is found
//! here, with the span to point at; nothing after this step can fail.

use syn::spanned::Spanned;
use syn::{
    AttrStyle, Attribute, Block, Expr, FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments,
    ReturnType, Signature, Stmt, Type, TypeParamBound, Visibility,
};

use crate::Kind;
use crate::ast::Args;

/// One annotated function, validated: what to open around it and how to run its body.
pub(crate) struct Entity {
    pub(crate) kind: Kind,
    /// The entity name (`name = "…"`, else the function's name without `r#`).
    pub(crate) name: String,
    /// `traceloop.entity.version`; `None` when absent or 0 (Python writes no version 0).
    pub(crate) version: Option<i64>,
    /// The parameters recorded in `traceloop.entity.input`, in order (after `skip`,
    /// `skip_all`).
    pub(crate) recorded: Vec<Ident>,
    pub(crate) capture_input: bool,
    pub(crate) capture_output: bool,
    pub(crate) new_trace: bool,
    /// `redact = false`: the configured redaction skips this entity.
    pub(crate) redact: bool,
    /// The function around the body, unchanged.
    pub(crate) outer_attrs: Vec<Attribute>,
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Body,
}

/// How the function produces its value, which decides where the span opens and closes.
pub(crate) enum Body {
    /// A sync function, or an `async fn` whose body never awaits (it runs whole in the
    /// future's first poll): the span covers the call (that poll).
    Sync {
        stmts: Vec<Stmt>,
        /// The declared return type (`()` when none).
        ret: Type,
        output: Output,
    },
    /// An `async fn` whose body awaits, written as `fn … -> impl Future` (see
    /// `expand.rs`): its parameters are all plain bindings (`x`, `mut x`), its value is
    /// recorded (not a stream or iterator), and no other attribute sees it (one might
    /// need the `async`, as `#[tokio::main]` does).
    AsyncAsFn {
        block: Box<Block>,
        ret: Type,
        output: Output,
        /// Each typed parameter's binding and whether it was `mut`.
        params: Vec<(Ident, bool)>,
        /// Whether it has a `self` receiver (kept alive until the body completes).
        receiver: bool,
    },
    /// Any other `async fn` whose body awaits: the span covers the future's execution.
    Async {
        block: Box<Block>,
        ret: Type,
        output: Output,
    },
    /// A sync function whose body ends in `async move { .. }` or
    /// `Box::pin(async move { .. })` (async-trait, `-> impl Future`): the span covers the
    /// returned future's execution, not its construction.
    ReturnedFuture {
        /// The statements before the future.
        prefix: Vec<Stmt>,
        /// The `async move { .. }` block.
        future: Expr,
        /// Whether it was wrapped in `Box::pin`.
        boxed: bool,
        /// The future's declared output (`_` when the signature does not say).
        ret: Type,
        output: Output,
    },
}

/// What the function's (awaited) output is, for recording it.
#[derive(Clone, Copy)]
pub(crate) enum Output {
    /// A value recorded as `traceloop.entity.output`.
    Value,
    /// `Result<T, E>`: `Ok` recorded as output, `Err` as an error.
    Result,
    /// `impl Stream`: the span lives until the stream ends or is dropped.
    Stream,
    /// `impl Iterator`: the span lives until the iterator ends or is dropped.
    Iter,
}

/// Checks `args` against `item` in the order a reader meets them (arguments, then the
/// function); the first problem is the error.
pub(crate) fn validate(kind: Kind, args: Args, item: ItemFn) -> syn::Result<Entity> {
    if let Some(lit) = &args.name
        && lit.value().trim().is_empty()
    {
        return Err(syn::Error::new(
            lit.span(),
            "`name` must not be empty: give the entity a name, e.g. `name = \"fetch_logs\"`, or remove `name` to use the function's name",
        ));
    }
    let version = match &args.version {
        Some(lit) => {
            let v = lit.base10_parse::<i64>().map_err(|e| {
                syn::Error::new(
                    lit.span(),
                    format!("`version` must fit in an i64, found `{lit}`: {e}"),
                )
            })?;
            (v != 0).then_some(v)
        }
        None => None,
    };
    if let (Some(_), Some(all)) = (&args.skip, &args.skip_all) {
        return Err(syn::Error::new(
            all.span(),
            "`skip_all` and `skip(..)` cannot be used together: `skip_all` already leaves out every parameter; keep one of them",
        ));
    }
    if let Some(c) = &item.sig.constness {
        return Err(syn::Error::new(
            c.span(),
            format!(
                "#[{}] cannot be applied to a `const fn`: opening a span is runtime work; remove `const` or the attribute",
                kind.as_str()
            ),
        ));
    }
    let params = collect_params(&item.sig);
    let skipped: &[Ident] = args.skip.as_ref().map_or(&[], |(_, names)| names);
    for s in skipped {
        let s_str = unraw(s);
        if s_str != "self" && !params.iter().any(|p| unraw(p) == s_str) {
            return Err(syn::Error::new(
                s.span(),
                format!(
                    "cannot skip `{s_str}`: `fn {}` has no parameter named `{s_str}`",
                    item.sig.ident
                ),
            ));
        }
    }
    let recorded = if args.skip_all.is_some() {
        Vec::new()
    } else {
        params
            .into_iter()
            .filter(|p| !skipped.iter().any(|s| unraw(s) == unraw(p)))
            .collect()
    };

    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = item;
    let (outer_attrs, inner_attrs): (Vec<_>, Vec<_>) = attrs
        .into_iter()
        .partition(|a| matches!(a.style, AttrStyle::Outer));
    let name = args
        .name
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_else(|| unraw(&sig.ident));
    let body = body_of(&sig, &outer_attrs, block);

    Ok(Entity {
        kind,
        name,
        version,
        recorded,
        capture_input: args.capture_input.unwrap_or(true),
        capture_output: args.capture_output.unwrap_or(true),
        new_trace: args.new_trace,
        redact: args.redact.unwrap_or(true),
        outer_attrs,
        inner_attrs,
        vis,
        sig,
        body,
    })
}

fn body_of(sig: &Signature, outer_attrs: &[Attribute], block: Box<Block>) -> Body {
    if sig.asyncness.is_some() {
        let ret = declared_type(&sig.output);
        let output = classify(&ret);
        // A body that never awaits runs whole in the future's first poll: it can run as a
        // sync body does, in the span for that one poll, and the `async fn` keeps a state
        // machine without a suspension point, the plain one's.
        if !awaits(&block) {
            return Body::Sync {
                output,
                ret,
                stmts: block.stmts,
            };
        }
        if let Some((params, receiver)) = as_fn_params(sig, outer_attrs, output) {
            return Body::AsyncAsFn {
                block,
                ret,
                output,
                params,
                receiver,
            };
        }
        return Body::Async { output, ret, block };
    }
    if let Some((prefix, future, boxed)) = returned_future(&block) {
        let ret = future_output(&sig.output).unwrap_or_else(|| syn::parse_quote!(_));
        return Body::ReturnedFuture {
            prefix,
            future,
            boxed,
            output: classify(&ret),
            ret,
        };
    }
    let ret = declared_type(&sig.output);
    Body::Sync {
        output: classify(&ret),
        ret,
        stmts: block.stmts,
    }
}

/// Whether `block` awaits, itself: an `.await` outside nested `async` blocks, closures
/// and items, or a macro call that may (any but [`NON_AWAITING_MACROS`]: `join!` and
/// `select!` await in their expansion; and any whose input holds an `await` token,
/// `println!("{}", f().await)`, the input not being parsed).
fn awaits(block: &Block) -> bool {
    struct Finder(bool);
    impl syn::visit::Visit<'_> for Finder {
        fn visit_expr_await(&mut self, _: &syn::ExprAwait) {
            self.0 = true;
        }
        // Their awaits are their own futures' (or their own errors).
        fn visit_expr_async(&mut self, _: &syn::ExprAsync) {}
        fn visit_expr_closure(&mut self, _: &syn::ExprClosure) {}
        fn visit_item(&mut self, _: &syn::Item) {}
        fn visit_macro(&mut self, mac: &syn::Macro) {
            if !non_awaiting_macro(&mac.path) || mentions_await(mac.tokens.clone()) {
                self.0 = true;
            }
        }
    }
    fn mentions_await(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "await",
            proc_macro2::TokenTree::Group(g) => mentions_await(g.stream()),
            _ => false,
        })
    }
    let mut f = Finder(false);
    syn::visit::Visit::visit_block(&mut f, block);
    f.0
}

/// Macros whose expansion awaits nothing of its own, by crate; called by bare name (as
/// imported) or as `crate::name!` (`std`'s also through `core` and `alloc`). Any other
/// macro in an `async fn` keeps the body in the `async` shape.
const NON_AWAITING_MACROS: &[(&str, &[&str])] = &[
    (
        "std",
        &[
            "assert",
            "assert_eq",
            "assert_ne",
            "debug_assert",
            "debug_assert_eq",
            "debug_assert_ne",
            "panic",
            "todo",
            "unimplemented",
            "unreachable",
            "format",
            "format_args",
            "print",
            "println",
            "eprint",
            "eprintln",
            "write",
            "writeln",
            "vec",
            "matches",
            "dbg",
            "concat",
            "stringify",
            "line",
            "column",
            "file",
            "module_path",
            "cfg",
            "env",
            "option_env",
            "include_str",
            "include_bytes",
        ],
    ),
    (
        "tracing",
        &[
            "trace",
            "debug",
            "info",
            "warn",
            "error",
            "event",
            "span",
            "trace_span",
            "debug_span",
            "info_span",
            "warn_span",
            "error_span",
            "enabled",
        ],
    ),
    (
        "log",
        &[
            "trace",
            "debug",
            "info",
            "warn",
            "error",
            "log",
            "log_enabled",
        ],
    ),
    ("anyhow", &["anyhow", "bail", "ensure", "format_err"]),
    ("serde_json", &["json"]),
];

fn non_awaiting_macro(path: &syn::Path) -> bool {
    let Some(name) = path.segments.last().map(|s| s.ident.to_string()) else {
        return false;
    };
    let krate = match path.segments.len() {
        1 if path.leading_colon.is_none() => None,
        2 => path.segments.first().map(|s| s.ident.to_string()),
        _ => return false,
    };
    NON_AWAITING_MACROS.iter().any(|&(c, names)| {
        let crate_ok = match krate.as_deref() {
            None => true,
            Some(k) => k == c || (c == "std" && (k == "core" || k == "alloc")),
        };
        crate_ok && names.contains(&name.as_str())
    })
}

/// Attributes that see an `async fn` written as `fn … -> impl Future` as they saw it:
/// lints, docs, `cfg`, inlining. Any other (an attribute macro after ours, `#[tokio::main]`,
/// `#[tracing::instrument]`) keeps the `async fn`.
const ATTRS_KEPT_AS_FN: &[&str] = &[
    "doc",
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "cfg",
    "inline",
    "must_use",
    "deprecated",
    "cold",
];

/// The parameters of an awaiting `async fn` that can be written as `fn … -> impl Future`,
/// with whether it has a receiver; `None` when it cannot: a pattern other than a plain
/// binding (its bindings would need a second, borrowing, copy of the pattern for the
/// input), `unsafe`, a stream or iterator output, or an attribute not in
/// [`ATTRS_KEPT_AS_FN`].
fn as_fn_params(
    sig: &Signature,
    outer_attrs: &[Attribute],
    output: Output,
) -> Option<(Vec<(Ident, bool)>, bool)> {
    if !matches!(output, Output::Value | Output::Result) || sig.unsafety.is_some() {
        return None;
    }
    let attrs_kept = outer_attrs.iter().all(|a| {
        a.path()
            .get_ident()
            .is_some_and(|i| ATTRS_KEPT_AS_FN.iter().any(|k| i == k))
    });
    if !attrs_kept {
        return None;
    }
    let mut params = Vec::new();
    let mut receiver = false;
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(_) => receiver = true,
            FnArg::Typed(pt) => match &*pt.pat {
                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    params.push((pi.ident.clone(), pi.mutability.is_some()));
                }
                _ => return None,
            },
        }
    }
    Some((params, receiver))
}

fn declared_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, t) => (**t).clone(),
    }
}

fn last_ident(path: &syn::Path) -> Option<String> {
    path.segments.last().map(|s| s.ident.to_string())
}

fn classify(ty: &Type) -> Output {
    match ty {
        Type::ImplTrait(it) => {
            for b in &it.bounds {
                if let TypeParamBound::Trait(t) = b {
                    match last_ident(&t.path).as_deref() {
                        Some("Stream" | "TryStream") => return Output::Stream,
                        Some("Iterator" | "DoubleEndedIterator" | "ExactSizeIterator") => {
                            return Output::Iter;
                        }
                        _ => {}
                    }
                }
            }
            Output::Value
        }
        Type::Path(tp)
            if tp.qself.is_none() && last_ident(&tp.path).as_deref() == Some("Result") =>
        {
            Output::Result
        }
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        _ => Output::Value,
    }
}

/// The `Output = R` of a `impl Future<Output = R>` or `Pin<Box<dyn Future<Output = R> + …>>`.
fn future_output(output: &ReturnType) -> Option<Type> {
    fn from_bounds<'a>(bounds: impl Iterator<Item = &'a TypeParamBound>) -> Option<Type> {
        for b in bounds {
            if let TypeParamBound::Trait(t) = b
                && last_ident(&t.path).as_deref() == Some("Future")
                && let Some(seg) = t.path.segments.last()
                && let PathArguments::AngleBracketed(ab) = &seg.arguments
            {
                for a in &ab.args {
                    if let GenericArgument::AssocType(at) = a
                        && at.ident == "Output"
                    {
                        return Some(at.ty.clone());
                    }
                }
            }
        }
        None
    }
    fn walk(ty: &Type) -> Option<Type> {
        match ty {
            Type::ImplTrait(it) => from_bounds(it.bounds.iter()),
            Type::TraitObject(to) => from_bounds(to.bounds.iter()),
            Type::Paren(p) => walk(&p.elem),
            Type::Group(g) => walk(&g.elem),
            Type::Path(tp) => {
                let seg = tp.path.segments.last()?;
                if let PathArguments::AngleBracketed(ab) = &seg.arguments {
                    for a in &ab.args {
                        if let GenericArgument::Type(t) = a
                            && let Some(found) = walk(t)
                        {
                            return Some(found);
                        }
                    }
                }
                None
            }
            _ => None,
        }
    }
    match output {
        ReturnType::Type(_, t) => walk(t),
        ReturnType::Default => None,
    }
}

/// If the body ends in `async move { .. }` or `Box::pin(async move { .. })`, returns the
/// statements before it, the async block, and whether it was boxed.
fn returned_future(block: &Block) -> Option<(Vec<Stmt>, Expr, bool)> {
    let (last, prefix) = block.stmts.split_last()?;
    let Stmt::Expr(expr, None) = last else {
        return None;
    };
    match expr {
        Expr::Async(_) => Some((prefix.to_vec(), expr.clone(), false)),
        Expr::Call(call) => {
            let Expr::Path(func) = &*call.func else {
                return None;
            };
            let segs: Vec<String> = func
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let is_box_pin =
                segs.len() >= 2 && segs[segs.len() - 1] == "pin" && segs[segs.len() - 2] == "Box";
            if is_box_pin && call.args.len() == 1 && matches!(call.args[0], Expr::Async(_)) {
                Some((prefix.to_vec(), call.args[0].clone(), true))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The identifiers the parameters bind (receivers excluded), in order.
fn collect_params(sig: &Signature) -> Vec<Ident> {
    fn from_pat(pat: &Pat, out: &mut Vec<Ident>) {
        match pat {
            Pat::Ident(pi) => {
                if pi.ident != "self" {
                    out.push(pi.ident.clone());
                }
                if let Some((_, sub)) = &pi.subpat {
                    from_pat(sub, out);
                }
            }
            Pat::Tuple(t) => t.elems.iter().for_each(|p| from_pat(p, out)),
            Pat::TupleStruct(t) => t.elems.iter().for_each(|p| from_pat(p, out)),
            Pat::Struct(s) => s.fields.iter().for_each(|f| from_pat(&f.pat, out)),
            Pat::Slice(s) => s.elems.iter().for_each(|p| from_pat(p, out)),
            Pat::Reference(r) => from_pat(&r.pat, out),
            Pat::Paren(p) => from_pat(&p.pat, out),
            Pat::Type(t) => from_pat(&t.pat, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for arg in &sig.inputs {
        if let FnArg::Typed(pt) = arg {
            from_pat(&pt.pat, &mut out);
        }
    }
    out
}

/// An identifier without its `r#` prefix.
pub(crate) fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

//! Expansion of an annotated function.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Block, Expr, FnArg, GenericArgument, Ident, ItemFn, LitStr, Pat, PathArguments,
    ReturnType, Stmt, Type, TypeParamBound,
};

use crate::Kind;
use crate::args::EntityArgs;

/// What the function's (awaited) output is, for recording it.
enum Output {
    /// A value recorded as `traceloop.entity.output`.
    Value,
    /// `Result<T, E>`: `Ok` recorded as output, `Err` as an error.
    Result,
    /// `impl Stream`: the span lives until the stream ends or is dropped.
    Stream,
    /// `impl Iterator`: the span lives until the iterator ends or is dropped.
    Iter,
}

/// Validates `item` against `args`; on success returns the instrumented function.
pub(crate) fn expand(kind: Kind, args: EntityArgs, item: ItemFn) -> syn::Result<TokenStream> {
    if let Some(c) = &item.sig.constness {
        return Err(syn::Error::new(
            c.span(),
            format!(
                "#[{}] cannot be applied to a `const fn`: opening a span is runtime work; remove `const` or the attribute",
                kind.attr()
            ),
        ));
    }
    let params = collect_params(&item);
    for s in &args.skip {
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
        .map(LitStr::value)
        .unwrap_or_else(|| unraw(&sig.ident));
    let span_name = LitStr::new(&format!("{name}.{}", kind.as_str()), Span::call_site());
    let name_lit = LitStr::new(&name, Span::call_site());
    let kind_path = format_ident!("{}", kind.variant());

    let p = quote!(::llmetry::__private);
    // Entity attributes are added by the enrichment processor from `EntityMeta` (static
    // strings, no per-call allocation), so the tracing span itself carries no fields.
    let version = match &args.version {
        Some(v) => {
            let v: i64 = v.base10_parse()?;
            if v == 0 {
                quote!(#p::core::option::Option::None)
            } else {
                quote!(#p::core::option::Option::Some(#v))
            }
        }
        None => quote!(#p::core::option::Option::None),
    };
    let parent = if args.new_trace {
        quote!(parent: #p::core::option::Option::<#p::tracing::Id>::None,)
    } else {
        quote!()
    };
    let capture_input = args.capture_input.unwrap_or(true);
    let capture_output = args.capture_output.unwrap_or(true);
    let new_trace = args.new_trace;

    let writes = if args.skip_all {
        Vec::new()
    } else {
        params
            .iter()
            .filter(|p| !args.skip.iter().any(|s| unraw(s) == unraw(p)))
            .map(|ident| {
                let key = LitStr::new(&unraw(ident), ident.span());
                quote!((&&&#p::Capture(&#ident)).llmetry_write_json(__llmetry_w.key(#key));)
            })
            .collect()
    };

    let start = quote! {
        let __llmetry_scope = if #p::is_active() {
            const __LLMETRY_META: #p::EntityMeta = #p::EntityMeta {
                kind: #p::EntityKind::#kind_path,
                name: #name_lit,
                version: #version,
                capture_input: #capture_input,
                capture_output: #capture_output,
                new_trace: #new_trace,
            };
            #p::EntityScope::start(
                &__LLMETRY_META,
                || #p::tracing::span!(target: "llmetry", #parent #p::tracing::Level::INFO, #span_name),
                #[allow(unused_variables, clippy::needless_borrow)]
                |__llmetry_w: &mut #p::InputJson| {
                    #[allow(unused_imports)]
                    use #p::{CaptureDebug as _, CaptureSerialize as _, CaptureTypeName as _};
                    #(#writes)*
                },
            )
        } else {
            #p::EntityScope::inert()
        };
    };

    let body = if sig.asyncness.is_some() {
        let ret = declared_type(&sig.output);
        let output = classify(&ret);
        let fake = fake_return(&ret);
        let run = quote! {
            let (__llmetry_ret, __llmetry_scope) = #p::EntityFuture::new(
                async move {
                    #fake
                    #block
                },
                __llmetry_scope,
            )
            .await;
        };
        let finish = finish(&output);
        quote! { #start #run #finish }
    } else if let Some((prefix, tail, wrap_box)) = returned_future(&block) {
        // A future built by the function (async-trait, `-> impl Future { async move {..} }`):
        // the span covers the future's execution, not its construction.
        let ret = future_output(&sig.output).unwrap_or_else(|| syn::parse_quote!(_));
        let output = classify(&ret);
        let finish = finish(&output);
        let fut = quote! {
            async move {
                let (__llmetry_ret, __llmetry_scope) = #p::EntityFuture::new(#tail, __llmetry_scope).await;
                #finish
            }
        };
        let fut = if wrap_box {
            quote!(::std::boxed::Box::pin(#fut))
        } else {
            fut
        };
        quote! { #start #(#prefix)* #fut }
    } else {
        let ret = declared_type(&sig.output);
        let output = classify(&ret);
        let fake = fake_return(&ret);
        let erased = erase_impl_trait(ret.clone());
        let stmts = &block.stmts;
        let run = quote! {
            let __llmetry_ret: #erased = {
                let __llmetry_enter = __llmetry_scope.enter();
                #[allow(clippy::redundant_closure_call)]
                (move || {
                    #fake
                    #(#stmts)*
                })()
            };
        };
        let finish = finish(&output);
        quote! { #start #run #finish }
    };

    Ok(quote! {
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #body
        }
    })
}

/// Code that records the outcome of `__llmetry_ret` on `__llmetry_scope` and yields the
/// value to return.
fn finish(output: &Output) -> TokenStream {
    let p = quote!(::llmetry::__private);
    let write = |v: TokenStream| {
        quote! {
            __llmetry_scope.record_output(#[allow(clippy::needless_borrow)] |__llmetry_o: &mut ::std::string::String| {
                #[allow(unused_imports)]
                use #p::{CaptureDebug as _, CaptureSerialize as _, CaptureTypeName as _};
                (&&&#p::Capture(#v)).llmetry_write_json(__llmetry_o)
            });
        }
    };
    match output {
        Output::Value => {
            let w = write(quote!(&__llmetry_ret));
            quote! { #w __llmetry_ret }
        }
        Output::Result => {
            let w = write(quote!(__llmetry_v));
            quote! {
                match &__llmetry_ret {
                    #p::core::result::Result::Ok(__llmetry_v) => { #w }
                    #[allow(clippy::needless_borrow)]
                    #p::core::result::Result::Err(__llmetry_e) => {
                        #[allow(unused_imports)]
                        use #p::{DescribeDebug as _, DescribeDisplay as _, DescribeTypeName as _};
                        __llmetry_scope.record_error(
                            (&&&#p::Capture(__llmetry_e)).llmetry_describe(),
                            #p::type_name_of(__llmetry_e),
                        );
                    }
                }
                __llmetry_ret
            }
        }
        Output::Stream => quote!(#p::EntityStream::new(__llmetry_ret, __llmetry_scope)),
        Output::Iter => quote!(#p::EntityIter::new(__llmetry_ret, __llmetry_scope)),
    }
}

/// `if false { let x: R = loop {}; return x; }`: pins the closure's or async block's
/// return type to the declared one, so `?` and `.into()` infer as in the original body.
fn fake_return(ret: &Type) -> TokenStream {
    if contains_impl_trait(ret) {
        return quote!();
    }
    quote_spanned! {ret.span()=>
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop, clippy::needless_return, clippy::let_unit_value, clippy::let_with_type_underscore)]
        if false {
            let __llmetry_fake_return: #ret = loop {};
            return __llmetry_fake_return;
        }
    }
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

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl syn::visit::Visit<'_> for Finder {
        fn visit_type_impl_trait(&mut self, _: &syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut f = Finder(false);
    syn::visit::Visit::visit_type(&mut f, ty);
    f.0
}

/// Replaces `impl Trait` with `_` so the type can annotate a `let`.
fn erase_impl_trait(mut ty: Type) -> Type {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::ImplTrait(it) = t {
                *t = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](it.impl_token.span),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, t);
            }
        }
    }
    Eraser.visit_type_mut(&mut ty);
    ty
}

/// The identifiers the parameters bind (receivers excluded), in order.
fn collect_params(item: &ItemFn) -> Vec<Ident> {
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
    for arg in &item.sig.inputs {
        if let FnArg::Typed(pt) = arg {
            from_pat(&pt.pat, &mut out);
        }
    }
    out
}

fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

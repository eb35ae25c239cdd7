//! Step 3, expand: the validated entity model turned into tokens. Nothing here can fail or
//! inspect the user's code any more; the generated code names only
//! `::llmetry::__private::…`.
//!
//! Shape of a sync function, and of an `async fn` whose body never awaits (`valid.rs` gives
//! it as `Body::Sync`: it runs whole in the future's first poll, so that poll runs inside the
//! span as a sync call does, and before `init()` the `async fn` keeps the plain one's state
//! machine, one state, nothing moved; +14 instructions over the plain `async fn`, where the
//! shape below costs +80):
//!
//! ```text
//! let scope = if is_active() { EntityScope::start(..) } else { None };
//! let body = move || { <original body> };
//! match scope {
//!     None => body(),                       // before init(): the plain call
//!     Some(scope) => scope.run(body, |ret, scope| record output or error, |ret, scope| ret),
//! }
//! ```
//!
//! An `async fn` whose body awaits, with plain parameters (`x`, `mut x`), a value (not a
//! stream or iterator) and no other attribute macro, is written as `fn … -> impl Future`
//! (`Body::AsyncAsFn`): one state machine, the body's, where an `async fn` awaiting the
//! traced future would be a second around it (+84 instructions before `init()`; this shape
//! +43):
//!
//! ```text
//! fn f(x: T) -> impl Future<Output = R> {   // `impl` in the macro's edition, see below
//!     LazyEntityFuture::new(&META, (x,), |(x,), w| write input, || span!(..),
//!         move |(x,)| async move { let _ = (&x,); <original body> }, |ret, scope| record ..)
//! }                                         // before init(): the body's future plus a tag
//! ```
//!
//! The span opens at the first poll, under the context current there, as an `async fn`'s
//! would; every parameter lives until the body completes and they drop last first, as in
//! the `async fn` (`runtime/tests/async_fn_as_fn.rs` compares the two).
//!
//! Any other `async fn` whose body awaits awaits one future, made in a block that ends
//! before the await (so the scope is not kept beside it in the `async fn`'s state):
//!
//! ```text
//! {
//!     let scope = if is_active() { EntityScope::start(..) } else { None };
//!     EntityFuture::new(scope, async move { <original body> }, |ret, scope| record ..)
//! }.await                                   // untraced: the body's future plus a tag
//! ```
//!
//! (A stream or iterator returned by an `async fn` gets the scope back with the value from
//! `ScopedEntityFuture`, to wrap it with.)
//!
//! Not done: emitting an awaiting body twice, as written in the `async fn` for the untraced
//! path and in the `async move` block for the traced one (measured at +46 instructions over
//! the plain `async fn` before `init()`): a mismatch of the body's value with the return
//! type is then reported twice (once per copy, with different notes, so rustc does not
//! merge them), the body compiles twice, and items in it (a `static`, an `impl` of an outer
//! type, a `thread_local!`) would exist twice.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{LitStr, Type};

use crate::valid::{Body, Entity, Output, unraw};

impl Entity {
    /// The instrumented function.
    pub(crate) fn expand(self) -> TokenStream {
        let p = private();
        // An `async fn` written as `fn … -> impl Future` hands its parameters to the input
        // writer by reference (as a borrowed tuple); every other shape writes from the
        // parameters themselves.
        let as_fn = matches!(self.body, Body::AsyncAsFn { .. });
        let writes = if as_fn {
            self.input_writes(|ident| quote!(#ident))
        } else {
            self.input_writes(|ident| quote!(&#ident))
        };
        let meta = self.meta();
        let span = self.make_span();
        let start = (!as_fn).then(|| start(&meta, &span, &writes));
        let Entity {
            outer_attrs,
            inner_attrs,
            vis,
            mut sig,
            body,
            ..
        } = self;
        let body = match body {
            Body::AsyncAsFn {
                block,
                ret,
                output,
                params,
                receiver,
            } => {
                as_fn_signature(&mut sig, &ret);
                lazy_future(
                    &meta, &span, &writes, &block, &ret, output, &params, receiver,
                )
            }
            Body::Sync { stmts, ret, output } => {
                let fake = fake_return(&ret);
                let erased = erase_impl_trait(ret);
                let plain = untraced(output, quote!(__llmetry_body()));
                let record = record(output);
                let wrap = wrap(output);
                quote! {
                    #start
                    // `mut`: a body mutating through a captured `&mut self` is an `FnMut`.
                    #[allow(unused_mut)]
                    let mut __llmetry_body = move || {
                        #fake
                        #(#stmts)*
                    };
                    match __llmetry_scope {
                        #p::core::option::Option::None => #plain,
                        #p::core::option::Option::Some(__llmetry_scope) => __llmetry_scope.run(
                            __llmetry_body,
                            |__llmetry_ret: &#erased, __llmetry_scope: &#p::EntityScope| { #record },
                            |__llmetry_ret: #erased, __llmetry_scope: #p::EntityScope| #wrap,
                        ),
                    }
                }
            }
            Body::Async { block, ret, output } => {
                let fake = fake_return(&ret);
                // The scope is made, and moved into the future awaited, in a block that ends
                // before the await: nothing of it is kept across the await but that future.
                let traced = awaitable(
                    quote! {
                        async move {
                            #fake
                            #block
                        }
                    },
                    &erase_impl_trait(ret.clone()),
                    output,
                );
                awaited(output, quote!({ #start #traced }))
            }
            Body::ReturnedFuture {
                prefix,
                future,
                boxed,
                ret,
                output,
            } => {
                let traced = awaitable(quote!(#future), &erase_impl_trait(ret), output);
                let awaited = awaited(output, traced);
                let fut = quote! {
                    async move {
                        #awaited
                    }
                };
                let fut = if boxed {
                    quote!(::std::boxed::Box::pin(#fut))
                } else {
                    fut
                };
                quote! { #start #(#prefix)* #fut }
            }
        };
        quote! {
            #(#outer_attrs)*
            #vis #sig {
                #(#inner_attrs)*
                #body
            }
        }
    }

    /// `const __LLMETRY_META: EntityMeta = …;`, what the entity is.
    fn meta(&self) -> TokenStream {
        let p = private();
        let name = LitStr::new(&self.name, Span::call_site());
        let kind = format_ident!("{}", self.kind.variant());
        let version = match self.version {
            Some(v) => quote!(#p::core::option::Option::Some(#v)),
            None => quote!(#p::core::option::Option::None),
        };
        let (capture_input, capture_output, new_trace, redact) = (
            self.capture_input,
            self.capture_output,
            self.new_trace,
            self.redact,
        );
        quote! {
            const __LLMETRY_META: #p::EntityMeta = #p::EntityMeta {
                kind: #p::EntityKind::#kind,
                name: #name,
                version: #version,
                capture_input: #capture_input,
                capture_output: #capture_output,
                new_trace: #new_trace,
                redact: #redact,
            };
        }
    }

    /// `|| span!(…)`: makes the entity's tracing span. Entity attributes are added by the
    /// enrichment processor from `EntityMeta` (static strings, no per-call allocation), so
    /// the tracing span itself carries no fields.
    fn make_span(&self) -> TokenStream {
        let p = private();
        let span_name = LitStr::new(
            &format!("{}.{}", self.name, self.kind.as_str()),
            Span::call_site(),
        );
        let parent = if self.new_trace {
            quote!(parent: #p::core::option::Option::<#p::tracing::Id>::None,)
        } else {
            quote!()
        };
        quote! {
            || #p::tracing::span!(target: "llmetry", #parent #p::tracing::Level::INFO, #span_name)
        }
    }

    /// Writes each recorded parameter into `__llmetry_w` (an `InputJson`); `borrow` gives
    /// the reference to a parameter from its binding.
    fn input_writes(&self, borrow: impl Fn(&syn::Ident) -> TokenStream) -> TokenStream {
        let p = private();
        let writes = self.recorded.iter().map(|ident| {
            let key = LitStr::new(&unraw(ident), ident.span());
            let r = borrow(ident);
            quote!((&&&#p::Capture(#r)).llmetry_write_json(__llmetry_w.key(#key));)
        });
        quote!(#(#writes)*)
    }
}

/// `let __llmetry_scope: Option<EntityScope> = …;`: the entity span, opened only when
/// telemetry is installed (`meta`, `span`, `writes`: from `Entity::meta`, `make_span`,
/// `input_writes`).
fn start(meta: &TokenStream, span: &TokenStream, writes: &TokenStream) -> TokenStream {
    let p = private();
    quote! {
        let __llmetry_scope = if #p::is_active() {
            #meta
            #p::EntityScope::start(
                &__LLMETRY_META,
                #span,
                #[allow(unused_variables, clippy::needless_borrow)]
                |__llmetry_w: &mut #p::InputJson| {
                    #[allow(unused_imports)]
                    use #p::{CaptureDebug as _, CaptureSerialize as _, CaptureTypeName as _};
                    #writes
                },
            )
        } else {
            #p::core::option::Option::None
        };
    }
}

/// The body of an awaiting `async fn` written as `fn … -> impl Future` (the signature is
/// changed by `as_fn_signature`): one `LazyEntityFuture` holding the parameters, the input
/// and span makers, the body's future maker and the recorder. `writes` reads each recorded
/// parameter through a reference (the parameters reach the input maker as `&(A, B, …)`).
#[allow(clippy::too_many_arguments)]
fn lazy_future(
    meta: &TokenStream,
    span: &TokenStream,
    writes: &TokenStream,
    block: &syn::Block,
    ret: &Type,
    output: Output,
    params: &[(syn::Ident, bool)],
    receiver: bool,
) -> TokenStream {
    let p = private();
    let fake = fake_return(ret);
    let erased = erase_impl_trait(ret.clone());
    let record = record(output);
    let idents: Vec<&syn::Ident> = params.iter().map(|(i, _)| i).collect();
    // The body's future takes the parameters as the `async fn` did (`mut` where they
    // were), and mentions each, last first: an `async move` block keeps only what it
    // mentions, and drops what it keeps in the order first mentioned, where an
    // `async fn` keeps every parameter, used or not, until its body completes and drops
    // them last first (`self` last). Rebinding each (`let x = x;`) would give that
    // order too, at a copy per parameter.
    let bindings = params.iter().map(|(i, m)| {
        let m = m.then(|| quote!(mut));
        quote!(#m #i)
    });
    let reversed = idents.iter().rev();
    let self_ref = receiver.then(|| quote!(&self,));
    quote! {
        #meta
        #p::LazyEntityFuture::new(
            &__LLMETRY_META,
            (#(#idents,)*),
            #[allow(unused_variables, clippy::needless_borrow)]
            |__llmetry_args: &_, __llmetry_w: &mut #p::InputJson| {
                #[allow(unused_imports)]
                use #p::{CaptureDebug as _, CaptureSerialize as _, CaptureTypeName as _};
                let (#(#idents,)*) = __llmetry_args;
                #writes
            },
            #span,
            move |(#(#bindings,)*)| async move {
                let _ = (#(&#reversed,)* #self_ref);
                #fake
                #block
            },
            |__llmetry_ret: &#erased, __llmetry_scope: &#p::EntityScope| { #record },
        )
    }
}

/// `async fn f(mut x: T) -> R` as `fn f(x: T) -> impl Future<Output = R>` (the `mut` moves
/// to the parameter of the closure that makes the body's future). The `impl` is given the macro's own span: a proc macro's tokens
/// carry its crate's edition (2024), whose `impl Trait` in return position captures every
/// lifetime in scope, elided ones included, as an `async fn` does; in an edition-2021
/// caller, a `-> impl Future` written there would capture only the lifetimes it names.
fn as_fn_signature(sig: &mut syn::Signature, ret: &Type) {
    let p = private();
    sig.asyncness = None;
    for arg in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(pt) = arg
            && let syn::Pat::Ident(pi) = &mut *pt.pat
        {
            pi.mutability = None;
        }
    }
    let impl_token = quote_spanned!(Span::mixed_site()=> impl);
    let arrow = match &sig.output {
        syn::ReturnType::Type(arrow, _) => *arrow,
        syn::ReturnType::Default => syn::Token![->](sig.paren_token.span.join()),
    };
    sig.output = syn::ReturnType::Type(
        arrow,
        Box::new(syn::parse_quote_spanned! {ret.span()=>
            #impl_token #p::core::future::Future<Output = #ret>
        }),
    );
}

fn private() -> TokenStream {
    quote!(::llmetry::__private)
}

/// The future to await: `future` (whose output is `ret`) inside the entity span
/// `__llmetry_scope` when there is one, else as is (`EntityFuture`).
fn awaitable(future: TokenStream, ret: &Type, output: Output) -> TokenStream {
    let p = private();
    let record = record(output);
    let wrapper = match output {
        Output::Value | Output::Result => quote!(EntityFuture),
        Output::Stream | Output::Iter => quote!(ScopedEntityFuture),
    };
    quote! {
        #p::#wrapper::new(
            __llmetry_scope,
            #future,
            |__llmetry_ret: &#ret, __llmetry_scope: &#p::EntityScope| { #record },
        )
    }
}

/// Awaits `awaitable` (an expression giving an `EntityFuture`, or a
/// `ScopedEntityFuture` for a stream or iterator) and gives the value to return.
fn awaited(output: Output, awaitable: TokenStream) -> TokenStream {
    let p = private();
    match output {
        Output::Value | Output::Result => quote!(#awaitable.await),
        Output::Stream | Output::Iter => {
            let plain = untraced(output, quote!(__llmetry_ret));
            let wrap = wrap(output);
            quote! {
                let (__llmetry_ret, __llmetry_scope) = #awaitable.await;
                match __llmetry_scope {
                    #p::core::option::Option::None => #plain,
                    #p::core::option::Option::Some(__llmetry_scope) => #wrap,
                }
            }
        }
    }
}

/// The value of an untraced call: `value` itself, or the stream or iterator wrapped
/// without a span (an `impl Trait` return has one concrete type on both paths).
fn untraced(output: Output, value: TokenStream) -> TokenStream {
    let p = private();
    match output {
        Output::Value | Output::Result => value,
        Output::Stream => {
            quote!(#p::EntityStream::new(#value, #p::core::option::Option::None))
        }
        Output::Iter => quote!(#p::EntityIter::new(#value, #p::core::option::Option::None)),
    }
}

/// Code that records the outcome of `__llmetry_ret` (a reference to the returned value)
/// on `__llmetry_scope` (a reference to the scope), while the span is still entered.
fn record(output: Output) -> TokenStream {
    let p = private();
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
        Output::Value => write(quote!(__llmetry_ret)),
        Output::Result => {
            let w = write(quote!(__llmetry_v));
            quote! {
                match __llmetry_ret {
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
            }
        }
        // Streams and iterators record no output; the span lives on in the wrapper.
        Output::Stream | Output::Iter => quote! {
            let _ = (__llmetry_ret, __llmetry_scope);
        },
    }
}

/// The value to return, from `__llmetry_ret` and `__llmetry_scope` (both owned): the value
/// itself, or the stream or iterator wrapped with the scope.
fn wrap(output: Output) -> TokenStream {
    let p = private();
    match output {
        Output::Value | Output::Result => quote!(__llmetry_ret),
        Output::Stream => quote! {
            #p::EntityStream::new(__llmetry_ret, #p::core::option::Option::Some(__llmetry_scope))
        },
        Output::Iter => quote! {
            #p::EntityIter::new(__llmetry_ret, #p::core::option::Option::Some(__llmetry_scope))
        },
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

//! `Momentum` and `Adam`: optimizer state laid out like `Params`, and `momentum_step` and
//! `adam_step`, which update each weight where `sgd_step` would, inside the backward pass.
//! The arithmetic of one element is the runtime's (`momentum_update`, `adam_update`), the
//! same in the batch functions.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::EmitError;
use super::context::Ctx;
use super::gradient::backward;
use super::loops::Write;
use crate::model::Shape;

/// The statement that updates element `index` of parameter `field` with gradient `g`.
pub fn update(
    ctx: &Ctx<'_>,
    write: Write,
    field: &Ident,
    index: &TokenStream,
    g: TokenStream,
) -> TokenStream {
    let (p, s, k) = (&ctx.p, ctx.names.local("s"), ctx.names.local("k"));
    match write {
        Write::Momentum => quote! {
            ::chainrule::runtime::momentum_update(&mut #p.#field #index, &mut #s.buf.#field #index, #g, &#k);
        },
        _ => quote! {
            ::chainrule::runtime::adam_update(&mut #p.#field #index, &mut #s.m.#field #index, &mut #s.v.#field #index, #g, &#k);
        },
    }
}

/// The index of element `e` of a parameter of `shape`: `[1][0]`, `[2]` or nothing.
fn index(shape: Shape, e: usize) -> TokenStream {
    super::context::element_index(shape, e)
}

/// Consecutive straight-line elements of one parameter, updated together: `start..start + len`
/// of the backward pass's elements, parameter `q`'s elements `e0..e0 + len`.
struct Run {
    q: usize,
    e0: usize,
    start: usize,
    len: usize,
}

/// The runs of straight-line elements `(parameter, element)`, in order.
fn runs(elements: &[(usize, usize)]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < elements.len() {
        let (q, e0) = elements[start];
        let len = elements[start..]
            .iter()
            .enumerate()
            .take_while(|(i, (q2, e))| *q2 == q && *e == e0 + i)
            .count();
        out.push(Run { q, e0, start, len });
        start += len;
    }
    out
}

/// The gradient of each run, bound where the backward pass computes it: a lone element's as
/// `let gradN: F`, a longer run's as one array `let gradN: [F; len]` that its update reads.
fn run_bindings(ctx: &Ctx<'_>, runs: &[Run], values: &[&TokenStream]) -> Vec<TokenStream> {
    runs.iter()
        .map(|run| {
            let name = ctx.names.local(&format!("grad{}", run.start));
            let v = &values[run.start..run.start + run.len];
            if run.len == 1 {
                quote! { let #name: F = #(#v)*; }
            } else {
                let len = proc_macro2::Literal::usize_unsuffixed(run.len);
                quote! { let #name: [F; #len] = [#(#v),*]; }
            }
        })
        .collect()
}

/// The update of each run: a lone element on its own, a longer run as one loop
/// (`adam_update_run`, which LLVM vectorizes where separate element updates stayed scalar).
fn run_updates(ctx: &Ctx<'_>, write: Write, runs: &[Run]) -> Vec<TokenStream> {
    let (p, s, k) = (&ctx.p, ctx.names.local("s"), ctx.names.local("k"));
    runs.iter()
        .map(|run| {
            let name = ctx.names.local(&format!("grad{}", run.start));
            let (field, shape) = (&ctx.param_fields[run.q], ctx.network.params[run.q].shape);
            if run.len == 1 {
                return update(ctx, write, field, &index(shape, run.e0), quote! { #name });
            }
            let flat =
                |owner: TokenStream| flattened(owner, shape.rank(), run.e0, run.e0 + run.len);
            match write {
                Write::Momentum => {
                    let (pf, bf) = (flat(quote! { #p.#field }), flat(quote! { #s.buf.#field }));
                    quote! { ::chainrule::runtime::momentum_update_run(#pf, #bf, &#name, &#k); }
                }
                _ => {
                    let (pf, mf, vf) = (
                        flat(quote! { #p.#field }),
                        flat(quote! { #s.m.#field }),
                        flat(quote! { #s.v.#field }),
                    );
                    quote! { ::chainrule::runtime::adam_update_run(#pf, #mf, #vf, &#name, &#k); }
                }
            }
        })
        .collect()
}

/// `&mut owner` as one row-major slice of its elements `lo..hi` (`as_flattened_mut` once per
/// axis past the first).
fn flattened(owner: TokenStream, rank: usize, lo: usize, hi: usize) -> TokenStream {
    let flatten = (1..rank).map(|_| quote! { .as_flattened_mut() });
    let (lo, hi) = (
        proc_macro2::Literal::usize_unsuffixed(lo),
        proc_macro2::Literal::usize_unsuffixed(hi),
    );
    quote! { &mut #owner #(#flatten)* [#lo..#hi] }
}

/// One optimizer's step function: the backward pass of `sgd_step` with `write`'s update.
fn step(ctx: &Ctx<'_>, write: Write) -> Result<TokenStream, EmitError> {
    let (p, data_args) = (&ctx.p, &ctx.data_args);
    let (s, k) = (ctx.names.local("s"), ctx.names.local("k"));
    let backward = backward(ctx, write)?;
    let elements: Vec<(usize, usize)> =
        backward.elements.iter().map(|(q, e, _)| (*q, *e)).collect();
    let values: Vec<&TokenStream> = backward.elements.iter().map(|(_, _, v)| v).collect();
    let runs = runs(&elements);
    let bindings = run_bindings(ctx, &runs, &values);
    let updates = run_updates(ctx, write, &runs);
    let (statements, loops) = (&backward.statements, &backward.loops);
    let loss_before = ctx.names.local("loss_before");
    let inline = backward.inline.then(|| quote! { #[inline] });
    Ok(match write {
        Write::Momentum => quote! {
            /// One step of gradient descent with momentum, as PyTorch's
            /// `SGD(momentum = s.mu)`: `buf = mu * buf + dL/dp; p -= lr * buf`, in place;
            /// returns the loss before it.
            #inline
            pub fn momentum_step(#p: &mut Params, #s: &mut Momentum, #data_args) -> F {
                let #k = ::chainrule::runtime::MomentumStep { lr: #s.lr, mu: #s.mu };
                #(#statements)*
                #(#bindings)*
                #(#loops)*
                #(#updates)*
                #loss_before
            }
        },
        _ => quote! {
            /// One Adam step (AdamW when `s.weight_decay` is not zero), as PyTorch documents
            /// it, bias-corrected, in place; returns the loss before it.
            #inline
            pub fn adam_step(#p: &mut Params, #s: &mut Adam, #data_args) -> F {
                #s.t = #s.t.saturating_add(1);
                let #k = ::chainrule::runtime::AdamStep::with_powers(#s.lr, #s.beta1, #s.beta2, #s.eps, #s.weight_decay, #s.powers.at(#s.beta1, #s.beta2, #s.t));
                #(#statements)*
                #(#bindings)*
                #(#loops)*
                #(#updates)*
                #loss_before
            }
        },
    })
}

/// The state structs, `momentum_step` and `adam_step`.
pub fn optimizers(ctx: &Ctx<'_>) -> Result<TokenStream, EmitError> {
    let momentum = step(ctx, Write::Momentum)?;
    let adam = step(ctx, Write::Adam)?;
    Ok(quote! {
        /// The state of gradient descent with momentum (PyTorch's `SGD(momentum = mu)`, no
        /// dampening): one velocity per parameter element, laid out like [`Params`].
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct Momentum {
            /// The learning rate.
            pub lr: F,
            /// The momentum factor.
            pub mu: F,
            /// The velocity of every element, zero before the first step.
            pub buf: Params,
        }

        impl Momentum {
            /// A fresh state.
            pub fn new(lr: F, mu: F) -> Self {
                Momentum { lr, mu, buf: Params::zeros() }
            }
        }

        /// The state of Adam (PyTorch's `Adam`, and `AdamW` with a weight decay): the first
        /// and second moments of every element, laid out like [`Params`], and the step count.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct Adam {
            /// The learning rate.
            pub lr: F,
            /// The decay rates of the first and second moments.
            pub beta1: F,
            pub beta2: F,
            /// Added to the square root of the second moment.
            pub eps: F,
            /// Decoupled weight decay (AdamW): `p -= lr * weight_decay * p` before each update.
            pub weight_decay: F,
            /// Steps taken.
            pub t: u32,
            /// `beta1^t` and `beta2^t` of the last step, kept by the steps (recomputed when
            /// `t` or a beta was changed in between); `AdamPowers::new(beta1, beta2)` for a
            /// state built by hand.
            pub powers: ::chainrule::runtime::AdamPowers<F>,
            /// The first moment of every element.
            pub m: Params,
            /// The second moment of every element.
            pub v: Params,
        }

        impl Adam {
            /// Adam with PyTorch's defaults: `beta1` 0.9, `beta2` 0.999, `eps` 1e-8, no decay.
            pub fn new(lr: F) -> Self {
                Adam::with(lr, 0.9, 0.999, 1e-8, 0.0)
            }

            /// Adam with every setting; a non-zero `weight_decay` makes it AdamW.
            pub fn with(lr: F, beta1: F, beta2: F, eps: F, weight_decay: F) -> Self {
                Adam {
                    lr,
                    beta1,
                    beta2,
                    eps,
                    weight_decay,
                    t: 0,
                    powers: ::chainrule::runtime::AdamPowers::new(beta1, beta2),
                    m: Params::zeros(),
                    v: Params::zeros(),
                }
            }
        }

        #momentum
        #adam
    })
}

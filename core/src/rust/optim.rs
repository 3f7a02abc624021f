//! `Momentum` and `Adam`: optimizer state laid out like `Params`, and `momentum_step` and
//! `adam_step`, which update each weight where `sgd_step` would, inside the backward pass.
//! The arithmetic of one element is the runtime's (`momentum_update`, `adam_update`), the
//! same in the batch functions.

use proc_macro2::TokenStream;
use quote::quote;

use super::EmitError;
use super::context::Ctx;
use super::gradient::backward;
use super::loops::Write;
use super::updates::straight_line;

/// One optimizer's step function: the backward pass of `sgd_step` with `write`'s update.
fn step(ctx: &Ctx<'_>, write: Write) -> Result<TokenStream, EmitError> {
    let (p, data_args) = (&ctx.p, &ctx.data_args);
    let (s, k) = (ctx.names.local("s"), ctx.names.local("k"));
    let backward = backward(ctx, write)?;
    let (bindings, updates) = straight_line(ctx, write, &backward.elements);
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

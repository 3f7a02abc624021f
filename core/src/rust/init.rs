//! `Params::boxed`, `boxed_zeros`, `boxed_init` and `init`: parameters built on the heap with
//! no stack temporary, and random starting weights scaled by each layer's fan-in.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::context::{Ctx, shaped};
use crate::builtin::Builtin;
use crate::ir::Node;
use crate::model::{Shape, Symbol};

/// How one weight matrix is initialised: `(fan_in, fan_out, relu)`.
fn scaling(ctx: &Ctx<'_>, q: usize) -> (usize, usize, bool) {
    let derivation = ctx.derivation;
    let layout = &derivation.layout;
    let len = ctx.network.params[q].shape.len();
    let first = layout.var(Symbol::Param(q), 0);
    let Some(&d) = derivation.consumers[first.index()].first() else {
        return (len, 1, false);
    };
    let definition = &derivation.forward[d];
    // The elements of this matrix one unit reads: its fan-in.
    let fan_in = definition
        .partials
        .iter()
        .filter(|(v, _)| matches!(layout.slot(*v), crate::layout::Slot::Value(Symbol::Param(p), _) if p == q))
        .count()
        .max(1);
    let graph = &derivation.graph;
    // The activation applied to the unit: inside its own definition (`relu(W @ x + b)`), or
    // by the first vector that reads it (`a = relu(z)`).
    let activation = match graph.node(definition.value) {
        Node::Func(f, _) => Some(*f),
        _ => derivation.consumers[definition.var.index()]
            .iter()
            .find_map(|&c| match graph.node(derivation.forward[c].value) {
                Node::Func(f, a) if *graph.node(*a) == Node::Var(definition.var) => Some(*f),
                _ => None,
            }),
    };
    (fan_in, len / fan_in, activation == Some(Builtin::Relu))
}

/// The constructors on the heap and `init`.
pub fn constructors(ctx: &Ctx<'_>) -> TokenStream {
    let network = ctx.network;
    let literals = ctx.codegen();
    let declared: Vec<TokenStream> = network
        .params
        .iter()
        .zip(&ctx.param_fields)
        .filter_map(|(p, field)| {
            let values: Vec<TokenStream> = p
                .default
                .as_ref()?
                .iter()
                .map(|x| literals.literal(*x))
                .collect();
            let value = shaped(&values, p.shape);
            Some(quote! { params.#field = #value; })
        })
        .collect();
    let random: Vec<TokenStream> = network
        .params
        .iter()
        .enumerate()
        .zip(&ctx.param_fields)
        .filter(|((_, p), _)| matches!(p.shape, Shape::Matrix(..)) && p.default.is_none())
        .map(|((q, _), field)| {
            let (fan_in, fan_out, relu) = scaling(ctx, q);
            let (fan_in, fan_out) = (
                Literal::usize_unsuffixed(fan_in),
                Literal::usize_unsuffixed(fan_out),
            );
            let stream = Literal::u64_suffixed(q as u64);
            quote! {
                let limit = ::chainrule::runtime::init_limit(#fan_in, #fan_out, #relu);
                let mut rng = ::chainrule::runtime::SplitMix64::new(seed, #stream);
                for w in params.#field.as_flattened_mut() {
                    *w = <F as ::chainrule::runtime::Real>::from_f64(rng.symmetric(limit));
                }
            }
        })
        .collect();
    quote! {
        impl Params {
            /// Every parameter zero, on the heap: no stack temporary, whatever the size.
            pub fn boxed_zeros() -> Box<Params> {
                // SAFETY: `Params` holds only arrays of floats, for which zero bytes are 0.0.
                unsafe { ::chainrule::runtime::zeroed_box::<Params>() }
            }

            /// The values declared in the network, zeros elsewhere, on the heap.
            pub fn boxed() -> Box<Params> {
                let mut params = Params::boxed_zeros();
                #(#declared)*
                params
            }

            /// Random starting weights, on the heap: each weight matrix uniform with the
            /// usual fan-in scaling (He, `sqrt(6 / fan_in)`, for a layer that feeds `relu`;
            /// Glorot, `sqrt(6 / (fan_in + fan_out))`, for sigmoid, tanh and linear layers);
            /// biases and other vectors zero; declared values kept. The same weights for the
            /// same seed on every machine.
            pub fn boxed_init(seed: u64) -> Box<Params> {
                let mut params = Params::boxed();
                #(#random)*
                params
            }

            /// [`Params::boxed_init`] by value.
            pub fn init(seed: u64) -> Params {
                *Params::boxed_init(seed)
            }
        }
    }
}

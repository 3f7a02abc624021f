//! `Params::boxed`, `boxed_zeros`, `boxed_init` and `init`: parameters built on the heap with
//! no stack temporary, and random starting weights scaled by each layer's fan-in.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::context::{Ctx, shaped};
use crate::builtin::Builtin;
use crate::derive::Derivation;
use crate::ir::Node;
use crate::model::{Network, Shape, Symbol};

/// How `Params::init` sets one parameter; `chainrule eval --init` draws by the same rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Start {
    /// The value declared in the network.
    Declared,
    /// A weight matrix (or a kernel of three or four axes) without a declared value: uniform in `[-limit, limit)`, with
    /// `runtime::init_limit(fan_in, fan_out, relu)`, from `SplitMix64::new(seed, stream)`.
    Random {
        /// The elements of the matrix one unit reads.
        fan_in: usize,
        /// The matrix's other dimension (its size over `fan_in`).
        fan_out: usize,
        /// Whether the unit feeds `relu` (He scaling) rather than anything else (Glorot).
        relu: bool,
        /// The generator's stream: the parameter's index, so that adding a layer does not
        /// change the others' weights.
        stream: u64,
    },
    /// Any other parameter without a declared value (a bias, a scalar): zero.
    Zero,
}

/// How `Params::init` sets parameter `q` of `network`.
pub fn param_start(network: &Network, derivation: &Derivation, q: usize) -> Start {
    let param = &network.params[q];
    match (param.default.is_some(), param.shape) {
        (true, _) => Start::Declared,
        (false, Shape::Matrix(..) | Shape::Tensor(_)) => {
            let (fan_in, fan_out, relu) = scaling(network, derivation, q);
            Start::Random {
                fan_in,
                fan_out,
                relu,
                stream: q as u64,
            }
        }
        (false, _) => Start::Zero,
    }
}

/// How one weight matrix is initialised: `(fan_in, fan_out, relu)`.
fn scaling(network: &Network, derivation: &Derivation, q: usize) -> (usize, usize, bool) {
    let layout = &derivation.layout;
    let len = network.params[q].shape.len();
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

/// `init` (core only), then the constructors on the heap (`std`).
pub fn constructors(ctx: &Ctx<'_>) -> (TokenStream, TokenStream) {
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
    let random: Vec<TokenStream> = (0..network.params.len())
        .zip(&ctx.param_fields)
        .filter_map(|(q, field)| {
            let Start::Random {
                fan_in,
                fan_out,
                relu,
                stream,
            } = param_start(network, ctx.derivation, q)
            else {
                return None;
            };
            let (fan_in, fan_out) = (
                Literal::usize_unsuffixed(fan_in),
                Literal::usize_unsuffixed(fan_out),
            );
            let stream = Literal::u64_suffixed(stream);
            let weights =
                super::context::flat_slice(quote! { params.#field }, network.params[q].shape, true);
            Some(quote! {
                let limit = ::chainrule::runtime::init_limit(#fan_in, #fan_out, #relu);
                let mut rng = ::chainrule::runtime::SplitMix64::new(seed, #stream);
                for w in #weights {
                    *w = <F as ::chainrule::runtime::Real>::from_f64(rng.symmetric(limit));
                }
            })
        })
        .collect();
    let core = quote! {
        impl Params {
            /// Random starting weights: each weight matrix uniform with the usual fan-in
            /// scaling (He, `sqrt(6 / fan_in)`, for a layer that feeds `relu`; Glorot,
            /// `sqrt(6 / (fan_in + fan_out))`, for sigmoid, tanh and linear layers); biases
            /// and other vectors zero; declared values kept. The same weights for the same
            /// seed on every machine.
            pub fn init(seed: u64) -> Params {
                let mut params = Params::default();
                params.__randomize(seed);
                params
            }

            /// Draws the weights [`Params::init`] describes into `self`.
            fn __randomize(&mut self, seed: u64) {
                let params = self;
                #(#random)*
            }
        }
    };
    let std = quote! {
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

            /// [`Params::init`] on the heap: no stack temporary, whatever the size.
            pub fn boxed_init(seed: u64) -> Box<Params> {
                let mut params = Params::boxed();
                params.__randomize(seed);
                params
            }
        }
    };
    (core, std)
}

//! `Params`: the struct of every trainable parameter, its constructors and its conversions
//! (flat arrays, `ndarray`).

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::context::{Ctx, element_paths, shaped};
use crate::model::Symbol;

/// The `Params` struct, `Default`, `zeros`, `ELEMENTS`, `flat` and the `ndarray` conversions.
pub fn params(ctx: &Ctx<'_>) -> TokenStream {
    let network = ctx.network;
    let layout = &ctx.derivation.layout;
    let (param_fields, param_types) = (&ctx.param_fields, &ctx.param_types);
    let literals = ctx.codegen();
    let defaults: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| {
            let values: Vec<TokenStream> = match &p.default {
                Some(v) => v.iter().map(|x| literals.literal(*x)).collect(),
                None => vec![literals.literal(0.0); p.shape.len()],
            };
            shaped(&values, p.shape)
        })
        .collect();
    let zeros: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| shaped(&vec![literals.literal(0.0); p.shape.len()], p.shape))
        .collect();
    let count_lit = &ctx.count_lit;
    let element_names: Vec<String> = network
        .params
        .iter()
        .enumerate()
        .flat_map(|(i, _)| {
            layout
                .vars(Symbol::Param(i))
                .map(|v| layout.describe(network, v))
                .collect::<Vec<_>>()
        })
        .collect();
    let self_paths = self_paths(ctx);
    let param_names: Vec<&str> = network.params.iter().map(|p| p.name.as_str()).collect();
    let param_dims: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| {
            let dims = p.shape.dims().into_iter().map(Literal::usize_unsuffixed);
            quote! { &[#(#dims),*] }
        })
        .collect();
    let param_lens: Vec<Literal> = network
        .params
        .iter()
        .map(|p| Literal::usize_unsuffixed(p.shape.len()))
        .collect();
    quote! {
        /// Every trainable parameter, named as in the network.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct Params {
            #(pub #param_fields: #param_types,)*
        }

        impl Default for Params {
            /// The values declared in the network, zeros elsewhere.
            fn default() -> Self {
                Params { #(#param_fields: #defaults,)* }
            }
        }

        impl Params {
            /// Every parameter zero.
            pub fn zeros() -> Self {
                Params { #(#param_fields: #zeros,)* }
            }

            /// The names of the elements, in the order of [`Params::flat`]: `W1[0][1]`, ...
            pub const ELEMENTS: [&'static str; #count_lit] = [#(#element_names),*];

            /// Every element, row-major, parameter by parameter.
            pub fn flat(&self) -> [F; #count_lit] {
                [#(#self_paths),*]
            }

            /// Every parameter as an `ndarray` array, by name.
            pub fn to_ndarray(&self) -> ::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>> {
                let flat = self.flat();
                let mut out = ::std::collections::BTreeMap::new();
                let mut at = 0usize;
                #(
                    let dims: &[usize] = #param_dims;
                    let values = flat[at..at + #param_lens].to_vec();
                    at += #param_lens;
                    out.insert(#param_names.to_string(), ::chainrule::ndarray::ArrayD::from_shape_vec(::chainrule::ndarray::IxDyn(dims), values).expect("shape matches its length")); // ok: generated code; the values slice has exactly the product of dims elements
                )*
                let _ = at;
                out
            }

            /// Parameters from `ndarray` arrays by name; a missing name keeps its default,
            /// an unknown name or a wrong shape is an error.
            pub fn from_ndarray(arrays: &::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>>) -> Result<Self, ::chainrule::runtime::ShapeError> {
                let known: &[&str] = &[#(#param_names),*];
                if let Some(unknown) = arrays.keys().find(|k| !known.contains(&k.as_str())) {
                    return Err(::chainrule::runtime::ShapeError::new(unknown.clone(), "a parameter of this network", "an unknown name"));
                }
                let mut flat = Params::default().flat();
                let mut at = 0usize;
                #(
                    let dims: &[usize] = #param_dims;
                    if let Some(array) = arrays.get(#param_names) {
                        if array.shape() != dims {
                            return Err(::chainrule::runtime::ShapeError::new(#param_names, format!("shape {:?}", dims), format!("shape {:?}", array.shape())));
                        }
                        for (slot, value) in flat[at..at + #param_lens].iter_mut().zip(array.iter()) {
                            *slot = *value;
                        }
                    }
                    at += #param_lens;
                )*
                let _ = at;
                let mut params = Params::zeros();
                params.set_flat(&flat);
                Ok(params)
            }
        }
    }
}

fn self_paths(ctx: &Ctx<'_>) -> Vec<TokenStream> {
    ctx.network
        .params
        .iter()
        .zip(&ctx.param_fields)
        .flat_map(|(p, field)| element_paths(&quote! { self.#field }, p.shape))
        .collect()
}

/// `Params::set_flat`.
pub fn set_flat(ctx: &Ctx<'_>) -> TokenStream {
    let count_lit = &ctx.count_lit;
    let self_paths = self_paths(ctx);
    let placeholders: Vec<Ident> = (0..ctx.network.param_count())
        .map(|i| format_ident!("e{}", i, span = proc_macro2::Span::mixed_site()))
        .collect();
    quote! {
        impl Params {
            /// Sets every element from [`Params::flat`] order.
            pub fn set_flat(&mut self, values: &[F; #count_lit]) {
                let [#(#placeholders),*] = *values;
                #(#self_paths = #placeholders;)*
            }
        }
    }
}

/// `PARAMS`, `DATA` and `gradient_flat`.
pub fn flat_gradient(ctx: &Ctx<'_>) -> TokenStream {
    let network = ctx.network;
    let (f, count_lit) = (&ctx.f, &ctx.count_lit);
    let batch_fields: Vec<&Ident> = ctx.input_idents.iter().chain(&ctx.target_idents).collect();
    let data_sizes: Vec<Literal> = network
        .inputs
        .iter()
        .chain(&network.targets)
        .map(|v| Literal::usize_unsuffixed(v.size))
        .collect();
    let data_len = Literal::usize_unsuffixed(
        network
            .inputs
            .iter()
            .chain(&network.targets)
            .map(|v| v.size)
            .sum(),
    );
    quote! {
        /// How many parameter elements [`gradient_flat`] takes.
        pub const PARAMS: usize = #count_lit;
        /// How many input and target elements [`gradient_flat`] takes.
        pub const DATA: usize = #data_len;

        /// [`gradient`] over flat arrays: parameters in [`Params::flat`] order, then every
        /// input and target element in declaration order. For generic callers (tests,
        /// benchmarks).
        pub fn gradient_flat(params: &[F; #count_lit], data: &[F; #data_len]) -> (F, [F; #count_lit]) {
            let mut parameters = Params::zeros();
            parameters.set_flat(params);
            let mut at = 0usize;
            #(
                let mut #batch_fields = [<#f as ::chainrule::runtime::Real>::ZERO; #data_sizes];
                #batch_fields.copy_from_slice(&data[at..at + #data_sizes]);
                at += #data_sizes;
            )*
            let _ = at;
            let (loss, g) = gradient(&parameters, #(&#batch_fields,)*);
            (loss, g.flat())
        }

        /// [`sgd_step`] over flat arrays, in the order of [`gradient_flat`].
        pub fn sgd_step_flat(params: &mut [F; #count_lit], data: &[F; #data_len], lr: F) -> F {
            let mut parameters = Params::zeros();
            parameters.set_flat(params);
            let mut at = 0usize;
            #(
                let mut #batch_fields = [<#f as ::chainrule::runtime::Real>::ZERO; #data_sizes];
                #batch_fields.copy_from_slice(&data[at..at + #data_sizes]);
                at += #data_sizes;
            )*
            let _ = at;
            let loss = sgd_step(&mut parameters, #(&#batch_fields,)* lr);
            *params = parameters.flat();
            loss
        }
    }
}

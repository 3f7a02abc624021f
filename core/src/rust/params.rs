//! `Params`: the struct of every trainable parameter, its constructors and its conversions
//! (flat arrays, `ndarray`).

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::context::{Ctx, shaped};
use crate::model::Symbol;

/// Networks with at most this many parameter elements get `Params::ELEMENTS`.
const MAX_ELEMENT_TABLE: usize = 20_000;

/// The `Params` struct, `Default`, `zeros`, `ELEMENTS`, `flat` and `add_to` (core only), then
/// what needs `std`: `element_name`, `to_vec`, the `ndarray` conversions and the JSON ones.
pub fn params(ctx: &Ctx<'_>) -> (TokenStream, TokenStream) {
    let network = ctx.network;
    let layout = &ctx.derivation.layout;
    let (param_fields, param_types) = (&ctx.param_fields, &ctx.param_types);
    let literals = ctx.codegen();
    let zero = literals.literal(0.0);
    // Zeros as repeat expressions: a few tokens whatever the size.
    let zeros: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| super::context::repeated(p.shape, zero.clone()))
        .collect();
    let defaults: Vec<TokenStream> = network
        .params
        .iter()
        .zip(&zeros)
        .map(|(p, zeros)| match &p.default {
            Some(v) => {
                let values: Vec<TokenStream> = v.iter().map(|x| literals.literal(*x)).collect();
                shaped(&values, p.shape)
            }
            None => zeros.clone(),
        })
        .collect();
    let count_lit = &ctx.count_lit;
    let small = network.param_count() <= MAX_ELEMENT_TABLE;
    let element_names: Vec<String> = if small {
        network
            .params
            .iter()
            .enumerate()
            .flat_map(|(i, _)| {
                layout
                    .vars(Symbol::Param(i))
                    .map(|v| layout.describe(network, v))
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        Vec::new()
    };
    // A table of names is worth its compile time only while a network is small.
    let elements = small.then(|| {
        quote! {
            /// The names of the elements, in the order of [`Params::flat`]: `W1[0][1]`, ...
            /// (for networks of at most 20,000 elements; [`Params::element_name`] for all).
            pub const ELEMENTS: [&'static str; #count_lit] = [#(#element_names),*];
        }
    });
    let self_slices = slices(ctx, &quote! { self }, false);
    let params_slices = slices(ctx, &quote! { params }, true);
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
    let core = quote! {
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

            #elements

            /// Every element, row-major, parameter by parameter.
            pub fn flat(&self) -> [F; #count_lit] {
                let mut out = [<F as ::chainrule::runtime::Real>::ZERO; #count_lit];
                let mut at = 0usize;
                #(
                    out[at..at + #param_lens].copy_from_slice(#self_slices);
                    at += #param_lens;
                )*
                let _ = at;
                out
            }

            /// Adds every element, in [`Params::flat`] order, to `acc` (the batch functions'
            /// accumulator), with no copy of the parameters on the stack.
            pub fn add_to(&self, acc: &mut [F]) {
                let mut at = 0usize;
                #(
                    for (a, v) in acc[at..at + #param_lens].iter_mut().zip(#self_slices) {
                        *a += *v;
                    }
                    at += #param_lens;
                )*
                let _ = at;
            }
        }
    };
    let json = json(ctx, &param_names, &param_dims);
    let std = quote! {
        impl Params {
            /// The name of element `i` in the order of [`Params::flat`]: `W1[0][1]`, ...
            pub fn element_name(i: usize) -> String {
                let mut at = i;
                #(
                    if at < #param_lens {
                        return ::chainrule::runtime::element_name(#param_names, #param_dims, at);
                    }
                    at -= #param_lens;
                )*
                format!("element {i} of {}", #count_lit)
            }

            /// [`Params::flat`] on the heap.
            pub fn to_vec(&self) -> Vec<F> {
                let mut out = Vec::with_capacity(#count_lit);
                #(out.extend_from_slice(#self_slices);)*
                out
            }

            /// Every parameter as an `ndarray` array, by name.
            pub fn to_ndarray(&self) -> ::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>> {
                let mut out = ::std::collections::BTreeMap::new();
                #(
                    let dims: &[usize] = #param_dims;
                    let values = (#self_slices).to_vec();
                    out.insert(#param_names.to_string(), ::chainrule::ndarray::ArrayD::from_shape_vec(::chainrule::ndarray::IxDyn(dims), values).expect("shape matches its length")); // ok: generated code; the values slice has exactly the product of dims elements
                )*
                out
            }

            /// Parameters from `ndarray` arrays by name; a missing name keeps its default,
            /// an unknown name or a wrong shape is an error.
            pub fn from_ndarray(arrays: &::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>>) -> Result<Self, ::chainrule::runtime::ShapeError> {
                let known: &[&str] = &[#(#param_names),*];
                if let Some(unknown) = arrays.keys().find(|k| !known.contains(&k.as_str())) {
                    return Err(::chainrule::runtime::ShapeError::new(unknown.clone(), "a parameter of this network", "an unknown name"));
                }
                let mut params = Params::boxed();
                #(
                    let dims: &[usize] = #param_dims;
                    if let Some(array) = arrays.get(#param_names) {
                        if array.shape() != dims {
                            return Err(::chainrule::runtime::ShapeError::new(#param_names, format!("shape {:?}", dims), format!("shape {:?}", array.shape())));
                        }
                        for (slot, value) in (#params_slices).iter_mut().zip(array.iter()) {
                            *slot = *value;
                        }
                    }
                )*
                Ok(*params)
            }
        }

        #json
    };
    (core, std)
}

/// Each parameter of `base` as a slice of its elements, row-major.
fn slices(ctx: &Ctx<'_>, base: &TokenStream, mutable: bool) -> Vec<TokenStream> {
    ctx.network
        .params
        .iter()
        .zip(&ctx.param_fields)
        .map(|(p, field)| super::context::flat_slice(quote! { #base.#field }, p.shape, mutable))
        .collect()
}

/// `Params::set_flat`.
pub fn set_flat(ctx: &Ctx<'_>) -> TokenStream {
    let count_lit = &ctx.count_lit;
    let slices = slices(ctx, &quote! { self }, true);
    let lens: Vec<Literal> = ctx
        .network
        .params
        .iter()
        .map(|p| Literal::usize_unsuffixed(p.shape.len()))
        .collect();
    quote! {
        impl Params {
            /// Sets every element from [`Params::flat`] order.
            pub fn set_flat(&mut self, values: &[F; #count_lit]) {
                let mut at = 0usize;
                #(
                    (#slices).copy_from_slice(&values[at..at + #lens]);
                    at += #lens;
                )*
                let _ = at;
            }
        }
    }
}

/// `PARAMS`, `DATA` and `gradient_flat`.
pub fn flat_gradient(ctx: &Ctx<'_>) -> TokenStream {
    let network = ctx.network;
    let (f, count_lit) = (&ctx.f, &ctx.count_lit);
    let batch_fields: Vec<&Ident> = ctx.input_idents.iter().chain(&ctx.target_idents).collect();
    let local = |name: &str| ctx.names.local(name);
    let (params, data, parameters, at) = (
        local("params"),
        local("data"),
        local("parameters"),
        local("at"),
    );
    let (loss, g, lr) = (local("loss"), local("g"), local("lr"));
    // Each datum's elements from the flat data: an array copied, a scalar read by value.
    let mut unpack = Vec::new();
    let mut passed = Vec::new();
    for (v, field) in network
        .inputs
        .iter()
        .chain(&network.targets)
        .zip(&batch_fields)
    {
        let n = Literal::usize_unsuffixed(v.size);
        if v.kind == chainrule_grammar::TargetKind::Label {
            // The flat layout holds a label as its one-hot vector.
            unpack.push(quote! {
                let #field = ::chainrule::runtime::class_of(&#data[#at..#at + #n]);
                #at += #n;
            });
            passed.push(quote! { #field });
        } else if v.shape == crate::model::Shape::Scalar {
            unpack.push(quote! { let #field = #data[#at]; #at += 1; });
            passed.push(quote! { #field });
        } else {
            let zero = super::context::repeated(
                v.shape,
                quote! { <#f as ::chainrule::runtime::Real>::ZERO },
            );
            let slots = super::context::flat_receiver(quote! { #field }, v.shape, true);
            unpack.push(quote! {
                let mut #field = #zero;
                #slots.copy_from_slice(&#data[#at..#at + #n]);
                #at += #n;
            });
            passed.push(quote! { &#field });
        }
    }
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
        pub fn gradient_flat(#params: &[F; #count_lit], #data: &[F; #data_len]) -> (F, [F; #count_lit]) {
            let mut #parameters = Params::zeros();
            #parameters.set_flat(#params);
            let mut #at = 0usize;
            #(#unpack)*
            let _ = #at;
            let (#loss, #g) = gradient(&#parameters, #(#passed,)*);
            (#loss, #g.flat())
        }

        /// [`sgd_step`] over flat arrays, in the order of [`gradient_flat`].
        pub fn sgd_step_flat(#params: &mut [F; #count_lit], #data: &[F; #data_len], #lr: F) -> F {
            let mut #parameters = Params::zeros();
            #parameters.set_flat(#params);
            let mut #at = 0usize;
            #(#unpack)*
            let _ = #at;
            let #loss = sgd_step(&mut #parameters, #(#passed,)* #lr);
            *#params = #parameters.flat();
            #loss
        }
    }
}

/// `Params::to_json`, `Params::from_json` and `ParamsError` (the `--params` layout).
fn json(ctx: &Ctx<'_>, names: &[&str], dims: &[TokenStream]) -> TokenStream {
    let network = ctx.network;
    let self_slices = slices(ctx, &quote! { self }, false);
    let params_slices = slices(ctx, &quote! { params }, true);
    let declared = network.params.iter().map(|p| p.default.is_some());
    let network_name = &network.name;
    let indices = (0..names.len()).map(Literal::usize_unsuffixed);
    quote! {
        /// Why [`Params::from_json`] refused a text: the JSON path and the reason.
        pub use ::chainrule::runtime::ParamsError;

        impl Params {
            /// Every parameter as JSON in the `--params` layout of `chainrule eval` (a
            /// name to a number array of its shape, row-major), numbers in shortest
            /// round-trip form: `chainrule eval --params` reads what this writes.
            pub fn to_json(&self) -> String {
                ::chainrule::runtime::json::to_json::<F>(&[
                    #(::chainrule::runtime::json::Entry { name: #names, dims: #dims, values: #self_slices },)*
                ])
            }

            /// Parameters from JSON in the `--params` layout, read as `chainrule eval` reads
            /// it: a parameter missing from the text keeps the value the network declares
            /// (missing from both is an error), and an unknown name, a key given twice, a
            /// wrong shape or a value that is not a finite number is an error naming its
            /// JSON path (`W1[2][0]: expected a number, found a string`).
            pub fn from_json(text: &str) -> Result<Params, ParamsError> {
                let read = ::chainrule::runtime::json::from_json(text, #network_name, &[
                    #(::chainrule::runtime::json::Expected { name: #names, dims: #dims, declared: #declared },)*
                ])?;
                let mut params = Params::boxed();
                #(
                    if let Some(values) = &read[#indices] {
                        for (slot, value) in (#params_slices).iter_mut().zip(values) {
                            *slot = <F as ::chainrule::runtime::Real>::from_f64(*value);
                        }
                    }
                )*
                Ok(*params)
            }
        }
    }
}

//! The stand-in module for a network with errors. It has the items of a real expansion
//! (RUST_API.md) with their real types wherever the network still determines them, so that
//! the error in the network is the only one the user sees: `p.W1[0][1] = 0.5`,
//! `forward(&p, &x).y` and `sgd_step(&mut p, &x, &t, 0.1)` still type-check. Only what
//! truly cannot be known is permissive: a parameter or vector of unknown size is an
//! indexable placeholder, and the flat views of an unknown number of elements are slices.
//! No function body ever runs: the crate does not compile.

use chainrule_core::check::{DataForm, NetworkOutline};
use chainrule_core::model::Shape;
use chainrule_core::rust::Float;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

fn ident(name: &str) -> Option<syn::Ident> {
    syn::parse_str::<syn::Ident>(name).ok()
}

/// A network's module, unless its name is refused as one: a stand-in `chainrule` module would
/// itself make `chainrule::...` paths ambiguous.
fn module(name: &str) -> Option<syn::Ident> {
    ident(name).filter(|_| name != "chainrule")
}

fn size(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

fn vector_type(n: Option<usize>) -> TokenStream {
    match n {
        Some(n) => {
            let n = size(n);
            quote!([F; #n])
        }
        None => quote!(UnknownVector),
    }
}

/// A parameter's type and a zero value of it.
fn param_type(shape: Option<Shape>, rank: usize) -> (TokenStream, TokenStream) {
    match (shape, rank) {
        (Some(Shape::Scalar), _) => (quote!(F), quote!(0.0)),
        (Some(Shape::Vector(n)), _) => {
            let n = size(n);
            (quote!([F; #n]), quote!([0.0; #n]))
        }
        (Some(shape), _) => {
            shape
                .dims()
                .into_iter()
                .rev()
                .fold((quote!(F), quote!(0.0)), |(ty, zero), n| {
                    let n = size(n);
                    (quote!([#ty; #n]), quote!([#zero; #n]))
                })
        }
        (None, 2) => (quote!(UnknownMatrix), quote!(UnknownMatrix)),
        (None, _) => (quote!(UnknownVector), quote!(UnknownVector)),
    }
}

/// The module for a network known as far as `outline` says.
pub fn outlined(outline: &NetworkOutline, float: Float) -> TokenStream {
    let Some(module) = module(&outline.name) else {
        return TokenStream::new();
    };
    let float = match float {
        Float::F32 => quote!(f32),
        Float::F64 => quote!(f64),
    };
    // A name that is no Rust identifier is an error of its own; its field is left out.
    let params: Vec<(syn::Ident, TokenStream, TokenStream)> = outline
        .params
        .iter()
        .filter_map(|p| {
            let (ty, zero) = param_type(p.shape, p.rank);
            Some((ident(&p.name)?, ty, zero))
        })
        .collect();
    let names = params.iter().map(|(n, _, _)| n);
    let types = params.iter().map(|(_, t, _)| t);
    let field_names = params.iter().map(|(n, _, _)| n);
    let zeros = params.iter().map(|(_, _, z)| z);
    let count: Option<usize> = outline
        .params
        .iter()
        .map(|p| p.shape.map(|s| s.len()))
        .sum();
    let flat = match count {
        Some(n) => {
            let n = size(n);
            quote! {
                pub const ELEMENTS: [&'static str; #n] = [""; #n];
                pub fn flat(&self) -> [F; #n] { loop {} }
                pub fn set_flat(&mut self, values: &[F; #n]) { loop {} }
            }
        }
        None => quote! {
            pub const ELEMENTS: &'static [&'static str] = &[];
            pub fn flat(&self) -> UnknownVector { loop {} }
            pub fn set_flat<V: ?Sized>(&mut self, values: &V) { loop {} }
        },
    };
    // How each datum is passed, as the real module passes it (RUST_API.md, third round).
    let data_types = |vars: &[(String, DataForm)]| -> Vec<TokenStream> {
        vars.iter()
            .map(|(_, form)| match form {
                DataForm::Vector(n) => {
                    let ty = vector_type(Some(*n));
                    quote!(&#ty)
                }
                DataForm::Scalar => quote!(F),
                DataForm::Label(_) => quote!(usize),
                DataForm::Tensor(shape) => {
                    let (ty, _) = param_type(Some(*shape), shape.rank());
                    quote!(&#ty)
                }
            })
            .collect()
    };
    let xs = data_types(&outline.inputs);
    let ts = data_types(&outline.targets);
    let batch_xs: Vec<TokenStream> = outline
        .inputs
        .iter()
        .chain(&outline.targets)
        .map(|(_, form)| match form {
            DataForm::Vector(_) | DataForm::Tensor(_) => {
                quote!(::chainrule::ndarray::ArrayView2<'_, F>)
            }
            DataForm::Scalar => quote!(::chainrule::ndarray::ArrayView1<'_, F>),
            DataForm::Label(_) => quote!(::chainrule::ndarray::ArrayView1<'_, usize>),
        })
        .collect();
    // Forward: every input, named vector and the loss, each name once.
    let mut seen = std::collections::BTreeSet::new();
    let forward_fields: Vec<TokenStream> = outline
        .inputs
        .iter()
        .map(|(name, form)| match form {
            DataForm::Scalar => (name, quote!(F)),
            DataForm::Tensor(shape) => (name, param_type(Some(*shape), shape.rank()).0),
            form => (name, vector_type(Some(form.size()))),
        })
        .chain(outline.vectors.iter().map(|(name, shape)| match shape {
            // A named scalar is a field of type `F`, a feature map nested arrays.
            Some(Shape::Scalar) => (name, quote!(F)),
            Some(Shape::Vector(n)) => (name, vector_type(Some(*n))),
            Some(shape) => (name, param_type(Some(*shape), shape.rank()).0),
            None => (name, vector_type(None)),
        }))
        .chain(outline.loss.iter().map(|name| (name, quote!(F))))
        .filter(|(name, _)| seen.insert(name.as_str()))
        .filter_map(|(name, ty)| {
            let name = ident(name)?;
            Some(quote!(pub #name: #ty))
        })
        .collect();
    let flat_fn = match count {
        Some(n) => {
            let n = size(n);
            let d = size(
                outline
                    .inputs
                    .iter()
                    .chain(&outline.targets)
                    .map(|(_, form)| form.size())
                    .sum(),
            );
            quote! {
                pub const PARAMS: usize = #n;
                pub const DATA: usize = #d;
                pub fn gradient_flat(params: &[F; #n], data: &[F; #d]) -> (F, [F; #n]) { loop {} }
            }
        }
        None => TokenStream::new(),
    };
    quote! {
        #[allow(dead_code, unused, non_snake_case, non_camel_case_types, clippy::all)]
        pub mod #module {
            pub type F = #float;
            /// A vector whose size the network with errors does not determine.
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            pub struct UnknownVector;
            impl ::core::ops::Index<usize> for UnknownVector {
                type Output = F;
                fn index(&self, _: usize) -> &F { loop {} }
            }
            impl ::core::ops::IndexMut<usize> for UnknownVector {
                fn index_mut(&mut self, _: usize) -> &mut F { loop {} }
            }
            /// A matrix whose shape the network with errors does not determine.
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            pub struct UnknownMatrix;
            impl ::core::ops::Index<usize> for UnknownMatrix {
                type Output = UnknownVector;
                fn index(&self, _: usize) -> &UnknownVector { loop {} }
            }
            impl ::core::ops::IndexMut<usize> for UnknownMatrix {
                fn index_mut(&mut self, _: usize) -> &mut UnknownVector { loop {} }
            }
            #[derive(Clone, Copy, Debug, PartialEq)]
            pub struct Params { #(pub #names: #types,)* }
            impl Default for Params {
                fn default() -> Self { Self::zeros() }
            }
            impl Params {
                pub fn zeros() -> Self { Params { #(#field_names: #zeros,)* } }
                pub fn init(seed: u64) -> Self { loop {} }
                #flat
            }
            #[derive(Clone, Copy, Debug, PartialEq)]
            pub struct Momentum { pub lr: F, pub mu: F, pub buf: Params }
            impl Momentum {
                pub fn new(lr: F, mu: F) -> Self { loop {} }
            }
            #[derive(Clone, Copy, Debug, PartialEq)]
            pub struct Adam { pub lr: F, pub beta1: F, pub beta2: F, pub eps: F, pub weight_decay: F, pub t: u32, pub powers: ::chainrule::runtime::AdamPowers<F>, pub m: Params, pub v: Params }
            impl Adam {
                pub fn new(lr: F) -> Self { loop {} }
                pub fn with(lr: F, beta1: F, beta2: F, eps: F, weight_decay: F) -> Self { loop {} }
            }
            pub fn momentum_step(_: &mut Params, _: &mut Momentum #(, _: #xs)* #(, _: #ts)*) -> F { loop {} }
            pub fn adam_step(_: &mut Params, _: &mut Adam #(, _: #xs)* #(, _: #ts)*) -> F { loop {} }
            // What needs `std`, gated as in a real expansion.
            ::chainrule::__if_std! {
                pub use ::chainrule::runtime::ParamsError;
                impl Params {
                    pub fn boxed() -> ::std::boxed::Box<Self> { loop {} }
                    pub fn boxed_zeros() -> ::std::boxed::Box<Self> { loop {} }
                    pub fn boxed_init(seed: u64) -> ::std::boxed::Box<Self> { loop {} }
                    pub fn to_ndarray(&self) -> ::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>> { loop {} }
                    pub fn from_ndarray(
                        arrays: &::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>>,
                    ) -> ::core::result::Result<Self, ::chainrule::runtime::ShapeError> { loop {} }
                    pub fn to_json(&self) -> String { loop {} }
                    pub fn from_json(text: &str) -> ::core::result::Result<Self, ParamsError> { loop {} }
                }
                pub fn gradient_batch(_: &Params #(, _: #batch_xs)*) -> ::core::result::Result<(F, Params), ::chainrule::runtime::ShapeError> { loop {} }
                pub fn sgd_step_batch(_: &mut Params #(, _: #batch_xs)*, _: F) -> ::core::result::Result<F, ::chainrule::runtime::ShapeError> { loop {} }
                pub fn momentum_step_batch(_: &mut Params, _: &mut Momentum #(, _: #batch_xs)*) -> ::core::result::Result<F, ::chainrule::runtime::ShapeError> { loop {} }
                pub fn adam_step_batch(_: &mut Params, _: &mut Adam #(, _: #batch_xs)*) -> ::core::result::Result<F, ::chainrule::runtime::ShapeError> { loop {} }
                pub fn compare_gradient<H>(_: H, _: &Params #(, _: #xs)* #(, _: #ts)*, _: F) -> ::chainrule::runtime::GradientDiff
                where
                    H: Fn(&Params #(, #xs)* #(, #ts)*) -> (F, Params),
                { loop {} }
            }
            #[derive(Clone, Copy, Debug, PartialEq)]
            pub struct Forward { #(#forward_fields,)* }
            pub fn forward(_: &Params #(, _: #xs)*) -> Forward { loop {} }
            pub fn evaluate(_: &Params #(, _: #xs)* #(, _: #ts)*) -> Forward { loop {} }
            pub fn loss(_: &Params #(, _: #xs)* #(, _: #ts)*) -> F { loop {} }
            pub fn gradient(_: &Params #(, _: #xs)* #(, _: #ts)*) -> (F, Params) { loop {} }
            pub fn gradient_into(_: &Params #(, _: #xs)* #(, _: #ts)*, _: &mut Params) -> F { loop {} }
            pub fn sgd_step(_: &mut Params #(, _: #xs)* #(, _: #ts)*, _: F) -> F { loop {} }
            #flat_fn
            pub const LATEX: &str = "";
        }
    }
}

/// The module for a network whose text does not even parse: only its name is known, so
/// every item is permissive.
pub fn named_only(name: &str) -> TokenStream {
    let Some(module) = module(name) else {
        return TokenStream::new();
    };
    quote! {
        #[allow(dead_code, unused, non_snake_case, clippy::all)]
        pub mod #module {
            pub type F = f64;
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            pub struct Params;
            impl Params {
                pub fn zeros() -> Self { Params }
            }
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            pub struct Forward;
            pub const LATEX: &str = "";
        }
    }
}

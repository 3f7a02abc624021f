//! What every item emitter shares: the network, its derivation, the float type and the
//! argument lists of the generated functions.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::Float;
use super::code::CodeGen;
use super::names::Names;
use super::plan::{Plan, Unroll};
use crate::CompiledNetwork;
use crate::derive::Derivation;
use crate::model::{DataVar, Network, Shape};

/// The shared facts one network's items are built from.
pub struct Ctx<'a> {
    pub network: &'a Network,
    pub derivation: &'a Derivation,
    pub float: Float,
    /// The float type's tokens: `f64` or `f32`.
    pub f: TokenStream,
    /// The Rust names of arguments and generated bindings.
    pub names: Names,
    /// The parameters argument `p`.
    pub p: Ident,
    pub param_fields: Vec<Ident>,
    pub param_types: Vec<TokenStream>,
    /// The arguments of the inputs and targets (their names, unless reserved: [`Names`]).
    pub input_idents: Vec<Ident>,
    pub target_idents: Vec<Ident>,
    pub input_types: Vec<TokenStream>,
    /// How each input and target is passed: `&[F; 2]`, or `F` by value for a scalar.
    pub input_args: Vec<TokenStream>,
    pub target_args: Vec<TokenStream>,
    /// `x: &[F; 2], t: &[F; 2],`
    pub data_args: TokenStream,
    /// `x, t,`
    pub data_call: TokenStream,
    /// The number of parameter elements, as a literal.
    pub count_lit: Literal,
    /// Which steps are loops, and their formulas.
    pub plan: Plan,
}

impl<'a> Ctx<'a> {
    pub fn new(
        network: &'a Network,
        compiled: &'a CompiledNetwork,
        float: Float,
        unroll: Unroll,
    ) -> Ctx<'a> {
        let derivation = &compiled.derivation;
        let f = match float {
            Float::F64 => quote! { f64 },
            Float::F32 => quote! { f32 },
        };
        let param_fields = network
            .params
            .iter()
            .map(|p| format_ident!("{}", p.name))
            .collect();
        let param_types = network
            .params
            .iter()
            .map(|p| field_type(p.shape, &f))
            .collect();
        let names = Names::new(network);
        let mut input_idents = names.arguments();
        let target_idents = input_idents.split_off(network.inputs.len());
        let input_types: Vec<TokenStream> =
            network.inputs.iter().map(|v| data_type(v, &f)).collect();
        let input_args: Vec<TokenStream> = network.inputs.iter().map(|v| data_arg(v, &f)).collect();
        let target_args: Vec<TokenStream> =
            network.targets.iter().map(|v| data_arg(v, &f)).collect();
        let data_args =
            quote! { #(#input_idents: #input_args,)* #(#target_idents: #target_args,)* };
        let data_call = quote! { #(#input_idents,)* #(#target_idents,)* };
        Ctx {
            network,
            derivation,
            float,
            p: names.local("p"),
            names,
            param_fields,
            param_types,
            input_idents,
            target_idents,
            input_types,
            input_args,
            target_args,
            data_args,
            data_call,
            count_lit: Literal::usize_unsuffixed(network.param_count()),
            plan: Plan::new(network, compiled, unroll),
            f,
        }
    }

    /// A fresh straight-line generator.
    pub fn codegen(&self) -> CodeGen<'a> {
        CodeGen::new(self.network, self.derivation, self.float, &self.names)
    }

    /// `[F; n]`
    pub fn array(&self, n: usize) -> TokenStream {
        let (f, n) = (&self.f, Literal::usize_unsuffixed(n));
        quote! { [#f; #n] }
    }

    /// The array type of a value of `shape`, nested one level per axis.
    pub fn array_of(&self, shape: Shape) -> TokenStream {
        field_type(shape, &self.f)
    }
}

/// The value type of an input or target: `[F; n]`, or `F` for a scalar.
pub fn data_type(var: &DataVar, float: &TokenStream) -> TokenStream {
    if var.kind == chainrule_grammar::TargetKind::Label {
        return quote! { usize };
    }
    field_type(var.shape, float)
}

/// How an input or target is passed: an array by reference, a number by value.
pub fn data_arg(var: &DataVar, float: &TokenStream) -> TokenStream {
    if var.kind == chainrule_grammar::TargetKind::Label {
        return quote! { usize };
    }
    match var.shape {
        Shape::Scalar => field_type(var.shape, float),
        shape => {
            let ty = field_type(shape, float);
            quote! { &#ty }
        }
    }
}

/// The type of a value of `shape`: `F`, or arrays nested one per axis (`[[F; 3]; 2]`).
pub fn field_type(shape: Shape, float: &TokenStream) -> TokenStream {
    nested_repeat(shape, float.clone(), |element, n| quote! { [#element; #n] })
}

/// `[[zero; 3]; 2]`: a value of `shape` with every element `zero`, a few tokens whatever
/// the size.
pub fn repeated(shape: Shape, zero: TokenStream) -> TokenStream {
    nested_repeat(shape, zero, |element, n| quote! { [#element; #n] })
}

/// Wraps `inner` once per axis of `shape`, innermost axis first.
fn nested_repeat(
    shape: Shape,
    inner: TokenStream,
    wrap: impl Fn(TokenStream, Literal) -> TokenStream,
) -> TokenStream {
    shape.dims().into_iter().rev().fold(inner, |element, n| {
        wrap(element, Literal::usize_unsuffixed(n))
    })
}

/// A value of a shape from row-major numbers.
pub fn shaped(values: &[TokenStream], shape: Shape) -> TokenStream {
    match shape {
        Shape::Scalar => values.first().cloned().unwrap_or_default(),
        shape => nest(values, &shape.dims()),
    }
}

/// Row-major `values` as array literals nested along `dims`.
fn nest(values: &[TokenStream], dims: &[usize]) -> TokenStream {
    match dims {
        [] | [_] => quote! { [#(#values),*] },
        [_, inner @ ..] => {
            let stride = inner.iter().product::<usize>().max(1);
            let parts = values.chunks(stride).map(|part| nest(part, inner));
            quote! { [#(#parts),*] }
        }
    }
}

/// The elements of a value of `shape` at `place` as one row-major slice: `&x[..]`,
/// `x.as_flattened()` (once per axis past the first), or a one-element slice of a scalar.
pub fn flat_slice(place: TokenStream, shape: Shape, mutable: bool) -> TokenStream {
    match (shape, mutable) {
        (Shape::Scalar, false) => quote! { ::core::slice::from_ref(&#place) },
        (Shape::Scalar, true) => quote! { ::core::slice::from_mut(&mut #place) },
        (Shape::Vector(_), false) => quote! { &#place[..] },
        (Shape::Vector(_), true) => quote! { &mut #place[..] },
        (shape, mutable) => (1..shape.rank()).fold(place, |inner, _| {
            if mutable {
                quote! { #inner.as_flattened_mut() }
            } else {
                quote! { #inner.as_flattened() }
            }
        }),
    }
}

/// [`flat_slice`] where it receives a method call (`.iter_mut()`, `.copy_from_slice(..)`): a
/// vector's array as it is (arrays take slice methods), so the call binds to the slice.
pub fn flat_receiver(place: TokenStream, shape: Shape, mutable: bool) -> TokenStream {
    match shape {
        Shape::Vector(_) => place,
        shape => flat_slice(place, shape, mutable),
    }
}

/// The brackets that pick element `elem` (row-major) of a value of `shape`: `[1][0]`, `[2]`,
/// or nothing for a scalar.
pub fn element_index(shape: Shape, elem: usize) -> TokenStream {
    let indices = shape
        .unflatten(elem)
        .into_iter()
        .map(Literal::usize_unsuffixed);
    quote! { #([#indices])* }
}

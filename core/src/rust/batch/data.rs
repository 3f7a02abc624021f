//! The batch functions' data arguments: an `ArrayView2` with one row per sample for an input
//! or target vector, an `ArrayView1` with one number per sample for a scalar (RUST_API.md,
//! third round), an `ArrayView1<usize>` of class indices for a label, checked; a scalar is
//! then seen as one column so the rest of the batch code reads it as any other datum.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Network, Shape};
use crate::rust::names::Names;

/// How one input or target arrives in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// One row per sample: the sample's elements of this shape, flattened row-major.
    Array(Shape),
    /// One number per sample.
    Scalar,
    /// One class index in `0..N` per sample.
    Label(usize),
}

/// One data argument of the batch functions.
pub(super) struct Datum<'a> {
    /// The argument's Rust name.
    pub ident: Ident,
    /// Its number of elements per sample.
    pub size: usize,
    /// How it arrives.
    pub kind: Kind,
    /// Its name in the network, for errors.
    pub name: &'a str,
}

/// Every input, then every target, as the batch functions take them.
pub(super) fn data<'a>(network: &'a Network, names: &Names) -> Vec<Datum<'a>> {
    network
        .inputs
        .iter()
        .chain(&network.targets)
        .enumerate()
        .map(|(i, v)| Datum {
            ident: names.argument(i),
            size: v.size,
            kind: match v.shape {
                _ if v.kind == chainrule_grammar::TargetKind::Label => Kind::Label(v.size),
                Shape::Scalar => Kind::Scalar,
                shape => Kind::Array(shape),
            },
            name: v.name.as_str(),
        })
        .collect()
}

/// `x: ArrayView2<'_, F>, s: ArrayView1<'_, F>,`
pub(super) fn view_args(data: &[Datum<'_>], f: &TokenStream) -> TokenStream {
    let args = data.iter().map(|d| {
        let ident = &d.ident;
        match d.kind {
            Kind::Array(_) => quote! { #ident: ::chainrule::ndarray::ArrayView2<'_, #f>, },
            Kind::Scalar => quote! { #ident: ::chainrule::ndarray::ArrayView1<'_, #f>, },
            Kind::Label(_) => quote! { #ident: ::chainrule::ndarray::ArrayView1<'_, usize>, },
        }
    });
    quote! { #(#args)* }
}

/// How many samples an argument holds: the rows of an `ArrayView2`, the length of an
/// `ArrayView1`.
fn row_count(d: &Datum<'_>) -> TokenStream {
    let ident = &d.ident;
    match d.kind {
        Kind::Array(_) => quote! { #ident.nrows() },
        Kind::Scalar | Kind::Label(_) => quote! { #ident.len() },
    }
}

/// The number of samples, from the first argument.
pub(super) fn rows(data: &[Datum<'_>]) -> TokenStream {
    data.first().map_or(quote! { 0usize }, row_count)
}

/// The column and row checks of every argument, then each scalar seen as one column.
pub(super) fn checks(data: &[Datum<'_>]) -> TokenStream {
    let first_name = data.first().map_or("", |d| d.name);
    let checks = data.iter().map(|d| {
        let (ident, name, count) = (&d.ident, d.name, row_count(d));
        let rows = quote! {
            if #count != __rows {
                return Err(::chainrule::runtime::ShapeError::new(#name, format!("{} rows, as many as `{}`", __rows, #first_name), format!("{} rows", #count)));
            }
        };
        match d.kind {
            Kind::Array(shape) => {
                let n = Literal::usize_unsuffixed(shape.len());
                quote! {
                    if #ident.ncols() != #n {
                        return Err(::chainrule::runtime::ShapeError::new(#name, format!("{} columns", #n), format!("{} columns", #ident.ncols())));
                    }
                    #rows
                }
            }
            Kind::Scalar => quote! {
                #rows
                let #ident = #ident.insert_axis(::chainrule::ndarray::Axis(1));
            },
            Kind::Label(n) => {
                let n = Literal::usize_unsuffixed(n);
                quote! {
                    #rows
                    if let Some((__at, __class)) = #ident.iter().enumerate().find(|(_, __c)| **__c >= #n) {
                        return Err(::chainrule::runtime::ShapeError::new(#name, format!("class indices below {}", #n), format!("{} in row {}", __class, __at)));
                    }
                }
            }
        }
    });
    quote! { #(#checks)* }
}

/// Per sample: each row copied into the fixed-size array `gradient_into` takes (a scalar
/// passed by value), and the arguments of the call.
pub(super) fn row_arguments(
    data: &[Datum<'_>],
    f: &TokenStream,
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let mut copies = Vec::new();
    let mut arguments = Vec::new();
    for d in data {
        let ident = &d.ident;
        match d.kind {
            Kind::Array(shape) => {
                let row = format_ident!("__row_{}", ident);
                let zero = crate::rust::context::repeated(
                    shape,
                    quote! { <#f as ::chainrule::runtime::Real>::ZERO },
                );
                let slots = crate::rust::context::flat_receiver(quote! { #row }, shape, true);
                copies.push(quote! {
                    let mut #row = #zero;
                    for (__slot, __value) in #slots.iter_mut().zip(#ident.row(__row)) {
                        *__slot = *__value;
                    }
                });
                arguments.push(quote! { &#row });
            }
            Kind::Scalar => arguments.push(quote! { #ident[[__row, 0]] }),
            Kind::Label(_) => arguments.push(quote! { #ident[__row] }),
        }
    }
    (copies, arguments)
}

/// `gradient_batch_flat`: each argument's columns of the flat data, in declaration order.
pub(super) fn flat_views(data: &[Datum<'_>], flat: &Ident) -> (Literal, Vec<TokenStream>) {
    let mut column = 0;
    let mut views = Vec::new();
    for d in data {
        let ident = &d.ident;
        let (start, end) = (
            Literal::usize_unsuffixed(column),
            Literal::usize_unsuffixed(column + d.size),
        );
        column += d.size;
        let columns = quote! { ::chainrule::parallel::columns(#flat, #start, #end) };
        views.push(match d.kind {
            Kind::Array(_) => quote! { let #ident = #columns; },
            Kind::Scalar => {
                quote! { let #ident = #columns.index_axis_move(::chainrule::ndarray::Axis(1), 0); }
            }
            // The flat layout holds a label as its one-hot vector: its class is where the 1 is.
            Kind::Label(_) => quote! {
                let #ident: Vec<usize> = #columns.rows().into_iter().map(|__r| ::chainrule::runtime::class_of(__r.as_slice().unwrap_or(&[]))).collect();
                let #ident = ::chainrule::ndarray::ArrayView1::from(&#ident[..]);
            },
        });
    }
    (Literal::usize_unsuffixed(column), views)
}

/// The matrix form's data: each argument of `__chunk_matrix` (a label as its class indices,
/// `ArrayView1<usize>`, every other datum as rows) and its view of rows `__start..__end`.
pub(super) fn chunk_inputs(
    data: &[&Ident],
    labels: &[bool],
    f: &TokenStream,
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let is_label = |i: usize| labels.get(i).copied().unwrap_or(false);
    data.iter()
        .enumerate()
        .map(|(i, ident)| {
            let chunk = super::fields::chunk_ident(ident);
            let ty = view_type(is_label(i), f, &quote! { '_ });
            let view = if is_label(i) {
                quote! { let #chunk = #ident.slice_move(::chainrule::ndarray::s![__start..__end]); }
            } else {
                quote! { let #chunk = ::chainrule::parallel::rows(#ident, __start, __end); }
            };
            (quote! { #ident: #ty }, view)
        })
        .unzip()
}

/// The type of a datum's argument to a chunk function with `lifetime`: a label's class
/// indices, or rows of `f`.
pub(super) fn view_type(label: bool, f: &TokenStream, lifetime: &TokenStream) -> TokenStream {
    if label {
        quote! { ::chainrule::ndarray::ArrayView1<#lifetime, usize> }
    } else {
        quote! { ::chainrule::ndarray::ArrayView2<#lifetime, #f> }
    }
}

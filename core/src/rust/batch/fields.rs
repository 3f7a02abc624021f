//! The names in a chunk of the matrix form: `__Part`'s buffers (each vector's values and
//! deltas, the products inside element-wise vectors) and the bindings of one row.

use proc_macro2::Ident;
use quote::format_ident;

pub(super) fn value_field(v: usize) -> Ident {
    format_ident!("v{}", v)
}

pub(super) fn delta_field(v: usize) -> Ident {
    format_ident!("d{}", v)
}

/// Product `i` inside element-wise vector `v`, over the chunk.
pub(super) fn product_field(v: usize, i: usize) -> Ident {
    format_ident!("z{}_{}", v, i)
}

/// Its deltas.
pub(super) fn product_delta_field(v: usize, i: usize) -> Ident {
    format_ident!("q{}_{}", v, i)
}

pub(super) fn chunk_ident(data: &Ident) -> Ident {
    format_ident!("__in_{}", data)
}

pub(super) fn row_ident(data: &Ident) -> Ident {
    format_ident!("__row_{}", data)
}

pub(super) fn values_ident(v: usize) -> Ident {
    format_ident!("__s{}", v)
}

pub(super) fn deltas_ident(v: usize) -> Ident {
    format_ident!("__dd{}", v)
}

//! Index variables and affine indices of loop formulas as Rust: `ix_k`, `(ix_u - ix_p)`,
//! and the signed form the bounds of a bracket compare.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{ToTokens, quote};

use super::names::Names;
use crate::tensor::{Affine, IndexVar};

/// The name of a loop's or a sum's index variable, by the letter the general form prints
/// for it (`ix_k` for `k`), so the code reads as the formula does.
pub fn index_ident(names: &Names, letter: char) -> Ident {
    names.local(&format!("ix_{letter}"))
}

/// An affine index as a `usize` expression. Callers guard reads whose index could leave
/// the tensor, so a difference is only evaluated where it is non-negative.
pub fn index_tokens(a: &Affine, index_ident: &dyn Fn(IndexVar) -> Ident) -> TokenStream {
    if let ([(v, 1)], 0) = (&a.terms[..], a.offset) {
        return index_ident(*v).into_token_stream();
    }
    if a.terms.is_empty() && a.offset >= 0 {
        return Literal::usize_unsuffixed(a.offset as usize).into_token_stream();
    }
    let mut plus: Vec<TokenStream> = Vec::new();
    let mut minus: Vec<TokenStream> = Vec::new();
    for &(v, c) in &a.terms {
        let i = index_ident(v);
        let term = if c.abs() == 1 {
            quote! { #i }
        } else {
            let m = Literal::usize_unsuffixed(c.unsigned_abs() as usize);
            quote! { #m * #i }
        };
        if c > 0 {
            plus.push(term)
        } else {
            minus.push(term)
        }
    }
    if a.offset > 0 || plus.is_empty() && a.offset >= 0 {
        plus.push(Literal::usize_unsuffixed(a.offset as usize).into_token_stream());
    } else if a.offset < 0 {
        minus.push(Literal::usize_unsuffixed(a.offset.unsigned_abs() as usize).into_token_stream());
    }
    let first = &plus[0];
    let rest = &plus[1..];
    quote! { (#first #(+ #rest)* #(- #minus)*) }
}

/// An affine index as an `isize` expression, for the bounds of a guard.
pub fn signed_tokens(a: &Affine, index_ident: &dyn Fn(IndexVar) -> Ident) -> TokenStream {
    let terms = a.terms.iter().map(|&(v, c)| {
        let (i, c) = (index_ident(v), Literal::isize_unsuffixed(c as isize));
        quote! { #c * (#i as isize) }
    });
    let offset = Literal::isize_unsuffixed(a.offset as isize);
    quote! { (#offset #(+ #terms)*) }
}

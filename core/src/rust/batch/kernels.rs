//! An element-wise vector whose definition is one built-in applied last (`a1 = tanh(z1)`,
//! `h = tanh(W1 @ x + b1)`): the row loop computes the built-in's argument, then
//! `::chainrule::runtime::vmath::map_in_place` applies the built-in to the whole chunk at
//! once on the widest vector unit of the machine (chosen at run time), instead of one scalar
//! call per element.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use crate::builtin::Builtin;
use crate::derive::Derivation;
use crate::ir::{Node, NodeId};

/// The `vmath::Kernel` variant computing `f`, if it has one.
pub(super) fn kernel(f: Builtin) -> Option<TokenStream> {
    Some(match f {
        Builtin::Exp => quote! { Exp },
        Builtin::Tanh => quote! { Tanh },
        Builtin::Sigmoid => quote! { Sigmoid },
        Builtin::Log => quote! { Ln },
        Builtin::Softplus => quote! { Softplus },
        _ => return None,
    })
}

/// For element 0's definition `f(arg)` with a slice kernel for `f`: `arg`, which the row loop
/// computes instead, and the call that applies `f` to the chunk's `size` values per row in
/// `field` afterwards.
pub(super) fn outer_kernel(
    derivation: &Derivation,
    value: NodeId,
    field: &Ident,
    size: usize,
) -> Option<(NodeId, TokenStream)> {
    let Node::Func(f, arg) = derivation.graph.node(value) else {
        return None;
    };
    let kernel = kernel(*f)?;
    let n = Literal::usize_unsuffixed(size);
    let call = quote! {
        ::chainrule::runtime::vmath::map_in_place(
            ::chainrule::runtime::vmath::Kernel::#kernel,
            &mut __part.#field[..__m * #n],
        );
    };
    Some((*arg, call))
}

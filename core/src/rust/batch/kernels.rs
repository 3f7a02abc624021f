//! Element-wise vectors that are one built-in of another vector (`a1 = tanh(z1)`) run over the
//! whole chunk at once through `::chainrule::runtime::vmath::map`, which picks the widest
//! vector unit of the machine at run time, instead of one scalar call per element.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::layers::{Elementwise, Layer};
use crate::builtin::Builtin;
use crate::derive::Derivation;
use crate::ir::Node;
use crate::layout::Slot;
use crate::model::{Network, Symbol};

/// The `vmath::Kernel` variant computing `f`, if it has one.
fn kernel(f: Builtin) -> Option<TokenStream> {
    Some(match f {
        Builtin::Exp => quote! { Exp },
        Builtin::Tanh => quote! { Tanh },
        Builtin::Sigmoid => quote! { Sigmoid },
        Builtin::Log => quote! { Ln },
        Builtin::Softplus => quote! { Softplus },
        _ => return None,
    })
}

/// `map(kernel, source rows, this vector's rows)` when every element `k` of `layer` is a
/// kernel's function of element `k` of one other vector of the same length; `None` otherwise.
/// Fields hold `size` values per row, so the chunk's rows are one contiguous slice each.
pub(super) fn slice_map(
    network: &Network,
    derivation: &Derivation,
    layer: &Layer,
    e: &Elementwise,
    field: impl Fn(usize) -> Ident,
) -> Option<TokenStream> {
    if !e.products.is_empty() || layer.size < 2 {
        return None;
    }
    let graph = &derivation.graph;
    let def = &derivation.forward[layer.first];
    let Node::Func(f, arg) = graph.node(def.value) else {
        return None;
    };
    let kernel = kernel(*f)?;
    let Node::Var(var) = graph.node(*arg) else {
        return None;
    };
    let Slot::Value(Symbol::Vector(source), 0) = derivation.layout.slot(*var) else {
        return None;
    };
    if e.fixed.contains(var) || network.vectors[source].size != layer.size {
        return None;
    }
    let (from, to) = (field(source), field(layer.vector));
    let n = proc_macro2::Literal::usize_unsuffixed(layer.size);
    Some(quote! {
        ::chainrule::runtime::vmath::map(
            ::chainrule::runtime::vmath::Kernel::#kernel,
            &__part.#from[..__m * #n],
            &mut __part.#to[..__m * #n],
        );
    })
}

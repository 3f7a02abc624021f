//! How long a derivation's expressions are when written out as trees, and the limit past
//! which the commands that write every expression out (the general form, `html`,
//! `notebook`, `numpy`, `rust`) refuse.
//!
//! The derivation is a graph that shares sub-expressions, so it stays linear in the
//! parameters (`eval` and the delta form work on it directly), but an expression the graph
//! holds compactly can be exponentially long as a tree: each nested `grad` differentiates the
//! previous level's derivatives, and the product rule copies them. Three nested `grad`s of a
//! 2-32-32-1 tanh network reach 5 x 10^7 symbols; the index-form search and the NumPy
//! printer walk trees and ran for minutes (9 GB for `rust`). Measured on the graph, in one pass,
//! before anything walks a tree.

use crate::derive::Derivation;
use crate::model::Network;

/// Most symbols one expression of a derivation (a forward value, a local partial, a delta or a
/// gradient) may have written out, for the commands that write them all out. Wide relu
/// layers are long but fine: relu's derivative repeats the next layer's pre-activation sum in
/// every delta, so 784-256-256-10 has deltas of 2 x 10^5 symbols (784-1024-1024-10: 2 x 10^6),
/// and its general form, NumPy and Rust take seconds; nested `grad`s pass 10^7 within three
/// levels of a small network.
pub const MAX_WRITTEN: u64 = 10_000_000;

/// The longest expression of the derivation written out, and which named scalar it belongs
/// to (its definition, its delta, a partial of its definition, or its gradient).
pub fn longest(derivation: &Derivation) -> (u64, crate::ir::Var) {
    let graph = &derivation.graph;
    // Children have smaller ids than their parents: one pass in id order sizes every node.
    let mut size: Vec<u64> = Vec::with_capacity(graph.len());
    for (_, node) in graph.nodes() {
        let mut total = 1u64;
        node.for_each_child(|c| total = total.saturating_add(size[c.index()]));
        size.push(total);
    }
    let defs = derivation.forward.iter().flat_map(|d| {
        std::iter::once((d.var, d.value)).chain(d.partials.iter().map(|&(_, n)| (d.var, n)))
    });
    defs.chain(derivation.deltas.iter().copied())
        .chain(derivation.gradients.iter().copied())
        .map(|(var, node)| (size[node.index()], var))
        .max_by_key(|&(s, _)| s)
        .unwrap_or((0, derivation.layout.loss()))
}

/// Refuses a derivation with an expression past [`MAX_WRITTEN`] symbols written out, naming
/// the scalar it belongs to.
pub fn check(network: &Network, derivation: &Derivation) -> Result<(), String> {
    let (size, var) = longest(derivation);
    if size <= MAX_WRITTEN {
        return Ok(());
    }
    let size = if size == u64::MAX {
        "more than 10^19".to_string()
    } else {
        size.to_string()
    };
    Err(format!(
        "network `{}` is too large to write out: an expression of `{}` (its definition, a partial or its derivative) is {size} symbols long, more than the limit of {MAX_WRITTEN} (nested `grad`s grow this way); `eval`, `explain` and the delta and chain forms still work",
        network.name,
        derivation.layout.describe(network, var)
    ))
}

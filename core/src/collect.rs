//! Collects like terms of a small derivative expression when that makes it much shorter:
//! binary cross-entropy's `(1 - t) a - t (1 - a)` is `a - t`, as textbooks write it.
//!
//! It runs on local partials, so every output (deltas, code, claims, explain) sees the
//! collected form. Only a form at most half as long replaces the original, so the usual
//! factored forms (`-(t - y)`, `2 (y - t)`) stay as they are.

use std::collections::HashMap;

use crate::canon::{Canon, to_node};
use crate::ir::{Graph, NodeId};

/// Expressions larger than this (as trees) are left alone: collecting is for short formulas.
const MAX_TREE: u64 = 64;

/// `node` with like terms collected, if that at least halves its printed size.
pub fn collect(graph: &mut Graph, node: NodeId) -> NodeId {
    let before = tree_size(graph, node, MAX_TREE + 1);
    if !(6..=MAX_TREE).contains(&before) {
        return node;
    }
    let named = HashMap::new();
    let Some(poly) = Canon::new(graph, &named).form(node) else {
        return node;
    };
    if 2 * crate::canon::tree_size(&poly) <= before {
        to_node(graph, &poly)
    } else {
        node
    }
}

/// The size of `node` as a tree, counting no further than `cap`.
fn tree_size(graph: &Graph, node: NodeId, cap: u64) -> u64 {
    let mut count = 0;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        count += 1;
        if count >= cap {
            return cap;
        }
        graph.node(n).for_each_child(|c| stack.push(c));
    }
    count
}

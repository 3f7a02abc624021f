//! The softmax Jacobian as textbooks write it: the local partials of a softmax element.

use std::collections::HashMap;

use crate::builtin::Builtin;
use crate::ir::{Graph, Node, NodeId, Var};

/// The local partials of a softmax element `p_j = exp(z_j - lse(z))` as textbooks write the
/// Jacobian, `dp_j/dz_k = p_j (delta_jk - p_k)`: `p_j (1 - p_j)` on the diagonal and
/// `-p_j p_k` off it (with the named `p_k` where the network names the softmax); `None` for
/// any other definition.
pub fn softmax_partials(
    graph: &mut Graph,
    value: NodeId,
    named: &HashMap<NodeId, Var>,
) -> Option<Vec<(Var, NodeId)>> {
    let Node::Func(Builtin::Exp, shifted) = graph.node(value).clone() else {
        return None;
    };
    let Node::Sub(z, lse) = graph.node(shifted).clone() else {
        return None;
    };
    let Node::LogSumExp(items) = graph.node(lse).clone() else {
        return None;
    };
    let Node::Var(zj) = graph.node(z).clone() else {
        return None;
    };
    let logits: Vec<Var> = items
        .iter()
        .map(|i| match graph.node(*i) {
            Node::Var(v) => Some(*v),
            _ => None,
        })
        .collect::<Option<_>>()?;
    // A logit used twice would need its partials added; leave that to the general sweep.
    let mut sorted = logits.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != logits.len() || !logits.contains(&zj) {
        return None;
    }
    let p_j = named.get(&value).map_or(value, |&v| graph.var(v));
    let one = graph.constant_node(1.0);
    let mut partials = Vec::with_capacity(logits.len());
    for (&zk, &item) in logits.iter().zip(items.iter()) {
        let local = if zk == zj {
            let rest = graph.sub(one, p_j);
            graph.mul(p_j, rest)
        } else {
            let shifted_k = graph.sub(item, lse);
            let softmax_k = graph.func(Builtin::Exp, shifted_k);
            let p_k = named.get(&softmax_k).map_or(softmax_k, |&v| graph.var(v));
            let product = graph.mul(p_j, p_k);
            graph.neg(product)
        };
        partials.push((zk, local));
    }
    partials.sort_by_key(|(v, _)| *v);
    Some(partials)
}

//! Anti-unifying sums: `\\sum` over a new index when the terms are instances of one formula,
//! else one formula per position of the terms.

use crate::ir::{Graph, Node, NodeId};

use super::{Env, Formulas, Leaf};

impl Formulas<'_> {
    /// A sum: `\sum` over a new index when its terms are instances of one formula, else a
    /// sum of the same number of terms position by position.
    pub(super) fn sum(&mut self, instances: &[(Env, NodeId)]) -> Option<NodeId> {
        let source = &self.derivation.graph;
        let terms: Vec<Vec<NodeId>> = instances
            .iter()
            .map(|(_, n)| sum_terms(source, *n))
            .collect();
        let length = terms[0].len();
        if terms.iter().any(|t| t.len() != length) {
            return None;
        }
        if length >= 2 {
            let used: Vec<char> = instances[0].0.iter().map(|(c, _)| c).collect();
            if let Some(letter) = ['i', 'j', 'k', 'm', 'n', 'p', 'q']
                .into_iter()
                .find(|c| !used.contains(c))
            {
                let expanded: Vec<(Env, NodeId)> = instances
                    .iter()
                    .zip(&terms)
                    .flat_map(|((env, _), ts)| {
                        ts.iter().enumerate().map(move |(m, t)| {
                            let mut env = *env;
                            env.push((letter, m));
                            (env, *t)
                        })
                    })
                    .collect();
                // Formulas are small, so trying the sum and backing out is cheap.
                let (graph, leaves) = (self.graph.clone(), self.leaves.len());
                if let Some(body) = self
                    .unify(&expanded)
                    .filter(|&body| self.mentions(body, letter))
                {
                    return Some(self.leaf(Leaf::SumOver(letter, length, body)));
                }
                self.graph = graph;
                self.leaves.truncate(leaves);
            }
        }
        if length < 2 {
            return None;
        }
        // `W x + b` flattens to terms that differ in kind; its own two operands do not, and
        // the first is a sum over an index.
        let direct: Vec<Vec<NodeId>> = instances
            .iter()
            .map(|(_, n)| direct_terms(source, *n))
            .collect();
        if direct != terms && direct.iter().all(|t| t.len() == direct[0].len()) {
            let (graph, leaves) = (self.graph.clone(), self.leaves.len());
            if let Some(sum) = self.columns(instances, &direct) {
                return Some(sum);
            }
            self.graph = graph;
            self.leaves.truncate(leaves);
        }
        self.columns(instances, &terms)
    }

    /// A sum of one formula per position of the instances' terms.
    fn columns(&mut self, instances: &[(Env, NodeId)], terms: &[Vec<NodeId>]) -> Option<NodeId> {
        let mut parts = Vec::new();
        for k in 0..terms[0].len() {
            let column: Vec<(Env, NodeId)> = instances
                .iter()
                .zip(terms)
                .map(|((env, _), ts)| (*env, ts[k]))
                .collect();
            parts.push(self.unify(&column)?);
        }
        Some(self.graph.sum(&parts))
    }
}

/// The operands of a sum node, without flattening nested sums.
fn direct_terms(graph: &Graph, node: NodeId) -> Vec<NodeId> {
    match graph.node(node) {
        Node::Add(a, b) => vec![*a, *b],
        Node::Sum(items) => items.to_vec(),
        _ => vec![node],
    }
}

/// The terms of a sum node (an `Add` chain or an n-ary `Sum`), or the node itself.
pub(super) fn sum_terms(graph: &Graph, node: NodeId) -> Vec<NodeId> {
    match graph.node(node) {
        Node::Add(a, b) => {
            let mut out = sum_terms(graph, *a);
            out.extend(sum_terms(graph, *b));
            out
        }
        Node::Sum(items) => items.to_vec(),
        _ => vec![node],
    }
}

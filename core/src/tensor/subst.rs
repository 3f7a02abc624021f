//! Substitution of an index variable inside a formula: `body[v := i + 1]`.

use std::collections::HashMap;

use super::{Affine, IndexVar, Leaf, Program};
use crate::ir::{Node, NodeId};

impl Program {
    /// `node` with every occurrence of `v` replaced by `by` (leaves rebuilt, nodes shared).
    pub fn substitute(&mut self, node: NodeId, v: IndexVar, by: &Affine) -> NodeId {
        let mut memo = HashMap::new();
        self.substitute_memo(node, v, by, &mut memo)
    }

    fn substitute_memo(
        &mut self,
        node: NodeId,
        v: IndexVar,
        by: &Affine,
        memo: &mut HashMap<NodeId, NodeId>,
    ) -> NodeId {
        if let Some(&done) = memo.get(&node) {
            return done;
        }
        let mut go = |p: &mut Program, n: NodeId| p.substitute_memo(n, v, by, memo);
        let out = match self.graph.node(node).clone() {
            Node::Const(_) => node,
            Node::Var(var) => match self.leaf_of(var).clone() {
                Leaf::Read(tensor, indices) => {
                    let indices = indices.iter().map(|a| a.substitute(v, by)).collect();
                    self.read(tensor, indices)
                }
                // A reduction that binds `v` shadows it: its body's `v` is its own.
                Leaf::Sum(bounds, _) if bounds.iter().any(|b| b.var == v) => node,
                Leaf::LogSumExp(bound, _) | Leaf::Extremum(_, bound, _) if bound.var == v => node,
                Leaf::FirstExtremum(f, at, bound, body) if bound.var == v => {
                    self.leaf(Leaf::FirstExtremum(f, at.substitute(v, by), bound, body))
                }
                Leaf::Sum(bounds, body) => {
                    let body = go(self, body);
                    self.leaf(Leaf::Sum(bounds, body))
                }
                Leaf::LogSumExp(bound, body) => {
                    let body = go(self, body);
                    self.leaf(Leaf::LogSumExp(bound, body))
                }
                Leaf::Extremum(f, bound, body) => {
                    let body = go(self, body);
                    // The maximum of a value that no longer varies along the window is it.
                    if self.mentions(body, bound.var) {
                        self.leaf(Leaf::Extremum(f, bound, body))
                    } else {
                        body
                    }
                }
                Leaf::FirstExtremum(f, at, bound, body) => {
                    let body = go(self, body);
                    self.leaf(Leaf::FirstExtremum(f, at.substitute(v, by), bound, body))
                }
                Leaf::Guard(a, lo, hi) => self.leaf(Leaf::Guard(a.substitute(v, by), lo, hi)),
                Leaf::Call(f, args) => {
                    let args = args.iter().map(|&a| go(self, a)).collect();
                    self.leaf(Leaf::Call(f, args))
                }
                Leaf::CallDerivative(f, n, args) => {
                    let args = args.iter().map(|&a| go(self, a)).collect();
                    self.leaf(Leaf::CallDerivative(f, n, args))
                }
            },
            Node::Add(a, b) => {
                let (a, b) = (go(self, a), go(self, b));
                self.graph.add(a, b)
            }
            Node::Sub(a, b) => {
                let (a, b) = (go(self, a), go(self, b));
                self.graph.sub(a, b)
            }
            Node::Mul(a, b) => {
                let (a, b) = (go(self, a), go(self, b));
                self.graph.mul(a, b)
            }
            Node::Div(a, b) => {
                let (a, b) = (go(self, a), go(self, b));
                self.graph.div(a, b)
            }
            Node::Neg(a) => {
                let a = go(self, a);
                self.graph.neg(a)
            }
            Node::Pow(a, k) => {
                let a = go(self, a);
                self.graph.pow(a, f64::from_bits(k))
            }
            Node::Func(f, a) => {
                let a = go(self, a);
                self.graph.func(f, a)
            }
            Node::Pair(f, a, b) => {
                let (a, b) = (go(self, a), go(self, b));
                self.graph.pair(f, a, b)
            }
            Node::Sum(items) => {
                let items: Vec<NodeId> = items.iter().map(|&i| go(self, i)).collect();
                self.graph.sum(&items)
            }
            Node::LogSumExp(items) => {
                let items: Vec<NodeId> = items.iter().map(|&i| go(self, i)).collect();
                self.graph.logsumexp(&items)
            }
        };
        memo.insert(node, out);
        out
    }

    /// `node` without the brackets `[lo <= a < hi]` that hold wherever they stand: every
    /// variable of `a` is one of `ranges` (the statement's own) or bound by a sum around the
    /// bracket. A recurrence's `[0 <= t - 1]`, substituted into its delta as `[0 <= t]`, goes.
    pub fn drop_implied_guards(&mut self, node: NodeId, ranges: &[(IndexVar, usize)]) -> NodeId {
        if !self.has_guard(node) {
            return node;
        }
        let mut memo = HashMap::new();
        self.drop_guards_memo(node, ranges, &mut memo)
    }

    /// Whether a formula holds a range bracket anywhere (inside sums too).
    fn has_guard(&self, node: NodeId) -> bool {
        self.any_leaf(node, |leaf| matches!(leaf, Leaf::Guard(..)))
    }

    fn drop_guards_memo(
        &mut self,
        node: NodeId,
        ranges: &[(IndexVar, usize)],
        memo: &mut HashMap<NodeId, NodeId>,
    ) -> NodeId {
        if let Some(&done) = memo.get(&node) {
            return done;
        }
        let out = self.drop_guards_at(node, ranges, memo);
        memo.insert(node, out);
        out
    }

    fn drop_guards_at(
        &mut self,
        node: NodeId,
        ranges: &[(IndexVar, usize)],
        memo: &mut HashMap<NodeId, NodeId>,
    ) -> NodeId {
        let size = |v: IndexVar| ranges.iter().find(|(u, _)| *u == v).map(|&(_, n)| n as i64);
        match self.graph.node(node).clone() {
            Node::Const(_) => node,
            Node::Var(var) => match self.leaf_of(var).clone() {
                Leaf::Guard(a, lo, hi) => {
                    if a.terms.iter().all(|(v, _)| size(*v).is_some()) {
                        let (min, max) = a.bounds(&|v| size(v).unwrap_or(1));
                        if lo <= min && max < hi {
                            return self.graph.constant_node(1.0);
                        }
                    }
                    node
                }
                Leaf::Sum(bounds, body) => {
                    let mut inner = ranges.to_vec();
                    inner.extend(bounds.iter().map(|b| (b.var, b.size)));
                    let body = self.drop_guards_memo(body, &inner, &mut HashMap::new());
                    self.leaf(Leaf::Sum(bounds, body))
                }
                _ => node,
            },
            Node::Mul(a, b) | Node::Add(a, b) | Node::Sub(a, b) => {
                let (x, y) = (
                    self.drop_guards_memo(a, ranges, memo),
                    self.drop_guards_memo(b, ranges, memo),
                );
                match self.graph.node(node) {
                    Node::Mul(..) => self.graph.mul(x, y),
                    Node::Add(..) => self.graph.add(x, y),
                    _ => self.graph.sub(x, y),
                }
            }
            Node::Neg(a) => {
                let a = self.drop_guards_memo(a, ranges, memo);
                self.graph.neg(a)
            }
            Node::Sum(items) => {
                let items: Vec<NodeId> = items
                    .iter()
                    .map(|&i| self.drop_guards_memo(i, ranges, memo))
                    .collect();
                self.graph.sum(&items)
            }
            // Brackets stand as factors of products and sums of terms; elsewhere they stay.
            _ => node,
        }
    }

    /// Every leaf a formula holds, inside sums, extrema and calls too, until `visit` says to
    /// stop (`true`); whether it stopped.
    pub fn any_leaf(&self, node: NodeId, mut visit: impl FnMut(&Leaf) -> bool) -> bool {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match self.graph.node(n) {
                Node::Var(var) => {
                    let leaf = self.leaf_of(*var);
                    if visit(leaf) {
                        return true;
                    }
                    match leaf {
                        Leaf::Sum(_, body)
                        | Leaf::LogSumExp(_, body)
                        | Leaf::Extremum(_, _, body)
                        | Leaf::FirstExtremum(_, _, _, body) => stack.push(*body),
                        Leaf::Read(..) | Leaf::Guard(..) => {}
                        Leaf::Call(_, args) | Leaf::CallDerivative(_, _, args) => {
                            stack.extend(args.iter().copied())
                        }
                    }
                }
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        false
    }

    /// Whether a formula reads `tensor` anywhere.
    pub fn reads(&self, node: NodeId, tensor: super::Tensor) -> bool {
        self.any_leaf(
            node,
            |leaf| matches!(leaf, Leaf::Read(t, _) if *t == tensor),
        )
    }

    /// Whether a formula mentions index variable `v` anywhere.
    pub fn mentions(&self, node: NodeId, v: IndexVar) -> bool {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match self.graph.node(n) {
                Node::Var(var) => match self.leaf_of(*var) {
                    Leaf::Read(_, indices) => {
                        if indices.iter().any(|a| a.coefficient(v) != 0) {
                            return true;
                        }
                    }
                    Leaf::Sum(_, body) | Leaf::LogSumExp(_, body) | Leaf::Extremum(_, _, body) => {
                        stack.push(*body)
                    }
                    Leaf::FirstExtremum(_, at, _, body) => {
                        if at.coefficient(v) != 0 {
                            return true;
                        }
                        stack.push(*body)
                    }
                    Leaf::Guard(a, _, _) => {
                        if a.coefficient(v) != 0 {
                            return true;
                        }
                    }
                    Leaf::Call(_, args) | Leaf::CallDerivative(_, _, args) => {
                        stack.extend(args.iter().copied())
                    }
                },
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        false
    }
}

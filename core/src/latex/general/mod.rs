//! The general (index) form: finds one formula with symbolic indices that every element of a
//! vector's delta or of a parameter's gradient is an instance of, as the seeds' "In general:"
//! blocks write them (`dL/dw_ij = delta_i a_j`, `delta_k = sum_i delta_i w_ik ...`).
//!
//! The formula is found by anti-unification: the concrete expressions of all elements are
//! walked together; where they differ only in an index that follows an element's own index,
//! that index becomes a variable, and a sum whose terms differ only in one index becomes a
//! `\sum` over a new variable. A formula is printed only if it reproduces every element.
//!
//! It serves only what the tensor level (`crate::tensor`) does not cover yet: a derivation
//! re-rooted by `--of` and networks with `grad`. Everything else prints, and compiles into
//! loops, the tensor-level statements.

use std::collections::HashMap;

use super::names;

mod print;
mod sums;

use crate::derive::Derivation;
use crate::ir::{Graph, Node, NodeId, Var};
use crate::layout::Slot;
use crate::model::{Network, Shape, Symbol};
pub(in crate::latex) use print::inner_name;

/// An index in a formula: a constant or a named variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Index {
    /// A fixed index.
    Const(usize),
    /// An index variable: the element's own (`k` for a vector, `i`, `j` for a parameter)
    /// or a summation's.
    Var(char),
}

/// What a leaf of a formula stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum Leaf {
    /// An element of a symbol, or of a vector's delta, with formula indices.
    Element {
        /// Whose element.
        slot_of: SlotKind,
        /// Its indices (none for a scalar).
        indices: Vec<Index>,
    },
    /// `\sum_{var=0}^{count-1} body`.
    SumOver(char, usize, NodeId),
}

/// The named scalar family a leaf reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SlotKind {
    /// Elements of an input, target, parameter, vector, or the loss.
    Value(Symbol),
    /// The deltas of vector `v`.
    Delta(usize),
    /// The argument of vector `v`'s element-wise function (`W @ x + b` in `relu(W @ x + b)`):
    /// a leaf, so that a formula that uses it (`step` of it, in relu's derivative) reads it
    /// instead of repeating its sum.
    Inner(usize),
}

/// Index variables bound for one instance: `(letter, value)`. At most the two of an element
/// and one per summation letter, so a fixed array: instances are copied, never allocated.
#[derive(Clone, Copy, Debug)]
struct Env {
    items: [(char, u32); 9],
    len: u8,
}

impl Env {
    fn of(bound: &[(char, usize)]) -> Env {
        let mut env = Env {
            items: [(' ', 0); 9],
            len: 0,
        };
        bound.iter().for_each(|b| env.push(*b));
        env
    }

    fn push(&mut self, (letter, value): (char, usize)) {
        // Two element letters and seven summation letters fit; `sum` stops at seven. Indices
        // are below the named-scalar limit, far below 2^32.
        if let Some(slot) = self.items.get_mut(usize::from(self.len)) {
            *slot = (letter, value as u32);
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = (char, usize)> + '_ {
        self.items[..usize::from(self.len)]
            .iter()
            .map(|&(c, v)| (c, v as usize))
    }
}

/// The `k`-th operand of a node.
fn nth_child(node: &Node, k: usize) -> Option<NodeId> {
    match (node, k) {
        (
            Node::Add(a, _)
            | Node::Sub(a, _)
            | Node::Mul(a, _)
            | Node::Div(a, _)
            | Node::Pair(_, a, _),
            0,
        ) => Some(*a),
        (
            Node::Add(_, b)
            | Node::Sub(_, b)
            | Node::Mul(_, b)
            | Node::Div(_, b)
            | Node::Pair(_, _, b),
            1,
        ) => Some(*b),
        (Node::Neg(a) | Node::Pow(a, _) | Node::Func(_, a), 0) => Some(*a),
        (Node::Sum(items) | Node::LogSumExp(items), k) => items.get(k).copied(),
        _ => None,
    }
}

/// Formulas in a side graph whose `Var`s index `leaves`.
pub struct Formulas<'a> {
    derivation: &'a Derivation,
    network: &'a Network,
    /// The formulas' nodes; a `Var(n)` is `leaves[n]`.
    pub graph: Graph,
    /// What each `Var` of `graph` stands for.
    pub(super) leaves: Vec<Leaf>,
    /// The arguments of element-wise definitions: node -> (vector, element).
    inner: HashMap<NodeId, (usize, usize)>,
    /// The vector whose own definition is being unified (its argument is not a leaf there).
    defining: Option<usize>,
}

impl<'a> Formulas<'a> {
    /// An empty set of formulas over one network's derivation.
    pub fn new(network: &'a Network, derivation: &'a Derivation) -> Formulas<'a> {
        let layout = &derivation.layout;
        let mut inner = HashMap::new();
        for d in &derivation.forward {
            if let (Slot::Value(Symbol::Vector(v), e), Node::Func(_, a)) =
                (layout.slot(d.var), derivation.graph.node(d.value))
                && !matches!(derivation.graph.node(*a), Node::Var(_) | Node::Const(_))
            {
                inner.entry(*a).or_insert((v, e));
            }
        }
        Formulas {
            derivation,
            network,
            graph: Graph::new(),
            leaves: Vec::new(),
            inner,
            defining: None,
        }
    }

    /// `inner(v)_k = ...`: the argument of vector `v`'s element-wise function, if it has one.
    pub fn inner(&mut self, v: usize) -> Option<NodeId> {
        let layout = &self.derivation.layout;
        let graph = &self.derivation.graph;
        let instances: Vec<(Env, NodeId)> = self
            .derivation
            .forward
            .iter()
            .filter_map(|d| match (layout.slot(d.var), graph.node(d.value)) {
                (Slot::Value(Symbol::Vector(vv), e), Node::Func(_, a)) if vv == v => {
                    Some((Env::of(&[('k', e)]), *a))
                }
                _ => None,
            })
            .collect();
        (instances.len() == self.network.vectors[v].size).then_some(())?;
        // The anti-unifier names one index per vector: a value of more axes has none here.
        (self.network.vectors[v].shape.rank() <= 1).then_some(())?;
        self.defining = Some(v);
        let formula = self.unify(&instances);
        self.defining = None;
        formula
    }

    /// `delta(v_k) = ...` for every element of vector `v`, and how many elements have one.
    pub fn delta(&mut self, v: usize) -> (Option<NodeId>, usize) {
        let layout = &self.derivation.layout;
        let instances: Vec<(Env, NodeId)> = self
            .derivation
            .deltas
            .iter()
            .filter_map(|(slot, expr)| match layout.slot(*slot) {
                Slot::Delta(vv, e) if vv == v => Some((Env::of(&[('k', e)]), *expr)),
                _ => None,
            })
            .collect();
        if instances.is_empty() {
            return (None, 0);
        }
        // The anti-unifier names one index per vector: a value of more axes has none here.
        if self.network.vectors[v].shape.rank() > 1 {
            return (None, instances.len());
        }
        (self.unify(&instances), instances.len())
    }

    /// `dL/d(symbol)_ij = ...` for the elements that `keep` accepts, and how many (a
    /// derivation re-rooted by `--of` differentiates by inputs and named vectors too).
    pub fn gradient_of(
        &mut self,
        symbol: Symbol,
        keep: impl Fn(Var) -> bool,
    ) -> (Option<NodeId>, usize) {
        let layout = &self.derivation.layout;
        let shape = self.network.shape_of(symbol);
        let instances: Vec<(Env, NodeId)> = self
            .derivation
            .gradients
            .iter()
            .filter(|(var, _)| keep(*var))
            .filter_map(|(var, expr)| match layout.slot(*var) {
                Slot::Value(s, e) if s == symbol => {
                    let env = match shape {
                        Shape::Matrix(_, c) => Env::of(&[('i', e / c), ('j', e % c)]),
                        Shape::Vector(_) => Env::of(&[('i', e)]),
                        Shape::Scalar => Env::of(&[]),
                        // The anti-unifier names at most two axes: no single formula.
                        Shape::Tensor(_) => return None,
                    };
                    Some((env, *expr))
                }
                _ => None,
            })
            .collect();
        if instances.is_empty() {
            return (None, 0);
        }
        (self.unify(&instances), instances.len())
    }

    fn leaf(&mut self, leaf: Leaf) -> NodeId {
        let position = match self.leaves.iter().position(|l| *l == leaf) {
            Some(p) => p,
            None => {
                self.leaves.push(leaf);
                self.leaves.len() - 1
            }
        };
        self.graph.var(Var(position as u32))
    }

    /// The symbol and indices of a slot of the derivation.
    fn describe(&self, var: Var) -> (SlotKind, Vec<usize>) {
        let layout = &self.derivation.layout;
        match layout.slot(var) {
            Slot::Value(symbol, elem) => (SlotKind::Value(symbol), layout.indices(symbol, elem)),
            Slot::Delta(v, elem) => (SlotKind::Delta(v), vec![elem]),
        }
    }

    /// One formula that every `(env, node)` instance is, or `None`.
    fn unify(&mut self, instances: &[(Env, NodeId)]) -> Option<NodeId> {
        if instances.is_empty() {
            return None;
        }
        if let Some(leaf) = self.inner_leaf(instances) {
            return Some(leaf);
        }
        let source = &self.derivation.graph;
        let first = source.node(instances[0].1).clone();
        let same_kind = instances.iter().all(|(_, n)| {
            std::mem::discriminant(source.node(*n)) == std::mem::discriminant(&first)
        });
        if matches!(first, Node::Add(..) | Node::Sum(_)) || !same_kind {
            return self.sum(instances);
        }
        let child = |k: usize| -> Vec<(Env, NodeId)> {
            instances
                .iter()
                .filter_map(|(env, n)| Some((*env, nth_child(source.node(*n), k)?)))
                .collect()
        };
        match first {
            Node::Const(b) => instances
                .iter()
                .all(|(_, n)| *source.node(*n) == Node::Const(b))
                .then(|| self.graph.constant_node(f64::from_bits(b))),
            Node::Var(_) => self.unify_leaf(instances),
            Node::Sub(..) | Node::Mul(..) | Node::Div(..) => {
                let (a, b) = (child(0), child(1));
                let (a, b) = (self.unify(&a)?, self.unify(&b)?);
                Some(match first {
                    Node::Sub(..) => self.graph.sub(a, b),
                    Node::Mul(..) => self.graph.mul(a, b),
                    _ => self.graph.div(a, b),
                })
            }
            Node::Neg(_) => {
                let a = self.unify(&child(0))?;
                Some(self.graph.neg(a))
            }
            Node::Pow(_, k) => {
                let same = instances
                    .iter()
                    .all(|(_, n)| matches!(source.node(*n), Node::Pow(_, kk) if *kk == k));
                let a = self.unify(&child(0))?;
                same.then(|| self.graph.pow(a, f64::from_bits(k)))
            }
            Node::Func(f, _) => {
                let same = instances
                    .iter()
                    .all(|(_, n)| matches!(source.node(*n), Node::Func(g, _) if *g == f));
                let a = self.unify(&child(0))?;
                same.then(|| self.graph.func(f, a))
            }
            Node::Pair(f, ..) => {
                let same = instances
                    .iter()
                    .all(|(_, n)| matches!(source.node(*n), Node::Pair(g, ..) if *g == f));
                let (a, b) = (self.unify(&child(0))?, self.unify(&child(1))?);
                same.then(|| self.graph.pair(f, a, b))
            }
            Node::LogSumExp(items) => {
                let same = instances.iter().all(
                    |(_, n)| matches!(source.node(*n), Node::LogSumExp(other) if other.len() == items.len()),
                );
                if !same {
                    return None;
                }
                let mut unified = Vec::with_capacity(items.len());
                for k in 0..items.len() {
                    unified.push(self.unify(&child(k))?);
                }
                Some(self.graph.logsumexp(&unified))
            }
            Node::Add(..) | Node::Sum(_) => None,
        }
    }

    fn unify_leaf(&mut self, instances: &[(Env, NodeId)]) -> Option<NodeId> {
        let source = &self.derivation.graph;
        let described: Vec<(SlotKind, Vec<usize>, &Env)> = instances
            .iter()
            .map(|(env, n)| match source.node(*n) {
                Node::Var(v) => {
                    let (kind, indices) = self.describe(*v);
                    Some((kind, indices, env))
                }
                _ => None,
            })
            .collect::<Option<_>>()?;
        self.element_leaf(&described)
    }

    /// Instances that are all arguments of one vector's element-wise function, as a leaf.
    fn inner_leaf(&mut self, instances: &[(Env, NodeId)]) -> Option<NodeId> {
        let described: Vec<(SlotKind, Vec<usize>, &Env)> = instances
            .iter()
            .map(|(env, n)| {
                let &(v, e) = self.inner.get(n)?;
                (self.defining != Some(v)).then(|| (SlotKind::Inner(v), vec![e], env))
            })
            .collect::<Option<_>>()?;
        self.element_leaf(&described)
    }

    /// One leaf for elements of one family whose indices follow the instances' variables.
    fn element_leaf(&mut self, described: &[(SlotKind, Vec<usize>, &Env)]) -> Option<NodeId> {
        let kind = described.first()?.0;
        if described
            .iter()
            .any(|(k, idx, _)| *k != kind || idx.len() != described[0].1.len())
        {
            return None;
        }
        let mut indices = Vec::new();
        for position in 0..described[0].1.len() {
            let values: Vec<usize> = described.iter().map(|(_, idx, _)| idx[position]).collect();
            // An index that follows a bound variable in every instance becomes that variable.
            let letters: Vec<char> = described[0].2.iter().map(|(c, _)| c).collect();
            let follows = letters.into_iter().rev().find(|&letter| {
                described
                    .iter()
                    .zip(&values)
                    .all(|((_, _, env), value)| env.iter().any(|(c, v)| c == letter && v == *value))
            });
            match follows {
                // With one instance whose index is 0 a variable and a constant both fit; the
                // variable is the general reading.
                Some(letter) => indices.push(Index::Var(letter)),
                _ if values.iter().all(|v| *v == values[0]) => {
                    indices.push(Index::Const(values[0]))
                }
                _ => return None,
            }
        }
        Some(self.leaf(Leaf::Element {
            slot_of: kind,
            indices,
        }))
    }

    /// Whether a formula uses index variable `letter`.
    fn mentions(&self, node: NodeId, letter: char) -> bool {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match self.graph.node(n) {
                Node::Var(v) => match &self.leaves[v.index()] {
                    Leaf::Element { indices, .. } => {
                        if indices.contains(&Index::Var(letter)) {
                            return true;
                        }
                    }
                    Leaf::SumOver(_, _, body) => stack.push(*body),
                },
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        false
    }
}

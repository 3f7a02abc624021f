//! The symbolic IR: an arena of hash-consed scalar nodes with typed ids.
//!
//! Nodes are created through smart constructors that fold constants and drop neutral and
//! absorbing elements, and an equal node is never stored twice, so common sub-expressions
//! are shared by construction. A node's children always have smaller ids than the node, so
//! ascending id order is a valid order in which to compute or emit them.

use std::collections::HashMap;

use crate::builtin::{Builtin, Pairwise};

/// A node of the [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in the arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id at a position, for tests that build node trees without a graph's folding.
    #[cfg(test)]
    pub(crate) fn from_index(i: usize) -> NodeId {
        NodeId(i as u32)
    }
}

/// A named scalar: an element of an input, target, parameter or vector, the loss, or the delta
/// (dL/dv) of a vector element. Its meaning is given by a [`crate::layout::Layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub u32);

impl Var {
    /// The dense slot of the variable.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One scalar operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A constant, stored as the bits of a finite `f64` (never `-0.0`).
    Const(u64),
    /// A named scalar.
    Var(Var),
    /// `a + b`
    Add(NodeId, NodeId),
    /// `a - b`
    Sub(NodeId, NodeId),
    /// `a * b`
    Mul(NodeId, NodeId),
    /// `a / b`
    Div(NodeId, NodeId),
    /// `-a`
    Neg(NodeId),
    /// `a ^ k` for a constant `k` (stored as bits).
    Pow(NodeId, u64),
    /// A built-in function.
    Func(Builtin, NodeId),
    /// A built-in function of two scalars: `max(a, b)`, `min(a, b)`, `[a >= b]`, `[a > b]`.
    Pair(Pairwise, NodeId, NodeId),
    /// `a_1 + a_2 + ... + a_n`, n >= 2.
    Sum(Box<[NodeId]>),
    /// `log(e^{a_1} + ... + e^{a_n})`, n >= 2, evaluated as `m + log sum e^{a_i - m}` with
    /// `m` the largest `a_i`: softmax, log_softmax and cross-entropy are built on it.
    LogSumExp(Box<[NodeId]>),
}

impl Node {
    /// Calls `f` on every operand, in order.
    pub fn for_each_child(&self, mut f: impl FnMut(NodeId)) {
        match self {
            Node::Const(_) | Node::Var(_) => {}
            Node::Add(a, b)
            | Node::Sub(a, b)
            | Node::Mul(a, b)
            | Node::Div(a, b)
            | Node::Pair(_, a, b) => {
                f(*a);
                f(*b);
            }
            Node::Neg(a) | Node::Pow(a, _) | Node::Func(_, a) => f(*a),
            Node::Sum(items) | Node::LogSumExp(items) => items.iter().copied().for_each(f),
        }
    }
}

/// The arena of hash-consed nodes.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    /// Every node's id, found by the node's hash: each node is stored once, in `nodes`, and
    /// interning hashes it once (a map from node to id stored every node twice, a `Sum`'s
    /// operands in a second allocation, and hashed a new node twice).
    index: hashbrown::HashTable<NodeId>,
    // foldhash: interning dominates derivation time, and SipHash's DoS resistance buys nothing here.
    hasher: foldhash::fast::FixedState,
    /// The definitions of named scalars, so that `log(p)` of a named softmax or sigmoid can be
    /// written in the stable form of its definition (see [`Graph::define`]).
    definitions: HashMap<Var, NodeId>,
    /// Sets of nodes known to sum to one (the elements of a target declared `onehot` or
    /// `probabilities`), each sorted: a sum holding all of one set folds it to `1`.
    unit_sums: Vec<Vec<NodeId>>,
}

fn bits(v: f64) -> u64 {
    // -0.0 and 0.0 are the same constant.
    if v == 0.0 { 0 } else { v.to_bits() }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node behind an id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// All nodes in creation order (children before parents).
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i as u32), n))
    }

    fn intern(&mut self, node: Node) -> NodeId {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(&node);
        let Graph {
            nodes,
            index,
            hasher,
            ..
        } = self;
        if let Some(&id) = index.find(hash, |&id| nodes[id.index()] == node) {
            return id;
        }
        let id = NodeId(u32::try_from(nodes.len()).unwrap_or(u32::MAX)); // ok: graphs stay far below 2^32 nodes (size limits)
        nodes.push(node);
        index.insert_unique(hash, id, |&id| hasher.hash_one(&nodes[id.index()]));
        id
    }

    /// The constant value of a node, if it is a constant.
    pub fn constant(&self, id: NodeId) -> Option<f64> {
        match self.node(id) {
            Node::Const(b) => Some(f64::from_bits(*b)),
            _ => None,
        }
    }

    /// A constant. Non-finite values are kept as they are (they only arise from user input
    /// that the checker already refused, or from folding that overflowed).
    pub fn constant_node(&mut self, v: f64) -> NodeId {
        self.intern(Node::Const(bits(v)))
    }

    /// The id of `node` if the graph already holds it (never adds a node).
    pub fn existing(&self, node: &Node) -> Option<NodeId> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(node);
        self.index
            .find(hash, |&id| self.nodes[id.index()] == *node)
            .copied()
    }

    /// A named scalar.
    pub fn var(&mut self, var: Var) -> NodeId {
        self.intern(Node::Var(var))
    }

    /// Records that the named scalar `var` is defined as `value`, so that `log(var)` can be
    /// rewritten as the log of its definition where that is stable (`log(p_k)` of a softmax
    /// becomes `z_k - logsumexp(z)`, `log(a)` of a sigmoid becomes `log_sigmoid(z)`).
    pub fn define(&mut self, var: Var, value: NodeId) {
        self.definitions.insert(var, value);
    }

    /// Declares that the named scalars `vars` sum to one for every sample (a `onehot` or
    /// `probabilities` target): sums holding all of them simplify.
    pub fn declare_unit_sum(&mut self, vars: impl IntoIterator<Item = Var>) {
        let mut nodes: Vec<NodeId> = vars.into_iter().map(|v| self.var(v)).collect();
        nodes.sort_unstable();
        if nodes.len() >= 2 {
            self.unit_sums.push(nodes);
        }
    }

    /// Removes every complete unit-sum set from `terms`, adding `1` per set to `constant`.
    fn fold_unit_sums(&self, terms: &mut Vec<NodeId>, constant: &mut f64) {
        for set in &self.unit_sums {
            if terms.len() < set.len() {
                continue;
            }
            let mut positions = Vec::with_capacity(set.len());
            for member in set {
                match terms.iter().position(|t| t == member) {
                    Some(p) => positions.push(p),
                    None => break,
                }
            }
            if positions.len() == set.len() {
                positions.sort_unstable_by(|a, b| b.cmp(a));
                for p in positions {
                    terms.remove(p);
                }
                *constant += 1.0;
            }
        }
    }

    /// `a + b`, simplified.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) => self.constant_node(x + y),
            (Some(0.0), _) => b,
            (_, Some(0.0)) => a,
            _ if !self.unit_sums.is_empty() => {
                let mut terms = vec![a, b];
                let mut constant = 0.0;
                self.fold_unit_sums(&mut terms, &mut constant);
                if terms.is_empty() {
                    self.constant_node(constant)
                } else {
                    self.add_plain(a, b)
                }
            }
            _ => self.add_plain(a, b),
        }
    }

    fn add_plain(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if let Some(positive) = self.negated_scaled(b) {
            return self.sub(a, positive);
        }
        match (self.node(a).clone(), self.node(b).clone()) {
            (_, Node::Neg(inner)) => self.sub(a, inner),
            // `-t + p` reads `p - t`, as cross-entropy's delta is written.
            (Node::Neg(inner), _) => self.sub(b, inner),
            _ => self.intern(Node::Add(a, b)),
        }
    }

    /// `a - b`, simplified.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if a == b {
            return self.constant_node(0.0);
        }
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) => self.constant_node(x - y),
            (Some(0.0), _) => self.neg(b),
            (_, Some(0.0)) => a,
            // `a - (-0.01) s` is `a + 0.01 s` (a leaky relu's derivative): the same number
            // in IEEE arithmetic, and what a reader expects to see.
            _ => match self.negated_scaled(b) {
                Some(positive) => self.add(a, positive),
                None => self.intern(Node::Sub(a, b)),
            },
        }
    }

    /// `c * y` for `(-c) * y` with a negative constant `-c`, or `c` for a negative constant
    /// `-c`; `None` for anything else.
    fn negated_scaled(&mut self, id: NodeId) -> Option<NodeId> {
        match self.node(id).clone() {
            Node::Const(b) if f64::from_bits(b) < 0.0 => {
                Some(self.constant_node(-f64::from_bits(b)))
            }
            Node::Mul(c, y) => match self.constant(c) {
                Some(k) if k < 0.0 => {
                    let positive = self.constant_node(-k);
                    Some(self.mul(positive, y))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// `a * b`, simplified; constants gather on the left.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) => self.constant_node(x * y),
            (Some(_), None) => self.scale(a, b),
            (None, Some(_)) => self.scale(b, a),
            (None, None) => match (self.node(a).clone(), self.node(b).clone()) {
                (Node::Neg(x), Node::Neg(y)) => self.mul(x, y),
                (Node::Neg(x), _) => {
                    let product = self.mul(x, b);
                    self.neg(product)
                }
                (_, Node::Neg(y)) => {
                    let product = self.mul(a, y);
                    self.neg(product)
                }
                _ => self.intern(Node::Mul(a, b)),
            },
        }
    }

    /// `c * x` for a constant node `c`.
    fn scale(&mut self, c: NodeId, x: NodeId) -> NodeId {
        let k = self.constant(c).unwrap_or(1.0);
        if k == 0.0 {
            return c;
        }
        if k == 1.0 {
            return x;
        }
        if k == -1.0 {
            return self.neg(x);
        }
        match self.node(x).clone() {
            Node::Mul(inner_c, y) if self.constant(inner_c).is_some() => {
                let folded = self.constant_node(k * self.constant(inner_c).unwrap_or(1.0));
                self.mul(folded, y)
            }
            Node::Neg(y) => {
                let folded = self.constant_node(-k);
                self.mul(folded, y)
            }
            _ => self.intern(Node::Mul(c, x)),
        }
    }

    /// `a / b`, simplified.
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) if y != 0.0 => self.constant_node(x / y),
            (Some(0.0), _) => a,
            (_, Some(1.0)) => a,
            (_, Some(-1.0)) => self.neg(a),
            _ => self.intern(Node::Div(a, b)),
        }
    }

    /// `-a`, simplified.
    pub fn neg(&mut self, a: NodeId) -> NodeId {
        if let Some(x) = self.constant(a) {
            return self.constant_node(-x);
        }
        match *self.node(a) {
            Node::Neg(inner) => inner,
            // `-(0.01 s)` is `-0.01 s`, and `-(-0.01 s)` is `0.01 s`: the sign joins the constant.
            Node::Mul(c, y) if self.constant(c).is_some() => {
                let flipped = self.constant_node(-self.constant(c).unwrap_or(1.0));
                self.mul(flipped, y)
            }
            _ => self.intern(Node::Neg(a)),
        }
    }

    /// `a ^ k`, simplified.
    pub fn pow(&mut self, a: NodeId, k: f64) -> NodeId {
        if k == 1.0 {
            return a;
        }
        if k == 0.0 {
            return self.constant_node(1.0);
        }
        if let Some(x) = self.constant(a) {
            return self.constant_node(x.powf(k));
        }
        self.intern(Node::Pow(a, bits(k)))
    }

    /// `f(a)`, simplified: `linear` is the identity and constants fold.
    pub fn func(&mut self, f: Builtin, a: NodeId) -> NodeId {
        if f == Builtin::Linear {
            return a;
        }
        if f == Builtin::Log
            && let Some(stable) = self.stable_log(a)
        {
            return stable;
        }
        if let Some(x) = self.constant(a) {
            let v = f.eval(x);
            if v.is_finite() {
                return self.constant_node(v);
            }
        }
        self.intern(Node::Func(f, a))
    }

    /// `f(a, b)`, simplified: constants fold, and `max(a, a)` is `a`, `[a >= a]` is 1.
    pub fn pair(&mut self, f: Pairwise, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.constant(a), self.constant(b)) {
            return self.constant_node(f.eval(x, y));
        }
        if a == b {
            return match f {
                Pairwise::Maximum | Pairwise::Minimum => a,
                Pairwise::AtLeast => self.constant_node(1.0),
                Pairwise::Above => self.constant_node(0.0),
            };
        }
        self.intern(Node::Pair(f, a, b))
    }

    /// `log(a)` in a form that stays finite where `a` itself rounds to 0 or 1, if there is
    /// one: log(sigmoid(z)), log(1 - sigmoid(z)) = log(sigmoid(-z)) (binary cross-entropy at
    /// large |z|) and log(exp(u)) = u (a softmax element, so cross-entropy at logits of
    /// +-1000). A named scalar is seen through to its definition.
    fn stable_log(&mut self, a: NodeId) -> Option<NodeId> {
        let defined = |g: &Graph, n: NodeId| match g.node(n) {
            Node::Var(v) => g.definitions.get(v).copied().unwrap_or(n),
            _ => n,
        };
        let inner = defined(self, a);
        match self.node(inner).clone() {
            Node::Func(Builtin::Sigmoid, z) => Some(self.func(Builtin::LogSigmoid, z)),
            Node::Func(Builtin::Exp, u) => Some(u),
            Node::Sub(one, s) if self.constant(one) == Some(1.0) => {
                let s = defined(self, s);
                if let Node::Func(Builtin::Sigmoid, z) = self.node(s).clone() {
                    let minus = self.neg(z);
                    Some(self.func(Builtin::LogSigmoid, minus))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// `log sum_i e^{terms_i}`, simplified: one term is itself, constants fold.
    pub fn logsumexp(&mut self, terms: &[NodeId]) -> NodeId {
        match terms {
            [] => self.constant_node(f64::NEG_INFINITY),
            [one] => *one,
            _ => {
                let constants: Option<Vec<f64>> = terms.iter().map(|&t| self.constant(t)).collect();
                if let Some(values) = constants {
                    let v = crate::builtin::logsumexp(&values);
                    if v.is_finite() {
                        return self.constant_node(v);
                    }
                }
                self.intern(Node::LogSumExp(terms.into()))
            }
        }
    }

    /// The sum of several terms, simplified: zeros dropped, constants gathered at the end,
    /// and every complete set of elements declared to sum to one replaced by `1`.
    pub fn sum(&mut self, terms: &[NodeId]) -> NodeId {
        let mut constant = 0.0;
        let mut kept: Vec<NodeId> = Vec::with_capacity(terms.len());
        for &t in terms {
            match self.constant(t) {
                Some(c) => constant += c,
                None => kept.push(t),
            }
        }
        self.fold_unit_sums(&mut kept, &mut constant);
        // A sum reads from a positive term: `p_k - t_k` rather than `-t_k + p_k`.
        if kept
            .first()
            .is_some_and(|&t| matches!(self.node(t), Node::Neg(_)))
            && let Some(p) = kept
                .iter()
                .position(|&t| !matches!(self.node(t), Node::Neg(_)))
        {
            let first = kept.remove(p);
            kept.insert(0, first);
        }
        if constant != 0.0 {
            kept.push(self.constant_node(constant));
        }
        match kept.len() {
            0 => self.constant_node(0.0),
            1 => kept[0],
            2 => self.add(kept[0], kept[1]),
            _ => self.intern(Node::Sum(kept.into_boxed_slice())),
        }
    }
}

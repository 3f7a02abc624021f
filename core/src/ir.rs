//! The symbolic IR: an arena of hash-consed scalar nodes with typed ids.
//!
//! Nodes are created through smart constructors that fold constants and drop neutral and
//! absorbing elements, and an equal node is never stored twice, so common sub-expressions
//! are shared by construction. A node's children always have smaller ids than the node, so
//! ascending id order is a valid order in which to compute or emit them.

use std::collections::HashMap;

use crate::builtin::Builtin;

/// A node of the [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in the arena.
    pub fn index(self) -> usize {
        self.0 as usize
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
    /// `a_1 + a_2 + ... + a_n`, n >= 2.
    Sum(Box<[NodeId]>),
}

impl Node {
    /// Calls `f` on every operand, in order.
    pub fn for_each_child(&self, mut f: impl FnMut(NodeId)) {
        match self {
            Node::Const(_) | Node::Var(_) => {}
            Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) | Node::Div(a, b) => {
                f(*a);
                f(*b);
            }
            Node::Neg(a) | Node::Pow(a, _) | Node::Func(_, a) => f(*a),
            Node::Sum(items) => items.iter().copied().for_each(f),
        }
    }
}

/// The arena of hash-consed nodes.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    // foldhash: interning dominates derivation time, and SipHash's DoS resistance buys nothing here.
    index: HashMap<Node, NodeId, foldhash::fast::FixedState>,
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
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = NodeId(u32::try_from(self.nodes.len()).unwrap_or(u32::MAX)); // ok: graphs stay far below 2^32 nodes (size limits)
        self.nodes.push(node.clone());
        self.index.insert(node, id);
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

    /// A named scalar.
    pub fn var(&mut self, var: Var) -> NodeId {
        self.intern(Node::Var(var))
    }

    /// `a + b`, simplified.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) => self.constant_node(x + y),
            (Some(0.0), _) => b,
            (_, Some(0.0)) => a,
            _ => match self.node(b).clone() {
                Node::Neg(inner) => self.sub(a, inner),
                _ => self.intern(Node::Add(a, b)),
            },
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
            _ => self.intern(Node::Sub(a, b)),
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
        match self.node(a) {
            Node::Neg(inner) => *inner,
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
        // log(sigmoid(z)) and log(1 - sigmoid(z)) = log(sigmoid(-z)) in a form that stays
        // finite where sigmoid itself rounds to 0 or 1 (cross-entropy at large |z|).
        if f == Builtin::Log {
            match self.node(a).clone() {
                Node::Func(Builtin::Sigmoid, z) => return self.func(Builtin::LogSigmoid, z),
                Node::Sub(one, s) if self.constant(one) == Some(1.0) => {
                    if let Node::Func(Builtin::Sigmoid, z) = self.node(s).clone() {
                        let minus = self.neg(z);
                        return self.func(Builtin::LogSigmoid, minus);
                    }
                }
                _ => {}
            }
        }
        if let Some(x) = self.constant(a) {
            let v = f.eval(x);
            if v.is_finite() {
                return self.constant_node(v);
            }
        }
        self.intern(Node::Func(f, a))
    }

    /// The sum of several terms, simplified: zeros dropped, constants gathered at the end.
    pub fn sum(&mut self, terms: &[NodeId]) -> NodeId {
        let mut constant = 0.0;
        let mut kept: Vec<NodeId> = Vec::with_capacity(terms.len());
        for &t in terms {
            match self.constant(t) {
                Some(c) => constant += c,
                None => kept.push(t),
            }
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

//! The element-wise check of the matrix form: element k of a vector must be element 0 with
//! every named scalar's index shifted by k (or read unshifted by every element), compared
//! node by node on the derivation's definitions and local partials, with the matrix
//! products inside the vector standing as leaves and their gains read off the partials.

use std::collections::{HashMap, HashSet};

use super::layers::{Convention, Elementwise, Gain, Product};
use crate::derive::{Definition, Derivation};
use crate::ir::{Graph, Node, NodeId, Var};
use crate::layout::{Layout, Slot};
use crate::model::{Network, Shape, Symbol};

/// The flat index of the weight that row `k` of a product multiplies with `input[j]`.
fn weight_index(network: &Network, p: &Product, k: usize, j: usize) -> usize {
    let cols = match network.params[p.weight].shape {
        Shape::Matrix(_, c) => c,
        _ => 0,
    };
    match p.convention {
        Convention::MatVec => k * cols + j,
        Convention::VecMat => j * cols + k,
    }
}

/// The node of product `p`'s element `k` under `root`, as lowering builds it.
fn find_product(
    network: &Network,
    derivation: &Derivation,
    root: NodeId,
    p: &Product,
    k: usize,
) -> Option<NodeId> {
    let (graph, layout) = (&derivation.graph, &derivation.layout);
    let terms: Vec<(Var, Var)> = (0..p.input_size)
        .map(|j| {
            let w = layout.var(Symbol::Param(p.weight), weight_index(network, p, k, j));
            let u = layout.var(p.input, j);
            match p.convention {
                Convention::MatVec => (w, u),
                Convention::VecMat => (u, w),
            }
        })
        .collect();
    let term = |t: NodeId, (a, b): (Var, Var)| {
        matches!(graph.node(t), Node::Mul(x, y)
            if graph.node(*x) == &Node::Var(a) && graph.node(*y) == &Node::Var(b))
    };
    let is_product = |n: NodeId| match (graph.node(n), terms.as_slice()) {
        (_, [only]) => term(n, *only),
        (Node::Add(x, y), [a, b]) => term(*x, *a) && term(*y, *b),
        (Node::Sum(items), all) if items.len() == all.len() && all.len() > 2 => {
            items.iter().zip(all).all(|(t, ab)| term(*t, *ab))
        }
        _ => false,
    };
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        if is_product(n) {
            return Some(n);
        }
        graph.node(n).for_each_child(|c| stack.push(c));
    }
    None
}

/// d(element k)/d(product element k): the partial with respect to the weight of row k and
/// input 0 is `gain * input[0]` (lowering multiplies them in one term, and no other term
/// reads that weight).
fn gain(
    network: &Network,
    derivation: &Derivation,
    def: &Definition,
    p: &Product,
    k: usize,
) -> Option<Gain> {
    let (graph, layout) = (&derivation.graph, &derivation.layout);
    let w = layout.var(Symbol::Param(p.weight), weight_index(network, p, k, 0));
    let u0 = layout.var(p.input, 0);
    let (_, partial) = def.partials.iter().find(|(v, _)| *v == w)?;
    let is_u0 = |n: NodeId| graph.node(n) == &Node::Var(u0);
    let times = |a: NodeId, negated: bool| {
        Some(match (graph.constant(a), negated) {
            (Some(c), false) => Gain::Const(c),
            (Some(c), true) => Gain::Const(-c),
            (None, false) => Gain::Node(a),
            (None, true) => Gain::Neg(a),
        })
    };
    match graph.node(*partial) {
        Node::Var(v) if *v == u0 => Some(Gain::Const(1.0)),
        Node::Mul(a, b) if is_u0(*b) => times(*a, false),
        Node::Neg(m) => match graph.node(*m) {
            Node::Var(v) if *v == u0 => Some(Gain::Const(-1.0)),
            Node::Mul(a, b) if is_u0(*b) => times(*a, true),
            _ => None,
        },
        _ => None,
    }
}

/// Whether every element's definition and partials are element 0's shifted by its index,
/// with the products read as leaves, and nothing outside the products reads their weights
/// or inputs.
pub(super) fn elementwise(
    network: &Network,
    derivation: &Derivation,
    defs: &[Definition],
    products: Vec<Product>,
) -> Option<Elementwise> {
    let (graph, layout) = (&derivation.graph, &derivation.layout);
    let Some(zero) = defs.first() else {
        return Some(Elementwise::default());
    };
    let in_product = |v: Var| {
        products.iter().any(|p| match layout.slot(v) {
            Slot::Value(s, _) => s == Symbol::Param(p.weight) || s == p.input,
            Slot::Delta(..) => false,
        })
    };
    let nodes: Vec<NodeId> = products
        .iter()
        .map(|p| find_product(network, derivation, zero.value, p, 0))
        .collect::<Option<_>>()?;
    let gains: Vec<Gain> = products
        .iter()
        .map(|p| gain(network, derivation, zero, p, 0))
        .collect::<Option<_>>()?;
    let others: Vec<(Var, NodeId)> = zero
        .partials
        .iter()
        .filter(|(u, _)| !in_product(*u))
        .copied()
        .collect();
    let mut roots = vec![zero.value];
    roots.extend(others.iter().map(|(_, d)| *d));
    roots.extend(gains.iter().filter_map(|g| match g {
        Gain::Node(n) | Gain::Neg(n) => Some(*n),
        Gain::Const(_) => None,
    }));
    if reads(graph, &roots, &nodes, &in_product) {
        return None;
    }
    let mut shift = Shift {
        graph,
        layout,
        fixed: HashMap::new(),
    };
    for (k, def) in defs.iter().enumerate().skip(1) {
        let nodes_k: Vec<NodeId> = products
            .iter()
            .map(|p| find_product(network, derivation, def.value, p, k))
            .collect::<Option<_>>()?;
        if !shift.same(zero.value, def.value, k, &nodes, &nodes_k) {
            return None;
        }
        for (p, g0) in products.iter().zip(&gains) {
            let same = match (g0, gain(network, derivation, def, p, k)?) {
                (Gain::Const(a), Gain::Const(b)) => a.to_bits() == b.to_bits(),
                (Gain::Node(a), Gain::Node(b)) | (Gain::Neg(a), Gain::Neg(b)) => {
                    shift.same(*a, b, k, &nodes, &nodes_k)
                }
                _ => false,
            };
            if !same {
                return None;
            }
        }
        if def.partials.iter().filter(|(u, _)| !in_product(*u)).count() != others.len() {
            return None;
        }
        for (u0, d0) in &others {
            let uk = shift.map(*u0, k)?;
            let (_, dk) = def.partials.iter().find(|(u, _)| *u == uk)?;
            if !shift.same(*d0, *dk, k, &nodes, &nodes_k) {
                return None;
            }
        }
    }
    let mut fixed: Vec<Var> = shift
        .fixed
        .iter()
        .filter(|(_, fixed)| **fixed)
        .map(|(v, _)| *v)
        .collect();
    fixed.sort_unstable();
    Some(Elementwise {
        products,
        nodes,
        gains,
        fixed,
    })
}

/// Whether a named scalar `bad` accepts is read under `roots`, outside the `leaves`.
fn reads(graph: &Graph, roots: &[NodeId], leaves: &[NodeId], bad: &dyn Fn(Var) -> bool) -> bool {
    let mut seen = HashSet::new();
    let mut stack = roots.to_vec();
    while let Some(n) = stack.pop() {
        if leaves.contains(&n) || !seen.insert(n) {
            continue;
        }
        match graph.node(n) {
            Node::Var(v) if bad(*v) => return true,
            node => node.for_each_child(|c| stack.push(c)),
        }
    }
    false
}

/// Compares element 0's expressions with element k's, learning which named scalars are
/// shifted by k and which are read by every element alike (`fixed`).
struct Shift<'a> {
    graph: &'a Graph,
    layout: &'a Layout,
    fixed: HashMap<Var, bool>,
}

impl Shift<'_> {
    /// Element k's counterpart of element 0's named scalar `v`.
    fn map(&self, v: Var, k: usize) -> Option<Var> {
        if self.fixed.get(&v).copied().unwrap_or(false) {
            return Some(v);
        }
        match self.layout.slot(v) {
            Slot::Value(s, e) if e + k < self.layout_len(s) => Some(self.layout.var(s, e + k)),
            _ => None,
        }
    }

    fn layout_len(&self, s: Symbol) -> usize {
        self.layout.vars(s).count()
    }

    fn var_pair(&mut self, x: Var, y: Var, k: usize) -> bool {
        let fixed = if x == y {
            true
        } else if var_shifted(self.layout, x, y, k) {
            false
        } else {
            return false;
        };
        *self.fixed.entry(x).or_insert(fixed) == fixed
    }

    /// Whether `b` (element k) is `a` (element 0) shifted, the products' nodes `v0` in
    /// element 0 standing for `vk` in element k.
    fn same(&mut self, a: NodeId, b: NodeId, k: usize, v0: &[NodeId], vk: &[NodeId]) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![(a, b)];
        while let Some((a, b)) = stack.pop() {
            if !seen.insert((a, b)) {
                continue;
            }
            let (pa, pb) = (
                v0.iter().position(|&n| n == a),
                vk.iter().position(|&n| n == b),
            );
            if pa.is_some() || pb.is_some() {
                if pa != pb {
                    return false;
                }
                continue;
            }
            let graph = self.graph;
            let same = match (graph.node(a), graph.node(b)) {
                (Node::Var(x), Node::Var(y)) => self.var_pair(*x, *y, k),
                (Node::Const(x), Node::Const(y)) => x == y,
                (Node::Add(a1, a2), Node::Add(b1, b2))
                | (Node::Sub(a1, a2), Node::Sub(b1, b2))
                | (Node::Mul(a1, a2), Node::Mul(b1, b2))
                | (Node::Div(a1, a2), Node::Div(b1, b2)) => {
                    stack.push((*a1, *b1));
                    stack.push((*a2, *b2));
                    true
                }
                (Node::Neg(x), Node::Neg(y)) => {
                    stack.push((*x, *y));
                    true
                }
                (Node::Pow(x, p), Node::Pow(y, q)) => {
                    stack.push((*x, *y));
                    p == q
                }
                (Node::Func(f, x), Node::Func(g, y)) => {
                    stack.push((*x, *y));
                    f == g
                }
                (Node::Pair(f, x1, x2), Node::Pair(g, y1, y2)) => {
                    stack.push((*x1, *y1));
                    stack.push((*x2, *y2));
                    f == g
                }
                (Node::Sum(xs), Node::Sum(ys)) => {
                    stack.extend(xs.iter().copied().zip(ys.iter().copied()));
                    xs.len() == ys.len()
                }
                _ => false,
            };
            if !same {
                return false;
            }
        }
        true
    }
}

fn var_shifted(layout: &Layout, x: Var, y: Var, k: usize) -> bool {
    match (layout.slot(x), layout.slot(y)) {
        (Slot::Value(s, e), Slot::Value(t, f)) => s == t && s != Symbol::Loss && f == e + k,
        _ => false,
    }
}

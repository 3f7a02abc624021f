//! Recognises the layer structure the matrix form needs: each named vector is a matrix
//! product of a whole vector with a parameter matrix (`W @ v`, `v @ W`, optionally `+ b`),
//! or element-wise, meaning element k's definition and local partials are element 0's with
//! every index shifted by k (checked on the derivation, node by node). Anything else is
//! irregular and keeps the per-sample code.

use std::collections::{HashMap, HashSet};

use chainrule_grammar::Span;

use crate::builtin::Builtin;
use crate::derive::{Definition, Derivation};
use crate::ir::{Graph, Node, NodeId, Var};
use crate::layout::{Layout, Slot};
use crate::model::{ElemOp, Network, Shape, Symbol, TExpr, TExprKind};

/// Which side of the product the parameter matrix stands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// `W @ v`: `W` is `[len(result)][len(v)]`, so `Z = X Wᵀ` over a batch.
    MatVec,
    /// `v @ W`: `W` is `[len(v)][len(result)]`, so `Z = X W`.
    VecMat,
}

/// A vector computed by one matrix product over the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    /// The parameter matrix (index into the network's parameters).
    pub weight: usize,
    /// The multiplied vector: an input, a target or an earlier named vector.
    pub input: Symbol,
    /// Its length.
    pub input_size: usize,
    /// The product's convention.
    pub convention: Convention,
    /// The added bias vector parameter, if any.
    pub bias: Option<usize>,
}

/// How one named vector is computed over a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// One matrix product (plus bias).
    Product(Product),
    /// A loop over its elements of element 0's expressions, indices shifted; matrix products
    /// inside it (`relu(W @ x + b)`) are computed first by GEMM and read as leaves.
    Elementwise(Elementwise),
}

/// d(element)/d(product element), taken from the derivation's partial with respect to the
/// product's first weight of the element's row (which is this factor times `input[0]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gain {
    /// A constant factor.
    Const(f64),
    /// An expression of element 0.
    Node(NodeId),
    /// Minus an expression of element 0.
    Neg(NodeId),
}

/// An element-wise vector's structure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Elementwise {
    /// The matrix products inside it.
    pub products: Vec<Product>,
    /// Each product's node in element 0's definition.
    pub nodes: Vec<NodeId>,
    /// Each product's gain in element 0.
    pub gains: Vec<Gain>,
    /// Named scalars element 0 reads that every element reads unshifted (`s` in `s * z`,
    /// `u[0]` in `z + u[0]`); every other one is shifted by the element's index.
    pub fixed: Vec<Var>,
}

/// One named vector of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Its index among the network's vectors.
    pub vector: usize,
    /// Its length.
    pub size: usize,
    /// How it is computed.
    pub kind: Kind,
    /// Whether the loss depends on it (every element, or none: see [`plan`]).
    pub live: bool,
    /// Its first definition in [`Derivation::forward`].
    pub first: usize,
}

/// The matrix form's view of a network: every named vector, in evaluation order.
#[derive(Clone, Debug)]
pub struct Plan {
    /// One layer per named vector.
    pub layers: Vec<Layer>,
    /// The position of each parameter's first element in `Params::flat` order.
    pub offsets: Vec<usize>,
}

impl Plan {
    /// Whether some layer is a matrix product.
    pub fn has_product(&self) -> bool {
        self.product_work() > 0
    }

    /// Multiply-adds of the matrix products per sample (forward only): the work the matrix
    /// form speeds up.
    pub fn product_work(&self) -> usize {
        self.layers
            .iter()
            .map(|l| match &l.kind {
                Kind::Product(p) => l.size * p.input_size,
                Kind::Elementwise(e) => e.products.iter().map(|p| l.size * p.input_size).sum(),
            })
            .sum()
    }
}

/// Why a network keeps the per-sample code in every mode: a vector and a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Irregular {
    /// Where the vector is defined.
    pub span: Span,
    /// A sentence for the reader of `chainrule rust` output and the tests.
    pub reason: String,
}

/// The plan of a network, or why it has none.
pub fn plan(network: &Network, derivation: &Derivation) -> Result<Plan, Irregular> {
    let mut offsets = Vec::with_capacity(network.params.len());
    let mut at = 0;
    for p in &network.params {
        offsets.push(at);
        at += p.shape.len();
    }
    let mut layers = Vec::with_capacity(network.vectors.len());
    let mut first = 0;
    for (v, vector) in network.vectors.iter().enumerate() {
        let irregular = |reason: &str| Irregular {
            span: vector.span,
            reason: format!("`{}` {reason}", vector.name),
        };
        let defs = derivation
            .forward
            .get(first..first + vector.size)
            .ok_or_else(|| irregular("has no definition"))?;
        let live_count = (first..first + vector.size)
            .filter(|&d| derivation.live.get(d).copied().unwrap_or(false))
            .count();
        if live_count != 0 && live_count != vector.size {
            return Err(irregular("is only partly used by the loss"));
        }
        let kind = match product(network, &vector.expr, vector.size) {
            Some(p) => Kind::Product(p),
            None => {
                let mut products = Vec::new();
                inner_products(network, &vector.expr, vector.size, &mut products).ok_or_else(
                    || irregular("multiplies a matrix with something other than a whole vector"),
                )?;
                Kind::Elementwise(elementwise(network, derivation, defs, products).ok_or_else(
                    || irregular("is neither a matrix product nor element-wise (element k is not element 0 with its indices shifted by k)"),
                )?)
            }
        };
        layers.push(Layer {
            vector: v,
            size: vector.size,
            kind,
            live: live_count == vector.size,
            first,
        });
        first += vector.size;
    }
    Ok(Plan { layers, offsets })
}

/// `W @ v`, `v @ W`, with `+ b` on either side, for whole vectors `v` and `b`.
fn product(network: &Network, expr: &TExpr, size: usize) -> Option<Product> {
    if expr.shape != Shape::Vector(size) {
        return None;
    }
    match &expr.kind {
        TExprKind::Builtin(Builtin::Linear, inner) => product(network, inner, size),
        TExprKind::Binary(ElemOp::Add, a, b) => {
            let bias = |e: &TExpr| match e.kind {
                TExprKind::Symbol(Symbol::Param(q))
                    if network.params[q].shape == Shape::Vector(size) =>
                {
                    Some(q)
                }
                _ => None,
            };
            let (core, q) = match (bias(a), bias(b)) {
                (_, Some(q)) => (a, q),
                (Some(q), None) => (b, q),
                (None, None) => return None,
            };
            let mut p = bare_product(network, core, size)?;
            p.bias = Some(q);
            Some(p)
        }
        _ => bare_product(network, expr, size),
    }
}

fn bare_product(network: &Network, expr: &TExpr, size: usize) -> Option<Product> {
    let whole = |e: &TExpr| match e.kind {
        TExprKind::Symbol(s @ (Symbol::Input(_) | Symbol::Target(_) | Symbol::Vector(_))) => {
            Some((s, network.shape_of(s).len()))
        }
        _ => None,
    };
    let (weight, (input, input_size), convention) = match &expr.kind {
        TExprKind::MatVec(w, v) => (*w, whole(v)?, Convention::MatVec),
        TExprKind::VecMat(v, w) => (*w, whole(v)?, Convention::VecMat),
        _ => return None,
    };
    let expected = match convention {
        Convention::MatVec => Shape::Matrix(size, input_size),
        Convention::VecMat => Shape::Matrix(input_size, size),
    };
    (network.params.get(weight)?.shape == expected).then_some(Product {
        weight,
        input,
        input_size,
        convention,
        bias: None,
    })
}

/// Every `W @ v` / `v @ W` inside an expression, each with `len(result)` equal to the
/// vector's `size` and over a whole vector; `None` if some product is not of that form.
fn inner_products(network: &Network, e: &TExpr, size: usize, out: &mut Vec<Product>) -> Option<()> {
    match &e.kind {
        TExprKind::MatVec(..) | TExprKind::VecMat(..) => {
            let p = bare_product(network, e, size)?;
            if !out.contains(&p) {
                out.push(p);
            }
            Some(())
        }
        TExprKind::Const(_) | TExprKind::Symbol(_) | TExprKind::Element(..) => Some(()),
        TExprKind::Neg(a)
        | TExprKind::Pow(a, _)
        | TExprKind::Builtin(_, a)
        | TExprKind::Reduce(_, a)
        | TExprKind::SumOver(_, a) => inner_products(network, a, size, out),
        TExprKind::Binary(_, a, b) => {
            inner_products(network, a, size, out)?;
            inner_products(network, b, size, out)
        }
        TExprKind::Call(_, args) => args
            .iter()
            .try_for_each(|a| inner_products(network, a, size, out)),
    }
}

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
fn elementwise(
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

//! Recognises the layer structure the matrix form needs: each named vector is a matrix
//! product of a whole vector with a parameter matrix (`W @ v`, `v @ W`, optionally `+ b`),
//! or element-wise, meaning element k's definition and local partials are element 0's with
//! every index shifted by k (checked on the derivation, node by node). Anything else is
//! irregular and keeps the per-sample code.

use std::collections::HashSet;

use chainrule_grammar::Span;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One matrix product (plus bias).
    Product(Product),
    /// A loop over its elements of element 0's expressions, indices shifted.
    Elementwise,
}

/// One named vector of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        self.layers
            .iter()
            .any(|l| matches!(l.kind, Kind::Product(_)))
    }

    /// Multiply-adds of the matrix products per sample (forward only): the work the matrix
    /// form speeds up.
    pub fn product_work(&self) -> usize {
        self.layers
            .iter()
            .map(|l| match l.kind {
                Kind::Product(p) => l.size * p.input_size,
                Kind::Elementwise => 0,
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
            None if elementwise(&derivation.graph, &derivation.layout, defs) => Kind::Elementwise,
            None => {
                return Err(irregular(
                    "is neither a matrix product nor element-wise (element k is not element 0 with its indices shifted by k)",
                ));
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

/// Whether every element's definition and partials are element 0's shifted by its index.
fn elementwise(graph: &Graph, layout: &Layout, defs: &[Definition]) -> bool {
    let Some(zero) = defs.first() else {
        return true;
    };
    defs.iter().enumerate().skip(1).all(|(k, def)| {
        def.partials.len() == zero.partials.len()
            && shifted(graph, layout, zero.value, def.value, k)
            && zero
                .partials
                .iter()
                .zip(&def.partials)
                .all(|((u0, d0), (uk, dk))| {
                    var_shifted(layout, *u0, *uk, k) && shifted(graph, layout, *d0, *dk, k)
                })
    })
}

/// Whether `b` is `a` with every named scalar's element index plus `k`.
fn shifted(graph: &Graph, layout: &Layout, a: NodeId, b: NodeId, k: usize) -> bool {
    let mut seen = HashSet::new();
    let mut stack = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        if !seen.insert((a, b)) {
            continue;
        }
        let same = match (graph.node(a), graph.node(b)) {
            (Node::Var(x), Node::Var(y)) => var_shifted(layout, *x, *y, k),
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

fn var_shifted(layout: &Layout, x: Var, y: Var, k: usize) -> bool {
    match (layout.slot(x), layout.slot(y)) {
        (Slot::Value(s, e), Slot::Value(t, f)) => s == t && s != Symbol::Loss && f == e + k,
        _ => false,
    }
}

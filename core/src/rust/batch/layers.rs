//! Recognises the layer structure the matrix form needs: each named vector is a matrix
//! product of a whole vector with a parameter matrix (`W @ v`, `v @ W`, optionally `+ b`),
//! or element-wise, meaning element k's definition and local partials are element 0's with
//! every index shifted by k (checked on the derivation, node by node). Anything else is
//! irregular and keeps the per-sample code.

use chainrule_grammar::Span;

use super::elementwise::elementwise;
use crate::builtin::{Builtin, VectorFn};
use crate::derive::Derivation;
use crate::ir::{NodeId, Var};
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
    /// `softmax(z)` (or `log_softmax(z)` when `log`) of a whole named vector `z` (its index
    /// among the network's vectors), row by row.
    Softmax {
        /// The vector it normalizes.
        source: usize,
        /// Whether it is `log_softmax`.
        log: bool,
    },
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
                Kind::Softmax { .. } => 0,
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
            None if let Some(kind) = softmax(network, &vector.expr) => kind,
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

/// `softmax(z)` or `log_softmax(z)` of a whole named vector.
fn softmax(network: &Network, expr: &TExpr) -> Option<Kind> {
    let TExprKind::VectorFn(f, arg) = &expr.kind else {
        return None;
    };
    let TExprKind::Symbol(Symbol::Vector(source)) = arg.kind else {
        return None;
    };
    let log = match f {
        VectorFn::Softmax => false,
        VectorFn::LogSoftmax => true,
        VectorFn::LogSumExp => return None,
    };
    (network.vectors[source].size == expr.shape.len()).then_some(Kind::Softmax { source, log })
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

pub(super) fn bare_product(network: &Network, expr: &TExpr, size: usize) -> Option<Product> {
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
        TExprKind::Const(_)
        | TExprKind::Symbol(_)
        | TExprKind::Element(..)
        | TExprKind::Delta(..) => Some(()),
        TExprKind::Neg(a)
        | TExprKind::Pow(a, _)
        | TExprKind::Builtin(_, a)
        | TExprKind::Reduce(_, a)
        | TExprKind::SumOver(_, a)
        | TExprKind::ExtremumOver(_, _, a)
        | TExprKind::IndexDef(_, a) => inner_products(network, a, size, out),
        TExprKind::Binary(_, a, b) => {
            inner_products(network, a, size, out)?;
            inner_products(network, b, size, out)
        }
        TExprKind::Call(_, args) => args
            .iter()
            .try_for_each(|a| inner_products(network, a, size, out)),
        // A softmax couples every element, and a derivative inside the network is not a
        // layer: both stay per-sample.
        TExprKind::VectorFn(..) | TExprKind::Grad(..) => None,
    }
}

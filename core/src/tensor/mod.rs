//! The tensor-level IR: every definition is one statement over index spaces, never one node
//! per element, and every delta and gradient is again such a statement.
//!
//! A statement `z1[k] = sum_i W1[k][i] x[i] + b1[k]` is a formula in a [`Graph`] whose `Var`s
//! are [`Leaf`]s: reads of a tensor at affine indices, sums, log-sum-exps, maxima and minima
//! over bound index variables, and Iverson brackets (a maximum's derivative is the bracket
//! "is the first maximal element"). Lowering (`lower.rs`) builds the forward statements from
//! the checked model without unrolling; `derive.rs` runs reverse mode over them (a read's
//! adjoint is scattered back through its index map, inverted by solving for the summed
//! variables, with the ranges that remain stated as brackets); `verify.rs` instantiates every
//! formula element by element against the scalar derivation, which stays the reference. A
//! formula that does not reproduce every element is marked so, and printers refuse it.
//!
//! Cost and memory grow with the number of statements, not with the number of weights.

pub mod derive;
pub mod functions;
pub mod lower;
mod subst;
pub mod verify;

use std::collections::HashMap;

use crate::builtin::Pairwise;
use crate::ir::{Graph, Node, NodeId, Var};
use crate::model::{Network, Shape, Symbol};

/// An index variable of a formula (named by a letter only when printed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexVar(pub u32);

/// `c_1 i_1 + ... + c_n i_n + offset` with integer coefficients, terms sorted by variable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Affine {
    /// Non-zero coefficients, sorted by variable.
    pub terms: Vec<(IndexVar, i64)>,
    /// The constant part.
    pub offset: i64,
}

impl Affine {
    /// The index `v`.
    pub fn var(v: IndexVar) -> Affine {
        Affine {
            terms: vec![(v, 1)],
            offset: 0,
        }
    }

    /// The fixed index `c`.
    pub fn constant(c: i64) -> Affine {
        Affine {
            terms: Vec::new(),
            offset: c,
        }
    }

    /// The row-major position of the element at the given indices of axes of the given
    /// sizes (`9c + 3u + v` over `[c, u, v]` of sizes `[2, 3, 3]`): where `flatten` puts it.
    pub fn row_major(axes: impl DoubleEndedIterator<Item = (IndexVar, usize)>) -> Affine {
        let mut position = Affine::constant(0);
        let mut stride = 1i64;
        for (var, size) in axes.rev() {
            position = position.plus_scaled(&Affine::var(var), stride);
            stride *= size as i64;
        }
        position
    }

    /// `self + k * other`.
    pub fn plus_scaled(&self, other: &Affine, k: i64) -> Affine {
        let mut terms = self.terms.clone();
        for &(v, c) in &other.terms {
            match terms.iter_mut().find(|(u, _)| *u == v) {
                Some(t) => t.1 += k * c,
                None => terms.push((v, k * c)),
            }
        }
        terms.retain(|(_, c)| *c != 0);
        terms.sort_by_key(|(v, _)| *v);
        Affine {
            terms,
            offset: self.offset + k * other.offset,
        }
    }

    /// The coefficient of `v` (0 when absent).
    pub fn coefficient(&self, v: IndexVar) -> i64 {
        self.terms
            .iter()
            .find(|(u, _)| *u == v)
            .map_or(0, |(_, c)| *c)
    }

    /// `self` with `v` replaced by `by`.
    pub fn substitute(&self, v: IndexVar, by: &Affine) -> Affine {
        let c = self.coefficient(v);
        if c == 0 {
            return self.clone();
        }
        let without = Affine {
            terms: self
                .terms
                .iter()
                .filter(|(u, _)| *u != v)
                .copied()
                .collect(),
            offset: self.offset,
        };
        without.plus_scaled(by, c)
    }

    /// The value at an assignment of the variables.
    pub fn at(&self, value: &impl Fn(IndexVar) -> i64) -> i64 {
        self.terms
            .iter()
            .fold(self.offset, |acc, &(v, c)| acc + c * value(v))
    }

    /// The least and greatest value when each variable `v` ranges over `0..size(v)`.
    pub fn bounds(&self, size: &impl Fn(IndexVar) -> i64) -> (i64, i64) {
        let mut lo = self.offset;
        let mut hi = self.offset;
        for &(v, c) in &self.terms {
            let top = c * (size(v) - 1).max(0);
            lo += top.min(0);
            hi += top.max(0);
        }
        (lo, hi)
    }
}

/// What a read refers to: the values of a symbol, or the derivatives of the loss by them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tensor {
    /// The values of an input, target, parameter, named vector, or the loss.
    Value(Symbol),
    /// dL/d(symbol): a named vector's delta, or a parameter's gradient.
    Delta(Symbol),
    /// The argument of named vector v's element-wise function (`W x + b` in
    /// `relu(W x + b)`), `\tilde{h}` in print: formulas that need it (relu's derivative)
    /// read it instead of repeating its sum. It has no delta of its own.
    Inner(usize),
}

/// An index variable bound by a reduction, with its range `0..size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bound {
    /// The variable.
    pub var: IndexVar,
    /// It takes every value below this.
    pub size: usize,
}

/// What a `Var` of the formula graph stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// One element of a tensor, at affine indices (none for a scalar).
    Read(Tensor, Vec<Affine>),
    /// `sum over every bound variable of body`.
    Sum(Vec<Bound>, NodeId),
    /// `log sum_j exp(body)` over one bound variable.
    LogSumExp(Bound, NodeId),
    /// `max_j body` (`Pairwise::Maximum`) or `min_j body` (`Pairwise::Minimum`) over one
    /// bound variable: a left fold in increasing `j`, so a tie keeps the earlier value, as the
    /// scalar graph's fold of the two-argument built-in does.
    Extremum(Pairwise, Bound, NodeId),
    /// `[at = the first j where body attains its max (min) over j]`: 1 or 0, the derivative of
    /// [`Leaf::Extremum`] by its body at `j = at`. `at` is free; the body's `j` is bound here.
    FirstExtremum(Pairwise, Affine, Bound, NodeId),
    /// The Iverson bracket `[lo <= index < hi]`: 1 when it holds, else 0.
    Guard(Affine, i64, i64),
    /// A user function applied to argument formulas, kept by name (`gelu(z)`).
    Call(usize, Vec<NodeId>),
    /// The partial derivative of a user function by its n-th argument, at the arguments
    /// (`gelu'(z)`); [`Program::functions`] holds its formula.
    CallDerivative(usize, usize, Vec<NodeId>),
}

/// What kind of step a statement is, for planners and printers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// Element by element: no reduction.
    Map,
    /// A sum of products over shared indices (`W @ x`, a weight's gradient over positions).
    Contraction,
    /// A reduction of a whole tensor to fewer axes (`sum`, `mean`, log-sum-exp).
    Reduction,
}

/// `tensor[indices] = formula` for every element of `shape`.
#[derive(Clone, Debug)]
pub struct Statement {
    /// What it defines.
    pub defines: Tensor,
    /// Its shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// One free variable per axis.
    pub indices: Vec<IndexVar>,
    /// The formula in [`Program::graph`].
    pub formula: NodeId,
    /// Its kind.
    pub kind: StepKind,
    /// Whether every element was checked against the scalar derivation and agreed.
    pub verified: bool,
    /// Where each element lands in `defines` when that is not at `indices` themselves: a
    /// reshape (`flat = flatten(p)`: `flat[9c + 3u + v] = p[c][u][v]`, `indices` one per axis
    /// of `p` and `shape` its dims). `None` for every other statement.
    pub reshape: Option<Vec<Affine>>,
}

impl Statement {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element of `defines` that each assignment of `indices` computes: the indices
    /// themselves, or a reshape's positions.
    pub fn at(&self) -> Vec<Affine> {
        match &self.reshape {
            Some(at) => at.clone(),
            None => self.indices.iter().map(|&v| Affine::var(v)).collect(),
        }
    }
}

/// A network as statements: forward (vectors in evaluation order, then the loss), deltas
/// (from the loss backwards) and gradients (one per parameter).
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Every formula's nodes; a `Var(n)` is `leaves[n]`.
    pub graph: Graph,
    leaves: Vec<Leaf>,
    leaf_ids: HashMap<Leaf, u32>,
    next_index: u32,
    /// Forward statements: vectors in evaluation order, then the loss.
    pub forward: Vec<Statement>,
    /// Delta statements of the named vectors the loss depends on, from the loss backwards.
    pub deltas: Vec<Statement>,
    /// One gradient statement per parameter, in parameter order.
    pub gradients: Vec<Statement>,
    /// At how many points the statements were checked (0: no finite point was found, so
    /// none is verified).
    pub checked_at: usize,
    /// The user functions the formulas call by name, with their derivatives.
    pub functions: Vec<functions::Derived>,
}

impl Program {
    /// A fresh index variable.
    pub fn fresh(&mut self) -> IndexVar {
        self.next_index += 1;
        IndexVar(self.next_index - 1)
    }

    /// The node of a leaf, stored once.
    pub fn leaf(&mut self, leaf: Leaf) -> NodeId {
        let id = match self.leaf_ids.get(&leaf) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.leaves.len()).unwrap_or(u32::MAX); // ok: formulas are far fewer than 2^32
                self.leaves.push(leaf.clone());
                self.leaf_ids.insert(leaf, id);
                id
            }
        };
        self.graph.var(Var(id))
    }

    /// What a `Var` of the graph stands for.
    pub fn leaf_of(&self, var: Var) -> &Leaf {
        &self.leaves[var.index()]
    }

    /// The leaf behind a node, if the node is one.
    pub fn leaf_at(&self, node: NodeId) -> Option<&Leaf> {
        match self.graph.node(node) {
            Node::Var(v) => Some(self.leaf_of(*v)),
            _ => None,
        }
    }

    /// A read of `tensor` at `indices`.
    pub fn read(&mut self, tensor: Tensor, indices: Vec<Affine>) -> NodeId {
        self.leaf(Leaf::Read(tensor, indices))
    }

    /// The delta statement of a named vector, if the loss depends on it.
    pub fn delta_of(&self, symbol: Symbol) -> Option<&Statement> {
        self.deltas
            .iter()
            .find(|s| s.defines == Tensor::Delta(symbol))
    }

    /// The forward statement of a symbol.
    pub fn forward_of(&self, symbol: Symbol) -> Option<&Statement> {
        self.forward
            .iter()
            .find(|s| s.defines == Tensor::Value(symbol))
    }

    /// The gradient statement of a parameter.
    pub fn gradient_of(&self, symbol: Symbol) -> Option<&Statement> {
        self.gradients
            .iter()
            .find(|s| s.defines == Tensor::Delta(symbol))
    }

    /// Every statement: forward, deltas, gradients.
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.forward
            .iter()
            .chain(&self.deltas)
            .chain(&self.gradients)
    }
}

/// The axes of a tensor's shape.
pub fn tensor_dims(network: &Network, tensor: Tensor) -> Vec<usize> {
    match tensor {
        Tensor::Value(s) | Tensor::Delta(s) => dims(network, s),
        Tensor::Inner(v) => dims(network, Symbol::Vector(v)),
    }
}

/// The axes of a symbol's shape.
pub fn dims(network: &Network, symbol: Symbol) -> Vec<usize> {
    match symbol {
        Symbol::Loss => Vec::new(),
        s => match network.shape_of(s) {
            Shape::Scalar => Vec::new(),
            shape => shape.dims(),
        },
    }
}

/// Builds, derives and verifies the statements of a network, or says why it has none
/// (a construct the tensor level does not cover yet, such as `grad`).
pub fn program(
    network: &Network,
    functions: &[crate::model::Function],
    derivation: &crate::derive::Derivation,
) -> Result<Program, lower::Unsupported> {
    program_with(network, functions, derivation, true)
}

/// [`program`], with user functions kept by name (for printing) or written in place (for
/// code, which inlines them).
pub fn program_with(
    network: &Network,
    functions: &[crate::model::Function],
    derivation: &crate::derive::Derivation,
    named_calls: bool,
) -> Result<Program, lower::Unsupported> {
    let mut program = lower::lower(network, functions, named_calls)?;
    derive::derive(&mut program, network);
    verify::verify(&mut program, network, derivation);
    Ok(program)
}

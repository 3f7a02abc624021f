//! The checked network: every name resolved, every shape known, vectors in evaluation order.

use chainrule_grammar::{BatchRule, Reduction, Span, TargetKind};

use crate::builtin::{Builtin, Pairwise, VectorFn};

mod shape;
pub use shape::{Dims, MAX_AXES, Shape};

/// A file after checking: its networks and the user functions they may call.
#[derive(Clone, Debug)]
pub struct Model {
    /// Networks in file order.
    pub networks: Vec<Network>,
    /// User functions in file order; `fn` bodies only call earlier ones.
    pub functions: Vec<Function>,
}

impl Model {
    /// The network called `name`.
    pub fn network(&self, name: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.name == name)
    }

    /// The position in [`Model::networks`] of `network`, one of this model's own (by
    /// address: what `compile_network` takes).
    pub fn position_of(&self, network: &Network) -> Option<usize> {
        self.networks.iter().position(|n| std::ptr::eq(n, network))
    }
}

/// A user `fn`: a scalar function of its arguments.
#[derive(Clone, Debug)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Its argument names.
    pub params: Vec<String>,
    /// Its body, over `FnExpr::Arg`s.
    pub body: FnExpr,
}

/// The body of a user function.
#[derive(Clone, Debug, PartialEq)]
pub enum FnExpr {
    /// A constant.
    Const(f64),
    /// The n-th argument.
    Arg(usize),
    /// `-e`
    Neg(Box<FnExpr>),
    /// `l op r`, element-wise arithmetic.
    Binary(ElemOp, Box<FnExpr>, Box<FnExpr>),
    /// `e ^ k`.
    Pow(Box<FnExpr>, f64),
    /// A built-in applied to a value.
    Builtin(Builtin, Box<FnExpr>),
    /// An earlier user function (index into [`Model::functions`]).
    Call(usize, Vec<FnExpr>),
}

/// One input or target: a vector, or a scalar (one number per sample).
#[derive(Clone, Debug)]
pub struct DataVar {
    /// Its name.
    pub name: String,
    /// Its number of elements (1 for a scalar; the number of classes of a label).
    pub size: usize,
    /// Its shape: `Scalar` for `input s`, else `Vector(size)` (a label is its one-hot vector).
    pub shape: Shape,
    /// The default samples given in the file: one (`= [..]`) or a batch (`= [[..], [..]]`).
    pub default: Option<Vec<Vec<f64>>>,
    /// What a target's samples are declared to be (`Plain` for inputs).
    pub kind: TargetKind,
    /// Where it was declared.
    pub span: Span,
}

/// A trainable parameter.
#[derive(Clone, Debug)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its shape (a vector or a matrix, or a scalar when declared `param s`).
    pub shape: Shape,
    /// Default values, row-major, given in the file.
    pub default: Option<Vec<f64>>,
    /// Where it was declared, or first used.
    pub span: Span,
    /// Whether a `param` statement declares it (otherwise its first use created it).
    pub declared: bool,
}

/// `const NAME = NUMBER`: a named number, replaced by its value wherever it is used.
#[derive(Clone, Debug)]
pub struct NamedConst {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Where the name was written.
    pub span: Span,
}

/// A named vector `NAME[N] = EXPR`, or a named scalar `NAME = EXPR` (one element).
#[derive(Clone, Debug)]
pub struct Vector {
    /// Its name.
    pub name: String,
    /// Its number of elements (1 for a scalar).
    pub size: usize,
    /// `Scalar` for a named scalar (no brackets, a scalar definition), else `Vector(size)`.
    pub shape: Shape,
    /// Its definition; the shape is `Vector(size)`, or a scalar broadcast to `size`.
    pub expr: TExpr,
    /// Where the name was written.
    pub span: Span,
}

/// The per-sample loss.
#[derive(Clone, Debug)]
pub struct Loss {
    /// The loss's name.
    pub name: String,
    /// Its scalar definition.
    pub expr: TExpr,
    /// Where the name was written.
    pub span: Span,
}

/// A network whose names and shapes are all resolved.
#[derive(Clone, Debug)]
pub struct Network {
    /// The network's name.
    pub name: String,
    /// Where its name was written.
    pub span: Span,
    /// Inputs in declaration order.
    pub inputs: Vec<DataVar>,
    /// Targets in declaration order.
    pub targets: Vec<DataVar>,
    /// Parameters: declared ones in declaration order, then inferred ones in order of first use.
    pub params: Vec<Param>,
    /// The `const` names, in declaration order (every use is already replaced by its value).
    pub consts: Vec<NamedConst>,
    /// Named vectors in evaluation order (every vector after the ones it uses).
    pub vectors: Vec<Vector>,
    /// The loss.
    pub loss: Loss,
    /// How samples combine.
    pub batch: BatchRule,
    /// The hand-derived claims to check, in source order.
    pub claims: Vec<Claim>,
    /// Claims that cannot be built for any index value (an index variable used where another
    /// range belongs): each fails on its own, and the network's other claims are still checked.
    pub refused_claims: Vec<RefusedClaim>,
    /// Mutual recurrences: runs of `vectors` that read one another at earlier steps (an
    /// LSTM's gates, cell and state), computed one step at a time together. A definition that
    /// reads only its own earlier steps is no such run.
    pub recurrences: Vec<std::ops::Range<usize>>,
}

/// A claim that fails before it is evaluated, with the reasons.
#[derive(Clone, Debug, PartialEq)]
pub struct RefusedClaim {
    /// The whole statement.
    pub span: Span,
    /// The claim as written, for reports.
    pub text: String,
    /// Why it cannot hold, one line each.
    pub reasons: Vec<String>,
}

impl Network {
    /// The mutual recurrence vector `v` belongs to, if any.
    pub fn recurrence_of(&self, v: usize) -> Option<std::ops::Range<usize>> {
        self.recurrences.iter().find(|r| r.contains(&v)).cloned()
    }

    /// The shape of a symbol.
    pub fn shape_of(&self, symbol: Symbol) -> Shape {
        match symbol {
            Symbol::Input(i) => self.inputs[i].shape,
            Symbol::Target(i) => self.targets[i].shape,
            Symbol::Vector(i) => self.vectors[i].shape,
            Symbol::Param(i) => self.params[i].shape,
            Symbol::Loss => Shape::Scalar,
        }
    }

    /// The name of a symbol.
    pub fn name_of(&self, symbol: Symbol) -> &str {
        match symbol {
            Symbol::Input(i) => &self.inputs[i].name,
            Symbol::Target(i) => &self.targets[i].name,
            Symbol::Vector(i) => &self.vectors[i].name,
            Symbol::Param(i) => &self.params[i].name,
            Symbol::Loss => &self.loss.name,
        }
    }

    /// The symbol called `name`, if any.
    pub fn lookup(&self, name: &str) -> Option<Symbol> {
        if let Some(i) = self.inputs.iter().position(|v| v.name == name) {
            return Some(Symbol::Input(i));
        }
        if let Some(i) = self.targets.iter().position(|v| v.name == name) {
            return Some(Symbol::Target(i));
        }
        if let Some(i) = self.vectors.iter().position(|v| v.name == name) {
            return Some(Symbol::Vector(i));
        }
        if let Some(i) = self.params.iter().position(|v| v.name == name) {
            return Some(Symbol::Param(i));
        }
        (self.loss.name == name).then_some(Symbol::Loss)
    }

    /// The number of trainable scalars.
    pub fn param_count(&self) -> usize {
        self.params.iter().map(|p| p.shape.len()).sum()
    }
}

/// Something an expression can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// The i-th input.
    Input(usize),
    /// The i-th target.
    Target(usize),
    /// The i-th named vector (in evaluation order).
    Vector(usize),
    /// The i-th parameter.
    Param(usize),
    /// The loss.
    Loss,
}

/// Element-wise arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElemOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `maximum(l, r)`
    Max,
    /// `minimum(l, r)`
    Min,
}

impl ElemOp {
    /// The operation a two-argument built-in call names (`maximum`, `minimum`).
    pub fn called(name: &str) -> Option<ElemOp> {
        match crate::builtin::Pairwise::from_name(name)? {
            crate::builtin::Pairwise::Maximum => Some(ElemOp::Max),
            crate::builtin::Pairwise::Minimum => Some(ElemOp::Min),
            _ => None,
        }
    }

    /// How the operation is written in `.nn` files, for messages.
    pub fn symbol(self) -> &'static str {
        match self {
            ElemOp::Add => "+",
            ElemOp::Sub => "-",
            ElemOp::Mul => "*",
            ElemOp::Div => "/",
            ElemOp::Max => "maximum",
            ElemOp::Min => "minimum",
        }
    }
}

/// An index inside a checked expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IndexTerm {
    /// A constant index.
    Const(usize),
    /// The n-th index variable of the claim or index-notation definition.
    Var(usize),
    /// `sum of coefficient * variable + offset` (`i + p`, `2*i + 1`), variables by position.
    Affine(Vec<(usize, i64)>, i64),
}

impl IndexTerm {
    /// The index's value with each variable at `values[variable]` (0 when unset).
    pub fn value(&self, values: &[usize]) -> i64 {
        let at = |v: usize| values.get(v).copied().unwrap_or(0) as i64;
        match self {
            IndexTerm::Const(c) => *c as i64,
            IndexTerm::Var(v) => at(*v),
            IndexTerm::Affine(terms, offset) => {
                terms.iter().fold(*offset, |sum, &(v, c)| sum + c * at(v))
            }
        }
    }
}

/// A checked expression.
#[derive(Clone, Debug, PartialEq)]
pub struct TExpr {
    /// What it computes.
    pub kind: TExprKind,
    /// Its shape (`Scalar` or `Vector`).
    pub shape: Shape,
    /// Where it was written.
    pub span: Span,
}

impl TExpr {
    /// Whether the expression reads `symbol` anywhere (a recurrence reads its own value).
    pub fn reads(&self, symbol: Symbol) -> bool {
        if let TExprKind::Symbol(s) | TExprKind::Element(s, _) = &self.kind
            && *s == symbol
        {
            return true;
        }
        let mut found = false;
        self.for_each_child(|c| found |= c.reads(symbol));
        found
    }

    /// Calls `f` on every direct sub-expression, in order.
    pub fn for_each_child<'e>(&'e self, mut f: impl FnMut(&'e TExpr)) {
        match &self.kind {
            TExprKind::Const(_)
            | TExprKind::Symbol(_)
            | TExprKind::Element(..)
            | TExprKind::Delta(..) => {}
            TExprKind::Neg(a)
            | TExprKind::Pow(a, _)
            | TExprKind::Builtin(_, a)
            | TExprKind::VectorFn(_, a)
            | TExprKind::Reduce(_, a)
            | TExprKind::SumOver(_, a)
            | TExprKind::ExtremumOver(_, _, a)
            | TExprKind::IndexDef(_, a)
            | TExprKind::MatVec(_, a)
            | TExprKind::VecMat(a, _)
            | TExprKind::Grad(a, _) => f(a),
            TExprKind::Binary(_, a, b) => {
                f(a);
                f(b);
            }
            TExprKind::Call(_, args) => args.iter().for_each(f),
        }
    }

    /// Calls `f` on every direct sub-expression, in order, mutably.
    pub fn for_each_child_mut(&mut self, mut f: impl FnMut(&mut TExpr)) {
        match &mut self.kind {
            TExprKind::Const(_)
            | TExprKind::Symbol(_)
            | TExprKind::Element(..)
            | TExprKind::Delta(..) => {}
            TExprKind::Neg(a)
            | TExprKind::Pow(a, _)
            | TExprKind::Builtin(_, a)
            | TExprKind::VectorFn(_, a)
            | TExprKind::Reduce(_, a)
            | TExprKind::SumOver(_, a)
            | TExprKind::ExtremumOver(_, _, a)
            | TExprKind::IndexDef(_, a)
            | TExprKind::MatVec(_, a)
            | TExprKind::VecMat(a, _)
            | TExprKind::Grad(a, _) => f(a),
            TExprKind::Binary(_, a, b) => {
                f(a);
                f(b);
            }
            TExprKind::Call(_, args) => args.iter_mut().for_each(f),
        }
    }
}

/// The kinds of checked expression.
#[derive(Clone, Debug, PartialEq)]
pub enum TExprKind {
    /// A constant.
    Const(f64),
    /// A whole input, target, vector or vector/scalar parameter.
    Symbol(Symbol),
    /// One element of a symbol.
    Element(Symbol, Vec<IndexTerm>),
    /// `-e`
    Neg(Box<TExpr>),
    /// Element-wise `l op r`, a scalar side broadcasting.
    Binary(ElemOp, Box<TExpr>, Box<TExpr>),
    /// `e ^ k`
    Pow(Box<TExpr>, f64),
    /// A built-in function, element-wise.
    Builtin(Builtin, Box<TExpr>),
    /// `softmax`, `log_softmax` or `logsumexp` of a whole vector.
    VectorFn(VectorFn, Box<TExpr>),
    /// A user function (index into [`Model::functions`]), element-wise.
    Call(usize, Vec<TExpr>),
    /// `W @ v`: `W` is `[len(result)][len(v)]`.
    MatVec(usize, Box<TExpr>),
    /// `v @ W`: `W` is `[len(v)][len(result)]`.
    VecMat(Box<TExpr>, usize),
    /// `sum(e)`, `mean(e)`, `max(e)` or `min(e)` of every element.
    Reduce(Reduction, Box<TExpr>),
    /// `sum(k, e)` over every valid value of index variable `k` (in claims and index-notation
    /// definitions).
    SumOver(usize, Box<TExpr>),
    /// `max(k, e)` (`Pairwise::Maximum`) or `min(k, e)` (`Pairwise::Minimum`) over every
    /// value of index variable `k`, in increasing order as a left fold of the two-argument
    /// built-in: a tie keeps the earlier value, so the derivative goes to the first extremal
    /// element. `max(p, q, e)` nests one fold per name, which is the row-major first maximum.
    ExtremumOver(Pairwise, usize, Box<TExpr>),
    /// `dL/dNAME[...]` in a claim: the derived delta of an element of named vector `NAME`,
    /// zero where an index falls outside its range.
    Delta(Symbol, Vec<IndexTerm>),
    /// `NAME[i] = body` in index notation: element `i` of the vector is the scalar `body`
    /// with the first variable at `i`; the others are bound by the sums inside it. Ranges are
    /// inferred (`check::index`), so every read is in bounds.
    IndexDef(Vec<IndexVar>, Box<TExpr>),
    /// `grad(S, v)`: dS/dv_j for every element of `v` (an input or a named vector), `S` a
    /// scalar; a vector of `len(v)`.
    Grad(Box<TExpr>, Symbol),
}

/// A reference to one scalar in a claim: `L`, `y[i]`, `W1[0][j]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalarRef {
    /// The symbol.
    pub symbol: Symbol,
    /// Its indices.
    pub indices: Vec<IndexTerm>,
    /// Where it was written.
    pub span: Span,
}

/// An index variable of a claim and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexVar {
    /// Its letter.
    pub name: String,
    /// It takes every value in `0..range`.
    pub range: usize,
    /// Whether it is free (checked for every value) rather than bound by `sum(k, ...)`.
    pub free: bool,
}

/// A checked `claim dA/dB = EXPR`.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// What is differentiated.
    pub of: ScalarRef,
    /// With respect to what.
    pub wrt: ScalarRef,
    /// The user's formula, a scalar.
    pub rhs: TExpr,
    /// The claim's index variables (free and bound).
    pub vars: Vec<IndexVar>,
    /// The whole statement.
    pub span: Span,
    /// The claim as written, for reports.
    pub text: String,
}

//! The spanned syntax tree of a `.nn` file, as written, before any semantic check.

/// A byte range into the source text. Every node of the tree carries one so that any
/// later stage can point at the exact tokens a diagnostic is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte of the node.
    pub start: usize,
    /// One past the last byte of the node.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (bytes).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span that covers both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// An error found while reading the text: where, and a one-line reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The offending tokens.
    pub span: Span,
    /// A one-line reason, starting in lower case.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
        }
    }
}

/// A name and where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole `.nn` file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Networks in file order.
    pub networks: Vec<Network>,
    /// `fn` definitions in file order.
    pub functions: Vec<FnDef>,
}

/// `fn NAME(args) = body`.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    /// The function's name.
    pub name: Ident,
    /// Its argument names.
    pub params: Vec<Ident>,
    /// Its scalar body.
    pub body: Expr,
    /// The whole definition.
    pub span: Span,
}

/// `network NAME { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The network's name.
    pub name: Ident,
    /// Its statements in source order.
    pub statements: Vec<Statement>,
    /// The whole block.
    pub span: Span,
}

/// One statement of a network.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// What the statement says.
    pub kind: StatementKind,
    /// The whole statement.
    pub span: Span,
}

/// The kinds of statement.
#[derive(Clone, Debug, PartialEq)]
pub enum StatementKind {
    /// `input x[N] (= value)?`
    Input(Decl),
    /// `target t[N] (= value)?`
    Target(Decl),
    /// `param W[R][C] (= value)?`
    Param(Decl),
    /// `NAME[N]? = EXPR`, or `NAME[i] = EXPR` in index notation.
    Vector {
        /// The vector's name.
        name: Ident,
        /// Its declared sizes (at most one is meaningful; more is rejected by the checker).
        dims: Vec<Dim>,
        /// The index names on the left (`z[i] = ...`), which make it an index-notation
        /// definition; empty otherwise.
        index: Vec<Ident>,
        /// Its definition.
        expr: Expr,
    },
    /// `loss NAME = EXPR`
    Loss {
        /// The loss's name.
        name: Ident,
        /// Its definition.
        expr: Expr,
    },
    /// `const NAME = NUMBER`: a named constant, never trainable.
    Const {
        /// The constant's name.
        name: Ident,
        /// Its value, as written (the checker requires a constant expression).
        value: Expr,
    },
    /// `batch mean` / `batch sum`
    Batch(BatchRule),
    /// `claim dA/dB = EXPR`
    Claim(Claim),
}

/// How per-sample losses and gradients combine over a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BatchRule {
    /// The mean of the per-sample values (the default).
    #[default]
    Mean,
    /// The sum of the per-sample values.
    Sum,
}

/// A declaration of an input, target or parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// The declared name.
    pub name: Ident,
    /// The declared sizes, outermost first.
    pub dims: Vec<Dim>,
    /// Default values, if given.
    pub value: Option<Value>,
    /// What a target's samples are declared to be (always `Plain` for inputs and parameters).
    pub kind: TargetKind,
}

/// What every sample of a target is declared to be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// Any values.
    #[default]
    Plain,
    /// `onehot`: one element is 1, the others 0.
    OneHot,
    /// `probabilities`: non-negative elements summing to 1.
    Probabilities,
    /// `label[N]`: one class index in `0..N` per sample, seen by the derivation as its one-hot
    /// vector of N.
    Label,
}

impl TargetKind {
    /// Whether every sample's elements sum to one, which the derivation may use
    /// (cross-entropy's delta becomes `p_k - t_k`).
    pub fn sums_to_one(self) -> bool {
        self != TargetKind::Plain
    }

    /// The keyword, for messages.
    pub fn keyword(self) -> &'static str {
        match self {
            TargetKind::Plain => "",
            TargetKind::OneHot => "onehot",
            TargetKind::Probabilities => "probabilities",
            TargetKind::Label => "label",
        }
    }
}

/// One `[N]` size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dim {
    /// The size.
    pub size: usize,
    /// Where it was written (the number inside the brackets).
    pub span: Span,
}

/// A literal default value: a number or a nested list.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// One number.
    Number(f64, Span),
    /// `[v, v, ...]`.
    List(Vec<Value>, Span),
}

impl Value {
    /// Where the value was written.
    pub fn span(&self) -> Span {
        match self {
            Value::Number(_, span) | Value::List(_, span) => *span,
        }
    }
}

/// A claim: a hand-derived partial derivative `d of / d wrt = rhs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The quantity differentiated (the loss, or a vector element).
    pub of: ScalarRef,
    /// The quantity it is differentiated with respect to.
    pub wrt: ScalarRef,
    /// The user's formula.
    pub rhs: Expr,
}

/// A reference to one scalar: `L`, `y[0]`, `W1[i][j]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalarRef {
    /// The name.
    pub name: Ident,
    /// Its indices, outermost first.
    pub indices: Vec<Index>,
    /// The whole reference.
    pub span: Span,
}

/// An index: a constant, an index variable, or an affine combination of index variables.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Index {
    /// A constant index.
    Const(usize, Span),
    /// An index variable (`i`, `j`, `k`, ... in claims; any index name in index notation).
    Var(Ident),
    /// `c_1 v_1 + ... + offset` (`i + p`, `2*i + 1`, `t - 1`): anything but a lone
    /// constant or a lone variable.
    Affine {
        /// Each variable with its (non-zero) coefficient, as written.
        terms: Vec<(i64, Ident)>,
        /// The constant part.
        offset: i64,
        /// The whole index.
        span: Span,
    },
}

impl Index {
    /// Where the index was written.
    pub fn span(&self) -> Span {
        match self {
            Index::Const(_, span) | Index::Affine { span, .. } => *span,
            Index::Var(ident) => ident.span,
        }
    }
}

/// An index name bound by a reduction: `p`, or `p < 2` with its range written.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundName {
    /// The name.
    pub name: Ident,
    /// The written bound, when given: the name takes the values `0..below`.
    pub below: Option<Dim>,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// The tokens it covers.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `@`
    MatMul,
    /// `^`
    Pow,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::MatMul => "@",
            BinOp::Pow => "^",
        }
    }
}

/// Reductions of a vector to a scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// `sum(...)`
    Sum,
    /// `mean(...)`
    Mean,
    /// `max(...)`: the derivative goes to the first maximal element in row-major order.
    Max,
    /// `min(...)`: the derivative goes to the first minimal element in row-major order.
    Min,
}

impl Reduction {
    /// How it is written: `sum`, `mean`, `max`, `min`.
    pub fn word(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::Max => "max",
            Reduction::Min => "min",
        }
    }
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Number(f64),
    /// A bare name.
    Name(Ident),
    /// `v[i]` or `W[i][j]`.
    Indexed {
        /// The indexed name.
        name: Ident,
        /// Its indices, outermost first.
        indices: Vec<Index>,
    },
    /// `f(args)[y]` or `(e)[y]`: the element of a vector value that label `y` picks.
    Select {
        /// The vector-valued expression.
        base: Box<Expr>,
        /// The index, a name (a label target).
        label: Ident,
    },
    /// `f(args)`.
    Call {
        /// The function's name.
        func: Ident,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `sum(e)`, `mean(e)`, `max(e)`, `min(e)` or `sum(j, k, e)`.
    Reduce {
        /// Which reduction.
        op: Reduction,
        /// The index names it binds (`sum(j, k, e)`); empty for a whole-value reduction.
        vars: Vec<BoundName>,
        /// The reduced expression.
        arg: Box<Expr>,
    },
    /// `dL/dNAME[...]`: in a claim, the derived delta of that element.
    DeltaRef {
        /// `L`, without the `d`.
        of: Ident,
        /// `NAME`, without the `d`.
        wrt: Ident,
        /// Its indices, outermost first.
        indices: Vec<Index>,
    },
    /// `-e`.
    Neg(Box<Expr>),
    /// `l op r`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
}

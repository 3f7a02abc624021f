//! Types one expression: resolves its names, infers its shape and the shapes of the
//! parameters it uses, and reports what does not fit.

use chainrule_grammar::{BinOp, Diagnostic, Expr, ExprKind, Ident, Span};

use super::index::Ranges;
use super::{Entity, ParamTable, Scope};
use crate::builtin::{Builtin, VectorFn};
use crate::model::{ElemOp, IndexVar, Shape, Symbol, TExpr, TExprKind};

mod call;
mod indices;
mod label;
mod matmul;
mod tensor_fns;
mod vector_fn;

/// The state one expression is typed in.
pub(super) struct Infer<'a> {
    pub scope: &'a Scope<'a>,
    pub params: &'a mut ParamTable,
    /// Sizes of named vectors, by source index, as far as known.
    pub vector_sizes: &'a [Option<Shape>],
    pub errors: &'a mut Vec<Diagnostic>,
    /// On the last pass, parameters whose shape is still unknown are errors.
    pub final_pass: bool,
    /// Index variables of the claim being typed; empty outside claims.
    pub vars: &'a mut Vec<IndexVar>,
    /// Inside a claim, index variables are allowed and names never introduce parameters.
    pub in_claim: bool,
    /// Set when a named vector this expression uses has no known size (its own error is
    /// reported where it is defined, so nothing more is said here).
    pub cascaded: bool,
    /// Whether an unknown parameter shape is reported where it is used; off while typing a
    /// named vector without a declared size, where the vector's size is the thing to give.
    pub report_unresolved: bool,
    /// The first parameter whose shape was unknown while reporting was off.
    pub unresolved_param: Option<usize>,
    /// In a claim, index variables used where another range belongs (a transposed index on a
    /// non-square layer): the claim's own failure, not the file's error (see `claims.rs`).
    pub range_conflicts: Vec<RangeConflict>,
    /// In an index-notation definition, the inferred range of every index name by where it
    /// is bound (`index.rs`); `None` elsewhere.
    pub index_ranges: Option<&'a Ranges>,
    /// In an index-notation definition, the vector it defines (by source index): a read of
    /// it is a recurrence, allowed only at a smaller value of its first index.
    pub defining: Option<usize>,
    /// The definitions of its mutual recurrence, itself included (by source index): each
    /// may be read only at the same step or an earlier one (`h[t]`, `h[t - 1]`).
    pub peers: &'a [usize],
}

/// An index variable of a claim used where another range belongs.
#[derive(Clone, Debug)]
pub(super) struct RangeConflict {
    /// The variable, by position in the claim's variables.
    pub var: usize,
    /// The range of its position here.
    pub here: usize,
    /// Where it is used here.
    pub span: Span,
}

impl<'a> Infer<'a> {
    /// Typing state over `scope`, reporting unknown parameter shapes where they are used.
    pub fn new(
        scope: &'a Scope<'a>,
        params: &'a mut ParamTable,
        vector_sizes: &'a [Option<Shape>],
        errors: &'a mut Vec<Diagnostic>,
        vars: &'a mut Vec<IndexVar>,
        final_pass: bool,
        in_claim: bool,
    ) -> Infer<'a> {
        Infer {
            scope,
            params,
            vector_sizes,
            errors,
            final_pass,
            vars,
            in_claim,
            cascaded: false,
            report_unresolved: true,
            unresolved_param: None,
            range_conflicts: Vec::new(),
            index_ranges: None,
            defining: None,
            peers: &[],
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(span, message));
    }

    /// Types `e`. `hint` is the vector length the context expects, if it knows one.
    pub fn expr(&mut self, e: &Expr, hint: Option<usize>) -> Option<TExpr> {
        let span = e.span;
        let typed = |kind, shape| Some(TExpr { kind, shape, span });
        match &e.kind {
            ExprKind::Number(v) => typed(TExprKind::Const(*v), Shape::Scalar),
            ExprKind::Name(ident) => {
                if let Some(Entity::Const(index)) = self.scope.resolve(&ident.name) {
                    return typed(
                        TExprKind::Const(self.scope.const_value(index)),
                        Shape::Scalar,
                    );
                }
                // `pi` cannot be redefined, so a network's own names never hide it.
                if let Some(v) = crate::builtin::builtin_constant(&ident.name) {
                    return typed(TExprKind::Const(v), Shape::Scalar);
                }
                if self.label_as_value(ident) {
                    return None;
                }
                let (symbol, shape) = self.whole(ident, hint)?;
                typed(TExprKind::Symbol(symbol), shape)
            }
            ExprKind::Indexed { name, indices } if self.label_index(indices).is_some() => {
                let label = self.label_index(indices)?;
                let (symbol, classes) = self.label(&label.name)?;
                let base = Expr {
                    kind: ExprKind::Name(name.clone()),
                    span: name.span,
                };
                let base = self.expr(&base, Some(classes))?;
                self.pick(base, symbol, classes, &label, span)
            }
            ExprKind::Select { base, label } => self.select(base, label, span),
            ExprKind::Indexed { name, indices } => {
                if self.label_as_value(name) {
                    return None;
                }
                let symbol = self.element_base(name)?;
                self.learn_from_indices(symbol, name, indices);
                let shape = self.symbol_shape(symbol, name)?;
                // Fewer indices than axes: the rest of the value (`x[t]`, row t of `x`);
                // a claim names single elements.
                let dims = shape.dims();
                let given = match self.in_claim || indices.is_empty() {
                    true => dims.len(),
                    false => indices.len().min(dims.len()),
                };
                let (leading, rest) = dims.split_at(given);
                let leading = Shape::of(leading).unwrap_or(shape);
                let terms = self.indices(name, leading, indices)?;
                if let Symbol::Vector(v) = symbol {
                    if self.defining == Some(v) {
                        self.recurrent_read(name, &terms, span, false)?;
                    } else if self.peers.contains(&v) {
                        self.recurrent_read(name, &terms, span, true)?;
                    }
                }
                typed(TExprKind::Element(symbol, terms), Shape::of(rest)?)
            }
            ExprKind::Call { func, args } => match self.picked_inside(func, args) {
                Some(moved) => self.expr(&moved, hint),
                None => self.call(func, args, hint, span),
            },
            ExprKind::DeltaRef { of, wrt, indices } => self.delta_ref(of, wrt, indices, span),
            ExprKind::Reduce { op, vars, arg } => {
                if vars.is_empty() {
                    // A matrix reduces over every element (weight decay, L1).
                    let arg = self.expr(arg, None)?;
                    typed(TExprKind::Reduce(*op, Box::new(arg)), Shape::Scalar)
                } else {
                    self.sum_over(*op, vars, arg, span)
                }
            }
            ExprKind::Neg(inner) => {
                let inner = self.expr(inner, hint)?;
                let shape = inner.shape;
                typed(TExprKind::Neg(Box::new(inner)), shape)
            }
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinOp::MatMul => self.matmul(lhs, rhs, hint, span),
                BinOp::Pow => {
                    let base = self.expr(lhs, hint);
                    let Some(exponent) = self.constant(rhs) else {
                        self.error(rhs.span, "the exponent of `^` must be a constant number");
                        return None;
                    };
                    let base = base?;
                    let shape = base.shape;
                    typed(TExprKind::Pow(Box::new(base), exponent), shape)
                }
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                    let op = match op {
                        BinOp::Add => ElemOp::Add,
                        BinOp::Sub => ElemOp::Sub,
                        BinOp::Mul => ElemOp::Mul,
                        _ => ElemOp::Div,
                    };
                    self.elementwise(op, e.span, lhs, rhs, hint)
                }
            },
        }
    }

    /// The value of a constant expression, reading the network's `const`s.
    fn constant(&self, e: &Expr) -> Option<f64> {
        let scope = self.scope;
        constant_value_with(e, &|name: &str| match scope.resolve(name) {
            Some(Entity::Const(index)) => Some(scope.const_value(index)),
            _ => None,
        })
    }

    fn elementwise(
        &mut self,
        op: ElemOp,
        span: Span,
        lhs: &Expr,
        rhs: &Expr,
        hint: Option<usize>,
    ) -> Option<TExpr> {
        // Type each side with what the other side tells, so that an undeclared bias in
        // `x @ W + b` learns its size from the product.
        let errors_before = self.errors.len();
        let mut left = self.expr(lhs, hint);
        let right_hint = hint.or(left.as_ref().and_then(|l| vector_len(l.shape)));
        let right = self.expr(rhs, right_hint);
        if left.is_none()
            && self.errors.len() == errors_before
            && let Some(n) = right.as_ref().and_then(|r| vector_len(r.shape))
        {
            left = self.expr(lhs, Some(n));
        }
        let (left, right) = (left?, right?);
        let shape = match (left.shape, right.shape) {
            (Shape::Scalar, other) | (other, Shape::Scalar) => other,
            (a, b) if a == b => a,
            (a, b) => {
                let symbol = op.symbol();
                self.error(
                    span,
                    format!(
                        "size mismatch in `{symbol}`: the left side is {} but the right side is {}",
                        a.describe(),
                        b.describe()
                    ),
                );
                return None;
            }
        };
        Some(TExpr {
            kind: TExprKind::Binary(op, Box::new(left), Box::new(right)),
            shape,
            span,
        })
    }

    /// A bare name: an input, target, vector, or a vector or scalar parameter.
    fn whole(&mut self, ident: &Ident, hint: Option<usize>) -> Option<(Symbol, Shape)> {
        match self.scope.resolve(&ident.name) {
            Some(Entity::Loss) => {
                self.error(
                    ident.span,
                    format!(
                        "the loss `{}` cannot be used inside an expression",
                        ident.name
                    ),
                );
                None
            }
            Some(Entity::Function) => {
                self.error(
                    ident.span,
                    format!(
                        "`{}` is a function: call it as `{}(...)`",
                        ident.name, ident.name
                    ),
                );
                None
            }
            Some(Entity::Data(symbol, shape)) => Some((symbol, shape)),
            // Read as a number by `expr`; nothing else asks for a constant as a whole.
            Some(Entity::Const(_)) => None,
            Some(Entity::Vector(index)) => match self.vector_sizes[index] {
                Some(shape) => Some((Symbol::Vector(index), shape)),
                None => {
                    self.cascaded = true;
                    None
                }
            },
            None if self.is_index_var(&ident.name) => {
                self.error(
                    ident.span,
                    format!(
                        "the index variable `{}` can only be used inside `[...]`",
                        ident.name
                    ),
                );
                None
            }
            None => {
                let param = self.param(ident)?;
                match self.params.shape(param) {
                    // A matrix in an element-wise expression is reduced by `sum`/`mean` or
                    // refused where a vector is needed (the sizes then disagree).
                    Some(Shape::Vector(n)) if hint.is_some_and(|m| m != n) => {
                        let implied = Shape::Vector(hint.unwrap_or(n));
                        self.params
                            .conflict(self.errors, param, implied, ident.span);
                        None
                    }
                    Some(shape) => Some((Symbol::Param(param), shape)),
                    None => match hint {
                        Some(n) => {
                            self.params.learn(param, Shape::Vector(n), ident.span);
                            Some((Symbol::Param(param), Shape::Vector(n)))
                        }
                        None => {
                            self.unresolved(param, ident.span);
                            None
                        }
                    },
                }
            }
        }
    }

    fn is_index_var(&self, name: &str) -> bool {
        self.vars.iter().any(|v| v.name == name)
    }

    /// The parameter a name stands for, creating it on first use outside claims.
    fn param(&mut self, ident: &Ident) -> Option<usize> {
        if let Some(index) = self.params.find(&ident.name) {
            return Some(index);
        }
        if self.in_claim {
            self.error(
                ident.span,
                format!("`{}` is not a name in this network", ident.name),
            );
            return None;
        }
        Some(self.params.add(&ident.name, ident.span))
    }

    fn unresolved(&mut self, param: usize, span: Span) {
        if !self.report_unresolved {
            self.unresolved_param.get_or_insert(param);
            return;
        }
        if self.final_pass && self.params.report_unresolved(param) {
            let name = self.params.name(param).to_string();
            self.error(
                span,
                format!("the shape of parameter `{name}` cannot be inferred: declare it with `param {name}[N]` or `param {name}[R][C]`"),
            );
        }
    }

    fn element_base(&mut self, ident: &Ident) -> Option<Symbol> {
        match self.scope.resolve(&ident.name) {
            Some(Entity::Data(symbol, _)) => Some(symbol),
            Some(Entity::Vector(index)) => Some(Symbol::Vector(index)),
            Some(Entity::Loss) => {
                self.error(
                    ident.span,
                    format!("the loss `{}` is a scalar and has no elements", ident.name),
                );
                None
            }
            Some(Entity::Function) => {
                self.error(
                    ident.span,
                    format!("`{}` is a function and has no elements", ident.name),
                );
                None
            }
            Some(Entity::Const(_)) => {
                self.error(
                    ident.span,
                    format!(
                        "`{}` is a constant (one number) and has no elements",
                        ident.name
                    ),
                );
                None
            }
            None => self.param(ident).map(Symbol::Param),
        }
    }

    fn symbol_shape(&mut self, symbol: Symbol, ident: &Ident) -> Option<Shape> {
        match symbol {
            Symbol::Input(_) | Symbol::Target(_) => match self.scope.resolve(&ident.name) {
                Some(Entity::Data(_, shape)) => Some(shape),
                _ => None,
            },
            Symbol::Vector(index) => {
                let shape = self.vector_sizes[index];
                self.cascaded |= shape.is_none();
                shape
            }
            Symbol::Param(index) => {
                let shape = self.params.shape(index);
                if shape.is_none() {
                    self.unresolved(index, ident.span);
                }
                shape
            }
            Symbol::Loss => Some(Shape::Scalar),
        }
    }
}

fn vector_len(shape: Shape) -> Option<usize> {
    match shape {
        Shape::Vector(n) => Some(n),
        _ => None,
    }
}

/// The names that may be index variables in claims: any single lower-case letter (LANGUAGE.md,
/// third round: `t` for time, `u`, `v` for positions), unless the network names it.
pub(super) fn is_index_letter(name: &str) -> bool {
    name.len() == 1 && name.bytes().all(|b| b.is_ascii_lowercase())
}

/// The value of a constant expression (numbers, unary minus and arithmetic), if it is one.
pub(super) fn constant_value(e: &Expr) -> Option<f64> {
    constant_value_with(e, &|_| None)
}

/// [`constant_value`], where a name may stand for a number (`const`).
pub(super) fn constant_value_with(e: &Expr, named: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    match &e.kind {
        ExprKind::Number(v) => Some(*v),
        ExprKind::Name(ident) => {
            named(&ident.name).or_else(|| crate::builtin::builtin_constant(&ident.name))
        }
        ExprKind::Neg(inner) => constant_value_with(inner, named).map(|v| -v),
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (
                constant_value_with(lhs, named)?,
                constant_value_with(rhs, named)?,
            );
            let v = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => a.powf(b),
                BinOp::MatMul => return None,
            };
            v.is_finite().then_some(v)
        }
        _ => None,
    }
}

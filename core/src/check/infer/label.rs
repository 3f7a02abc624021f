//! Indexing by a class label (LANGUAGE.md, "Class labels"): `E[y]`, with `y` a `label[N]`
//! target, is typed as `sum(y * E)` over the label's one-hot vector, so the derivation of
//! `-log_softmax(z)[y]` is the one of `-sum(t * log_softmax(z))` with a one-hot `t`
//! (`p_k - [k = y]`), and every later stage reads an ordinary expression.

use chainrule_grammar::{Diagnostic, Expr, ExprKind, Ident, Index, Span};

use super::Infer;
use crate::model::{ElemOp, Shape, Symbol, TExpr, TExprKind};

impl Infer<'_> {
    /// The label target `name` stands for, with its number of classes, if it is one.
    pub(super) fn label(&self, name: &str) -> Option<(Symbol, usize)> {
        let classes = *self.scope.labels.get(name)?;
        match self.scope.resolve(name) {
            Some(super::Entity::Data(symbol @ Symbol::Target(_), _)) => Some((symbol, classes)),
            _ => None,
        }
    }

    /// `indices` when they are one label name: `z[y]`.
    pub(super) fn label_index(&self, indices: &[Index]) -> Option<Ident> {
        match indices {
            [Index::Var(ident)] if self.label(&ident.name).is_some() => Some(ident.clone()),
            _ => None,
        }
    }

    /// `E[y]`: the element of vector value `E` that label `y` picks.
    pub(super) fn select(&mut self, base: &Expr, label: &Ident, span: Span) -> Option<TExpr> {
        let Some((symbol, classes)) = self.label(&label.name) else {
            self.error(
                label.span,
                format!(
                    "`{}` is not a label target: only a label (`target {} label[N]`) can index a computed value",
                    label.name, label.name
                ),
            );
            return None;
        };
        let base = self.expr(base, Some(classes))?;
        self.pick(base, symbol, classes, label, span)
    }

    /// `sum(y * base)`, once `base` is known to be a vector of the label's classes.
    pub(super) fn pick(
        &mut self,
        base: TExpr,
        symbol: Symbol,
        classes: usize,
        label: &Ident,
        span: Span,
    ) -> Option<TExpr> {
        if base.shape != Shape::Vector(classes) {
            self.error(
                base.span,
                format!(
                    "label `{}` picks one of {classes} classes, but this is {}",
                    label.name,
                    base.shape.describe()
                ),
            );
            return None;
        }
        let onehot = TExpr {
            kind: TExprKind::Symbol(symbol),
            shape: Shape::Vector(classes),
            span: label.span,
        };
        let product = TExpr {
            kind: TExprKind::Binary(ElemOp::Mul, Box::new(onehot), Box::new(base)),
            shape: Shape::Vector(classes),
            span,
        };
        Some(TExpr {
            kind: TExprKind::Reduce(chainrule_grammar::Reduction::Sum, Box::new(product)),
            shape: Shape::Scalar,
            span,
        })
    }

    /// `f(E[y])` for an element-wise built-in `f`, rewritten as `f(E)[y]`: the same number
    /// for a one-hot `y` (`f(sum_k y_k E_k) = sum_k y_k f(E_k)`), and the derivation then
    /// reads `log(p_k)` of a softmax as `z_k - lse`, so `-log(p[y])` has cross-entropy's
    /// delta `p_k - [k = y]`.
    pub(super) fn picked_inside(&self, func: &Ident, args: &[Expr]) -> Option<Expr> {
        let [arg] = args else { return None };
        crate::builtin::Builtin::from_name(&func.name)?;
        let (base, label) = match &arg.kind {
            ExprKind::Select { base, label } => ((**base).clone(), label.clone()),
            ExprKind::Indexed { name, indices } => {
                let label = self.label_index(indices)?;
                let base = Expr {
                    kind: ExprKind::Name(name.clone()),
                    span: name.span,
                };
                (base, label)
            }
            _ => return None,
        };
        self.label(&label.name)?;
        let call = Expr {
            kind: ExprKind::Call {
                func: func.clone(),
                args: vec![base],
            },
            span: arg.span,
        };
        Some(Expr {
            kind: ExprKind::Select {
                base: Box::new(call),
                label,
            },
            span: arg.span,
        })
    }

    /// A label used as a value: an error outside claims (it is a class index, not a vector).
    pub(super) fn label_as_value(&mut self, ident: &Ident) -> bool {
        if self.in_claim || self.label(&ident.name).is_none() {
            return false;
        }
        let message = format!(
            "label `{}` is a class index: use it to pick an element (`log_softmax(z)[{}]`), or declare a one-hot vector target (`target {}[N] onehot`)",
            ident.name, ident.name, ident.name
        );
        self.errors.push(Diagnostic::new(ident.span, message));
        true
    }
}

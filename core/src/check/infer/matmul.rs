//! Typing `@`: which operand is the parameter, its shape in either convention, and the
//! messages for products that are not a parameter times a vector.

use chainrule_grammar::{Expr, ExprKind, Ident, Span};

use super::Infer;
use crate::model::{Shape, TExpr, TExprKind};

impl Infer<'_> {
    /// `W @ v` or `v @ W`: exactly one side is a matrix parameter.
    pub(super) fn matmul(
        &mut self,
        lhs: &Expr,
        rhs: &Expr,
        hint: Option<usize>,
        span: Span,
    ) -> Option<TExpr> {
        let left_param = self.param_operand(lhs);
        let right_param = self.param_operand(rhs);
        let (param_ident, vector_expr, param_on_left) = match (left_param, right_param) {
            (Some(p), None) => (p, rhs, true),
            (None, Some(p)) => (p, lhs, false),
            (Some(a), Some(b)) => {
                self.error(
                    span,
                    format!("`@` needs one parameter and one vector, but `{}` and `{}` are both parameters", a.name, b.name),
                );
                return None;
            }
            (None, None) => {
                if let Some((call, message)) = self.transposed(lhs, rhs) {
                    self.error(call, message);
                    return None;
                }
                self.error(span, "`@` needs a parameter (a weight matrix) on one side, but neither operand is a parameter");
                return None;
            }
        };
        let param = self.param(param_ident)?;
        let vector = self.expr(vector_expr, None)?;
        let Shape::Vector(n) = vector.shape else {
            self.error(
                vector_expr.span,
                format!(
                    "`@` multiplies a matrix by a vector, but this is {}",
                    vector.shape.describe()
                ),
            );
            return None;
        };
        let expected = |m: usize| {
            if param_on_left {
                Shape::Matrix(m, n)
            } else {
                Shape::Matrix(n, m)
            }
        };
        let m = match self.params.shape(param) {
            Some(Shape::Matrix(r, c)) => {
                let (inner, outer) = if param_on_left { (c, r) } else { (r, c) };
                if inner != n {
                    let convention = if param_on_left { "columns" } else { "rows" };
                    self.error(
                        span,
                        format!(
                            "`{}` is {r}x{c}, so `{}` needs a vector of {inner} elements (its {convention}), but this vector has {n}",
                            param_ident.name,
                            if param_on_left { format!("{} @ v", param_ident.name) } else { format!("v @ {}", param_ident.name) }
                        ),
                    );
                    return None;
                }
                if let Some(m) = hint.filter(|&m| m != outer) {
                    self.params
                        .conflict(self.errors, param, expected(m), param_ident.span);
                    return None;
                }
                outer
            }
            Some(other) => {
                self.error(
                    param_ident.span,
                    format!(
                        "`{}` is {}, but `@` needs a matrix parameter",
                        param_ident.name,
                        other.describe()
                    ),
                );
                return None;
            }
            None => match hint {
                Some(m) => {
                    self.params.learn(param, expected(m), param_ident.span);
                    m
                }
                None => {
                    self.unresolved(param, param_ident.span);
                    return None;
                }
            },
        };
        let kind = if param_on_left {
            TExprKind::MatVec(param, Box::new(vector))
        } else {
            TExprKind::VecMat(Box::new(vector), param)
        };
        Some(TExpr {
            kind,
            shape: Shape::Vector(m),
            span,
        })
    }

    /// `transpose(W) @ h` or `h @ transpose(W)`, when `transpose` is no function of the file:
    /// where the call is, and what to write instead.
    fn transposed(&self, lhs: &Expr, rhs: &Expr) -> Option<(Span, String)> {
        let name = |e: &Expr| match &e.kind {
            ExprKind::Name(ident) => ident.name.clone(),
            _ => "v".to_string(),
        };
        for (side, other, on_left) in [(lhs, rhs, true), (rhs, lhs, false)] {
            let ExprKind::Call { func, args } = &side.kind else {
                continue;
            };
            let is_transpose = matches!(func.name.as_str(), "transpose" | "trans" | "t")
                && self.scope.function(&func.name).is_none()
                && args.len() == 1;
            if let (true, Some(matrix)) = (
                is_transpose,
                args.first().and_then(|a| self.param_operand(a)),
            ) {
                let vector = name(other);
                // `transpose(W) @ h` is `h @ W`; `h @ transpose(W)` is `W @ h`.
                let message = if on_left {
                    crate::check::unknown::transpose_hint(&matrix.name, &vector)
                } else {
                    format!(
                        "there is no `transpose`: `{} @ {vector}` is the product with `{}` (`{vector} @ {}` multiplies by its transpose)",
                        matrix.name, matrix.name, matrix.name
                    )
                };
                return Some((func.span, message));
            }
        }
        None
    }

    /// The name of `e` if it is a bare name that stands for a parameter.
    fn param_operand<'e>(&self, e: &'e Expr) -> Option<&'e Ident> {
        match &e.kind {
            ExprKind::Name(ident)
                if self.scope.resolve(&ident.name).is_none() && !self.is_index_var(&ident.name) =>
            {
                Some(ident)
            }
            _ => None,
        }
    }
}

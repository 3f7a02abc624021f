//! Types `grad(S, v)`: S a scalar expression that is not the loss, v an input or a named
//! vector; the result is a vector of len(v).

use chainrule_grammar::{Diagnostic, Expr, ExprKind, Span};

use super::Entity;
use super::infer::Infer;
use crate::model::{Shape, Symbol, TExpr, TExprKind};

/// The built-in name of the derivative inside a network.
pub(crate) use crate::builtin::GRAD;

impl Infer<'_> {
    /// `grad(S, v)`. Every problem is reported at the argument it concerns.
    pub(super) fn grad(&mut self, args: &[Expr], span: Span) -> Option<TExpr> {
        if args.len() != 2 {
            self.errors.push(Diagnostic::new(
                span,
                format!(
                    "`grad` takes 2 arguments (a scalar expression and an input or named vector), not {}",
                    args.len()
                ),
            ));
            return None;
        }
        let (of, wrt) = (&args[0], &args[1]);
        // Name the loss here rather than let the generic "cannot be used" message speak: the
        // loss's own derivatives are what the derivation computes, not an expression.
        if let ExprKind::Name(ident) = &of.kind
            && self.scope.resolve(&ident.name) == Some(Entity::Loss)
        {
            self.errors.push(Diagnostic::new(
                ident.span,
                format!(
                    "`grad` cannot differentiate the loss `{}`: its derivatives are what the network derives; write the scalar the loss is built from",
                    ident.name
                ),
            ));
            return None;
        }
        let wrt = self.grad_wrt(wrt);
        let of = self.expr(of, None)?;
        if of.shape != Shape::Scalar {
            self.errors.push(Diagnostic::new(
                of.span,
                format!(
                    "the first argument of `grad` must be a scalar (such as `H[0]` or `sum(y)`), but this is {}",
                    of.shape.describe()
                ),
            ));
            return None;
        }
        let (symbol, shape) = wrt?;
        Some(TExpr {
            kind: TExprKind::Grad(Box::new(of), symbol),
            shape,
            span,
        })
    }

    /// The second argument: the name of an input or a named vector, and its shape.
    fn grad_wrt(&mut self, e: &Expr) -> Option<(Symbol, Shape)> {
        let ExprKind::Name(ident) = &e.kind else {
            self.errors.push(Diagnostic::new(
                e.span,
                "the second argument of `grad` must be the name of an input or a named vector (a whole vector, such as `x`)",
            ));
            return None;
        };
        let name = &ident.name;
        let problem = match self.scope.resolve(name) {
            Some(Entity::Data(symbol @ Symbol::Input(_), size)) => return Some((symbol, size)),
            Some(Entity::Vector(index)) => {
                let Some(size) = self.vector_sizes[index] else {
                    self.cascaded = true;
                    return None;
                };
                return Some((Symbol::Vector(index), size));
            }
            Some(Entity::Data(..)) => format!("`{name}` is a target"),
            Some(Entity::Loss) => format!("`{name}` is the loss"),
            Some(Entity::Function) => format!("`{name}` is a function"),
            Some(Entity::Const(_)) => format!("`{name}` is a constant"),
            None if self.params.find(name).is_some() => format!("`{name}` is a parameter"),
            None => format!("`{name}` is not a name in this network"),
        };
        self.errors.push(Diagnostic::new(
            ident.span,
            format!("{problem}: `grad` differentiates with respect to an input or a named vector"),
        ));
        None
    }
}

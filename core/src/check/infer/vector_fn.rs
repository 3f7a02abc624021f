//! Types calls of the vector functions `softmax`, `log_softmax` and `logsumexp`.

use chainrule_grammar::{Expr, Ident, Span};

use super::Infer;
use crate::builtin::VectorFn;
use crate::model::{Shape, TExpr, TExprKind};

impl Infer<'_> {
    /// `softmax(v)`, `log_softmax(v)` (vectors of len(v)) or `logsumexp(v)` (a scalar).
    pub(super) fn vector_fn(
        &mut self,
        f: VectorFn,
        func: &Ident,
        args: &[Expr],
        hint: Option<usize>,
        span: Span,
    ) -> Option<TExpr> {
        if args.len() != 1 {
            self.error(
                span,
                format!("`{}` takes 1 argument, not {}", func.name, args.len()),
            );
            return None;
        }
        let hint = match f {
            VectorFn::LogSumExp => None,
            VectorFn::Softmax | VectorFn::LogSoftmax => hint,
        };
        let arg = self.expr(&args[0], hint)?;
        let Shape::Vector(n) = arg.shape else {
            self.error(
                args[0].span,
                format!(
                    "`{}` takes a vector, but this is {}",
                    func.name,
                    arg.shape.describe()
                ),
            );
            return None;
        };
        let shape = match f {
            VectorFn::LogSumExp => Shape::Scalar,
            VectorFn::Softmax | VectorFn::LogSoftmax => Shape::Vector(n),
        };
        Some(TExpr {
            kind: TExprKind::VectorFn(f, Box::new(arg)),
            shape,
            span,
        })
    }
}

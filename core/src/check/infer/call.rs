//! Typing calls: built-in and user functions applied element-wise, the vector functions, and
//! the two-argument built-ins (`maximum`, `minimum`).

use super::*;

impl Infer<'_> {
    pub(super) fn call(
        &mut self,
        func: &Ident,
        args: &[Expr],
        hint: Option<usize>,
        span: Span,
    ) -> Option<TExpr> {
        let arity = |n: usize| {
            if n == 1 {
                "argument".to_string()
            } else {
                "arguments".to_string()
            }
        };
        if let Some(f) = VectorFn::from_name(&func.name) {
            return self.vector_fn(f, func, args, hint, span);
        }
        if func.name == crate::check::grad::GRAD {
            return self.grad(args, span);
        }
        if let Some(op) = ElemOp::called(&func.name) {
            return self.pairwise(op, func, args, hint, span);
        }
        if let Some(builtin) = Builtin::from_name(&func.name) {
            if args.len() != 1 {
                self.error(
                    span,
                    format!("`{}` takes 1 argument, not {}", func.name, args.len()),
                );
                return None;
            }
            let arg = self.expr(&args[0], hint)?;
            let shape = arg.shape;
            return Some(TExpr {
                kind: TExprKind::Builtin(builtin, Box::new(arg)),
                shape,
                span,
            });
        }
        let Some((index, params)) = self.scope.function(&func.name) else {
            if let Some(typed) = self.tensor_fn(func, args, span) {
                return typed;
            }
            let user = self.scope.functions.iter().map(|(n, _)| n.as_str());
            let message = crate::check::unknown::unknown_function(&func.name, args, user);
            self.error(func.span, message);
            return None;
        };
        if args.len() != params {
            self.error(
                span,
                format!(
                    "`{}` takes {params} {}, not {}",
                    func.name,
                    arity(params),
                    args.len()
                ),
            );
            return None;
        }
        let mut typed = Vec::new();
        let mut shape = Shape::Scalar;
        for arg in args {
            let arg = self.expr(arg, hint)?;
            shape = match (shape, arg.shape) {
                (Shape::Scalar, other) | (other, Shape::Scalar) => other,
                (a, b) if a == b => a,
                (a, b) => {
                    self.error(
                        span,
                        format!(
                            "size mismatch in the arguments of `{}`: {} and {}",
                            func.name,
                            a.describe(),
                            b.describe()
                        ),
                    );
                    return None;
                }
            };
            typed.push(arg);
        }
        Some(TExpr {
            kind: TExprKind::Call(index, typed),
            shape,
            span,
        })
    }

    /// `maximum(a, b)` or `minimum(a, b)`: element-wise, with the shapes `+` takes.
    pub(super) fn pairwise(
        &mut self,
        op: ElemOp,
        func: &Ident,
        args: &[Expr],
        hint: Option<usize>,
        span: Span,
    ) -> Option<TExpr> {
        let [a, b] = args else {
            self.error(
                span,
                format!("`{}` takes 2 arguments, not {}", func.name, args.len()),
            );
            return None;
        };
        self.elementwise(op, span, a, b, hint)
    }
}

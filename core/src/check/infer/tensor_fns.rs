//! The built-in tensor functions (`conv2d`, `conv1d`, `maxpool2d`, `avgpool2d`, `flatten`,
//! `pad`),
//! typed as the index-notation definitions LANGUAGE.md gives as their meaning: each becomes one
//! `IndexDef` over its output's axes, so every later stage (the scalar graph, the tensor
//! level, the printers, the generated loops) sees exactly the formula a user could have written.

use super::*;
use crate::builtin::Pairwise;
use crate::model::IndexTerm;

/// One argument that must name a value: its symbol and sizes.
struct Named {
    symbol: Symbol,
    dims: Vec<usize>,
}

impl Infer<'_> {
    /// `conv2d(x, K)`, `maxpool2d(x, n)`, ...: `None` when `func` is none of them.
    pub(super) fn tensor_fn(
        &mut self,
        func: &Ident,
        args: &[Expr],
        span: Span,
    ) -> Option<Option<TExpr>> {
        let axes = match func.name.as_str() {
            "conv2d" | "maxpool2d" | "avgpool2d" => 2,
            "conv1d" => 1,
            "flatten" | "pad" => 0,
            _ => return None,
        };
        Some(match func.name.as_str() {
            "conv2d" | "conv1d" => self.convolution(func, args, axes, span),
            "flatten" => self.flatten(func, args, span),
            "pad" => self.pad(func, args, span),
            _ => self.pooling(func, args, span),
        })
    }

    /// An argument that names a value of `rank` axes (any rank when `None`).
    fn named(
        &mut self,
        func: &Ident,
        arg: &Expr,
        what: &str,
        rank: Option<usize>,
    ) -> Option<Named> {
        let ExprKind::Name(ident) = &arg.kind else {
            self.error(
                arg.span,
                format!(
                    "the {what} of `{}` must be a name: define it first (`a = ...`) and pass `a`",
                    func.name
                ),
            );
            return None;
        };
        let symbol = self.element_base(ident)?;
        let shape = self.symbol_shape(symbol, ident)?;
        if rank.is_some_and(|r| r != shape.rank()) {
            let rank = rank.unwrap_or_default();
            self.error(
                arg.span,
                format!(
                    "the {what} of `{}` has {rank} axes, but `{}` is {}",
                    func.name,
                    ident.name,
                    shape.describe()
                ),
            );
            return None;
        }
        Some(Named {
            symbol,
            dims: shape.dims(),
        })
    }

    /// A stride or window size: a whole number of at least 1.
    fn whole_number(&mut self, func: &Ident, arg: &Expr, what: &str) -> Option<usize> {
        match self.constant(arg) {
            Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= 1e6 => Some(v as usize),
            _ => {
                self.error(
                    arg.span,
                    format!(
                        "the {what} of `{}` must be a whole number of at least 1",
                        func.name
                    ),
                );
                None
            }
        }
    }

    /// `conv2d(x, K[, s])`: `z[f][i][j] = sum(c, p, q, K[f][c][p][q] * x[c][s*i + p][s*j + q])`
    /// (`conv1d` with one spatial axis).
    fn convolution(
        &mut self,
        func: &Ident,
        args: &[Expr],
        axes: usize,
        span: Span,
    ) -> Option<TExpr> {
        let (x, k, stride) = match args {
            [x, k] => (x, k, None),
            [x, k, s] => (x, k, Some(s)),
            _ => {
                self.error(
                    span,
                    format!(
                        "`{}` takes 2 or 3 arguments (input, kernel, stride), not {}",
                        func.name,
                        args.len()
                    ),
                );
                return None;
            }
        };
        let stride = match stride {
            Some(s) => self.whole_number(func, s, "stride")?,
            None => 1,
        };
        let x = self.named(func, x, "input", Some(axes + 1))?;
        let k = self.named(func, k, "kernel", Some(axes + 2))?;
        if k.dims[1] != x.dims[0] {
            self.error(
                span,
                format!(
                    "`{}`: the kernel reads {} channels, but the input has {}",
                    func.name, k.dims[1], x.dims[0]
                ),
            );
            return None;
        }
        let mut out = vec![k.dims[0]];
        for a in 0..axes {
            let (size, window) = (x.dims[1 + a], k.dims[2 + a]);
            if window > size {
                self.error(
                    span,
                    format!(
                        "`{}`: the kernel ({window}) is larger than the input ({size})",
                        func.name
                    ),
                );
                return None;
            }
            out.push((size - window) / stride + 1);
        }
        // Variables: f and the output positions (free), then c and the kernel offsets.
        let free = 1 + axes;
        let mut vars = index_vars(&["f", "i", "j"][..free], &out, true);
        vars.extend(index_vars(&["c", "p", "q"][..free], &k.dims[1..], false));
        let offset =
            |a: usize| IndexTerm::Affine(vec![(1 + a, stride as i64), (free + 1 + a, 1)], 0);
        let kernel_at: Vec<IndexTerm> = (0..2 + axes)
            .map(|v| IndexTerm::Var(if v == 0 { 0 } else { free + v - 1 }))
            .collect();
        let input_at: Vec<IndexTerm> = std::iter::once(IndexTerm::Var(free))
            .chain((0..axes).map(offset))
            .collect();
        let product = binary(
            ElemOp::Mul,
            element(k.symbol, kernel_at, span),
            element(x.symbol, input_at, span),
        );
        let body = (free..2 * free).rev().fold(product, |body, v| {
            scalar(TExprKind::SumOver(v, Box::new(body)), span)
        });
        index_def(vars, body, &out, span)
    }

    /// `maxpool2d(x, n)`: `max(p < n, q < n, x[c][n*i + p][n*j + q])`; `avgpool2d` the mean.
    fn pooling(&mut self, func: &Ident, args: &[Expr], span: Span) -> Option<TExpr> {
        let [x, n] = args else {
            self.error(
                span,
                format!(
                    "`{}` takes 2 arguments (input, window), not {}",
                    func.name,
                    args.len()
                ),
            );
            return None;
        };
        let n = self.whole_number(func, n, "window")?;
        let x = self.named(func, x, "input", Some(3))?;
        if n > x.dims[1] || n > x.dims[2] {
            self.error(
                span,
                format!("`{}`: the window ({n}) is larger than the input", func.name),
            );
            return None;
        }
        let out = vec![x.dims[0], x.dims[1] / n, x.dims[2] / n];
        let mut vars = index_vars(&["c", "i", "j"], &out, true);
        vars.extend(index_vars(&["p", "q"], &[n, n], false));
        let at = |a: usize| IndexTerm::Affine(vec![(1 + a, n as i64), (3 + a, 1)], 0);
        let read = element(x.symbol, vec![IndexTerm::Var(0), at(0), at(1)], span);
        let body = if func.name == "maxpool2d" {
            let inner = scalar(
                TExprKind::ExtremumOver(Pairwise::Maximum, 4, Box::new(read)),
                span,
            );
            scalar(
                TExprKind::ExtremumOver(Pairwise::Maximum, 3, Box::new(inner)),
                span,
            )
        } else {
            let inner = scalar(TExprKind::SumOver(4, Box::new(read)), span);
            let total = scalar(TExprKind::SumOver(3, Box::new(inner)), span);
            binary(
                ElemOp::Div,
                total,
                scalar(TExprKind::Const((n * n) as f64), span),
            )
        };
        index_def(vars, body, &out, span)
    }

    /// `pad(x, n)`: `n` zeros before and after each of the last two axes of `x` (its one axis
    /// past the first for two axes, its only axis for one): element `[c][i][j]` reads
    /// `x[c][i - n][j - n]`, zero outside `x`.
    fn pad(&mut self, func: &Ident, args: &[Expr], span: Span) -> Option<TExpr> {
        let [x, n] = args else {
            self.error(
                span,
                format!("`pad` takes 2 arguments (input, width), not {}", args.len()),
            );
            return None;
        };
        let n = self.whole_number(func, n, "width")?;
        let x = self.named(func, x, "input", None)?;
        let rank = x.dims.len();
        let padded = match rank {
            0 => {
                self.error(span, "`pad` of a scalar: there is no axis to pad");
                return None;
            }
            1 => 0,
            2 => 1,
            _ => rank - 2,
        };
        let out: Vec<usize> = x
            .dims
            .iter()
            .enumerate()
            .map(|(a, &d)| if a >= padded { d + 2 * n } else { d })
            .collect();
        let letters = ["f", "c", "i", "j"];
        let vars = index_vars(&letters[4 - rank..], &out, true);
        let at: Vec<IndexTerm> = (0..rank)
            .map(|a| match a >= padded {
                true => IndexTerm::Affine(vec![(a, 1)], -(n as i64)),
                false => IndexTerm::Var(a),
            })
            .collect();
        index_def(vars, element(x.symbol, at, span), &out, span)
    }

    /// `flatten(x)`: the elements of `x` in row-major order, as a vector.
    fn flatten(&mut self, func: &Ident, args: &[Expr], span: Span) -> Option<TExpr> {
        let [x] = args else {
            self.error(
                span,
                format!("`flatten` takes 1 argument, not {}", args.len()),
            );
            return None;
        };
        let x = self.named(func, x, "argument", None)?;
        let letters = ["f", "c", "i", "j"];
        let vars = index_vars(&letters[..x.dims.len()], &x.dims, true);
        let read = element(
            x.symbol,
            (0..x.dims.len()).map(IndexTerm::Var).collect(),
            span,
        );
        let len = x.dims.iter().product();
        // One free variable per axis of `x`, read in row-major order: a vector of its length.
        Some(TExpr {
            kind: TExprKind::IndexDef(vars, Box::new(read)),
            shape: Shape::Vector(len),
            span,
        })
    }
}

fn index_vars(names: &[&str], ranges: &[usize], free: bool) -> Vec<IndexVar> {
    names
        .iter()
        .zip(ranges)
        .map(|(name, &range)| IndexVar {
            name: name.to_string(),
            range,
            free,
        })
        .collect()
}

fn scalar(kind: TExprKind, span: Span) -> TExpr {
    TExpr {
        kind,
        shape: Shape::Scalar,
        span,
    }
}

fn element(symbol: Symbol, at: Vec<IndexTerm>, span: Span) -> TExpr {
    scalar(TExprKind::Element(symbol, at), span)
}

fn binary(op: ElemOp, a: TExpr, b: TExpr) -> TExpr {
    let span = a.span;
    scalar(TExprKind::Binary(op, Box::new(a), Box::new(b)), span)
}

fn index_def(vars: Vec<IndexVar>, body: TExpr, out: &[usize], span: Span) -> Option<TExpr> {
    Some(TExpr {
        kind: TExprKind::IndexDef(vars, Box::new(body)),
        shape: Shape::of(out)?,
        span,
    })
}

//! Expressions, indices and claim references: the Pratt parser's operands and operators.

use pest::iterators::Pair;

use super::{Builder, MAX_OPERATORS, PRATT, Rule, span_of};
use crate::ast::*;

impl Builder<'_> {
    pub(super) fn index(&mut self, pair: Pair<'_, Rule>) -> Index {
        let inner = pair
            .into_inner()
            .next()
            .expect("grammar: index has a token"); // ok: grammar guarantees it
        match inner.as_rule() {
            Rule::integer => Index::Const(self.whole_number(&inner), span_of(&inner)),
            _ => Index::Var(self.ident(inner)),
        }
    }

    /// The sizes and index names in the brackets after a defined name.
    pub(super) fn def_dims(&mut self, pair: Pair<'_, Rule>) -> (Vec<Dim>, Vec<Ident>) {
        let mut dims = Vec::new();
        let mut index = Vec::new();
        for dim in pair.into_inner() {
            let Some(inner) = dim.into_inner().next() else {
                continue;
            };
            if inner.as_rule() == Rule::integer {
                dims.push(Dim {
                    size: self.whole_number(&inner),
                    span: span_of(&inner),
                });
            } else {
                index.push(self.ident(inner));
            }
        }
        (dims, index)
    }

    /// `p` or `p < 2` in a reduction.
    pub(super) fn bound_name(&mut self, pair: Pair<'_, Rule>) -> BoundName {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: a bound name has a name")); // ok: grammar guarantees it
        let below = inner.next().map(|n| Dim {
            size: self.whole_number(&n),
            span: span_of(&n),
        });
        BoundName { name, below }
    }

    /// An index in an expression: a constant, a name, or an affine combination of names.
    pub(super) fn index_expr(&mut self, pair: Pair<'_, Rule>) -> Index {
        let span = span_of(&pair);
        let mut terms: Vec<(i64, Ident)> = Vec::new();
        let mut offset: i64 = 0;
        let mut sign = 1;
        let mut count = 0;
        for part in pair.into_inner() {
            if part.as_rule() == Rule::index_op {
                sign = if part.as_str() == "-" { -1 } else { 1 };
                continue;
            }
            count += 1;
            let mut inner = part.into_inner().peekable();
            let first = inner.next().expect("grammar: an index term has a token"); // ok: grammar guarantees it
            if first.as_rule() == Rule::integer {
                let value = i64::try_from(self.whole_number(&first)).unwrap_or(i64::MAX); // ok: sizes are far below i64::MAX
                match inner.next() {
                    Some(name) => terms.push((sign * value, self.ident(name))),
                    None => offset += sign * value,
                }
            } else {
                terms.push((sign, self.ident(first)));
            }
        }
        match (count, terms.as_slice()) {
            (1, []) if offset >= 0 => Index::Const(offset as usize, span),
            (1, [(1, _)]) => Index::Var(terms.remove(0).1),
            _ => Index::Affine {
                terms,
                offset,
                span,
            },
        }
    }

    pub(super) fn scalar_ref(&mut self, pair: Pair<'_, Rule>) -> ScalarRef {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: reference has a name")); // ok: grammar guarantees it
        let indices = inner.map(|i| self.index(i)).collect();
        ScalarRef {
            name,
            indices,
            span,
        }
    }

    pub(super) fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        if !self.in_expression {
            let operators = pair
                .clone()
                .into_inner()
                .flatten()
                .filter(|p| is_operator(p.as_rule()))
                .count();
            if operators > MAX_OPERATORS {
                self.error(span, format!("this expression has {operators} operators, more than the limit of {MAX_OPERATORS}: split it into named vectors"));
                return Expr {
                    kind: ExprKind::Number(0.0),
                    span,
                };
            }
        }
        let outer = std::mem::replace(&mut self.in_expression, true);
        let e = self.expr_inner(pair);
        self.in_expression = outer;
        e
    }

    pub(super) fn expr_inner(&mut self, pair: Pair<'_, Rule>) -> Expr {
        // The Pratt parser's closures cannot all borrow `self` mutably, so errors found inside
        // primaries are gathered in a local builder and merged afterwards.
        let cell = std::cell::RefCell::new(std::mem::take(&mut self.errors));
        let result = PRATT
            .map_primary(|primary| {
                let mut builder = Builder {
                    source: self.source,
                    errors: std::mem::take(&mut *cell.borrow_mut()),
                    in_expression: true,
                };
                let e = builder.primary(primary);
                *cell.borrow_mut() = builder.errors;
                e
            })
            .map_prefix(|op, operand| {
                let span = span_of(&op).join(operand.span);
                Expr {
                    kind: ExprKind::Neg(Box::new(operand)),
                    span,
                }
            })
            .map_infix(|lhs, op, rhs| {
                let op = match op.as_rule() {
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    Rule::div => BinOp::Div,
                    Rule::matmul => BinOp::MatMul,
                    _ => BinOp::Pow,
                };
                let span = lhs.span.join(rhs.span);
                Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                }
            })
            .parse(pair.into_inner());
        self.errors = cell.into_inner();
        result
    }

    /// `base[y]`: the element of a vector value that a label picks.
    fn select(&mut self, base: Expr, selector: Pair<'_, Rule>, span: Span) -> Expr {
        let label = match selector.into_inner().next() {
            Some(name) => self.ident(name),
            None => Ident {
                name: String::new(),
                span,
            },
        };
        Expr {
            kind: ExprKind::Select {
                base: Box::new(base),
                label,
            },
            span,
        }
    }

    pub(super) fn primary(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::number => ExprKind::Number(self.number(&pair)),
            Rule::ident => ExprKind::Name(self.ident(pair)),
            Rule::paren | Rule::claim_paren => {
                let mut inner = pair.into_inner();
                let group = inner.next().expect("grammar: a group holds an expression"); // ok: grammar guarantees it
                let mut e = self.expr(group);
                e.span = span;
                return match inner.next() {
                    Some(selector) => self.select(e, selector, span),
                    None => e,
                };
            }
            Rule::expr | Rule::claim_expr => return self.expr(pair),
            Rule::indexed => {
                let mut inner = pair.into_inner();
                let name = self.ident(inner.next().expect("grammar: indexed has a name")); // ok: grammar guarantees it
                let indices = inner.map(|i| self.index_expr(i)).collect();
                ExprKind::Indexed { name, indices }
            }
            Rule::delta_ref => {
                let mut inner = pair.into_inner();
                let head = inner.next().expect("grammar: a delta has a head"); // ok: grammar guarantees it
                let mut names = head.into_inner();
                let of = self.ident(names.next().expect("grammar: dL has a name")); // ok: grammar guarantees it
                let wrt = self.ident(names.next().expect("grammar: dNAME has a name")); // ok: grammar guarantees it
                let indices = inner.map(|i| self.index_expr(i)).collect();
                ExprKind::DeltaRef { of, wrt, indices }
            }
            Rule::call | Rule::claim_call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect("grammar: call has a name")); // ok: grammar guarantees it
                let mut args = Vec::new();
                let mut selector = None;
                for a in inner {
                    match a.as_rule() {
                        Rule::selector => selector = Some(a),
                        _ => args.push(self.expr(a)),
                    }
                }
                if let Some(selector) = selector {
                    let call = Expr {
                        kind: ExprKind::Call { func, args },
                        span: Span::new(span.start, selector.as_span().start()),
                    };
                    return self.select(call, selector, span);
                }
                ExprKind::Call { func, args }
            }
            Rule::reduction | Rule::claim_reduction => {
                let mut inner = pair.into_inner();
                let op = match inner.next().map(|k| k.as_rule()) {
                    Some(Rule::kw_mean) => Reduction::Mean,
                    Some(Rule::kw_max) => Reduction::Max,
                    Some(Rule::kw_min) => Reduction::Min,
                    _ => Reduction::Sum,
                };
                let mut rest: Vec<_> = inner.collect();
                let arg = rest.pop().map(|a| self.expr(a));
                let vars = rest.into_iter().map(|v| self.bound_name(v)).collect();
                let arg = arg.unwrap_or(Expr {
                    kind: ExprKind::Number(0.0),
                    span,
                });
                ExprKind::Reduce {
                    op,
                    vars,
                    arg: Box::new(arg),
                }
            }
            _ => ExprKind::Number(0.0),
        };
        Expr { kind, span }
    }
}

fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::neg | Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::matmul | Rule::pow
    )
}

pub(super) fn short(text: &str) -> String {
    if text.chars().count() > 24 {
        let head: String = text.chars().take(20).collect();
        format!("{head}...")
    } else {
        text.to_string()
    }
}

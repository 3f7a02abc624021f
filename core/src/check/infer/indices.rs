//! Indices while typing: constants, claim variables learning their range from their first
//! use, index names of index notation (ranges known beforehand), and sums over them.

use chainrule_grammar::{BoundName, Expr, Ident, Index, Reduction, Span};

use super::{Infer, RangeConflict, is_index_letter};
use crate::builtin::Pairwise;
use crate::check::Entity;
use crate::check::index::binder;
use crate::model::{ElemOp, IndexTerm, IndexVar, Shape, Symbol, TExpr, TExprKind};

impl Infer<'_> {
    /// Checks indices against a shape; index variables get their range from the first use.
    pub fn indices(
        &mut self,
        ident: &Ident,
        shape: Shape,
        indices: &[Index],
    ) -> Option<Vec<IndexTerm>> {
        let dims = shape.dims();
        if dims.len() != indices.len() {
            let span = indices.iter().fold(ident.span, |s, i| s.join(i.span()));
            self.error(
                span,
                format!(
                    "`{}` is {} and takes {} {}, not {}",
                    ident.name,
                    shape.describe(),
                    dims.len(),
                    if dims.len() == 1 { "index" } else { "indices" },
                    indices.len()
                ),
            );
            return None;
        }
        let mut terms = Vec::new();
        for (index, &size) in indices.iter().zip(&dims) {
            match index {
                Index::Const(value, span) => {
                    if *value >= size {
                        self.error(
                            *span,
                            format!("index {value} is out of range: `{}` has {size} elements along this axis (0..{})", ident.name, size.saturating_sub(1)),
                        );
                        return None;
                    }
                    terms.push(IndexTerm::Const(*value));
                }
                Index::Var(var) if self.index_ranges.is_some() => {
                    terms.push(IndexTerm::Var(self.index_name(var)?));
                }
                Index::Var(var) => terms.push(IndexTerm::Var(self.index_var(var, size)?)),
                Index::Affine {
                    terms: parts,
                    offset,
                    span,
                } if self.index_ranges.is_none() && self.in_claim => {
                    terms.push(self.claim_affine(parts, *offset, *span)?);
                }
                Index::Affine {
                    terms: parts,
                    offset,
                    span,
                } => {
                    if self.index_ranges.is_none() {
                        self.error(
                            *span,
                            "an index such as `i + 1` can only be used in an index-notation definition (`z[i] = ...`)",
                        );
                        return None;
                    }
                    let mut affine = Vec::new();
                    for (c, var) in parts {
                        affine.push((self.index_name(var)?, *c));
                    }
                    terms.push(IndexTerm::Affine(affine, *offset));
                }
            }
        }
        Some(terms)
    }

    /// In index notation, a parameter of unknown shape read at plain index names (`c2[k]`,
    /// `W[k][f][i][j]`) takes their ranges as its sizes.
    pub(super) fn learn_from_indices(&mut self, symbol: Symbol, ident: &Ident, indices: &[Index]) {
        let Symbol::Param(param) = symbol else {
            return;
        };
        if self.index_ranges.is_none() || self.params.shape(param).is_some() {
            return;
        }
        let sizes: Option<Vec<usize>> = indices
            .iter()
            .map(|index| match index {
                Index::Var(var) => self
                    .vars
                    .iter()
                    .rev()
                    .find(|v| v.name == var.name)
                    .map(|v| v.range)
                    .filter(|&n| n > 0),
                _ => None,
            })
            .collect();
        if let Some(shape) = sizes.as_deref().and_then(Shape::of) {
            self.params.learn(param, shape, ident.span);
        }
    }

    /// A definition's read of itself: only at its first index minus a constant (`h[t - 1]`),
    /// which reads zero before the first element. A read of another definition of its
    /// recurrence (`peer`) may also be at the same step (`f[t]`).
    pub(super) fn recurrent_read(
        &mut self,
        name: &Ident,
        terms: &[IndexTerm],
        span: Span,
        peer: bool,
    ) -> Option<()> {
        match terms.first() {
            Some(IndexTerm::Affine(parts, offset)) if parts[..] == [(0, 1)] && *offset < 0 => {
                Some(())
            }
            Some(IndexTerm::Var(0)) if peer => Some(()),
            _ if peer => {
                let step = self
                    .vars
                    .first()
                    .map_or("t", |v| v.name.as_str())
                    .to_string();
                self.error(
                    span,
                    format!(
                        "`{0}` steps together with this definition, so it is read at this step or an earlier one (`{0}[{step}]`, `{0}[{step} - 1]`)",
                        name.name
                    ),
                );
                None
            }
            _ => {
                self.error(
                    span,
                    format!(
                        "`{0}` may read itself only at a smaller value of its first index, as in a recurrence (`{0}[t - 1]`)",
                        name.name
                    ),
                );
                None
            }
        }
    }

    pub(super) fn index_var(&mut self, var: &Ident, size: usize) -> Option<usize> {
        if let Some(pos) = self.vars.iter().position(|v| v.name == var.name) {
            let known = self.vars[pos].range;
            if known == 0 {
                // A summation index takes its range from its first use.
                self.vars[pos].range = size;
            } else if known != size && self.in_claim {
                self.range_conflicts.push(RangeConflict {
                    var: pos,
                    here: size,
                    span: var.span,
                });
                return None;
            } else if known != size {
                self.error(
                    var.span,
                    format!(
                        "index `{}` runs over 0..{} here but over 0..{} where it was first used",
                        var.name,
                        size - 1,
                        known - 1
                    ),
                );
                return None;
            }
            return Some(pos);
        }
        if !is_index_letter(&var.name) || self.scope.resolve(&var.name).is_some() {
            self.error(
                var.span,
                format!("`{}` is not an index: indices are whole numbers, or in claims single lower-case letters that name nothing in the network", var.name),
            );
            return None;
        }
        if !self.in_claim {
            self.error(
                var.span,
                format!(
                    "index name `{}` is not bound here: bind it on the left-hand side (`z[{}] = ...`) or in a sum (`sum({}, ...)`), or use it in a claim",
                    var.name, var.name, var.name
                ),
            );
            return None;
        }
        self.vars.push(IndexVar {
            name: var.name.clone(),
            range: size,
            free: true,
        });
        Some(self.vars.len() - 1)
    }

    /// The position of an index name in scope in an index-notation definition.
    pub(super) fn index_name(&mut self, var: &Ident) -> Option<usize> {
        match self.vars.iter().rposition(|v| v.name == var.name) {
            Some(position) => Some(position),
            None => {
                self.error(
                    var.span,
                    format!(
                        "`{}` is not an index name here: index names are those on the left-hand side and those a `sum(...)` around this binds",
                        var.name
                    ),
                );
                None
            }
        }
    }

    /// `sum(j, k, e)`, `mean(j, k, e)`, `max(j, k, e)` or `min(j, k, e)`: `e` reduced over
    /// every value of the names it binds (one name in a claim, whose range comes from its
    /// first use).
    pub(super) fn sum_over(
        &mut self,
        op: Reduction,
        names: &[BoundName],
        arg: &Expr,
        span: Span,
    ) -> Option<TExpr> {
        let ranges = self.index_ranges;
        let word = op.word();
        if ranges.is_none() && (op == Reduction::Mean || !self.in_claim || names.len() > 1) {
            self.error(
                span,
                format!("`{word}(k, ...)` with an index variable can only be used in a claim (one index) or an index-notation definition (`z[i] = ...`)"),
            );
            return None;
        }
        let mut positions = Vec::new();
        for bound in names {
            positions.push(self.bind(op, bound, ranges)?);
        }
        let body = self.expr(arg, None)?;
        if body.shape != Shape::Scalar {
            self.error(
                arg.span,
                format!("the body of `{word}(k, ...)` must be a scalar"),
            );
            return None;
        }
        let mut count = 1;
        for (&position, var) in positions.iter().zip(names.iter().map(|b| &b.name)) {
            if self.vars[position].range == 0 {
                let (what, inside) = match op {
                    Reduction::Sum | Reduction::Mean => ("the summation index", "sum"),
                    Reduction::Max | Reduction::Min => ("the index", word),
                };
                self.error(
                    var.span,
                    format!("{what} `{}` is not used inside the {inside}", var.name),
                );
                return None;
            }
            count *= self.vars[position].range;
            // The variable goes out of scope: rename it so a later sum may reuse the name.
            self.vars[position].name = format!("{}#{position}", var.name);
        }
        let mut total = body;
        for &position in positions.iter().rev() {
            let kind = match op {
                Reduction::Sum | Reduction::Mean => TExprKind::SumOver(position, Box::new(total)),
                Reduction::Max => {
                    TExprKind::ExtremumOver(Pairwise::Maximum, position, Box::new(total))
                }
                Reduction::Min => {
                    TExprKind::ExtremumOver(Pairwise::Minimum, position, Box::new(total))
                }
            };
            total = TExpr {
                kind,
                shape: Shape::Scalar,
                span,
            };
        }
        if op == Reduction::Mean {
            let count = TExpr {
                kind: TExprKind::Const(count as f64),
                shape: Shape::Scalar,
                span,
            };
            total = TExpr {
                kind: TExprKind::Binary(ElemOp::Div, Box::new(total), Box::new(count)),
                shape: Shape::Scalar,
                span,
            };
        }
        Some(total)
    }

    /// Puts a name a reduction binds in scope, with its inferred range (0 in a claim, learnt
    /// from its first use); its position among the index variables.
    fn bind(
        &mut self,
        op: Reduction,
        bound: &BoundName,
        ranges: Option<&crate::check::index::Ranges>,
    ) -> Option<usize> {
        let var = &bound.name;
        if let (Some(below), None) = (bound.below, ranges) {
            self.error(
                below.span,
                "a written range `k < N` belongs to index-notation definitions; in a claim a summation index takes its range from its use",
            );
            return None;
        }
        let taken = match ranges {
            Some(_) => {
                self.scope.resolve(&var.name).is_some()
                    || crate::builtin::builtin_constant(&var.name).is_some()
            }
            None => !is_index_letter(&var.name) || self.scope.resolve(&var.name).is_some(),
        };
        if taken || self.is_index_var(&var.name) {
            let advice = if ranges.is_some() {
                "use a name that is neither a value of the network nor an index name already bound here"
            } else {
                "use a lower-case letter that names nothing in the network and is not bound here"
            };
            let role = match op {
                Reduction::Sum | Reduction::Mean => "a summation index".to_string(),
                Reduction::Max | Reduction::Min => format!("an index of `{}`", op.word()),
            };
            self.error(
                var.span,
                format!("`{}` cannot be {role}: {advice}", var.name),
            );
            return None;
        }
        // In a claim the range is learnt from the first use inside the body.
        let range = ranges
            .and_then(|r| r.get(&binder(var)).copied())
            .unwrap_or(0);
        self.vars.push(IndexVar {
            name: var.name.clone(),
            range,
            free: false,
        });
        Some(self.vars.len() - 1)
    }

    /// `t + 1` in a claim: each name must have its range from a use of its own (the claimed
    /// element's indices, or a sum); the element read is zero where the index falls outside.
    fn claim_affine(
        &mut self,
        parts: &[(i64, Ident)],
        offset: i64,
        span: Span,
    ) -> Option<IndexTerm> {
        let mut affine = Vec::new();
        for (c, var) in parts {
            match self
                .vars
                .iter()
                .rposition(|v| v.name == var.name && v.range > 0)
            {
                Some(position) => affine.push((position, *c)),
                None => {
                    self.error(
                        span,
                        format!(
                            "index `{}` has no range yet: use it on its own first (in the claimed element or a sum), which gives its range",
                            var.name
                        ),
                    );
                    return None;
                }
            }
        }
        Some(IndexTerm::Affine(affine, offset))
    }

    /// `dL/dNAME[...]` in a claim: the derived delta of an element of a named vector.
    pub(super) fn delta_ref(
        &mut self,
        of: &Ident,
        wrt: &Ident,
        indices: &[Index],
        span: Span,
    ) -> Option<TExpr> {
        if !matches!(self.scope.resolve(&of.name), Some(Entity::Loss)) {
            self.error(
                span,
                format!(
                    "`d{}/d{}` in a claim stands for a delta of the loss, and `{}` is not the loss",
                    of.name, wrt.name, of.name
                ),
            );
            return None;
        }
        let Some(Entity::Vector(v)) = self.scope.resolve(&wrt.name) else {
            self.error(
                wrt.span,
                format!(
                    "`d{}/d{}` stands for the delta of a named vector, and `{}` is not one",
                    of.name, wrt.name, wrt.name
                ),
            );
            return None;
        };
        let symbol = Symbol::Vector(v);
        let shape = self.symbol_shape(symbol, wrt)?;
        let terms = self.indices(wrt, shape, indices)?;
        Some(TExpr {
            kind: TExprKind::Delta(symbol, terms),
            shape: Shape::Scalar,
            span,
        })
    }
}

//! One pass of shape inference over a network's definitions, and their renumbering into
//! evaluation order.

use chainrule_grammar::{self as ast, Diagnostic};

use super::infer::Infer;
use super::{ParamTable, Scope, Statements, index};
use crate::model::{Shape, TExpr};

/// One pass of shape inference over every vector and the loss, in evaluation order.
pub(super) struct InferPass<'s, 'a> {
    pub(super) statements: &'s Statements<'a>,
    pub(super) order: &'s [usize],
    pub(super) scope: &'s Scope<'s>,
    /// Shapes learnt from later uses (`later.rs`), by source index.
    pub(super) hints: &'s std::collections::BTreeMap<usize, Shape>,
    /// The mutual recurrences (`order.rs`), by source index.
    pub(super) recurrences: &'s [Vec<usize>],
    /// The shapes of the recurrences' definitions from the pass before: a definition reads
    /// later ones at earlier steps (`f[t]` reads `h[t - 1]`), before this pass types them.
    pub(super) carried: Vec<Option<Shape>>,
}

/// Each typed definition: its source index, its shape (a vector, or a named scalar) and body.
pub(super) type Typed = Vec<(usize, Shape, TExpr)>;

impl InferPass<'_, '_> {
    pub(super) fn run(
        &mut self,
        params: &mut ParamTable,
        final_pass: bool,
    ) -> (Typed, Option<(ast::Ident, TExpr)>, Vec<Diagnostic>) {
        let s = self.statements;
        let mut errors = Vec::new();
        let mut vector_sizes: Vec<Option<Shape>> = self.carried.clone();
        let mut typed = Vec::new();
        for &index in self.order {
            let (name, dims, expr) = s.vectors[index];
            let index_names = s.vector_index[index];
            if !index_names.is_empty() {
                let peers = self
                    .recurrences
                    .iter()
                    .find(|group| group.contains(&index))
                    .map_or(&[][..], Vec::as_slice);
                let mut header = None;
                let typed_def = index::definition(
                    self.scope,
                    params,
                    &vector_sizes,
                    &mut errors,
                    final_pass,
                    (name, index, self.hints.get(&index).copied()),
                    (dims, index_names, peers, &mut header),
                    expr,
                );
                match typed_def {
                    Some((shape, e)) => {
                        typed.push((index, shape, e));
                        vector_sizes[index] = Some(shape);
                    }
                    // A recurrence's definition that reads a later one before its shape is
                    // known still gives its own shape, so that the ones after it type.
                    None if !peers.is_empty() => vector_sizes[index] = header,
                    None => {}
                }
                if !peers.is_empty() {
                    self.carried[index] = vector_sizes[index];
                }
                continue;
            }
            let declared = match dims {
                [] => None,
                [d] => Some(d.size),
                _ => {
                    errors.push(Diagnostic::new(
                        name.span,
                        format!(
                            "named vector `{}` takes one size, `{}[N]`",
                            name.name, name.name
                        ),
                    ));
                    None
                }
            };
            let errors_before = errors.len();
            let Ok(bound) =
                index::bound_ranges(self.scope, params, &vector_sizes, expr, &mut errors)
            else {
                continue;
            };
            let mut vars = Vec::new();
            let mut infer = Infer::new(
                self.scope,
                params,
                &vector_sizes,
                &mut errors,
                &mut vars,
                final_pass,
                false,
            );
            // A later use's shape (`y = W @ x` compared with a target) flows down as a
            // declared size does, without binding the definition to it.
            let hint = declared.or(match self.hints.get(&index) {
                Some(Shape::Vector(n)) => Some(*n),
                _ => None,
            });
            infer.report_unresolved = hint.is_some();
            infer.index_ranges = bound.as_ref();
            let result = infer.expr(expr, hint);
            let cascaded = infer.cascaded;
            let unresolved_param = infer.unresolved_param;
            let result = result.map(|e| index::scoped(vars, e));
            let shape = match (&result, declared) {
                (Some(e), Some(n)) => match e.shape {
                    Shape::Scalar => Some(Shape::Vector(n)),
                    Shape::Vector(m) if m == n => Some(Shape::Vector(n)),
                    other => {
                        errors.push(Diagnostic::new(
                            expr.span,
                            format!(
                                "`{}` is declared with {n} elements, but its definition is {}",
                                name.name,
                                other.describe()
                            ),
                        ));
                        None
                    }
                },
                // No brackets: the definition's shape, a named scalar (`mu = mean(x)`) or a
                // tensor (`a1 = relu(z1)`) included.
                (Some(e), None) => Some(e.shape),
                (None, declared) => declared.map(Shape::Vector),
            };
            if shape == Some(Shape::Vector(0)) {
                errors.push(Diagnostic::new(
                    name.span,
                    format!("`{}` must have at least one element", name.name),
                ));
            }
            match (result, shape) {
                (Some(e), Some(shape)) => typed.push((index, shape, e)),
                (None, None) if final_pass && !cascaded && errors.len() == errors_before => {
                    let because = unresolved_param
                        .map(|p| {
                            format!(
                                " (it would also fix the shape of parameter `{}`)",
                                params.name(p)
                            )
                        })
                        .unwrap_or_default();
                    errors.push(Diagnostic::new(
                        name.span,
                        format!(
                            "the size of `{}` cannot be inferred: give it as `{}[N]`{because}",
                            name.name, name.name
                        ),
                    ))
                }
                _ => {}
            }
            vector_sizes[index] = shape;
        }
        let mut loss = None;
        if let Some((name, expr)) = s.losses.first()
            && let Ok(bound) =
                index::bound_ranges(self.scope, params, &vector_sizes, expr, &mut errors)
        {
            let mut vars = Vec::new();
            let mut infer = Infer::new(
                self.scope,
                params,
                &vector_sizes,
                &mut errors,
                &mut vars,
                final_pass,
                false,
            );
            infer.index_ranges = bound.as_ref();
            let typed = infer.expr(expr, None);
            if let Some(e) = typed.map(|e| index::scoped(vars, e)) {
                if e.shape == Shape::Scalar {
                    loss = Some(((*name).clone(), e));
                } else {
                    errors.push(Diagnostic::new(
                        expr.span,
                        format!("the loss must be a scalar, but this is {}: reduce it with `sum(...)` or `mean(...)`", e.shape.describe()),
                    ));
                }
            }
        }
        (typed, loss, errors)
    }
}

pub(super) fn renumber_vectors(e: &mut TExpr, position: &[usize]) {
    use crate::model::TExprKind::*;
    let fix = |s: &mut crate::model::Symbol| {
        if let crate::model::Symbol::Vector(i) = s {
            *i = position[*i];
        }
    };
    match &mut e.kind {
        Symbol(s) | Element(s, _) | Delta(s, _) => fix(s),
        Const(_) => {}
        Neg(a)
        | Pow(a, _)
        | Builtin(_, a)
        | MatVec(_, a)
        | VecMat(a, _)
        | Reduce(_, a)
        | VectorFn(_, a)
        | SumOver(_, a)
        | ExtremumOver(_, _, a)
        | IndexDef(_, a) => renumber_vectors(a, position),
        Binary(_, a, b) => {
            renumber_vectors(a, position);
            renumber_vectors(b, position);
        }
        Call(_, args) => args.iter_mut().for_each(|a| renumber_vectors(a, position)),
        Grad(a, v) => {
            renumber_vectors(a, position);
            fix(v);
        }
    }
}

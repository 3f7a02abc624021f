//! Shapes learnt from a later use: `o[t] = V @ h[t] + c` compared with a target in the loss
//! (`sum((o - y)^2)`, y `[5][2]`) has the target's shape (LANGUAGE.md, third round: "a range
//! may come from ... a later use"). Only where a definition is combined element-wise with an
//! input or target by name; the hint then flows into the definition as a declared size does,
//! and a definition that types to another shape on its own is reported where it is compared.
//! A label of N classes selecting from a vector (`-log_softmax(h)[y]`) gives it N elements.

use std::collections::BTreeMap;

use chainrule_grammar::{BinOp, Expr, ExprKind};

use super::{Entity, Scope};
use crate::model::Shape;

/// For each named vector (by source index) without a written size, the shape of an input or
/// target it is combined with element-wise (`+ - * /`) anywhere in `exprs`.
pub(super) fn hints<'e>(
    scope: &Scope<'_>,
    exprs: impl IntoIterator<Item = &'e Expr>,
) -> BTreeMap<usize, Shape> {
    let mut out = BTreeMap::new();
    for e in exprs {
        walk(scope, e, &mut out);
    }
    out
}

fn walk(scope: &Scope<'_>, e: &Expr, out: &mut BTreeMap<usize, Shape>) {
    if let ExprKind::Binary { op, lhs, rhs } = &e.kind
        && matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div)
    {
        for (a, b) in [(lhs, rhs), (rhs, lhs)] {
            if let (Some(Entity::Vector(v)), Some(Entity::Data(_, shape))) =
                (named(scope, a), named(scope, b))
                && shape.rank() >= 1
            {
                out.entry(v).or_insert(shape);
            }
        }
    }
    // `-log_softmax(h)[y]` with a label of N classes: `h` has N elements.
    if let ExprKind::Select { base, label } = &e.kind
        && let Some(Entity::Data(_, shape @ Shape::Vector(_))) = scope.resolve(&label.name)
        && let Some(Entity::Vector(v)) = selected(scope, base)
    {
        out.entry(v).or_insert(shape);
    }
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Name(_)
        | ExprKind::Indexed { .. }
        | ExprKind::DeltaRef { .. } => {}
        ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(scope, a, out)),
        ExprKind::Reduce { arg, .. } | ExprKind::Neg(arg) | ExprKind::Select { base: arg, .. } => {
            walk(scope, arg, out)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            walk(scope, lhs, out);
            walk(scope, rhs, out);
        }
    }
}

/// What a bare name stands for.
fn named(scope: &Scope<'_>, e: &Expr) -> Option<Entity> {
    match &e.kind {
        ExprKind::Name(ident) => scope.resolve(&ident.name),
        _ => None,
    }
}

/// The vector a label selects from: a bare name, or one under functions of one argument that
/// keep its length (`log_softmax(h)`, `log(p)`); not under a tensor function (`flatten`).
fn selected(scope: &Scope<'_>, e: &Expr) -> Option<Entity> {
    match &e.kind {
        ExprKind::Call { func, args }
            if args.len() == 1
                && !crate::builtin::TENSOR_FUNCTIONS.contains(&func.name.as_str()) =>
        {
            selected(scope, &args[0])
        }
        ExprKind::Neg(arg) => selected(scope, arg),
        _ => named(scope, e),
    }
}

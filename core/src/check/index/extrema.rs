//! `max(...)` and `min(...)` while inferring ranges: which names they bind (a `max` over no
//! values is an error of its own), and `max(x, 0)` written for the two-operand `maximum`.

use chainrule_grammar::{Diagnostic, Expr, ExprKind, Reduction};

use super::{Binder, binder};
use crate::check::{ParamTable, Scope};

/// The names every `max(...)` and `min(...)` of `e` binds, with the reduction's word.
pub(super) fn extremum_binders(e: &Expr, out: &mut Vec<(Binder, &'static str)>) {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Name(_)
        | ExprKind::Indexed { .. }
        | ExprKind::DeltaRef { .. } => {}
        ExprKind::Reduce { op, vars, arg } => {
            if matches!(op, Reduction::Max | Reduction::Min) {
                let word = op.word();
                out.extend(vars.iter().map(|v| (binder(&v.name), word)));
            }
            extremum_binders(arg, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| extremum_binders(a, out)),
        ExprKind::Neg(a) | ExprKind::Select { base: a, .. } => extremum_binders(a, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            extremum_binders(lhs, out);
            extremum_binders(rhs, out);
        }
    }
}

/// Reports `max(x, 0)` where `x` is a value: a reduction binds index names before its last
/// argument, and the two-operand maximum is the built-in `maximum`. True when it reported.
pub(super) fn extremum_of_values(
    e: &Expr,
    is_value: &dyn Fn(&str) -> bool,
    errors: &mut Vec<Diagnostic>,
) -> bool {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Name(_)
        | ExprKind::Indexed { .. }
        | ExprKind::DeltaRef { .. } => false,
        ExprKind::Reduce { op, vars, arg } => {
            let value = vars
                .iter()
                .find(|v| v.below.is_none() && is_value(&v.name.name));
            if let (Some(value), Reduction::Max | Reduction::Min) = (value, op) {
                let word = op.word();
                let last = match &arg.kind {
                    ExprKind::Name(ident) => ident.name.clone(),
                    ExprKind::Number(v) => format!("{v}"),
                    _ => "b".to_string(),
                };
                let (two, what) = match op {
                    Reduction::Min => ("minimum", "minimum"),
                    _ => ("maximum", "maximum"),
                };
                errors.push(Diagnostic::new(
                    e.span,
                    format!(
                        "`{word}(...)` with more than one argument reduces over the index names before the last, and `{}` is a value: the element-wise {what} of two operands is `{two}({}, {last})`",
                        value.name.name, value.name.name
                    ),
                ));
                return true;
            }
            extremum_of_values(arg, is_value, errors)
        }
        ExprKind::Call { args, .. } => {
            // Every argument is checked: each misuse is reported.
            let mut found = false;
            for a in args {
                found |= extremum_of_values(a, is_value, errors);
            }
            found
        }
        ExprKind::Neg(a) | ExprKind::Select { base: a, .. } => {
            extremum_of_values(a, is_value, errors)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            let left = extremum_of_values(lhs, is_value, errors);
            extremum_of_values(rhs, is_value, errors) || left
        }
    }
}

/// Whether `name` names a value of the network (or the built-in constant `pi`).
pub(super) fn is_value(scope: &Scope<'_>, params: &ParamTable, name: &str) -> bool {
    scope.resolve(name).is_some()
        || params.find(name).is_some()
        || crate::builtin::builtin_constant(name).is_some()
}

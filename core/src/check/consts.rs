//! `const NAME = NUMBER`: each constant's value, from numbers and earlier constants.

use chainrule_grammar::{self as ast, Diagnostic};

use super::infer;
use crate::model::NamedConst;

/// Each `const`'s value: a number, or arithmetic on numbers and earlier constants.
pub(super) fn named_consts<'a>(
    decls: &[(&'a ast::Ident, &'a ast::Expr)],
    define: &mut impl FnMut(&'a ast::Ident, &mut Vec<Diagnostic>) -> bool,
    errors: &mut Vec<Diagnostic>,
) -> Vec<NamedConst> {
    let mut consts: Vec<NamedConst> = Vec::new();
    for (name, value) in decls {
        if !define(name, errors) {
            continue;
        }
        let known = |n: &str| consts.iter().find(|c| c.name == n).map(|c| c.value);
        let value = match infer::constant_value_with(value, &known) {
            Some(v) => v,
            None => {
                errors.push(Diagnostic::new(
                    value.span,
                    format!(
                        "the value of `const {}` must be a number (or arithmetic on numbers and earlier constants)",
                        name.name
                    ),
                ));
                0.0
            }
        };
        consts.push(NamedConst {
            name: name.name.clone(),
            value,
            span: name.span,
        });
    }
    consts
}

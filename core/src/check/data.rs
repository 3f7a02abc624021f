//! Inputs and targets: their sizes and default samples, checked against their declarations.

use chainrule_grammar::{self as ast, Diagnostic, Value};

use super::params::flatten_value;
use crate::model::DataVar;

/// The inputs or targets declared by `decls` (`kind` is `input` or `target`, for messages).
pub(super) fn data_vars(
    decls: &[&ast::Decl],
    kind: &str,
    errors: &mut Vec<Diagnostic>,
) -> Vec<DataVar> {
    decls
        .iter()
        .map(|d| {
            let size = match d.dims.as_slice() {
                [dim] if dim.size > 0 => dim.size,
                [dim] => {
                    errors.push(Diagnostic::new(
                        dim.span,
                        format!("{kind} `{}` must have at least one element", d.name.name),
                    ));
                    1
                }
                _ => {
                    errors.push(Diagnostic::new(
                        d.name.span,
                        format!(
                            "{kind} `{}` needs exactly one size: `{kind} {}[N]`",
                            d.name.name, d.name.name
                        ),
                    ));
                    1
                }
            };
            let default = d.value.as_ref().and_then(|v| match v {
                // A list of lists is a default batch, one row per sample.
                Value::List(rows, _) if matches!(rows.first(), Some(Value::List(..))) => {
                    let flat = flatten_value(v, &[rows.len(), size], &d.name.name, errors)?;
                    Some(flat.chunks(size).map(<[f64]>::to_vec).collect())
                }
                _ => flatten_value(v, &[size], &d.name.name, errors).map(|one| vec![one]),
            });
            for sample in default.iter().flatten() {
                if let Some(why) = crate::targets::violation(d.kind, sample) {
                    let span = d.value.as_ref().map_or(d.name.span, Value::span);
                    errors.push(Diagnostic::new(
                        span,
                        format!("the default of `{}`: {why}", d.name.name),
                    ));
                    break;
                }
            }
            DataVar {
                name: d.name.name.clone(),
                size,
                default,
                kind: d.kind,
                span: d.name.span,
            }
        })
        .collect()
}

/// Default batches must agree on their number of samples (one sample serves any batch).
pub(super) fn default_batches_agree(
    inputs: &[DataVar],
    targets: &[DataVar],
    s: &super::Statements<'_>,
    errors: &mut Vec<Diagnostic>,
) {
    let mut batch: Option<(&str, usize)> = None;
    for (var, decl) in inputs
        .iter()
        .chain(targets)
        .zip(s.inputs.iter().chain(&s.targets))
    {
        let Some(rows) = var.default.as_ref().map(Vec::len).filter(|&n| n > 1) else {
            continue;
        };
        match batch {
            Some((first, n)) if n != rows => errors.push(Diagnostic::new(
                decl.value.as_ref().map_or(var.span, Value::span),
                format!(
                    "`{}` has {rows} default samples, but `{first}` has {n}",
                    var.name
                ),
            )),
            Some(_) => {}
            None => batch = Some((&var.name, rows)),
        }
    }
}

//! Inputs and targets: their sizes and default samples, checked against their declarations.

use chainrule_grammar::{self as ast, Diagnostic, TargetKind, Value};

use super::params::flatten_value;
use crate::model::{DataVar, MAX_AXES, Shape};

/// The inputs or targets declared by `decls` (`kind` is `input` or `target`, for messages).
pub(super) fn data_vars(
    decls: &[&ast::Decl],
    kind: &str,
    errors: &mut Vec<Diagnostic>,
) -> Vec<DataVar> {
    decls
        .iter()
        .map(|d| {
            let (size, shape) = match d.dims.as_slice() {
                [] if d.kind != TargetKind::Plain => {
                    let message = match d.kind {
                        TargetKind::Label => format!(
                            "label `{}` needs its number of classes: `target {} label[N]`",
                            d.name.name, d.name.name
                        ),
                        kind => format!(
                            "a `{}` target is a vector and needs a size: `target {}[N] {}`",
                            kind.keyword(),
                            d.name.name,
                            kind.keyword()
                        ),
                    };
                    errors.push(Diagnostic::new(d.name.span, message));
                    // Carry on as written (one number), so its uses raise nothing more; a
                    // label stays a vector, which is how indexing by it is typed.
                    match d.kind {
                        TargetKind::Label => (1, Shape::Vector(1)),
                        _ => (1, Shape::Scalar),
                    }
                }
                // No size: one number per sample.
                [] => (1, Shape::Scalar),
                dims if dims.iter().all(|dim| dim.size > 0)
                    && (dims.len() == 1 || d.kind == TargetKind::Plain)
                    && let Some(shape) =
                        Shape::of(&dims.iter().map(|dim| dim.size).collect::<Vec<_>>()) =>
                {
                    (shape.len(), shape)
                }
                dims if dims.len() > MAX_AXES => {
                    errors.push(Diagnostic::new(
                        dims[MAX_AXES].span,
                        format!(
                            "{kind} `{}` has {} sizes; a value has at most {MAX_AXES} axes",
                            d.name.name,
                            dims.len()
                        ),
                    ));
                    (1, Shape::Vector(1))
                }
                dims if d.kind != TargetKind::Plain && dims.len() > 1 => {
                    errors.push(Diagnostic::new(
                        dims[1].span,
                        format!(
                            "a `{}` target is a vector and takes one size: `target {}[N] {}`",
                            d.kind.keyword(),
                            d.name.name,
                            d.kind.keyword()
                        ),
                    ));
                    (1, Shape::Vector(1))
                }
                dims => {
                    let empty = dims.iter().find(|dim| dim.size == 0).unwrap_or(&dims[0]); // ok: not empty here
                    errors.push(Diagnostic::new(
                        empty.span,
                        format!("{kind} `{}` must have at least one element", d.name.name),
                    ));
                    (1, Shape::Vector(1))
                }
            };
            let default = d.value.as_ref().and_then(|v| match v {
                // A label's default is a class index (a batch: a list of them), one-hot inside.
                _ if d.kind == TargetKind::Label => label_default(v, size, &d.name.name, errors),
                // A scalar's default is a bare number, a batch of them a flat list.
                Value::List(rows, _) if shape == Shape::Scalar => {
                    flatten_value(v, &[rows.len()], &d.name.name, errors)
                        .map(|flat| flat.into_iter().map(|x| vec![x]).collect())
                }
                _ if shape == Shape::Scalar => {
                    flatten_value(v, &[], &d.name.name, errors).map(|one| vec![one])
                }
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
                shape,
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

/// A label's default: a class index in `0..classes`, or a list of them (a batch), each as
/// its one-hot vector.
fn label_default(
    value: &Value,
    classes: usize,
    name: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<Vec<f64>>> {
    let items = match value {
        Value::List(items, _) => items.iter().collect(),
        one => vec![one],
    };
    let mut rows = Vec::new();
    for item in items {
        let class = match item {
            Value::Number(v, _) if v.fract() == 0.0 && *v >= 0.0 && *v < classes as f64 => {
                *v as usize
            }
            other => {
                let found = match other {
                    Value::Number(v, _) => format!("{v}"),
                    Value::List(..) => "a list".to_string(),
                };
                errors.push(Diagnostic::new(
                    other.span(),
                    format!(
                        "the default of label `{name}` is a class index, an integer in 0..{classes}, but this is {found}"
                    ),
                ));
                return None;
            }
        };
        rows.push(
            (0..classes)
                .map(|k| f64::from(u8::from(k == class)))
                .collect(),
        );
    }
    Some(rows)
}

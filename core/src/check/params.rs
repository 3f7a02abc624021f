//! The parameter table of one network while shapes are inferred, and default values.

use std::collections::HashMap;
use std::rc::Rc;

use chainrule_grammar::{Diagnostic, Span, Value};

use crate::model::Shape;

/// Parameters as discovered: declared ones first, then undeclared ones in order of first use.
#[derive(Default)]
pub(crate) struct ParamTable {
    pub(super) entries: Vec<ParamEntry>,
    /// Each entry's index by name, so that a network with many parameters is not quadratic.
    pub(super) by_name: HashMap<String, usize>,
    /// Set when a pass learnt a shape, so another pass may resolve more.
    pub(super) progress: bool,
    /// Byte offsets where lines start, to name the line of an earlier use in messages
    /// (computed once per file and shared, not once per network).
    pub(super) line_starts: Rc<[usize]>,
}

pub(super) struct ParamEntry {
    pub(super) name: String,
    pub(super) shape: Option<Shape>,
    /// Where the shape was declared or first inferred.
    pub(super) shape_span: Span,
    pub(super) declared: bool,
    pub(super) span: Span,
    pub(super) default: Option<Value>,
    pub(super) reported: bool,
}

impl ParamTable {
    pub(super) fn new(line_starts: Rc<[usize]>) -> ParamTable {
        ParamTable {
            line_starts,
            ..ParamTable::default()
        }
    }

    pub(super) fn line(&self, span: Span) -> usize {
        self.line_starts.partition_point(|&s| s <= span.start)
    }

    pub(super) fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub(super) fn add(&mut self, name: &str, span: Span) -> usize {
        self.by_name
            .entry(name.to_string())
            .or_insert(self.entries.len());
        self.entries.push(ParamEntry {
            name: name.to_string(),
            shape: None,
            shape_span: span,
            declared: false,
            span,
            default: None,
            reported: false,
        });
        self.entries.len() - 1
    }

    pub(super) fn name(&self, index: usize) -> &str {
        &self.entries[index].name
    }

    pub(super) fn shape(&self, index: usize) -> Option<Shape> {
        self.entries[index].shape
    }

    pub(super) fn learn(&mut self, index: usize, shape: Shape, span: Span) {
        let entry = &mut self.entries[index];
        entry.shape = Some(shape);
        entry.shape_span = span;
        self.progress = true;
    }

    /// Reports a use that implies another shape than the one already known.
    pub(super) fn conflict(
        &self,
        errors: &mut Vec<Diagnostic>,
        index: usize,
        implied: Shape,
        span: Span,
    ) {
        let entry = &self.entries[index];
        let known = entry.shape.map(|s| s.describe()).unwrap_or_default();
        let how = if entry.declared {
            "declared"
        } else {
            "first used"
        };
        errors.push(Diagnostic::new(
            span,
            format!(
                "parameter `{}` is used here as {}, but it was {how} as {known} on line {}",
                entry.name,
                implied.describe(),
                self.line(entry.shape_span)
            ),
        ));
    }

    /// True the first time a parameter is reported as unresolved.
    pub(super) fn report_unresolved(&mut self, index: usize) -> bool {
        !std::mem::replace(&mut self.entries[index].reported, true)
    }
}

/// Flattens a default value to row-major numbers, checking it against `dims`.
pub(super) fn flatten_value(
    value: &Value,
    dims: &[usize],
    what: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<f64>> {
    fn walk(value: &Value, dims: &[usize], out: &mut Vec<f64>) -> Result<(), (Span, String)> {
        match (value, dims) {
            (Value::Number(v, _), []) => {
                out.push(*v);
                Ok(())
            }
            (Value::Number(_, span), [n, ..]) => Err((
                *span,
                format!("expected a list of {n} here, found a number"),
            )),
            (Value::List(_, span), []) => {
                Err((*span, "expected a number here, found a list".to_string()))
            }
            (Value::List(items, span), [n, rest @ ..]) => {
                if items.len() != *n {
                    return Err((
                        *span,
                        format!("expected {n} values here, found {}", items.len()),
                    ));
                }
                items.iter().try_for_each(|item| walk(item, rest, out))
            }
        }
    }
    let mut out = Vec::new();
    match walk(value, dims, &mut out) {
        Ok(()) => Some(out),
        Err((span, message)) => {
            errors.push(Diagnostic::new(
                span,
                format!("the default value of `{what}` does not fit its shape: {message}"),
            ));
            None
        }
    }
}

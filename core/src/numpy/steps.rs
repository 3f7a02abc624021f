//! A recurrence in the NumPy module: its statements stand in one loop over its steps (`_t`),
//! each assigning its row, after its arrays are set to zero.

use super::{Emitter, Statement, Steps};
use crate::model::Symbol;

impl Emitter<'_> {
    /// The number of steps of a recurrence vector `v` belongs to (one that reads its own
    /// earlier steps, or a mutual recurrence), whose statements repeat over its steps.
    pub(super) fn steps(&self, v: usize) -> Option<usize> {
        let vector = &self.network.vectors[v];
        let recurrent =
            self.network.recurrence_of(v).is_some() || vector.expr.reads(Symbol::Vector(v));
        recurrent.then(|| vector.shape.dims()[0])
    }

    /// The vectors of the recurrence whose statements start at `v`: forwards its first, and
    /// backwards (`deltas`) its last.
    pub(super) fn recurrence_starting(
        &self,
        v: usize,
        backwards: bool,
    ) -> Option<std::ops::Range<usize>> {
        self.steps(v)?;
        let block = self.network.recurrence_of(v).unwrap_or(v..v + 1);
        let first = if backwards {
            block.end - 1
        } else {
            block.start
        };
        (v == first).then_some(block)
    }

    /// A recurrence's arrays (values, or deltas) set to zero before its sweeps: a step
    /// before the first reads zero, and a statement may read a later one's array.
    pub(super) fn zeros(&self, block: std::ops::Range<usize>, deltas: bool) -> Vec<Statement> {
        block
            .map(|u| {
                let vector = &self.network.vectors[u];
                let dims: Vec<String> = std::iter::once("batch_size".to_string())
                    .chain(vector.shape.dims().iter().map(usize::to_string))
                    .collect();
                let (name, label) = match deltas {
                    true => (
                        self.names.delta(u).to_string(),
                        format!("delta_{}", vector.name),
                    ),
                    false => (
                        self.names.value(Symbol::Vector(u)).to_string(),
                        vector.name.clone(),
                    ),
                };
                Statement {
                    comment: format!("{label} starts at zero"),
                    name,
                    code: format!("np.zeros(({}))", dims.join(", ")),
                    steps: None,
                }
            })
            .collect()
    }
}

/// A planned statement of a recurrence: it assigns row `_t` of its array.
pub(super) fn row(statement: Statement, steps: Option<Steps>) -> Statement {
    match steps {
        Some(_) => Statement {
            name: format!("{}[:, _t:_t + 1]", statement.name),
            steps,
            ..statement
        },
        None => statement,
    }
}

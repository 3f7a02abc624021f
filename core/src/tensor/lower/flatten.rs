//! `flatten` at the tensor level: a named one (`flat = flatten(p)`) is one reshape statement
//! over its argument's axes, one in a product's operand (`W @ flatten(p)`, `W @
//! tanh(flatten(p))`) a contraction over them; no affine map reads `p` at one flat index, so
//! nothing else is covered.

use super::{Lowering, Unsupported};
use crate::ir::NodeId;
use crate::model::{Symbol, TExpr, TExprKind};
use crate::tensor::{Affine, Bound, IndexVar, Statement, StepKind, Tensor};

impl Lowering<'_> {
    /// `flat = flatten(p)`: one statement over the axes of `p` that writes each element
    /// at its row-major position (`flat[9c + 3u + v] = p[c][u][v]`), since no affine map
    /// reads `p` at one flat index. Only a whole definition is a reshape.
    pub(super) fn reshape(
        &mut self,
        v: usize,
        vars: &[crate::model::IndexVar],
        e: &TExpr,
    ) -> Result<Statement, Unsupported> {
        let dims: Vec<usize> = vars
            .iter()
            .take_while(|x| x.free)
            .map(|x| x.range)
            .collect();
        let own: Vec<IndexVar> = dims.iter().map(|_| self.program.fresh()).collect();
        let at: Vec<Affine> = own.iter().map(|&k| Affine::var(k)).collect();
        let position = Affine::row_major(own.iter().copied().zip(dims.iter().copied()));
        if self.network.vectors[v].shape.dims() != [dims.iter().product::<usize>()] {
            return Err(Unsupported("a reshape into a value of several axes"));
        }
        self.enter(Some(vars), &at);
        let formula = self.expr(e, &[]);
        self.enter(None, &[]);
        Ok(Statement {
            defines: Tensor::Value(Symbol::Vector(v)),
            shape: dims,
            indices: own,
            formula: formula?,
            kind: StepKind::Map,
            verified: false,
            reshape: Some(vec![position]),
        })
    }

    /// The summed variables of a product with vector `v` of `size` elements and the matrix's
    /// index along them: one variable `j`, read `v[j]`; for an operand that flattens a value
    /// of several axes (`flatten(x)`, or an element-wise expression of one such as
    /// `tanh(flatten(x)) + c`), one variable per axis of `x`, the matrix and every flat
    /// vector read at their row-major position (`W[k][9c + 3u + v] tanh(x[c][u][v])`), since
    /// no affine map reads `x` at one flat index. Lower `v` with [`Lowering::operand`].
    pub(super) fn contracted(&mut self, v: &TExpr, size: usize) -> (Vec<Bound>, Split) {
        let axes = flattened_axes(v).unwrap_or_else(|| vec![size]);
        let bounds = self.bounds(&axes);
        let flat = Affine::row_major(bounds.iter().map(|b| (b.var, b.size)));
        let split = Split {
            flat,
            axes: bounds.iter().map(|b| Affine::var(b.var)).collect(),
            sizes: axes,
        };
        (bounds, split)
    }

    /// The formula of a product's operand `v` at the flat position of `split`: a `flatten`
    /// inside it is read at the split's indices along its axes.
    pub(super) fn operand(&mut self, v: &TExpr, split: Split) -> Result<NodeId, Unsupported> {
        let at = [split.flat.clone()];
        self.splits.push(split);
        let formula = self.expr(v, &at);
        self.splits.pop();
        formula
    }

    /// The indices along the axes of a `flatten` read at flat index `at`, when a product's
    /// operand split that index (see [`Lowering::contracted`]) over the same axes.
    pub(super) fn unflattened(&self, at: &[Affine], sizes: &[usize]) -> Option<Vec<Affine>> {
        let [flat] = at else {
            return None;
        };
        self.splits
            .iter()
            .rev()
            .find(|split| split.flat == *flat && split.sizes == sizes)
            .map(|split| split.axes.clone())
    }
}

/// A flat index over several axes: `9c + 3u + v`, and `c`, `u`, `v` themselves.
#[derive(Clone, Debug)]
pub(super) struct Split {
    /// The row-major position.
    pub flat: Affine,
    /// One index per axis.
    pub axes: Vec<Affine>,
    /// The axes' sizes.
    pub sizes: Vec<usize>,
}

/// The axes of the value a product's operand flattens: those of a `flatten(x)` reached
/// through element-wise operations only, when there is one.
fn flattened_axes(e: &TExpr) -> Option<Vec<usize>> {
    match &e.kind {
        TExprKind::IndexDef(vars, _) if vars.iter().filter(|v| v.free).count() > 1 => {
            Some(vars.iter().filter(|v| v.free).map(|v| v.range).collect())
        }
        TExprKind::Neg(a) | TExprKind::Pow(a, _) | TExprKind::Builtin(_, a) => flattened_axes(a),
        TExprKind::Binary(_, a, b) => flattened_axes(a).or_else(|| flattened_axes(b)),
        TExprKind::Call(_, args) => args.iter().find_map(flattened_axes),
        _ => None,
    }
}

//! `flatten` at the tensor level: a named one (`flat = flatten(p)`) is one reshape statement
//! over its argument's axes, one as a product's operand (`W @ flatten(p)`) a contraction over
//! them; no affine map reads `p` at one flat index, so nothing else is covered.

use super::{Lowering, Unsupported};
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
        let mut position = Affine::constant(0);
        let mut stride = 1i64;
        for (&k, &n) in own.iter().zip(&dims).rev() {
            position = position.plus_scaled(&Affine::var(k), stride);
            stride *= n as i64;
        }
        if self.network.vectors[v].shape.dims() != [stride as usize] {
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

    /// The summed variables of a product with vector `v` of `size` elements, the matrix's
    /// index along them, and the indices to read `v` at: one variable `j`, read `v[j]`; for a
    /// `flatten(x)` one variable per axis of `x`, the matrix read at their row-major position
    /// (`W[k][9c + 3u + v] x[c][u][v]`), since no affine map reads `x` at one flat index.
    pub(super) fn contracted(
        &mut self,
        v: &TExpr,
        size: usize,
    ) -> (Vec<Bound>, Affine, Vec<Affine>) {
        let axes: Vec<usize> = match &v.kind {
            TExprKind::IndexDef(vars, _) if vars.iter().filter(|v| v.free).count() > 1 => {
                vars.iter().filter(|v| v.free).map(|v| v.range).collect()
            }
            _ => vec![size],
        };
        let bounds: Vec<Bound> = axes
            .iter()
            .map(|&size| Bound {
                var: self.program.fresh(),
                size,
            })
            .collect();
        let mut flat = Affine::constant(0);
        let mut stride = 1i64;
        for bound in bounds.iter().rev() {
            flat = flat.plus_scaled(&Affine::var(bound.var), stride);
            stride *= bound.size as i64;
        }
        let at = bounds.iter().map(|b| Affine::var(b.var)).collect();
        (bounds, flat, at)
    }
}

//! A named `flatten` at the tensor level: one reshape statement over its argument's axes.

use super::{Lowering, Unsupported};
use crate::model::{Symbol, TExpr};
use crate::tensor::{Affine, IndexVar, Statement, StepKind, Tensor};

impl Lowering<'_> {
    /// `flat = flatten(p)`: one statement over the axes of `p` that writes each element
    /// at its row-major position (`flat[9c + 3u + v] = p[c][u][v]`), since no affine map
    /// reads `p` at one flat index. Only a whole definition is a reshape: a `flatten` inside
    /// an expression stays unsupported.
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
}

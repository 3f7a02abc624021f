//! Sums over a parameter in matrix notation: `\sum_j w_{kj} v_j` as `W v`, `\sum_i w_{ik}
//! v_i` as `W^{\top} v`, and a dense layer over a flattened tensor as `W \operatorname{vec}(p)`.

use super::{Kind, MatrixForm, Piece, kind_along};
use crate::ir::{Node, NodeId};
use crate::print;
use crate::tensor::{Affine, Leaf, tensor_dims};

impl MatrixForm<'_> {
    /// `\sum_{c,u,v} w_{k,9c + 3u + v} p_{cuv}` as `W \operatorname{vec}(p)` (and the other
    /// convention's as `W^{\top} \operatorname{vec}(p)`): a dense layer over a flattened
    /// tensor, `vec` stacking its elements in row-major order as `flatten` does; the operand
    /// may be any element-wise expression along the summed axes (`\operatorname{vec}(\sigma(z))`).
    pub(super) fn flattened(&self, bounds: &[crate::tensor::Bound], body: NodeId) -> Option<Piece> {
        let Node::Mul(a, b) = self.program.graph.node(body).clone() else {
            return None;
        };
        let flat = Affine::row_major(bounds.iter().map(|b| (b.var, b.size)));
        // The matrix: a parameter of two axes read with the flat position as one index.
        let matrix = |n: NodeId| match self.program.graph.node(n) {
            Node::Var(v) => match self.program.leaf_of(*v) {
                Leaf::Read(tensor, at)
                    if tensor_dims(self.network, *tensor).len() == 2
                        && at.len() == 2
                        && at.contains(&flat) =>
                {
                    Some((*tensor, at.clone()))
                }
                _ => None,
            },
            _ => None,
        };
        let ((w, at), operand) = match (matrix(a), matrix(b)) {
            (Some(w), _) => (w, b),
            (None, Some(w)) => (w, a),
            (None, None) => return None,
        };
        let vars: Vec<_> = bounds.iter().map(|b| b.var).collect();
        let operand = self.piece(operand)?;
        if Some(operand.kind) != kind_along(&vars) {
            return None;
        }
        let single = |a: &Affine| match (&a.terms[..], a.offset) {
            ([(v, 1)], 0) if !vars.contains(v) => Some(*v),
            _ => None,
        };
        let vec = format!("\\operatorname{{vec}}\\left({}\\right)", operand.text);
        let w = self.whole(w);
        let (text, kind) = match &at[..] {
            [row, column] if *column == flat => (format!("{w} {vec}"), single(row)?),
            [row, column] if *row == flat => (
                format!("{}^{{\\top}} {vec}", print::power_base(&w)),
                single(column)?,
            ),
            _ => return None,
        };
        Some(Piece {
            text,
            kind: Kind::Vector(kind),
            sum: false,
        })
    }

    /// `\sum_j w_{kj} v_j` as `W v`, `\sum_i w_{ik} v_i` as `W^{\top} v`.
    pub(super) fn contraction(
        &self,
        bounds: &[crate::tensor::Bound],
        body: NodeId,
    ) -> Option<Piece> {
        if bounds.len() > 1 {
            return self.flattened(bounds, body);
        }
        let [bound] = bounds else {
            return None;
        };
        let Node::Mul(a, b) = self.program.graph.node(body).clone() else {
            return None;
        };
        let (a, b) = (self.piece(a)?, self.piece(b)?);
        let j = bound.var;
        let (matrix, vector) = match (a.kind, b.kind) {
            (Kind::Matrix(..), Kind::Vector(v)) if v == j => (a, b),
            (Kind::Vector(v), Kind::Matrix(..)) if v == j => (b, a),
            _ => return None,
        };
        let (text, kind) = match matrix.kind {
            Kind::Matrix(row, col) if col == j && row != j => (
                format!("{} {}", matrix.text, vector.factor()),
                Kind::Vector(row),
            ),
            Kind::Matrix(row, col) if row == j && col != j => (
                format!(
                    "{}^{{\\top}} {}",
                    print::power_base(&matrix.text),
                    vector.factor()
                ),
                Kind::Vector(col),
            ),
            _ => return None,
        };
        Some(Piece {
            text,
            kind,
            sum: false,
        })
    }
}

//! The found formulas as LaTeX: element names with symbolic indices, sums, deltas and the
//! `\\tilde` arguments of element-wise functions.

use crate::ir::{NodeId, Var};
use crate::model::{Shape, Symbol};
use crate::print::{Printer, Style};

use super::{Formulas, Index, Leaf, SlotKind, names};

impl Formulas<'_> {
    /// A formula of this set as LaTeX (`top`: the right-hand side of a line).
    pub(in crate::latex) fn print(&self, node: NodeId, top: bool) -> String {
        let leaf = |v: Var| match &self.leaves[v.index()] {
            Leaf::Element { slot_of, indices } => self.element(*slot_of, indices),
            Leaf::SumOver(letter, _, body) => {
                let text = format!("\\sum_{{{letter}}} {}", self.print(*body, false));
                if top {
                    text
                } else {
                    format!("\\left({text}\\right)")
                }
            }
        };
        let printer = Printer {
            graph: &self.graph,
            leaf: &leaf,
            style: Style::Latex,
        };
        if top {
            printer.expr(node)
        } else {
            printer.factor(node)
        }
    }

    fn element(&self, kind: SlotKind, indices: &[Index]) -> String {
        let network = self.network;
        let text: Vec<String> = indices
            .iter()
            .map(|i| match i {
                Index::Const(c) => c.to_string(),
                Index::Var(v) => v.to_string(),
            })
            .collect();
        match kind {
            SlotKind::Value(Symbol::Loss) => names::symbol(&network.loss.name),
            SlotKind::Value(symbol) if names::is_label(network, symbol) && text.len() == 1 => {
                names::label_element(network.name_of(symbol), &text[0])
            }
            SlotKind::Value(symbol) => match network.shape_of(symbol) {
                Shape::Scalar => names::symbol(network.name_of(symbol)),
                shape => names::element(
                    network.name_of(symbol),
                    matches!(shape, Shape::Matrix(..)),
                    &text,
                ),
            },
            SlotKind::Delta(v) => match network.vectors[v].shape {
                Shape::Scalar => names::delta(&names::symbol(&network.vectors[v].name)),
                _ => names::delta(&names::element(&network.vectors[v].name, false, &text)),
            },
            SlotKind::Inner(v) => inner_name(&network.vectors[v].name, &text),
        }
    }
}

/// The argument of a vector's element-wise function: `\tilde{h^{(1)}_{k}}`.
pub(in crate::latex) fn inner_name(vector: &str, indices: &[String]) -> String {
    format!("\\tilde{{{}}}", names::element(vector, false, indices))
}

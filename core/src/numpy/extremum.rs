//! `max` and `min` reductions and their first-maximum brackets as NumPy: `a.max(axis=p)`, and
//! `[at = argmax_j body]` as a 0/1 mask comparing `at` with `np.argmax`, which returns the first
//! maximal position as the language's derivative does.

use super::code::{ATOM, SUM, Tensor as Code};
use super::formula::Translator;
use crate::builtin::Pairwise;
use crate::ir::NodeId;
use crate::tensor::{Affine, Bound};

/// `max` or `min`, as NumPy's methods and `arg` functions name them.
fn word(f: Pairwise) -> &'static str {
    match f {
        Pairwise::Minimum => "min",
        _ => "max",
    }
}

impl Translator<'_> {
    /// `body` over the bound variable, the variable's axis position in it (`None` where the
    /// body does not depend on it).
    fn over(&mut self, bound: Bound, body: NodeId) -> Option<(Code, Option<usize>)> {
        let letter = self.bind(bound.var, bound.size);
        let body = self.code(body);
        self.unbind(1);
        let body = body?;
        let position = body.axes.iter().position(|a| *a == letter);
        Some((body, position))
    }

    /// `max_j body` (or `min`) over one bound variable.
    pub(super) fn extremum(&mut self, f: Pairwise, bound: Bound, body: NodeId) -> Option<Code> {
        let (body, position) = self.over(bound, body)?;
        let Some(position) = position else {
            // The same value for every j: it is the maximum.
            return Some(body);
        };
        let mut axes = body.axes.clone();
        axes.remove(position);
        Some(Code {
            code: format!("{}.{}(axis={position})", body.at(ATOM), word(f)),
            prec: ATOM,
            axes,
        })
    }

    /// `[at = the first j where body is maximal (minimal)]` as a 0/1 array.
    pub(super) fn first_extremum(
        &mut self,
        f: Pairwise,
        at: &Affine,
        bound: Bound,
        body: NodeId,
    ) -> Option<Code> {
        let (body, position) = self.over(bound, body)?;
        let first = match position {
            Some(position) => {
                let mut axes = body.axes.clone();
                axes.remove(position);
                Code {
                    code: format!("np.arg{}({}, axis={position})", word(f), body.code),
                    prec: ATOM,
                    axes,
                }
            }
            // Every j ties: the first is 0.
            None => super::formula::constant(0.0),
        };
        let letters = self.letters_of(&[at])?;
        let at = self.affine_code(at, &letters);
        let axes = self.canonical([first.axes.clone(), at.axes.clone()].concat());
        Some(Code {
            code: format!(
                "np.where({} == {}, 1.0, 0.0)",
                self.align(&at, &axes, SUM + 1),
                self.align(&first, &axes, SUM + 1)
            ),
            prec: ATOM,
            axes,
        })
    }
}

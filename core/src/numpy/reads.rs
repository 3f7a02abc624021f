//! Reads and brackets as NumPy index arithmetic: a read at plain indices is a slice
//! (`x[:, 1:3]`, `a[:, ::2]`), one at a combination of variables is fancy indexing with an
//! `np.arange` on each variable's axis (`x[:, np.arange(60)[:, None] + np.arange(5)]`), and an
//! Iverson bracket is a 0/1 mask over its variables' axes.

use super::code::{ATOM, PRODUCT, SUM, Tensor as Code};
use super::formula::{BATCH, Translator, constant};
use crate::tensor::{Affine, IndexVar, Tensor};

impl Translator<'_> {
    /// `np.arange(n)` on the axis of `var` among `vars` (in order): `np.arange(60)[:, None]`.
    fn arange(&self, var: IndexVar, vars: &[char]) -> String {
        let letter = self.letter(var).unwrap_or('z');
        let position = vars.iter().position(|c| *c == letter).unwrap_or(0);
        let trailing = vars.len() - position - 1;
        let base = match self.step {
            // The step of the loop around a recurrence's statement.
            Some((step, _)) if step == var => "np.arange(_t, _t + 1)".to_string(),
            _ => format!("np.arange({})", self.size(letter)),
        };
        if trailing == 0 {
            base
        } else {
            format!("{base}[:{}]", ", None".repeat(trailing))
        }
    }

    /// An affine index as an integer array over the axes `vars`.
    pub(super) fn affine_code(&self, a: &Affine, vars: &[char]) -> Code {
        let mut code = String::new();
        for (n, &(v, c)) in self.ordered(a).iter().enumerate() {
            let arange = self.arange(v, vars);
            let term = match c.abs() {
                1 => arange,
                k => format!("{k} * {arange}"),
            };
            code.push_str(&match (n, c < 0) {
                (0, false) => term,
                (0, true) => format!("-{term}"),
                (_, false) => format!(" + {term}"),
                (_, true) => format!(" - {term}"),
            });
        }
        if code.is_empty() {
            code = a.offset.to_string();
        } else if a.offset != 0 {
            let sign = if a.offset < 0 { '-' } else { '+' };
            code.push_str(&format!(" {sign} {}", a.offset.abs()));
        }
        let prec =
            if a.terms.len() + usize::from(a.offset != 0) > 1 || a.terms.iter().any(|t| t.1 < 0) {
                SUM
            } else if a.terms.first().is_some_and(|t| t.1 != 1) {
                PRODUCT
            } else {
                ATOM
            };
        Code {
            code,
            prec,
            axes: vars.to_vec(),
        }
    }

    /// An affine index's terms as printed: positive ones first, outer variables first
    /// (`k - 2*i`, not `-2*i + k`).
    fn ordered(&self, a: &Affine) -> Vec<(IndexVar, i64)> {
        let mut terms = a.terms.clone();
        terms.sort_by_key(|&(v, c)| {
            let position = self.scope.iter().position(|(u, _, _)| *u == v);
            (c < 0, position)
        });
        terms
    }

    /// The variables of some affine indices, as letters in canonical order.
    pub(super) fn letters_of(&self, indices: &[&Affine]) -> Option<Vec<char>> {
        let mut letters = Vec::new();
        for a in indices {
            for (v, _) in &a.terms {
                letters.push(self.letter(*v)?);
            }
        }
        Some(self.canonical(letters))
    }

    /// `[lo <= a < hi]` as a 0/1 array over the axes of its variables.
    pub(super) fn guard(&self, a: &Affine, lo: i64, hi: i64) -> Code {
        // `[lo <= o - k < hi]` is `[o - hi < k <= o - lo]`: a range of the variable itself.
        if let [(v, c)] = a.terms.as_slice()
            && c.abs() == 1
            && (a.offset != 0 || *c != 1)
        {
            let (lo, hi) = if *c == 1 {
                (lo - a.offset, hi - a.offset)
            } else {
                (a.offset - hi + 1, a.offset - lo + 1)
            };
            return self.guard(&Affine::var(*v), lo, hi);
        }
        let Some(vars) = self.letters_of(&[a]) else {
            return constant(f64::NAN);
        };
        let sizes = |v: IndexVar| self.extent(v);
        let (min, max) = a.bounds(&sizes);
        if max < lo || min >= hi {
            return constant(0.0);
        }
        let e = self.affine_code(a, &vars);
        let mut tests = Vec::new();
        if lo.max(min) + 1 == hi.min(max + 1) {
            tests.push(format!("{} == {}", e.at(SUM), lo.max(min)));
        } else {
            if min < lo {
                tests.push(format!("({} >= {lo})", e.at(SUM)));
            }
            if max >= hi {
                tests.push(format!("({} < {hi})", e.at(SUM)));
            }
        }
        if tests.is_empty() {
            return constant(1.0);
        }
        Code {
            code: format!("np.where({}, 1.0, 0.0)", tests.join(" & ")),
            prec: ATOM,
            axes: vars,
        }
    }

    /// A read of a tensor at affine indices: slices where every index is a distinct
    /// variable with a positive step or a constant, fancy indexing otherwise.
    pub(super) fn read(&mut self, tensor: Tensor, indices: &[Affine]) -> Option<Code> {
        if let Some(&(_, var, formula)) = self.inline.iter().find(|(t, ..)| *t == tensor)
            && let [a] = indices
            && let [(x, 1)] = a.terms.as_slice()
            && a.offset == 0
        {
            let letter = self.letter(*x)?;
            self.bind_as(var, letter, self.size(letter));
            let out = self.code(formula);
            self.unbind(1);
            return out;
        }
        let operand = (self.operand)(tensor)?;
        if indices.len() != operand.dims.len() {
            return None;
        }
        let sizes = |v: IndexVar| self.extent(v);
        // An index that leaves the tensor for some values (the flipped kernel's
        // `delta_c[k - i]`): a verified statement reads it only under a bracket that is 0 there
        // (verification counts an unbracketed read outside its tensor as a mismatch), so it is
        // clipped into the tensor and the bracket zeroes what it reads.
        let clipped = indices.iter().zip(&operand.dims).any(|(a, &dim)| {
            let (lo, hi) = a.bounds(&sizes);
            lo < 0 || hi >= dim as i64
        });
        let mut subs: Vec<String> = Vec::new();
        let mut axes = Vec::new();
        if operand.per_sample {
            subs.push(":".into());
            axes.push(BATCH);
        }
        let mut seen = Vec::new();
        // The step is a slice of length 1 when it stands alone (`x[:, _t:_t + 1]`).
        let stepped = |a: &Affine| {
            self.step
                .is_some_and(|(t, _)| a.coefficient(t) != 0 && a.terms.len() > 1)
        };
        let sliced = !clipped
            && !indices.iter().any(stepped)
            && indices.iter().all(|a| match a.terms.as_slice() {
                [] => true,
                [(v, c)] if *c > 0 && !seen.contains(v) => {
                    seen.push(*v);
                    true
                }
                _ => false,
            });
        if sliced {
            for (a, &dim) in indices.iter().zip(&operand.dims) {
                match a.terms.as_slice() {
                    [(v, 1)] if self.step.is_some_and(|(t, _)| t == *v) => {
                        let at = match a.offset {
                            0 => "_t".to_string(),
                            o if o < 0 => format!("_t - {}", -o),
                            o => format!("_t + {o}"),
                        };
                        subs.push(format!("{at}:{at} + 1"));
                        axes.push(self.letter(*v)?);
                    }
                    [(v, c)] => {
                        let letter = self.letter(*v)?;
                        let r = self.size(letter) as i64;
                        let (o, c) = (a.offset, *c);
                        let stop = o + c * (r - 1) + 1;
                        let start = if o == 0 { String::new() } else { o.to_string() };
                        let stop_text = if stop == dim as i64 {
                            String::new()
                        } else {
                            stop.to_string()
                        };
                        subs.push(match c {
                            1 => format!("{start}:{stop_text}"),
                            c => format!("{start}:{stop_text}:{c}"),
                        });
                        axes.push(letter);
                    }
                    _ => subs.push(a.offset.to_string()),
                }
            }
        } else {
            let letters = self.letters_of(&indices.iter().collect::<Vec<_>>())?;
            for (a, &dim) in indices.iter().zip(&operand.dims) {
                let code = self.affine_code(a, &letters).code;
                let (lo, hi) = a.bounds(&sizes);
                subs.push(if lo < 0 || hi >= dim as i64 {
                    format!("np.clip({code}, 0, {})", dim - 1)
                } else {
                    code
                });
            }
            axes.extend(letters);
        }
        let code = if subs.iter().all(|s| s == ":") {
            operand.code
        } else {
            // Trailing whole axes need no subscript.
            while subs.last().is_some_and(|s| s == ":") && subs.len() > 1 {
                subs.pop();
            }
            format!("{}[{}]", operand.code, subs.join(", "))
        };
        Some(Code {
            code,
            prec: ATOM,
            axes,
        })
    }
}

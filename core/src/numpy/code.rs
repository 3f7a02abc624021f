//! Index formulas as vectorised NumPy expressions. Every value is an array whose axes are
//! named: `b` for the sample (inputs, vectors, deltas and the loss carry it), and a formula's
//! letters. Element-wise operations broadcast by aligning axes; a sum over a letter, or over
//! the batch, contracts it: as `A @ B` where the operands allow it (`x @ W1.T`,
//! `d_z1.T @ x`), as `np.einsum` otherwise.

use super::index::{Formula, Ix, LeafKind, Op, mentions};
use crate::builtin::{Builtin, Pairwise};

/// Python precedence of a printed expression; a child below its parent's needs parentheses.
pub(super) const SUM: u8 = 1;
pub(super) const PRODUCT: u8 = 2;
pub(super) const UNARY: u8 = 3;
pub(super) const POWER: u8 = 4;
pub(super) const ATOM: u8 = 5;

/// A NumPy expression and the axes of the array it computes, in order.
#[derive(Clone, Debug)]
pub struct Tensor {
    /// The Python code.
    pub code: String,
    /// Its precedence.
    pub prec: u8,
    /// Its axes: `b` for the sample, else a formula letter.
    pub axes: Vec<char>,
}

impl Tensor {
    /// The code, parenthesised where precedence `prec` is needed.
    pub fn at(&self, prec: u8) -> String {
        if self.prec < prec {
            format!("({})", self.code)
        } else {
            self.code.clone()
        }
    }
}

/// How a leaf is named in the generated code.
pub struct LeafName {
    /// The Python variable.
    pub name: String,
    /// Whether it has a sample axis (first).
    pub per_sample: bool,
    /// Its own dimensions, outermost first.
    pub dims: Vec<usize>,
}

/// Translates formulas for one network.
pub struct Translator<'a> {
    /// Names leaves.
    pub leaf: &'a dyn Fn(LeafKind) -> LeafName,
    /// The range of each letter in scope.
    pub ranges: Vec<(char, usize)>,
}

/// Axes in canonical order: the sample first, then letters alphabetically.
fn canonical(mut axes: Vec<char>) -> Vec<char> {
    axes.sort_by_key(|&c| (c != 'b', c));
    axes.dedup();
    axes
}

/// A Python float literal.
pub fn number(v: f64) -> String {
    let text = format!("{v:?}");
    if text.contains('e') && !text.contains('.') {
        text.replace('e', ".0e")
    } else {
        text
    }
}

/// `t` broadcast to the axes `want` (a superset of its own, in canonical order), printed
/// where precedence `prec` is needed.
fn align(t: &Tensor, want: &[char], prec: u8) -> String {
    if t.axes.is_empty() || t.axes == want {
        return t.at(prec);
    }
    let ordered = canonical(t.axes.clone());
    let base = if ordered == t.axes {
        t.at(ATOM)
    } else {
        // Two axes in the other order.
        format!("{}.T", t.at(ATOM))
    };
    // Leading missing axes broadcast by themselves; inner ones need `None`.
    let first = want.iter().position(|a| ordered.contains(a)).unwrap_or(0);
    let subs: Vec<&str> = want[first..]
        .iter()
        .map(|a| if ordered.contains(a) { ":" } else { "None" })
        .collect();
    if subs.iter().all(|s| *s == ":") {
        base
    } else {
        format!("{base}[{}]", subs.join(", "))
    }
}

pub(super) fn function(f: Builtin, arg: &Tensor) -> String {
    let a = &arg.code;
    match f {
        Builtin::Sigmoid => format!("_sigmoid({a})"),
        Builtin::Tanh => format!("np.tanh({a})"),
        Builtin::Relu => format!("np.maximum({a}, 0.0)"),
        Builtin::Linear => a.clone(),
        Builtin::Sin => format!("np.sin({a})"),
        Builtin::Cos => format!("np.cos({a})"),
        Builtin::Exp => format!("np.exp({a})"),
        Builtin::Log => format!("np.log({a})"),
        Builtin::Softplus => format!("np.logaddexp(0.0, {a})"),
        Builtin::Sqrt => format!("np.sqrt({a})"),
        Builtin::Abs => format!("np.abs({a})"),
        Builtin::Erf => format!("_erf({a})"),
        Builtin::Step => format!("_step({a})"),
        Builtin::Sign => format!("np.sign({a})"),
        Builtin::LogSigmoid => format!("(-np.logaddexp(0.0, -{}))", arg.at(UNARY + 1)),
    }
}

/// A two-argument built-in of aligned operands, element-wise; a tie of `maximum` is either
/// side's value, which is the same number.
pub(super) fn pairwise(f: Pairwise, a: &str, b: &str) -> String {
    match f {
        Pairwise::Maximum => format!("np.maximum({a}, {b})"),
        Pairwise::Minimum => format!("np.minimum({a}, {b})"),
        Pairwise::AtLeast => format!("np.where({a} >= {b}, 1.0, 0.0)"),
        Pairwise::Above => format!("np.where({a} > {b}, 1.0, 0.0)"),
    }
}

fn factors(f: &Formula, out: &mut Vec<Formula>) {
    match f {
        Formula::Bin(Op::Mul, a, b) => {
            factors(a, out);
            factors(b, out);
        }
        other => out.push(other.clone()),
    }
}

impl Translator<'_> {
    fn range(&self, letter: char) -> usize {
        self.ranges
            .iter()
            .rev()
            .find(|(c, _)| *c == letter)
            .map_or(0, |(_, r)| *r)
    }

    /// The NumPy of a formula, or `None` where its shape has no vectorised form (a leaf
    /// that repeats a letter).
    pub fn tensor(&mut self, f: &Formula) -> Option<Tensor> {
        Some(match f {
            Formula::Const(c) => Tensor {
                code: number(*c),
                prec: if *c < 0.0 { UNARY } else { ATOM },
                axes: vec![],
            },
            Formula::Leaf(kind, indices) => {
                let leaf = (self.leaf)(*kind);
                let mut subs: Vec<String> = Vec::new();
                let mut axes = Vec::new();
                if leaf.per_sample {
                    subs.push(":".into());
                    axes.push('b');
                }
                for (ix, dim) in indices.iter().zip(&leaf.dims) {
                    match ix {
                        Ix::Const(c) => subs.push(c.to_string()),
                        Ix::Letter(l) => {
                            if axes.contains(l) {
                                return None;
                            }
                            axes.push(*l);
                            let r = self.range(*l);
                            subs.push(if r == *dim {
                                ":".into()
                            } else {
                                format!(":{r}")
                            });
                        }
                    }
                }
                let code = if subs.iter().all(|s| s == ":") {
                    leaf.name
                } else {
                    // Trailing whole axes need no subscript.
                    while subs.last().is_some_and(|s| s == ":") && subs.len() > 1 {
                        subs.pop();
                    }
                    format!("{}[{}]", leaf.name, subs.join(", "))
                };
                Tensor {
                    code,
                    prec: ATOM,
                    axes,
                }
            }
            Formula::Neg(a) => {
                let a = self.tensor(a)?;
                Tensor {
                    code: format!("-{}", a.at(UNARY)),
                    prec: UNARY,
                    axes: a.axes,
                }
            }
            Formula::Bin(op, a, b) => {
                let (a, b) = (self.tensor(a)?, self.tensor(b)?);
                let axes = canonical([a.axes.clone(), b.axes.clone()].concat());
                let (sym, prec) = match op {
                    Op::Sub => ("-", SUM),
                    Op::Mul => ("*", PRODUCT),
                    Op::Div => ("/", PRODUCT),
                    Op::Pair(f) => {
                        let (a, b) = (align(&a, &axes, 0), align(&b, &axes, 0));
                        return Some(Tensor {
                            code: pairwise(*f, &a, &b),
                            prec: ATOM,
                            axes,
                        });
                    }
                };
                let left = align(&a, &axes, prec);
                // The right operand is parenthesised at equal precedence: `a - (b - c)`, and
                // products keep the derivation's order of evaluation.
                let right = align(&b, &axes, prec + 1);
                Tensor {
                    code: format!("{left} {sym} {right}"),
                    prec,
                    axes,
                }
            }
            Formula::Pow(a, k) => {
                let a = self.tensor(a)?;
                let k = if k.fract() == 0.0 && k.abs() < 1e15 {
                    format!("{}", *k as i64)
                } else {
                    number(*k)
                };
                let k = if k.starts_with('-') {
                    format!("({k})")
                } else {
                    k
                };
                Tensor {
                    code: format!("{} ** {k}", a.at(ATOM)),
                    prec: POWER,
                    axes: a.axes,
                }
            }
            Formula::Func(g, a) => {
                let a = self.tensor(a)?;
                let linear = *g == Builtin::Linear;
                Tensor {
                    code: function(*g, &a),
                    prec: if linear { a.prec } else { ATOM },
                    axes: a.axes,
                }
            }
            Formula::Sum(parts) => {
                let parts: Vec<Tensor> = parts
                    .iter()
                    .map(|p| self.tensor(p))
                    .collect::<Option<_>>()?;
                let axes = canonical(parts.iter().flat_map(|p| p.axes.clone()).collect());
                let code: Vec<String> = parts.iter().map(|p| align(p, &axes, SUM + 1)).collect();
                Tensor {
                    code: code.join(" + "),
                    prec: SUM,
                    axes,
                }
            }
            Formula::SumOver(letter, range, body) => {
                self.ranges.push((*letter, *range));
                let out = self.contract(body, *letter);
                self.ranges.pop();
                out?
            }
            Formula::LogSumExp(letter, range, body) => {
                self.ranges.push((*letter, *range));
                let body = self.tensor(body);
                self.ranges.pop();
                let body = body?;
                let position = body.axes.iter().position(|a| a == letter)?;
                let mut axes = body.axes.clone();
                axes.remove(position);
                Tensor {
                    code: format!("_logsumexp({}, {position})", body.code),
                    prec: ATOM,
                    axes,
                }
            }
        })
    }

    /// `body` summed over the axis `axis` (a letter, or `b` for the batch): factors without
    /// it stay outside; the rest contract by matrix product or `einsum`.
    pub fn contract(&mut self, body: &Formula, axis: char) -> Option<Tensor> {
        let mut all = Vec::new();
        factors(body, &mut all);
        let mut inner = Vec::new();
        let mut outer = Vec::new();
        for f in &all {
            let t = self.tensor(f)?;
            let has = if axis == 'b' {
                t.axes.contains(&'b')
            } else {
                mentions(f, axis) && t.axes.contains(&axis)
            };
            if has { inner.push(t) } else { outer.push(t) }
        }
        let out_axes = canonical(
            inner
                .iter()
                .flat_map(|t| t.axes.clone())
                .filter(|&a| a != axis)
                .collect(),
        );
        let contracted = match inner.as_slice() {
            [] => return None,
            [one] => {
                let position = one.axes.iter().position(|&a| a == axis)?;
                let mut axes = one.axes.clone();
                axes.remove(position);
                let t = Tensor {
                    code: format!("{}.sum(axis={position})", one.at(ATOM)),
                    prec: ATOM,
                    axes,
                };
                // Keep the canonical order the rest of the code assumes.
                if canonical(t.axes.clone()) == t.axes {
                    t
                } else {
                    Tensor {
                        code: format!("{}.T", t.code),
                        prec: ATOM,
                        axes: canonical(t.axes),
                    }
                }
            }
            [a, b] => matmul(a, b, axis, &out_axes).unwrap_or_else(|| einsum(&inner, &out_axes)),
            _ => einsum(&inner, &out_axes),
        };
        if outer.is_empty() {
            return Some(contracted);
        }
        let mut result = contracted;
        for t in outer {
            let axes = canonical([result.axes.clone(), t.axes.clone()].concat());
            result = Tensor {
                code: format!(
                    "{} * {}",
                    align(&t, &axes, PRODUCT),
                    align(&result, &axes, PRODUCT + 1)
                ),
                prec: PRODUCT,
                axes,
            };
        }
        Some(result)
    }
}

pub(super) fn einsum(operands: &[Tensor], out: &[char]) -> Tensor {
    let inputs: Vec<String> = operands.iter().map(|t| t.axes.iter().collect()).collect();
    let args: Vec<String> = operands.iter().map(|t| t.code.clone()).collect();
    Tensor {
        code: format!(
            "np.einsum(\"{}->{}\", {})",
            inputs.join(","),
            out.iter().collect::<String>(),
            args.join(", ")
        ),
        prec: ATOM,
        axes: out.to_vec(),
    }
}

/// `L @ R` for two operands of at most two axes that share only the contracted one.
pub(super) fn matmul(a: &Tensor, b: &Tensor, axis: char, out: &[char]) -> Option<Tensor> {
    if a.axes.len() > 2 || b.axes.len() > 2 || out.len() > 2 {
        return None;
    }
    let other =
        |t: &Tensor| -> Vec<char> { t.axes.iter().copied().filter(|&c| c != axis).collect() };
    let (oa, ob) = (other(a), other(b));
    if oa.iter().any(|c| ob.contains(c)) {
        return None;
    }
    // The left operand is the one whose free axis comes first in the output.
    let (left, right, ol, or) = match (oa.first(), ob.first(), out.first()) {
        (Some(x), _, Some(first)) if x == first => (a, b, oa, ob),
        (_, Some(x), Some(first)) if x == first => (b, a, ob, oa),
        (None, _, _) => (a, b, oa, ob),
        _ => (b, a, ob, oa),
    };
    let left_code = match left.axes.as_slice() {
        [_] => left.at(ATOM),
        [x, _] if Some(x) == ol.first() => left.at(ATOM),
        _ => format!("{}.T", left.at(ATOM)),
    };
    let right_code = match right.axes.as_slice() {
        [_] => right.at(ATOM),
        [x, _] if *x == axis => right.at(ATOM),
        _ => format!("{}.T", right.at(ATOM)),
    };
    let axes: Vec<char> = ol.into_iter().chain(or).collect();
    (axes == out).then(|| Tensor {
        code: format!("{left_code} @ {right_code}"),
        prec: PRODUCT,
        axes,
    })
}

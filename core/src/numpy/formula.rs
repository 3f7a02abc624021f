//! Tensor-level formulas ([`crate::tensor`]) as NumPy over the batch, and as comment text.
//!
//! Every index variable in scope gets a letter, and every value is an array whose axes are
//! named by letters: `b` for the sample (inputs, targets, vectors, deltas and the loss carry
//! it first), then the variables it depends on. Reads and brackets are index arithmetic
//! ([`super::reads`]); a sum contracts its variables' axes by a matrix product where two
//! operands allow it, by `np.einsum` or `.sum(axis=...)` otherwise. Element-wise operations
//! broadcast by aligning axes.

use super::code::number;
use super::code::{ATOM, POWER, PRODUCT, SUM, Tensor as Code, UNARY, einsum, function, matmul};
use crate::builtin::Builtin;
use crate::ir::{Node, NodeId};
use crate::tensor::{Bound, IndexVar, Leaf, Program, Tensor};

/// The axis of the sample.
pub const BATCH: char = 'b';

/// Letters for index variables, in the order they are given out (`b` is the sample's).
pub(super) const LETTERS: [char; 24] = [
    'i', 'j', 'k', 'm', 'n', 'p', 'q', 'r', 's', 'a', 'l', 'c', 'd', 'e', 'f', 'g', 'h', 'o', 't',
    'u', 'v', 'w', 'x', 'y',
];

/// How a tensor appears in code and in comments.
pub struct Operand {
    /// The Python variable.
    pub code: String,
    /// Its name in comments (`delta_h`).
    pub label: String,
    /// Whether it has a sample axis (first).
    pub per_sample: bool,
    /// Its own axes.
    pub dims: Vec<usize>,
}

/// Translates the formulas of one program.
pub struct Translator<'a> {
    /// The statements' formulas.
    pub program: &'a Program,
    /// Names a tensor, or `None` where the module has no array for it.
    pub operand: &'a dyn Fn(Tensor) -> Option<Operand>,
    /// Statements written in place of their reads (a vector's argument inside the vector's
    /// own forward statement): the tensor, the statement's index variable, its formula.
    pub inline: Vec<(Tensor, IndexVar, NodeId)>,
    /// The variables in scope: letter and range, outermost first (the canonical axis order).
    pub(super) scope: Vec<(IndexVar, char, usize)>,
    /// In a recurrence's statement: its step variable, an axis of length 1 at the step `_t`
    /// of the Python loop around it, and the number of steps it ranges over.
    pub step: Option<(IndexVar, usize)>,
}

impl<'a> Translator<'a> {
    /// A translator with nothing in scope.
    pub fn new(program: &'a Program, operand: &'a dyn Fn(Tensor) -> Option<Operand>) -> Self {
        Translator {
            program,
            operand,
            inline: Vec::new(),
            scope: Vec::new(),
            step: None,
        }
    }

    /// Puts a variable in scope under a given letter.
    pub fn bind_as(&mut self, var: IndexVar, letter: char, size: usize) {
        self.scope.push((var, letter, size));
    }

    /// Puts a variable in scope under the first letter not in use; returns it.
    pub(super) fn bind(&mut self, var: IndexVar, size: usize) -> char {
        let letter = LETTERS
            .iter()
            .copied()
            .find(|c| !self.scope.iter().any(|(_, u, _)| u == c))
            .unwrap_or('z');
        self.scope.push((var, letter, size));
        letter
    }

    fn bind_all(&mut self, bounds: &[Bound]) -> Vec<char> {
        bounds.iter().map(|b| self.bind(b.var, b.size)).collect()
    }

    /// Takes the last `n` variables out of scope.
    pub fn unbind(&mut self, n: usize) {
        self.scope.truncate(self.scope.len().saturating_sub(n));
    }

    pub(super) fn letter(&self, var: IndexVar) -> Option<char> {
        self.scope
            .iter()
            .rev()
            .find(|(v, _, _)| *v == var)
            .map(|(_, c, _)| *c)
    }

    /// The values a variable takes, for bounds: every step for the step variable, whose
    /// axis has length 1.
    pub(super) fn extent(&self, var: IndexVar) -> i64 {
        match self.step {
            Some((step, steps)) if step == var => steps as i64,
            _ => self.letter(var).map_or(0, |c| self.size(c)) as i64,
        }
    }

    pub(super) fn size(&self, letter: char) -> usize {
        self.scope
            .iter()
            .rev()
            .find(|(_, c, _)| *c == letter)
            .map_or(0, |(_, _, s)| *s)
    }

    /// Axes in canonical order: the sample first, then by scope.
    pub fn canonical(&self, mut axes: Vec<char>) -> Vec<char> {
        axes.sort_by_key(|&c| {
            if c == BATCH {
                0
            } else {
                1 + self
                    .scope
                    .iter()
                    .position(|(_, u, _)| *u == c)
                    .unwrap_or(usize::MAX - 1)
            }
        });
        axes.dedup();
        axes
    }

    /// `t` broadcast to the axes `want` (a superset of its own, in canonical order).
    pub fn align(&self, t: &Code, want: &[char], prec: u8) -> String {
        if t.axes.is_empty() || t.axes == want {
            return t.at(prec);
        }
        let ordered = self.canonical(t.axes.clone());
        let base = if ordered == t.axes {
            t.at(ATOM)
        } else if t.axes.len() == 2 {
            format!("{}.T", t.at(ATOM))
        } else {
            let perm: Vec<String> = ordered
                .iter()
                .map(|a| t.axes.iter().position(|b| b == a).unwrap_or(0).to_string())
                .collect();
            format!("np.transpose({}, ({},))", t.code, perm.join(", "))
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

    /// The NumPy of a formula, or `None` where it has no array form here (a user function
    /// kept by name, a tensor the module holds no array for).
    pub fn code(&mut self, node: NodeId) -> Option<Code> {
        let program = self.program;
        Some(match program.graph.node(node) {
            Node::Const(bits) => constant(f64::from_bits(*bits)),
            Node::Var(v) => match program.leaf_of(*v) {
                Leaf::Read(tensor, indices) => self.read(*tensor, indices)?,
                Leaf::Sum(bounds, body) => {
                    let letters = self.bind_all(bounds);
                    let out = self.contract(*body, &letters);
                    self.unbind(bounds.len());
                    out?
                }
                Leaf::LogSumExp(bound, body) => self.logsumexp(*bound, *body)?,
                Leaf::Guard(affine, lo, hi) => self.guard(affine, *lo, *hi),
                Leaf::Extremum(f, bound, body) => self.extremum(*f, *bound, *body)?,
                Leaf::FirstExtremum(f, at, bound, body) => {
                    self.first_extremum(*f, at, *bound, *body)?
                }
                Leaf::Call(..) | Leaf::CallDerivative(..) => return None,
            },
            Node::Add(a, b) => self.binary(*a, *b, "+", SUM)?,
            Node::Sub(a, b) => self.binary(*a, *b, "-", SUM)?,
            Node::Mul(a, b) => self.binary(*a, *b, "*", PRODUCT)?,
            Node::Div(a, b) => self.binary(*a, *b, "/", PRODUCT)?,
            Node::Neg(a) => {
                let a = self.code(*a)?;
                Code {
                    code: format!("-{}", a.at(UNARY + 1)),
                    prec: UNARY,
                    axes: a.axes,
                }
            }
            Node::Pow(a, k) => {
                let a = self.code(*a)?;
                power(&a, f64::from_bits(*k))
            }
            Node::Func(g, a) => {
                let a = self.code(*a)?;
                Code {
                    code: function(*g, &a),
                    prec: if *g == Builtin::Linear { a.prec } else { ATOM },
                    axes: a.axes,
                }
            }
            Node::Pair(f, a, b) => {
                let (a, b) = (self.code(*a)?, self.code(*b)?);
                let axes = self.canonical(a.axes.iter().chain(&b.axes).copied().collect());
                let (a, b) = (self.align(&a, &axes, 0), self.align(&b, &axes, 0));
                Code {
                    code: super::code::pairwise(*f, &a, &b),
                    prec: ATOM,
                    axes,
                }
            }
            Node::Sum(items) => {
                let parts = self.all(items)?;
                let axes = self.canonical(parts.iter().flat_map(|p| p.axes.clone()).collect());
                let code: Vec<String> = parts
                    .iter()
                    .map(|p| self.align(p, &axes, SUM + 1))
                    .collect();
                Code {
                    code: code.join(" + "),
                    prec: SUM,
                    axes,
                }
            }
            Node::LogSumExp(items) => {
                let parts = self.all(items)?;
                let axes = self.canonical(parts.iter().flat_map(|p| p.axes.clone()).collect());
                let code: Vec<String> = parts.iter().map(|p| self.align(p, &axes, 0)).collect();
                Code {
                    code: format!(
                        "_logsumexp(np.stack(np.broadcast_arrays({})), 0)",
                        code.join(", ")
                    ),
                    prec: ATOM,
                    axes,
                }
            }
        })
    }

    /// `log sum_j exp(body)` over one bound variable, stable (`_logsumexp`).
    fn logsumexp(&mut self, bound: Bound, body: NodeId) -> Option<Code> {
        let letter = self.bind(bound.var, bound.size);
        let body = self.code(body);
        self.unbind(1);
        let body = body?;
        Some(match body.axes.iter().position(|a| *a == letter) {
            Some(position) => {
                let mut axes = body.axes.clone();
                axes.remove(position);
                Code {
                    code: format!("_logsumexp({}, {position})", body.code),
                    prec: ATOM,
                    axes,
                }
            }
            // The same value n times: its log-sum-exp adds log n.
            None => Code {
                code: format!("{} + {}", body.at(SUM), number((bound.size as f64).ln())),
                prec: SUM,
                axes: body.axes,
            },
        })
    }

    fn all(&mut self, items: &[NodeId]) -> Option<Vec<Code>> {
        items.iter().map(|i| self.code(*i)).collect()
    }

    fn binary(&mut self, a: NodeId, b: NodeId, sym: &str, prec: u8) -> Option<Code> {
        let (a, b) = (self.code(a)?, self.code(b)?);
        let axes = self.canonical([a.axes.clone(), b.axes.clone()].concat());
        // The right operand is parenthesised at equal precedence: `a - (b - c)`, and
        // products keep the derivation's order of evaluation.
        Some(Code {
            code: format!(
                "{} {sym} {}",
                self.align(&a, &axes, prec),
                self.align(&b, &axes, prec + 1)
            ),
            prec,
            axes,
        })
    }

    /// The factors of a product.
    fn factors(&self, node: NodeId, out: &mut Vec<NodeId>) {
        match self.program.graph.node(node) {
            Node::Mul(a, b) => {
                self.factors(*a, out);
                self.factors(*b, out);
            }
            _ => out.push(node),
        }
    }

    /// `body` summed over the axes `axes` (letters in scope, or `b` for the batch): factors
    /// without them stay outside; the rest contract by matrix product, `einsum` or `.sum`.
    /// Where the only factor that depends on them is itself a sum, its variables join the
    /// contraction (`sum_b sum_j d_c[j] x[i + j]` is one `einsum`); a sum among several such
    /// factors is contracted first (`(x @ M.T) @ R`, never one einsum over every axis).
    pub fn contract(&mut self, body: NodeId, axes: &[char]) -> Option<Code> {
        let mut removed = axes.to_vec();
        let mut nodes = Vec::new();
        self.factors(body, &mut nodes);
        let mut bound = 0;
        loop {
            let mut inner = Vec::new();
            for (n, &node) in nodes.iter().enumerate() {
                if self.code(node)?.axes.iter().any(|a| removed.contains(a)) {
                    inner.push(n);
                }
            }
            let [only] = inner[..] else { break };
            let Some(Leaf::Sum(bounds, sum_body)) = self.program.leaf_at(nodes[only]) else {
                break;
            };
            removed.extend(self.bind_all(bounds));
            bound += bounds.len();
            nodes.remove(only);
            self.factors(*sum_body, &mut nodes);
        }
        let out = self.contract_factors(&nodes, &removed);
        self.unbind(bound);
        out
    }

    fn contract_factors(&mut self, nodes: &[NodeId], removed: &[char]) -> Option<Code> {
        let mut inner = Vec::new();
        let mut outer = Vec::new();
        for &n in nodes {
            let t = self.code(n)?;
            if t.axes.iter().any(|a| removed.contains(a)) {
                inner.push(t);
            } else {
                outer.push(t);
            }
        }
        // A summed variable no factor depends on multiplies by its range.
        for &a in removed {
            if !inner.iter().any(|t| t.axes.contains(&a)) {
                outer.push(if a == BATCH {
                    Code {
                        code: "batch_size".into(),
                        prec: ATOM,
                        axes: vec![],
                    }
                } else {
                    constant(self.size(a) as f64)
                });
            }
        }
        let out_axes = self.canonical(
            inner
                .iter()
                .flat_map(|t| t.axes.clone())
                .filter(|a| !removed.contains(a))
                .collect(),
        );
        let contracted = match inner.as_slice() {
            [] => None,
            [one] => {
                let positions: Vec<String> = one
                    .axes
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| removed.contains(a))
                    .map(|(p, _)| p.to_string())
                    .collect();
                let axis = match positions.as_slice() {
                    [p] => p.clone(),
                    many => format!("({})", many.join(", ")),
                };
                let axes: Vec<char> = one
                    .axes
                    .iter()
                    .copied()
                    .filter(|a| !removed.contains(a))
                    .collect();
                Some(Code {
                    code: format!("{}.sum(axis={axis})", one.at(ATOM)),
                    prec: ATOM,
                    axes,
                })
            }
            [a, b] => {
                let summed: Vec<char> = removed
                    .iter()
                    .copied()
                    .filter(|r| a.axes.contains(r) || b.axes.contains(r))
                    .collect();
                let product = match summed.as_slice() {
                    [axis] => matmul(a, b, *axis, &out_axes),
                    _ => None,
                };
                Some(product.unwrap_or_else(|| einsum(&inner, &out_axes)))
            }
            _ => Some(einsum(&inner, &out_axes)),
        };
        let mut result = match contracted {
            Some(c) => c,
            None => outer.pop()?,
        };
        for t in outer.into_iter().rev() {
            let axes = self.canonical([result.axes.clone(), t.axes.clone()].concat());
            result = Code {
                code: format!(
                    "{} * {}",
                    self.align(&t, &axes, PRODUCT),
                    self.align(&result, &axes, PRODUCT + 1)
                ),
                prec: PRODUCT,
                axes,
            };
        }
        Some(result)
    }
}

/// `a ** k`.
fn power(a: &Code, k: f64) -> Code {
    let k = if k.fract() == 0.0 && k.abs() < 1e15 {
        format!("{}", k as i64)
    } else {
        number(k)
    };
    let k = if k.starts_with('-') {
        format!("({k})")
    } else {
        k
    };
    Code {
        code: format!("{} ** {k}", a.at(ATOM)),
        prec: POWER,
        axes: a.axes.clone(),
    }
}

pub(super) fn constant(c: f64) -> Code {
    Code {
        code: number(c),
        prec: if c < 0.0 { UNARY } else { ATOM },
        axes: vec![],
    }
}

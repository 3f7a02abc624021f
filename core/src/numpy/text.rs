//! The index formulas as comment text (`sum_i delta_y[i] * W2[i][k]`), and the few helpers
//! every generated module defines.

use super::formula::LETTERS;
use super::index::{Formula, Ix, LeafKind, Op};
use crate::builtin::Builtin;
use crate::ir::{Node, NodeId};
use crate::print::Style;
use crate::tensor::{Affine, IndexVar, Leaf, Program, Tensor};

/// A formula in the `.nn` notation with letters for indices, fewest parentheses.
pub fn formula(f: &Formula, name: &dyn Fn(LeafKind) -> String) -> String {
    at(f, name, 0)
}

fn at(f: &Formula, name: &dyn Fn(LeafKind) -> String, need: u8) -> String {
    let (text, prec) = match f {
        Formula::Const(c) => (super::code::number(*c), if *c < 0.0 { 2 } else { 5 }),
        Formula::Leaf(kind, indices) => {
            let subs: String = indices
                .iter()
                .map(|i| match i {
                    Ix::Const(c) => format!("[{c}]"),
                    Ix::Letter(l) => format!("[{l}]"),
                })
                .collect();
            (format!("{}{subs}", name(*kind)), 5)
        }
        Formula::Neg(a) => (format!("-{}", at(a, name, 3)), 2),
        Formula::Bin(op, a, b) => {
            let (sym, prec) = match op {
                Op::Sub => ("-", 1),
                Op::Mul => ("*", 3),
                Op::Div => ("/", 3),
                // A call: it binds tighter than anything around it.
                Op::Pair(f) => {
                    let (a, b) = (at(a, name, 0), at(b, name, 0));
                    return crate::print::pairwise(*f, &a, &b, Style::Text);
                }
            };
            (
                format!("{} {sym} {}", at(a, name, prec), at(b, name, prec + 1)),
                prec,
            )
        }
        Formula::Pow(a, k) => (format!("{}^{k}", at(a, name, 5)), 4),
        Formula::Func(Builtin::Linear, a) => return at(a, name, need),
        Formula::Func(g, a) => (format!("{}({})", g.name(), at(a, name, 0)), 5),
        Formula::Sum(parts) => (
            parts
                .iter()
                .map(|p| at(p, name, 2))
                .collect::<Vec<_>>()
                .join(" + "),
            1,
        ),
        Formula::SumOver(l, _, body) => (format!("sum_{l} {}", at(body, name, 3)), 1),
        Formula::LogSumExp(l, _, body) => (format!("logsumexp_{l}({})", at(body, name, 0)), 5),
    };
    if prec < need {
        format!("({text})")
    } else {
        text
    }
}

/// Tensor-level formulas ([`crate::tensor`]) in the same notation: `sum_p K[p] * x[k + p]`,
/// brackets `[0 <= k - 2*i < 2]`, letters given out as the code gives them.
pub struct TensorText<'a> {
    /// The formulas.
    pub program: &'a Program,
    /// A tensor's name (`delta_h` for a delta).
    pub label: &'a dyn Fn(Tensor) -> String,
    /// Statements written in place of their reads, as the code writes them.
    pub inline: Vec<(Tensor, IndexVar, NodeId)>,
    scope: Vec<(IndexVar, char)>,
}

impl<'a> TensorText<'a> {
    /// A printer with nothing in scope.
    pub fn new(program: &'a Program, label: &'a dyn Fn(Tensor) -> String) -> Self {
        TensorText {
            program,
            label,
            inline: Vec::new(),
            scope: Vec::new(),
        }
    }

    /// Puts a variable in scope under a given letter.
    pub fn bind_as(&mut self, var: IndexVar, letter: char) {
        self.scope.push((var, letter));
    }

    fn bind(&mut self, var: IndexVar) -> char {
        let letter = LETTERS
            .iter()
            .copied()
            .find(|c| !self.scope.iter().any(|(_, u)| u == c))
            .unwrap_or('z');
        self.scope.push((var, letter));
        letter
    }

    fn letter(&self, v: IndexVar) -> char {
        self.scope
            .iter()
            .rev()
            .find(|(u, _)| *u == v)
            .map_or('?', |(_, l)| *l)
    }

    fn affine(&self, a: &Affine) -> String {
        let mut out = String::new();
        let mut terms = a.terms.clone();
        // Positive terms first, outer variables first: `k - 2*i`.
        terms.sort_by_key(|&(v, c)| (c < 0, self.scope.iter().position(|(u, _)| *u == v)));
        for (n, &(v, c)) in terms.iter().enumerate() {
            let letter = self.letter(v);
            let term = match c.abs() {
                1 => letter.to_string(),
                k => format!("{k}*{letter}"),
            };
            out.push_str(&match (n, c < 0) {
                (0, false) => term,
                (0, true) => format!("-{term}"),
                (_, false) => format!(" + {term}"),
                (_, true) => format!(" - {term}"),
            });
        }
        if out.is_empty() {
            return a.offset.to_string();
        }
        if a.offset != 0 {
            let sign = if a.offset < 0 { '-' } else { '+' };
            out.push_str(&format!(" {sign} {}", a.offset.abs()));
        }
        out
    }

    /// `max_j(body)`, or with `at` the first-maximum bracket `[at = argmax_j(body)]`.
    fn extremum(
        &mut self,
        f: crate::builtin::Pairwise,
        at: Option<&Affine>,
        bound: crate::tensor::Bound,
        body: NodeId,
    ) -> String {
        let at = at.map(|a| self.affine(a));
        let letter = self.bind(bound.var);
        let body = self.text(body, 0);
        self.scope.pop();
        let word = f.name().trim_end_matches("imum");
        match at {
            Some(at) => format!("[{at} = arg{word}_{letter}({body})]"),
            None => format!("{word}_{letter}({body})"),
        }
    }

    /// `[lo <= a < hi]`, over one variable as its own range: `[k == 1]`, `[1 <= k < 4]`.
    fn guard(&self, a: &Affine, lo: i64, hi: i64) -> String {
        if let [(v, c)] = a.terms.as_slice()
            && c.abs() == 1
        {
            let (lo, hi) = if *c == 1 {
                (lo - a.offset, hi - a.offset)
            } else {
                (a.offset - hi + 1, a.offset - lo + 1)
            };
            let letter = self.letter(*v);
            return if hi - lo == 1 {
                format!("[{letter} == {lo}]")
            } else {
                format!("[{lo} <= {letter} < {hi}]")
            };
        }
        format!("[{lo} <= {} < {hi}]", self.affine(a))
    }

    /// The formula at `node`, parenthesised below precedence `need` (0: never).
    pub fn text(&mut self, node: NodeId, need: u8) -> String {
        let program = self.program;
        if let Some(Leaf::Read(tensor, indices)) = program.leaf_at(node)
            && let Some(&(_, var, formula)) = self.inline.iter().find(|(t, ..)| t == tensor)
            && let [a] = indices.as_slice()
            && let [(x, 1)] = a.terms.as_slice()
            && a.offset == 0
        {
            let letter = self.letter(*x);
            self.bind_as(var, letter);
            let text = self.text(formula, need);
            self.scope.pop();
            return text;
        }
        let (text, prec) = match program.graph.node(node) {
            Node::Const(bits) => {
                let c = f64::from_bits(*bits);
                (super::code::number(c), if c < 0.0 { 2 } else { 5 })
            }
            Node::Var(v) => match program.leaf_of(*v) {
                Leaf::Read(tensor, indices) => {
                    let subs: String = indices
                        .iter()
                        .map(|a| format!("[{}]", self.affine(a)))
                        .collect();
                    (format!("{}{subs}", (self.label)(*tensor)), 5)
                }
                Leaf::Sum(bounds, body) => {
                    let letters: String = bounds
                        .iter()
                        .map(|b| format!("sum_{} ", self.bind(b.var)))
                        .collect();
                    let body = self.text(*body, 3);
                    self.scope.truncate(self.scope.len() - bounds.len());
                    (format!("{letters}{body}"), 1)
                }
                Leaf::LogSumExp(bound, body) => {
                    let letter = self.bind(bound.var);
                    let body = self.text(*body, 0);
                    self.scope.pop();
                    (format!("logsumexp_{letter}({body})"), 5)
                }
                Leaf::Extremum(f, bound, body) => (self.extremum(*f, None, *bound, *body), 5),
                Leaf::FirstExtremum(f, at, bound, body) => {
                    (self.extremum(*f, Some(at), *bound, *body), 5)
                }
                Leaf::Guard(a, lo, hi) => (self.guard(a, *lo, *hi), 5),
                Leaf::Call(..) | Leaf::CallDerivative(..) => ("?".to_string(), 5),
            },
            Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) | Node::Div(a, b) => {
                let (sym, prec) = match program.graph.node(node) {
                    Node::Add(..) => ("+", 1),
                    Node::Sub(..) => ("-", 1),
                    Node::Mul(..) => ("*", 3),
                    _ => ("/", 3),
                };
                let left = self.text(*a, prec);
                let right = self.text(*b, prec + 1);
                (format!("{left} {sym} {right}"), prec)
            }
            Node::Neg(a) => (format!("-{}", self.text(*a, 3)), 2),
            Node::Pow(a, k) => (format!("{}^{}", self.text(*a, 5), f64::from_bits(*k)), 4),
            Node::Func(Builtin::Linear, a) => return self.text(*a, need),
            Node::Func(g, a) => (format!("{}({})", g.name(), self.text(*a, 0)), 5),
            Node::Pair(f, a, b) => {
                let (a, b) = (self.text(*a, 0), self.text(*b, 0));
                let text = match f {
                    crate::builtin::Pairwise::Maximum => format!("maximum({a}, {b})"),
                    crate::builtin::Pairwise::Minimum => format!("minimum({a}, {b})"),
                    crate::builtin::Pairwise::AtLeast => format!("[{a} >= {b}]"),
                    crate::builtin::Pairwise::Above => format!("[{a} > {b}]"),
                };
                (text, 5)
            }
            Node::Sum(items) => (
                items
                    .iter()
                    .map(|i| self.text(*i, 2))
                    .collect::<Vec<_>>()
                    .join(" + "),
                1,
            ),
            Node::LogSumExp(items) => (
                format!(
                    "logsumexp({})",
                    items
                        .iter()
                        .map(|i| self.text(*i, 0))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                5,
            ),
        };
        if prec < need {
            format!("({text})")
        } else {
            text
        }
    }
}

/// Defined once at the top of every module and notebook: numerically stable activations as
/// the evaluator computes them, broadcasting, and the batch rule.
pub const HELPERS: &str = r#"

def _sigmoid(z):
    # exp(-log(1 + e^-z)): finite for every z, as chainrule's evaluator computes it.
    return np.exp(-np.logaddexp(0.0, -z))


def _logsumexp(a, axis):
    # m + log(sum(exp(a - m))): finite for logits at +-1000, as the evaluator computes it.
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)), axis=axis)


def _step(z):
    # The derivative of relu: 1 where z > 0, else 0.
    return (z > 0).astype(float)


def _full(a, shape):
    return np.broadcast_to(a, shape).astype(float)


def _per_sample(a, batch_size):
    return _full(a, (batch_size,))


def _combine(a):
    # One number per sample, combined by the batch rule.
    return getattr(np, BATCH)(a)
"#;

/// Defined after [`HELPERS`] where a formula uses `erf`, which NumPy lacks: Python's
/// `math.erf` element by element (the C library's erf, as the evaluator's `libm`).
pub const ERF_HELPER: &str = r#"

def _erf(z):
    import math
    return np.vectorize(math.erf, otypes=[float])(z)
"#;

/// How a module reads `params` and `data`: the JSON layouts, the file's defaults for what is
/// missing, and the same errors as `chainrule eval` for unknown or missing names.
pub const READ: &str = r#"

def _read(params, data):
    params = {} if params is None else params
    data = {} if data is None else data
    for name in params:
        if name not in PARAM_SHAPES:
            raise ValueError(f"{name!r} is not a parameter of this network")
    for name in data:
        if name not in DATA_SIZES:
            raise ValueError(f"{name!r} is not an input or target of this network")
    p = {}
    for name, shape in PARAM_SHAPES.items():
        value = params.get(name, DEFAULT_PARAMS.get(name))
        if value is None:
            raise ValueError(f"no value for parameter {name!r}")
        p[name] = np.asarray(value, dtype=float).reshape(shape)
    d = {}
    for name, size in DATA_SIZES.items():
        value = data.get(name, DEFAULT_DATA.get(name))
        if value is None:
            continue
        if name in DATA_LABELS:
            # A class index per sample, read as its one-hot row.
            labels = np.asarray(value).reshape(-1)
            if labels.dtype.kind not in "iu" or np.any((labels < 0) | (labels >= size)):
                raise ValueError(f"{name!r}: a label is a class index, an integer in 0..{size}")
            d[name] = np.eye(size)[labels]
        elif size is None:
            d[name] = np.asarray(value, dtype=float).reshape(-1)
        elif isinstance(size, tuple):
            # A tensor: one array of its axes per sample.
            d[name] = np.asarray(value, dtype=float).reshape((-1,) + size)
        else:
            d[name] = np.asarray(value, dtype=float).reshape(-1, size)
    batch_size = next((len(v) for v in d.values()), 1)
    return p, d, batch_size
"#;

//! The index formulas as comment text (`sum_i delta_y[i] * W2[i][k]`), and the few helpers
//! every generated module defines.

use super::index::{Formula, Ix, LeafKind, Op};
use crate::builtin::Builtin;
use crate::print::Style;

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
        if value is not None:
            d[name] = np.asarray(value, dtype=float).reshape(-1, size)
    batch_size = next((len(v) for v in d.values()), 1)
    return p, d, batch_size
"#;

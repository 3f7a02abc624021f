//! The matrix form (`chainrule latex --form matrix`): backpropagation as textbooks write it,
//! printed from the verified tensor-level statements. A formula whose reads are all indexed
//! by the statement's own index is a vector expression (`\delta_{a} \odot a \odot (1 - a)`);
//! a sum `\sum_i w_{ik} \delta_{i}` is `W^{\top} \delta`; a gradient `\delta_{i} x_{j}` is the
//! outer product `\delta x^{\top}`. Every line names its shape. A step with no matrix form
//! (a log-sum-exp, a fixed index) is written in index notation instead.

mod contraction;

use super::indexed::IndexPrinter;
use super::names;
use crate::ir::{Node, NodeId};
use crate::model::{Network, Symbol};
use crate::print;
use crate::tensor::{Affine, IndexVar, Leaf, Program, Statement, Tensor, tensor_dims};

/// What a vector expression's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// One number.
    Scalar,
    /// A vector along an index.
    Vector(IndexVar),
    /// A matrix along two indices (rows, columns).
    Matrix(IndexVar, IndexVar),
    /// A tensor of three or four axes along its indices (element-wise operations only).
    Tensor([Option<IndexVar>; 4]),
}

/// The kind of a value along `vars`, its own distinct indices; `None` past four axes or for
/// a repeated index (a diagonal).
fn kind_along(vars: &[IndexVar]) -> Option<Kind> {
    let distinct = vars.iter().enumerate().all(|(n, v)| !vars[..n].contains(v));
    if !distinct {
        return None;
    }
    Some(match *vars {
        [] => Kind::Scalar,
        [k] => Kind::Vector(k),
        [i, j] => Kind::Matrix(i, j),
        [a, b, c] => Kind::Tensor([Some(a), Some(b), Some(c), None]),
        [a, b, c, d] => Kind::Tensor([Some(a), Some(b), Some(c), Some(d)]),
        _ => return None,
    })
}

/// A vector expression: its LaTeX, its kind, and whether it is a sum (for parentheses).
struct Piece {
    text: String,
    kind: Kind,
    sum: bool,
}

impl Piece {
    fn factor(&self) -> String {
        if self.sum {
            format!("\\left({}\\right)", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// The lines of the matrix form: forward steps, deltas from the loss back, gradients; a
/// statement that did not verify is named as missing, never printed. Also where each of
/// the three parts after the first starts, for `align*` blocks.
pub fn lines(program: &Program, network: &Network, loss: &str) -> (Vec<String>, Vec<usize>) {
    let printer = IndexPrinter::new(program, network, loss.to_string());
    let form = MatrixForm {
        program,
        network,
        loss: loss.to_string(),
    };
    let mut out = Vec::new();
    let mut breaks = Vec::new();
    // A user function's derivative, said once, before the formulas that use it.
    let used: Vec<NodeId> = program
        .deltas
        .iter()
        .chain(&program.gradients)
        .filter(|s| s.verified)
        .map(|s| s.formula)
        .collect();
    out.extend(printer.derivative_lines(&used));
    for part in [&program.forward, &program.deltas, &program.gradients] {
        if !out.is_empty() && !part.is_empty() {
            breaks.push(out.len());
        }
        for statement in part {
            out.push(form.line(statement, &printer));
        }
    }
    (out, breaks)
}

struct MatrixForm<'a> {
    program: &'a Program,
    network: &'a Network,
    loss: String,
}

impl MatrixForm<'_> {
    fn line(&self, statement: &Statement, printer: &IndexPrinter<'_>) -> String {
        let symbol = match statement.defines {
            Tensor::Value(s) | Tensor::Delta(s) => s,
            Tensor::Inner(v) => Symbol::Vector(v),
        };
        if !statement.verified {
            return format!(
                "{} &\\quad \\text{{(no formula reproduces every element: see the delta form)}}",
                self.whole(statement.defines)
            );
        }
        // A reshape's loop runs over its source's axes; what it defines is a vector.
        let shape = match statement.reshape {
            Some(_) => shape_text(&tensor_dims(self.network, statement.defines)),
            None => shape_text(&statement.shape),
        };
        let own = kind_along(&statement.indices);
        let piece = self.piece(statement.formula).filter(|p| {
            Some(p.kind) == own
                || (p.kind == Kind::Scalar && own.is_some() && symbol == Symbol::Loss)
        });
        match piece {
            Some(piece) => format!("{} &= {}{shape}", self.whole(statement.defines), piece.text),
            None => format!("{}{shape}", printer.line(statement)),
        }
    }

    /// The whole tensor a statement defines: `z^{(1)}`, `\delta_{z^{(1)}}`,
    /// `\frac{\partial L}{\partial W^{(1)}}`.
    fn whole(&self, tensor: Tensor) -> String {
        match tensor {
            Tensor::Value(Symbol::Loss) => names::symbol(&self.network.loss.name),
            // A label's vector is its one-hot basis vector `e_y`.
            Tensor::Value(s) if names::is_label(self.network, s) => {
                format!("e_{{{}}}", names::symbol(self.network.name_of(s)))
            }
            Tensor::Value(s) => names::symbol(self.network.name_of(s)),
            Tensor::Delta(s @ Symbol::Vector(_)) => {
                names::delta(&names::symbol(self.network.name_of(s)))
            }
            Tensor::Delta(s) => names::partial(&self.loss, &names::symbol(self.network.name_of(s))),
            Tensor::Inner(v) => format!(
                "\\tilde{{{}}}",
                names::symbol(&self.network.vectors[v].name)
            ),
        }
    }

    fn piece(&self, node: NodeId) -> Option<Piece> {
        let graph = &self.program.graph;
        match graph.node(node).clone() {
            Node::Const(b) => Some(Piece {
                text: print::number(f64::from_bits(b)),
                kind: Kind::Scalar,
                sum: f64::from_bits(b) < 0.0,
            }),
            Node::Var(v) => self.leaf(self.program.leaf_of(v)),
            Node::Neg(a) => {
                let a = self.piece(a)?;
                Some(Piece {
                    text: format!("-{}", a.factor()),
                    kind: a.kind,
                    sum: true,
                })
            }
            Node::Add(a, b) => self.join(&[a, b], &[false, false]),
            Node::Sub(..) if self.softmax_of(node).is_some() => {
                let (text, kind) = self.softmax_of(node)?;
                Some(Piece {
                    text: format!("\\log \\operatorname{{softmax}}\\left({text}\\right)"),
                    kind,
                    sum: false,
                })
            }
            Node::Sub(a, b) => self.join(&[a, b], &[false, true]),
            Node::Sum(items) => self.join(&items, &vec![false; items.len()]),
            Node::Mul(a, b) => self.product(a, b),
            Node::Div(a, b) => {
                let (a, b) = (self.piece(a)?, self.piece(b)?);
                if b.kind != Kind::Scalar && b.kind != a.kind {
                    return None;
                }
                let op = if b.kind == Kind::Scalar {
                    " / "
                } else {
                    " \\oslash "
                };
                Some(Piece {
                    text: format!("{}{op}{}", a.factor(), b.factor()),
                    kind: a.kind,
                    sum: false,
                })
            }
            Node::Pow(a, k) => {
                let a = self.piece(a)?;
                let k = print::number(f64::from_bits(k));
                let power = if a.kind == Kind::Scalar {
                    format!("^{{{k}}}")
                } else {
                    format!("^{{\\odot {k}}}")
                };
                Some(Piece {
                    text: format!("{}{power}", print::power_base(&a.factor())),
                    kind: a.kind,
                    sum: false,
                })
            }
            Node::Func(crate::builtin::Builtin::Exp, x) if self.softmax_of(x).is_some() => {
                let (text, kind) = self.softmax_of(x)?;
                Some(Piece {
                    text: format!("\\operatorname{{softmax}}\\left({text}\\right)"),
                    kind,
                    sum: false,
                })
            }
            Node::Func(f, a) => {
                let a = self.piece(a)?;
                Some(Piece {
                    text: print::function(f, &a.text),
                    kind: a.kind,
                    sum: false,
                })
            }
            // Element-wise, a scalar side broadcasting, as `+` does.
            Node::Pair(f, a, b) => {
                let (a, b) = (self.piece(a)?, self.piece(b)?);
                let kind = match (a.kind, b.kind) {
                    (Kind::Scalar, other) | (other, Kind::Scalar) => other,
                    (x, y) if x == y => x,
                    _ => return None,
                };
                Some(Piece {
                    text: print::pairwise(f, &a.text, &b.text, print::Style::Latex),
                    kind,
                    sum: false,
                })
            }
            Node::LogSumExp(_) => None,
        }
    }

    /// A sum of pieces of one kind (scalars broadcast only into a scalar sum).
    fn join(&self, items: &[NodeId], negative: &[bool]) -> Option<Piece> {
        let pieces: Vec<Piece> = items
            .iter()
            .map(|&n| self.piece(n))
            .collect::<Option<_>>()?;
        // A scalar term broadcasts over a vector or matrix (`1 - a`).
        let kind = pieces
            .iter()
            .map(|p| p.kind)
            .find(|k| *k != Kind::Scalar)
            .unwrap_or(Kind::Scalar);
        if pieces
            .iter()
            .any(|p| p.kind != kind && p.kind != Kind::Scalar)
        {
            return None;
        }
        let mut text = String::new();
        for (k, (piece, &minus)) in pieces.iter().zip(negative).enumerate() {
            match (k, minus) {
                (0, false) => text.push_str(&piece.text),
                (0, true) => text.push_str(&format!("-{}", piece.factor())),
                (_, false) => text.push_str(&format!(" + {}", piece.text)),
                (_, true) => text.push_str(&format!(" - {}", piece.factor())),
            }
        }
        Some(Piece {
            text,
            kind,
            sum: pieces.len() > 1,
        })
    }

    /// `a b`: scaling, a Hadamard product, or an outer product.
    fn product(&self, a: NodeId, b: NodeId) -> Option<Piece> {
        let (a, b) = (self.piece(a)?, self.piece(b)?);
        let (text, kind) = match (a.kind, b.kind) {
            (Kind::Scalar, k) | (k, Kind::Scalar) => {
                // Two numbers side by side would read as one: `0.5 \cdot 0.25 z`.
                let numeral = b
                    .factor()
                    .starts_with(|c: char| c.is_ascii_digit() || c == '-');
                let op = if numeral { " \\cdot " } else { " " };
                (format!("{}{op}{}", a.factor(), b.factor()), k)
            }
            (Kind::Vector(i), Kind::Vector(j)) if i == j => {
                (format!("{} \\odot {}", a.factor(), b.factor()), a.kind)
            }
            // `(a \odot b) x^T`: the Hadamard product is taken first.
            (Kind::Vector(i), Kind::Vector(j)) => (
                format!(
                    "{} {}^{{\\top}}",
                    grouped(&a),
                    print::power_base(&grouped(&b))
                ),
                Kind::Matrix(i, j),
            ),
            (x, y) if x == y => (format!("{} \\odot {}", a.factor(), b.factor()), x),
            _ => return None,
        };
        Some(Piece {
            text,
            kind,
            sum: false,
        })
    }

    /// `a - \log \sum_j e^{a_j}` with `a` one vector: that vector (and its kind).
    fn softmax_of(&self, node: NodeId) -> Option<(String, Kind)> {
        let Node::Sub(a, l) = self.program.graph.node(node).clone() else {
            return None;
        };
        let Some(Leaf::LogSumExp(bound, body)) = self.program.leaf_at(l) else {
            return None;
        };
        let (a, body) = (self.piece(a)?, self.piece(*body)?);
        (matches!(a.kind, Kind::Vector(_))
            && body.kind == Kind::Vector(bound.var)
            && a.text == body.text)
            .then_some((a.text, a.kind))
    }

    fn leaf(&self, leaf: &Leaf) -> Option<Piece> {
        match leaf {
            Leaf::Read(tensor, indices) => self.read(*tensor, indices),
            Leaf::Sum(bounds, body) => self
                .contraction(bounds, *body)
                .or_else(|| self.reduction(bounds, *body)),
            Leaf::LogSumExp(bound, body) => {
                let body = self.piece(*body)?;
                (body.kind == Kind::Vector(bound.var)).then(|| Piece {
                    text: format!("\\operatorname{{logsumexp}}\\left({}\\right)", body.text),
                    kind: Kind::Scalar,
                    sum: false,
                })
            }
            // `\max(x)` of a whole vector; a window (`max_q x_{2k+q}`) stays in index notation,
            // as does the bracket of its derivative.
            Leaf::Extremum(f, bound, body) => {
                let body = self.piece(*body)?;
                let name = match f {
                    crate::builtin::Pairwise::Minimum => "min",
                    _ => "max",
                };
                (body.kind == Kind::Vector(bound.var)).then(|| Piece {
                    text: format!("\\{name}\\left({}\\right)", body.text),
                    kind: Kind::Scalar,
                    sum: false,
                })
            }
            Leaf::Guard(..) | Leaf::FirstExtremum(..) => None,
            // A user function of one vector, element by element: `\operatorname{gelu}(z)`.
            Leaf::Call(f, args) | Leaf::CallDerivative(f, _, args) => {
                let [argument] = args[..] else {
                    return None;
                };
                let argument = self.piece(argument)?;
                let function = &self.program.functions[*f];
                let mut name = super::indexed::function_name(&function.name);
                if matches!(leaf, Leaf::CallDerivative(..)) {
                    name.push('\'');
                }
                Some(Piece {
                    text: format!("{name}\\left({}\\right)", argument.text),
                    kind: argument.kind,
                    sum: false,
                })
            }
        }
    }

    /// A whole vector or matrix reduced to a number: `a^{\top} b`, `\|a\|^{2}`,
    /// `\|W\|_F^{2}`, `\mathbf{1}^{\top} a`.
    fn reduction(&self, bounds: &[crate::tensor::Bound], body: NodeId) -> Option<Piece> {
        let whole = match bounds {
            [b] => Kind::Vector(b.var),
            [r, c] => Kind::Matrix(r.var, c.var),
            _ => return None,
        };
        let graph = &self.program.graph;
        let text = match graph.node(body).clone() {
            Node::Pow(x, k) if f64::from_bits(k) == 2.0 => {
                let x = self.piece(x)?;
                (x.kind == whole).then_some(())?;
                let norm = if matches!(whole, Kind::Matrix(..)) {
                    "_F"
                } else {
                    ""
                };
                format!("\\left\\|{}\\right\\|{norm}^{{2}}", x.text)
            }
            Node::Mul(a, b) if matches!(whole, Kind::Vector(_)) => {
                let (a, b) = (self.piece(a)?, self.piece(b)?);
                if a.kind == whole && b.kind == whole {
                    format!(
                        "{}^{{\\top}} {}",
                        print::power_base(&a.factor()),
                        b.factor()
                    )
                } else {
                    // One factor does not vary along the sum: it stands outside.
                    let (inside, outside) = if a.kind == whole { (a, b) } else { (b, a) };
                    (inside.kind == whole && outside.kind != whole).then_some(())?;
                    return Some(Piece {
                        text: format!(
                            "{} \\left(\\mathbf{{1}}^{{\\top}} {}\\right)",
                            outside.factor(),
                            inside.factor()
                        ),
                        kind: outside.kind,
                        sum: false,
                    });
                }
            }
            _ => {
                let x = self.piece(body)?;
                (x.kind == whole).then_some(())?;
                format!("\\mathbf{{1}}^{{\\top}} {}", x.factor())
            }
        };
        Some(Piece {
            text,
            kind: Kind::Scalar,
            sum: false,
        })
    }

    /// A whole tensor read along plain indices.
    fn read(&self, tensor: Tensor, indices: &[Affine]) -> Option<Piece> {
        let vars: Vec<IndexVar> = indices
            .iter()
            .map(|a| match (&a.terms[..], a.offset) {
                ([(v, 1)], 0) => Some(*v),
                _ => None,
            })
            .collect::<Option<_>>()?;
        if vars.len() != tensor_dims(self.network, tensor).len() {
            return None;
        }
        let kind = kind_along(&vars)?;
        Some(Piece {
            text: self.whole(tensor),
            kind,
            sum: false,
        })
    }
}

/// A factor of an outer product, parenthesised if it is itself a product of vectors.
fn grouped(piece: &Piece) -> String {
    if !piece.sum && piece.text.contains("\\odot") {
        format!("\\left({}\\right)", piece.text)
    } else {
        piece.factor()
    }
}

/// `\quad \in \mathbf{R}^{3 \times 2}` (nothing for a scalar).
fn shape_text(shape: &[usize]) -> String {
    if shape.is_empty() {
        return String::new();
    }
    let sizes: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!(" \\quad \\in \\mathbf{{R}}^{{{}}}", sizes.join(" \\times "))
}

//! `chainrule numpy`: a Python module that needs only NumPy, in matrix form over the batch:
//! `forward(params, data) -> dict`, `loss(params, data) -> float` and
//! `gradient(params, data) -> (loss, grads)`, the batch rule applied (CLI.md, second round).
//!
//! The code comes from the derivation, not from the network's text: each vector, delta and
//! gradient is the index formula its elements share ([`index`]), turned into NumPy over the
//! batch ([`code`]): `z1 = x @ W1.T`, `d_a1 = d_y @ W2`, `g_W1 = d_z1.T @ x / batch_size`.
//! Where the elements share no formula, each element is written out and stacked. Each line
//! carries the formula it computes as a comment, so the code reads like the seeds' cells.

pub mod code;
pub mod index;
mod module;
pub mod text;

use std::fmt::Write as _;

use chainrule_grammar::BatchRule;

use crate::derive::{Derivation, derive};
use crate::layout::Slot;
use crate::model::{Model, Network, Shape, Symbol};
use code::{LeafName, Tensor, Translator, number};
use index::{Env, Formula, LeafKind, Unifier};

const RESERVED: [&str; 44] = [
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "np",
    "batch_size",
    "params",
    "data",
    "values",
    "grads",
    "loss",
    "forward",
    "gradient",
];

/// Python names for a network's symbols, deltas and gradients, none shadowing another.
pub struct Names {
    values: Vec<(Symbol, String)>,
    deltas: Vec<String>,
    grads: Vec<String>,
}

impl Names {
    /// Names for every symbol of a network.
    pub fn new(network: &Network) -> Names {
        let mut taken: Vec<String> = RESERVED.iter().map(|s| s.to_string()).collect();
        let fresh = |base: String, taken: &mut Vec<String>| {
            // Names beginning with `_` belong to the module's helpers.
            let mut name = if base.starts_with('_') {
                format!("v{base}")
            } else {
                base
            };
            while taken.contains(&name) {
                name.push('_');
            }
            taken.push(name.clone());
            name
        };
        let mut symbols: Vec<Symbol> = Vec::new();
        symbols.extend((0..network.inputs.len()).map(Symbol::Input));
        symbols.extend((0..network.targets.len()).map(Symbol::Target));
        symbols.extend((0..network.params.len()).map(Symbol::Param));
        symbols.extend((0..network.vectors.len()).map(Symbol::Vector));
        symbols.push(Symbol::Loss);
        let values: Vec<(Symbol, String)> = symbols
            .into_iter()
            .map(|s| (s, fresh(network.name_of(s).to_string(), &mut taken)))
            .collect();
        let deltas = network
            .vectors
            .iter()
            .map(|v| fresh(format!("d_{}", v.name), &mut taken))
            .collect();
        let grads = network
            .params
            .iter()
            .map(|p| fresh(format!("g_{}", p.name), &mut taken))
            .collect();
        Names {
            values,
            deltas,
            grads,
        }
    }

    /// The variable holding a symbol.
    pub fn value(&self, symbol: Symbol) -> &str {
        self.values
            .iter()
            .find(|(s, _)| *s == symbol)
            .map_or("_", |(_, n)| n.as_str())
    }

    /// The variable holding a vector's delta.
    pub fn delta(&self, vector: usize) -> &str {
        &self.deltas[vector]
    }

    /// The variable holding a parameter's gradient.
    pub fn grad(&self, param: usize) -> &str {
        &self.grads[param]
    }
}

/// Python string literal of a name.
pub(crate) fn quoted(name: &str) -> String {
    format!("{name:?}")
}

/// A nested Python list of row-major values.
pub(crate) fn nested(values: &[f64], dims: &[usize]) -> String {
    match dims {
        [] => values.first().map_or("0.0".into(), |v| number(*v)),
        [_] => format!(
            "[{}]",
            values
                .iter()
                .map(|v| number(*v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        [_, c, ..] => format!(
            "[{}]",
            values
                .chunks((*c).max(1))
                .map(|row| nested(row, &dims[1..]))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The module text for one network.
pub fn module(model: &Model, network: &Network, file_name: &str) -> String {
    let derivation = derive(network, &model.functions);
    Emitter {
        network,
        derivation: &derivation,
        names: Names::new(network),
    }
    .module(file_name)
}

/// One statement: the formula it computes (a comment), then `name = code`.
pub struct Statement {
    /// The comment: the index formula, or why the elements are written out.
    pub comment: String,
    /// The assigned variable.
    pub name: String,
    /// The NumPy expression.
    pub code: String,
}

/// Builds the statements of a network's forward pass, deltas and gradients.
pub struct Emitter<'a> {
    /// The network.
    pub network: &'a Network,
    /// Its derivation.
    pub derivation: &'a Derivation,
    /// Its Python names.
    pub names: Names,
}

impl Emitter<'_> {
    /// Whether any formula calls `erf`, so that the module defines `_erf` (only then: other
    /// modules stay as they were).
    pub fn uses_erf(&self) -> bool {
        self.derivation
            .graph
            .nodes()
            .any(|(_, n)| matches!(n, crate::ir::Node::Func(crate::builtin::Builtin::Erf, _)))
    }

    fn leaf_name(&self, kind: LeafKind) -> LeafName {
        let network = self.network;
        match kind {
            LeafKind::Value(symbol) => LeafName {
                name: self.names.value(symbol).to_string(),
                per_sample: !matches!(symbol, Symbol::Param(_)),
                dims: network.shape_of(symbol).dims(),
            },
            LeafKind::Delta(v) => LeafName {
                name: self.names.delta(v).to_string(),
                per_sample: true,
                dims: vec![network.vectors[v].size],
            },
        }
    }

    fn text(&self, f: &Formula) -> String {
        text::formula(f, &|kind| match kind {
            LeafKind::Value(s) => self.network.name_of(s).to_string(),
            LeafKind::Delta(v) => format!("delta_{}", self.network.vectors[v].name),
        })
    }

    fn translate(&self, f: &Formula, ranges: Vec<(char, usize)>) -> Option<Tensor> {
        let leaf = |k: LeafKind| self.leaf_name(k);
        Translator {
            leaf: &leaf,
            ranges,
        }
        .tensor(f)
    }

    fn contract(&self, f: &Formula, ranges: Vec<(char, usize)>, axis: char) -> Option<Tensor> {
        let leaf = |k: LeafKind| self.leaf_name(k);
        Translator {
            leaf: &leaf,
            ranges,
        }
        .contract(f, axis)
    }

    /// One scalar per sample: the expression of one element, as an array over the batch.
    fn element(&self, node: crate::ir::NodeId) -> String {
        let unifier = Unifier::new(self.derivation);
        match unifier
            .unify(&[(vec![], node)])
            .and_then(|f| self.translate(&f, vec![]))
        {
            Some(t) if t.axes == ['b'] => t.code,
            Some(t) => format!("_per_sample({}, batch_size)", t.code),
            // ok: one instance always unifies (every node has a formula of itself).
            None => "np.nan".to_string(),
        }
    }

    /// A per-sample vector `(batch_size, n)` whose element `k` is `nodes[k]` (`None`: zero).
    fn vector(&self, name: &str, label: &str, nodes: &[Option<crate::ir::NodeId>]) -> Statement {
        let n = nodes.len();
        let unifier = Unifier::new(self.derivation);
        let instances: Vec<(Env, crate::ir::NodeId)> = nodes
            .iter()
            .enumerate()
            .filter_map(|(k, node)| node.map(|node| (vec![('k', k)], node)))
            .collect();
        if instances.len() == n
            && let Some(formula) = unifier.unify_fresh(&instances)
            && let Some(t) = self.translate(&formula, vec![('k', n)])
        {
            let code = match t.axes.as_slice() {
                ['b', 'k'] => t.code,
                ['b'] => format!("_full({}[:, None], (batch_size, {n}))", t.code),
                _ => format!("_full({}, (batch_size, {n}))", t.code),
            };
            return Statement {
                comment: format!("{label}[k] = {}", self.text(&formula)),
                name: name.to_string(),
                code,
            };
        }
        let columns: Vec<String> = nodes
            .iter()
            .map(|node| match node {
                Some(node) => self.element(*node),
                None => "np.zeros(batch_size)".to_string(),
            })
            .collect();
        Statement {
            comment: format!(
                "{label}: its elements share no index formula, so each is written out"
            ),
            name: name.to_string(),
            code: format!("np.stack([{}], axis=1)", columns.join(", ")),
        }
    }

    /// The forward pass: every vector, then the per-sample loss.
    pub fn forward(&self) -> Vec<Statement> {
        let layout = &self.derivation.layout;
        let mut out = Vec::new();
        for (v, vector) in self.network.vectors.iter().enumerate() {
            let mut nodes = vec![None; vector.size];
            for def in &self.derivation.forward {
                if let Slot::Value(Symbol::Vector(w), e) = layout.slot(def.var)
                    && w == v
                {
                    nodes[e] = Some(def.value);
                }
            }
            out.push(self.vector(self.names.value(Symbol::Vector(v)), &vector.name, &nodes));
        }
        if let Some(loss) = self.derivation.forward.last() {
            let unifier = Unifier::new(self.derivation);
            let formula = unifier.unify(&[(vec![], loss.value)]);
            let comment = formula.as_ref().map_or(String::new(), |f| self.text(f));
            out.push(Statement {
                comment: format!(
                    "{} = {comment}  (one value per sample)",
                    self.network.loss.name
                ),
                name: self.names.value(Symbol::Loss).to_string(),
                code: self.element(loss.value),
            });
        }
        out
    }

    /// The deltas, from the loss backwards.
    pub fn deltas(&self) -> Vec<Statement> {
        let layout = &self.derivation.layout;
        let mut out = Vec::new();
        for (v, vector) in self.network.vectors.iter().enumerate().rev() {
            let mut nodes = vec![None; vector.size];
            for &(slot, expr) in &self.derivation.deltas {
                if let Slot::Delta(w, e) = layout.slot(slot)
                    && w == v
                {
                    nodes[e] = Some(expr);
                }
            }
            if nodes.iter().all(Option::is_none) {
                continue;
            }
            out.push(self.vector(
                self.names.delta(v),
                &format!("delta_{} = dL/d{}", vector.name, vector.name),
                &nodes,
            ));
        }
        out
    }

    /// The gradients over the batch, by the batch rule.
    pub fn gradients(&self) -> Vec<Statement> {
        let layout = &self.derivation.layout;
        let mean = self.network.batch == BatchRule::Mean;
        let mut out = Vec::new();
        for (p, param) in self.network.params.iter().enumerate() {
            let (letters, ranges): (Vec<char>, Vec<(char, usize)>) = match param.shape {
                Shape::Matrix(r, c) => (vec!['i', 'j'], vec![('i', r), ('j', c)]),
                Shape::Vector(n) => (vec!['i'], vec![('i', n)]),
                Shape::Scalar => (vec![], vec![]),
            };
            let instances: Vec<(Env, crate::ir::NodeId)> = self
                .derivation
                .gradients
                .iter()
                .filter_map(|&(var, expr)| match layout.slot(var) {
                    Slot::Value(Symbol::Param(q), e) if q == p => {
                        let env = match param.shape {
                            Shape::Matrix(_, c) => vec![('i', e / c), ('j', e % c)],
                            Shape::Vector(_) => vec![('i', e)],
                            Shape::Scalar => vec![],
                        };
                        Some((env, expr))
                    }
                    _ => None,
                })
                .collect();
            let name = self.names.grad(p).to_string();
            let dims = param.shape.dims();
            let shape = format!(
                "({})",
                dims.iter().map(|d| format!("{d}, ")).collect::<String>()
            );
            let lhs = format!(
                "dL/d{}{}",
                param.name,
                letters.iter().map(|l| format!("[{l}]")).collect::<String>()
            );
            let unifier = Unifier::new(self.derivation);
            let vectorised = (instances.len() == param.shape.len())
                .then(|| unifier.unify_fresh(&instances))
                .flatten()
                .and_then(|formula| {
                    let per_sample = self.translate(&formula, ranges.clone())?;
                    let has_batch = per_sample.axes.contains(&'b');
                    let summed = if has_batch {
                        self.contract(&formula, ranges.clone(), 'b')?
                    } else if mean {
                        per_sample
                    } else {
                        Tensor {
                            code: format!("batch_size * {}", per_sample.code),
                            prec: 2,
                            axes: per_sample.axes,
                        }
                    };
                    // A sum over the batch divided by its size: the mean rule.
                    let code = if mean && has_batch {
                        if summed.prec < 2 {
                            format!("({}) / batch_size", summed.code)
                        } else {
                            format!("{} / batch_size", summed.code)
                        }
                    } else {
                        summed.code.clone()
                    };
                    let code = if summed.axes == letters {
                        code
                    } else if summed.axes.len() == 2 && letters.len() == 2 {
                        format!("({code}).T")
                    } else {
                        let subs: Vec<&str> = letters
                            .iter()
                            .map(|l| if summed.axes.contains(l) { ":" } else { "None" })
                            .collect();
                        if summed.axes.is_empty() || subs.is_empty() {
                            format!("_full({code}, {shape})")
                        } else {
                            format!("_full(({code})[{}], {shape})", subs.join(", "))
                        }
                    };
                    Some(Statement {
                        comment: format!(
                            "{lhs} = {}, {} over the batch",
                            self.text(&formula),
                            if mean { "averaged" } else { "summed" }
                        ),
                        name: name.clone(),
                        code,
                    })
                });
            if let Some(statement) = vectorised {
                out.push(statement);
                continue;
            }
            let mut nodes = vec![None; param.shape.len()];
            for (env, expr) in &instances {
                let e = match env.as_slice() {
                    [(_, i), (_, j)] => i * dims.get(1).copied().unwrap_or(1) + j,
                    [(_, i)] => *i,
                    _ => 0,
                };
                nodes[e] = Some(*expr);
            }
            let elements: Vec<String> = nodes
                .iter()
                .map(|n| match n {
                    Some(n) => format!("_combine({})", self.element(*n)),
                    None => "0.0".to_string(),
                })
                .collect();
            out.push(Statement {
                comment: format!(
                    "{lhs}: its elements share no index formula, so each is written out"
                ),
                name,
                code: format!("np.array([{}]).reshape({shape})", elements.join(", ")),
            });
        }
        out
    }
}

/// Writes statements as a function body: the comment, then the assignment.
pub(crate) fn write_statements(out: &mut String, statements: &[Statement]) {
    for s in statements {
        let _ = writeln!(out, "    # {}", s.comment);
        let _ = writeln!(out, "    {} = {}", s.name, s.code);
    }
}

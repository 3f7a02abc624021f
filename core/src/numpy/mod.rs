//! `chainrule numpy`: a Python module that needs only NumPy, in matrix form over the batch:
//! `forward(params, data) -> dict`, `loss(params, data) -> float` and
//! `gradient(params, data) -> (loss, grads)`, the batch rule applied (CLI.md, second round).
//!
//! The code comes from the derivation, not from the network's text: each vector, delta and
//! gradient is its verified tensor-level statement ([`crate::tensor`], the one formula every
//! other output prints), turned into NumPy over the batch ([`plan`], [`formula`]):
//! `z1 = x @ W1.T`, `d_a1 = d_y @ W2`, `g_W1 = d_z1.T @ x / batch_size`, a convolution as
//! fancy indexing and `np.einsum`. Where a network has no tensor program (`grad`) or a
//! statement did not verify, [`fallback`] finds the formula the elements share over the
//! scalar derivation ([`index`], [`code`]) or writes each element out. Each line carries the
//! formula it computes as a comment, so the code reads like the seeds' cells.

pub mod code;
mod extremum;
mod fallback;
pub mod formula;
pub mod index;
mod module;
mod plan;
mod reads;
mod steps;
pub mod text;

use std::fmt::Write as _;

use crate::CompiledNetwork;
use crate::derive::Derivation;
use crate::model::{Network, Symbol};
use code::number;

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
    inner: Vec<String>,
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
        // Last, so that adding them renames nothing else.
        let inner = network
            .vectors
            .iter()
            .map(|v| fresh(format!("{}_arg", v.name), &mut taken))
            .collect();
        Names {
            values,
            deltas,
            grads,
            inner,
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

    /// The variable holding the argument of a vector's element-wise function.
    pub fn inner(&self, vector: usize) -> &str {
        &self.inner[vector]
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
        [_, inner @ ..] => format!(
            "[{}]",
            values
                .chunks(inner.iter().product::<usize>().max(1))
                .map(|row| nested(row, &dims[1..]))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Why a network cannot be written in NumPy yet, if it cannot. Values of two or more axes
/// (or parameters of three or four) are read as arrays of their axes, which every step
/// written from an index formula of the plan handles; a step written element by element reads
/// flat rows, so such a network is refused unless every step has its formula.
pub fn unsupported(network: &Network, compiled: &CompiledNetwork) -> Option<String> {
    let data = network.inputs.iter().chain(&network.targets);
    let values = data
        .map(|d| (&d.name, d.shape))
        .chain(network.vectors.iter().map(|v| (&v.name, v.shape)))
        .find(|(_, shape)| shape.rank() >= 2);
    let params = network
        .params
        .iter()
        .map(|p| (&p.name, p.shape))
        .find(|(_, shape)| shape.rank() >= 3);
    let (name, shape) = values.or(params)?;
    let emitter = Emitter::new(network, compiled);
    let _ = (emitter.forward(), emitter.deltas(), emitter.gradients());
    if !emitter.wrote_elements.get() {
        return None;
    }
    let sizes: String = shape.dims().iter().map(|n| format!("[{n}]")).collect();
    Some(format!(
        "`{name}{sizes}` has {} axes, and a step of this network has no index formula to write \
         over them (the NumPy module writes such a network only from its formulas); \
         `chainrule rust`, `eval` and every LaTeX form cover it",
        shape.rank()
    ))
}

/// The module text for one network.
pub fn module(network: &Network, compiled: &CompiledNetwork, file_name: &str) -> String {
    Emitter::new(network, compiled).module(file_name)
}

/// One statement: the formula it computes (a comment), then `name = code`.
pub struct Statement {
    /// The comment: the index formula, or why the elements are written out.
    pub comment: String,
    /// The assigned variable.
    pub name: String,
    /// The NumPy expression.
    pub code: String,
    /// In a recurrence: the loop over its steps the statement stands in (`write_statements`).
    pub steps: Option<Steps>,
}

/// The loop over a recurrence's steps, `_t` the step: a planned statement computes row `_t`
/// (its name is the row, `h[:, _t:_t + 1]`), reading the rows before it (or after it, for the
/// deltas, which run backwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Steps {
    /// How many.
    pub count: usize,
    /// From the last step to the first (deltas).
    pub backwards: bool,
}

/// Builds the statements of a network's forward pass, deltas and gradients.
pub struct Emitter<'a> {
    /// The network.
    pub network: &'a Network,
    /// Its derivation.
    pub derivation: &'a Derivation,
    /// Its Python names.
    pub names: Names,
    /// Its verified tensor-level statements, where the tensor level covers it (user
    /// functions written in place, as the module has no Python function for them).
    pub program: Option<&'a crate::tensor::Program>,
    /// Set when a step was written element by element (no index formula of the plan).
    pub wrote_elements: std::cell::Cell<bool>,
}

impl<'a> Emitter<'a> {
    /// Whether any formula calls `erf`, so that the module defines `_erf` (only then: other
    /// modules stay as they were).
    pub fn uses_erf(&self) -> bool {
        self.derivation
            .graph
            .nodes()
            .any(|(_, n)| matches!(n, crate::ir::Node::Func(crate::builtin::Builtin::Erf, _)))
    }

    /// The emitter of a compiled network: its names, and its tensor program if it has one.
    pub fn new(network: &'a Network, compiled: &'a CompiledNetwork) -> Emitter<'a> {
        let derivation = &compiled.derivation;
        // As the Rust plan does: `grad` has no tensor level yet.
        let program = derivation
            .inner
            .is_empty()
            .then(|| compiled.code_program().as_ref().ok())
            .flatten();
        Emitter {
            network,
            derivation,
            names: Names::new(network),
            program,
            wrote_elements: std::cell::Cell::new(false),
        }
    }
}

/// Writes statements as a function body: the comment, then the assignment.
pub(crate) fn write_statements(out: &mut String, statements: &[Statement], indent: &str) {
    let mut rest = statements;
    while let Some(first) = rest.first() {
        let run = rest.iter().take_while(|s| s.steps == first.steps).count();
        let (block, after) = rest.split_at(run);
        rest = after;
        let Some(steps) = first.steps else {
            for s in block {
                let _ = writeln!(out, "{indent}# {}", s.comment);
                let _ = writeln!(out, "{indent}{} = {}", s.name, s.code);
            }
            continue;
        };
        let range = match steps.backwards {
            true => format!("reversed(range({}))", steps.count),
            false => format!("range({})", steps.count),
        };
        let _ = writeln!(
            out,
            "{indent}# A recurrence over {} steps, one step at a time.",
            steps.count
        );
        let _ = writeln!(out, "{indent}for _t in {range}:");
        for s in block {
            let _ = writeln!(out, "{indent}    # {}", s.comment);
            let _ = writeln!(out, "{indent}    {} = {}", s.name, s.code);
        }
    }
}

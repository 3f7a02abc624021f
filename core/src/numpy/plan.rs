//! One plan that every output reads (issue 19): the forward pass, the deltas and the
//! gradients are the verified tensor-level statements, translated by [`super::formula`];
//! a statement without a verified formula, or a network without a tensor program, keeps the
//! scalar derivation's path ([`super::fallback`]).

use chainrule_grammar::BatchRule;

use super::code::{ATOM, PRODUCT, SUM, Tensor as Code, UNARY};
use super::formula::{BATCH, Operand, Translator};
use super::steps::row;
use super::text::TensorText;
use super::{Emitter, Statement, Steps};
use crate::ir::{Node, NodeId};
use crate::model::Symbol;
use crate::tensor::{self, IndexVar, Program, Tensor};

/// A statement translated: its code over the batch (or over nothing, for a gradient before
/// the batch rule) and its formula as text.
struct Translated {
    code: Code,
    text: String,
}

impl Emitter<'_> {
    /// The array a tensor lives in, where the module has one.
    fn operand(&self, tensor: Tensor) -> Option<Operand> {
        let network = self.network;
        let label = self.label(tensor);
        Some(match tensor {
            Tensor::Value(symbol) => Operand {
                code: self.names.value(symbol).to_string(),
                label,
                per_sample: !matches!(symbol, Symbol::Param(_)),
                dims: tensor::dims(network, symbol),
            },
            Tensor::Delta(Symbol::Vector(v)) => Operand {
                code: self.names.delta(v).to_string(),
                label,
                per_sample: true,
                dims: tensor::tensor_dims(network, tensor),
            },
            Tensor::Inner(v) => Operand {
                code: self.names.inner(v).to_string(),
                label,
                per_sample: true,
                dims: tensor::tensor_dims(network, tensor),
            },
            Tensor::Delta(_) => return None,
        })
    }

    /// A tensor's name in comments.
    fn label(&self, tensor: Tensor) -> String {
        match tensor {
            Tensor::Value(symbol) => self.network.name_of(symbol).to_string(),
            Tensor::Delta(symbol) => format!("delta_{}", self.network.name_of(symbol)),
            Tensor::Inner(v) => self.names.inner(v).to_string(),
        }
    }

    /// The letters of a statement's own indices: `k` for a vector's element, `i`, `j` for a
    /// parameter's.
    fn letters(statement: &tensor::Statement) -> Vec<char> {
        match (statement.defines, statement.indices.len()) {
            (Tensor::Delta(Symbol::Param(_)), n) => {
                ['i', 'j', 'k', 'l'].into_iter().take(n.max(1)).collect()
            }
            (_, 1) => vec!['k'],
            (_, n) => ['i', 'j', 'k', 'l'].into_iter().take(n).collect(),
        }
    }

    /// The code and text of a statement; `inline`: arguments written in place of their reads.
    /// With `over_batch`, its code is summed over the batch (a gradient).
    fn translate(
        &self,
        program: &Program,
        statement: &tensor::Statement,
        inline: &[(Tensor, IndexVar, NodeId)],
        over_batch: bool,
    ) -> Option<Translated> {
        let operand = |t: Tensor| self.operand(t);
        let label = |t: Tensor| self.label(t);
        let mut translator = Translator::new(program, &operand);
        translator.inline = inline.to_vec();
        let mut text = TensorText::new(program, &label);
        text.inline = inline.to_vec();
        let letters = Self::letters(statement);
        // A recurrence's statement computes one step, `_t`: its first axis has length 1.
        let stepped = match statement.defines {
            Tensor::Value(Symbol::Vector(v)) | Tensor::Delta(Symbol::Vector(v)) => {
                self.steps(v).is_some() && !over_batch
            }
            _ => false,
        };
        let mut shape = statement.shape.clone();
        if stepped && let (Some(&var), Some(first)) = (statement.indices.first(), shape.first_mut())
        {
            translator.step = Some((var, *first));
            *first = 1;
        }
        for ((&var, &letter), &size) in statement.indices.iter().zip(&letters).zip(&shape) {
            translator.bind_as(var, letter, size);
            text.bind_as(var, letter);
        }
        let code = if over_batch {
            self.over_batch(&mut translator, statement.formula)?
        } else {
            translator.code(statement.formula)?
        };
        // The statement's own axes, in order.
        let want: Vec<char> = (!over_batch
            && !matches!(statement.defines, Tensor::Delta(Symbol::Param(_))))
        .then_some(BATCH)
        .into_iter()
        .chain(letters.iter().copied().take(statement.indices.len()))
        .collect();
        let full = |code: String| {
            let dims: Vec<String> = want
                .iter()
                .map(|&a| {
                    if a == BATCH {
                        "batch_size".to_string()
                    } else {
                        let n = letters.iter().position(|l| *l == a).map_or(0, |p| shape[p]);
                        n.to_string()
                    }
                })
                .collect();
            let comma = if dims.len() == 1 { "," } else { "" };
            format!("_full({code}, ({}{comma}))", dims.join(", "))
        };
        let code = if code.axes == want {
            code
        } else if code.axes.len() == 2
            && want.len() == 2
            && code.axes.iter().all(|a| want.contains(a))
        {
            Code {
                code: format!("{}.T", code.at(ATOM)),
                prec: ATOM,
                axes: want.clone(),
            }
        } else if !code.axes.iter().all(|a| want.contains(a)) {
            return None;
        } else if want == [BATCH] && code.axes.is_empty() {
            Code {
                code: format!("_per_sample({}, batch_size)", code.code),
                prec: ATOM,
                axes: want.clone(),
            }
        } else {
            Code {
                code: full(translator.align(&code, &want, 0)),
                prec: ATOM,
                axes: want.clone(),
            }
        };
        Some(Translated {
            code,
            text: text.text(statement.formula, 0),
        })
    }

    /// A per-sample formula combined over the batch by the batch rule, term by term: a term
    /// that reads samples is contracted over them (`d_z1.T @ x / batch_size`), one that does
    /// not is the same for every sample (`0.1 * W1`).
    fn over_batch(&self, translator: &mut Translator<'_>, node: NodeId) -> Option<Code> {
        let program = translator.program;
        let signed = |translator: &mut Translator<'_>, terms: &[(NodeId, bool)]| {
            let parts: Vec<(Code, bool)> = terms
                .iter()
                .map(|&(t, negative)| Some((self.over_batch(translator, t)?, negative)))
                .collect::<Option<_>>()?;
            let axes = translator.canonical(parts.iter().flat_map(|p| p.0.axes.clone()).collect());
            let mut code = String::new();
            for (n, (part, negative)) in parts.iter().enumerate() {
                let text = translator.align(part, &axes, if *negative { SUM + 1 } else { SUM });
                code.push_str(&match (n, negative) {
                    (0, false) => text,
                    (0, true) => format!("-{}", translator.align(part, &axes, UNARY + 1)),
                    (_, false) => format!(" + {text}"),
                    (_, true) => format!(" - {text}"),
                });
            }
            Some(Code {
                code,
                prec: SUM,
                axes,
            })
        };
        let terms: Vec<(NodeId, bool)> = match program.graph.node(node) {
            Node::Add(a, b) => vec![(*a, false), (*b, false)],
            Node::Sub(a, b) => vec![(*a, false), (*b, true)],
            Node::Sum(items) => items.iter().map(|&i| (i, false)).collect(),
            _ => Vec::new(),
        };
        let per_sample = translator.code(node)?;
        // Terms split where one is the same for every sample, or where the whole would be an
        // outer product broadcast over the batch; `z - x` stays one.
        if !terms.is_empty() {
            let mut split = per_sample.axes.iter().filter(|a| **a != BATCH).count() >= 2;
            for &(t, _) in &terms {
                split |= !translator.code(t)?.axes.contains(&BATCH);
            }
            if split {
                return signed(translator, &terms);
            }
        }
        Some(if !per_sample.axes.contains(&BATCH) {
            // The same value for every sample.
            match self.network.batch {
                BatchRule::Mean => per_sample,
                BatchRule::Sum => Code {
                    code: format!("batch_size * {}", per_sample.at(PRODUCT + 1)),
                    prec: PRODUCT,
                    axes: per_sample.axes,
                },
            }
        } else {
            let summed = translator.contract(node, &[BATCH])?;
            match self.network.batch {
                // A sum over the batch divided by its size: the mean rule.
                BatchRule::Mean => Code {
                    code: format!("{} / batch_size", summed.at(PRODUCT)),
                    prec: PRODUCT,
                    axes: summed.axes,
                },
                BatchRule::Sum => summed,
            }
        })
    }

    /// Whether a statement is written from its formula: verified, its code exists, and every
    /// argument it reads (that is not written in place) has such a statement too.
    fn usable(&self, program: &Program, statement: &tensor::Statement, inline: &[Tensor]) -> bool {
        statement.verified
            && (0..self.network.vectors.len()).all(|v| {
                inline.contains(&Tensor::Inner(v))
                    || !program.reads(statement.formula, Tensor::Inner(v))
                    || self.inner_statement(program, v).is_some()
            })
    }

    /// A vector's argument statement, if it is verified and has code.
    fn inner_statement<'p>(&self, program: &'p Program, v: usize) -> Option<&'p tensor::Statement> {
        program
            .forward
            .iter()
            .find(|s| s.defines == Tensor::Inner(v))
            .filter(|s| s.verified)
    }

    /// The forward pass: every vector, then the per-sample loss.
    pub fn forward(&self) -> Vec<Statement> {
        let mut out = Vec::new();
        for (v, vector) in self.network.vectors.iter().enumerate() {
            let steps = self.steps(v).map(|count| Steps {
                count,
                backwards: false,
            });
            if let Some(block) = self.recurrence_starting(v, false) {
                out.extend(self.zeros(block, false));
            }
            let planned = self.program.as_ref().and_then(|program| {
                let statement = program.forward_of(Symbol::Vector(v))?;
                let argument = self.inner_statement(program, v);
                // The argument is written in place (`h = np.tanh(x @ W.T + b)`), unless a
                // later statement reads it too (`log_sigmoid(z_arg)` in a loss).
                let shared = program.forward.iter().any(|s| {
                    s.defines != Tensor::Inner(v)
                        && s.defines != Tensor::Value(Symbol::Vector(v))
                        && program.reads(s.formula, Tensor::Inner(v))
                });
                let mut before = None;
                if shared && let Some(argument) = argument {
                    let t = self.translate(program, argument, &[], false)?;
                    before = Some(self.argument_statement(v, t));
                }
                // Only a vector's argument (one index) is written in place.
                let inline: Vec<(Tensor, IndexVar, NodeId)> = argument
                    .filter(|s| !shared && s.indices.len() == 1)
                    .map(|s| (s.defines, s.indices[0], s.formula))
                    .into_iter()
                    .collect();
                let inlined: Vec<Tensor> = inline.iter().map(|i| i.0).collect();
                if !self.usable(program, statement, &inlined) {
                    return None;
                }
                let t = self.translate(program, statement, &inline, false)?;
                let own = match statement.reshape {
                    // `flat = flatten(p)`: the statement's axes are p's; each sample's
                    // elements in row-major order are one row.
                    Some(_) => Statement {
                        comment: format!("{} = {}, flattened row by row", vector.name, t.text),
                        name: self.names.value(Symbol::Vector(v)).to_string(),
                        code: format!("({}).reshape(-1, {})", t.code.code, vector.size),
                        steps: None,
                    },
                    None => Statement {
                        comment: format!("{}{} = {}", vector.name, own_index(vector), t.text),
                        name: self.names.value(Symbol::Vector(v)).to_string(),
                        code: t.code.code,
                        steps: None,
                    },
                };
                Some(before.into_iter().chain([own]).collect::<Vec<_>>())
            });
            let written = match planned {
                Some(planned) => planned.into_iter().map(|s| row(s, steps)).collect(),
                None => vec![self.vector_by_elements(v)],
            };
            out.extend(written.into_iter().map(|s| Statement { steps, ..s }));
        }
        let planned = self.program.as_ref().and_then(|program| {
            let statement = program.forward_of(Symbol::Loss)?;
            if !self.usable(program, statement, &[]) {
                return None;
            }
            let t = self.translate(program, statement, &[], false)?;
            Some(Statement {
                comment: format!(
                    "{} = {}  (one value per sample)",
                    self.network.loss.name, t.text
                ),
                name: self.names.value(Symbol::Loss).to_string(),
                code: t.code.code,
                steps: None,
            })
        });
        out.extend(planned.or_else(|| self.loss_by_elements()));
        out
    }

    /// The delta statement of a vector, from the plan.
    fn planned_delta(&self, program: &Program, v: usize) -> Option<Statement> {
        let statement = program.delta_of(Symbol::Vector(v))?;
        if !self.usable(program, statement, &[]) {
            return None;
        }
        let t = self.translate(program, statement, &[], false)?;
        let name = &self.network.vectors[v].name;
        Some(Statement {
            comment: format!(
                "delta_{name} = dL/d{name}{} = {}",
                own_index(&self.network.vectors[v]),
                t.text
            ),
            name: self.names.delta(v).to_string(),
            code: t.code.code,
            steps: None,
        })
    }

    /// The gradient statement of a parameter, from the plan.
    fn planned_gradient(&self, program: &Program, p: usize) -> Option<Statement> {
        let statement = program.gradient_of(Symbol::Param(p))?;
        if !self.usable(program, statement, &[]) {
            return None;
        }
        let t = self.translate(program, statement, &[], true)?;
        let param = &self.network.params[p];
        let subs: String = Self::letters(statement)
            .iter()
            .take(param.shape.rank())
            .map(|l| format!("[{l}]"))
            .collect();
        let rule = match self.network.batch {
            BatchRule::Mean => "averaged",
            BatchRule::Sum => "summed",
        };
        Some(Statement {
            comment: format!(
                "dL/d{}{subs} = {}, {rule} over the batch",
                param.name, t.text
            ),
            name: self.names.grad(p).to_string(),
            code: t.code.code,
            steps: None,
        })
    }

    /// The arguments the planned deltas and gradients read, each computed once before them.
    fn arguments(&self, program: &Program) -> Vec<Statement> {
        let mut readers: Vec<NodeId> = Vec::new();
        for v in 0..self.network.vectors.len() {
            if let Some(s) = program.delta_of(Symbol::Vector(v))
                && self.planned_delta(program, v).is_some()
            {
                readers.push(s.formula);
            }
        }
        for p in 0..self.network.params.len() {
            if let Some(s) = program.gradient_of(Symbol::Param(p))
                && self.planned_gradient(program, p).is_some()
            {
                readers.push(s.formula);
            }
        }
        let mut out = Vec::new();
        for v in 0..self.network.vectors.len() {
            if !readers.iter().any(|&f| program.reads(f, Tensor::Inner(v))) {
                continue;
            }
            let Some(statement) = self.inner_statement(program, v) else {
                continue;
            };
            if let Some(t) = self.translate(program, statement, &[], false) {
                out.push(self.argument_statement(v, t));
            }
        }
        out
    }

    /// `h_arg = ...`: the argument of vector `v`'s element-wise function.
    fn argument_statement(&self, v: usize, t: Translated) -> Statement {
        Statement {
            comment: format!(
                "{}[k] = {}  (the argument of {}'s function)",
                self.names.inner(v),
                t.text,
                self.network.vectors[v].name
            ),
            name: self.names.inner(v).to_string(),
            code: t.code.code,
            steps: None,
        }
    }

    /// The deltas, from the loss backwards (after the arguments they read).
    pub fn deltas(&self) -> Vec<Statement> {
        let mut out = match &self.program {
            Some(program) => self.arguments(program),
            None => Vec::new(),
        };
        for v in (0..self.network.vectors.len()).rev() {
            if let Some(block) = self.recurrence_starting(v, true) {
                out.extend(self.zeros(block, true));
            }
            let planned = self
                .program
                .as_ref()
                .and_then(|program| self.planned_delta(program, v));
            let steps = self.steps(v).map(|count| Steps {
                count,
                backwards: true,
            });
            match planned {
                Some(s) => out.push(row(s, steps)),
                None => out.extend(
                    self.delta_by_elements(v)
                        .into_iter()
                        .map(|s| Statement { steps, ..s }),
                ),
            }
        }
        out
    }

    /// The gradients over the batch, by the batch rule.
    pub fn gradients(&self) -> Vec<Statement> {
        (0..self.network.params.len())
            .map(|p| {
                self.program
                    .as_ref()
                    .and_then(|program| self.planned_gradient(program, p))
                    .unwrap_or_else(|| self.gradient_by_elements(p))
            })
            .collect()
    }
}

/// `[k]` after a vector's name in a comment (`[i][j][k]` after a tensor's); nothing after a
/// named scalar's.
fn own_index(vector: &crate::model::Vector) -> String {
    match vector.shape.rank() {
        0 => String::new(),
        1 => "[k]".to_string(),
        n => ['i', 'j', 'k', 'l'][..n]
            .iter()
            .map(|l| format!("[{l}]"))
            .collect(),
    }
}

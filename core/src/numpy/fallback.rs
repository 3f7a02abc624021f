//! Today's path, kept where the tensor level has no verified statement (a network with
//! `grad`, or a statement that did not verify): each vector, delta and gradient is the index
//! formula its elements share, found by anti-unification over the scalar derivation
//! ([`super::index`]), turned into NumPy over the batch ([`super::code`]); where the elements
//! share no formula, each element is written out and stacked.

use chainrule_grammar::BatchRule;

use super::code::{LeafName, Tensor, Translator};
use super::index::{Env, Formula, LeafKind, Unifier};
use super::{Emitter, Statement};
use crate::layout::Slot;
use crate::model::Symbol;

/// The loop letters of a parameter's axes, outermost first.
const AXIS_LETTERS: [char; 4] = ['i', 'j', 'k', 'l'];

impl Emitter<'_> {
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
        super::text::formula(f, &|kind| match kind {
            LeafKind::Value(s) => self.network.name_of(s).to_string(),
            LeafKind::Delta(v) => format!("delta_{}", self.network.vectors[v].name),
        })
    }

    fn translate_formula(&self, f: &Formula, ranges: Vec<(char, usize)>) -> Option<Tensor> {
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
            .and_then(|f| self.translate_formula(&f, vec![]))
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
            && let Some(t) = self.translate_formula(&formula, vec![('k', n)])
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
                steps: None,
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
            steps: None,
        }
    }

    /// A vector's forward values by the scalar derivation.
    pub(super) fn vector_by_elements(&self, v: usize) -> Statement {
        self.wrote_elements.set(true);
        let layout = &self.derivation.layout;
        let vector = &self.network.vectors[v];
        let mut nodes = vec![None; vector.size];
        for def in &self.derivation.forward {
            if let Slot::Value(Symbol::Vector(w), e) = layout.slot(def.var)
                && w == v
            {
                nodes[e] = Some(def.value);
            }
        }
        self.vector(self.names.value(Symbol::Vector(v)), &vector.name, &nodes)
    }

    /// The per-sample loss by the scalar derivation.
    pub(super) fn loss_by_elements(&self) -> Option<Statement> {
        self.wrote_elements.set(true);
        let loss = self.derivation.forward.last()?;
        let unifier = Unifier::new(self.derivation);
        let formula = unifier.unify(&[(vec![], loss.value)]);
        let comment = formula.as_ref().map_or(String::new(), |f| self.text(f));
        Some(Statement {
            comment: format!(
                "{} = {comment}  (one value per sample)",
                self.network.loss.name
            ),
            name: self.names.value(Symbol::Loss).to_string(),
            code: self.element(loss.value),
            steps: None,
        })
    }

    /// A vector's deltas by the scalar derivation (`None`: the loss does not depend on it).
    pub(super) fn delta_by_elements(&self, v: usize) -> Option<Statement> {
        self.wrote_elements.set(true);
        let layout = &self.derivation.layout;
        let vector = &self.network.vectors[v];
        let mut nodes = vec![None; vector.size];
        for &(slot, expr) in &self.derivation.deltas {
            if let Slot::Delta(w, e) = layout.slot(slot)
                && w == v
            {
                nodes[e] = Some(expr);
            }
        }
        if nodes.iter().all(Option::is_none) {
            return None;
        }
        Some(self.vector(
            self.names.delta(v),
            &format!("delta_{} = dL/d{}", vector.name, vector.name),
            &nodes,
        ))
    }

    /// A parameter's gradient over the batch by the scalar derivation, by the batch rule.
    pub(super) fn gradient_by_elements(&self, p: usize) -> Statement {
        self.wrote_elements.set(true);
        let layout = &self.derivation.layout;
        let mean = self.network.batch == BatchRule::Mean;
        let param = &self.network.params[p];
        {
            let letters: Vec<char> = AXIS_LETTERS[..param.shape.rank()].to_vec();
            let ranges: Vec<(char, usize)> =
                letters.iter().copied().zip(param.shape.dims()).collect();
            let instances: Vec<(Env, crate::ir::NodeId)> = self
                .derivation
                .gradients
                .iter()
                .filter_map(|&(var, expr)| match layout.slot(var) {
                    Slot::Value(Symbol::Param(q), e) if q == p => {
                        let env: Vec<(char, usize)> = letters
                            .iter()
                            .copied()
                            .zip(param.shape.unflatten(e))
                            .collect();
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
                    let per_sample = self.translate_formula(&formula, ranges.clone())?;
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
                        steps: None,
                    })
                });
            if let Some(statement) = vectorised {
                return statement;
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
            Statement {
                comment: format!(
                    "{lhs}: its elements share no index formula, so each is written out"
                ),
                name,
                code: format!("np.array([{}]).reshape({shape})", elements.join(", ")),
                steps: None,
            }
        }
    }
}

//! Loops or straight-line code: the one place that decides, per layer step (a vector's
//! forward values, its deltas, a parameter's gradient), which form the generated code takes.

use crate::CompiledNetwork;
use crate::ir::{Node, NodeId};
use crate::model::{Network, Symbol};
use crate::tensor::{IndexVar, Leaf, Program, Statement, Tensor};

/// How `derive!` and `chainrule rust` choose between loops and straight-line code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unroll {
    /// Loops for the steps that do at least [`LOOP_OPERATIONS`] operations (the default).
    #[default]
    Auto,
    /// Straight-line code everywhere (no loops).
    Always,
    /// Loops wherever a general index form exists.
    Never,
}

impl std::str::FromStr for Unroll {
    type Err = String;
    fn from_str(s: &str) -> Result<Unroll, String> {
        match s {
            "auto" => Ok(Unroll::Auto),
            "always" => Ok(Unroll::Always),
            "never" => Ok(Unroll::Never),
            other => Err(format!(
                "unknown unroll mode `{other}`: expected `auto`, `always` or `never`"
            )),
        }
    }
}

/// With `unroll = auto`, a step that performs at least this many operations becomes a loop:
/// below it straight-line code is as fast and the loop's overhead shows (BENCHMARKS.md,
/// "Loops and straight-line code").
pub const LOOP_OPERATIONS: usize = 256;

/// The form of every step, and the tensor-level formulas the loops are built from.
pub struct Plan {
    /// The verified statements the `Some`s below point into (formulas in its graph).
    pub program: Program,
    /// Per vector: the formula of its forward loop, or `None` for straight-line code.
    pub forward: Vec<Option<NodeId>>,
    /// Per vector looped forward: the formula of its element-wise function's argument
    /// (`W x + b` of `relu(W x + b)`), computed in the same loop.
    pub inner: Vec<Option<NodeId>>,
    /// Per vector: the formula of its delta loop.
    pub delta: Vec<Option<NodeId>>,
    /// Per parameter: the formula of its gradient loop.
    pub gradient: Vec<Option<NodeId>>,
    /// Per step above: the index variables of its element (`k`; `i`, `j`).
    pub indices: Vec<(Tensor, Vec<IndexVar>)>,
    /// What the tensor level does not cover, when it left every step straight-line code
    /// under `unroll = auto` or `never`.
    pub uncovered: Option<String>,
}

impl Plan {
    /// Decides every step of a network: a verified statement becomes a loop where it pays.
    pub fn new(network: &Network, compiled: &CompiledNetwork, unroll: Unroll) -> Plan {
        let mut uncovered = None;
        let program = if unroll == Unroll::Always || !compiled.derivation.inner.is_empty() {
            None
        } else {
            compiled
                .code_program()
                .as_ref()
                .map_err(|why| uncovered = Some(why.0.to_string()))
                .ok()
                .cloned()
        };
        let mut plan = Plan {
            program: Program::default(),
            forward: vec![None; network.vectors.len()],
            inner: vec![None; network.vectors.len()],
            delta: vec![None; network.vectors.len()],
            gradient: vec![None; network.params.len()],
            indices: Vec::new(),
            uncovered,
        };
        let Some(program) = program else {
            return plan;
        };
        // A reshape (`flatten`) is a copy: straight-line code moves its elements, so no loop
        // needs to write at its positions.
        let fits = |s: &Statement| {
            s.verified && s.reshape.is_none() && !has_logsumexp(&program, s.formula)
        };
        let pays = |s: &Statement, extra: usize| {
            fits(s)
                && (unroll == Unroll::Never
                    || s.len()
                        .saturating_mul(operations(&program, s.formula).saturating_add(extra))
                        >= LOOP_OPERATIONS)
        };
        // A mutual recurrence loops as one block over its steps (`loops/steps.rs`), or not
        // at all: its vectors' loops could not run one after another.
        let block_pays = |formulas: &[Option<&Statement>]| {
            let total = formulas.iter().fold(0usize, |sum, s| {
                s.map_or(0, |s| {
                    sum.saturating_add(s.len().saturating_mul(operations(&program, s.formula)))
                })
            });
            formulas.iter().all(|s| s.is_some_and(fits))
                && (unroll == Unroll::Never || total >= LOOP_OPERATIONS)
        };
        let mut blocks = vec![None; network.vectors.len()];
        for group in &network.recurrences {
            let forward: Vec<_> = group
                .clone()
                .map(|u| program.forward_of(Symbol::Vector(u)))
                .collect();
            let delta: Vec<_> = group
                .clone()
                .map(|u| program.delta_of(Symbol::Vector(u)))
                .collect();
            let decision = (block_pays(&forward), block_pays(&delta));
            for u in group.clone() {
                blocks[u] = Some(decision);
            }
        }
        for (v, vector) in network.vectors.iter().enumerate() {
            // A named scalar is one number: nothing to loop over.
            if vector.shape == crate::model::Shape::Scalar {
                continue;
            }
            if let Some((forward, delta)) = blocks[v] {
                let symbol = Symbol::Vector(v);
                for (loops, s, slot) in [
                    (forward, program.forward_of(symbol), &mut plan.forward[v]),
                    (delta, program.delta_of(symbol), &mut plan.delta[v]),
                ] {
                    if let Some(s) = s.filter(|_| loops) {
                        *slot = Some(s.formula);
                        plan.indices.push((s.defines, s.indices.clone()));
                    }
                }
                continue;
            }
            let symbol = Symbol::Vector(v);
            if let Some(s) = program.forward_of(symbol) {
                let inner = program
                    .forward
                    .iter()
                    .find(|i| i.defines == Tensor::Inner(v));
                // A vector and its argument loop together, or neither does.
                let extra = inner.map_or(0, |i| operations(&program, i.formula));
                let both = pays(s, extra) && inner.is_none_or(fits);
                if both {
                    plan.forward[v] = Some(s.formula);
                    plan.indices.push((s.defines, s.indices.clone()));
                    if let Some(i) = inner {
                        plan.inner[v] = Some(i.formula);
                        plan.indices.push((i.defines, i.indices.clone()));
                    }
                }
            }
        }
        // Straight-line code reads a looped vector's argument (`step(W x + b)` in a bias's
        // gradient) by computing it again, element by element: that cost counts too.
        for (v, vector) in network.vectors.iter().enumerate() {
            if vector.shape == crate::model::Shape::Scalar || blocks[v].is_some() {
                continue;
            }
            let recomputed = |s: &Statement| recomputed_inner(&program, s.formula, &plan.inner);
            if let Some(s) = program
                .delta_of(Symbol::Vector(v))
                .filter(|s| pays(s, recomputed(s)))
            {
                plan.delta[v] = Some(s.formula);
                plan.indices.push((s.defines, s.indices.clone()));
            }
        }
        for (p, _) in network.params.iter().enumerate() {
            // A gradient that reads parameters could not be applied in place by `sgd_step`
            // element by element; straight-line code reads them all before writing.
            if let Some(s) = program.gradient_of(Symbol::Param(p)).filter(|s| {
                pays(s, recomputed_inner(&program, s.formula, &plan.inner))
                    && !reads_params(&program, s.formula)
            }) {
                plan.gradient[p] = Some(s.formula);
                plan.indices.push((s.defines, s.indices.clone()));
            }
        }
        plan.program = program;
        plan
    }

    /// The index variables of the element a step's formula is written for.
    pub fn indices_of(&self, tensor: Tensor) -> &[IndexVar] {
        self.indices
            .iter()
            .find(|(t, _)| *t == tensor)
            .map_or(&[], |(_, i)| &i[..])
    }

    /// Whether any step is a loop.
    #[allow(dead_code)]
    pub fn any_loop(&self) -> bool {
        self.forward
            .iter()
            .chain(&self.delta)
            .chain(&self.gradient)
            .any(Option::is_some)
    }
}

/// The scalar operations one instance of a formula performs.
fn operations(program: &Program, f: NodeId) -> usize {
    match program.graph.node(f) {
        Node::Var(v) => match program.leaf_of(*v) {
            Leaf::Sum(bounds, body) => {
                let count: usize = bounds.iter().map(|b| b.size).product();
                count.saturating_mul(operations(program, *body).saturating_add(1))
            }
            Leaf::LogSumExp(bound, body) => bound
                .size
                .saturating_mul(operations(program, *body).saturating_add(3)),
            // A fold of `maximum`, and the same fold tracking its position.
            Leaf::Extremum(_, bound, body) | Leaf::FirstExtremum(_, _, bound, body) => bound
                .size
                .saturating_mul(operations(program, *body).saturating_add(2)),
            Leaf::Guard(..) => 1,
            _ => 0,
        },
        Node::Const(_) => 0,
        node => {
            let mut total = 1usize;
            node.for_each_child(|c| total = total.saturating_add(operations(program, c)));
            total
        }
    }
}

/// The operations straight-line code spends per element of `f` computing again the arguments
/// of looped vectors it reads (their values live in the loops' arrays, not in the scalar
/// code).
fn recomputed_inner(program: &Program, f: NodeId, inner: &[Option<NodeId>]) -> usize {
    let mut total = 0usize;
    for (v, looped) in inner.iter().enumerate() {
        if let Some(formula) = looped
            && program.reads(f, Tensor::Inner(v))
        {
            total = total.saturating_add(operations(program, *formula));
        }
    }
    total
}

/// Whether a formula holds a log-sum-exp (left to straight-line code, which has its
/// stable two-pass form).
fn has_logsumexp(program: &Program, f: NodeId) -> bool {
    let mut stack = vec![f];
    while let Some(n) = stack.pop() {
        match program.graph.node(n) {
            Node::Var(v) => match program.leaf_of(*v) {
                Leaf::LogSumExp(..) => return true,
                Leaf::Sum(_, body)
                | Leaf::Extremum(_, _, body)
                | Leaf::FirstExtremum(_, _, _, body) => stack.push(*body),
                _ => {}
            },
            node => node.for_each_child(|c| stack.push(c)),
        }
    }
    false
}

/// Whether a formula reads a parameter element.
fn reads_params(program: &Program, f: NodeId) -> bool {
    let mut stack = vec![f];
    while let Some(n) = stack.pop() {
        match program.graph.node(n) {
            Node::Var(v) => match program.leaf_of(*v) {
                Leaf::Read(Tensor::Value(Symbol::Param(_)), _) => return true,
                Leaf::Sum(_, body)
                | Leaf::LogSumExp(_, body)
                | Leaf::Extremum(_, _, body)
                | Leaf::FirstExtremum(_, _, _, body) => stack.push(*body),
                _ => {}
            },
            node => node.for_each_child(|c| stack.push(c)),
        }
    }
    false
}
